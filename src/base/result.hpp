// result.hpp — the error-as-value vocabulary used at every module boundary.
//
// Purpose: `Result<T>` = std::expected<T, Error> (via base/expected.hpp). An Error carries a category (so callers can
// classify without parsing text), the errno when one caused it, and a human message.
// Depends on: std only. Threading: plain values.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "base/expected.hpp"

namespace dovetail::base {

enum class ErrorKind {
  kInvalidInput,   // the caller handed us something malformed (parse errors, bad arguments)
  kNotFound,       // the thing asked for does not exist (user, file, key)
  kTemporary,      // may succeed later: backend down, I/O error, resource exhausted
  kPermanent,      // will not succeed on retry, with a stated reason
  kConfig,         // configuration error; message is "file:line: text"
  kInternal,       // a bug: an invariant did not hold
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  int sys_errno = 0;    // errno that caused it, 0 when none
  std::string message;  // human readable, no trailing newline

  static Error invalid(std::string msg) { return {ErrorKind::kInvalidInput, 0, std::move(msg)}; }
  static Error not_found(std::string msg) { return {ErrorKind::kNotFound, 0, std::move(msg)}; }
  static Error temporary(std::string msg) { return {ErrorKind::kTemporary, 0, std::move(msg)}; }
  static Error permanent(std::string msg) { return {ErrorKind::kPermanent, 0, std::move(msg)}; }
  static Error config(std::string msg) { return {ErrorKind::kConfig, 0, std::move(msg)}; }
  static Error internal(std::string msg) { return {ErrorKind::kInternal, 0, std::move(msg)}; }
  // From errno: kind is kTemporary (storage classifies errno precisely in its own table).
  static Error from_errno(int err, std::string what) {
    return {ErrorKind::kTemporary, err, std::move(what) + ": " + std::strerror(err)};
  }
};

template <class T>
using Result = Expected<T, Error>;

using Status = Expected<void, Error>;

inline Unexpected<Error> fail(Error e) { return Unexpected<Error>(std::move(e)); }

}  // namespace dovetail::base
