// Errors as values (leveldb's Status): a code plus a message naming the file
// and byte offset involved. An ok Status carries no message and allocates
// nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace coffer::storage {

// Stable numbers: they may appear in logs and metrics. DO NOT RENUMBER.
enum class StatusCode : uint8_t {
  ok = 0,
  io_error = 1,          // EIO and friends; also short writes
  no_space = 2,          // ENOSPC / EDQUOT
  corruption = 3,        // bad checksum, bad length, sequence gap, missing segment
  invalid_argument = 4,  // caller broke the contract (e.g. out-of-order record)
  not_found = 5,         // missing file or directory
  poisoned = 6,          // an earlier write or sync failed; restart required
  queue_full = 7,        // backpressure: the writer queue is at its limit
  closed = 8,            // the journal is shutting down
};

std::string_view status_code_name(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }

  bool ok() const { return code_ == StatusCode::ok; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corruption: journal-...wal offset 4096: checksum mismatch"
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::ok;
  std::string message_;
};

}  // namespace coffer::storage
