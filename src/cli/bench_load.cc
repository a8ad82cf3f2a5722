// bench load: a history of single-key writes, appended straight into a store.
//
// Every commit is what one `PUT /v1/kv/{key}` of a ~100-byte JSON object
// would have recorded: one ConfigSet event, actor "bench", a 32-hex-digit
// request id, the key's next version and, as previous_value, the value the
// key had. Keys take turns (`prefix`k00000, k00001, …), so with 10,000 keys
// and 1,000,000 events every key gets 100 versions. Commits go to the store
// `batch` at a time, one EventStore::Append (one transaction, one fsync)
// each, which is what lets a million events load in seconds.
//
// The store may already hold commits: the load appends after them, starting
// each of its keys from the version and value the store holds for it (read
// with ReadStream), so the store's version checks pass and `chronoconf
// verify` still holds. It claims the store as its sole writer, as `serve`
// does, so it refuses a SQLite file a server is serving.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/bench_command.h"
#include "cli/progress_bar.h"
#include "store/event_store.h"

namespace chronoconf::cli {
namespace {

// A minified JSON object of about `bytes` bytes (exactly, when `bytes` is
// above the ~95 bytes of its fixed members), different for every `seq`.
std::string BenchValue(int64_t key_index, int64_t seq, size_t bytes) {
  std::string v = fmt::format(
      R"({{"service":"svc-{:03}","feature":"flag-{:05}","enabled":{},"rollout":{},"seq":{},"note":")",
      key_index % 1000, key_index, seq % 2 == 0 ? "true" : "false", seq % 101, seq);
  constexpr size_t kClose = 2;  // "}
  for (size_t i = 0; v.size() + kClose < bytes; ++i) {
    v.push_back(static_cast<char>('a' + (static_cast<size_t>(seq) + i * 7) % 26));
  }
  v += "\"}";
  return v;
}

struct KeyCursor {
  int64_t version = 0;                 // events in the key's stream so far
  std::optional<std::string> value;    // current value; nullopt when absent
};

}  // namespace

int RunBenchLoad(const BenchLoadOptions& o) {
  if (o.keys < 1 || o.events < 0 || o.batch < 1 || o.value_bytes < 1) {
    std::cerr << "error: --keys and --batch must be at least 1, --events at least 0\n";
    return 2;
  }
  auto opened = OpenEventStore(o.store);
  if (!opened) {
    std::cerr << "error: cannot open --store " << o.store << ": " << opened.status().message()
              << "\n";
    return 1;
  }
  EventStore& store = **opened;
  if (Status s = store.ClaimSoleWriter(); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  auto head = store.ReadHead();
  if (!head) {
    std::cerr << "error: cannot read the store's head: " << head.status().message() << "\n";
    return 1;
  }

  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(o.keys));
  for (int64_t k = 0; k < o.keys; ++k) names.push_back(fmt::format("{}k{:05}", o.prefix, k));
  std::vector<KeyCursor> cursors(static_cast<size_t>(o.keys));
  if (head->revision > 0) {
    // Not empty: continue each key where the store has it.
    for (size_t k = 0; k < names.size(); ++k) {
      auto stream = store.ReadStream(names[k]);
      if (!stream) {
        std::cerr << "error: cannot read " << names[k] << ": " << stream.status().message()
                  << "\n";
        return 1;
      }
      if (stream->empty()) continue;
      const Event& last = stream->back().event;
      cursors[k].version = last.version;
      if (last.type == EventType::kConfigSet) cursors[k].value = last.value;
    }
  }

  bool tty = isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  int64_t written = 0;
  int64_t last_revision = head->revision;
  std::vector<CommitData> batch;
  batch.reserve(static_cast<size_t>(std::min(o.batch, std::max<int64_t>(o.events, 1))));
  while (written < o.events) {
    batch.clear();
    int64_t n = std::min(o.batch, o.events - written);
    for (int64_t i = 0; i < n; ++i) {
      int64_t seq = written + i;
      size_t k = static_cast<size_t>(seq % o.keys);
      KeyCursor& cur = cursors[k];
      CommitData c;
      c.meta.actor = "bench";
      c.meta.request_id = fmt::format("{:016x}{:016x}", head->revision, seq);
      Event e;
      e.type = EventType::kConfigSet;
      e.key = names[k];
      e.version = cur.version + 1;
      e.value = BenchValue(static_cast<int64_t>(k), head->revision + seq,
                           static_cast<size_t>(o.value_bytes));
      e.previous_value = cur.value;
      cur.version = e.version;
      cur.value = e.value;
      c.events.push_back(std::move(e));
      batch.push_back(std::move(c));
    }
    auto appended = store.Append(batch);
    if (!appended) {
      if (tty) std::cerr << "\n";
      std::cerr << "error: append failed after " << written
                << " events: " << appended.status().message() << "\n";
      return 1;
    }
    written += n;
    if (!appended->empty()) last_revision = appended->back().revision;
    if (tty) std::cerr << ProgressBar(written, o.events, "events") << std::flush;
  }
  if (tty && written > 0) std::cerr << "\n";
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double rate = seconds > 0 ? static_cast<double>(written) / seconds : 0;
  std::cout << fmt::format(
      "wrote {} events ({} commits of one ConfigSet, {} keys, ~{}-byte values) to the {} store "
      "in {:.2f} s: {:.0f} events/s; head revision {}\n",
      written, written, o.keys, o.value_bytes, store.kind(), seconds, rate, last_revision);
  std::cout << fmt::format(
      "BENCH-LOAD events={} keys={} value_bytes={} batch={} seconds={:.3f} events_per_s={:.0f} "
      "head={} store={}\n",
      written, o.keys, o.value_bytes, o.batch, seconds, rate, last_revision, store.kind());
  return 0;
}

}  // namespace chronoconf::cli
