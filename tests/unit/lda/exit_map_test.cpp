#include "lda/exit_map.hpp"

#include <sysexits.h>

#include <gtest/gtest.h>

namespace dovetail::lda {
namespace {

TEST(ExitMap, DovecotLdaContract) {
  using deliver::Delivered;
  using deliver::PermFail;
  using deliver::TempFail;
  struct Case {
    deliver::Outcome outcome;
    RejectMode mode;
    int want;
  };
  const Case cases[] = {
      {Delivered{"INBOX", "x"}, RejectMode::kMail, EX_OK},
      {deliver::user_unknown("a@b"), RejectMode::kMail, EX_NOUSER},
      {deliver::user_unknown("a@b"), RejectMode::kStderr, EX_NOUSER},
      {deliver::lookup_failed(), RejectMode::kStderr, EX_TEMPFAIL},
      {deliver::too_many_concurrent(), RejectMode::kMail, EX_TEMPFAIL},
      {PermFail{552, "5.2.2", "Quota exceeded (mailbox for user is full)"}, RejectMode::kStderr, EX_NOPERM},
      // Without -e a rejection mail went to the sender: the MTA must not bounce again.
      {PermFail{552, "5.2.2", "Quota exceeded (mailbox for user is full)"}, RejectMode::kMail, EX_OK},
  };
  for (const auto& c : cases) EXPECT_EQ(exit_code_for(c.outcome, c.mode), c.want);
}

}  // namespace
}  // namespace dovetail::lda
