// Clock: the one place chronoconf reads the time, so tests can control it
// (leveldb's Env::NowMicros). Times are microseconds since the Unix epoch, UTC.
//
// Thread safety: implementations are safe for concurrent use.
#ifndef CHRONOCONF_COMMON_CLOCK_H_
#define CHRONOCONF_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace chronoconf {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
};

// The system's real-time clock.
class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  static SystemClock* Default();
};

// A clock that only moves when told to (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now) : now_(now) {}
  int64_t NowMicros() const override { return now_.load(); }
  void Set(int64_t now) { now_.store(now); }
  void Advance(int64_t micros) { now_.fetch_add(micros); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_CLOCK_H_
