#include "privsep/maildir_backend.hpp"

#include <map>
#include <utility>
#include <variant>

#include "privsep/credentials.hpp"

namespace dovetail::privsep {
namespace {

storage::FsyncMode stricter(storage::FsyncMode configured, FsyncMode asked) {
  // The network process may ask for more durability, never for less than configured.
  if (asked == FsyncMode::kAlways) return storage::FsyncMode::kAlways;
  if (configured == storage::FsyncMode::kNever && asked == FsyncMode::kOptimized) return storage::FsyncMode::kOptimized;
  return configured;
}

TargetResult failed(TargetStatus status, std::string reason) {
  TargetResult r;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

storage::MissingMailbox missing_policy(const DeliverTarget& t) {
  return !t.autocreate       ? storage::MissingMailbox::kUseInbox
         : t.autosubscribe ? storage::MissingMailbox::kCreateAndSubscribe
                           : storage::MissingMailbox::kCreate;
}

bool same_target(const DeliverTarget& a, const DeliverTarget& b) {
  return a.user == b.user && a.mailbox == b.mailbox && a.autocreate == b.autocreate &&
         a.autosubscribe == b.autosubscribe;
}

storage::CopyMode copy_mode(const deliver::Engine& resolver) {
  return resolver.settings().maildir_copy_with_hardlinks ? storage::CopyMode::kHardLink
                                                         : storage::CopyMode::kWriteEach;
}

class MaildirStage final : public WriterStage {
 public:
  MaildirStage(storage::FsyncMode mode, storage::CopyMode copies) : writer(mode, storage::real_fs(), copies) {}
  void more(uint64_t body_octets) override { writer.stage_more(*copy, body_octets); }

  storage::MaildirWriter writer;
  DeliverTarget target;
  deliver::ResolvedRecipient resolved;
  base::UniqueFd body;  // the spool, open as long as the staged file reads from it
  storage::StagedCopyPtr copy;
};

}  // namespace

std::unique_ptr<WriterStage> MaildirBackend::stage(const StageRequest& request, base::UniqueFd body_fd) {
  std::shared_ptr<const deliver::Engine> resolver;
  storage::FsyncMode configured;
  {
    std::lock_guard lock(mutex_);
    resolver = resolver_;
    configured = fsync_;
  }
  if (!acceptable_user_name(request.target.user)) return nullptr;
  mail::Envelope env;
  mail::Recipient rcpt;
  rcpt.id = "writer";
  auto r = resolver->resolve(env, rcpt, {.user = request.target.user});
  auto* ok = std::get_if<deliver::ResolvedRecipient>(&r);
  if (ok == nullptr) return nullptr;  // the delivery itself reports why
  auto staged = std::make_unique<MaildirStage>(stricter(configured, request.fsync), copy_mode(*resolver));
  staged->target = request.target;
  staged->resolved = std::move(*ok);
  staged->body = std::move(body_fd);
  ScopedFsIdentity identity(staged->resolved.target.uid, staged->resolved.target.gid);
  if (!identity.ok()) return nullptr;
  staged->copy = staged->writer.stage(staged->body.get(), request.body_octets, request.headers,
                                      staged->resolved.target, {request.target.mailbox, missing_policy(request.target)});
  if (!staged->copy) return nullptr;
  return staged;
}

bool acceptable_user_name(std::string_view user) { return deliver::is_safe_user_name(user); }

MaildirBackend::MaildirBackend(std::shared_ptr<const deliver::Engine> resolver, storage::FsyncMode fsync)
    : resolver_(std::move(resolver)), fsync_(fsync) {}

void MaildirBackend::replace(std::shared_ptr<const deliver::Engine> resolver, storage::FsyncMode fsync) {
  std::lock_guard lock(mutex_);
  resolver_ = std::move(resolver);
  fsync_ = fsync;
}

DeliverReply MaildirBackend::deliver(const DeliverRequest& request, int body_fd) {
  return deliver(request, body_fd, nullptr);
}

DeliverReply MaildirBackend::deliver(const DeliverRequest& request, int body_fd, WriterStage* stage) {
  auto* staged = dynamic_cast<MaildirStage*>(stage);
  if (staged != nullptr && (request.targets.empty() || !same_target(staged->target, request.targets.front())))
    staged = nullptr;
  std::shared_ptr<const deliver::Engine> resolver;
  storage::FsyncMode configured;
  {
    std::lock_guard lock(mutex_);
    resolver = resolver_;
    configured = fsync_;
  }
  DeliverReply reply;
  reply.results.resize(request.targets.size(), failed(TargetStatus::kTempFail, "not processed"));

  storage::Body body;
  body.fd = body_fd;
  if (body_fd < 0) body.memory = request.body;
  body.size = request.body_size;
  body.line_feeds = request.body_lfs;

  mail::Envelope env;  // resolve() by user name needs no envelope data
  std::vector<deliver::ResolvedRecipient> resolved(request.targets.size());
  std::map<std::pair<uid_t, gid_t>, std::vector<size_t>> groups;
  for (size_t i = 0; i < request.targets.size(); ++i) {
    const auto& t = request.targets[i];
    if (!acceptable_user_name(t.user)) {
      reply.results[i] = failed(TargetStatus::kPermFail, "invalid user name (a path step or control byte)");
      continue;
    }
    mail::Recipient rcpt;
    rcpt.id = "writer";
    auto r = resolver->resolve(env, rcpt, {.user = t.user});
    if (auto* ok = std::get_if<deliver::ResolvedRecipient>(&r)) {
      resolved[i] = std::move(*ok);
      groups[{resolved[i].target.uid, resolved[i].target.gid}].push_back(i);
    } else if (auto* perm = std::get_if<deliver::PermFail>(&r)) {
      // The network process accepted this user at RCPT with the same config: the writer not
      // knowing it means the two views differ for now (a userdb edited in between, a config
      // being reloaded). The MTA's retry meets RCPT again, which bounces a user really gone.
      const bool unknown = perm->enhanced == "5.1.1";
      reply.results[i] = failed(unknown ? TargetStatus::kTempFail : TargetStatus::kPermFail,
                                unknown ? "unknown to the privileged writer's userdb: " + perm->reason : perm->reason);
    } else {
      reply.results[i] = failed(TargetStatus::kTempFail, std::get<deliver::TempFail>(r).reason);
    }
  }

  storage::MaildirWriter writer(stricter(configured, request.fsync), storage::real_fs(), copy_mode(*resolver));
  for (const auto& [ids, members] : groups) {
    ScopedFsIdentity identity(ids.first, ids.second);
    if (!identity.ok()) {
      for (size_t i : members) reply.results[i] = failed(TargetStatus::kTempFail, "cannot switch to uid " + std::to_string(ids.first));
      continue;
    }
    std::vector<storage::SaveTarget> targets;
    for (size_t i : members) targets.push_back({&resolved[i].target, {request.targets[i].mailbox, missing_policy(request.targets[i])}});
    // Target 0 leads its group (members are in request order): the staged copy, if any, is its.
    storage::StagedCopy* copy = staged != nullptr && members.front() == 0 ? staged->copy.get() : nullptr;
    auto results = writer.save_batch(body, request.headers, targets, copy);
    for (size_t k = 0; k < members.size(); ++k) {
      TargetResult& out = reply.results[members[k]];
      if (k >= results.size()) continue;
      if (results[k]) {
        out.status = TargetStatus::kSaved;
        out.mailbox = results[k]->mailbox;
        out.filename = results[k]->path;
        out.reason.clear();
      } else {
        const auto& e = results[k].error();
        out.status = e.kind == storage::SaveError::Kind::kQuotaExceeded ? TargetStatus::kQuota
                     : e.kind == storage::SaveError::Kind::kPerm        ? TargetStatus::kPermFail
                                                                        : TargetStatus::kTempFail;
        out.reason = e.log_reason;
      }
    }
  }
  return reply;
}

}  // namespace dovetail::privsep
