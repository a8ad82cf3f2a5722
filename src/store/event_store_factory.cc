#include <filesystem>

#include <fmt/format.h>

#include "store/memory_event_store.h"
#include "store/postgres_event_store.h"
#include "store/sqlite_event_store.h"

namespace chronoconf {

namespace {

// The file of a sqlite: URL, "" for other URLs.
std::string SqlitePath(const std::string& url) {
  if (!url.starts_with("sqlite:")) return "";
  std::string path = url.substr(7);
  if (path.starts_with("//")) path = path.substr(2);  // sqlite://PATH
  return path;
}

}  // namespace

std::string DefaultSnapshotPath(const std::string& url) {
  std::string path = SqlitePath(url);
  return path.empty() ? "" : path + ".snapshot";
}

Result<std::unique_ptr<EventStore>> OpenEventStore(const std::string& url, Clock* clock,
                                                   StoreAccess access) {
  const bool read_only = access == StoreAccess::kReadOnly;
  if (url == "memory:" || url == "memory") {
    return std::unique_ptr<EventStore>(std::make_unique<MemoryEventStore>(clock));
  }
  if (url.starts_with("sqlite:")) {
    std::string path = SqlitePath(url);
    if (path.empty()) return Status::InvalidRequest("sqlite: needs a path (sqlite:PATH)");
    if (read_only) {
      auto store = SqliteEventStore::OpenReadOnly(path, clock);
      if (!store) return store.status();
      return std::unique_ptr<EventStore>(std::move(*store));
    }
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    auto store = SqliteEventStore::Open(path, clock);
    if (!store) return store.status();
    return std::unique_ptr<EventStore>(std::move(*store));
  }
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    auto store = read_only ? PostgresEventStore::OpenReadOnly(url, clock)
                           : PostgresEventStore::Open(url, clock);
    if (!store) return store.status();
    return std::unique_ptr<EventStore>(std::move(*store));
  }
  return Status::InvalidRequest(fmt::format(
      "unknown store URL '{}': use sqlite:PATH, postgres://... or memory:", url));
}

}  // namespace chronoconf
