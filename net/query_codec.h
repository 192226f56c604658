// Queries of the state store on the wire (query.fbs, PROTOCOL.md "Queries"):
// the bodies of `query` and `query_reply` frames as plain structs; FlatBuffers
// stays behind this header. The client (clients/client.h Query, QueryResult)
// and the server (query_service.h) both speak these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/types.h"
#include "net/constants.h"

namespace coffer::net {

// On the wire: DO NOT CHANGE THESE VALUES (= clients/client.h QueryKind).
enum class QueryKind : uint16_t {
  texts = 1,
  texts_in_group = 2,
  history = 3,
  gifts_sent = 4,
  gifts_received = 5,
  withdrawals = 6,
};
inline constexpr uint16_t query_kind_max = 6;

struct QueryPosition {
  uint64_t seq = 0;
  uint32_t ordinal = 0;
  Id128 key{};
  bool at_start() const { return seq == 0 && ordinal == 0 && key.is_zero(); }
  friend bool operator==(const QueryPosition&, const QueryPosition&) = default;
};

struct QueryRequest {
  QueryKind kind = QueryKind::texts;
  uint64_t key = 0;
  Asset asset = 0;
  std::vector<Id128> ids;
  QueryPosition cursor;
  uint32_t limit = 0;
};

struct QueryRowData {
  uint64_t seq = 0;
  uint64_t time_us = 0;
  Id128 id{};
  uint16_t effect_kind = 0;
  uint16_t code = 0;
  int64_t amount = 0;
  int64_t balance_after = 0;
  int64_t held_after = 0;
  int64_t maturing_after = 0;
  uint64_t from_member_id = 0;
  uint64_t to_member_id = 0;
  uint8_t state = 0;
  std::optional<std::string> text;
  friend bool operator==(const QueryRowData&, const QueryRowData&) = default;
};

struct QueryAnswer {
  Result status = Result::ok;
  std::vector<QueryRowData> rows;
  QueryPosition next;
};

// Query body. REQUIRES: query_valid(query).
std::vector<std::byte> encode_query(const QueryRequest& query);

enum class QueryDecode : uint8_t {
  ok = 0,
  malformed = 1,  // Verifier failure
  invalid = 2,    // well-formed, outside the rules of query_valid
};
// Verifies and copies; then checks query_valid.
QueryDecode decode_query(std::span<const std::byte> body, QueryRequest* out);

// The rules: a known kind; texts: 1..query_ids_max non-zero ids; other kinds:
// limit 1..query_limit_max and no ids.
bool query_valid(const QueryRequest& query);

// Reply body: the answer's rows and next (status ok), or only its status.
std::vector<std::byte> encode_query_reply(const QueryAnswer& answer);
// False when the bytes are malformed (Verifier, a row count over
// query_ids_max/query_limit_max, a text over command_text_size_max).
bool decode_query_reply(std::span<const std::byte> body, QueryAnswer* out);

// Upper bound of one row's share of a reply body, and of a whole body.
size_t query_row_size_bound(const QueryRowData& row);
size_t query_reply_size_bound(std::span<const QueryRowData> rows);

}  // namespace coffer::net
