#include "lda/message_input.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace dovetail::lda {
namespace {

std::string stored(const std::string& input, uint64_t memory_limit = 1 << 20) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  std::string out;
  {
    mail::Spool spool(memory_limit, "/tmp");
    std::thread writer([&] {
      size_t off = 0;
      while (off < input.size()) {  // small writes: exercise reads split anywhere
        ssize_t n = ::write(fds[1], input.data() + off, std::min<size_t>(7, input.size() - off));
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      ::close(fds[1]);
    });
    EXPECT_TRUE(read_message(fds[0], spool));
    writer.join();
    ::close(fds[0]);
    out.resize(spool.size());
    auto got = spool.read_at(0, out.data(), out.size());
    EXPECT_TRUE(got);
  }
  return out;
}

TEST(MessageInput, CrlfBecomesLfAndMboxSeparatorIsDropped) {
  EXPECT_EQ(stored("From a@b Mon Jan  1 00:00:00 2026\nSubject: x\r\n\r\nbody\r\n"), "Subject: x\n\nbody\n");
  EXPECT_EQ(stored("Subject: x\r\n\r\nbody\r\n"), "Subject: x\n\nbody\n");
  EXPECT_EQ(stored("Subject: x\n\nbare\rcr\n"), "Subject: x\n\nbare\rcr\n");
  EXPECT_EQ(stored("no newline at all"), "no newline at all");
  EXPECT_EQ(stored("From: not a separator\n\nx\n"), "From: not a separator\n\nx\n");
  EXPECT_EQ(stored("Fro"), "Fro");
  EXPECT_EQ(stored("x\r"), "x\r");
}

TEST(MessageInput, LargeMessageSpillsToFile) {
  std::string big(3 << 20, 'a');
  for (size_t i = 100; i < big.size(); i += 100) big[i] = '\n';
  EXPECT_EQ(stored(big, 64 * 1024), big);
}

TEST(MessageInput, ReturnPathDefault) {
  mail::Spool spool(1024, "/tmp");
  ASSERT_TRUE(spool.append("Return-Path: <bounce@x.example>\nSubject: y\n\nbody\n"));
  ASSERT_TRUE(spool.finish());
  EXPECT_EQ(return_path_of(spool), "bounce@x.example");
}

}  // namespace
}  // namespace dovetail::lda
