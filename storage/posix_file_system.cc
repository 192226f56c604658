#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/file_system.h"

namespace coffer::storage {
namespace {

Status errno_status(int err, const std::string& what, const std::string& path,
                    int64_t offset = -1) {
  std::string message = what + " " + path;
  if (offset >= 0) message += " offset " + std::to_string(offset);
  message += ": ";
  message += std::strerror(err);
  StatusCode code = StatusCode::io_error;
  if (err == ENOSPC || err == EDQUOT) code = StatusCode::no_space;
  if (err == ENOENT) code = StatusCode::not_found;
  return Status(code, std::move(message));
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }

  Status write_at(uint64_t offset, std::span<const std::byte> data) override {
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status(errno, "write", path_, static_cast<int64_t>(offset));
      }
      if (n == 0) return Status(StatusCode::io_error, "write " + path_ + ": wrote nothing");
      data = data.subspan(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
    return Status();
  }

  Status read_at(uint64_t offset, std::span<std::byte> out, size_t* read_size) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status(errno, "read", path_, static_cast<int64_t>(offset + done));
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    *read_size = done;
    return Status();
  }

  Status sync_data() override {
    if (::fdatasync(fd_) != 0) return errno_status(errno, "fdatasync", path_);
    return Status();
  }

  Status allocate(uint64_t size) override {
    int err = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
    if (err != 0) return errno_status(err, "fallocate", path_, static_cast<int64_t>(size));
    return Status();
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return errno_status(errno, "truncate", path_, static_cast<int64_t>(size));
    }
    return Status();
  }

  Status size(uint64_t* size) override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return errno_status(errno, "stat", path_);
    *size = static_cast<uint64_t>(st.st_size);
    return Status();
  }

 private:
  int fd_;
  std::string path_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Status open(const std::string& path, OpenMode mode, std::unique_ptr<File>* file) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::read_only:
        flags |= O_RDONLY;
        break;
      case OpenMode::read_write:
        flags |= O_RDWR;
        break;
      case OpenMode::create_truncate:
        flags |= O_RDWR | O_CREAT | O_TRUNC;
        break;
    }
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return errno_status(errno, "open", path);
    *file = std::make_unique<PosixFile>(fd, path);
    return Status();
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return errno_status(errno, "rename", from);
    return Status();
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return errno_status(errno, "unlink", path);
    return Status();
  }

  Status list(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return errno_status(errno, "opendir", dir);
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names->emplace_back(e->d_name);
    }
    ::closedir(d);
    return Status();
  }

  Status sync_dir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_status(errno, "open dir", dir);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return errno_status(err, "fsync dir", dir);
    return Status();
  }

  Status create_dir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return errno_status(errno, "mkdir", dir);
    }
    return Status();
  }
};

}  // namespace

FileSystem* posix_file_system() {
  static PosixFileSystem* fs = new PosixFileSystem();  // never destroyed: no exit-order issues
  return fs;
}

}  // namespace coffer::storage
