// Fault injection on the in-memory file system with the writer thread: failed
// writes and syncs poison the journal, completions report failure, and after a
// crash and re-open nothing that was reported durable is lost.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "storage/memory_file_system.h"
#include "tests/storage/journal_test_util.h"

namespace coffer::storage {
namespace {

using testing::expect_records;
using testing::make_record;
using testing::read_all;

const std::string kDir = "/j";

// Collects completion results in submission order.
struct Completions {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<uint64_t, Status>> done;  // (first_seq, status)

  Journal::Completion make(uint64_t first_seq) {
    return [this, first_seq](const Status& s) {
      std::lock_guard lock(mu);
      done.emplace_back(first_seq, s);
      cv.notify_all();
    };
  }
  void wait_for(size_t n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done.size() >= n; });
  }
};

// Blocks the writer inside its next fdatasync until released.
struct SyncGate {
  std::mutex mu;
  std::condition_variable cv;
  bool closed = true;
  bool writer_waiting = false;

  void wait_here() {
    std::unique_lock lock(mu);
    writer_waiting = true;
    cv.notify_all();
    cv.wait(lock, [&] { return !closed; });
  }
  void wait_until_writer_blocked() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return writer_waiting; });
  }
  void open() {
    std::lock_guard lock(mu);
    closed = false;
    cv.notify_all();
  }
};

class JournalFaultTest : public ::testing::Test {
 protected:
  JournalOptions options(bool writer_thread = true) {
    JournalOptions o;
    o.dir = kDir;
    o.fs = &fs_;
    o.segment_size_bytes = 4096;
    o.record_payload_size_max = 1024;
    o.writer_thread = writer_thread;
    o.log = [](const std::string&) {};
    return o;
  }
  std::unique_ptr<Journal> open_journal(JournalOpenReport* report = nullptr,
                                        bool writer_thread = true) {
    std::unique_ptr<Journal> j;
    Status s = Journal::open(options(writer_thread), &j, report);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return j;
  }
  // Injects `fault` on the nth (0-based) operation of kind `op`.
  void fail_nth(FsOp op, int n, Fault fault) {
    auto count = std::make_shared<int>(0);
    fs_.set_fault_hook([=](FsOp o, std::string_view, uint64_t, uint64_t) {
      if (o != op) return Fault::none;
      return (*count)++ == n ? fault : Fault::none;
    });
  }

  MemoryFileSystem fs_;
};

TEST_F(JournalFaultTest, GroupCommitWritesEverythingQueuedWithOneSync) {
  SyncGate gate;
  auto j = open_journal();
  Completions c;
  // The first record's sync blocks; the next 100 queue up behind it.
  std::atomic<int> syncs{0};
  fs_.set_fault_hook([&](FsOp op, std::string_view, uint64_t, uint64_t) {
    if (op == FsOp::sync && syncs.fetch_add(1) == 1) gate.wait_here();  // 0 is the segment's
    return Fault::none;
  });
  // Empty payloads: 101 frames of 40 bytes fit in one 4096-byte segment.
  ASSERT_TRUE(j->submit(make_record(1, 1, 0), c.make(1)).ok());
  gate.wait_until_writer_blocked();
  for (uint64_t seq = 2; seq <= 101; ++seq) {
    ASSERT_TRUE(j->submit(make_record(seq, 1, 0), c.make(seq)).ok());
  }
  EXPECT_EQ(j->queued_record_count(), 101u);
  EXPECT_EQ(j->queued_size_bytes(), 101u * kFrameHeaderSize);
  const uint64_t syncs_before = j->stats().sync_count;
  gate.open();
  c.wait_for(101);
  j.reset();
  ASSERT_EQ(c.done.size(), 101u);
  for (size_t i = 0; i < c.done.size(); ++i) {
    EXPECT_EQ(c.done[i].first, i + 1) << "completions run in order";
    EXPECT_TRUE(c.done[i].second.ok());
  }
  // Records 2..101 went out in one group: one write, one sync.
  EXPECT_EQ(syncs.load(), 3);
  EXPECT_EQ(syncs_before, 0u);
  EXPECT_EQ(read_all(&fs_, kDir).records.size(), 101u);
}

TEST_F(JournalFaultTest, QueueFullIsBackpressureNotLoss) {
  SyncGate gate;
  JournalOptions o = options();
  o.queue_record_count_max = 8;
  std::unique_ptr<Journal> j;
  ASSERT_TRUE(Journal::open(o, &j).ok());
  fs_.set_fault_hook([&](FsOp op, std::string_view, uint64_t, uint64_t) {
    if (op == FsOp::sync) gate.wait_here();
    return Fault::none;
  });
  Completions c;
  ASSERT_TRUE(j->submit(make_record(1, 1, 10), c.make(1)).ok());
  gate.wait_until_writer_blocked();
  uint64_t seq = 2;
  for (; seq <= 8; ++seq)
    ASSERT_TRUE(j->submit(make_record(seq, 1, 10), c.make(seq)).ok());
  Status full = j->submit(make_record(9, 1, 10), c.make(9));
  EXPECT_EQ(full.code(), StatusCode::queue_full);
  EXPECT_EQ(j->queued_record_count(), 8u);
  gate.open();
  c.wait_for(8);
  // Room again: the rejected record can be submitted now.
  EXPECT_TRUE(j->append_and_wait(make_record(9, 1, 10)).ok());
  j.reset();
  EXPECT_EQ(c.done.size(), 8u);
  EXPECT_EQ(read_all(&fs_, kDir).records.size(), 9u);
}

TEST_F(JournalFaultTest, FailedSyncPoisonsTheJournal) {
  auto j = open_journal();
  std::vector<JournalRecord> acked;
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    acked.push_back(make_record(seq, 1, 50));
    ASSERT_TRUE(j->append_and_wait(acked.back()).ok());
  }
  fail_nth(FsOp::sync, 0, Fault::io_error);
  Status s = j->append_and_wait(make_record(6, 1, 50));
  EXPECT_EQ(s.code(), StatusCode::io_error);
  EXPECT_TRUE(j->stats().poisoned);
  fs_.set_fault_hook(nullptr);  // the disk is fine again, the journal stays poisoned
  Status later = j->append_and_wait(make_record(7, 1, 50));
  EXPECT_EQ(later.code(), StatusCode::poisoned);
  EXPECT_NE(later.message().find("fdatasync"), std::string::npos) << later.message();
  EXPECT_EQ(j->stats().durable_next_seq, 6u);
  j.reset();
  fs_.crash(/*keep_unsynced_prefix=*/false);
  JournalOpenReport report;
  auto again = open_journal(&report);
  EXPECT_EQ(report.next_seq, 6u);
  expect_records(read_all(&fs_, kDir).records, acked);
  EXPECT_TRUE(again->append_and_wait(make_record(6, 1, 50)).ok());
}

TEST_F(JournalFaultTest, EioOnWriteFailsTheWholeGroupAndLaterOnes) {
  auto j = open_journal();
  ASSERT_TRUE(j->append_and_wait(make_record(1, 1, 50)).ok());
  fail_nth(FsOp::write, 0, Fault::io_error);
  Completions c;
  ASSERT_TRUE(j->submit(make_record(2, 1, 50), c.make(2)).ok());
  ASSERT_TRUE(j->submit(make_record(3, 1, 50), c.make(3)).ok());
  c.wait_for(2);
  for (auto& [seq, st] : c.done)
    EXPECT_FALSE(st.ok()) << seq;
  j.reset();
  fs_.set_fault_hook(nullptr);
  auto again = open_journal();
  EXPECT_EQ(read_all(&fs_, kDir).records.size(), 1u);
}

TEST_F(JournalFaultTest, ShortWriteLeavesATornTailThatReopenCuts) {
  auto j = open_journal();
  std::vector<JournalRecord> acked = {make_record(1, 1, 300)};
  ASSERT_TRUE(j->append_and_wait(acked[0]).ok());
  fail_nth(FsOp::write, 0, Fault::short_write);
  EXPECT_EQ(j->append_and_wait(make_record(2, 1, 300)).code(), StatusCode::io_error);
  j.reset();
  fs_.set_fault_hook(nullptr);
  // No crash: the half record is in the file, as after a process restart.
  auto r = read_all(&fs_, kDir);
  EXPECT_TRUE(r.torn_tail);
  JournalOpenReport report;
  auto again = open_journal(&report);
  EXPECT_TRUE(report.torn_tail_cut);
  acked.push_back(make_record(2, 1, 10));
  ASSERT_TRUE(again->append_and_wait(acked.back()).ok());
  again.reset();
  r = read_all(&fs_, kDir);
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.torn_tail);
  expect_records(r.records, acked);
}

TEST_F(JournalFaultTest, DiskFullWhenCreatingASegmentThenSpaceComesBack) {
  auto j = open_journal();
  std::vector<JournalRecord> acked;
  uint64_t seq = 1;
  // Fill the first segment (3 records of 1000 bytes each fit in 4096).
  for (; seq <= 3; ++seq) {
    acked.push_back(make_record(seq, 1, 1000));
    ASSERT_TRUE(j->append_and_wait(acked.back()).ok());
  }
  fs_.set_space_limit_bytes(fs_.used_bytes() + 1000);  // no room for another segment
  Status s = j->append_and_wait(make_record(4, 1, 1000));
  EXPECT_EQ(s.code(), StatusCode::no_space) << s.to_string();
  EXPECT_EQ(j->append_and_wait(make_record(5, 1, 10)).code(), StatusCode::poisoned);
  j.reset();
  fs_.set_space_limit_bytes(0);
  JournalOpenReport report;
  auto again = open_journal(&report);
  EXPECT_EQ(report.temp_files_removed, 1u);  // the segment that could not be preallocated
  EXPECT_EQ(report.next_seq, 4u);
  acked.push_back(make_record(4, 1, 1000));
  ASSERT_TRUE(again->append_and_wait(acked.back()).ok());
  again.reset();
  expect_records(read_all(&fs_, kDir).records, acked);
}

TEST_F(JournalFaultTest, DiskFullOnWriteIsReportedAsNoSpace) {
  auto j = open_journal();
  ASSERT_TRUE(j->append_and_wait(make_record(1, 1, 10)).ok());
  fail_nth(FsOp::write, 0, Fault::no_space);
  EXPECT_EQ(j->append_and_wait(make_record(2, 1, 10)).code(), StatusCode::no_space);
}

TEST_F(JournalFaultTest, FailedDirectorySyncPoisons) {
  auto j = open_journal();
  fail_nth(FsOp::sync_dir, 0, Fault::io_error);
  EXPECT_FALSE(j->append_and_wait(make_record(1, 1, 10)).ok());
  EXPECT_TRUE(j->stats().poisoned);
  j.reset();
  fs_.set_fault_hook(nullptr);
  fs_.crash();
  // The segment's name never became durable: the journal is empty again.
  JournalOpenReport report;
  auto again = open_journal(&report);
  EXPECT_TRUE(report.empty);
}

TEST_F(JournalFaultTest, PowerCutKeepsEverythingAcknowledged) {
  auto j = open_journal();
  Completions c;
  uint64_t seq = 1;
  for (; seq <= 200; ++seq)
    ASSERT_TRUE(j->submit(make_record(seq, 1, 100), c.make(seq)).ok());
  c.wait_for(200);
  for (; seq <= 400; ++seq) {
    ASSERT_TRUE(j->submit(make_record(seq, 1, 100), c.make(seq)).ok());
    if (seq == 300) fs_.power_off();
  }
  c.wait_for(400);
  j.reset();
  size_t acked = 0;
  while (acked < c.done.size() && c.done[acked].second.ok())
    acked++;
  for (size_t i = acked; i < c.done.size(); ++i)
    EXPECT_FALSE(c.done[i].second.ok());
  EXPECT_GE(acked, 200u);
  fs_.crash(/*keep_unsynced_prefix=*/true, /*seed=*/7);
  auto again = open_journal();
  auto r = read_all(&fs_, kDir);
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  ASSERT_GE(r.records.size(), acked);
  for (size_t i = 0; i < r.records.size(); ++i) {
    EXPECT_TRUE(testing::same_record(r.records[i], make_record(i + 1, 1, 100)));
  }
}

TEST_F(JournalFaultTest, DestructorCompletesEverythingQueued) {
  Completions c;
  {
    auto j = open_journal();
    for (uint64_t seq = 1; seq <= 50; ++seq) {
      ASSERT_TRUE(j->submit(make_record(seq, 1, 10), c.make(seq)).ok());
    }
  }
  ASSERT_EQ(c.done.size(), 50u);
  for (auto& [seq, st] : c.done)
    EXPECT_TRUE(st.ok());
  EXPECT_EQ(read_all(&fs_, kDir).records.size(), 50u);
}

}  // namespace
}  // namespace coffer::storage
