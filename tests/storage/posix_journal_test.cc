// The journal on the real POSIX file system, in a temporary directory: write,
// sync, re-open, read back; a torn tail made by truncating the file; a bit flip.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "tests/storage/journal_test_util.h"

namespace coffer::storage {
namespace {

using testing::expect_records;
using testing::make_record;
using testing::read_all;

namespace fsys = std::filesystem;

class PosixJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fsys::temp_directory_path() / "coffer-journal-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/wal";  // created by Journal::open
  }
  void TearDown() override { fsys::remove_all(root_); }

  JournalOptions options() {
    JournalOptions o;
    o.dir = dir_;
    o.segment_size_bytes = 64 * 1024;
    o.record_payload_size_max = 16 * 1024;
    o.log = [](const std::string&) {};
    return o;
  }
  std::unique_ptr<Journal> open_journal(JournalOpenReport* report = nullptr) {
    std::unique_ptr<Journal> j;
    Status s = Journal::open(options(), &j, report);
    EXPECT_TRUE(s.ok()) << s.to_string();
    return j;
  }
  std::vector<JournalRecord> append(Journal* j, uint64_t seq, int count, size_t size) {
    std::vector<JournalRecord> out;
    for (int i = 0; i < count; ++i, ++seq) {
      out.push_back(make_record(seq, 1, size));
      EXPECT_TRUE(j->append_and_wait(out.back()).ok());
    }
    return out;
  }
  std::string seg(uint64_t seq) const { return dir_ + "/" + format::segment_name(seq); }

  std::string root_;
  std::string dir_;
};

TEST_F(PosixJournalTest, WriteSyncReopenReadBack) {
  std::vector<JournalRecord> want;
  {
    auto j = open_journal();
    want = append(j.get(), 1, 100, 3000);  // ~20 per 64 KiB segment
    EXPECT_GE(j->stats().segment_count, 5u);
  }
  EXPECT_EQ(fsys::file_size(seg(1)), 64u * 1024);  // preallocated
  auto r = read_all(posix_file_system(), dir_, 0, 16 * 1024);
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  expect_records(r.records, want);
  JournalOpenReport report;
  auto j = open_journal(&report);
  EXPECT_EQ(report.next_seq, 101u);
  auto more = append(j.get(), 101, 10, 10);
  j.reset();
  want.insert(want.end(), more.begin(), more.end());
  expect_records(read_all(posix_file_system(), dir_, 0, 16 * 1024).records, want);
}

TEST_F(PosixJournalTest, TornTailByTruncationIsCutOnReopen) {
  std::vector<JournalRecord> want;
  {
    auto j = open_journal();
    want = append(j.get(), 1, 5, 1000);
  }
  const uint64_t cut = kSegmentHeaderSize + 4 * (kFrameHeaderSize + 1000) + 500;
  fsys::resize_file(seg(1), cut);  // the last record is half there
  auto r = read_all(posix_file_system(), dir_, 0, 16 * 1024);
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.torn_tail);
  EXPECT_EQ(r.records.size(), 4u);
  JournalOpenReport report;
  auto j = open_journal(&report);
  EXPECT_TRUE(report.torn_tail_cut);
  EXPECT_EQ(report.next_seq, 5u);
  EXPECT_EQ(fsys::file_size(seg(1)), 64u * 1024);
  auto more = append(j.get(), 5, 1, 10);
  j.reset();
  want[4] = more[0];
  r = read_all(posix_file_system(), dir_, 0, 16 * 1024);
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.torn_tail);
  expect_records(r.records, want);
}

TEST_F(PosixJournalTest, BitFlipIsCorruptionNamingFileAndOffset) {
  {
    auto j = open_journal();
    append(j.get(), 1, 5, 1000);
  }
  const uint64_t at = kSegmentHeaderSize + 1 * (kFrameHeaderSize + 1000);
  {
    std::fstream f(seg(1), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at + 100));
    char c = 0;
    f.read(&c, 1);
    c ^= 0x10;
    f.seekp(static_cast<std::streamoff>(at + 100));
    f.write(&c, 1);
  }
  auto r = read_all(posix_file_system(), dir_, 0, 16 * 1024);
  EXPECT_EQ(r.status.code(), StatusCode::corruption);
  EXPECT_NE(r.status.message().find(format::segment_name(1)), std::string::npos);
  EXPECT_NE(r.status.message().find("offset " + std::to_string(at)), std::string::npos)
      << r.status.message();
  std::unique_ptr<Journal> j;
  EXPECT_EQ(Journal::open(options(), &j).code(), StatusCode::corruption);
  RepairReport repair;
  ASSERT_TRUE(repair_journal(options(), &repair).ok());
  EXPECT_EQ(repair.offset, at);
  r = read_all(posix_file_system(), dir_, 0, 16 * 1024);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.records.size(), 1u);
}

TEST_F(PosixJournalTest, RetentionDeletesFilesAndTempFilesAreCleared) {
  {
    auto j = open_journal();
    append(j.get(), 1, 100, 3000);
    uint32_t removed = 0;
    ASSERT_TRUE(j->remove_segments_below(50, &removed).ok());
    EXPECT_GE(removed, 1u);
    EXPECT_FALSE(fsys::exists(seg(1)));
  }
  std::ofstream(seg(500) + ".tmp") << "half-made segment";
  JournalOpenReport report;
  auto j = open_journal(&report);
  EXPECT_EQ(report.temp_files_removed, 1u);
  EXPECT_EQ(report.next_seq, 101u);
  auto r = read_all(posix_file_system(), dir_, 50, 16 * 1024);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.records.size(), 51u);
  EXPECT_EQ(r.records.front().first_seq, 50u);
}

}  // namespace
}  // namespace coffer::storage
