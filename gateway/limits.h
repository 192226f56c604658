// Every limit of the gateway's HTTP layer, in one place. The server-side
// limits are defaults of HttpLimits (configurable per server); the API limits
// are part of the contract (API.md, SPEC §0) and therefore constants.
#pragma once

#include <cstddef>
#include <cstdint>

namespace coffer::gateway {

// --- API contract -----------------------------------------------------------

// SPEC §0: caller-chosen ids are 1-64 chars of [A-Za-z0-9_.:-].
inline constexpr size_t id_length_max = 64;
// Phones in /v1/members/by-phone/{phone}: E.164 is at most 15 digits; leave room
// for a '+' and separators.
inline constexpr size_t phone_length_max = 32;

// API.md "Lists": ?limit= default 50, max 1000.
inline constexpr uint32_t list_limit_default = 50;
inline constexpr uint32_t list_limit_max = 1000;
// An opaque cursor carries a position (a sequence number, a key); its decoded
// form is small, the bound keeps a hostile ?cursor= cheap to reject.
inline constexpr size_t cursor_bytes_max = 96;
inline constexpr size_t cursor_text_length_max = (cursor_bytes_max * 4 + 2) / 3;

// Strict JSON: nesting deeper than any request of API.md needs is rejected.
inline constexpr size_t json_depth_max = 16;
// Default bound of a free-text field (reason, note, name) when a handler does
// not give its own; gift messages are 200 (SPEC V6).
inline constexpr size_t json_string_length_default_max = 1024;

// --- Request line and routing ------------------------------------------------

inline constexpr size_t target_length_max = 2048;
inline constexpr size_t path_segments_max = 16;
inline constexpr size_t query_params_max = 16;
inline constexpr size_t path_params_max = 4;
// "Bearer " + key.
inline constexpr size_t api_key_length_max = 256;

// --- Server defaults ---------------------------------------------------------

struct HttpLimits {
  // Requests are small; large answers (voucher batches) are responses.
  size_t body_bytes_max = 1u << 20;
  size_t header_bytes_max = 8u << 10;
  // Beyond this many open connections new ones get 429 and are closed.
  uint32_t connections_max = 1024;
  // From the first byte of a request to its complete header: a slowloris
  // client dribbling bytes is cut off here, not at the idle timeout.
  uint32_t header_timeout_ms = 10'000;
  // From the complete header to the complete body.
  uint32_t body_timeout_ms = 10'000;
  // A keep-alive connection with nothing to say is closed after this.
  uint32_t idle_timeout_ms = 60'000;
  // A handler that has not answered by then gets 503 UNAVAILABLE for it.
  uint32_t handler_timeout_ms = 30'000;
  // A client that does not read its responses is cut off after this.
  uint32_t write_timeout_ms = 30'000;
  // Pipelined requests read ahead per connection (responses go out in order).
  uint32_t pipeline_depth_max = 16;
};

inline constexpr HttpLimits http_limits_default{};

// A closing connection keeps draining what the client still sends for this
// long (and at most this much), so that the client reads our last answer
// (a 413, say) instead of a connection reset.
inline constexpr uint32_t linger_ms = 1'000;
inline constexpr size_t linger_bytes_max = 4u << 20;
// After a failed accept (EMFILE, ...) the acceptor pauses instead of spinning.
inline constexpr uint32_t accept_retry_pause_ms = 50;

// Hard ceilings for configured values: whatever the flags say, the server
// keeps these.
inline constexpr size_t body_bytes_ceiling = 64u << 20;
inline constexpr size_t header_bytes_ceiling = 64u << 10;
inline constexpr uint32_t connections_ceiling = 1u << 20;
inline constexpr uint32_t pipeline_depth_ceiling = 256;
inline constexpr uint32_t threads_ceiling = 256;

static_assert(http_limits_default.body_bytes_max <= body_bytes_ceiling);
static_assert(http_limits_default.header_bytes_max <= header_bytes_ceiling);
static_assert(http_limits_default.header_bytes_max >= target_length_max + api_key_length_max,
              "a maximal target and key must fit in a header block");
static_assert(http_limits_default.connections_max <= connections_ceiling);
static_assert(http_limits_default.pipeline_depth_max >= 1 &&
              http_limits_default.pipeline_depth_max <= pipeline_depth_ceiling);
static_assert(http_limits_default.header_timeout_ms < http_limits_default.idle_timeout_ms,
              "a dribbled header must time out before an idle connection");
static_assert(linger_ms < http_limits_default.header_timeout_ms);
// Filtered lists (GET /v1/recharges?state=) scan at most this many stored
// rows per request; a page may then hold fewer than ?limit= items and still
// carry a next_cursor.
inline constexpr uint32_t list_scan_rows_max = 10 * list_limit_max;
static_assert(list_limit_default <= list_limit_max);
static_assert(list_scan_rows_max >= list_limit_max);
static_assert(cursor_text_length_max < target_length_max);
static_assert(id_length_max < target_length_max);

}  // namespace coffer::gateway
