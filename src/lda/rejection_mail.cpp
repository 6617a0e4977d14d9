#include "lda/rejection_mail.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <random>
#include <string_view>
#include <vector>

#include "mail/trace_headers.hpp"

namespace dovetail::lda {
namespace {

std::string header_block(const mail::Spool& spool) {
  std::string out;
  char buf[16384];
  uint64_t off = 0;
  while (out.size() < 256 * 1024) {
    auto got = spool.read_at(off, buf, sizeof(buf));
    if (!got || *got == 0) break;
    out.append(buf, *got);
    off += *got;
    if (auto end = out.find("\n\n"); end != std::string::npos) {
      out.resize(end + 1);
      return out;
    }
  }
  return out;
}

std::string subject_of(std::string_view headers) {
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t eol = headers.find('\n', pos);
    if (eol == std::string_view::npos) eol = headers.size();
    auto line = headers.substr(pos, eol - pos);
    if (line.size() >= 8 && (line.substr(0, 8) == "Subject:" || line.substr(0, 8) == "subject:")) {
      auto v = line.substr(8);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    pos = eol + 1;
  }
  return "";
}

std::string hostname_of(const config::Settings& s) {
  if (!s.hostname.empty()) return s.hostname;
  char buf[256] = {};
  ::gethostname(buf, sizeof(buf) - 1);
  return buf;
}

}  // namespace

std::string rejection_message(const config::Settings& settings, const mail::Envelope& env,
                              const std::string& recipient, const std::string& reason,
                              const mail::Spool& original) {
  std::string host = hostname_of(settings);
  std::string postmaster = settings.postmaster_address.empty() ? "postmaster@" + host : settings.postmaster_address;
  std::string headers = header_block(original);
  std::string boundary = std::to_string(::getpid()) + "/" + host;
  std::string sender = env.mail_from.to_string();
  std::mt19937_64 rng(std::random_device{}());
  std::string out;
  out += "Message-ID: <dovetail." + std::to_string(rng()) + "@" + host + ">\n";
  out += "Date: " + mail::rfc5322_date(std::time(nullptr)) + "\n";
  out += "From: Mail Delivery Subsystem <" + postmaster + ">\n";
  out += "To: <" + sender + ">\n";
  out += "MIME-Version: 1.0\n";
  out += "Content-Type: multipart/report; report-type=disposition-notification;\n\tboundary=\"" + boundary + "\"\n";
  out += "Subject: Rejected: " + subject_of(headers) + "\n";
  out += "Auto-Submitted: auto-replied (rejected)\n";
  out += "Precedence: bulk\n\nThis is a MIME-encapsulated message\n\n";
  out += "--" + boundary + "\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: inline\n"
         "Content-Transfer-Encoding: 8bit\n\n";
  out += "Your message to <" + recipient + "> was automatically rejected:\n" + reason + "\n";
  out += "--" + boundary + "\nContent-Type: message/disposition-notification\n\n";
  out += "Reporting-UA: " + host + "; Dovetail Mail Delivery Agent\n";
  out += "Final-Recipient: rfc822; " + recipient + "\n";
  out += "Disposition: automatic-action/MDN-sent-automatically; deleted\n\n";
  out += "--" + boundary + "\nContent-Type: message/rfc822\n\n" + headers + "\n";
  out += "--" + boundary + "--\n";
  return out;
}

base::Status send_rejection(const config::Settings& settings, const mail::Envelope& env,
                            const std::string& recipient, const std::string& reason,
                            const mail::Spool& original) {
  if (env.null_sender) return {};  // never answer a bounce (RFC 3834)
  std::string text = rejection_message(settings, env, recipient, reason, original);
  std::string to = env.mail_from.to_string();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return base::fail(base::Error::from_errno(errno, "pipe"));
  pid_t pid = ::fork();
  if (pid < 0) return base::fail(base::Error::from_errno(errno, "fork"));
  if (pid == 0) {
    ::dup2(fds[0], STDIN_FILENO);
    const char* argv[] = {settings.sendmail_path.c_str(), "-i", "-f", "", "--", to.c_str(), nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(fds[0]);
  std::string_view rest(text);
  while (!rest.empty()) {
    ssize_t n = ::write(fds[1], rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    rest.remove_prefix(static_cast<size_t>(n));
  }
  ::close(fds[1]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return base::fail(base::Error::temporary(settings.sendmail_path + " failed with status " + std::to_string(status)));
  return {};
}

}  // namespace dovetail::lda
