#include "privsep/writer_client.hpp"

#include <pthread.h>
#include <sys/socket.h>

#include <csignal>

#include "base/log.hpp"
#include "privsep/channel.hpp"

namespace dovetail::privsep {

WriterClient::WriterClient(base::UniqueFd sock) : sock_(std::move(sock)) {
  // The reader thread must never be the one the kernel picks for SIGTERM/SIGHUP: the daemon
  // handles signals on its own threads. Start it with every signal blocked.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  reader_ = std::thread([this] { read_loop(); });
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

WriterClient::~WriterClient() {
  closing_ = true;  // our own shutdown is not the writer dying
  ::shutdown(sock_.get(), SHUT_RDWR);  // wakes the reader thread
  if (reader_.joinable()) reader_.join();
}

void WriterClient::kill(const std::string& why) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    if (!dead_.exchange(true)) {
      first = true;
      death_reason_ = why;
      // Our own destructor shuts the socket down: that is a shutdown, not a failure to report.
      if (!closing_) base::log::error("lmtp: ", "privileged writer channel failed: " + why);
    }
    for (auto& [id, pending] : pending_) pending->cv.notify_one();
  }
  if (first && on_death_ && !closing_) on_death_();
}

void WriterClient::read_loop() {
  for (;;) {
    auto got = recv_frame(sock_.get());
    if (!got) return kill(got.error().message);
    if (got->fd.valid()) return kill("writer sent a descriptor");
    auto reply = decode_reply(got->frame);
    if (!reply) return kill(reply.error().message);
    bool known = false;
    {
      std::lock_guard lock(mutex_);
      auto it = pending_.find(reply->id);
      if (it != pending_.end()) {
        known = true;
        it->second->reply = std::move(*reply);
        it->second->cv.notify_one();
        pending_.erase(it);
      }
    }
    if (!known) return kill("reply for unknown request id");
  }
}

base::Status WriterClient::request_reload() {
  if (dead_) return base::fail(base::Error::temporary("privileged writer unavailable"));
  std::lock_guard lock(send_mutex_);
  return send_frame(sock_.get(), encode_reload());
}

base::Result<DeliverReply> WriterClient::deliver(DeliverRequest request, int body_fd) {
  Pending pending;
  size_t targets = request.targets.size();
  {
    std::lock_guard lock(mutex_);
    if (dead_) return base::fail(base::Error::temporary("privileged writer unavailable: " + death_reason_));
    request.id = next_id_++;
    pending_[request.id] = &pending;
  }
  uint64_t id = request.id;
  std::string frame = encode(request);
  base::Status sent;
  {
    std::lock_guard lock(send_mutex_);
    sent = send_frame(sock_.get(), frame, body_fd);
  }
  std::unique_lock lock(mutex_);
  if (!sent) {
    pending_.erase(id);
    return base::fail(base::Error::temporary("privileged writer send failed: " + sent.error().message));
  }
  pending.cv.wait(lock, [&] { return pending.reply.has_value() || dead_.load(); });
  if (!pending.reply) {
    pending_.erase(id);
    return base::fail(base::Error::temporary("privileged writer unavailable: " + death_reason_));
  }
  if (pending.reply->results.size() != targets) {
    lock.unlock();
    kill("reply has the wrong number of results");
    return base::fail(base::Error::temporary("privileged writer sent a malformed reply"));
  }
  return std::move(*pending.reply);
}

}  // namespace dovetail::privsep
