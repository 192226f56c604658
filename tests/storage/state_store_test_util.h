// Helpers shared by the state store and recovery tests: a temporary directory,
// and a miniature sequencer that applies batches of stamped commands to a
// Ledger, journals them and produces the EffectBatch the store follows.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/ledger.h"
#include "storage/journal.h"
#include "storage/state_store.h"

namespace coffer::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "coffer-lmdb-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline LedgerConfig small_config() {
  LedgerConfig c;
  c.accounts_capacity = 1u << 10;
  c.pending_capacity = 1u << 10;
  c.idempotency_capacity = 1u << 12;
  return c;
}

// Applies one journal record's commands as the sequencer does: one span,
// draining the sink as needed; returns every effect of the record.
inline std::vector<Effect> apply_record(Ledger& ledger, std::span<const Command> commands) {
  std::vector<Effect> out;
  std::vector<Effect> buffer(effects_per_command_max * 2);
  std::vector<Reply> replies(commands.size());
  while (!commands.empty()) {
    EffectSink sink(buffer);
    const size_t n = ledger.apply(commands, replies, sink);
    EXPECT_GT(n, 0u);
    if (n == 0) break;
    out.insert(out.end(), sink.effects().begin(), sink.effects().end());
    commands = commands.subspan(n);
  }
  return out;
}

inline JournalRecord to_record(std::span<const Command> commands) {
  JournalRecord r;
  r.first_seq = commands.front().seq;
  r.command_count = static_cast<uint32_t>(commands.size());
  r.time_first_us = commands.front().time_us;
  r.time_last_us = commands.back().time_us;
  r.payload.resize(commands.size() * sizeof(Command));
  std::memcpy(r.payload.data(), commands.data(), r.payload.size());
  return r;
}

inline EffectBatch to_batch(std::span<const Command> commands, std::vector<Effect> effects) {
  EffectBatch b;
  b.first_seq = commands.front().seq;
  b.last_seq = commands.back().seq;
  b.effects = std::move(effects);
  return b;
}

// Stamps commands with consecutive seqs and non-decreasing times.
class Stamper {
 public:
  void stamp(Command& c, uint64_t advance_us = 1000) {
    c.seq = ++seq_;
    time_us_ += advance_us;
    c.time_us = time_us_;
  }
  uint64_t seq() const { return seq_; }
  uint64_t time_us() const { return time_us_; }

 private:
  uint64_t seq_ = 0;
  uint64_t time_us_ = 1'700'000'000'000'000;
};

inline Id128 id(uint64_t n) {
  return Id128{n, 0xabcd};
}

inline ImageBuffer image_of(const Ledger& ledger) {
  ImageBuffer b;
  ledger.write_image(b);
  return b;
}

inline std::unique_ptr<StateStore> open_store(const std::string& dir, bool thread = true,
                                              uint64_t map_size_bytes = 1ull << 30) {
  StateStoreOptions o;
  o.dir = dir;
  o.writer_thread = thread;
  o.map_size_bytes = map_size_bytes;
  o.sync_commits = false;  // process crashes only: keeps the tests fast
  o.log = [](const std::string&) {};
  std::unique_ptr<StateStore> s;
  Status st = StateStore::open(o, &s);
  EXPECT_TRUE(st.ok()) << st.to_string();
  return s;
}

// Every balance_changed effect of `account_id`, newest first.
inline std::vector<Effect> balance_changes(const std::vector<Effect>& all, uint64_t account_id) {
  std::vector<Effect> out;
  for (const Effect& e : all) {
    if (e.kind == EffectKind::balance_changed && e.balance.account_id == account_id) {
      out.push_back(e);
    }
  }
  return {out.rbegin(), out.rend()};
}

inline std::vector<HistoryEntry> full_history(const StateStore& store, uint64_t account_id,
                                              uint32_t page_limit = 7) {
  std::vector<HistoryEntry> all;
  HistoryCursor cursor;
  for (int guard = 0; guard < 1'000'000; ++guard) {
    HistoryPage page;
    Status s = store.history(account_id, cursor, page_limit, &page);
    EXPECT_TRUE(s.ok()) << s.to_string();
    all.insert(all.end(), page.entries.begin(), page.entries.end());
    if (page.next.at_start()) break;
    cursor = page.next;
  }
  return all;
}

}  // namespace coffer::storage::testing
