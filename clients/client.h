// The C++ client of the binary protocol (net/PROTOCOL.md): one TCP connection,
// automatic batching and pipelining, reconnect with retry.
//
// Batching: submit() queues a call; a sender thread packs every queued call
// (whole calls, up to the server's batch_size_max commands) into one request
// frame. While in_flight_frames_max frames await replies, new calls pile up
// and leave together in the next frame — many threads calling at once cost
// few frames. Replies are matched in order (the server answers in order).
//
// Retry: on connection loss, frames in flight are sent again after reconnect
// if every command in them is idempotent (non-zero id; lookups and ticks are
// reads/harmless). Others complete with UNAVAILABLE, as does everything once
// reconnect_attempts_max attempts in a row have failed.
//
// Thread-safe: any number of threads may submit. Callbacks run on the
// client's reader thread: keep them short, do not call close() from them.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/command_text.h"
#include "core/result.h"
#include "core/types.h"

namespace coffer::client {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7700;
  std::string token;
  std::string client_name = "coffer-client";
  uint32_t connect_timeout_ms = 5'000;
  // Consecutive failed connection attempts before pending calls fail.
  uint32_t reconnect_attempts_max = 5;
  uint32_t reconnect_backoff_ms = 100;  // doubled per attempt, up to 2 s
  // 0: the server's advertised limits; otherwise at most them.
  uint32_t batch_size_max = 0;
  uint32_t in_flight_frames_max = 0;
  // Told (on the client's own thread) when a reconnect cycle gives up, with the
  // last attempt's reason: why calls fail UNAVAILABLE. Null: silent.
  std::function<void(const std::string&)> log;
};

// The outcome of one call. status ok: `replies` has one reply per command, in
// order (each with its own result). Otherwise the call failed as a whole
// (UNAVAILABLE: no connection; INVALID_REQUEST: bad call; STORAGE_ERROR: the
// server's journal failed, the outcome is unknown: retry after restart).
struct SubmitResult {
  Result status = Result::ok;
  std::vector<Reply> replies;
};

// --- Queries of the state store (PROTOCOL.md, "Queries") ----------------------
// Answered by cofferd from LMDB after everything acknowledged before the query
// arrived has been applied there (read your writes).

enum class QueryKind : uint16_t {
  texts = 1,           // ids: the keys; one row per key, in order (text nullopt: none)
  texts_in_group = 2,  // key: the group; rows ordered by text key (row.id)
  history = 3,         // key: member_id, asset: asset_wallet / asset_points; newest first
  gifts_sent = 4,      // key: member_id; newest first
  gifts_received = 5,  // key: member_id; newest first
  withdrawals = 6,     // key: WithdrawalState; oldest first
};

inline constexpr uint32_t query_limit_max = 1000;
inline constexpr uint32_t query_ids_max = 1000;

// Where a page starts; all zero = the first page. Opaque to callers: hand back
// QueryResult::next as is.
struct QueryCursor {
  uint64_t seq = 0;
  uint32_t ordinal = 0;
  Id128 key{};
  bool at_start() const { return seq == 0 && ordinal == 0 && key.is_zero(); }
};

struct Query {
  QueryKind kind = QueryKind::texts;
  uint64_t key = 0;
  Asset asset = 0;
  std::vector<Id128> ids;  // texts: 1..query_ids_max keys
  QueryCursor cursor;
  uint32_t limit = 50;  // 1..query_limit_max (texts: ignored)
};

struct QueryRow {
  uint64_t seq = 0;
  uint64_t time_us = 0;
  // texts*: the text's key; history: the transfer (or hold/grant) id; gifts:
  // the gift id; withdrawals: the withdrawal id.
  Id128 id{};
  // history: what moved (EffectKind) and why (TransferCode).
  uint16_t effect_kind = 0;
  uint16_t code = 0;
  int64_t amount = 0;  // history: signed from the member's side; gifts, withdrawals: > 0
  int64_t balance_after = 0;
  int64_t held_after = 0;
  int64_t maturing_after = 0;
  uint64_t from_member_id = 0;  // gifts; withdrawals: the member
  uint64_t to_member_id = 0;    // gifts
  uint8_t state = 0;            // withdrawals
  // texts*: the text; others: the text kept under `id`, if any.
  std::optional<std::string> text;
};

// status ok: `rows`, and `next` (at_start(): no more). Otherwise the failure
// (UNAVAILABLE, INVALID_REQUEST for a bad query, STORAGE_ERROR).
struct QueryResult {
  Result status = Result::ok;
  std::vector<QueryRow> rows;
  QueryCursor next;
};

struct ClientMetrics {
  uint64_t calls = 0;
  uint64_t frames_sent = 0;
  uint64_t commands_sent = 0;
  uint64_t reconnects = 0;
  uint64_t calls_retried = 0;
};

struct ConnectStatus {
  Result result = Result::ok;  // unavailable, unauthenticated
  std::string message;
  bool ok() const { return result == Result::ok; }
};

class Client {
 public:
  // Connects and says hello. Fails with UNAVAILABLE (no server) or
  // UNAUTHENTICATED (wrong token) and a message.
  static ConnectStatus connect(const ClientOptions& options, std::unique_ptr<Client>* client);

  ~Client();  // close()
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  using Callback = std::function<void(SubmitResult)>;
  // REQUIRES nothing: an empty call or one larger than the batch limit
  // completes at once with INVALID_REQUEST. seq and time_us are ignored.
  void submit(std::span<const Command> commands, Callback done);
  std::future<SubmitResult> submit(std::span<const Command> commands);
  // With texts beside the commands (core/command_text.h): INVALID_REQUEST at
  // once unless command_texts_valid(texts, commands.size()).
  void submit(std::span<const Command> commands, std::span<const CommandText> texts, Callback done);

  using QueryCallback = std::function<void(QueryResult)>;
  // A query of the state store. Reads change nothing: retried after a
  // reconnect like lookups.
  void query(Query query, QueryCallback done);
  QueryResult query_sync(Query query);
  SubmitResult submit_sync(std::span<const Command> commands);

  // One command, synchronously: its reply, or a reply whose result is the
  // call's failure (UNAVAILABLE, ...).
  Reply call(const Command& command);

  // Limits in force after the hello.
  uint32_t batch_size_max() const;
  uint32_t in_flight_frames_max() const;
  ClientMetrics metrics() const;

  // Fails what is pending with UNAVAILABLE, closes, joins the threads.
  void close();

 private:
  struct State;
  explicit Client(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace coffer::client
