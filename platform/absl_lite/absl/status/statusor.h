#pragma once
// absl_lite (Windows build only): absl::StatusOr<T>, a value or a non-OK Status.
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"

namespace absl {

template <typename T>
class StatusOr {
 public:
  StatusOr() : status_(StatusCode::kUnknown, "") {}
  StatusOr(const Status& s) : status_(s) {  // NOLINT: implicit, like Abseil
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "OK status given to StatusOr");
  }
  StatusOr(Status&& s) : status_(std::move(s)) {  // NOLINT
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "OK status given to StatusOr");
  }
  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, StatusOr>>>
  StatusOr(U&& value) : value_(std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  const T& value() const& { Check(); return *value_; }
  T& value() & { Check(); return *value_; }
  T&& value() && { Check(); return std::move(*value_); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  template <typename U>
  T value_or(U&& other) const& { return ok() ? *value_ : static_cast<T>(std::forward<U>(other)); }

 private:
  void Check() const {
    if (!ok()) std::abort();  // as Abseil: reading the value of an error is a bug
  }
  Status status_;
  std::optional<T> value_;
};

}  // namespace absl
