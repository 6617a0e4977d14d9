// fake_handler.hpp — a Handler for session tests: knows a few users like the COMPAT.md setup
// (alice, bob, erin, jörg @test.example; erin fails after DATA), answers synchronously or
// queues its completions (async) for the driver to run, and keeps every body it was given.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "mail/envelope.hpp"
#include "mail/spool.hpp"
#include "smtp/handler.hpp"

namespace dovetail::smtp::test {

class FakeHandler : public Handler {
 public:
  enum class Mode { kSync, kAsync };
  explicit FakeHandler(Mode m = Mode::kSync) : mode_(m) {}

  Reply on_mail(const mail::Envelope& env) override {
    mails.push_back(env);
    return Reply{250, "2.1.0", "OK"};
  }

  void on_rcpt(const mail::Envelope&, const mail::Recipient& rcpt, std::function<void(Reply)> done) override {
    rcpts.push_back(rcpt);
    std::string user = rcpt.address.local.substr(0, rcpt.address.local.find('+'));
    std::string domain = rcpt.address.domain;
    for (auto& c : user) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool known = domain == "test.example" &&
                 (user == "alice" || user == "bob" || user == "erin" || user == "jörg");
    std::string full = domain.empty() ? user : user + "@" + domain;
    Reply r = known ? Reply{250, "2.1.5", "OK"}
                    : Reply{550, "5.1.1", "<" + rcpt.given + "> User doesn't exist: " + full};
    run([done, r] { done(r); });
  }

  void on_data(const mail::Envelope& env, mail::Spool& spool,
               std::function<void(std::vector<Reply>)> done) override {
    Body b;
    b.in_memory = spool.in_memory();
    b.size = spool.size();
    b.line_feeds = spool.line_feeds();
    std::string content;
    char buf[65536];
    uint64_t off = 0;
    for (;;) {
      auto n = spool.read_at(off, buf, sizeof buf);
      if (!n || *n == 0) break;
      if (content.size() < kKeep) content.append(buf, std::min<size_t>(*n, kKeep - content.size()));
      off += *n;
    }
    b.read_back = off;
    b.content = std::move(content);
    b.envelope = env;
    bodies.push_back(std::move(b));
    std::vector<Reply> replies;
    for (const auto& r : env.recipients) {
      std::string user = r.address.local.substr(0, r.address.local.find('+'));
      if (user == "erin")
        replies.push_back({451, "4.2.0", "<" + r.given + "> Internal error occurred."});
      else
        replies.push_back({250, "2.0.0", "<" + r.given + "> " + r.id + " Saved"});
    }
    run([done, replies] { done(replies); });
  }

  void on_reset() override { ++resets; }

  // Runs queued async completions (each may trigger more); returns how many ran.
  size_t run_pending() {
    size_t n = 0;
    while (!pending_.empty()) {
      auto f = std::move(pending_.front());
      pending_.pop_front();
      f();
      ++n;
    }
    return n;
  }
  bool has_pending() const { return !pending_.empty(); }

  struct Body {
    bool in_memory = true;
    uint64_t size = 0, line_feeds = 0, read_back = 0;
    std::string content;  // first kKeep octets
    mail::Envelope envelope;
  };
  static constexpr size_t kKeep = 1 << 20;
  std::vector<mail::Envelope> mails;
  std::vector<mail::Recipient> rcpts;
  std::vector<Body> bodies;
  int resets = 0;

 private:
  void run(std::function<void()> f) {
    if (mode_ == Mode::kSync)
      f();
    else
      pending_.push_back(std::move(f));
  }
  Mode mode_;
  std::deque<std::function<void()>> pending_;
};

}  // namespace dovetail::smtp::test
