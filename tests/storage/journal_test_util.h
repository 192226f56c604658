// Helpers shared by the journal tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/journal.h"
#include "storage/journal_format.h"

namespace coffer::storage::testing {

// Deterministic payload: `size` bytes derived from `seq` and `salt`.
inline std::vector<std::byte> make_payload(uint64_t seq, size_t size, uint32_t salt = 0) {
  std::vector<std::byte> p(size);
  uint64_t x = seq * 0x9e3779b97f4a7c15ull + salt + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = static_cast<std::byte>(x);
  }
  return p;
}

inline JournalRecord make_record(uint64_t first_seq, uint32_t command_count, size_t payload_size,
                                 uint32_t salt = 0) {
  JournalRecord r;
  r.first_seq = first_seq;
  r.command_count = command_count;
  r.time_first_us = 1'000'000 + first_seq * 10;
  r.time_last_us = r.time_first_us + command_count;
  r.payload = make_payload(first_seq, payload_size, salt);
  return r;
}

struct ReadResult {
  Status status;
  std::vector<JournalRecord> records;
  bool torn_tail = false;
  std::string torn_tail_file;
  uint64_t torn_tail_offset = 0;
  std::string error_file;
  uint64_t error_offset = 0;
};

inline ReadResult read_all(FileSystem* fs, const std::string& dir, uint64_t from_seq = 0,
                           uint32_t payload_size_max = kRecordPayloadSizeMax) {
  ReadResult out;
  std::unique_ptr<JournalReader> reader;
  out.status = JournalReader::open({dir, fs, payload_size_max}, from_seq, &reader);
  if (!out.status.ok()) return out;
  JournalRecordView v;
  for (bool has = true;;) {
    out.status = reader->next(&v, &has);
    if (!out.status.ok() || !has) break;
    out.records.push_back({v.first_seq, v.command_count, v.time_first_us, v.time_last_us,
                           std::vector<std::byte>(v.payload.begin(), v.payload.end())});
  }
  out.torn_tail = reader->torn_tail();
  out.torn_tail_file = reader->torn_tail_file();
  out.torn_tail_offset = reader->torn_tail_offset();
  out.error_file = reader->error_file();
  out.error_offset = reader->error_offset();
  return out;
}

inline bool same_record(const JournalRecord& a, const JournalRecord& b) {
  return a.first_seq == b.first_seq && a.command_count == b.command_count &&
         a.time_first_us == b.time_first_us && a.time_last_us == b.time_last_us &&
         a.payload == b.payload;
}

// Expects `got` to equal `want` record by record.
inline void expect_records(const std::vector<JournalRecord>& got,
                           const std::vector<JournalRecord>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(same_record(got[i], want[i]))
        << "record " << i << " first_seq " << want[i].first_seq;
  }
}

}  // namespace coffer::storage::testing
