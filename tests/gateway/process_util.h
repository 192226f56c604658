// Test-only helpers for tests that run cofferd and coffer-gateway as
// processes: a free loopback port, a child process with captured output, and
// one raw HTTP/1.1 exchange.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace coffer::testing {

namespace fs = std::filesystem;

inline uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A child process with its stderr captured in a file.
struct Child {
  pid_t pid = -1;
  fs::path log;

  Child() = default;
  // Move-only: the destructor kills the process, so exactly one owner may.
  Child(Child&& other) noexcept : pid(std::exchange(other.pid, -1)), log(std::move(other.log)) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  static Child start(const std::vector<std::string>& args, fs::path log) {
    Child c;
    c.log = log;
    // Emptied here, before the fork: a restart reusing the log must not show the
    // previous process's output (its "ready") to wait_for_output().
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    c.pid = fork();
    if (c.pid == 0) {
      dup2(fd, 2);
      dup2(fd, 1);
      if (fd > 2) close(fd);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fd);
    return c;
  }
  std::string output() const {
    std::ifstream in(log);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  bool wait_for_output(const std::string& needle, std::chrono::seconds limit) const {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (output().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  int wait_exit() {
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

// Sends `request` (with Connection: close) and returns the whole response;
// empty if nothing listens.
inline std::string http_exchange(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return {};
  }
  (void)!write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

}  // namespace coffer::testing
