#include "storage/memory_file_system.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace coffer::storage {
namespace {

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

Status fault_status(Fault fault, std::string_view what, std::string_view path, uint64_t offset) {
  std::string message = std::string(what) + " " + std::string(path) + " offset " +
                        std::to_string(offset) + ": injected ";
  if (fault == Fault::no_space) return Status(StatusCode::no_space, message + "ENOSPC");
  return Status(StatusCode::io_error, message + "EIO");
}

}  // namespace

// An operation not yet made durable; replayed in order on crash(keep prefix).
struct PendingOp {
  enum Kind : uint8_t { write, truncate, allocate } kind;
  uint64_t offset;  // write offset, or the size for truncate/allocate
  std::vector<std::byte> bytes;
};

struct MemoryFileSystem::Node {
  std::vector<std::byte> data;     // what reads see
  std::vector<std::byte> durable;  // what survives a crash
  std::vector<PendingOp> pending;  // since the last sync, in issue order
};

namespace {

void apply(std::vector<std::byte>& data, const PendingOp& op, size_t write_bytes) {
  switch (op.kind) {
    case PendingOp::write:
      if (data.size() < op.offset + write_bytes) data.resize(op.offset + write_bytes);
      std::memcpy(data.data() + op.offset, op.bytes.data(), write_bytes);
      break;
    case PendingOp::truncate:
      data.resize(op.offset);
      break;
    case PendingOp::allocate:
      if (data.size() < op.offset) data.resize(op.offset);
      break;
  }
}

}  // namespace

class MemoryFileSystem::MemFile final : public File {
 public:
  MemFile(MemoryFileSystem* fs, std::shared_ptr<Node> node, std::string path, bool writable)
      : fs_(fs),
        node_(std::move(node)),
        path_(std::move(path)),
        writable_(writable),
        generation_(fs->generation_) {}

  Status write_at(uint64_t offset, std::span<const std::byte> data) override {
    std::lock_guard lock(fs_->mu_);
    Fault fault = Fault::none;
    if (Status s = check(FsOp::write, offset, data.size(), &fault); !s.ok()) return s;
    if (!writable_) return Status(StatusCode::io_error, "write " + path_ + ": read-only handle");
    size_t n = data.size();
    Status result;
    if (fault == Fault::short_write) {
      n /= 2;
      result = fault_status(Fault::io_error, "short write", path_, offset + n);
    } else if (fault != Fault::none) {
      return fault_status(fault, "write", path_, offset);
    }
    if (fs_->space_limit_bytes_ != 0) {
      uint64_t end = offset + n;
      uint64_t growth = end > node_->data.size() ? end - node_->data.size() : 0;
      uint64_t used = fs_->used_bytes_locked();
      if (used + growth > fs_->space_limit_bytes_) {
        uint64_t room = fs_->space_limit_bytes_ > used ? fs_->space_limit_bytes_ - used : 0;
        uint64_t fit_end = node_->data.size() + room;
        n = fit_end > offset ? std::min<uint64_t>(n, fit_end - offset) : 0;
        result = Status(StatusCode::no_space,
                        "write " + path_ + " offset " + std::to_string(offset + n) + ": ENOSPC");
      }
    }
    if (n > 0) {
      PendingOp op{PendingOp::write, offset, {data.begin(), data.begin() + n}};
      apply(node_->data, op, n);
      node_->pending.push_back(std::move(op));
    }
    return result;
  }

  Status read_at(uint64_t offset, std::span<std::byte> out, size_t* read_size) override {
    std::lock_guard lock(fs_->mu_);
    Fault fault = Fault::none;
    if (Status s = check(FsOp::read, offset, out.size(), &fault); !s.ok()) return s;
    if (fault != Fault::none) return fault_status(Fault::io_error, "read", path_, offset);
    const auto& data = node_->data;
    size_t n = offset >= data.size() ? 0 : std::min<size_t>(out.size(), data.size() - offset);
    if (n > 0) std::memcpy(out.data(), data.data() + offset, n);
    *read_size = n;
    return Status();
  }

  Status sync_data() override {
    std::lock_guard lock(fs_->mu_);
    Fault fault = Fault::none;
    if (Status s = check(FsOp::sync, 0, 0, &fault); !s.ok()) return s;
    // A failed sync leaves the pending bytes pending: nothing became durable.
    if (fault != Fault::none) return fault_status(Fault::io_error, "fdatasync", path_, 0);
    node_->durable = node_->data;
    node_->pending.clear();
    fs_->sync_count_++;
    return Status();
  }

  Status allocate(uint64_t size) override {
    std::lock_guard lock(fs_->mu_);
    Fault fault = Fault::none;
    if (Status s = check(FsOp::allocate, 0, size, &fault); !s.ok()) return s;
    if (fault != Fault::none) return fault_status(fault, "fallocate", path_, size);
    if (size > node_->data.size() && fs_->space_limit_bytes_ != 0 &&
        fs_->used_bytes_locked() + (size - node_->data.size()) > fs_->space_limit_bytes_) {
      return Status(StatusCode::no_space,
                    "fallocate " + path_ + " size " + std::to_string(size) + ": ENOSPC");
    }
    PendingOp op{PendingOp::allocate, size, {}};
    apply(node_->data, op, 0);
    node_->pending.push_back(std::move(op));
    return Status();
  }

  Status truncate(uint64_t size) override {
    std::lock_guard lock(fs_->mu_);
    Fault fault = Fault::none;
    if (Status s = check(FsOp::truncate, size, 0, &fault); !s.ok()) return s;
    if (fault != Fault::none) return fault_status(fault, "truncate", path_, size);
    PendingOp op{PendingOp::truncate, size, {}};
    apply(node_->data, op, 0);
    node_->pending.push_back(std::move(op));
    return Status();
  }

  Status size(uint64_t* size) override {
    std::lock_guard lock(fs_->mu_);
    Fault fault = Fault::none;
    if (Status s = check(FsOp::size, 0, 0, &fault); !s.ok()) return s;
    if (fault != Fault::none) return fault_status(Fault::io_error, "stat", path_, 0);
    *size = node_->data.size();
    return Status();
  }

 private:
  Status check(FsOp op, uint64_t offset, uint64_t size, Fault* fault) {
    if (generation_ != fs_->generation_) {
      return Status(StatusCode::io_error, path_ + ": stale handle from before a crash");
    }
    return fs_->check_locked(op, path_, offset, size, fault);
  }

  MemoryFileSystem* fs_;
  std::shared_ptr<Node> node_;
  std::string path_;
  bool writable_;
  uint64_t generation_;
};

MemoryFileSystem::MemoryFileSystem() = default;
MemoryFileSystem::~MemoryFileSystem() = default;

Status MemoryFileSystem::check_locked(FsOp op, std::string_view path, uint64_t offset,
                                      uint64_t size, Fault* fault) {
  if (powered_off_) {
    return Status(StatusCode::io_error, std::string(path) + ": device gone (power off)");
  }
  *fault = hook_ ? hook_(op, path, offset, size) : Fault::none;
  return Status();
}

uint64_t MemoryFileSystem::used_bytes_locked() const {
  uint64_t total = 0;
  for (const auto& [name, node] : files_)
    total += node->data.size();
  return total;
}

Status MemoryFileSystem::open(const std::string& path, OpenMode mode, std::unique_ptr<File>* file) {
  std::lock_guard lock(mu_);
  Fault fault = Fault::none;
  if (Status s = check_locked(FsOp::open, path, 0, 0, &fault); !s.ok()) return s;
  if (fault != Fault::none) return fault_status(fault, "open", path, 0);
  auto it = files_.find(path);
  if (mode == OpenMode::create_truncate) {
    if (dirs_.count(parent_dir(path)) == 0) {
      return Status(StatusCode::not_found, "open " + path + ": no such directory");
    }
    if (it == files_.end()) {
      it = files_.emplace(path, std::make_shared<Node>()).first;
    } else {
      PendingOp op{PendingOp::truncate, 0, {}};
      apply(it->second->data, op, 0);
      it->second->pending.push_back(std::move(op));
    }
  } else if (it == files_.end()) {
    return Status(StatusCode::not_found, "open " + path + ": no such file");
  }
  *file = std::make_unique<MemFile>(this, it->second, path, mode != OpenMode::read_only);
  return Status();
}

Status MemoryFileSystem::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  Fault fault = Fault::none;
  if (Status s = check_locked(FsOp::rename, from, 0, 0, &fault); !s.ok()) return s;
  if (fault != Fault::none) return fault_status(fault, "rename", from, 0);
  auto it = files_.find(from);
  if (it == files_.end()) return Status(StatusCode::not_found, "rename " + from + ": no such file");
  auto node = it->second;
  files_.erase(it);
  files_[to] = std::move(node);
  return Status();
}

Status MemoryFileSystem::remove(const std::string& path) {
  std::lock_guard lock(mu_);
  Fault fault = Fault::none;
  if (Status s = check_locked(FsOp::remove, path, 0, 0, &fault); !s.ok()) return s;
  if (fault != Fault::none) return fault_status(fault, "unlink", path, 0);
  if (files_.erase(path) == 0) {
    return Status(StatusCode::not_found, "unlink " + path + ": no such file");
  }
  return Status();
}

Status MemoryFileSystem::list(const std::string& dir, std::vector<std::string>* names) {
  std::lock_guard lock(mu_);
  Fault fault = Fault::none;
  if (Status s = check_locked(FsOp::list, dir, 0, 0, &fault); !s.ok()) return s;
  if (fault != Fault::none) return fault_status(fault, "opendir", dir, 0);
  if (dirs_.count(dir) == 0) return Status(StatusCode::not_found, "opendir " + dir);
  names->clear();
  for (const auto& [path, node] : files_) {
    if (parent_dir(path) == dir) names->push_back(path.substr(dir.size() + 1));
  }
  return Status();
}

Status MemoryFileSystem::sync_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  Fault fault = Fault::none;
  if (Status s = check_locked(FsOp::sync_dir, dir, 0, 0, &fault); !s.ok()) return s;
  if (fault != Fault::none) return fault_status(Fault::io_error, "fsync dir", dir, 0);
  // The durable names of `dir` become the current ones.
  for (auto it = durable_files_.begin(); it != durable_files_.end();) {
    it = parent_dir(it->first) == dir ? durable_files_.erase(it) : std::next(it);
  }
  for (const auto& [path, node] : files_) {
    if (parent_dir(path) == dir) durable_files_[path] = node;
  }
  sync_count_++;
  return Status();
}

Status MemoryFileSystem::create_dir(const std::string& dir) {
  std::lock_guard lock(mu_);
  Fault fault = Fault::none;
  if (Status s = check_locked(FsOp::create_dir, dir, 0, 0, &fault); !s.ok()) return s;
  if (fault != Fault::none) return fault_status(fault, "mkdir", dir, 0);
  dirs_.insert(dir);  // directories themselves are durable at once (simplification)
  return Status();
}

void MemoryFileSystem::set_fault_hook(FaultHook hook) {
  std::lock_guard lock(mu_);
  hook_ = std::move(hook);
}

void MemoryFileSystem::set_space_limit_bytes(uint64_t limit_bytes) {
  std::lock_guard lock(mu_);
  space_limit_bytes_ = limit_bytes;
}

void MemoryFileSystem::power_off() {
  std::lock_guard lock(mu_);
  powered_off_ = true;
}

void MemoryFileSystem::crash(bool keep_unsynced_prefix, uint64_t seed) {
  std::lock_guard lock(mu_);
  std::mt19937_64 rng(seed);
  files_ = durable_files_;
  for (auto& [path, node] : files_) {
    // Nodes may be shared by several durable names only transiently; resetting
    // twice is harmless because pending is cleared below.
    node->data = node->durable;
    if (keep_unsynced_prefix && !node->pending.empty()) {
      uint64_t total = 0;
      for (const auto& op : node->pending)
        total += op.bytes.size();
      uint64_t budget = std::uniform_int_distribution<uint64_t>(0, total)(rng);
      for (const auto& op : node->pending) {
        if (op.kind != PendingOp::write) {
          apply(node->data, op, 0);
          continue;
        }
        size_t n = static_cast<size_t>(std::min<uint64_t>(budget, op.bytes.size()));
        if (n > 0) apply(node->data, op, n);
        budget -= n;
        if (n < op.bytes.size()) break;
      }
    }
    node->durable = node->data;
    node->pending.clear();
  }
  powered_off_ = false;
  generation_++;
}

bool MemoryFileSystem::exists(const std::string& path) const {
  std::lock_guard lock(mu_);
  return files_.count(path) != 0;
}

std::vector<std::byte> MemoryFileSystem::contents(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  return it == files_.end() ? std::vector<std::byte>() : it->second->data;
}

void MemoryFileSystem::set_contents(const std::string& path, std::vector<std::byte> data) {
  std::lock_guard lock(mu_);
  auto& node = files_[path];
  if (!node) node = std::make_shared<Node>();
  node->data = std::move(data);
  node->durable = node->data;
  node->pending.clear();
  durable_files_[path] = node;
}

uint64_t MemoryFileSystem::used_bytes() const {
  std::lock_guard lock(mu_);
  return used_bytes_locked();
}

uint64_t MemoryFileSystem::sync_count() const {
  std::lock_guard lock(mu_);
  return sync_count_;
}

}  // namespace coffer::storage
