// config_reader_fuzz — arbitrary text through the Dovecot config reader, then through resolve()
// and the doveconf-like dump. Checks: no crash/UB/leak; a failed load is always a kConfig error
// whose message starts with the config's name and a line number.
// Inputs that could make the reader open files outside its temp dir (absolute/parent paths
// after `!include` or `<`) are skipped: reading /dev/zero is not a parser bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/config_dump.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A private cwd with two small files the input may include or read.
  char tmpl[] = "/tmp/dovetail-config-fuzz-XXXXXX";
  if (!::mkdtemp(tmpl) || ::chdir(tmpl) != 0) std::abort();
  std::ofstream("inc.conf") << "hostname = included\nplugin {\n  x = y\n}\n";
  std::ofstream("value.txt") << "file value";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  bool reads_files = in.find("include") != std::string_view::npos || in.find('<') != std::string_view::npos;
  if (reads_files && (in.find('/') != std::string_view::npos || in.find("..") != std::string_view::npos ||
                      in.find('~') != std::string_view::npos || in.find('{') != std::string_view::npos))
    return 0;  // '{' too: GLOB_BRACE could name other paths
  auto cfg = dovetail::config::load_config_string(in, "fuzz.conf");
  if (!cfg) {
    if (cfg.error().kind != dovetail::base::ErrorKind::kConfig) std::abort();
    if (cfg.error().message.rfind("fuzz.conf", 0) != 0 && cfg.error().message.find(".conf:") == std::string::npos)
      std::abort();
    return 0;
  }
  const auto& c = **cfg;
  for (const char* proto : {"lmtp", "lda", "imap"}) {
    auto s = c.resolve({proto, "10.1.2.3", "192.168.1.1"});
    if (!s) std::abort();
    auto t = c.resolve({proto, "::1", ""});
    if (!t) std::abort();
  }
  (void)dovetail::config::dump_config(c, dovetail::config::DumpScope::kChanged, dovetail::config::ShowSecrets::kNo);
  (void)dovetail::config::dump_config(c, dovetail::config::DumpScope::kAll, dovetail::config::ShowSecrets::kYes);
  (void)dovetail::config::dump_key(c, "service/lmtp/process_min_avail");
  return 0;
}
