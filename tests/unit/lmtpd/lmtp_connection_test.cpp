// The LMTP glue without sockets: a fake connection context, the real blocking pool, a fake
// delivery backend. Checks what a client would see: replies in order, per-recipient DATA
// outcomes, the shutdown goodbye, that a disconnect while the backend works is safe, and
// how a save that runs in the privileged writer is waited for (a stale wake-up, an event
// loop that cannot wait on the writer's channel).
#include "lmtpd/lmtp_connection.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "deliver/engine.hpp"
#include "deliver/transaction.hpp"

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
    ++waits;
    if (fail_waits) {  // as when epoll refuses the descriptor
      handle().post([fn = std::move(fn)] { fn(net::Readiness::kWaitFailed); });
      return;
    }
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
  std::atomic<int> waits{0};
  bool fail_waits = false;
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

// What happened to the scripted saves of one test.
struct SaveLog {
  std::atomic<int> try_finishes{0};
  std::atomic<int> finishes{0};
  std::atomic<int> answers{0};  // results handed back, by either call
  std::mutex mu;
  std::thread::id finish_thread;
};

// A save as the privileged writer runs it, scripted: its fd (a pipe) is readable at once, as
// when the writer has answered. The first `stale` try_finish() calls still report "no
// answer yet", which is what a stale edge-triggered event looks like to the connection.
class ScriptedSave final : public deliver::StoreInFlight {
 public:
  ScriptedSave(size_t targets, int stale, SaveLog& log) : targets_(targets), stale_(stale), log_(log) {
    EXPECT_EQ(::pipe(fds_), 0);
    EXPECT_EQ(::write(fds_[1], "x", 1), 1);
  }
  ~ScriptedSave() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int fd() const override { return fds_[0]; }
  std::vector<storage::SaveResult> finish() override {
    ++log_.finishes;
    {
      std::lock_guard lock(log_.mu);
      log_.finish_thread = std::this_thread::get_id();
    }
    return answer();
  }
  std::optional<std::vector<storage::SaveResult>> try_finish() override {
    if (++log_.try_finishes <= stale_) return std::nullopt;
    return answer();
  }

 private:
  std::vector<storage::SaveResult> answer() {
    char c;
    EXPECT_EQ(::read(fds_[0], &c, 1), 1);
    ++log_.answers;
    std::vector<storage::SaveResult> out;
    for (size_t i = 0; i < targets_; ++i) {
      storage::Saved saved;
      saved.mailbox = "INBOX";
      out.emplace_back(std::move(saved));
    }
    return out;
  }

  int fds_[2];
  size_t targets_;
  int stale_;
  SaveLog& log_;
};

// The production shape of writer mode: a real deliver::Transaction whose saves start with
// store_begin (here ScriptedSave) and finish on the connection's thread.
class InFlightBackend : public DeliveryBackend {
 public:
  InFlightBackend(int stale, SaveLog& log) {
    auto settings = std::make_shared<config::Settings>();
    settings->hostname = "mx.test.example";
    settings->mail_location = "maildir:~/Maildir";
    settings->first_valid_uid = 500;
    deliver::EngineDeps deps;
    deps.lookup_user = [](std::string_view key) -> base::Result<userdb::User> {
      return userdb::User{std::string(key), 5000, 5000, "/nonexistent/" + std::string(key)};
    };
    deps.log = [](base::log::Level, std::string_view, std::string_view) {};
    deps.log_lines = [](std::span<const base::log::Line>) {};
    deps.store = [](const storage::Body&, std::string_view, std::span<const storage::SaveTarget> targets,
                    std::span<const std::string>) {
      ADD_FAILURE() << "the blocking store ran: the in-flight path was not taken";
      return std::vector<storage::SaveResult>(targets.size(),
                                              base::Unexpected<storage::SaveError>(storage::temp_error("no")));
    };
    deps.store_begin = [stale, &log](const storage::Body&, std::string_view,
                                     std::span<const storage::SaveTarget> targets,
                                     std::span<const std::string>) -> std::unique_ptr<deliver::StoreInFlight> {
      return std::make_unique<ScriptedSave>(targets.size(), stale, log);
    };
    auto engine = deliver::Engine::create(settings, std::move(deps));
    EXPECT_TRUE(engine.has_value()) << (engine ? "" : engine.error().message);
    txn_.emplace(std::shared_ptr<const deliver::Engine>(std::move(*engine)));
  }
  std::optional<deliver::Outcome> check_recipient(const mail::Envelope& env, const mail::Recipient& r) override {
    return txn_->add_recipient(env, r);
  }
  std::vector<deliver::Outcome> deliver(const mail::Envelope& env, const mail::Spool& spool) override {
    return txn_->deliver(env, spool);
  }
  std::unique_ptr<deliver::DeliveryInFlight> deliver_begin(const mail::Envelope& env,
                                                           const mail::Spool& spool) override {
    return txn_->deliver_begin(env, spool);
  }
  void reset() override { txn_->reset(); }

 private:
  std::optional<deliver::Transaction> txn_;
};

struct Fixture {
  explicit Fixture(std::unique_ptr<DeliveryBackend> other = nullptr) : pool(2) {
    auto s = std::make_shared<config::Settings>();
    s->login_greeting = "Dovetail ready.";
    ConnectionDeps deps;
    deps.settings = s;
    deps.hostname = "mx.test.example";
    deps.pool = &pool;
    if (other) {
      deps.backend = std::move(other);
    } else {
      auto b = std::make_unique<FakeBackend>();
      backend = b.get();
      deps.backend = std::move(b);
    }
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
  EXPECT_EQ(f.conn->take_output(), "421 4.3.2 mx.test.example Shutting down\r\n");
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
  f.conn->on_eof("");                       // peer left while the lookup runs
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


// Writer mode: a wake-up on the writer's channel that finds no answer (the kept
// edge-triggered registration can report an old event) waits again instead of failing or
// blocking, and the client gets exactly one true reply.
TEST(LmtpConnection, StaleWakeupOnTheWriterChannelWaitsAgain) {
  SaveLog log;
  Fixture f(std::make_unique<InFlightBackend>(/*stale=*/1, log));
  f.conn->start();
  f.exchange("", 1);
  EXPECT_EQ(f.exchange("MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\n", 3),
            "250 2.1.0 OK\r\n250 2.1.5 OK\r\n354 OK\r\n");
  std::string got = f.exchange("Subject: x\r\n\r\nhello\r\n.\r\n", 1);
  EXPECT_TRUE(got.starts_with("250 2.0.0 <alice@test.example> ")) << got;
  EXPECT_TRUE(got.ends_with(" Saved\r\n")) << got;
  EXPECT_EQ(std::count(got.begin(), got.end(), '\n'), 1) << got;
  EXPECT_EQ(f.ctx.waits.load(), 2) << "the stale wake-up led to a second wait";
  EXPECT_EQ(log.try_finishes.load(), 2);
  EXPECT_EQ(log.finishes.load(), 0) << "the connection thread never blocked on the channel";
  EXPECT_EQ(log.answers.load(), 1);
  EXPECT_FALSE(f.conn->in_transaction());
  // The session goes on: a second transaction on the same connection.
  f.exchange("MAIL FROM:<s@remote.example>\r\nRCPT TO:<bob@test.example>\r\nDATA\r\n", 3);
  got = f.exchange("Subject: y\r\n\r\nagain\r\n.\r\n", 1);
  EXPECT_TRUE(got.starts_with("250 2.0.0 <bob@test.example> ")) << got;
  EXPECT_EQ(log.answers.load(), 2);
}

// When the event loop cannot wait on the writer's channel, a pool thread waits for the
// answer, never the connection's own thread, and the client gets its reply all the same.
TEST(LmtpConnection, ChannelTheLoopCannotWaitOnIsFinishedOnThePool) {
  SaveLog log;
  Fixture f(std::make_unique<InFlightBackend>(/*stale=*/0, log));
  f.ctx.fail_waits = true;
  f.conn->start();
  f.exchange("", 1);
  f.exchange("MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@test.example>\r\nDATA\r\n", 3);
  std::string got = f.exchange("Subject: x\r\n\r\nhello\r\n.\r\n", 1);
  EXPECT_TRUE(got.starts_with("250 2.0.0 <alice@test.example> ")) << got;
  EXPECT_EQ(log.finishes.load(), 1);
  EXPECT_EQ(log.try_finishes.load(), 0);
  {
    std::lock_guard lock(log.mu);
    EXPECT_NE(log.finish_thread, std::this_thread::get_id()) << "the connection's thread blocked";
  }
  EXPECT_FALSE(f.conn->in_transaction());
}

}  // namespace
}  // namespace dovetail::lmtpd
