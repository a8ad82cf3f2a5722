// Result<T>: a value or a non-OK Status (std::expected is C++23; we are C++20).
//
//   Result<Entry> r = projection.Get(key);
//   if (!r) return r.status();
//   Use(*r);
#ifndef CHRONOCONF_COMMON_RESULT_H_
#define CHRONOCONF_COMMON_RESULT_H_

#include <cassert>
#include <optional>
#include <utility>

#include "common/status.h"

namespace chronoconf {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // A Result made from an OK status would hold neither a value nor an error;
  // that is a bug, reported as kInternal in every build (not only by assert).
  Result(Status status)  // NOLINT: implicit by design
      : status_(status.ok() ? Status::Internal("a Result was made from an OK status")
                            : std::move(status)) {
    assert(!status_.ok());
  }

  explicit operator bool() const { return value_.has_value(); }
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_RESULT_H_
