// Journal throughput on the real file system: append + group commit with real
// fdatasync, and replay. Records model sequencer batches of N commands of 128
// bytes. The directory is $COFFER_BENCH_DIR or /tmp (must be a real disk file
// system for fdatasync to mean anything; tmpfs would flatter the numbers).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "storage/journal.h"

namespace coffer::storage {
namespace {

constexpr size_t kCommandSizeBytes = 128;

std::string make_temp_dir() {
  const char* base = std::getenv("COFFER_BENCH_DIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/coffer-journal-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

JournalRecord make_batch(uint64_t first_seq, uint32_t commands) {
  JournalRecord r;
  r.first_seq = first_seq;
  r.command_count = commands;
  r.time_first_us = first_seq;
  r.time_last_us = first_seq + commands;
  r.payload.resize(commands * kCommandSizeBytes);
  for (size_t i = 0; i < r.payload.size(); i += 64)
    r.payload[i] = std::byte(first_seq + i);
  return r;
}

// The producer submits batches back to back without waiting, as the sequencer
// does; when the queue is full it yields (backpressure). Each batch is durable
// when its completion runs.
void BM_JournalAppendGroupCommit(benchmark::State& state) {
  const uint32_t commands = static_cast<uint32_t>(state.range(0));
  const std::string dir = make_temp_dir();
  if (dir.empty()) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  JournalOptions options;
  options.dir = dir + "/wal";
  options.queue_size_bytes_max = 64 * kMiB;
  options.log = [](const std::string&) {};
  std::unique_ptr<Journal> journal;
  if (!Journal::open(options, &journal).ok()) {
    state.SkipWithError("open failed");
    return;
  }
  const JournalRecord batch = make_batch(1, commands);
  std::atomic<uint64_t> completed{0};
  std::atomic<bool> failed{false};
  uint64_t seq = 1;
  uint64_t submitted = 0;
  for (auto _ : state) {
    JournalRecord r = batch;
    r.first_seq = seq;
    for (;;) {
      Status s = journal->submit(r, [&](const Status& st) {
        if (!st.ok()) failed = true;
        completed.fetch_add(1, std::memory_order_release);
      });
      if (s.ok()) break;
      if (s.code() != StatusCode::queue_full) {
        state.SkipWithError(s.to_string().c_str());
        return;
      }
      std::this_thread::yield();
    }
    seq += commands;
    submitted++;
    // Bounded disk use: drop segments more than ~256 MiB behind.
    if (submitted % 256 == 0) {
      journal->remove_segments_below(seq > 2'000'000 ? seq - 2'000'000 : 0);
    }
  }
  while (completed.load(std::memory_order_acquire) < submitted)
    std::this_thread::yield();
  const JournalStats stats = journal->stats();
  journal.reset();
  std::filesystem::remove_all(dir);
  if (failed) state.SkipWithError("a batch failed");
  state.SetBytesProcessed(static_cast<int64_t>(submitted * batch.payload.size()));
  state.counters["commands/s"] =
      benchmark::Counter(static_cast<double>(submitted * commands), benchmark::Counter::kIsRate);
  state.counters["batches_per_sync"] =
      static_cast<double>(submitted) / static_cast<double>(std::max<uint64_t>(1, stats.sync_count));
}
BENCHMARK(BM_JournalAppendGroupCommit)
    ->ArgName("commands")
    ->Arg(8192)
    ->Arg(64)
    ->UseRealTime()
    ->MinTime(2.0)
    ->Unit(benchmark::kMicrosecond);

// Baseline without group commit: one fdatasync per batch, in the caller.
void BM_JournalAppendSyncEach(benchmark::State& state) {
  const uint32_t commands = static_cast<uint32_t>(state.range(0));
  const std::string dir = make_temp_dir();
  JournalOptions options;
  options.dir = dir + "/wal";
  options.writer_thread = false;
  options.log = [](const std::string&) {};
  std::unique_ptr<Journal> journal;
  if (dir.empty() || !Journal::open(options, &journal).ok()) {
    state.SkipWithError("open failed");
    return;
  }
  const JournalRecord batch = make_batch(1, commands);
  uint64_t seq = 1;
  uint64_t submitted = 0;
  for (auto _ : state) {
    JournalRecord r = batch;
    r.first_seq = seq;
    if (Status s = journal->append_and_wait(std::move(r)); !s.ok()) {
      state.SkipWithError(s.to_string().c_str());
      return;
    }
    seq += commands;
    submitted++;
  }
  journal.reset();
  std::filesystem::remove_all(dir);
  state.SetBytesProcessed(static_cast<int64_t>(submitted * batch.payload.size()));
  state.counters["commands/s"] =
      benchmark::Counter(static_cast<double>(submitted * commands), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_JournalAppendSyncEach)
    ->ArgName("commands")
    ->Arg(64)
    ->UseRealTime()
    ->MinTime(1.0)
    ->Unit(benchmark::kMicrosecond);

// Replay: read every record of a 256 MiB journal (page cache warm after the
// first pass), verifying checksums and sequence numbers.
void BM_JournalReplay(benchmark::State& state) {
  const uint32_t commands = static_cast<uint32_t>(state.range(0));
  const std::string dir = make_temp_dir();
  JournalOptions options;
  options.dir = dir + "/wal";
  options.log = [](const std::string&) {};
  const JournalRecord batch = make_batch(1, commands);
  const uint64_t batch_count = 256 * kMiB / batch.payload.size();
  {
    std::unique_ptr<Journal> journal;
    if (dir.empty() || !Journal::open(options, &journal).ok()) {
      state.SkipWithError("open failed");
      return;
    }
    uint64_t seq = 1;
    for (uint64_t i = 0; i < batch_count; ++i) {
      JournalRecord r = batch;
      r.first_seq = seq;
      seq += commands;
      while (journal->submit(r, nullptr).code() == StatusCode::queue_full) {
        std::this_thread::yield();
      }
    }
  }
  uint64_t read_commands = 0;
  uint64_t read_bytes = 0;
  for (auto _ : state) {
    std::unique_ptr<JournalReader> reader;
    if (!JournalReader::open({options.dir, nullptr, kRecordPayloadSizeMax}, 0, &reader).ok()) {
      state.SkipWithError("reader open failed");
      break;
    }
    JournalRecordView v;
    bool has = true;
    uint64_t records = 0;
    while (reader->next(&v, &has).ok() && has) {
      read_commands += v.command_count;
      read_bytes += v.payload.size();
      records++;
    }
    if (records != batch_count) {
      state.SkipWithError("replay read the wrong number of records");
      break;
    }
  }
  std::filesystem::remove_all(dir);
  state.SetBytesProcessed(static_cast<int64_t>(read_bytes));
  state.counters["commands/s"] =
      benchmark::Counter(static_cast<double>(read_commands), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_JournalReplay)
    ->ArgName("commands")
    ->Arg(8192)
    ->Arg(64)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace coffer::storage
