// The journal writer: queue, group commit, segment files, poisoning.
#include "storage/journal.h"

#include <algorithm>
#include <cstdio>
#include <future>

#include "core/assert.h"
#include "storage/journal_format.h"

namespace coffer::storage {

Status list_segments(FileSystem* fs, const std::string& dir,
                     std::vector<std::pair<uint64_t, std::string>>* segments) {
  std::vector<std::string> names;
  if (Status s = fs->list(dir, &names); !s.ok()) return s;
  segments->clear();
  for (const auto& name : names) {
    if (auto seq = format::parse_segment_name(name)) segments->emplace_back(*seq, name);
  }
  std::sort(segments->begin(), segments->end());
  return Status();
}

namespace {

Status validate_options(const JournalOptions& o) {
  if (o.dir.empty()) return Status(StatusCode::invalid_argument, "journal dir is empty");
  if (o.segment_size_bytes < kSegmentSizeMin || o.segment_size_bytes > kSegmentSizeMax) {
    return Status(StatusCode::invalid_argument,
                  "segment_size_bytes out of range: " + std::to_string(o.segment_size_bytes));
  }
  if (o.record_payload_size_max > kRecordPayloadSizeMax ||
      o.segment_size_bytes < kSegmentHeaderSize + kFrameHeaderSize + o.record_payload_size_max) {
    return Status(StatusCode::invalid_argument,
                  "record_payload_size_max " + std::to_string(o.record_payload_size_max) +
                      " does not fit in an empty segment of " +
                      std::to_string(o.segment_size_bytes) + " bytes");
  }
  if (o.queue_record_count_max == 0 ||
      o.queue_size_bytes_max < kFrameHeaderSize + o.record_payload_size_max) {
    return Status(StatusCode::invalid_argument, "queue limits below one record");
  }
  return Status();
}

}  // namespace

Journal::Journal(const JournalOptions& options)
    : options_(options), fs_(options.fs != nullptr ? options.fs : posix_file_system()) {}

Status Journal::open(const JournalOptions& options, std::unique_ptr<Journal>* journal,
                     JournalOpenReport* report) {
  if (Status s = validate_options(options); !s.ok()) return s;
  JournalOpenReport local;
  if (report == nullptr) report = &local;
  *report = JournalOpenReport{};
  std::unique_ptr<Journal> j(new Journal(options));
  if (Status s = j->open_existing(report); !s.ok()) return s;
  if (options.writer_thread) j->thread_ = std::thread([p = j.get()] { p->writer_loop(); });
  *journal = std::move(j);
  return Status();
}

Status Journal::open_existing(JournalOpenReport* report) {
  if (Status s = fs_->create_dir(options_.dir); !s.ok()) return s;
  // Make the directory's own entry durable, or a new journal could vanish whole.
  const size_t slash = options_.dir.find_last_of('/');
  const std::string parent = slash == std::string::npos ? "."
                             : slash == 0               ? "/"
                                                        : options_.dir.substr(0, slash);
  if (Status s = fs_->sync_dir(parent); !s.ok()) return s;
  // A .tmp is a segment whose creation did not finish; it never held records.
  std::vector<std::string> names;
  if (Status s = fs_->list(options_.dir, &names); !s.ok()) return s;
  for (const auto& name : names) {
    const std::string suffix = format::kTempSuffix;
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        format::parse_segment_name(name.substr(0, name.size() - suffix.size()))) {
      if (Status s = fs_->remove(path(name)); !s.ok()) return s;
      report->temp_files_removed++;
    }
  }
  if (report->temp_files_removed > 0) {
    if (Status s = fs_->sync_dir(options_.dir); !s.ok()) return s;
  }

  std::vector<std::pair<uint64_t, std::string>> found;
  if (Status s = list_segments(fs_, options_.dir, &found); !s.ok()) return s;
  report->segment_count = static_cast<uint32_t>(found.size());
  if (found.empty()) return Status();  // the first record creates the first segment
  report->empty = false;

  // Find the end of data in the last segment.
  const auto& [last_seq, last_name] = found.back();
  JournalReader::Options ro{options_.dir, fs_, options_.record_payload_size_max};
  std::unique_ptr<JournalReader> reader;
  if (Status s = JournalReader::open(ro, last_seq, &reader); !s.ok()) return s;
  JournalRecordView view;
  for (bool has = true; has;) {
    if (Status s = reader->next(&view, &has); !s.ok()) {
      return Status(s.code(), s.message() + " (repair_journal() truncates here)");
    }
  }
  COFFER_ASSERT(reader->end_file() == last_name);

  std::unique_ptr<File> file;
  if (Status s = fs_->open(path(last_name), OpenMode::read_write, &file); !s.ok()) return s;
  uint64_t file_size = 0;
  if (Status s = file->size(&file_size); !s.ok()) return s;
  if (reader->torn_tail()) {
    // Cut the partial record off and re-zero the preallocated space behind it,
    // so the next append starts on clean zeros.
    uint64_t at = reader->torn_tail_offset();
    COFFER_ASSERT(at == reader->end_offset());
    if (Status s = file->truncate(at); !s.ok()) return s;
    if (Status s = file->allocate(std::max(file_size, options_.segment_size_bytes)); !s.ok()) {
      return s;
    }
    if (Status s = file->sync_data(); !s.ok()) return s;
    if (Status s = file->size(&file_size); !s.ok()) return s;
    report->torn_tail_cut = true;
    report->torn_tail_file = last_name;
    report->torn_tail_offset = at;
    log("journal: cut torn tail of " + path(last_name) + " at offset " + std::to_string(at) +
        " (writer died mid-write; those bytes were never acknowledged)");
  }
  active_ = std::move(file);
  active_size_bytes_ = file_size;
  write_offset_ = reader->end_offset();
  submit_next_seq_ = reader->next_seq();
  durable_next_seq_.store(reader->next_seq());
  report->next_seq = reader->next_seq();
  std::lock_guard lock(segments_mu_);
  for (const auto& [seq, name] : found)
    segments_.push_back({seq, name});
  return Status();
}

Journal::~Journal() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Journal::submit(JournalRecord record, Completion completion) {
  if (record.command_count == 0 || record.command_count > kRecordCommandCountMax) {
    return Status(StatusCode::invalid_argument,
                  "command_count " + std::to_string(record.command_count) + " out of range");
  }
  if (record.payload.size() > options_.record_payload_size_max) {
    return Status(StatusCode::invalid_argument,
                  "payload of " + std::to_string(record.payload.size()) + " bytes over the limit");
  }
  if (record.first_seq == 0 || record.first_seq + record.command_count < record.first_seq ||
      record.time_first_us > record.time_last_us) {
    return Status(StatusCode::invalid_argument, "bad sequence range or times");
  }
  const uint64_t size_bytes = kFrameHeaderSize + record.payload.size();
  std::unique_lock lock(queue_mu_);
  if (stopping_) return Status(StatusCode::closed, "journal is closing");
  if (submit_next_seq_ != 0 && record.first_seq != submit_next_seq_) {
    return Status(StatusCode::invalid_argument, "record out of sequence: expected first_seq " +
                                                    std::to_string(submit_next_seq_) + ", got " +
                                                    std::to_string(record.first_seq));
  }
  const uint64_t queued_count = queued_record_count_.load(std::memory_order_relaxed);
  const uint64_t queued_bytes = queued_size_bytes_.load(std::memory_order_relaxed);
  if (queued_count > 0 && (queued_count >= options_.queue_record_count_max ||
                           queued_bytes + size_bytes > options_.queue_size_bytes_max)) {
    return Status(StatusCode::queue_full, "journal queue full: " + std::to_string(queued_count) +
                                              " records, " + std::to_string(queued_bytes) +
                                              " bytes");
  }
  submit_next_seq_ = record.first_seq + record.command_count;
  queued_record_count_.fetch_add(1, std::memory_order_relaxed);
  queued_size_bytes_.fetch_add(size_bytes, std::memory_order_relaxed);

  if (options_.writer_thread) {
    const bool was_empty = queue_.empty();
    queue_.push_back({std::move(record), std::move(completion)});
    lock.unlock();
    if (was_empty) queue_cv_.notify_one();
    return Status();
  }
  // Synchronous mode: take the write lock before releasing the queue lock so
  // concurrent callers reach the disk in the order their sequence was checked.
  std::vector<Pending> group;
  group.push_back({std::move(record), std::move(completion)});
  Status status;
  {
    std::unique_lock write_lock(write_mu_);
    lock.unlock();
    status = write_group(group);
  }
  complete(group, status);
  return Status();
}

Status Journal::append_and_wait(JournalRecord record) {
  std::promise<Status> done;
  std::future<Status> result = done.get_future();
  Status s = submit(std::move(record), [&done](const Status& st) { done.set_value(st); });
  if (!s.ok()) return s;
  return result.get();
}

void Journal::writer_loop() {
  std::vector<Pending> group;
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything completed
      group.swap(queue_);          // take EVERYTHING queued
    }
    Status status;
    {
      std::lock_guard write_lock(write_mu_);
      status = write_group(group);
    }
    complete(group, status);
  }
}

void Journal::complete(std::vector<Pending>& group, const Status& status) {
  uint64_t bytes = 0;
  for (auto& p : group) {
    bytes += kFrameHeaderSize + p.record.payload.size();
    if (p.completion) p.completion(status);
  }
  // Counted until the completions ran, so backpressure covers records in flight.
  queued_record_count_.fetch_sub(group.size(), std::memory_order_relaxed);
  queued_size_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  group.clear();
}

Status Journal::write_group(std::vector<Pending>& group) {
  if (poisoned_.load(std::memory_order_relaxed)) {
    return Status(StatusCode::poisoned, "journal refuses writes after an earlier failure (" +
                                            poison_.to_string() + "); restart required");
  }
  auto poison = [this](Status s) {
    poison_ = s;
    poisoned_.store(true);
    return s;
  };
  buffer_.clear();
  uint64_t bytes = 0;
  for (const Pending& p : group) {
    const JournalRecord& r = p.record;
    const uint64_t frame_size = kFrameHeaderSize + r.payload.size();
    if (!active_ || write_offset_ + buffer_.size() + frame_size > active_size_bytes_) {
      if (active_) {
        if (!buffer_.empty()) {
          if (Status s = active_->write_at(write_offset_, buffer_); !s.ok()) return poison(s);
          write_offset_ += buffer_.size();
          bytes += buffer_.size();
          buffer_.clear();
        }
        // The full segment is made durable before the next one exists, so a
        // torn write can only ever be at the end of the last segment.
        if (Status s = active_->sync_data(); !s.ok()) return poison(s);
        sync_count_.fetch_add(1, std::memory_order_relaxed);
      }
      if (Status s = roll_segment(r.first_seq); !s.ok()) return poison(s);
    }
    format::encode_frame({static_cast<uint32_t>(r.payload.size()), format::kTypeBatch, r.first_seq,
                          r.command_count, r.time_first_us, r.time_last_us},
                         r.payload, &buffer_);
  }
  if (!buffer_.empty()) {
    if (Status s = active_->write_at(write_offset_, buffer_); !s.ok()) return poison(s);
    write_offset_ += buffer_.size();
    bytes += buffer_.size();
  }
  COFFER_ASSERT(write_offset_ <= active_size_bytes_);
  if (Status s = active_->sync_data(); !s.ok()) return poison(s);
  sync_count_.fetch_add(1, std::memory_order_relaxed);
  const JournalRecord& last = group.back().record;
  durable_next_seq_.store(last.first_seq + last.command_count, std::memory_order_release);
  records_written_.fetch_add(group.size(), std::memory_order_relaxed);
  bytes_written_.fetch_add(bytes, std::memory_order_relaxed);
  return Status();
}

Status Journal::roll_segment(uint64_t first_seq) {
  // Built under a temporary name and renamed only once its header and
  // preallocation are durable: a segment file either does not exist or has a
  // valid header, and preallocated zeros behind it.
  const std::string name = format::segment_name(first_seq);
  const std::string tmp = path(name) + format::kTempSuffix;
  std::unique_ptr<File> file;
  if (Status s = fs_->open(tmp, OpenMode::create_truncate, &file); !s.ok()) return s;
  std::byte header[kSegmentHeaderSize];
  format::encode_segment_header(first_seq, header);
  if (Status s = file->write_at(0, header); !s.ok()) return s;
  if (Status s = file->allocate(options_.segment_size_bytes); !s.ok()) return s;
  if (Status s = file->sync_data(); !s.ok()) return s;
  if (Status s = fs_->rename(tmp, path(name)); !s.ok()) return s;
  if (Status s = fs_->sync_dir(options_.dir); !s.ok()) return s;
  active_ = std::move(file);
  active_size_bytes_ = options_.segment_size_bytes;
  write_offset_ = kSegmentHeaderSize;
  std::lock_guard lock(segments_mu_);
  COFFER_ASSERT(segments_.empty() || segments_.back().first_seq < first_seq);
  segments_.push_back({first_seq, name});
  return Status();
}

Status Journal::remove_segments_below(uint64_t seq, uint32_t* removed_count) {
  std::lock_guard lock(segments_mu_);
  uint32_t removed = 0;
  // Segment i holds records < segments_[i+1].first_seq; the last one is active.
  Status status;
  while (segments_.size() >= 2 && segments_[1].first_seq <= seq) {
    status = fs_->remove(path(segments_.front().name));
    if (!status.ok()) break;
    segments_.erase(segments_.begin());
    removed++;
  }
  if (removed > 0 && status.ok()) status = fs_->sync_dir(options_.dir);
  if (removed_count != nullptr) *removed_count = removed;
  return status;
}

JournalStats Journal::stats() const {
  JournalStats s;
  s.queued_record_count = queued_record_count_.load(std::memory_order_relaxed);
  s.queued_size_bytes = queued_size_bytes_.load(std::memory_order_relaxed);
  s.durable_next_seq = durable_next_seq_.load(std::memory_order_acquire);
  s.records_written = records_written_.load(std::memory_order_relaxed);
  s.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  s.sync_count = sync_count_.load(std::memory_order_relaxed);
  s.poisoned = poisoned_.load(std::memory_order_relaxed);
  std::lock_guard lock(segments_mu_);
  s.segment_count = static_cast<uint32_t>(segments_.size());
  return s;
}

void Journal::log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace coffer::storage
