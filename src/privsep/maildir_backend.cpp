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

}  // namespace

bool acceptable_user_name(std::string_view user) { return deliver::is_safe_user_name(user); }

MaildirBackend::MaildirBackend(std::shared_ptr<const deliver::Engine> resolver, storage::FsyncMode fsync)
    : resolver_(std::move(resolver)), fsync_(fsync) {}

void MaildirBackend::replace(std::shared_ptr<const deliver::Engine> resolver, storage::FsyncMode fsync) {
  std::lock_guard lock(mutex_);
  resolver_ = std::move(resolver);
  fsync_ = fsync;
}

DeliverReply MaildirBackend::deliver(const DeliverRequest& request, int body_fd) {
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
    // From memory when the userdb can answer so (no system call: any identity will do);
    // a lookup that reads files or asks a server does it as root.
    auto now = resolver->resolve_now(env, rcpt, {.user = t.user});
    if (!now) ThreadFsIdentity::become_root();
    auto r = now ? std::move(*now) : resolver->resolve(env, rcpt, {.user = t.user});
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

  storage::MaildirWriter writer(stricter(configured, request.fsync), storage::real_fs(),
                                resolver->settings().maildir_copy_with_hardlinks ? storage::CopyMode::kHardLink
                                                                                : storage::CopyMode::kWriteEach);
  // Every save below runs as its user (ThreadFsIdentity): what it creates is the user's
  // already. The thread keeps the last identity for the next delivery.
  writer.set_ownership(storage::Ownership::kCreatedAsOwner).set_recent_dirs(storage::RecentDirs::process());
  for (const auto& [ids, members] : groups) {
    if (!ThreadFsIdentity::become(ids.first, ids.second)) {
      for (size_t i : members) reply.results[i] = failed(TargetStatus::kTempFail, "cannot switch to uid " + std::to_string(ids.first));
      continue;
    }
    std::vector<storage::SaveTarget> targets;
    for (size_t i : members) {
      const auto& t = request.targets[i];
      storage::MissingMailbox policy = !t.autocreate       ? storage::MissingMailbox::kUseInbox
                                       : t.autosubscribe ? storage::MissingMailbox::kCreateAndSubscribe
                                                         : storage::MissingMailbox::kCreate;
      targets.push_back({&resolved[i].target, {t.mailbox, policy}});
    }
    auto results = writer.save_batch(body, request.headers, targets);
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
