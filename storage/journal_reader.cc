// The journal reader and repair: where data ends, torn tail or corruption.
#include <algorithm>

#include "core/assert.h"
#include "storage/journal.h"
#include "storage/journal_format.h"

namespace coffer::storage {

Status JournalReader::open(const Options& options, uint64_t from_seq,
                           std::unique_ptr<JournalReader>* reader) {
  std::unique_ptr<JournalReader> r(new JournalReader());
  r->options_ = options;
  r->fs_ = options.fs != nullptr ? options.fs : posix_file_system();
  r->from_seq_ = from_seq;
  if (Status s = list_segments(r->fs_, options.dir, &r->segments_); !s.ok()) return s;
  // Start at the last segment whose first record is <= from_seq: the ones
  // before hold only smaller sequence numbers.
  for (size_t i = 1; i < r->segments_.size(); ++i) {
    if (r->segments_[i].first <= from_seq) r->index_ = i;
  }
  *reader = std::move(r);
  return Status();
}

Status JournalReader::fail(const std::string& file, uint64_t offset, const std::string& what) {
  error_file_ = file;
  error_offset_ = offset;
  error_ = Status(StatusCode::corruption,
                  options_.dir + "/" + file + " offset " + std::to_string(offset) + ": " + what);
  return error_;
}

Status JournalReader::load_segment(size_t index) {
  const auto& [name_seq, name] = segments_[index];
  std::unique_ptr<File> file;
  const std::string path = options_.dir + "/" + name;
  if (Status s = fs_->open(path, OpenMode::read_only, &file); !s.ok()) return error_ = s;
  uint64_t size = 0;
  if (Status s = file->size(&size); !s.ok()) return error_ = s;
  data_.resize(size);
  size_t got = 0;
  if (Status s = file->read_at(0, data_, &got); !s.ok()) return error_ = s;
  data_.resize(got);
  if (data_.size() < kSegmentHeaderSize) return fail(name, 0, "segment shorter than its header");
  uint64_t header_seq = 0;
  auto h = format::decode_segment_header(data_, &header_seq);
  if (h != format::SegmentHeaderResult::ok) return fail(name, 0, "bad segment header");
  if (header_seq != name_seq) {
    return fail(name, 0, "segment header says first_seq " + std::to_string(header_seq));
  }
  if (expected_known_ && header_seq != expected_seq_) {
    return fail(name, 0,
                header_seq > expected_seq_
                    ? "missing segment: sequence numbers " + std::to_string(expected_seq_) + ".." +
                          std::to_string(header_seq - 1) + " are in no file"
                    : "segment overlaps the previous one: expected first_seq " +
                          std::to_string(expected_seq_));
  }
  expected_seq_ = header_seq;
  expected_known_ = true;
  offset_ = kSegmentHeaderSize;
  end_file_ = name;
  end_offset_ = offset_;
  return Status();
}

Status JournalReader::next(JournalRecordView* record, bool* has_record) {
  *has_record = false;
  if (!error_.ok()) return error_;
  while (!done_) {
    if (!loaded_) {
      if (index_ >= segments_.size()) {
        done_ = true;
        break;
      }
      if (Status s = load_segment(index_); !s.ok()) return s;
      loaded_ = true;
    }
    const std::string& name = segments_[index_].second;
    const bool last = index_ + 1 == segments_.size();
    format::FrameHeader h;
    std::span<const std::byte> payload;
    auto r = format::decode_frame(data_, offset_, options_.record_payload_size_max, &h, &payload);
    if (r == format::FrameResult::ok) {
      if (h.first_seq != expected_seq_) {
        return fail(name, offset_,
                    "sequence gap: expected first_seq " + std::to_string(expected_seq_) +
                        ", found " + std::to_string(h.first_seq));
      }
      offset_ += kFrameHeaderSize + h.payload_size;
      end_offset_ = offset_;
      expected_seq_ += h.command_count;
      if (h.first_seq < from_seq_) continue;
      *record = {h.first_seq, h.command_count, h.time_first_us, h.time_last_us, payload};
      *has_record = true;
      return Status();
    }
    // No valid frame here. Zeros to the end: the end of this segment's data.
    std::span<const std::byte> rest(data_.data() + offset_, data_.size() - offset_);
    if (format::all_zero(rest)) {
      if (last) {
        done_ = true;
        break;
      }
      index_++;
      loaded_ = false;
      continue;
    }
    // Bytes that do not form a record. Only the writer dying mid-write leaves
    // those, and only at the end of the last segment (it syncs a segment before
    // creating the next), with nothing valid after them. A valid record after
    // them means the bad bytes replaced data that was there: corruption.
    uint64_t found = 0;
    const bool later_valid =
        format::find_valid_frame(data_, offset_ + 1, options_.record_payload_size_max, &found);
    const std::string what = format::frame_result_name(r);
    if (later_valid) {
      return fail(name, offset_,
                  what + ", followed by a valid record at offset " + std::to_string(found));
    }
    if (!last) return fail(name, offset_, what + " in a segment that is not the last");
    torn_tail_ = true;
    torn_tail_file_ = name;
    torn_tail_offset_ = offset_;
    done_ = true;
  }
  return Status();
}

Status repair_journal(const JournalOptions& options, RepairReport* report) {
  *report = RepairReport{};
  FileSystem* fs = options.fs != nullptr ? options.fs : posix_file_system();
  JournalReader::Options ro{options.dir, fs, options.record_payload_size_max};
  std::unique_ptr<JournalReader> reader;
  if (Status s = JournalReader::open(ro, 0, &reader); !s.ok()) return s;
  JournalRecordView view;
  Status error;
  for (bool has = true; has;) {
    error = reader->next(&view, &has);
    if (!error.ok()) break;
  }
  if (error.ok()) return Status();  // nothing to repair (a torn tail is cut by open)
  if (error.code() != StatusCode::corruption) return error;  // I/O: do not guess

  std::vector<std::pair<uint64_t, std::string>> segments;
  if (Status s = list_segments(fs, options.dir, &segments); !s.ok()) return s;
  auto bad = std::find_if(segments.begin(), segments.end(),
                          [&](const auto& s) { return s.second == reader->error_file(); });
  COFFER_ASSERT(bad != segments.end());
  auto log = [&](const std::string& line) {
    if (options.log) {
      options.log(line);
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  };
  report->repaired = true;
  report->reason = error.to_string();
  auto first_removed = bad;
  if (reader->error_offset() < kSegmentHeaderSize) {
    // The segment itself is bad or misplaced: drop it whole.
    report->file = bad == segments.begin() ? std::string() : std::prev(bad)->second;
    report->offset = 0;
  } else {
    const std::string path = options.dir + "/" + bad->second;
    std::unique_ptr<File> file;
    if (Status s = fs->open(path, OpenMode::read_write, &file); !s.ok()) return s;
    uint64_t size = 0;
    if (Status s = file->size(&size); !s.ok()) return s;
    if (Status s = file->truncate(reader->error_offset()); !s.ok()) return s;
    if (Status s = file->allocate(size); !s.ok()) return s;  // zeros after the cut
    if (Status s = file->sync_data(); !s.ok()) return s;
    report->file = bad->second;
    report->offset = reader->error_offset();
    log("journal repair: truncated " + path + " at offset " + std::to_string(report->offset) +
        " because " + report->reason);
    first_removed = std::next(bad);
  }
  for (auto it = first_removed; it != segments.end(); ++it) {
    const std::string path = options.dir + "/" + it->second;
    if (Status s = fs->remove(path); !s.ok()) return s;
    report->segments_removed++;
    log("journal repair: removed " + path);
  }
  return fs->sync_dir(options.dir);
}

}  // namespace coffer::storage
