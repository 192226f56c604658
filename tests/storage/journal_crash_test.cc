// Randomized crash property test. From a seed: append random records with the
// writer thread or synchronously, inject random faults (EIO, ENOSPC, short
// writes, failed syncs) and power cuts at random points, crash keeping a random
// prefix of the unsynced bytes, re-open, and check that
//   - every record acknowledged as durable is present, in order, byte-identical;
//   - what is present is a prefix of what was submitted: no garbage record;
//   - appending works again after the re-open.
// COFFER_SOAK=1 runs many more iterations; COFFER_SEED=<n> replays one seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>

#include "storage/memory_file_system.h"
#include "tests/storage/journal_test_util.h"

namespace coffer::storage {
namespace {

using testing::make_record;
using testing::read_all;
using testing::same_record;

const std::string kDir = "/j";

struct Model {
  std::vector<JournalRecord> submitted;  // possibly durable, in sequence order
  size_t acked = 0;                      // submitted[first_present, acked) were reported durable
  size_t first_present = 0;              // records before this index were deleted by retention
  // remove_segments_below(submitted[floor].first_seq) was called: records from
  // `floor` on must survive, earlier ones may be gone.
  size_t floor = 0;
};

// What the scenarios exercised, printed at the end so a reader can see the
// test is not vacuous.
struct Coverage {
  uint64_t rounds = 0;
  uint64_t records_acked = 0;
  uint64_t records_failed = 0;
  uint64_t torn_tails_cut = 0;
  uint64_t unacked_survivors = 0;  // submitted, failed or unknown, yet on disk
  uint64_t retention_calls = 0;
  uint64_t rounds_with_segments_removed = 0;
};

// Runs one seeded scenario; returns an empty string or a failure description.
std::string run_scenario(uint64_t seed, Coverage* cov) {
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  };
  MemoryFileSystem fs;
  JournalOptions o;
  o.dir = kDir;
  o.fs = &fs;
  o.record_payload_size_max = static_cast<uint32_t>(pick(16, 400));
  o.segment_size_bytes =
      std::max<uint64_t>(kSegmentSizeMin, kSegmentHeaderSize + kFrameHeaderSize +
                                              o.record_payload_size_max + pick(0, 3000));
  o.log = [](const std::string&) {};

  Model model;
  uint64_t next_seq = pick(1, 1000);
  const int rounds = static_cast<int>(pick(1, 4));
  for (int round = 0; round < rounds; ++round) {
    o.writer_thread = pick(0, 1) == 1;
    std::unique_ptr<Journal> journal;
    JournalOpenReport report;
    if (Status s = Journal::open(o, &journal, &report); !s.ok()) {
      return "round " + std::to_string(round) + " open: " + s.to_string();
    }
    if (!model.submitted.empty() && report.next_seq != next_seq) {
      return "round " + std::to_string(round) + " open: next_seq " +
             std::to_string(report.next_seq) + ", expected " + std::to_string(next_seq);
    }
    // Nothing survived but an empty segment: it fixes where the journal resumes.
    if (report.next_seq != 0) next_seq = report.next_seq;
    cov->rounds++;
    cov->torn_tails_cut += report.torn_tail_cut ? 1 : 0;

    // Faults: each operation fails with probability 1/fault_odds; a power cut
    // comes after a random number of operations.
    const uint64_t fault_odds = pick(0, 3) == 0 ? 0 : pick(20, 400);
    const uint64_t power_cut_after = pick(0, 2) == 0 ? UINT64_MAX : pick(1, 300);
    auto hook_rng = std::make_shared<std::mt19937_64>(rng());
    auto ops = std::make_shared<std::atomic<uint64_t>>(0);
    fs.set_fault_hook([=](FsOp op, std::string_view, uint64_t, uint64_t) {
      ops->fetch_add(1);
      if (fault_odds == 0 || (*hook_rng)() % fault_odds != 0) return Fault::none;
      switch ((*hook_rng)() % 4) {
        case 0:
          return Fault::io_error;
        case 1:
          return Fault::no_space;
        case 2:
          return op == FsOp::write ? Fault::short_write : Fault::io_error;
        default:
          return op == FsOp::sync ? Fault::io_error : Fault::none;
      }
    });

    std::mutex mu;
    std::vector<std::pair<size_t, bool>> results;  // (index in model, ok)
    const int count = static_cast<int>(pick(1, 60));
    for (int i = 0; i < count; ++i) {
      if (ops->load() >= power_cut_after) fs.power_off();
      JournalRecord r =
          make_record(next_seq, static_cast<uint32_t>(pick(1, 20)),
                      pick(0, o.record_payload_size_max), static_cast<uint32_t>(seed + round));
      const size_t index = model.submitted.size();
      model.submitted.push_back(r);
      Status s = journal->submit(std::move(r), [&mu, &results, index](const Status& st) {
        std::lock_guard lock(mu);
        results.emplace_back(index, st.ok());
      });
      if (!s.ok()) return "submit " + std::to_string(next_seq) + ": " + s.to_string();
      next_seq += model.submitted.back().command_count;
    }
    // Retention, sometimes: below a record known to be durable.
    if (pick(0, 2) == 0) {
      size_t durable = model.acked;
      {
        std::lock_guard lock(mu);
        for (auto& [index, ok] : results) {
          if (ok) durable = std::max(durable, index + 1);
        }
      }
      if (durable > model.first_present) {
        const size_t floor = pick(std::max(model.floor, model.first_present), durable - 1);
        (void)journal->remove_segments_below(model.submitted[floor].first_seq);  // may fail
        model.floor = floor;
        cov->retention_calls++;
      }
    }
    journal.reset();  // completes everything queued
    fs.set_fault_hook(nullptr);

    // Acknowledged records form a prefix; completions ran in order.
    std::sort(results.begin(), results.end());
    if (results.size() != static_cast<size_t>(count)) return "missing completions";
    bool failed = false;
    for (auto& [index, ok] : results) {
      if (ok && failed) return "success after a failure at record index " + std::to_string(index);
      if (!ok) failed = true;
      if (ok) model.acked = index + 1;
      (ok ? cov->records_acked : cov->records_failed)++;
    }

    fs.crash(/*keep_unsynced_prefix=*/pick(0, 3) != 0, rng());

    // Check what survived.
    auto r = read_all(&fs, kDir, 0, o.record_payload_size_max);
    if (!r.status.ok()) return "read after crash: " + r.status.to_string();
    // Where the surviving records start in the model.
    size_t start = model.first_present;
    if (!r.records.empty()) {
      auto it = std::find_if(model.submitted.begin(), model.submitted.end(), [&](const auto& m) {
        return m.first_seq == r.records.front().first_seq;
      });
      if (it == model.submitted.end()) return "first record was never submitted";
      start = static_cast<size_t>(it - model.submitted.begin());
    }
    if (start < model.first_present || start > std::max(model.floor, model.first_present)) {
      return "journal starts at record index " + std::to_string(start) + ", expected " +
             std::to_string(model.first_present) + ".." + std::to_string(model.floor);
    }
    const size_t end = start + r.records.size();
    if (end < model.acked) {
      return "lost acknowledged records: " + std::to_string(end) + " present, " +
             std::to_string(model.acked) + " acknowledged";
    }
    if (end > model.submitted.size()) return "more records than submitted";
    for (size_t i = 0; i < r.records.size(); ++i) {
      if (!same_record(r.records[i], model.submitted[start + i])) {
        return "record " + std::to_string(start + i) + " differs from what was submitted";
      }
    }
    cov->unacked_survivors += end - model.acked;
    cov->rounds_with_segments_removed += start > model.first_present ? 1 : 0;
    // Unacknowledged records that did not survive are gone for good.
    model.submitted.resize(end);
    model.acked = end;
    model.first_present = start;
    model.floor = std::max(model.floor, start);
    if (!model.submitted.empty()) {
      next_seq = model.submitted.back().first_seq + model.submitted.back().command_count;
    }
  }

  // Finally: a clean journal accepts appends and reads back entirely.
  o.writer_thread = false;
  std::unique_ptr<Journal> journal;
  JournalOpenReport report;
  if (Status s = Journal::open(o, &journal, &report); !s.ok()) {
    return "final open: " + s.to_string();
  }
  if (report.next_seq != 0) next_seq = report.next_seq;
  JournalRecord last = make_record(next_seq, 1, 5, 99);
  if (Status s = journal->append_and_wait(last); !s.ok()) return "final append: " + s.to_string();
  journal.reset();
  auto r = read_all(&fs, kDir, 0, o.record_payload_size_max);
  if (!r.status.ok() || r.torn_tail) return "final read: " + r.status.to_string();
  if (r.records.size() != model.submitted.size() - model.first_present + 1 ||
      !same_record(r.records.back(), last)) {
    return "final record missing";
  }
  return "";
}

TEST(JournalCrashTest, AcknowledgedRecordsSurviveRandomFaultsAndCrashes) {
  uint64_t iterations = std::getenv("COFFER_SOAK") != nullptr ? 500'000 : 10'000;
  uint64_t first_seed = 1;
  if (const char* seed = std::getenv("COFFER_SEED")) {
    first_seed = std::strtoull(seed, nullptr, 10);
    iterations = 1;
  }
  int failures = 0;
  Coverage cov;
  for (uint64_t seed = first_seed; seed < first_seed + iterations && failures < 5; ++seed) {
    std::string failure = run_scenario(seed, &cov);
    if (!failure.empty()) {
      ADD_FAILURE() << "seed " << seed << " (replay: COFFER_SEED=" << seed << "): " << failure;
      failures++;
    }
  }
  std::printf(
      "%llu scenarios, %llu rounds: %llu records acknowledged, %llu failed, "
      "%llu torn tails cut, %llu unacknowledged records survived, %llu retention calls, "
      "%llu rounds with segments removed\n",
      static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(cov.rounds),
      static_cast<unsigned long long>(cov.records_acked),
      static_cast<unsigned long long>(cov.records_failed),
      static_cast<unsigned long long>(cov.torn_tails_cut),
      static_cast<unsigned long long>(cov.unacked_survivors),
      static_cast<unsigned long long>(cov.retention_calls),
      static_cast<unsigned long long>(cov.rounds_with_segments_removed));
  // The scenarios must reach the interesting paths, or the test proves little.
  if (iterations >= 1000) {
    EXPECT_GT(cov.records_failed, 0u);
    EXPECT_GT(cov.torn_tails_cut, 0u);
    EXPECT_GT(cov.unacked_survivors, 0u);
    EXPECT_GT(cov.rounds_with_segments_removed, 0u);
  }
}

}  // namespace
}  // namespace coffer::storage
