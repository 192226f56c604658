// An in-memory FileSystem for tests and simulations, with fault injection and
// power loss. It keeps, per file, the bytes a reader sees now and the bytes that
// were made durable by the last sync_data; per directory, the names made durable
// by the last sync_dir. crash() throws away everything not durable, optionally
// keeping a random prefix of the unsynced writes (in the order they were
// issued) to model torn writes. Thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/file_system.h"

namespace coffer::storage {

enum class FsOp : uint8_t {
  open,
  write,
  read,
  sync,
  allocate,
  truncate,
  size,
  rename,
  remove,
  list,
  sync_dir,
  create_dir
};

enum class Fault : uint8_t {
  none,
  io_error,     // the operation fails with EIO and changes nothing
  no_space,     // fails with ENOSPC and changes nothing
  short_write,  // write only: writes the first half, then fails with EIO
};

class MemoryFileSystem final : public FileSystem {
 public:
  // Called before every operation (with the lock held: do not call back into the
  // file system). `size` is the byte count of writes/reads/allocations.
  using FaultHook =
      std::function<Fault(FsOp op, std::string_view path, uint64_t offset, uint64_t size)>;

  MemoryFileSystem();
  ~MemoryFileSystem() override;

  Status open(const std::string& path, OpenMode mode, std::unique_ptr<File>* file) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status list(const std::string& dir, std::vector<std::string>* names) override;
  Status sync_dir(const std::string& dir) override;
  Status create_dir(const std::string& dir) override;

  // --- Faults ---
  void set_fault_hook(FaultHook hook);
  // Total file bytes allowed (0 = unlimited); beyond it writes are short and
  // fail, allocations fail, with no_space.
  void set_space_limit_bytes(uint64_t limit_bytes);
  // Power cut: every later operation fails with io_error until crash().
  void power_off();
  // Restart after power loss. Unsynced bytes are dropped; with
  // keep_unsynced_prefix, a prefix of random length (from `seed`) of the
  // unsynced operations survives, the last write possibly torn. Open File
  // handles from before the crash fail with io_error.
  void crash(bool keep_unsynced_prefix = false, uint64_t seed = 0);

  // --- Inspection and tampering (tests) ---
  bool exists(const std::string& path) const;
  // Current (not necessarily durable) contents; empty if missing.
  std::vector<std::byte> contents(const std::string& path) const;
  // Replaces the contents as if written and synced (durable at once).
  void set_contents(const std::string& path, std::vector<std::byte> data);
  uint64_t used_bytes() const;
  uint64_t sync_count() const;

 private:
  struct Node;
  class MemFile;
  friend class MemFile;

  Status check_locked(FsOp op, std::string_view path, uint64_t offset, uint64_t size, Fault* fault);
  uint64_t used_bytes_locked() const;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Node>> files_;
  std::map<std::string, std::shared_ptr<Node>> durable_files_;
  std::set<std::string> dirs_;
  FaultHook hook_;
  uint64_t space_limit_bytes_ = 0;
  bool powered_off_ = false;
  uint64_t generation_ = 0;  // bumped by crash(); stale handles fail
  uint64_t sync_count_ = 0;
};

}  // namespace coffer::storage
