// The in-memory file system's crash semantics, which the journal's crash tests
// rely on: only synced data and directory entries survive, optionally plus a
// prefix of the unsynced writes in issue order.
#include "storage/memory_file_system.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace coffer::storage {
namespace {

std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s)
    out.push_back(static_cast<std::byte>(c));
  return out;
}

class MemoryFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs_.create_dir("/d").ok()); }
  std::unique_ptr<File> create(const std::string& path) {
    std::unique_ptr<File> f;
    EXPECT_TRUE(fs_.open(path, OpenMode::create_truncate, &f).ok());
    return f;
  }
  MemoryFileSystem fs_;
};

TEST_F(MemoryFileSystemTest, ReadsSeeWritesBeforeSync) {
  auto f = create("/d/a");
  ASSERT_TRUE(f->write_at(0, bytes("hello")).ok());
  std::vector<std::byte> out(10);
  size_t n = 0;
  ASSERT_TRUE(f->read_at(1, out, &n).ok());
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(out[0], std::byte{'e'});
}

TEST_F(MemoryFileSystemTest, CrashDropsUnsyncedDataAndUnsyncedNames) {
  auto f = create("/d/a");
  ASSERT_TRUE(f->write_at(0, bytes("durable")).ok());
  ASSERT_TRUE(f->sync_data().ok());
  ASSERT_TRUE(fs_.sync_dir("/d").ok());
  ASSERT_TRUE(f->write_at(7, bytes("-lost")).ok());
  auto g = create("/d/b");  // name never synced
  ASSERT_TRUE(g->write_at(0, bytes("x")).ok());
  ASSERT_TRUE(g->sync_data().ok());
  fs_.crash();
  EXPECT_EQ(fs_.contents("/d/a"), bytes("durable"));
  EXPECT_FALSE(fs_.exists("/d/b"));
  EXPECT_FALSE(f->write_at(0, bytes("z")).ok()) << "handles from before the crash are dead";
}

TEST_F(MemoryFileSystemTest, SyncedDataUnderAnUnsyncedNameIsLost) {
  auto f = create("/d/a.tmp");
  ASSERT_TRUE(f->write_at(0, bytes("abc")).ok());
  ASSERT_TRUE(f->sync_data().ok());
  ASSERT_TRUE(fs_.sync_dir("/d").ok());
  ASSERT_TRUE(fs_.rename("/d/a.tmp", "/d/a").ok());
  fs_.crash();
  EXPECT_TRUE(fs_.exists("/d/a.tmp"));
  EXPECT_FALSE(fs_.exists("/d/a"));
}

TEST_F(MemoryFileSystemTest, CrashKeepsAPrefixOfUnsyncedWrites) {
  bool saw_partial = false;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    MemoryFileSystem fs;
    ASSERT_TRUE(fs.create_dir("/d").ok());
    std::unique_ptr<File> f;
    ASSERT_TRUE(fs.open("/d/a", OpenMode::create_truncate, &f).ok());
    ASSERT_TRUE(f->sync_data().ok());
    ASSERT_TRUE(fs.sync_dir("/d").ok());
    ASSERT_TRUE(f->write_at(0, bytes("0123456789")).ok());
    ASSERT_TRUE(f->write_at(10, bytes("abcdefghij")).ok());
    fs.crash(/*keep_unsynced_prefix=*/true, seed);
    auto got = fs.contents("/d/a");
    auto full = bytes("0123456789abcdefghij");
    ASSERT_LE(got.size(), full.size());
    EXPECT_TRUE(std::equal(got.begin(), got.end(), full.begin())) << "seed " << seed;
    if (!got.empty() && got.size() < full.size()) saw_partial = true;
  }
  EXPECT_TRUE(saw_partial);
}

TEST_F(MemoryFileSystemTest, FailedSyncMakesNothingDurable) {
  auto f = create("/d/a");
  ASSERT_TRUE(fs_.sync_dir("/d").ok());
  ASSERT_TRUE(f->write_at(0, bytes("abc")).ok());
  fs_.set_fault_hook([](FsOp op, std::string_view, uint64_t, uint64_t) {
    return op == FsOp::sync ? Fault::io_error : Fault::none;
  });
  EXPECT_EQ(f->sync_data().code(), StatusCode::io_error);
  fs_.set_fault_hook(nullptr);
  fs_.crash();
  EXPECT_TRUE(fs_.contents("/d/a").empty());
}

TEST_F(MemoryFileSystemTest, ShortWriteAndSpaceLimit) {
  auto f = create("/d/a");
  fs_.set_fault_hook([](FsOp op, std::string_view, uint64_t, uint64_t) {
    return op == FsOp::write ? Fault::short_write : Fault::none;
  });
  EXPECT_EQ(f->write_at(0, bytes("12345678")).code(), StatusCode::io_error);
  EXPECT_EQ(fs_.contents("/d/a"), bytes("1234"));
  fs_.set_fault_hook(nullptr);
  fs_.set_space_limit_bytes(6);
  Status s = f->write_at(4, bytes("5678"));
  EXPECT_EQ(s.code(), StatusCode::no_space);
  EXPECT_EQ(fs_.contents("/d/a"), bytes("123456"));
  EXPECT_EQ(f->allocate(100).code(), StatusCode::no_space);
  EXPECT_TRUE(f->write_at(0, bytes("ab")).ok()) << "overwrites need no space";
}

TEST_F(MemoryFileSystemTest, PowerOffFailsEverythingUntilCrash) {
  auto f = create("/d/a");
  fs_.power_off();
  EXPECT_FALSE(f->write_at(0, bytes("a")).ok());
  EXPECT_FALSE(fs_.sync_dir("/d").ok());
  fs_.crash();
  EXPECT_TRUE(create("/d/b") != nullptr);
}

TEST_F(MemoryFileSystemTest, ListAndRemove) {
  create("/d/a");
  create("/d/b");
  std::vector<std::string> names;
  ASSERT_TRUE(fs_.list("/d", &names).ok());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(fs_.remove("/d/a").ok());
  EXPECT_EQ(fs_.remove("/d/a").code(), StatusCode::not_found);
  EXPECT_EQ(fs_.list("/nope", &names).code(), StatusCode::not_found);
}

}  // namespace
}  // namespace coffer::storage
