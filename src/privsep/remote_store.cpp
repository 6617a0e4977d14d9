#include "privsep/remote_store.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.hpp"

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

std::vector<storage::SaveResult> store_via_writer(WriterClient& client, const storage::Body& body,
                                                  std::string_view headers,
                                                  std::span<const storage::SaveTarget> targets,
                                                  std::span<const std::string> lookup_keys,
                                                  FsyncMode fsync) {
  DeliverRequest request;
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
  base::UniqueFd memfd;
  int body_fd = body.fd;
  if (body_fd < 0 && body.memory.size() <= kMaxInlineBody) {
    request.body_in_fd = false;
    request.body = std::string(body.memory);
  } else if (body_fd < 0) {
    // A large in-memory body: hand the writer a sealed-size copy in a memfd.
    memfd.reset(::memfd_create("dovetail-body", MFD_CLOEXEC));
    if (!memfd) return all_failed(targets.size(), std::string("memfd_create: ") + std::strerror(errno));
    std::string_view rest = body.memory;
    while (!rest.empty()) {
      ssize_t n = ::write(memfd.get(), rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return all_failed(targets.size(), std::string("memfd write: ") + std::strerror(errno));
      rest.remove_prefix(static_cast<size_t>(n));
    }
    body_fd = memfd.get();
  }
  auto reply = client.deliver(std::move(request), body_fd);
  if (!reply) return all_failed(targets.size(), reply.error().message);

  std::vector<storage::SaveResult> out;
  for (const auto& r : reply->results) {
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

}  // namespace dovetail::privsep
