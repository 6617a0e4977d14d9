// writer_client.hpp — the network process's end of the privileged writer's channels.
//
// Purpose: deliver() takes a free delivery channel, sends one DeliverRequest (with the body
// fd) and reads the reply on that same channel itself, blocking: one request in flight per
// channel, so there is no reply dispatcher and a delivery costs two thread wake-ups across
// the process boundary (writer_service.hpp). With as many channels as blocking-pool
// threads, a caller never waits for a channel.
// The control channel carries only the writer's kReady (read before construction) and its
// death: a watcher thread blocks on it and reports EOF or any frame as the writer gone.
// Error contract: a malformed reply, a wrong id, a descriptor from the writer or a closed
// channel kills the client: every pending and later call fails with a kTemporary error (the
// daemon answers 451 and logs; it never "renegotiates" with a writer that misbehaved).
// Threading: deliver() and request_reload() are thread-safe; one internal watcher thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "privsep/channel.hpp"
#include "privsep/wire.hpp"

namespace dovetail::privsep {

class WriterClient {
 public:
  WriterClient(base::UniqueFd control, std::vector<base::UniqueFd> channels);
  ~WriterClient();
  WriterClient(const WriterClient&) = delete;
  WriterClient& operator=(const WriterClient&) = delete;

  // body_fd: a regular file holding the body (offset 0..body_size), or -1 when the body is inline.
  [[nodiscard]] base::Result<DeliverReply> deliver(DeliverRequest request, int body_fd);

  // deliver() in two halves for an event thread. begin() never blocks: it sends the request
  // on a free channel, or answers sock = -1 when none is free right now. finish() reads the
  // reply (without blocking once `sock` is readable) and frees the channel; call it exactly
  // once for every begin() that returned a channel.
  struct InFlight {
    int sock = -1;
    uint64_t id = 0;
    size_t targets = 0;
  };
  [[nodiscard]] base::Result<InFlight> begin(DeliverRequest request, int body_fd);
  [[nodiscard]] base::Result<DeliverReply> finish(const InFlight& flight);
  // finish() for an event thread woken by `sock`'s readiness: never waits, and nullopt
  // means the reply has not arrived yet (a stale wake-up); call again when readable.
  [[nodiscard]] base::Result<std::optional<DeliverReply>> try_finish(const InFlight& flight);
  // Tells the writer to re-read its config file (wire.hpp kReload, sent on every delivery
  // channel); no answer. Deliveries sent after this call returns are served with the
  // writer's new config (each channel's frames are handled in order). config_digest: what
  // the daemon read (config::Config::digest()); the writer takes the file only if it reads
  // the same bytes.
  [[nodiscard]] base::Status request_reload(const std::string& config_digest);
  bool dead() const { return dead_.load(); }
  // Called once, from whichever thread saw the channel die. Set before the first deliver().
  void set_on_death(std::function<void()> fn) { on_death_ = std::move(fn); }

 private:
  int acquire(bool wait);
  base::Result<InFlight> send_on(int sock, DeliverRequest request, int body_fd);
  void release(int sock);
  void watch_control();
  void kill(const std::string& why);
  base::Result<DeliverReply> check_reply(const InFlight& flight, Received got);
  base::Result<DeliverReply> settle(const InFlight& flight, base::Result<DeliverReply> reply);

  base::UniqueFd control_;
  std::vector<base::UniqueFd> channels_;
  std::mutex mutex_;  // guards free_, last_user_ and death_reason_
  std::condition_variable channel_freed_;
  std::vector<int> free_;
  // Which thread last waited on each channel from its event loop (indexed by fd; 0 = none).
  // begin() prefers a channel its thread used before: an event loop keeps a channel it has
  // waited on registered (net::ConnectionContext::when_readable), so one used by two loops
  // would wake both.
  std::vector<unsigned> last_user_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<bool> dead_{false};
  std::atomic<bool> closing_{false};
  std::string death_reason_;
  std::function<void()> on_death_;
  std::thread watcher_;
};

}  // namespace dovetail::privsep
