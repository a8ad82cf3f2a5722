#include "store/memory_event_store.h"

#include "store/commit_hash.h"

namespace chronoconf {

template <typename Commits>
Status MemoryEventStore::CheckVersionsLocked(const Commits& commits,
                                             std::map<std::string, int64_t, std::less<>>* next) {
  auto version_of = [&](const std::string& key) REQUIRES(mu_) {
    if (auto it = next->find(key); it != next->end()) return it->second;
    auto v = versions_.find(key);
    return v != versions_.end() ? v->second : int64_t{0};
  };
  for (const auto& c : commits) {
    if constexpr (requires { c.reads; }) {  // CommitData; copies have none
      for (const ReadCheck& r : c.reads) {
        const int64_t current = version_of(r.key);
        if (current != r.version) return Status::Conflict({r.key, r.version, current});
      }
    }
    for (const Event& e : c.events) {
      auto it = next->find(e.key);
      int64_t current = 0;
      if (it != next->end()) {
        current = it->second;
      } else if (auto v = versions_.find(e.key); v != versions_.end()) {
        current = v->second;
      }
      if (e.version != current + 1) {
        return Status::Conflict({e.key, e.version - 1, current});
      }
      (*next)[e.key] = e.version;
    }
  }
  return Status::OK();
}

namespace {

// What a commit holds in memory, counting its texts only (SizeBytes).
int64_t TextBytes(const RecordedCommit& c) {
  size_t n = c.meta.actor.size() + c.meta.reason.value_or("").size() +
             c.meta.request_id.value_or("").size() + c.prev_hash.size() + c.hash.size();
  for (const Event& e : c.events) {
    n += e.key.size() + e.value.value_or("").size() + e.previous_value.value_or("").size();
  }
  return static_cast<int64_t>(n);
}

}  // namespace

Result<std::vector<RecordedCommit>> MemoryEventStore::Append(
    const std::vector<CommitData>& commits) {
  MutexLock lock(&mu_);
  // Check every expectation first so that a failure writes nothing.
  std::map<std::string, int64_t, std::less<>> next;
  if (Status s = CheckVersionsLocked(commits, &next); !s.ok()) return s;
  for (size_t i = 0; i < commits.size(); ++i) {
    const auto head = static_cast<int64_t>(commits_.size() + i);
    if (Status s = CheckExpectedHead(commits[i], head); !s.ok()) return s;
  }
  std::vector<RecordedCommit> out;
  for (const CommitData& c : commits) {
    int64_t prev_time = commits_.empty() ? 0 : commits_.back().timestamp_us;
    const std::string& prev_hash = commits_.empty() ? kZeroHash : commits_.back().hash;
    commits_.push_back(SealCommit(c, static_cast<int64_t>(commits_.size()) + 1,
                                  clock_->NowMicros(), prev_time, prev_hash));
    bytes_ += TextBytes(commits_.back());
    out.push_back(commits_.back());
  }
  for (auto& [key, version] : next) versions_[key] = version;
  return out;
}

Status MemoryEventStore::AppendRecorded(const std::vector<RecordedCommit>& commits) {
  MutexLock lock(&mu_);
  std::map<std::string, int64_t, std::less<>> next;
  if (Status s = CheckVersionsLocked(commits, &next); !s.ok()) return s;
  int64_t revision = static_cast<int64_t>(commits_.size());
  std::string hash = commits_.empty() ? kZeroHash : commits_.back().hash;
  int64_t time = commits_.empty() ? 0 : commits_.back().timestamp_us;
  for (const RecordedCommit& c : commits) {
    if (Status s = CheckRecordedCommit(c, revision, hash, time); !s.ok()) return s;
    revision = c.revision;
    hash = c.hash;
    time = c.timestamp_us;
  }
  commits_.insert(commits_.end(), commits.begin(), commits.end());
  for (const RecordedCommit& c : commits) bytes_ += TextBytes(c);
  for (auto& [key, version] : next) versions_[key] = version;
  return Status::OK();
}

Result<std::vector<RecordedCommit>> MemoryEventStore::ReadForward(int64_t after, size_t limit) {
  MutexLock lock(&mu_);
  std::vector<RecordedCommit> out;
  for (size_t i = static_cast<size_t>(std::max<int64_t>(after, 0));
       i < commits_.size() && out.size() < limit; ++i) {
    out.push_back(commits_[i]);
  }
  return out;
}

Result<std::vector<StreamEvent>> MemoryEventStore::ReadStream(std::string_view key) {
  MutexLock lock(&mu_);
  std::vector<StreamEvent> out;
  for (const RecordedCommit& c : commits_) {
    for (const Event& e : c.events) {
      if (e.key == key) out.push_back({c.revision, e});
    }
  }
  return out;
}

Result<StoreHead> MemoryEventStore::ReadHead() {
  MutexLock lock(&mu_);
  if (commits_.empty()) return StoreHead{};
  return StoreHead{commits_.back().revision, commits_.back().hash, commits_.back().timestamp_us};
}

}  // namespace chronoconf
