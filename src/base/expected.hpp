// expected.hpp — base::Expected / base::Unexpected: std::expected where the compiler has it.
//
// Why a fallback exists: the fuzz build uses clang 14 (libFuzzer), and Debian 12's clang 14
// cannot compile libstdc++ 12's <expected> (it needs P0848 conditionally trivial special
// members, clang 16). The fallback below is the minimal subset the project uses; g++ builds
// (release, asan, CI) always get the real std::expected. Project code writes base::Result /
// base::Status / base::fail(), never std::expected directly. See docs/decisions/0001.
// Depends on: std only.
#pragma once

#include <version>

#if defined(__cpp_lib_expected)
#include <expected>

namespace dovetail::base {
template <class T, class E>
using Expected = std::expected<T, E>;
template <class E>
using Unexpected = std::unexpected<E>;
}  // namespace dovetail::base

#else
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace dovetail::base {

template <class E>
class Unexpected {
 public:
  explicit Unexpected(E e) : e_(std::move(e)) {}
  E& error() & { return e_; }
  const E& error() const& { return e_; }
  E&& error() && { return std::move(e_); }

 private:
  E e_;
};

template <class T, class E>
class Expected {
 public:
  using value_type = T;
  using error_type = E;
  Expected() : v_(std::in_place_index<0>) {}
  template <class U = T,
            class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                     !std::is_same_v<std::decay_t<U>, Expected> &&
                                     !std::is_same_v<std::decay_t<U>, Unexpected<E>>>>
  Expected(U&& v) : v_(std::in_place_index<0>, std::forward<U>(v)) {}
  template <class G>
  Expected(Unexpected<G> u) : v_(std::in_place_index<1>, std::move(u.error())) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  E& error() & { return std::get<1>(v_); }
  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }
  template <class U>
  T value_or(U&& d) const& { return has_value() ? **this : static_cast<T>(std::forward<U>(d)); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class Expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;
  Expected() = default;
  template <class G>
  Expected(Unexpected<G> u) : e_(std::move(u.error())) {}
  bool has_value() const { return !e_.has_value(); }
  explicit operator bool() const { return has_value(); }
  void operator*() const {}
  void value() const {}
  E& error() & { return *e_; }
  const E& error() const& { return *e_; }
  E&& error() && { return std::move(*e_); }

 private:
  std::optional<E> e_;
};

}  // namespace dovetail::base
#endif
