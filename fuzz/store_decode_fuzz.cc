// libFuzzer harness for the store's decoding of what it reads back: rows
// written straight into a SQLite store's tables (as a damaged or forged file
// would hold them) are read with ReadForward, ReadStream and VerifyStore.
// Invariant: every outcome is a Status (corruption, a conflict, OK), never
// a crash or a sanitizer report.
//
// Input: fields separated by '\n'; the first seven fill one commits row
// (revision, committed_at, actor, reason, request_id, prev_hash, hash), the
// rest fill events rows seven at a time.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "app/verify.h"
#include "store/sqlite_event_store.h"

namespace {

std::vector<std::string_view> Fields(std::string_view text) {
  std::vector<std::string_view> out;
  while (true) {
    size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text = text.substr(nl + 1);
  }
  return out;
}

void Insert(sqlite3* db, const char* sql, const std::vector<std::string_view>& f, size_t at) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) return;
  for (int i = 0; i < 7; ++i) {
    std::string_view v = at + static_cast<size_t>(i) < f.size() ? f[at + i] : std::string_view();
    if (v == "NULL") {
      sqlite3_bind_null(stmt, i + 1);
    } else {
      sqlite3_bind_text(stmt, i + 1, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
  }
  sqlite3_step(stmt);  // a constraint may refuse the row: that is fine
  sqlite3_finalize(stmt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path =
      "/dev/shm/chronoconf-store-fuzz-" + std::to_string(getpid()) + ".db";
  unlink(path.c_str());
  unlink((path + "-wal").c_str());
  unlink((path + "-shm").c_str());
  {
    auto created = chronoconf::SqliteEventStore::Open(path);  // the schema
    if (!created) return 0;
  }
  auto fields = Fields(std::string_view(reinterpret_cast<const char*>(data), size));
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return 0;
  }
  Insert(db, "INSERT INTO commits VALUES (?,?,?,?,?,?,?)", fields, 0);
  for (size_t at = 7; at < fields.size(); at += 7) {
    Insert(db, "INSERT INTO events VALUES (?,?,?,?,?,?,?)", fields, at);
  }
  sqlite3_close(db);

  auto store = chronoconf::SqliteEventStore::Open(path);
  if (!store) return 0;
  auto commits = (*store)->ReadForward(0, 10);
  if (commits) {
    for (const auto& c : *commits) {
      for (const auto& e : c.events) (*store)->ReadStream(e.key).status().IgnoreError();
    }
  }
  chronoconf::VerifyReport report;
  chronoconf::VerifyStore(**store, &report, nullptr).IgnoreError();  // any verdict, no crash
  return 0;
}
