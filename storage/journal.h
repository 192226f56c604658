// The journal: Coffer's write-ahead log of input batches (DESIGN.md,
// "Durability and recovery"; on-disk grammar in storage/JOURNAL.md).
//
// Each record is one sequencer batch: opaque payload bytes with the sequence
// range and timestamps of its commands. Records are appended in strictly
// increasing sequence order with no gaps, into preallocated segment files named
// by their first sequence number.
//
// Writer: submit() from the sequencer thread never does I/O; a writer thread
// takes everything queued, writes it, issues ONE fdatasync and only then runs
// the completions of those records, in order. After any failed write or sync
// the journal is poisoned (leveldb's bg_error_): that batch and every later one
// complete with an error until the process re-opens the journal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "storage/constants.h"
#include "storage/file_system.h"
#include "storage/status.h"

namespace coffer::storage {

struct JournalRecord {
  uint64_t first_seq = 0;
  uint32_t command_count = 0;  // >= 1; the next record starts at first_seq + command_count
  uint64_t time_first_us = 0;
  uint64_t time_last_us = 0;  // >= time_first_us
  std::vector<std::byte> payload;
};

// A record as read back; `payload` points into the reader's buffer and stays
// valid until the next call on that reader.
struct JournalRecordView {
  uint64_t first_seq = 0;
  uint32_t command_count = 0;
  uint64_t time_first_us = 0;
  uint64_t time_last_us = 0;
  std::span<const std::byte> payload;
};

struct JournalOptions {
  std::string dir;
  FileSystem* fs = nullptr;  // nullptr: posix_file_system()
  uint64_t segment_size_bytes = kSegmentSizeDefault;
  uint32_t record_payload_size_max = kRecordPayloadSizeMax;
  // Backpressure limits on records submitted and not yet completed.
  uint32_t queue_record_count_max = kQueueRecordCountDefault;
  uint64_t queue_size_bytes_max = kQueueSizeBytesDefault;
  // false: no writer thread; submit() writes and syncs in the caller and runs
  // the completion before returning (tests, tools).
  bool writer_thread = true;
  // Where notable events go (torn tail cut off, repair). nullptr: stderr.
  std::function<void(const std::string&)> log;
};

// What open() found at the end of the journal.
struct JournalOpenReport {
  bool empty = true;           // no segment existed
  bool torn_tail_cut = false;  // a partial record at the end was cut off
  std::string torn_tail_file;  // segment name
  uint64_t torn_tail_offset = 0;
  uint64_t next_seq = 0;  // first_seq the next record must have (0: any)
  uint32_t segment_count = 0;
  uint32_t temp_files_removed = 0;
};

struct JournalStats {
  uint64_t queued_record_count = 0;  // submitted, completion not yet run
  uint64_t queued_size_bytes = 0;
  uint64_t durable_next_seq = 0;  // every record below this is durable (0: none yet)
  uint64_t records_written = 0;
  uint64_t bytes_written = 0;
  uint64_t sync_count = 0;  // fdatasyncs issued for record data (group commits)
  uint32_t segment_count = 0;
  bool poisoned = false;
};

class Journal {
 public:
  // Runs on the writer thread (or in submit() without one). Must not block for
  // long: the next group waits for it.
  using Completion = std::function<void(const Status&)>;

  // Opens (creating if needed) the journal in options.dir. Verifies the last
  // segment and cuts off a torn tail (logged, reported). Corruption in the last
  // segment fails with the file and offset: run repair_journal() if an operator
  // accepts losing what follows. Earlier segments are verified by readers.
  static Status open(const JournalOptions& options, std::unique_ptr<Journal>* journal,
                     JournalOpenReport* report = nullptr);

  // Stops accepting records, completes everything queued, joins the thread.
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // From the producer thread; does no I/O with a writer thread. On ok the
  // completion runs exactly once, later. On error (invalid_argument for a
  // record out of sequence or over a limit, queue_full for backpressure, closed)
  // the record is not taken and the completion never runs.
  Status submit(JournalRecord record, Completion completion);

  // Convenience for tests and tools: submit and wait for the completion.
  Status append_and_wait(JournalRecord record);

  // Deletes segments all of whose records are below `seq` (never the segment
  // being written). *removed_count: how many. Thread-safe.
  Status remove_segments_below(uint64_t seq, uint32_t* removed_count = nullptr);

  JournalStats stats() const;
  uint64_t queued_size_bytes() const { return queued_size_bytes_.load(std::memory_order_relaxed); }
  uint64_t queued_record_count() const {
    return queued_record_count_.load(std::memory_order_relaxed);
  }

 private:
  struct Pending {
    JournalRecord record;
    Completion completion;
  };
  struct Segment {
    uint64_t first_seq;
    std::string name;
  };

  explicit Journal(const JournalOptions& options);
  Status open_existing(JournalOpenReport* report);
  void writer_loop();
  // Writes and syncs a group; REQUIRES: write_mu_ held. Poisons on failure.
  Status write_group(std::vector<Pending>& group);
  Status roll_segment(uint64_t first_seq);
  void complete(std::vector<Pending>& group, const Status& status);
  void log(const std::string& line) const;
  std::string path(const std::string& name) const { return options_.dir + "/" + name; }

  const JournalOptions options_;
  FileSystem* const fs_;

  // Producer side.
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<Pending> queue_;    // GUARDED_BY(queue_mu_)
  bool stopping_ = false;         // GUARDED_BY(queue_mu_)
  uint64_t submit_next_seq_ = 0;  // GUARDED_BY(queue_mu_); 0: not yet known
  std::atomic<uint64_t> queued_record_count_{0};
  std::atomic<uint64_t> queued_size_bytes_{0};

  // Writer side.
  std::mutex write_mu_;
  std::unique_ptr<File> active_;    // GUARDED_BY(write_mu_)
  uint64_t write_offset_ = 0;       // GUARDED_BY(write_mu_)
  uint64_t active_size_bytes_ = 0;  // GUARDED_BY(write_mu_); the active file's preallocated size
  std::vector<std::byte> buffer_;   // GUARDED_BY(write_mu_)
  Status poison_;                   // GUARDED_BY(write_mu_)
  std::atomic<bool> poisoned_{false};
  std::atomic<uint64_t> durable_next_seq_{0};
  std::atomic<uint64_t> records_written_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> sync_count_{0};

  mutable std::mutex segments_mu_;
  std::vector<Segment> segments_;  // GUARDED_BY(segments_mu_), by first_seq

  std::thread thread_;
};

// Reads records with first_seq >= from_seq across segments, in order,
// verifying checksums and sequence continuity.
class JournalReader {
 public:
  struct Options {
    std::string dir;
    FileSystem* fs = nullptr;  // nullptr: posix_file_system()
    uint32_t record_payload_size_max = kRecordPayloadSizeMax;
  };

  static Status open(const Options& options, uint64_t from_seq,
                     std::unique_ptr<JournalReader>* reader);

  // *has_record = false at the end of the journal (status ok). Corruption,
  // a sequence gap or a missing segment fail with file and offset; the reader
  // then stays failed.
  Status next(JournalRecordView* record, bool* has_record);

  // After the end: a partial record at the end of the last segment (the writer
  // died mid-write). Not an error; Journal::open cuts it off.
  bool torn_tail() const { return torn_tail_; }
  const std::string& torn_tail_file() const { return torn_tail_file_; }
  uint64_t torn_tail_offset() const { return torn_tail_offset_; }
  // Where the last good record ended (segment name, offset): the end of data.
  const std::string& end_file() const { return end_file_; }
  uint64_t end_offset() const { return end_offset_; }
  // The sequence number the record after the last one read would carry.
  uint64_t next_seq() const { return expected_seq_; }

  // Where next() failed, for repair (empty if it did not).
  const std::string& error_file() const { return error_file_; }
  uint64_t error_offset() const { return error_offset_; }

 private:
  JournalReader() = default;
  Status load_segment(size_t index);
  Status fail(const std::string& file, uint64_t offset, const std::string& what);

  Options options_;
  FileSystem* fs_ = nullptr;
  std::vector<std::pair<uint64_t, std::string>> segments_;  // (first_seq, name)
  size_t index_ = 0;                                        // next segment to load
  bool loaded_ = false;
  bool done_ = false;
  Status error_;
  std::vector<std::byte> data_;  // the current segment, whole
  uint64_t offset_ = 0;
  uint64_t from_seq_ = 0;
  uint64_t expected_seq_ = 0;
  bool expected_known_ = false;
  bool torn_tail_ = false;
  std::string torn_tail_file_;
  uint64_t torn_tail_offset_ = 0;
  std::string end_file_;
  uint64_t end_offset_ = 0;
  std::string error_file_;
  uint64_t error_offset_ = 0;
};

// Lists segment files of `dir` sorted by first_seq (names, parsed).
Status list_segments(FileSystem* fs, const std::string& dir,
                     std::vector<std::pair<uint64_t, std::string>>* segments);

struct RepairReport {
  bool repaired = false;  // false: nothing was wrong
  std::string file;       // where the journal now ends
  uint64_t offset = 0;
  uint32_t segments_removed = 0;
  std::string reason;  // the error that was repaired
};

// Operator's choice after open/replay reported corruption: reads the whole
// journal and truncates it at the first corruption, sequence gap or missing
// segment, deleting everything after. Loses data by design; logs what it drops.
Status repair_journal(const JournalOptions& options, RepairReport* report);

}  // namespace coffer::storage
