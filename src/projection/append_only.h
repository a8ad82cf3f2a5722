// Append-only storage for the read model: rows and text that never move once
// written, so a reader may hold a pointer into them for the Projection's whole
// life, and a snapshot writer may read the first N rows without the lock while
// the applier appends row N+1 (the log only grows; nothing is ever changed).
//
//   AppendOnlyArray<T>  fixed-size chunks of T behind a chunk table reserved
//                       once: push_back never moves an element or the table.
//   TextArena           bytes in large blocks: Add() returns a string_view
//                       that stays valid; no per-string heap header.
//
// Thread safety: one writer. A reader must learn size() under the same lock
// the writer appends under (or after the writer is done); elements below that
// size may then be read without it.
#ifndef CHRONOCONF_PROJECTION_APPEND_ONLY_H_
#define CHRONOCONF_PROJECTION_APPEND_ONLY_H_

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace chronoconf {

template <typename T, size_t kChunkBits = 12>
class AppendOnlyArray {
 public:
  static constexpr size_t kChunk = size_t{1} << kChunkBits;
  // 2^20 chunks: the table is 8 MiB of address space, touched as it fills.
  static constexpr size_t kMaxChunks = size_t{1} << 20;

  AppendOnlyArray() { chunks_.reserve(kMaxChunks); }
  AppendOnlyArray(const AppendOnlyArray&) = delete;
  AppendOnlyArray& operator=(const AppendOnlyArray&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  static constexpr size_t max_size() { return kChunk * kMaxChunks; }

  const T& operator[](size_t i) const { return chunks_[i >> kChunkBits][i & (kChunk - 1)]; }
  const T& back() const { return (*this)[size_ - 1]; }

  // The caller checks size() < max_size() first.
  void push_back(T value) {
    if ((size_ & (kChunk - 1)) == 0) chunks_.push_back(std::make_unique<T[]>(kChunk));
    chunks_[size_ >> kChunkBits][size_ & (kChunk - 1)] = std::move(value);
    ++size_;
  }

  // Bytes held (for the memory gauge).
  size_t bytes() const { return chunks_.size() * kChunk * sizeof(T); }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

class TextArena {
 public:
  TextArena() = default;
  TextArena(const TextArena&) = delete;
  TextArena& operator=(const TextArena&) = delete;

  std::string_view Add(std::string_view text) {
    if (text.empty()) return {};
    if (text.size() > kBlock / 4) {
      // A large text gets a block of its own: no half-empty block behind it.
      auto& block = blocks_.emplace_back(std::make_unique_for_overwrite<char[]>(text.size()));
      std::memcpy(block.get(), text.data(), text.size());
      bytes_ += text.size();
      return {block.get(), text.size()};
    }
    if (free_ < text.size()) {
      // (A large text's own block does not move cursor_, which stays in the
      // block being filled.)
      cursor_ = blocks_.emplace_back(std::make_unique_for_overwrite<char[]>(kBlock)).get();
      free_ = kBlock;
      bytes_ += kBlock;
    }
    std::memcpy(cursor_, text.data(), text.size());
    std::string_view out(cursor_, text.size());
    cursor_ += text.size();
    free_ -= text.size();
    return out;
  }

  size_t bytes() const { return bytes_; }

 private:
  static constexpr size_t kBlock = size_t{1} << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cursor_ = nullptr;
  size_t free_ = 0;
  size_t bytes_ = 0;
};

}  // namespace chronoconf

#endif  // CHRONOCONF_PROJECTION_APPEND_ONLY_H_
