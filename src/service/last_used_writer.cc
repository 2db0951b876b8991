#include "service/last_used_writer.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include "common/log.h"

namespace keyward {

LastUsedWriter::LastUsedWriter(KeyCache& cache, Store& store, std::chrono::milliseconds interval)
    : cache_(cache),
      store_(store),
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
  // Small transactions: a store with one connection serves key lookups between them, instead
  // of making every cache miss wait for one write of a whole busy interval's keys.
  constexpr std::size_t kChunk = 256;
  for (std::size_t begin = 0; begin < batch.size(); begin += kChunk) {
    const std::size_t end = std::min(batch.size(), begin + kChunk);
    std::vector<std::pair<std::string, UnixSeconds>> chunk(
        std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(begin)),
        std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(end)));
    if (Status s = store_.TouchKeys(chunk); !s.ok()) {
      log::Warn("could not record last-used times of {} keys (retried at the next flush): {}",
                chunk.size(), s.ToString());
      const std::size_t room = kMaxRetained - std::min(kMaxRetained, unwritten_.size());
      chunk.resize(std::min(chunk.size(), room));
      unwritten_.insert(unwritten_.end(), std::make_move_iterator(chunk.begin()),
                        std::make_move_iterator(chunk.end()));
    }
  }
  return batch.size();
}

void LastUsedWriter::Stop() { periodic_.Stop(); }

}  // namespace keyward
