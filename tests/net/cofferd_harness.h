// A whole ledger server in the test process: journal (on any FileSystem),
// recovered Ledger, Sequencer and Server on 127.0.0.1, the same wiring as
// cofferd_main.cc. Start, stop and start again on the same file system to
// test recovery.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "clients/client.h"
#include "core/ledger.h"
#include "net/query_service.h"
#include "net/sequencer.h"
#include "net/server.h"
#include "storage/journal.h"
#include "storage/memory_file_system.h"

namespace coffer::testing {

inline constexpr char test_token[] = "test-token-0123456789";

struct Node {
  storage::FileSystem* fs = nullptr;
  std::string dir = "/journal";
  LedgerConfig config;
  net::Clock* clock = nullptr;
  uint32_t tick_interval_ms = 0;  // tests tick explicitly unless they ask
  uint16_t port = 0;              // 0: ephemeral, then the bound port
  std::function<void(uint64_t, uint64_t, std::vector<Effect>, std::vector<storage::StoredText>)>
      on_durable_effects;
  net::QueryService* queries = nullptr;  // see also make_queries
  // Called after the sequencer exists and before the server opens: returns the
  // query service to serve (e.g. over a state store and the sequencer).
  std::function<net::QueryService*(net::Sequencer&)> make_queries;
  net::ReplayedRecordFn on_replayed;

  std::unique_ptr<storage::Journal> journal;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<net::Sequencer> sequencer;
  std::unique_ptr<net::Server> server;
  std::atomic<net::Server*> server_ptr{nullptr};
  net::ReplayReport replay;

  ~Node() { stop(); }

  // Opens the journal, replays it into a fresh ledger, serves.
  ::testing::AssertionResult start() {
    if (storage::Status st = fs->create_dir(dir); !st.ok())
      return ::testing::AssertionFailure() << st.to_string();
    storage::JournalOptions options;
    options.dir = dir;
    options.fs = fs;
    options.log = [](const std::string&) {};
    if (storage::Status st = storage::Journal::open(options, &journal); !st.ok())
      return ::testing::AssertionFailure() << "open: " << st.to_string();
    ledger = std::make_unique<Ledger>(config);
    storage::JournalReader::Options reader;
    reader.dir = dir;
    reader.fs = fs;
    if (storage::Status st = net::replay_journal(reader, 0, *ledger, &replay, on_replayed);
        !st.ok())
      return ::testing::AssertionFailure() << "replay: " << st.to_string();
    net::SequencerOptions so;
    so.clock = clock;
    so.tick_interval_ms = tick_interval_ms;
    so.on_durable_effects = on_durable_effects;
    sequencer = std::make_unique<net::Sequencer>(*ledger, *journal, so);
    sequencer->start([this](const net::SessionHandle& s, uint64_t id, std::vector<std::byte> b) {
      if (net::Server* p = server_ptr.load()) p->reply(s, id, std::move(b));
    });
    net::ServerOptions server_options;
    if (make_queries) queries = make_queries(*sequencer);
    server_options.queries = queries;
    server_options.port = port;
    server_options.access_token = test_token;
    if (net::ServerStatus st = net::Server::open(server_options, *sequencer, &server); !st.ok())
      return ::testing::AssertionFailure() << "server: " << st.message;
    server_ptr.store(server.get());
    port = server->port();
    return ::testing::AssertionSuccess();
  }

  void stop() {
    if (server) server->stop();
    if (sequencer) sequencer->stop();
    server_ptr.store(nullptr);
    server.reset();
    sequencer.reset();
    journal.reset();
  }

  std::unique_ptr<client::Client> connect(uint32_t in_flight_frames_max = 0) {
    client::ClientOptions options;
    options.port = port;
    options.token = test_token;
    options.in_flight_frames_max = in_flight_frames_max;
    options.reconnect_backoff_ms = 20;
    std::unique_ptr<client::Client> c;
    client::ConnectStatus st = client::Client::connect(options, &c);
    EXPECT_TRUE(st.ok()) << st.message;
    return c;
  }
};

// Blocks the journal's data syncs while closed (a MemoryFileSystem fault hook).
class SyncGate {
 public:
  explicit SyncGate(storage::MemoryFileSystem& fs) {
    fs.set_fault_hook([this](storage::FsOp op, std::string_view path, uint64_t, uint64_t) {
      if (op == storage::FsOp::sync && path.find("journal-") != std::string_view::npos) {
        std::unique_lock lock(mu_);
        if (fail_) return storage::Fault::io_error;
        waiting_++;
        cv_.notify_all();
        cv_.wait(lock, [this] { return open_; });
        waiting_--;
      }
      return storage::Fault::none;
    });
  }
  void close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void fail_syncs() {
    std::lock_guard lock(mu_);
    fail_ = true;
  }
  // Waits until a sync is blocked at the gate.
  bool wait_blocked(int timeout_ms = 5000) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [this] { return waiting_ > 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  bool fail_ = false;
  int waiting_ = 0;
};

}  // namespace coffer::testing
