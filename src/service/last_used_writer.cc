#include "service/last_used_writer.h"

#include <algorithm>
#include <iterator>
#include <string_view>
#include <vector>

#include "common/log.h"

namespace keyward {

namespace {

// Small transactions: a store with one connection serves key lookups between them, instead
// of making every cache miss wait for one write of a whole busy interval's keys.
constexpr std::size_t kChunk = 256;

// Moves [begin, end) of `items` out into a vector of their own.
template <typename T>
std::vector<T> ChunkOf(std::vector<T>& items, std::size_t begin) {
  const std::size_t end = std::min(items.size(), begin + kChunk);
  return std::vector<T>(std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(begin)),
                        std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(end)));
}

// Keeps what fits of `chunk` in `kept` (at most LastUsedWriter::kMaxRetained).
template <typename T>
void Retain(std::vector<T>& chunk, std::vector<T>& kept) {
  const std::size_t room =
      LastUsedWriter::kMaxRetained - std::min(LastUsedWriter::kMaxRetained, kept.size());
  if (chunk.size() > room) {
    log::Warn("dropped {} unwritten items: {} are kept for the next flush already",
              chunk.size() - room, kept.size());
  }
  chunk.resize(std::min(chunk.size(), room));
  kept.insert(kept.end(), std::make_move_iterator(chunk.begin()),
              std::make_move_iterator(chunk.end()));
}

// Writes `items` with `write` in chunks of kChunk; a chunk that fails is kept in `kept` for the
// next flush. `what` names the chunk's items in the warning ("last-used times of {} keys").
template <typename T, typename Write>
void WriteInChunks(std::vector<T>& items, std::vector<T>& kept, std::string_view what,
                   Write write) {
  for (std::size_t begin = 0; begin < items.size(); begin += kChunk) {
    auto chunk = ChunkOf(items, begin);
    if (Status s = write(chunk); !s.ok()) {
      // Not once a flush while the disk is full: the store says that once (DiskFullLog).
      if (s.code() != StatusCode::kInsufficientStorage) {
        log::Warn("could not record the {} of {} keys (retried at the next flush): {}", what,
                  chunk.size(), s.ToString());
      }
      Retain(chunk, kept);
    }
  }
}

}  // namespace

LastUsedWriter::LastUsedWriter(KeyCache& cache, Store& store, std::chrono::milliseconds interval,
                               UsageRecorder* usage)
    : cache_(cache),
      store_(store),
      usage_(usage),
      periodic_([interval] { return interval; }, [this] { Flush(); },
                {.tick_on_stop = true, .low_priority = true}) {}

std::size_t LastUsedWriter::Flush() {
  MutexLock lock(mu_);
  auto batch = cache_.TakeUsed();
  // What an earlier flush could not write goes first; the store ignores a time older than the
  // one it holds, so a later mark of the same key in this batch still wins.
  batch.insert(batch.begin(), std::make_move_iterator(unwritten_.begin()),
               std::make_move_iterator(unwritten_.end()));
  unwritten_.clear();
  WriteInChunks(batch, unwritten_, "last-used times",
                [&](const auto& chunk) { return store_.TouchKeys(chunk); });
  FlushUsage();
  return batch.size();
}

void LastUsedWriter::FlushUsage() {
  if (usage_ == nullptr) return;
  // Deltas add up in the store, so the ones kept from a failed write go as they are.
  std::vector<UsageDelta> deltas = std::move(unwritten_usage_);
  unwritten_usage_.clear();
  std::vector<UsageDelta> taken = usage_->Take();
  deltas.insert(deltas.end(), std::make_move_iterator(taken.begin()),
                std::make_move_iterator(taken.end()));
  WriteInChunks(deltas, unwritten_usage_, "hourly usage",
                [&](const auto& chunk) { return store_.RecordUsage(chunk); });
}

std::size_t LastUsedWriter::unwritten_usage() const {
  MutexLock lock(mu_);
  return unwritten_usage_.size();
}

void LastUsedWriter::Stop() { periodic_.Stop(); }

}  // namespace keyward
