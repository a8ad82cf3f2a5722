// Snapshots of the read model: its rows up to a revision, in one file, so a
// restart reads one file instead of replaying the whole log.
//
// The file (little-endian, as this machine writes it):
//   "CCSNAP1\n"
//   u64 commits, u64 events, u64 keys, u64 actors
//   actors   u32 length + bytes, each
//   keys     u32 length + bytes, each (in the order they were first written)
//   commits  i64 time, u64 first event, 32-byte hash, u32 actor,
//            reason and request id as u32 length + bytes (kAbsent: none)
//   events   i64 revision, i64 version, i64 created revision, u32 key,
//            u32 type (EventType), i64 lease (0: none),
//            value as u32 length + bytes (kAbsent: a delete)
//   32-byte HMAC-SHA256 of everything before it, under the store's key
// The MAC, not a plain digest: whoever can write the file could recompute a
// digest, and a snapshot is served without replaying the events it stands
// for. Format 1 ("CCSNAP1\n", a SHA-256) and format 2 ("CCSNAP2\n", no event
// types or leases) are refused, and rebuilt.
// Everything derived (per-key indexes, previous values, head entries) is
// rebuilt on load. The same read model always gives the same bytes, so
// verify compares a snapshot with the one rebuilt from the log byte for byte.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <unordered_set>

#include <fmt/format.h>

#include "common/sha256.h"
#include "domain/system_stream.h"
#include "projection/projection.h"

namespace chronoconf {
namespace {

constexpr std::string_view kMagic = "CCSNAP3\n";
constexpr std::string_view kMagicV1 = "CCSNAP1\n";
constexpr std::string_view kMagicV2 = "CCSNAP2\n";
constexpr uint32_t kAbsent = UINT32_MAX;
constexpr size_t kHashBytes = 32;
constexpr size_t kFlushAt = size_t{1} << 20;

// Appends fixed-width numbers and texts, MACing and handing the bytes to
// `sink` a megabyte at a time.
class Encoder {
 public:
  Encoder(std::function<Status(std::string_view)> sink, std::string_view key)
      : sink_(std::move(sink)), hash_(key) {}

  void U32(uint32_t v) { Put(&v, sizeof v); }
  void U64(uint64_t v) { Put(&v, sizeof v); }
  void I64(int64_t v) { Put(&v, sizeof v); }
  void Raw(std::string_view bytes) {
    buf_.append(bytes);
    if (buf_.size() >= kFlushAt) Flush();
  }
  void Text(std::string_view t) {
    U32(static_cast<uint32_t>(t.size()));
    Raw(t);
  }
  void Optional(const char* data, uint32_t size) {
    if (!data) return U32(kAbsent);
    Text(std::string_view(data, size));
  }
  // Writes the trailer and what is left. Errors: the sink's first.
  Status Finish() {
    Flush();
    std::string digest = hash_.Finish();
    if (status_.ok()) status_ = sink_(digest);
    return status_;
  }

 private:
  void Put(const void* p, size_t n) { Raw(std::string_view(static_cast<const char*>(p), n)); }
  void Flush() {
    hash_.Update(buf_);
    if (status_.ok()) status_ = sink_(buf_);
    buf_.clear();
  }

  std::function<Status(std::string_view)> sink_;
  std::string buf_;
  HmacSha256Stream hash_;
  Status status_;
};

// Reads what Encoder wrote; any read past the end sets !ok().
class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  size_t left() const { return data_.size() - pos_; }

  uint32_t U32() { return Get<uint32_t>(); }
  uint64_t U64() { return Get<uint64_t>(); }
  int64_t I64() { return Get<int64_t>(); }
  std::string_view Raw(size_t n) {
    if (!ok_ || left() < n) {
      ok_ = false;
      return {};
    }
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::string_view Text() { return Raw(U32()); }
  // nullopt for kAbsent.
  std::optional<std::string_view> Optional() {
    uint32_t n = U32();
    if (n == kAbsent) return std::nullopt;
    return Raw(n);
  }

 private:
  template <typename T>
  T Get() {
    T v{};
    std::string_view b = Raw(sizeof v);
    if (ok_) std::memcpy(&v, b.data(), sizeof v);
    return v;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Unavailable(fmt::format("writing the snapshot: {}", strerror(errno)));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

}  // namespace

Result<std::string> Projection::ReadSnapshotFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound(fmt::format("no snapshot at {}", path));
    return Status::Unavailable(fmt::format("cannot open the snapshot {}: {}", path, strerror(errno)));
  }
  // A directory opens too, and its "size" is no size at all (seeking to its
  // end gave 2^63 - 1 on ext4, and a std::bad_alloc).
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Unavailable(fmt::format("the snapshot {} is not a regular file", path));
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  ssize_t n = ::pread(fd, out.data(), out.size(), 0);
  int err = errno;
  ::close(fd);
  if (n < 0 || static_cast<size_t>(n) != out.size()) {
    return Status::Corruption(fmt::format("cannot read the snapshot {}: {}", path,
                                          n < 0 ? strerror(err) : "it changed while read"));
  }
  return out;
}

Status Projection::EncodeSnapshot(const std::function<Status(std::string_view)>& sink,
                                  std::string_view key, int64_t* revision) const {
  Encoder enc(sink, key);
  // Learn how many rows exist under the lock; those rows never change, so
  // they are read without it while Apply goes on.
  size_t nc, ne, nk, na;
  {
    ReaderLock lock(&mu_);
    nc = commits_.size();
    ne = events_.size();
    nk = key_names_.size();
    na = actor_names_.size();
  }
  enc.Raw(kMagic);
  enc.U64(nc);
  enc.U64(ne);
  enc.U64(nk);
  enc.U64(na);
  for (size_t i = 0; i < na; ++i) enc.Text(actor_names_[i]);
  for (size_t i = 0; i < nk; ++i) enc.Text(key_names_[i]);
  for (size_t i = 0; i < nc; ++i) {
    const CommitRow& c = commits_[i];
    enc.I64(c.timestamp_us);
    enc.U64(c.first_event);
    enc.Raw(std::string_view(reinterpret_cast<const char*>(c.hash.data()), c.hash.size()));
    enc.U32(c.actor);
    enc.Optional(c.reason.data, c.reason.size);
    enc.Optional(c.request_id.data, c.request_id.size);
  }
  for (size_t i = 0; i < ne; ++i) {
    const EventRow& ev = events_[i];
    enc.I64(ev.revision);
    enc.I64(ev.version);
    enc.I64(ev.created_revision);
    enc.U32(ev.key);
    enc.U32(static_cast<uint32_t>(ev.type));
    enc.I64(ev.lease);
    enc.Optional(ev.value, ev.value_len);
  }
  *revision = static_cast<int64_t>(nc);
  return enc.Finish();
}

std::optional<int64_t> Projection::SnapshotRevision(std::string_view bytes) {
  if (!bytes.starts_with(kMagic)) return std::nullopt;
  Decoder d(bytes.substr(kMagic.size()));
  const uint64_t revision = d.U64();  // the commit count: the last revision
  if (!d.ok() || revision > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(revision);
}

std::string Projection::SerializeSnapshot(std::string_view key) const {
  std::string out;
  int64_t revision = 0;
  EncodeSnapshot(
      [&out](std::string_view b) {
        out.append(b);
        return Status::OK();
      },
      key, &revision)
      .IgnoreError();  // appending to a string cannot fail
  return out;
}

Result<int64_t> Projection::WriteSnapshot(const std::string& path, std::string_view key) const {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Unavailable(fmt::format("cannot create {}: {}", tmp, strerror(errno)));
  }
  int64_t revision = 0;
  Status s = EncodeSnapshot([fd](std::string_view b) { return WriteAll(fd, b); }, key, &revision);
  if (s.ok() && ::fsync(fd) != 0) {
    s = Status::Unavailable(fmt::format("fsync of {}: {}", tmp, strerror(errno)));
  }
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::Unavailable(fmt::format("cannot rename {} to {}: {}", tmp, path, strerror(errno)));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  // The rename is durable once the directory is.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return revision;
}

Status Projection::LoadSnapshot(const std::string& path, std::string_view key,
                                const SnapshotCheck& check) {
  if (head() != 0) return Status::InvalidRequest("a snapshot loads into an empty read model");
  auto file = ReadSnapshotFile(path);
  if (!file) return file.status();
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("the snapshot {} is damaged: {}", path, what));
  };
  std::string_view data = *file;
  if (data.starts_with(kMagicV1)) {
    return Status::Corruption(fmt::format(
        "the snapshot {} has format 1, which carries no MAC (an older build wrote it)", path));
  }
  if (data.starts_with(kMagicV2)) {
    return Status::Corruption(fmt::format(
        "the snapshot {} has format 2, which carries no event types (an older build wrote it)",
        path));
  }
  if (data.size() < kMagic.size() + 4 * 8 + kHashBytes || !data.starts_with(kMagic)) {
    return bad("it is not a chronoconf snapshot, or it is truncated");
  }
  std::string_view body = data.substr(0, data.size() - kHashBytes);
  {
    // Compared in constant time: the MAC is a secret's output.
    HmacSha256Stream h(key);
    h.Update(body);
    const std::string mac = h.Finish();
    if (CRYPTO_memcmp(mac.data(), data.data() + body.size(), kHashBytes) != 0) {
      return bad("its MAC does not verify under the store's key (truncated, altered, or "
                 "written for another store)");
    }
  }
  Decoder header(body.substr(kMagic.size()));
  const uint64_t nc = header.U64(), ne = header.U64(), nk = header.U64(), na = header.U64();
  // Bound the counts by the bytes before allocating for them.
  if (nc > header.left() / 60 || ne > header.left() / 32 || nk > ne || na > nc ||
      (nc == 0) != (ne == 0) || ne >= kNoEvent) {
    return bad("its counts do not fit its size");
  }
  std::vector<std::string_view> actors(na), keys(nk);
  for (auto& a : actors) a = header.Text();
  for (auto& k : keys) k = header.Text();
  for (const auto* names : {&actors, &keys}) {
    std::unordered_set<std::string_view> seen(names->begin(), names->end());
    if (seen.size() != names->size()) return bad("a key or an actor appears twice");
  }
  if (!header.ok()) return bad("it ends inside its names");
  const std::string_view rows = body.substr(body.size() - header.left());

  // Two passes over the rows: the first checks everything, the second loads,
  // so nothing is held twice and a bad file changes nothing.
  std::string last_hash;
  auto pass = [&](bool load) REQUIRES(mu_) -> Status {
    Decoder d(rows);
    uint64_t prev_first = 0;
    int64_t prev_time = 0;
    for (uint64_t i = 0; i < nc; ++i) {
      CommitRow row;
      row.timestamp_us = d.I64();
      row.first_event = d.U64();
      std::string_view hash = d.Raw(kHashBytes);
      row.actor = d.U32();
      auto reason = d.Optional();
      auto request_id = d.Optional();
      if (!d.ok()) return bad("it ends inside its commits");
      const bool ordered = i == 0 ? row.first_event == 0
                                  : row.first_event > prev_first && row.timestamp_us >= prev_time;
      if (!ordered || row.first_event >= ne || row.actor >= na) {
        return bad(fmt::format("commit {} is inconsistent", i + 1));
      }
      prev_first = row.first_event;
      prev_time = row.timestamp_us;
      if (i + 1 == nc) last_hash = ToHex(hash);
      if (!load) continue;
      std::memcpy(row.hash.data(), hash.data(), kHashBytes);
      for (auto [from, to] : {std::pair{&reason, &row.reason}, {&request_id, &row.request_id}}) {
        if (*from) {
          std::string_view t = text_.Add(**from);
          *to = {t.data() ? t.data() : "", static_cast<uint32_t>(t.size())};
        }
      }
      commits_.push_back(row);
    }
    // Each event's commit: the last one whose first event is at or before it.
    Decoder firsts(rows);
    auto next_first = [&]() {
      firsts.I64();
      uint64_t f = firsts.U64();
      firsts.Raw(kHashBytes);
      firsts.U32();
      firsts.Optional();
      firsts.Optional();
      return f;
    };
    uint64_t commit = 0, following = nc > 1 ? (next_first(), next_first()) : ne;
    for (uint64_t i = 0; i < ne; ++i) {
      while (i >= following) {
        ++commit;
        following = commit + 1 < nc ? next_first() : ne;
      }
      EventRow row;
      row.revision = d.I64();
      row.version = d.I64();
      row.created_revision = d.I64();
      row.key = d.U32();
      const uint32_t type = d.U32();
      row.lease = d.I64();
      auto value = d.Optional();
      if (!d.ok()) return bad("it ends inside its events");
      row.type = static_cast<EventType>(type);
      if (row.revision != static_cast<int64_t>(commit) + 1 || row.key >= nk || row.version < 1 ||
          row.created_revision < 0 || row.created_revision > row.revision ||
          type > static_cast<uint32_t>(kLastEventType) ||
          (!value && !row.deleted())) {
        return bad(fmt::format("event {} is inconsistent", i + 1));
      }
      if (!load) continue;
      KeyIndex& k = *key_by_id_[row.key];
      row.prev_same_key = k.events.empty() ? kNoEvent : k.events.back();
      const EventRow* prev = k.events.empty() ? nullptr : &events_[k.events.back()];
      const bool existed = prev && !prev->deleted();
      const bool config = !IsSystemStream(key_names_[row.key]);
      if (value) {
        std::string_view t = text_.Add(*value);
        row.value = t.data() ? t.data() : "";
        row.value_len = static_cast<uint32_t>(t.size());
      }
      if (config) TrackLive(k, existed, !row.deleted());
      TrackLease(row, prev, commits_[static_cast<size_t>(commit)].actor);
      TrackSchema(row, commits_[static_cast<size_t>(commit)].actor);
      TrackReview(row, commits_[static_cast<size_t>(commit)]);
      k.events.push_back(static_cast<uint32_t>(events_.size()));
      events_.push_back(row);
    }
    if (d.left() != 0) return bad("its rows do not fill it exactly");
    return Status::OK();
  };

  WriterLock lock(&mu_);
  if (Status s = pass(/*load=*/false); !s.ok()) return s;
  if (nc > 0) {
    if (Status s = check(static_cast<int64_t>(nc), last_hash); !s.ok()) return s;
  }
  // Checked: from here nothing fails.
  for (std::string_view a : actors) InternActor(a);
  for (std::string_view k : keys) InternKey(k);
  pass(/*load=*/true).IgnoreError();  // the same bytes passed above
  RenderAllHeads();
  IndexActors();
  head_.store(static_cast<int64_t>(nc), std::memory_order_release);
  return Status::OK();
}

}  // namespace chronoconf
