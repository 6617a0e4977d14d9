#include "config/config.hpp"

#include <sys/stat.h>

#include <algorithm>

#include <openssl/evp.h>

#include "config/config_parser.hpp"
#include "config/settings_builder.hpp"
#include "config/settings_table.hpp"
#include "config/value_parse.hpp"

namespace dovetail::config {
namespace {

bool matches(const FilterSpec& spec, const Filter& f) {
  // local_name blocks select by TLS SNI name, which LMTP connections do not send.
  if (!spec.local_name.empty()) return false;
  if (!spec.protocol.empty()) {
    if (spec.protocol.front() == '!') {
      if (f.protocol == std::string_view(spec.protocol).substr(1)) return false;
    } else if (spec.protocol != f.protocol) {
      return false;
    }
  }
  if (spec.local && !spec.local->contains(f.local_ip)) return false;
  if (spec.remote && !spec.remote->contains(f.remote_ip)) return false;
  return true;
}

// Applies the given blocks (already in less-specific-first order) on top of `base`.
base::Result<Settings> apply_blocks(const Settings& base, const ConfigTree& tree, const std::vector<size_t>& blocks) {
  Settings s = base;
  for (size_t i : blocks)
    if (auto st = apply_body(s, tree.filters[i].body, nullptr); !st) return base::fail(st.error());
  if (auto st = check(s); !st) return base::fail(base::Error::config(tree.source + ": " + st.error().message));
  return s;
}

std::vector<size_t> sorted_by_specificity(const ConfigTree& tree, std::vector<size_t> idx) {
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    return tree.filters[a].spec.less_specific_than(tree.filters[b].spec);
  });
  return idx;
}

const Assignment* find_true(const Section& body, std::string_view key) {
  const Assignment* a = body.find(key);
  std::string err;
  return a && parse_bool(a->value, err).value_or(false) ? a : nullptr;
}

// lmtp_proxy = yes is honoured only as far as is safe (deliver/engine.cpp): recipients the
// passdb routes elsewhere (proxy=y) are deferred with 451, never delivered here. Say so once,
// at the first place that turns it on, so the admin does not wait for proxied mail.
void warn_about_partial_keys(ConfigTree& tree) {
  const Assignment* on = find_true(tree.root, "lmtp_proxy");
  for (size_t i = 0; !on && i < tree.filters.size(); ++i) on = find_true(tree.filters[i].body, "lmtp_proxy");
  if (on)
    tree.warnings.push_back(on->file + ":" + std::to_string(on->line) +
                            ": lmtp_proxy = yes: proxying is not implemented yet; a recipient whose "
                            "passdb answer has proxy=y gets 451 4.3.0 (the MTA retries), all others "
                            "are delivered locally");
}

base::Result<ConfigPtr> build(base::Result<ConfigTree> parsed) {
  if (!parsed) return base::fail(parsed.error());
  ConfigTree tree = std::move(*parsed);
  std::vector<std::string> ignored;
  Settings s = default_settings();
  if (auto st = apply_body(s, tree.root, &ignored); !st) return base::fail(st.error());
  if (auto st = check(s); !st) return base::fail(base::Error::config(tree.source + ": " + st.error().message));
  // Validate every block now so resolve() cannot fail later: each block alone, and each with
  // everything less specific that could co-apply is covered by the same per-key checks.
  for (size_t i = 0; i < tree.filters.size(); ++i) {
    Settings probe = s;
    if (auto st = apply_body(probe, tree.filters[i].body, &ignored); !st) return base::fail(st.error());
    if (auto st = check(probe); !st) return base::fail(base::Error::config(tree.source + ": " + st.error().message));
  }
  warn_about_partial_keys(tree);
  auto global = std::make_shared<const Settings>(std::move(s));
  return std::make_shared<const Config>(std::move(tree), std::move(global), std::move(ignored));
}

}  // namespace

Config::Config(ConfigTree tree, SettingsPtr global, std::vector<std::string> ignored)
    : tree_(std::move(tree)), global_(std::move(global)), ignored_(std::move(ignored)) {}

const std::string& Config::digest() const {
  std::call_once(digest_once_, [this] {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(tree_.inputs.data(), tree_.inputs.size(), md, &len, EVP_sha256(), nullptr) != 1) return;
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) {
      digest_.push_back(kHex[md[i] >> 4]);
      digest_.push_back(kHex[md[i] & 15]);
    }
  });
  return digest_;
}

SettingsPtr Config::resolve(const Filter& filter) const {
  if (tree_.filters.empty()) return global_;
  std::vector<size_t> hit;
  for (size_t i = 0; i < tree_.filters.size(); ++i)
    if (matches(tree_.filters[i].spec, filter)) hit.push_back(i);
  if (hit.empty()) return global_;
  std::lock_guard lock(mu_);
  auto it = cache_.find(hit);
  if (it != cache_.end()) return it->second;
  auto applied = apply_blocks(*global_, tree_, sorted_by_specificity(tree_, hit));
  // A combination failing a cross-key check falls back to the validated global snapshot
  // rather than failing a connection (each block was checked alone at load).
  SettingsPtr snap = applied ? std::make_shared<const Settings>(std::move(*applied)) : global_;
  cache_.emplace(std::move(hit), snap);
  return snap;
}

base::Result<ConfigPtr> load_config_file(const std::string& path) { return build(parse_config_file(path)); }

base::Result<ConfigPtr> load_config_string(std::string_view text, const std::string& name) {
  return build(parse_config_string(text, name));
}

std::string default_config_path() {
  struct stat st {};
  const char* p = "/etc/dovetail/dovetail.conf";
  return ::stat(p, &st) == 0 ? p : "";
}

std::string embedded_default_config(RunningAsRoot running_as_root) {
  const std::string dir = DOVETAIL_CHECKOUT_DIR;
  std::string c;
  c += "# Dovetail's embedded default (dovetail config -n shows it): a local demo server.\n";
  c += "protocols = lmtp\n";
  c += "base_dir = " + dir + "/var/run\n";
  c += "mail_location = maildir:" + dir + "/var/mail/%d/%n/Maildir\n";
  c += "log_path = /dev/stderr\n";
  if (running_as_root == RunningAsRoot::kYes) {
    c += "# never deliver as uid 0: the demo script creates this system user\n";
    c += "mail_uid = dovetail\n";
    c += "mail_gid = dovetail\n";
  }
  c += "service lmtp {\n";
  c += "  inet_listener lmtp {\n";
  c += "    address = 127.0.0.1\n";
  c += "    port = 2424\n";
  c += "  }\n";
  c += "  unix_listener lmtp {\n";
  c += "    mode = 0666\n";
  c += "  }\n";
  c += "}\n";
  c += "userdb {\n";
  c += "  driver = static\n";
  c += "  args = allow_all_users=yes\n";
  c += "}\n";
  return c;
}

}  // namespace dovetail::config
