#include "privsep/remote_store.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.hpp"
#include "deliver/engine.hpp"

namespace dovetail::privsep {
namespace {

std::vector<storage::SaveResult> all_failed(size_t n, const std::string& why) {
  return std::vector<storage::SaveResult>(n, storage::SaveResult(base::Unexpected<storage::SaveError>(storage::temp_error(why))));
}

}  // namespace

FsyncMode to_wire(storage::FsyncMode mode) {
  switch (mode) {
    case storage::FsyncMode::kAlways: return FsyncMode::kAlways;
    case storage::FsyncMode::kNever: return FsyncMode::kNever;
    case storage::FsyncMode::kOptimized: break;
  }
  return FsyncMode::kOptimized;
}

namespace {

struct Prepared {
  DeliverRequest request;
  base::UniqueFd memfd;
  int body_fd = -1;
};

base::Result<Prepared> prepare(const storage::Body& body, std::string_view headers,
                               std::span<const storage::SaveTarget> targets,
                               std::span<const std::string> lookup_keys, FsyncMode fsync) {
  Prepared p;
  DeliverRequest& request = p.request;
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& t = targets[i];
    bool create = t.mailbox.if_missing == storage::MissingMailbox::kCreate ||
                  t.mailbox.if_missing == storage::MissingMailbox::kCreateAndSubscribe;
    request.targets.push_back({i < lookup_keys.size() ? lookup_keys[i] : t.user->user, t.mailbox.name, create,
                               t.mailbox.if_missing == storage::MissingMailbox::kCreateAndSubscribe});
  }
  request.headers = std::string(headers);
  request.body_size = body.size;
  request.body_lfs = body.line_feeds;
  request.fsync = fsync;
  p.body_fd = body.fd;
  if (p.body_fd < 0 && body.memory.size() <= kMaxInlineBody) {
    request.body_in_fd = false;
    request.body = std::string(body.memory);
  } else if (p.body_fd < 0) {
    // A large in-memory body: hand the writer a copy in a memfd.
    p.memfd.reset(::memfd_create("dovetail-body", MFD_CLOEXEC));
    if (!p.memfd) return base::fail(base::Error::from_errno(errno, "memfd_create"));
    std::string_view rest = body.memory;
    while (!rest.empty()) {
      ssize_t n = ::write(p.memfd.get(), rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return base::fail(base::Error::from_errno(errno, "memfd write"));
      rest.remove_prefix(static_cast<size_t>(n));
    }
    p.body_fd = p.memfd.get();
  }
  return p;
}

std::vector<storage::SaveResult> to_results(const DeliverReply& reply) {
  std::vector<storage::SaveResult> out;
  for (const auto& r : reply.results) {
    if (r.status == TargetStatus::kSaved) {
      storage::Saved saved;
      saved.mailbox = r.mailbox;
      saved.path = r.filename;
      out.emplace_back(std::move(saved));
      continue;
    }
    storage::SaveError err = storage::temp_error("privileged writer: " + r.reason);
    if (r.status == TargetStatus::kPermFail) {
      err.kind = storage::SaveError::Kind::kPerm;
      err.enhanced = "5.2.0";
    } else if (r.status == TargetStatus::kQuota) {
      err.kind = storage::SaveError::Kind::kQuotaExceeded;
      err.enhanced = "5.2.2";
    }
    out.emplace_back(base::Unexpected<storage::SaveError>(std::move(err)));
  }
  return out;
}

class WriterSave final : public deliver::StoreInFlight {
 public:
  WriterSave(std::shared_ptr<WriterClient> client, WriterClient::InFlight flight)
      : client_(std::move(client)), flight_(flight) {}
  // Unfinished (the event loop stopped under it): read the reply anyway, so the channel
  // goes back in step to the pool of free channels.
  ~WriterSave() override {
    if (!done_) (void)client_->finish(flight_);
  }
  int fd() const override { return flight_.sock; }
  std::vector<storage::SaveResult> finish() override {
    done_ = true;
    auto reply = client_->finish(flight_);
    if (!reply) return all_failed(flight_.targets, reply.error().message);
    return to_results(*reply);
  }
  std::optional<std::vector<storage::SaveResult>> try_finish() override {
    auto reply = client_->try_finish(flight_);
    if (reply && !*reply) return std::nullopt;
    done_ = true;
    if (!reply) return all_failed(flight_.targets, reply.error().message);
    return to_results(**reply);
  }

 private:
  std::shared_ptr<WriterClient> client_;
  WriterClient::InFlight flight_;
  bool done_ = false;
};

}  // namespace

std::vector<storage::SaveResult> store_via_writer(WriterClient& client, const storage::Body& body,
                                                  std::string_view headers,
                                                  std::span<const storage::SaveTarget> targets,
                                                  std::span<const std::string> lookup_keys,
                                                  FsyncMode fsync) {
  auto p = prepare(body, headers, targets, lookup_keys, fsync);
  if (!p) return all_failed(targets.size(), p.error().message);
  auto reply = client.deliver(std::move(p->request), p->body_fd);
  if (!reply) return all_failed(targets.size(), reply.error().message);
  return to_results(*reply);
}

std::unique_ptr<deliver::StoreInFlight> begin_store_via_writer(const std::shared_ptr<WriterClient>& client,
                                                               const storage::Body& body, std::string_view headers,
                                                               std::span<const storage::SaveTarget> targets,
                                                               std::span<const std::string> lookup_keys,
                                                               FsyncMode fsync) {
  // A body in a file would be copied on the event thread only if it is a large in-memory
  // one (memfd); leave those to the blocking path.
  if (body.fd < 0 && body.memory.size() > kMaxInlineBody) return nullptr;
  auto p = prepare(body, headers, targets, lookup_keys, fsync);
  if (!p) return nullptr;  // the blocking path tries again and reports it
  auto flight = client->begin(std::move(p->request), p->body_fd);
  if (!flight || flight->sock < 0) return nullptr;
  return std::make_unique<WriterSave>(client, *flight);
}

}  // namespace dovetail::privsep
