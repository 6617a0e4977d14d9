// writer_client.hpp — the network process's end of the privileged writer channel.
//
// Purpose: deliver() sends one DeliverRequest (with the body fd) and blocks until the
// writer's reply with the same id arrives; many threads of the blocking pool may call it at
// once, so many deliveries (and their fsyncs) are in flight in the writer at the same time.
// Error contract: any malformed reply, unknown id or closed channel kills the client: every
// pending and later call fails with a kTemporary error (the daemon answers 451 and logs;
// it never "renegotiates" with a writer that misbehaved).
// Threading: deliver() is thread-safe; one internal reader thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "privsep/wire.hpp"

namespace dovetail::privsep {

class WriterClient {
 public:
  explicit WriterClient(base::UniqueFd sock);
  ~WriterClient();
  WriterClient(const WriterClient&) = delete;
  WriterClient& operator=(const WriterClient&) = delete;

  // body_fd: a regular file holding the body (offset 0..body_size), or -1 when the body is inline.
  [[nodiscard]] base::Result<DeliverReply> deliver(DeliverRequest request, int body_fd);
  // Tells the writer to re-read its config file (wire.hpp kReload); no answer. Deliveries
  // sent after this call are served with the writer's new config (frames are handled in order).
  [[nodiscard]] base::Status request_reload();
  bool dead() const { return dead_.load(); }
  // Called once, from the reader thread, when the channel dies. Set before the first deliver().
  void set_on_death(std::function<void()> fn) { on_death_ = std::move(fn); }

 private:
  // Each waiting caller has its own condition variable: a reply wakes exactly the thread it
  // is for (one shared cv + notify_all woke every waiting delivery thread per reply, which
  // cost the writer mode ~20 % more CPU per message in context switches).
  struct Pending {
    std::optional<DeliverReply> reply;
    std::condition_variable cv;
  };
  void read_loop();
  void kill(const std::string& why);

  base::UniqueFd sock_;
  std::mutex send_mutex_;
  std::mutex mutex_;
  std::map<uint64_t, Pending*> pending_;
  uint64_t next_id_ = 1;
  std::atomic<bool> dead_{false};
  std::atomic<bool> closing_{false};
  std::string death_reason_;
  std::function<void()> on_death_;
  std::thread reader_;
};

}  // namespace dovetail::privsep
