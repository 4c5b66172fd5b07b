#pragma once
// absl_lite (Windows build only): absl::Status, its codes and factory functions.
#include <ostream>
#include <string>
#include <string_view>

namespace absl {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

std::string StatusCodeToString(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string_view message)
      : code_(code), message_(code == StatusCode::kOk ? std::string() : std::string(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  std::string_view message() const { return message_; }
  // "OK" or "INVALID_ARGUMENT: message", as Abseil prints it.
  std::string ToString() const;
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }
  friend bool operator!=(const Status& a, const Status& b) { return !(a == b); }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

inline Status OkStatus() { return Status(); }
inline Status CancelledError(std::string_view m) { return Status(StatusCode::kCancelled, m); }
inline Status UnknownError(std::string_view m) { return Status(StatusCode::kUnknown, m); }
inline Status InvalidArgumentError(std::string_view m) { return Status(StatusCode::kInvalidArgument, m); }
inline Status DeadlineExceededError(std::string_view m) { return Status(StatusCode::kDeadlineExceeded, m); }
inline Status NotFoundError(std::string_view m) { return Status(StatusCode::kNotFound, m); }
inline Status AlreadyExistsError(std::string_view m) { return Status(StatusCode::kAlreadyExists, m); }
inline Status PermissionDeniedError(std::string_view m) { return Status(StatusCode::kPermissionDenied, m); }
inline Status ResourceExhaustedError(std::string_view m) { return Status(StatusCode::kResourceExhausted, m); }
inline Status FailedPreconditionError(std::string_view m) { return Status(StatusCode::kFailedPrecondition, m); }
inline Status AbortedError(std::string_view m) { return Status(StatusCode::kAborted, m); }
inline Status OutOfRangeError(std::string_view m) { return Status(StatusCode::kOutOfRange, m); }
inline Status UnimplementedError(std::string_view m) { return Status(StatusCode::kUnimplemented, m); }
inline Status InternalError(std::string_view m) { return Status(StatusCode::kInternal, m); }
inline Status UnavailableError(std::string_view m) { return Status(StatusCode::kUnavailable, m); }
inline Status DataLossError(std::string_view m) { return Status(StatusCode::kDataLoss, m); }
inline Status UnauthenticatedError(std::string_view m) { return Status(StatusCode::kUnauthenticated, m); }

inline bool IsInvalidArgument(const Status& s) { return s.code() == StatusCode::kInvalidArgument; }
inline bool IsNotFound(const Status& s) { return s.code() == StatusCode::kNotFound; }
inline bool IsPermissionDenied(const Status& s) { return s.code() == StatusCode::kPermissionDenied; }
inline bool IsUnavailable(const Status& s) { return s.code() == StatusCode::kUnavailable; }
inline bool IsUnimplemented(const Status& s) { return s.code() == StatusCode::kUnimplemented; }

}  // namespace absl
