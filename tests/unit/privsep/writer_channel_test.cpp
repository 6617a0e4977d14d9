// The channel and the client/service pair over a real socketpair, with hostile peers.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "privsep/channel.hpp"
#include "privsep/writer_client.hpp"
#include "privsep/writer_service.hpp"

namespace dovetail::privsep {
namespace {

class EchoBackend : public WriterBackend {
 public:
  DeliverReply deliver(const DeliverRequest& request, int body_fd) override {
    calls++;
    DeliverReply reply;
    for (const auto& t : request.targets) {
      std::string body = request.body;
      if (body_fd >= 0) {
        body.resize(request.body_size);
        if (::pread(body_fd, body.data(), body.size(), 0) != static_cast<ssize_t>(body.size())) body = "?";
      }
      reply.results.push_back({TargetStatus::kSaved, t.mailbox, t.user + ":" + body, ""});
    }
    return reply;
  }
  void reload(const std::string& config_digest) override {
    std::lock_guard lock(digest_mutex);
    last_digest = config_digest;
    reloads++;
  }
  std::string digest() {
    std::lock_guard lock(digest_mutex);
    return last_digest;
  }
  std::mutex digest_mutex;
  std::string last_digest;
  std::atomic<int> calls{0};
  std::atomic<int> reloads{0};
};

base::UniqueFd temp_file_with(const std::string& content) {
  int fd = ::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  return base::UniqueFd(fd);
}

// The writer announces itself once before serving (wire.hpp kReady).
void expect_ready(int sock) {
  auto got = recv_frame(sock);
  ASSERT_TRUE(got);
  EXPECT_TRUE(decode_ready(got->frame));
}

// n connected pairs: .ours for the network side, .theirs for the writer.
struct Channels {
  std::vector<base::UniqueFd> ours, theirs;
};
Channels make_channels(size_t n) {
  Channels c;
  for (size_t i = 0; i < n; ++i) {
    auto pair = make_channel_pair();
    EXPECT_TRUE(pair);
    c.ours.push_back(std::move(pair->first));
    c.theirs.push_back(std::move(pair->second));
  }
  return c;
}
std::vector<base::UniqueFd> one(base::UniqueFd fd) {
  std::vector<base::UniqueFd> v;
  v.push_back(std::move(fd));
  return v;
}

// The network side's client of a running writer service: the writer's kReady read from the
// control channel (ours[0]), the rest handed over as delivery channels.
std::unique_ptr<WriterClient> client_of(Channels& ch) {
  expect_ready(ch.ours[0].get());
  base::UniqueFd control = std::move(ch.ours[0]);
  ch.ours.erase(ch.ours.begin());
  return std::make_unique<WriterClient>(std::move(control), std::move(ch.ours));
}

// The writer service over `n` fresh channels (control first), answering with an
// EchoBackend on its own thread, which must end with exit status `want_exit`. Join it
// (after the client is gone) before reading what the backend saw.
struct EchoService {
  explicit EchoService(size_t n, int want_exit = 0)
      : ch(make_channels(n)),
        thread([this, want_exit] { EXPECT_EQ(run_writer_service(std::move(ch.theirs), backend), want_exit); }) {}
  ~EchoService() {
    ch.ours.clear();  // a test that stopped early: the service sees its peer go and returns
    if (thread.joinable()) thread.join();
  }
  Channels ch;
  EchoBackend backend;
  std::thread thread;
};

DeliverRequest request_for(const std::string& user, const std::string& body, bool in_fd) {
  DeliverRequest r;
  r.targets = {{user, "INBOX", false, false}};
  r.body_in_fd = in_fd;
  if (!in_fd) r.body = body;
  r.body_size = body.size();
  return r;
}

// An event thread's read: nothing there is "not yet", never a wait and never an error.
TEST(WriterChannel, TryReceiveNeverWaits) {
  auto pair = make_channel_pair();
  ASSERT_TRUE(pair);
  auto& [a, b] = *pair;
  auto none = try_recv_frame(a.get());
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
  ASSERT_TRUE(send_frame(b.get(), "frame"));
  auto got = try_recv_frame(a.get());
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->frame, "frame");
  auto again = try_recv_frame(a.get());
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "one frame is read once";
  b.reset();
  auto closed = try_recv_frame(a.get());
  ASSERT_FALSE(closed) << "the writer gone is an error, not 'nothing yet'";
}

// The event-loop half: try_finish() before the writer answered is "not yet" and keeps the
// channel; after, the reply. An event thread gets back the channel it used before (its loop
// keeps that one registered), another thread one no loop has used.
TEST(WriterChannel, EventLoopHalvesAndChannelAffinity) {
  EchoService service(1 + 4);
  {
    auto running = client_of(service.ch);
    WriterClient& client = *running;
    auto round_trip = [&](const std::string& user) {
      auto flight = client.begin(request_for(user, "body", false), -1);
      EXPECT_TRUE(flight && flight->sock >= 0);
      if (!flight || flight->sock < 0) return -1;
      pollfd p{flight->sock, POLLIN, 0};
      EXPECT_EQ(::poll(&p, 1, 5000), 1);
      auto reply = client.try_finish(*flight);
      EXPECT_TRUE(reply && *reply);
      if (reply && *reply) {
        EXPECT_EQ((**reply).results.at(0).filename, user + ":body");
      }
      auto stale = try_recv_frame(flight->sock);
      EXPECT_TRUE(stale && !*stale) << "the reply was read once";
      return flight->sock;
    };
    int first_a = -1, again_a = -1, first_b = -1;
    std::thread([&] { first_a = round_trip("a"); }).join();
    std::thread([&] { first_b = round_trip("b"); }).join();
    std::thread([&] { again_a = round_trip("c"); }).join();  // a third thread: no channel of its own yet
    EXPECT_NE(first_b, first_a) << "a thread that has no channel takes an unused one";
    EXPECT_NE(again_a, first_a);
    EXPECT_NE(again_a, first_b);
    std::thread([&] {
      int mine = round_trip("d");
      EXPECT_EQ(round_trip("e"), mine) << "the same thread gets its own channel back";
    }).join();

    // Not answered yet: nothing consumed, the flight still open.
    auto flight = client.begin(request_for("slow", "x", false), -1);
    ASSERT_TRUE(flight && flight->sock >= 0);
    pollfd p{flight->sock, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
    auto reply = client.try_finish(*flight);
    ASSERT_TRUE(reply && *reply);
    auto none = client.try_finish(WriterClient::InFlight{flight->sock, flight->id + 1, 1});
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none) << "an empty channel is 'not yet'";
  }
  service.thread.join();
}

// More callers (16) than delivery channels (8): each caller gets its own reply, callers wait
// for a free channel, and every request reaches the backend exactly once.
TEST(WriterChannel, ManyConcurrentRequestsGetTheirOwnReplies) {
  EchoService service(1 + 8);
  EchoBackend& backend = service.backend;
  {
    auto running = client_of(service.ch);
    WriterClient& client = *running;
    std::vector<std::thread> callers;
    std::atomic<int> ok{0};
    for (int i = 0; i < 16; ++i) {
      callers.emplace_back([&, i] {
        for (int j = 0; j < 50; ++j) {
          std::string body = "b" + std::to_string(i) + "-" + std::to_string(j);
          bool in_fd = j % 2 == 0;
          auto fd = in_fd ? temp_file_with(body) : base::UniqueFd();
          auto reply = client.deliver(request_for("u" + std::to_string(i), body, in_fd), fd.get());
          if (reply && reply->results.size() == 1 &&
              reply->results[0].filename == "u" + std::to_string(i) + ":" + body)
            ok++;
        }
      });
    }
    for (auto& t : callers) t.join();
    EXPECT_EQ(ok.load(), 16 * 50);
  }  // client closes -> service returns 0
  service.thread.join();
  EXPECT_EQ(backend.calls.load(), 16 * 50);
}

TEST(WriterChannel, ServiceClosesOnGarbageAndDoesNoWork) {
  auto pair = make_channel_pair();
  ASSERT_TRUE(pair);
  EchoBackend backend;
  int peer = pair->first.get();
  std::thread service([&] { EXPECT_EQ(run_writer_service(one(std::move(pair->second)), backend), 1); });
  expect_ready(peer);
  ASSERT_TRUE(send_frame(peer, "this is not a frame"));
  service.join();
  EXPECT_EQ(backend.calls.load(), 0);
  char c;
  EXPECT_EQ(::recv(peer, &c, 1, 0), 0);  // channel closed by the writer
}

TEST(WriterChannel, ServiceRefusesMissingOrUnexpectedDescriptor) {
  for (bool claim_fd : {true, false}) {
    auto pair = make_channel_pair();
    ASSERT_TRUE(pair);
    EchoBackend backend;
    int peer = pair->first.get();
    std::thread service([&] { EXPECT_EQ(run_writer_service(one(std::move(pair->second)), backend), 1); });
    auto req = request_for("alice", "x", claim_fd);
    auto fd = claim_fd ? base::UniqueFd() : temp_file_with("x");  // the opposite of the claim
    ASSERT_TRUE(send_frame(peer, encode(req), fd.get()));
    service.join();
    EXPECT_EQ(backend.calls.load(), 0);
  }
}

// kReload is handled in order on its channel: a request sent after it is served after the
// backend reloaded. A reload frame with a payload or a descriptor ends the channel.
TEST(WriterChannel, ReloadFrameReachesTheBackendBeforeLaterRequests) {
  auto pair = make_channel_pair();
  ASSERT_TRUE(pair);
  EchoBackend backend;
  int peer = pair->first.get();
  std::thread service([&] { EXPECT_EQ(run_writer_service(one(std::move(pair->second)), backend), 0); });
  expect_ready(peer);
  ASSERT_TRUE(send_frame(peer, encode_reload("0123abcd")));
  auto req = request_for("alice", "x", false);
  req.id = 5;
  ASSERT_TRUE(send_frame(peer, encode(req)));
  auto got = recv_frame(peer);
  ASSERT_TRUE(got);
  EXPECT_EQ(backend.reloads.load(), 1);
  EXPECT_EQ(backend.digest(), "0123abcd");  // the backend checks the file against it
  ::shutdown(peer, SHUT_RDWR);
  service.join();
  EXPECT_EQ(backend.calls.load(), 1);
}

TEST(WriterChannel, MalformedReloadClosesTheChannel) {
  std::string with_payload = encode_reload("");
  with_payload[8] = 5;  // a trailing byte after the empty digest
  with_payload += "x";
  for (bool with_fd : {false, true}) {
    auto pair = make_channel_pair();
    ASSERT_TRUE(pair);
    EchoBackend backend;
    int peer = pair->first.get();
    std::thread service([&] { EXPECT_EQ(run_writer_service(one(std::move(pair->second)), backend), 1); });
    expect_ready(peer);
    auto fd = with_fd ? temp_file_with("x") : base::UniqueFd();
    ASSERT_TRUE(send_frame(peer, with_fd ? encode_reload("") : with_payload, fd.get()));
    service.join();
    EXPECT_EQ(backend.reloads.load(), 0) << (with_fd ? "descriptor" : "payload");
  }
}

TEST(WriterChannel, NonRegularDescriptorIsRefused) {
  auto pair = make_channel_pair();
  ASSERT_TRUE(pair);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  ASSERT_TRUE(send_frame(pair->first.get(), encode(request_for("a", "x", true)), pipefd[0]));
  auto got = recv_frame(pair->second.get());
  EXPECT_FALSE(got);
  ::close(pipefd[0]);
  ::close(pipefd[1]);
}

TEST(WriterChannel, ClientDiesOnMalformedReplyAndFailsPending) {
  auto ch = make_channels(2);
  int writer_end = ch.theirs[1].get();
  std::atomic<int> deaths{0};
  WriterClient client(std::move(ch.ours[0]), one(std::move(ch.ours[1])));
  client.set_on_death([&] { deaths++; });
  std::thread fake_writer([&] {
    auto got = recv_frame(writer_end);
    ASSERT_TRUE(got);
    ASSERT_TRUE(send_frame(writer_end, "garbage reply"));
  });
  auto reply = client.deliver(request_for("alice", "x", false), -1);
  fake_writer.join();
  EXPECT_FALSE(reply);
  EXPECT_TRUE(client.dead());
  EXPECT_EQ(deaths.load(), 1);
  EXPECT_FALSE(client.deliver(request_for("alice", "x", false), -1));  // stays dead
  char c;
  EXPECT_EQ(::recv(writer_end, &c, 1, 0), 0) << "the client shut the channel down";
}

// A reply must answer the request it follows on its channel.
TEST(WriterChannel, ClientDiesOnReplyWithAnotherId) {
  auto ch = make_channels(2);
  int writer_end = ch.theirs[1].get();
  WriterClient client(std::move(ch.ours[0]), one(std::move(ch.ours[1])));
  std::thread fake_writer([&] {
    auto got = recv_frame(writer_end);
    ASSERT_TRUE(got);
    auto req = decode_request(got->frame);
    ASSERT_TRUE(req);
    DeliverReply reply;
    reply.id = req->id + 1;
    reply.results.push_back({TargetStatus::kSaved, "INBOX", "f", ""});
    ASSERT_TRUE(send_frame(writer_end, encode(reply)));
  });
  EXPECT_FALSE(client.deliver(request_for("alice", "x", false), -1));
  fake_writer.join();
  EXPECT_TRUE(client.dead());
}

// The writer going away is seen on the control channel even when no delivery is running.
TEST(WriterChannel, ClientNoticesTheWriterGoneWhileIdle) {
  auto ch = make_channels(3);
  std::atomic<int> deaths{0};
  base::UniqueFd control = std::move(ch.ours[0]);
  ch.ours.erase(ch.ours.begin());
  WriterClient client(std::move(control), std::move(ch.ours));
  client.set_on_death([&] { deaths++; });
  ch.theirs.clear();  // the writer process exits: all its ends close
  for (int i = 0; i < 500 && !client.dead(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(client.dead());
  EXPECT_EQ(deaths.load(), 1);
  EXPECT_FALSE(client.deliver(request_for("alice", "x", false), -1));
}

// The daemon sends each reload on every delivery channel; the writer reloads once per reload,
// and a request sent on any channel after its frame is served after the reload.
TEST(WriterChannel, ReloadOnEveryChannelReloadsOnceAndPrecedesLaterRequests) {
  EchoService service(1 + 4);
  EchoBackend& backend = service.backend;
  {
    auto running = client_of(service.ch);
    WriterClient& client = *running;
    for (int round = 1; round <= 3; ++round) {
      ASSERT_TRUE(client.request_reload("d" + std::to_string(round)));
      for (int i = 0; i < 4; ++i) ASSERT_TRUE(client.deliver(request_for("alice", "x", false), -1));
      EXPECT_EQ(backend.reloads.load(), round);
      EXPECT_EQ(backend.digest(), "d" + std::to_string(round));
    }
  }
  service.thread.join();
  EXPECT_EQ(backend.reloads.load(), 3);
  EXPECT_EQ(backend.calls.load(), 12);
}

// A violation on one channel ends the service on all of them: no more work for that peer.
TEST(WriterChannel, ViolationOnOneChannelClosesEveryChannel) {
  EchoService service(3, /*want_exit=*/1);
  EchoBackend& backend = service.backend;
  expect_ready(service.ch.ours[0].get());
  ASSERT_TRUE(send_frame(service.ch.ours[2].get(), "not a frame"));
  service.thread.join();
  for (auto& ours : service.ch.ours) {
    char c;
    EXPECT_EQ(::recv(ours.get(), &c, 1, 0), 0);
  }
  EXPECT_EQ(backend.calls.load(), 0);
}

}  // namespace
}  // namespace dovetail::privsep
