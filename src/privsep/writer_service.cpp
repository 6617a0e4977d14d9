#include "privsep/writer_service.hpp"

#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "base/log.hpp"
#include "privsep/channel.hpp"

namespace dovetail::privsep {
namespace {

// Reload frames arrive once per channel; the n-th one is acted on once, by whichever channel
// thread sees it first (every channel carries the same digest for the n-th reload).
// Counting rather than a generation number in the frame: the peer cannot skip or repeat one.
class ReloadGate {
 public:
  explicit ReloadGate(WriterBackend& backend) : backend_(backend) {}
  void reached(uint64_t nth, const std::string& config_digest) {
    std::lock_guard lock(mutex_);
    if (done_ >= nth) return;
    backend_.reload(config_digest);
    done_ = nth;
  }

 private:
  WriterBackend& backend_;
  std::mutex mutex_;
  uint64_t done_ = 0;
};

struct Shared {
  WriterBackend& backend;
  ReloadGate reloads;
  std::vector<base::UniqueFd>& channels;
  std::atomic<bool> violated{false};

  void violation(const std::string& why) {
    base::log::error("dovetail-writer: ", why + " (closing the channel)");
    if (violated.exchange(true)) return;
    // A violating peer gets no more work done for it on any channel.
    for (auto& ch : channels) ::shutdown(ch.get(), SHUT_RDWR);
  }
};

void serve_channel(int sock, Shared& shared) {
  uint64_t reloads_seen = 0;
  for (;;) {
    auto got = recv_frame(sock);
    if (!got) {
      if (got.error().kind != base::ErrorKind::kNotFound && !shared.violated)
        shared.violation(got.error().message);
      return;
    }
    if (shared.violated) return;
    auto header = decode_header(got->frame);
    if (header && header->type == MessageType::kReload) {
      auto digest = decode_reload(got->frame);
      if (!digest || got->fd.valid())
        return shared.violation(digest ? std::string("reload frame with a descriptor") : digest.error().message);
      shared.reloads.reached(++reloads_seen, *digest);
      continue;
    }
    auto request = decode_request(got->frame);
    if (!request) return shared.violation(request.error().message);
    if (request->body_in_fd != got->fd.valid())
      return shared.violation("body descriptor missing or unexpected");
    DeliverReply reply = shared.backend.deliver(*request, got->fd.get());
    reply.id = request->id;
    if (!send_frame(sock, encode(reply))) return;  // the peer is gone; so is this channel
  }
}

}  // namespace

int run_writer_service(std::vector<base::UniqueFd> channels, WriterBackend& backend) {
  if (channels.empty()) return 1;
  Shared shared{backend, ReloadGate(backend), channels};
  if (!send_frame(channels[0].get(), encode_ready())) return 1;
  std::vector<std::thread> threads;
  threads.reserve(channels.size());
  for (auto& ch : channels) threads.emplace_back(serve_channel, ch.get(), std::ref(shared));
  for (auto& t : threads) t.join();
  for (auto& ch : channels) ::shutdown(ch.get(), SHUT_RDWR);
  return shared.violated ? 1 : 0;
}

}  // namespace dovetail::privsep
