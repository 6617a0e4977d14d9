// The LMTP glue without sockets: a fake connection context, the real blocking pool, a fake
// delivery backend. Checks what a client would see: replies in order, per-recipient DATA
// outcomes, the shutdown goodbye, and that a disconnect while the backend works is safe.
#include "lmtpd/lmtp_connection.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace dovetail::lmtpd {
namespace {

class FakeContext : public net::ConnectionContext {
 public:
  void wakeup() override { ++wakeups; }
  net::ConnectionHandle handle() override {
    return net::ConnectionHandle(std::make_shared<int>(0), [this](std::function<void()> fn) {
      std::lock_guard lock(mu);
      posted.push_back(std::move(fn));
      cv.notify_all();
    });
  }
  const net::PeerInfo& peer() const override { return peer_; }
  void when_readable(int fd, std::function<void(net::Readiness)> fn) override {
    std::thread([this, fd, fn = std::move(fn)]() mutable {
      pollfd p{fd, POLLIN, 0};
      ::poll(&p, 1, 10000);
      handle().post([fn = std::move(fn)] { fn(net::Readiness::kReadable); });
    }).detach();
  }

  // Runs posted completions on "the connection thread" (this one) until `done()` holds.
  template <class Pred>
  bool run_until(Pred done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      std::unique_lock lock(mu);
      if (!cv.wait_until(lock, deadline, [&] { return !posted.empty(); })) return false;
      auto fn = std::move(posted.front());
      posted.pop_front();
      lock.unlock();
      fn();
    }
    return true;
  }

  int wakeups = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> posted;
  net::PeerInfo peer_{"192.0.2.1", 40000, "127.0.0.1", 24, false, "127.0.0.1:24"};
};

class FakeBackend : public DeliveryBackend {
 public:
  std::optional<deliver::Outcome> check_recipient(const mail::Envelope&, const mail::Recipient& r) override {
    if (gate) gate->wait();
    if (r.address.local == "nobody") return deliver::user_unknown("nobody@test.example");
    return std::nullopt;
  }
  std::vector<deliver::Outcome> deliver(const mail::Envelope& env, const mail::Spool& spool) override {
    body_size = spool.size();
    std::vector<deliver::Outcome> out;
    for (size_t i = 0; i < env.recipients.size(); ++i)
      out.push_back(i == 1 ? deliver::Outcome(deliver::PermFail{552, "5.2.2", "Quota exceeded (mailbox for user is full)"})
                           : deliver::Outcome(deliver::Delivered{"INBOX", ""}));
    return out;
  }
  void reset() override { ++resets; }

  struct Gate {
    std::mutex m;
    std::condition_variable cv;
    bool open = false;
    void wait() {
      std::unique_lock l(m);
      cv.wait(l, [&] { return open; });
    }
    void release() {
      std::lock_guard l(m);
      open = true;
      cv.notify_all();
    }
  };
  Gate* gate = nullptr;
  uint64_t body_size = 0;
  int resets = 0;
};

struct Fixture {
  Fixture() : pool(2) {
    auto s = std::make_shared<config::Settings>();
    s->login_greeting = "Dovetail ready.";
    ConnectionDeps deps;
    deps.settings = s;
    deps.hostname = "mx.test.example";
    deps.pool = &pool;
    auto b = std::make_unique<FakeBackend>();
    backend = b.get();
    deps.backend = std::move(b);
    conn = make_lmtp_connection(ctx, std::move(deps));
  }
  ~Fixture() { pool.join(); }
  // Feeds bytes, then runs completions until `n` reply lines are out.
  std::string exchange(const std::string& in, size_t lines) {
    if (!in.empty()) conn->feed(in);
    std::string out = conn->take_output();
    auto count = [&] { return static_cast<size_t>(std::count(out.begin(), out.end(), '\n')); };
    ctx.run_until([&] {
      out += conn->take_output();
      return count() >= lines;
    });
    return out;
  }

  FakeContext ctx;
  net::BlockingPool pool;
  FakeBackend* backend = nullptr;
  std::unique_ptr<net::StreamProtocol> conn;
};

TEST(LmtpConnection, PipelinedTransactionGetsOrderedTrueOutcomes) {
  Fixture f;
  f.conn->start();
  EXPECT_EQ(f.exchange("", 1), "220 mx.test.example Dovetail ready.\r\n");
  EXPECT_FALSE(f.conn->in_transaction());
  std::string got = f.exchange(
      "MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@test.example>\r\nRCPT TO:<nobody@test.example>\r\n"
      "RCPT TO:<bob@test.example>\r\nDATA\r\n",
      5);
  EXPECT_EQ(got,
            "250 2.1.0 OK\r\n250 2.1.5 OK\r\n"
            "550 5.1.1 <nobody@test.example> User doesn't exist: nobody@test.example\r\n"
            "250 2.1.5 OK\r\n354 OK\r\n");
  EXPECT_TRUE(f.conn->in_transaction());
  got = f.exchange("Subject: x\r\n\r\nhello\r\n.\r\n", 2);
  std::string sid = got.substr(got.find("> ") + 2, 22);
  EXPECT_EQ(got, "250 2.0.0 <alice@test.example> " + sid +
                     " Saved\r\n552 5.2.2 <bob@test.example> Quota exceeded (mailbox for user is full)\r\n");
  EXPECT_EQ(f.backend->body_size, std::string("Subject: x\n\nhello\n").size());
  EXPECT_FALSE(f.conn->in_transaction());
  EXPECT_GE(f.backend->resets, 1);
}

TEST(LmtpConnection, ShutdownSaysGoodbyeAndCloses) {
  Fixture f;
  f.conn->start();
  f.exchange("", 1);
  f.conn->on_shutdown();
  EXPECT_EQ(f.conn->take_output(), "421 4.3.2 mx.test.example Server shutting down\r\n");
  EXPECT_TRUE(f.conn->should_close());
  EXPECT_FALSE(f.conn->wants_input());
}

TEST(LmtpConnection, NoTimerWhileBackendWorksAndDisconnectIsDeferred) {
  Fixture f;
  FakeBackend::Gate gate;
  f.backend->gate = &gate;
  f.conn->start();
  f.exchange("", 1);
  f.exchange("MAIL FROM:<s@remote.example>\r\n", 1);
  f.conn->feed("RCPT TO:<alice@test.example>\r\n");
  EXPECT_EQ(f.conn->timeout().count(), 0);  // the client is not idle: we are
  f.conn->on_eof();                         // peer left while the lookup runs
  gate.release();
  EXPECT_TRUE(f.ctx.run_until([&] { return f.ctx.posted.empty() && f.ctx.wakeups > 0; }));
  f.pool.join();
  f.ctx.run_until([&] { return f.ctx.posted.empty(); });
  EXPECT_GT(f.conn->timeout().count(), 0);
}

TEST(LmtpConnection, IdleAndDataTimeoutsComeFromSettings) {
  Fixture f;
  f.conn->start();
  f.exchange("", 1);
  EXPECT_EQ(f.conn->timeout(), std::chrono::minutes(5));
  f.conn->on_timeout();
  EXPECT_EQ(f.conn->take_output(), "421 4.4.2 mx.test.example Disconnected for inactivity\r\n");
  EXPECT_TRUE(f.conn->should_close());
}

}  // namespace
}  // namespace dovetail::lmtpd
