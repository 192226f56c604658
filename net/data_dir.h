// cofferd's data directory: the lock that keeps two servers apart, and the
// secrets generated on first start (DIR/token for the binary protocol,
// DIR/admin.key for the gateway's bootstrap platform key). The journal lives
// in DIR/journal.
#pragma once

#include <string>

namespace coffer::net {

struct DataDirError {
  bool ok = true;
  std::string message;  // names the path and the reason
};

// Creates `dir` if missing and takes an exclusive flock on DIR/LOCK, held
// until release_data_dir or exit. A second process gets an error naming the
// directory.
DataDirError lock_data_dir(const std::string& dir, int* lock_fd);
void release_data_dir(int lock_fd);

// Reads the first line of `path` (trailing CR/LF removed); error if missing,
// unreadable or empty.
DataDirError read_first_line(const std::string& path, std::string* line);

// First start: when `token_path` does not exist, writes DIR/token and
// DIR/admin.key (32 random bytes each from RAND_bytes: the token as 64 hex
// characters, the admin key in the gateway's "ck_live_" + base32 format), mode 0600, and returns
// them in *token / *admin_key with *generated = true. Otherwise leaves both alone.
DataDirError ensure_secrets(const std::string& dir, const std::string& token_path, bool* generated,
                            std::string* token, std::string* admin_key);

// 64 lower-case hex characters from 32 bytes of RAND_bytes.
std::string random_hex_32();

}  // namespace coffer::net
