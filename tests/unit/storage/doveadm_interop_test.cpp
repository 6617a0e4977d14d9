// Interop proof (issue 4): a Maildir written through MaildirWriter is read by Dovecot itself.
// `doveadm -c <minimal conf> -o mail_uid/gid=<owner> fetch/search/mailbox list` must see every
// message, folder and subscription with the right sizes and bytes. Skipped when doveadm is absent.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fcntl.h>
#include <sstream>

#include "storage/mail_location.hpp"
#include "storage/maildir_writer.hpp"
#include "storage_test_util.hpp"
#include "testlib/temp_dir.hpp"

namespace dovetail::storage {
namespace {

using test::make_user;
using test::memory_body;

std::string find_doveadm() {
  for (const char* p : {"/usr/bin/doveadm", "/usr/local/bin/doveadm"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command, returns stdout; stderr goes to the test log.
std::string run(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Independent of storage's own arithmetic: CRLF size = octets + bare LFs.
uint64_t crlf_octets(const std::string& s) {
  uint64_t n = s.size();
  for (size_t i = 0; i < s.size(); ++i) n += (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) ? 1 : 0;
  return n;
}

struct Msg {
  std::string mailbox;  // as doveadm prints it (UTF-8)
  std::string headers, body;
};

TEST(DoveadmInterop, DovecotReadsWhatDovetailWrote) {
  const std::string doveadm = find_doveadm();
  if (doveadm.empty()) GTEST_SKIP() << "doveadm not installed";
  testlib::TempDir tmp;
  ::chmod(tmp.str().c_str(), 0755);  // the mail user (nobody when run as root) must traverse it
  const std::string root = tmp.str() + "/Maildir";
  tmp.write("dovecot.conf", "mail_location = maildir:" + root + "\nssl = no\nlog_path = /dev/stderr\n");
  UserTarget user = make_user(root);
  MaildirWriter writer(FsyncMode::kOptimized);
  const std::string trace = "Return-Path: <sender@remote.example>\nDelivered-To: alice@test.example\n";

  std::vector<Msg> expected;
  auto save = [&](const std::string& vname, MissingMailbox policy, const std::string& shown, std::string body) {
    auto r = writer.save(memory_body(body), trace, user, MailboxRequest{vname, policy});
    ASSERT_TRUE(r) << r.error().log_reason;
    expected.push_back({shown, trace, body});
  };
  save("", MissingMailbox::kUseInbox, "INBOX", "Subject: inbox-1\n\nHello.\n");
  save("Lists", MissingMailbox::kCreateAndSubscribe, "Lists", "Subject: lists-1\n\nbare\nLF\nlines\n");
  save("Dots.in.name", MissingMailbox::kCreateAndSubscribe, "Dots.in.name", "Subject: dots-1\r\n\r\ncrlf kept\r\n");
  save("\xc3\xa4&x", MissingMailbox::kCreateAndSubscribe, "\xc3\xa4&x", "Subject: umlaut-1\n\n\xc3\xa4\n");
  save("NotSubscribed", MissingMailbox::kCreate, "NotSubscribed", "Subject: unsub-1\n\nx\n");
  save("Missing", MissingMailbox::kUseInbox, "INBOX", "Subject: fallback-1\n\nto INBOX\n");

  {  // a big file-backed body
    std::string big = "Subject: big-1\n\n";
    for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i) + " of the big message\n";
    auto path = tmp.write("spool", big);
    int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    Body body{{}, fd, big.size(), static_cast<uint64_t>(std::count(big.begin(), big.end(), '\n'))};
    auto r = writer.save(body, trace, user, MailboxRequest{"Lists"});
    ::close(fd);
    ASSERT_TRUE(r) << r.error().log_reason;
    expected.push_back({"Lists", trace, big});
  }
  {  // several recipients: hard links
    const std::string body = "Subject: batch-1\n\nfor three folders\n";
    const std::string hdr = "Return-Path: <sender@remote.example>\n";
    std::vector<SaveTarget> targets = {{&user, {"", MissingMailbox::kUseInbox}},
                                       {&user, {"Lists", MissingMailbox::kUseInbox}},
                                       {&user, {"Dots.in.name", MissingMailbox::kUseInbox}}};
    auto rs = writer.save_batch(memory_body(body), hdr, targets);
    for (auto& r : rs) ASSERT_TRUE(r) << r.error().log_reason;
    EXPECT_TRUE(rs[1]->hard_link && rs[2]->hard_link);
    for (const char* mb : {"INBOX", "Lists", "Dots.in.name"}) expected.push_back({mb, hdr, body});
  }

  const std::string base = "env HOME=" + shell_quote(tmp.str()) + " USER=dovetail-test " + doveadm + " -c " +
                           shell_quote(tmp.str() + "/dovecot.conf") + " -o mail_uid=" +
                           std::to_string(user.uid) + " -o mail_gid=" + std::to_string(user.gid) + " ";
  int status = 0;

  auto boxes = lines(run(base + "-f tab mailbox list", &status));
  ASSERT_EQ(status, 0);
  std::sort(boxes.begin(), boxes.end());
  std::vector<std::string> want_boxes = {"Dots", "Dots.in", "Dots.in.name", "INBOX", "Lists", "NotSubscribed",
                                         "\xc3\xa4&x", "mailbox"};
  std::sort(want_boxes.begin(), want_boxes.end());
  EXPECT_EQ(boxes, want_boxes);

  auto subscribed = lines(run(base + "-f tab mailbox list -s", &status));
  ASSERT_EQ(status, 0);
  std::sort(subscribed.begin(), subscribed.end());
  std::vector<std::string> want_subs = {"Dots.in.name", "Lists", "\xc3\xa4&x", "mailbox"};
  std::sort(want_subs.begin(), want_subs.end());
  EXPECT_EQ(subscribed, want_subs);

  auto rows = lines(run(base + "-f tab fetch 'mailbox size.physical size.virtual hdr.subject' all", &status));
  ASSERT_EQ(status, 0);
  ASSERT_FALSE(rows.empty());
  rows.erase(rows.begin());  // header line
  std::vector<std::string> want_rows;
  for (const auto& m : expected) {
    std::string all = m.headers + m.body;
    std::string subject = m.body.substr(9, m.body.find_first_of("\r\n") - 9);
    want_rows.push_back(m.mailbox + "\t" + std::to_string(all.size()) + "\t" + std::to_string(crlf_octets(all)) +
                        "\t" + subject);
  }
  std::sort(rows.begin(), rows.end());
  std::sort(want_rows.begin(), want_rows.end());
  EXPECT_EQ(rows, want_rows);

  auto hits = lines(run(base + "search mailbox Lists all", &status));
  ASSERT_EQ(status, 0);
  EXPECT_EQ(hits.size(), 3u);  // lists-1, big-1, batch-1

  // Byte-exact content as Dovecot serves it (single-message mailbox).
  std::string text = run(base + "-f tab fetch text mailbox " + shell_quote("\xc3\xa4&x") + " all", &status);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(text, "text\n" + trace + "Subject: umlaut-1\n\n\xc3\xa4\n\n");
}

}  // namespace
}  // namespace dovetail::storage

namespace dovetail::storage {
namespace {

// LAYOUT=fs with a separate CONTROL= directory: folders as plain directories, subscriptions in
// the control dir, '/' as the hierarchy separator — Dovecot must agree on all of it.
TEST(DoveadmInterop, LayoutFsWithControlDir) {
  const std::string doveadm = find_doveadm();
  if (doveadm.empty()) GTEST_SKIP() << "doveadm not installed";
  testlib::TempDir tmp;
  ::chmod(tmp.str().c_str(), 0755);
  const std::string root = tmp.str() + "/mail";
  const std::string control = tmp.str() + "/control";
  const std::string location = "maildir:" + root + ":LAYOUT=fs:CONTROL=" + control;
  tmp.write("dovecot.conf", "ssl = no\nlog_path = /dev/stderr\n");
  auto parsed = parse_mail_location(location, "alice@test.example", tmp.str());
  ASSERT_TRUE(parsed);
  UserTarget user = make_user(root, Layout::kFs);
  user.location = *parsed;
  MaildirWriter writer(FsyncMode::kOptimized);
  for (std::string name : {"", "a/b", "Dots.in", "top"}) {
    auto r = writer.save(memory_body("Subject: " + (name.empty() ? std::string("inbox") : name) + "\n\nx\n"), "",
                         user, MailboxRequest{name, MissingMailbox::kCreateAndSubscribe});
    ASSERT_TRUE(r) << r.error().log_reason;
  }
  const std::string base = "env HOME=" + shell_quote(tmp.str()) + " USER=dovetail-test " + doveadm + " -c " +
                           shell_quote(tmp.str() + "/dovecot.conf") + " -o " + shell_quote("mail_location=" + location) +
                           " -o mail_uid=" + std::to_string(user.uid) + " -o mail_gid=" + std::to_string(user.gid) + " ";
  int status = 0;
  auto boxes = lines(run(base + "-f tab mailbox list", &status));
  ASSERT_EQ(status, 0);
  std::sort(boxes.begin(), boxes.end());
  EXPECT_EQ(boxes, (std::vector<std::string>{"Dots.in", "INBOX", "a", "a/b", "mailbox", "top"}));
  auto subs = lines(run(base + "-f tab mailbox list -s", &status));
  std::sort(subs.begin(), subs.end());
  EXPECT_EQ(subs, (std::vector<std::string>{"Dots.in", "a/b", "mailbox", "top"}));
  auto rows = lines(run(base + "-f tab fetch 'mailbox hdr.subject size.physical' all", &status));
  ASSERT_EQ(status, 0);
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, (std::vector<std::string>{"Dots.in\tDots.in\t20", "INBOX\tinbox\t18", "a/b\ta/b\t16",
                                            "mailbox\thdr.subject\tsize.physical", "top\ttop\t16"}));
}

}  // namespace
}  // namespace dovetail::storage
