// Which uid/gid mail is written as, and the first/last_valid_uid/gid gate.
#include "deliver/mail_ids.hpp"

#include <gtest/gtest.h>

namespace dovetail::deliver {
namespace {

config::Settings settings_with(unsigned first_uid, unsigned last_uid, unsigned first_gid,
                               std::string mail_uid = "", std::string mail_gid = "") {
  config::Settings s;
  s.first_valid_uid = first_uid;
  s.last_valid_uid = last_uid;
  s.first_valid_gid = first_gid;
  s.mail_uid = std::move(mail_uid);
  s.mail_gid = std::move(mail_gid);
  return s;
}

TEST(MailIdsTest, TableOfUidGidChecks) {
  struct Case {
    const char* name;
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    config::Settings settings;
    bool ok;
    uid_t want_uid;
    gid_t want_gid;
    const char* setting_named;  // the log text must name this setting
  };
  const Case cases[] = {
      {"userdb ids", 5000, 5000, settings_with(500, 0, 1), true, 5000, 5000, ""},
      {"mail_uid fallback numeric", {}, {}, settings_with(500, 0, 1, "5001", "5002"), true, 5001,
       5002, ""},
      {"mail_uid by name (root's group by name)", 5000, {}, settings_with(500, 0, 0, "", "root"),
       true, 5000, 0, ""},
      {"below first_valid_uid", 499, 5000, settings_with(500, 0, 1), false, 0, 0,
       "first_valid_uid"},
      {"above last_valid_uid", 6001, 5000, settings_with(500, 6000, 1), false, 0, 0,
       "last_valid_uid"},
      {"below first_valid_gid", 5000, 10, settings_with(500, 0, 100), false, 0, 0,
       "first_valid_gid"},
      {"uid 0 even when first_valid_uid = 0", 0, 5000, settings_with(0, 0, 1), false, 0, 0,
       "first_valid_uid"},
      {"unknown mail_uid name", {}, 5000,
       settings_with(500, 0, 1, "no-such-user-dovetail-test"), false, 0, 0, "mail_uid"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto ids = mail_ids(c.uid, c.gid, c.settings);
    ASSERT_EQ(ids.has_value(), c.ok) << (ids ? "" : ids.error().message);
    if (c.ok) {
      EXPECT_EQ(ids->uid, c.want_uid);
      EXPECT_EQ(ids->gid, c.want_gid);
    } else {
      EXPECT_EQ(ids.error().kind, base::ErrorKind::kTemporary);
      EXPECT_NE(ids.error().message.find(c.setting_named), std::string::npos)
          << ids.error().message;
    }
  }
}

}  // namespace
}  // namespace dovetail::deliver
