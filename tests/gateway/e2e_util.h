// Test-only: cofferd and coffer-gateway started as API.md "Running the
// servers" says (temp data dir, free ports, optional WeChat Pay keys), and
// JSON-over-HTTP calls to the gateway as a storefront makes them.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/gateway/process_util.h"

namespace coffer::testing {

struct HttpReply {
  unsigned status = 0;
  boost::json::value body;  // null when the body is not JSON
  std::string raw;
  // Everything after the header block (CSV bodies).
  std::string text() const {
    auto sep = raw.find("\r\n\r\n");
    return sep == std::string::npos ? std::string() : raw.substr(sep + 4);
  }
};

// One request with Connection: close; extra_headers are "Name: value\r\n" lines.
inline HttpReply http_call(uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body, const std::string& key,
                           const std::string& extra_headers = "") {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!key.empty()) req += "Authorization: Bearer " + key + "\r\n";
  req += extra_headers;
  if (!body.empty() || method != "GET") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  HttpReply out;
  out.raw = http_exchange(port, req);
  if (out.raw.rfind("HTTP/1.1 ", 0) == 0) out.status = unsigned(std::stoi(out.raw.substr(9, 3)));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(out.text(), ec);
  if (!ec) out.body = std::move(v);
  return out;
}

// The value at `path` (object keys), or null with a test failure.
inline const boost::json::value& at_path(const boost::json::value& v,
                                         std::initializer_list<const char*> path) {
  static const boost::json::value null_value;
  const boost::json::value* cur = &v;
  for (const char* key : path) {
    if (!cur->is_object() || !cur->as_object().contains(key)) {
      ADD_FAILURE() << "missing " << key << " in " << boost::json::serialize(v);
      return null_value;
    }
    cur = &cur->as_object().at(key);
  }
  return *cur;
}

inline int64_t num(const boost::json::value& v, std::initializer_list<const char*> path) {
  const boost::json::value& x = at_path(v, path);
  if (x.is_int64()) return x.as_int64();
  if (x.is_uint64()) return int64_t(x.as_uint64());
  ADD_FAILURE() << "not an integer in " << boost::json::serialize(v);
  return -1;
}

// Strings as they are; anything else serialised ("null", "true", "12").
inline std::string str(const boost::json::value& v, std::initializer_list<const char*> path) {
  const boost::json::value& x = at_path(v, path);
  return x.is_string() ? std::string(x.as_string()) : boost::json::serialize(x);
}

inline std::string error_code(const HttpReply& r) {
  return str(r.body, {"error", "code"});
}

struct ServersOptions {
  // Both empty: WeChat Pay not configured.
  std::string wechatpay_public_pem;
  std::string wechatpay_apiv3_key;
};

// cofferd + coffer-gateway in a fresh temp directory; killed on destruction.
class Servers {
 public:
  Servers(const std::string& name, const ServersOptions& options = {}) {
    dir_ = std::filesystem::temp_directory_path() /
           ("coffer-e2e-" + name + "-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    data_ = dir_ / "data";
    ledger_port_ = free_port();
    start_ledger();
    std::ifstream(data_ / "admin.key") >> admin_key_;
    EXPECT_FALSE(admin_key_.empty());
    port_ = free_port();
    std::vector<std::string> args = {COFFER_GATEWAY_BIN,
                                     "--ledger",
                                     "127.0.0.1:" + std::to_string(ledger_port_),
                                     "--token-file",
                                     (data_ / "token").string(),
                                     "--admin-key-file",
                                     (data_ / "admin.key").string(),
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port_)};
    if (!options.wechatpay_public_pem.empty()) {
      std::ofstream(dir_ / "wechat.pem") << options.wechatpay_public_pem;
      std::ofstream(dir_ / "apiv3.key") << options.wechatpay_apiv3_key;
      args.insert(args.end(), {"--wechatpay-public-key", (dir_ / "wechat.pem").string(),
                               "--wechatpay-apiv3-key-file", (dir_ / "apiv3.key").string()});
    }
    gateway_ = std::make_unique<Child>(Child::start(args, dir_ / "gateway.log"));
    ready_ = ready_ && gateway_->wait_for_output("ready", std::chrono::seconds(10));
    EXPECT_TRUE(ready_) << gateway_->output();
  }
  ~Servers() {
    gateway_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }

  bool ready() const { return ready_; }
  uint16_t port() const { return port_; }
  const std::string& admin_key() const { return admin_key_; }
  std::string gateway_log() const { return gateway_->output(); }
  std::string ledger_log() const { return ledger_ ? ledger_->output() : std::string(); }

  // SIGKILL the ledger; start it again on the same data and port.
  void kill_ledger() { ledger_.reset(); }
  void start_ledger() {
    ledger_ = std::make_unique<Child>(
        Child::start({COFFER_COFFERD_BIN, "--data", data_.string(), "--listen",
                      "127.0.0.1:" + std::to_string(ledger_port_)},
                     dir_ / ("cofferd-" + std::to_string(ledger_starts_++) + ".log")));
    ready_ = ledger_->wait_for_output("ready", std::chrono::seconds(20));
    EXPECT_TRUE(ready_) << ledger_->output();
  }

  HttpReply get(const std::string& target, const std::string& key) const {
    return http_call(port_, "GET", target, "", key);
  }
  HttpReply post(const std::string& target, const std::string& body, const std::string& key) const {
    return http_call(port_, "POST", target, body, key);
  }
  HttpReply put(const std::string& target, const std::string& body, const std::string& key) const {
    return http_call(port_, "PUT", target, body, key);
  }

 private:
  std::filesystem::path dir_;
  std::filesystem::path data_;
  uint16_t ledger_port_ = 0;
  uint16_t port_ = 0;
  int ledger_starts_ = 0;
  bool ready_ = true;
  std::string admin_key_;
  std::unique_ptr<Child> ledger_;
  std::unique_ptr<Child> gateway_;
};

}  // namespace coffer::testing
