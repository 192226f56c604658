#include "storage/lmdb_env.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace coffer::storage::lmdb {

Status status_from(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return Status();
  std::string message(what);
  message += ": ";
  message += mdb_strerror(rc);
  StatusCode code = StatusCode::io_error;
  switch (rc) {
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT:
      code = StatusCode::no_space;
      break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      code = StatusCode::corruption;
      break;
    case MDB_NOTFOUND:
    case ENOENT:
      code = StatusCode::not_found;
      break;
    case EINVAL:
      code = StatusCode::invalid_argument;
      break;
    default:
      break;
  }
  return Status(code, std::move(message));
}

Status Env::open(const std::string& dir, uint64_t map_size_bytes, uint32_t max_dbs, unsigned flags,
                 std::unique_ptr<Env>* env) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    const int e = errno;
    return Status(e == ENOSPC ? StatusCode::no_space : StatusCode::io_error,
                  "mkdir " + dir + ": " + std::strerror(e));
  }
  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != MDB_SUCCESS) return status_from(rc, "mdb_env_create");
  rc = mdb_env_set_maxdbs(raw, max_dbs);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(raw, static_cast<size_t>(map_size_bytes));
  if (rc == MDB_SUCCESS) rc = mdb_env_open(raw, dir.c_str(), flags | MDB_NOTLS, 0644);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(raw);
    return status_from(rc, "lmdb open " + dir);
  }
  env->reset(new Env(raw, dir));
  return Status();
}

Env::~Env() {
  mdb_env_close(env_);
}

Status Txn::begin(Env& env, bool read_only) {
  abort();
  const int rc = mdb_txn_begin(env.get(), nullptr, read_only ? MDB_RDONLY : 0, &txn_);
  if (rc != MDB_SUCCESS) {
    txn_ = nullptr;
    return status_from(rc, read_only ? "mdb_txn_begin (read)" : "mdb_txn_begin (write)");
  }
  return Status();
}

Status Txn::commit() {
  MDB_txn* t = txn_;
  txn_ = nullptr;
  if (t == nullptr) return Status(StatusCode::invalid_argument, "commit without a transaction");
  return status_from(mdb_txn_commit(t), "mdb_txn_commit");
}

void Txn::abort() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

Status Cursor::open(Txn& txn, MDB_dbi dbi) {
  close();
  const int rc = mdb_cursor_open(txn.get(), dbi, &cursor_);
  if (rc != MDB_SUCCESS) {
    cursor_ = nullptr;
    return status_from(rc, "mdb_cursor_open");
  }
  return Status();
}

void Cursor::close() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  cursor_ = nullptr;
}

Status open_dbi(Txn& txn, const char* name, unsigned flags, MDB_dbi* dbi) {
  return status_from(mdb_dbi_open(txn.get(), name, flags, dbi),
                     std::string("mdb_dbi_open ") + name);
}

Status put(Txn& txn, MDB_dbi dbi, MDB_val key, MDB_val value, unsigned flags) {
  return status_from(mdb_put(txn.get(), dbi, &key, &value, flags), "mdb_put");
}

Status get(Txn& txn, MDB_dbi dbi, MDB_val key, MDB_val* value, bool* found) {
  const int rc = mdb_get(txn.get(), dbi, &key, value);
  *found = rc == MDB_SUCCESS;
  if (rc == MDB_NOTFOUND) return Status();
  return status_from(rc, "mdb_get");
}

Status put_new(Txn& txn, MDB_dbi dbi, MDB_val key, MDB_val* value, bool* existed) {
  const int rc = mdb_put(txn.get(), dbi, &key, value, MDB_NOOVERWRITE);
  *existed = rc == MDB_KEYEXIST;
  if (rc == MDB_KEYEXIST) return Status();
  return status_from(rc, "mdb_put");
}

Status del(Txn& txn, MDB_dbi dbi, MDB_val key, bool* found) {
  const int rc = mdb_del(txn.get(), dbi, &key, nullptr);
  *found = rc == MDB_SUCCESS;
  if (rc == MDB_NOTFOUND) return Status();
  return status_from(rc, "mdb_del");
}

Status clear(Txn& txn, MDB_dbi dbi) {
  return status_from(mdb_drop(txn.get(), dbi, 0), "mdb_drop");
}

}  // namespace coffer::storage::lmdb
