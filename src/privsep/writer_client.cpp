#include "privsep/writer_client.hpp"

#include <pthread.h>
#include <sys/socket.h>

#include <csignal>

#include "base/log.hpp"
#include "privsep/channel.hpp"

namespace dovetail::privsep {

WriterClient::WriterClient(base::UniqueFd control, std::vector<base::UniqueFd> channels)
    : control_(std::move(control)), channels_(std::move(channels)) {
  for (auto& ch : channels_) {
    free_.push_back(ch.get());
    if (static_cast<size_t>(ch.get()) >= last_user_.size()) last_user_.resize(static_cast<size_t>(ch.get()) + 1, 0);
  }
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

namespace {

// A small number per thread that has begun a delivery from its event loop.
unsigned this_thread_token() {
  static std::atomic<unsigned> next{1};
  thread_local unsigned token = next.fetch_add(1, std::memory_order_relaxed);
  return token;
}

}  // namespace

int WriterClient::acquire(bool wait) {
  std::unique_lock lock(mutex_);
  if (wait) channel_freed_.wait(lock, [&] { return !free_.empty() || dead_.load(); });
  if (dead_ || free_.empty()) return -1;
  size_t pick = free_.size() - 1;
  if (!wait) {
    // An event loop's own channel first, then one no loop has used, then any.
    const unsigned me = this_thread_token();
    size_t unused = free_.size();
    for (size_t i = free_.size(); i-- > 0;) {
      const unsigned user = last_user_[static_cast<size_t>(free_[i])];
      if (user == me) {
        unused = i;
        break;
      }
      if (user == 0 && unused == free_.size()) unused = i;
    }
    if (unused != free_.size()) pick = unused;
    last_user_[static_cast<size_t>(free_[pick])] = me;
  }
  int sock = free_[pick];
  free_[pick] = free_.back();
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

base::Result<DeliverReply> WriterClient::check_reply(const InFlight& flight, Received got) {
  if (got.fd.valid()) return base::fail(base::Error::temporary("writer sent a descriptor"));
  auto reply = decode_reply(got.frame);
  if (!reply) return base::fail(base::Error::temporary(reply.error().message));
  if (reply->id != flight.id) return base::fail(base::Error::temporary("reply for another request id"));
  if (reply->results.size() != flight.targets)
    return base::fail(base::Error::temporary("reply has the wrong number of results"));
  return std::move(*reply);
}

base::Result<DeliverReply> WriterClient::finish(const InFlight& flight) {
  auto got = recv_frame(flight.sock);
  if (!got) return settle(flight, base::fail(base::Error::temporary("privileged writer: " + got.error().message)));
  return settle(flight, check_reply(flight, std::move(*got)));
}

base::Result<std::optional<DeliverReply>> WriterClient::try_finish(const InFlight& flight) {
  auto got = try_recv_frame(flight.sock);
  if (got && !*got) return std::optional<DeliverReply>();
  auto reply = !got ? base::Result<DeliverReply>(base::fail(base::Error::temporary("privileged writer: " + got.error().message)))
                    : check_reply(flight, std::move(**got));
  auto settled = settle(flight, std::move(reply));
  if (!settled) return base::fail(settled.error());
  return std::optional<DeliverReply>(std::move(*settled));
}

base::Result<DeliverReply> WriterClient::settle(const InFlight& flight, base::Result<DeliverReply> reply) {
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
