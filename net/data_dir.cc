#include "net/data_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace coffer::net {
namespace {

DataDirError fail(std::string message) {
  return DataDirError{false, std::move(message)};
}

std::string errno_text() {
  return std::strerror(errno);
}

DataDirError write_secret(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot create " + path + ": " + errno_text());
  std::string line = value + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == ssize_t(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return fail("cannot write " + path + ": " + errno_text());
  return {};
}

// The gateway's API key format (gateway/api_keys.h): "ck_live_" + 52 characters
// of lower-case Crockford base32 over 32 random bytes, most significant bit first.
std::string random_api_key() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  static constexpr char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string out = "ck_live_";
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(alphabet[(acc >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (5 - bits)) & 31]);
  return out;
}

}  // namespace

std::string random_hex_32() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

DataDirError lock_data_dir(const std::string& dir, int* lock_fd) {
  *lock_fd = -1;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail("cannot create data directory " + dir + ": " + errno_text());
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return fail("data directory " + dir + " is not a directory");
  }
  const std::string path = dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot open " + path + ": " + errno_text());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) {
      return fail("data directory " + dir + " is in use by another cofferd (" + path +
                  " is locked)");
    }
    return fail("cannot lock " + path + ": " + std::strerror(e));
  }
  *lock_fd = fd;
  return {};
}

void release_data_dir(int lock_fd) {
  if (lock_fd >= 0) ::close(lock_fd);  // closing drops the flock
}

DataDirError read_first_line(const std::string& path, std::string* line) {
  std::ifstream in(path);
  if (!in) return fail("cannot read " + path + ": " + errno_text());
  std::getline(in, *line);
  while (!line->empty() && (line->back() == '\r' || line->back() == '\n' || line->back() == ' '))
    line->pop_back();
  if (line->empty()) return fail(path + ": first line is empty");
  return {};
}

DataDirError ensure_secrets(const std::string& dir, const std::string& token_path, bool* generated,
                            std::string* token, std::string* admin_key) {
  *generated = false;
  if (::access(token_path.c_str(), F_OK) == 0) return {};
  if (errno != ENOENT) return fail("cannot access " + token_path + ": " + errno_text());
  *token = random_hex_32();
  *admin_key = random_api_key();
  if (token->empty() || admin_key->empty()) return fail("RAND_bytes failed");
  if (DataDirError e = write_secret(token_path, *token); !e.ok) return e;
  const std::string key_path = dir + "/admin.key";
  if (::access(key_path.c_str(), F_OK) != 0) {
    if (DataDirError e = write_secret(key_path, *admin_key); !e.ok) return e;
  } else {
    admin_key->clear();  // kept from an earlier start; not printed again
  }
  *generated = true;
  return {};
}

}  // namespace coffer::net
