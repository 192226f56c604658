// The gateway's connection to cofferd: a small pool of client connections
// (each batching concurrent calls into frames), opened lazily (so that the
// gateway starts before the ledger) and kept: each reconnects by itself while
// it has calls, so the gateway survives the ledger's restarts. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "clients/client.h"
#include "gateway/metrics.h"

namespace coffer::gateway {

struct LedgerLinkOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7700;
  std::string token;
  // The pool. Each connection coalesces the calls made while its frames are
  // in flight into its next frame, so a few frames in flight make large
  // frames: tens of calls per frame under load, at a fraction of the CPU (in
  // cofferd and here) of one frame per HTTP request, which the server's limit
  // of 64 in flight would allow. Two connections: while one is reconnecting
  // (its calls wait for it), the other still serves.
  uint32_t connections = 2;
  // Frames in flight per connection (0: the server's limit). Under light
  // load calls still leave at once: the cap only matters once it is reached.
  uint32_t in_flight_frames_max = 4;
  uint32_t connect_timeout_ms = 1'000;
  // Attempts per reconnect cycle (client::ClientOptions): how long a call waits
  // for a ledger that is down before it fails UNAVAILABLE (5: about 3 s).
  uint32_t reconnect_attempts_max = 5;
};

class LedgerLink {
 public:
  // `metrics` (may be null) records the ledger round-trip time and errors.
  LedgerLink(LedgerLinkOptions options, Metrics* metrics);
  ~LedgerLink();
  LedgerLink(const LedgerLink&) = delete;
  LedgerLink& operator=(const LedgerLink&) = delete;

  // Sends `commands` as one call; `done` receives one reply per command, or a
  // failure status (UNAVAILABLE when no connection could be made). `done` runs
  // on a client thread: keep it short.
  void submit(std::vector<Command> commands, client::Client::Callback done);
  // The same with texts beside the commands (core/command_text.h).
  void submit(std::vector<Command> commands, std::vector<CommandText> texts,
              client::Client::Callback done);
  // A query of the state store (client::Client::query).
  void query(client::Query query, client::Client::QueryCallback done);

  // One round trip through the core queue (a lookup); true if it answered.
  void probe(std::function<void(bool healthy)> done);

 private:
  // A connected client for the next call, or null if the ledger is unreachable.
  std::shared_ptr<client::Client> pick();

  LedgerLinkOptions options_;
  Metrics* metrics_;
  std::mutex mu_;  // guards pool_ and next_
  std::vector<std::shared_ptr<client::Client>> pool_;
  uint32_t next_ = 0;
};

}  // namespace coffer::gateway
