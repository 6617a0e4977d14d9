#include "privsep/writer_client.hpp"

#include <pthread.h>
#include <sys/socket.h>

#include <csignal>

#include "base/log.hpp"
#include "privsep/channel.hpp"

namespace dovetail::privsep {

WriterClient::WriterClient(base::UniqueFd control, std::vector<base::UniqueFd> channels)
    : control_(std::move(control)), channels_(std::move(channels)) {
  for (auto& ch : channels_) free_.push_back(ch.get());
  // The watcher must never be the thread the kernel picks for SIGTERM/SIGHUP: the daemon
  // handles signals on its own threads. Start it with every signal blocked.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  watcher_ = std::thread([this] { watch_control(); });
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

WriterClient::~WriterClient() {
  closing_ = true;  // our own shutdown is not the writer dying
  ::shutdown(control_.get(), SHUT_RDWR);  // wakes the watcher
  for (auto& ch : channels_) ::shutdown(ch.get(), SHUT_RDWR);
  if (watcher_.joinable()) watcher_.join();
}

void WriterClient::kill(const std::string& why) {
  if (dead_.exchange(true)) return;
  {
    std::lock_guard lock(mutex_);
    death_reason_ = why;
  }
  // Our own destructor shuts the sockets down: that is a shutdown, not a failure to report.
  if (!closing_) base::log::error("lmtp: ", "privileged writer channel failed: " + why);
  // Fail every caller now: those blocked on a reply get EOF, those waiting for a channel wake.
  ::shutdown(control_.get(), SHUT_RDWR);
  for (auto& ch : channels_) ::shutdown(ch.get(), SHUT_RDWR);
  channel_freed_.notify_all();
  if (on_death_ && !closing_) on_death_();
}

void WriterClient::watch_control() {
  // The writer never sends on the control channel after kReady: anything, EOF included,
  // means it is gone or misbehaving.
  auto got = recv_frame(control_.get());
  kill(got ? "writer sent an unexpected frame on the control channel" : got.error().message);
}

int WriterClient::acquire(bool wait) {
  std::unique_lock lock(mutex_);
  if (wait) channel_freed_.wait(lock, [&] { return !free_.empty() || dead_.load(); });
  if (dead_ || free_.empty()) return -1;
  int sock = free_.back();
  free_.pop_back();
  return sock;
}

void WriterClient::release(int sock) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(sock);
  }
  channel_freed_.notify_one();
}

base::Status WriterClient::request_reload(const std::string& config_digest) {
  if (dead_) return base::fail(base::Error::temporary("privileged writer unavailable"));
  // SEQPACKET records are atomic: this may interleave with a delivery's send on the same
  // channel without a lock; the writer handles each channel's records in order.
  std::string frame = encode_reload(config_digest);
  for (auto& ch : channels_)
    if (auto st = send_frame(ch.get(), frame); !st) return st;
  return {};
}

base::Result<WriterClient::InFlight> WriterClient::send_on(int sock, DeliverRequest request, int body_fd) {
  InFlight flight{sock, next_id_++, request.targets.size()};
  request.id = flight.id;
  if (auto sent = send_frame(sock, encode(request), body_fd); !sent) {
    kill("send failed: " + sent.error().message);
    return base::fail(base::Error::temporary("privileged writer unavailable: " + sent.error().message));
  }
  return flight;
}

base::Result<DeliverReply> WriterClient::read_reply(const InFlight& flight) {
  auto got = recv_frame(flight.sock);
  if (!got) return base::fail(base::Error::temporary("privileged writer: " + got.error().message));
  if (got->fd.valid()) return base::fail(base::Error::temporary("writer sent a descriptor"));
  auto reply = decode_reply(got->frame);
  if (!reply) return base::fail(base::Error::temporary(reply.error().message));
  if (reply->id != flight.id) return base::fail(base::Error::temporary("reply for another request id"));
  if (reply->results.size() != flight.targets)
    return base::fail(base::Error::temporary("reply has the wrong number of results"));
  return std::move(*reply);
}

base::Result<DeliverReply> WriterClient::finish(const InFlight& flight) {
  auto reply = read_reply(flight);
  if (!reply) {
    // Any failure leaves the channel out of step (a reply may still be on its way): the
    // channel, and with it the writer, is done.
    kill(reply.error().message);
    return base::fail(base::Error::temporary("privileged writer unavailable: " + reply.error().message));
  }
  release(flight.sock);
  return reply;
}

base::Result<WriterClient::InFlight> WriterClient::begin(DeliverRequest request, int body_fd) {
  if (dead_) {
    std::lock_guard lock(mutex_);
    return base::fail(base::Error::temporary("privileged writer unavailable: " + death_reason_));
  }
  int sock = acquire(false);
  if (sock < 0) return InFlight{};
  return send_on(sock, std::move(request), body_fd);
}

base::Result<DeliverReply> WriterClient::deliver(DeliverRequest request, int body_fd) {
  int sock = acquire(true);
  if (sock < 0) {
    std::lock_guard lock(mutex_);
    return base::fail(base::Error::temporary("privileged writer unavailable: " + death_reason_));
  }
  auto flight = send_on(sock, std::move(request), body_fd);
  if (!flight) return base::fail(flight.error());
  return finish(*flight);
}

}  // namespace dovetail::privsep
