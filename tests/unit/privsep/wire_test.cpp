#include "privsep/wire.hpp"

#include <gtest/gtest.h>

namespace dovetail::privsep {
namespace {

DeliverRequest sample() {
  DeliverRequest r;
  r.id = 42;
  r.targets = {{"alice@test.example", "INBOX", false, false}, {"bob@test.example", "Lists", true, true}};
  r.headers = "Return-Path: <s@x>\n";
  r.body_in_fd = false;
  r.body = "Subject: hi\n\nbody\n";
  r.body_size = r.body.size();
  r.body_lfs = 3;
  r.fsync = FsyncMode::kAlways;
  return r;
}

TEST(Wire, RequestRoundTrip) {
  auto back = decode_request(encode(sample()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->id, 42u);
  ASSERT_EQ(back->targets.size(), 2u);
  EXPECT_EQ(back->targets[1].user, "bob@test.example");
  EXPECT_EQ(back->targets[1].mailbox, "Lists");
  EXPECT_TRUE(back->targets[1].autocreate);
  EXPECT_TRUE(back->targets[1].autosubscribe);
  EXPECT_EQ(back->body, "Subject: hi\n\nbody\n");
  EXPECT_EQ(back->fsync, FsyncMode::kAlways);
}

TEST(Wire, ReloadFrameCarriesOnlyAHexDigest) {
  const std::string digest(64, 'a');
  auto back = decode_reload(encode_reload(digest));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, digest);
  auto none = decode_reload(encode_reload(""));
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  auto header = decode_header(encode_reload(digest));
  ASSERT_TRUE(header);
  EXPECT_EQ(header->type, MessageType::kReload);
  struct Case {
    const char* name;
    std::string frame;
  };
  std::string trailing = encode_reload("ab");
  trailing[8] = static_cast<char>(trailing[8] + 1);  // payload length + 1
  trailing += "x";
  std::string empty_payload = encode_reload("");
  empty_payload.resize(kHeaderSize);
  empty_payload[8] = 0;
  const Case refused[] = {{"trailing byte", trailing},
                          {"no digest field", empty_payload},
                          {"upper-case hex", encode_reload("AB")},
                          {"a path, not hex", encode_reload("../etc/passwd")},
                          {"NUL inside", encode_reload(std::string("ab\0cd", 5))},
                          {"longer than kMaxDigest", encode_reload(std::string(kMaxDigest + 1, 'a'))},
                          {"ready is not reload", encode_ready()},
                          {"request is not reload", encode(sample())},
                          {"truncated", encode_reload(digest).substr(0, 11)}};
  for (const auto& c : refused) EXPECT_FALSE(decode_reload(c.frame)) << c.name;
  // and a reload frame is not a request: a writer that expects a request refuses it
  EXPECT_FALSE(decode_request(encode_reload(digest)));
}

TEST(Wire, ReplyRoundTrip) {
  DeliverReply r{7, {{TargetStatus::kSaved, "INBOX", "1.M2P3.h,S=1,W=2", ""}, {TargetStatus::kQuota, "", "", "full"}}};
  auto back = decode_reply(encode(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, 7u);
  ASSERT_EQ(back->results.size(), 2u);
  EXPECT_EQ(back->results[0].filename, "1.M2P3.h,S=1,W=2");
  EXPECT_EQ(back->results[1].status, TargetStatus::kQuota);
}

// Every corruption is refused, never "best effort".
TEST(Wire, MalformedFramesAreRefused) {
  std::string good = encode(sample());
  std::vector<std::pair<std::string, std::string>> cases;
  cases.push_back({"empty", ""});
  cases.push_back({"short header", good.substr(0, 5)});
  { auto s = good; s[0] ^= 1; cases.push_back({"bad magic", s}); }
  { auto s = good; s[4] = 9; cases.push_back({"other version", s}); }
  { auto s = good; s[6] = 2; cases.push_back({"reply type as request", s}); }
  { auto s = good; s[6] = 77; cases.push_back({"unknown type", s}); }
  cases.push_back({"truncated payload", good.substr(0, good.size() - 1)});
  cases.push_back({"trailing byte", good + "x"});
  {  // payload length field claims more than the cap
    auto s = good; s[8] = s[9] = s[10] = s[11] = '\xff'; cases.push_back({"huge length", s});
  }
  {  // zero targets
    DeliverRequest r = sample(); r.targets.clear(); cases.push_back({"no targets", encode(r)});
  }
  {  // inline body whose declared size lies
    DeliverRequest r = sample(); r.body_size = 999; cases.push_back({"size lie", encode(r)});
  }
  {  // empty user
    DeliverRequest r = sample(); r.targets[0].user.clear(); cases.push_back({"empty user", encode(r)});
  }
  {  // more line feeds than octets
    DeliverRequest r = sample(); r.body_lfs = 1000; cases.push_back({"lf lie", encode(r)});
  }
  for (const auto& [name, bytes] : cases) EXPECT_FALSE(decode_request(bytes)) << name;
}

TEST(Wire, ReadyFrame) {
  EXPECT_TRUE(decode_ready(encode_ready()));
  EXPECT_FALSE(decode_ready(encode_ready() + "x"));
  EXPECT_FALSE(decode_request(encode_ready()));
  EXPECT_FALSE(decode_reply(encode_ready()));
}

TEST(Wire, EveryTruncationIsRefused) {
  std::string good = encode(sample());
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(decode_request(good.substr(0, n))) << n;
}

}  // namespace
}  // namespace dovetail::privsep
