// Thin RAII wrappers over LMDB (env, transaction, cursor) that turn return codes
// into Status values. Internal to storage: the public API is state_store.h.
//
// LMDB rules these wrappers keep: a write transaction's cursors die with it (close
// them first: Cursor must not outlive its Txn); read transactions may move
// between threads because the env is opened with MDB_NOTLS.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace coffer::storage::lmdb {

// MDB_MAP_FULL and ENOSPC -> no_space, MDB_CORRUPTED/MDB_PAGE_NOTFOUND/
// MDB_INVALID -> corruption, MDB_NOTFOUND -> not_found, else io_error.
Status status_from(int rc, std::string_view what);

inline MDB_val val(std::span<const std::byte> bytes) {
  return MDB_val{bytes.size(), const_cast<std::byte*>(bytes.data())};
}
inline MDB_val val(const void* data, size_t size) {
  return MDB_val{size, const_cast<void*>(data)};
}
inline std::span<const std::byte> bytes(const MDB_val& v) {
  return {static_cast<const std::byte*>(v.mv_data), v.mv_size};
}

class Env {
 public:
  // Creates `dir` if needed. flags are added to MDB_NOTLS.
  static Status open(const std::string& dir, uint64_t map_size_bytes, uint32_t max_dbs,
                     unsigned flags, std::unique_ptr<Env>* env);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* get() const { return env_; }
  const std::string& dir() const { return dir_; }

 private:
  Env(MDB_env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  MDB_env* env_;
  std::string dir_;
};

class Txn {
 public:
  Txn() = default;
  ~Txn() { abort(); }
  Txn(Txn&& o) noexcept : txn_(o.txn_) { o.txn_ = nullptr; }
  Txn& operator=(Txn&& o) noexcept {
    if (this != &o) {
      abort();
      txn_ = o.txn_;
      o.txn_ = nullptr;
    }
    return *this;
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  Status begin(Env& env, bool read_only);
  // Ends the transaction either way; on failure nothing of it is visible.
  Status commit();
  void abort();
  bool active() const { return txn_ != nullptr; }
  MDB_txn* get() const { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
};

class Cursor {
 public:
  Cursor() = default;
  ~Cursor() { close(); }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  Status open(Txn& txn, MDB_dbi dbi);
  void close();
  // MDB_SUCCESS, MDB_NOTFOUND or an error code.
  int get(MDB_val* key, MDB_val* value, MDB_cursor_op op) {
    return mdb_cursor_get(cursor_, key, value, op);
  }
  MDB_cursor* raw() const { return cursor_; }

 private:
  MDB_cursor* cursor_ = nullptr;
};

Status open_dbi(Txn& txn, const char* name, unsigned flags, MDB_dbi* dbi);
Status put(Txn& txn, MDB_dbi dbi, MDB_val key, MDB_val value, unsigned flags = 0);
// *found = false (status ok) when the key is missing.
Status get(Txn& txn, MDB_dbi dbi, MDB_val key, MDB_val* value, bool* found);
// Puts `value` only if `key` is missing (one B-tree descent for a new key).
// If it exists, *existed = true and *value points at the stored value.
Status put_new(Txn& txn, MDB_dbi dbi, MDB_val key, MDB_val* value, bool* existed);
// *found = false (status ok) when the key is missing.
Status del(Txn& txn, MDB_dbi dbi, MDB_val key, bool* found);
// Empties the database (keeps it open).
Status clear(Txn& txn, MDB_dbi dbi);

}  // namespace coffer::storage::lmdb
