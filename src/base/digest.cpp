#include "base/digest.hpp"

#include <openssl/evp.h>

#include <array>
#include <utility>

namespace dovetail::base {
namespace {

const EVP_MD* method_md(std::string_view method) {
  static constexpr std::array<std::pair<std::string_view, const EVP_MD* (*)()>, 7> kMethods{{
      {"md5", EVP_md5},
      {"sha1", EVP_sha1},
      {"sha256", EVP_sha256},
      {"sha384", EVP_sha384},
      {"sha512", EVP_sha512},
      {"sha3-256", EVP_sha3_256},
      {"sha3-512", EVP_sha3_512},
  }};
  for (const auto& [name, md] : kMethods)
    if (name == method) return md();
  return nullptr;
}

}  // namespace

bool is_digest_method(std::string_view method) { return method_md(method) != nullptr; }

std::optional<std::string> digest(std::string_view method, std::string_view data) {
  const EVP_MD* md = method_md(method);
  if (md == nullptr) return std::nullopt;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string md5_hex(std::string_view data) { return to_hex(digest("md5", data).value_or(std::string())); }

std::string to_hex(std::string_view bytes, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

std::string to_base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

}  // namespace dovetail::base
