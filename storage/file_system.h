// The file system behind the journal, as a small interface so that tests and
// simulations run on an in-memory implementation with injected faults
// (memory_file_system.h) while the server uses POSIX.
//
// Paths are plain strings joined with '/'. All operations return Status; none
// throws. A File is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "storage/status.h"

namespace coffer::storage {

class File {
 public:
  virtual ~File() = default;
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Writes all of `data` at `offset` or fails. A short write is an error
  // (io_error or no_space) and may leave a prefix of `data` written.
  virtual Status write_at(uint64_t offset, std::span<const std::byte> data) = 0;
  // Reads up to out.size() bytes at `offset`; *read_size < out.size() only at
  // end of file.
  virtual Status read_at(uint64_t offset, std::span<std::byte> out, size_t* read_size) = 0;
  // fdatasync: data written so far (and the size) survive power loss.
  virtual Status sync_data() = 0;
  // posix_fallocate(0, size): reserves blocks so later writes inside do not
  // allocate; grows the file to at least `size` with zeros.
  virtual Status allocate(uint64_t size) = 0;
  virtual Status truncate(uint64_t size) = 0;
  virtual Status size(uint64_t* size) = 0;
};

enum class OpenMode : uint8_t {
  read_only,
  read_write,       // existing file
  create_truncate,  // create or empty, read-write
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Status open(const std::string& path, OpenMode mode, std::unique_ptr<File>* file) = 0;
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  // File names (not paths) in `dir`, without "." and "..", in no given order.
  virtual Status list(const std::string& dir, std::vector<std::string>* names) = 0;
  // fsync on the directory: makes creations, renames and removals durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  // mkdir; an existing directory is not an error.
  virtual Status create_dir(const std::string& dir) = 0;
};

// The process-wide POSIX file system (never destroyed).
FileSystem* posix_file_system();

}  // namespace coffer::storage
