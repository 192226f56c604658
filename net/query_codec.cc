#include "net/query_codec.h"

#include <algorithm>
#include <cstring>

#include "core/assert.h"
#include "core/command_text.h"
#include "net/constants.h"
#include "net/query_generated.h"

namespace coffer::net {

static_assert(sizeof(wire::Key128) == sizeof(Id128));
static_assert(sizeof(wire::QueryCursor) == 32);
static_assert(FLATBUFFERS_LITTLEENDIAN, "the query codec copies Key128 as bytes");

namespace {

std::vector<std::byte> finish(flatbuffers::FlatBufferBuilder& fbb) {
  const auto* p = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  return std::vector<std::byte>(p, p + fbb.GetSize());
}

template <typename T>
const T* verified_root(std::span<const std::byte> bytes) {
  if (bytes.size() < sizeof(flatbuffers::uoffset_t)) return nullptr;
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(data);
}

wire::Key128 to_wire(const Id128& id) {
  return wire::Key128(id.lo, id.hi);
}
Id128 from_wire(const wire::Key128& k) {
  return Id128{k.lo(), k.hi()};
}
wire::QueryCursor to_wire(const QueryPosition& p) {
  return wire::QueryCursor(p.seq, to_wire(p.key), p.ordinal, 0);
}
QueryPosition from_wire(const wire::QueryCursor* c) {
  if (c == nullptr) return {};
  return QueryPosition{c->seq(), c->ordinal(), from_wire(c->key())};
}

}  // namespace

bool query_valid(const QueryRequest& q) {
  const auto kind = uint16_t(q.kind);
  if (kind == 0 || kind > query_kind_max) return false;
  if (q.kind == QueryKind::texts) {
    if (q.ids.empty() || q.ids.size() > query_ids_max) return false;
    return std::none_of(q.ids.begin(), q.ids.end(), [](const Id128& id) { return id.is_zero(); });
  }
  return q.ids.empty() && q.limit >= 1 && q.limit <= query_limit_max;
}

std::vector<std::byte> encode_query(const QueryRequest& q) {
  COFFER_ASSERT(q.ids.size() <= query_ids_max);
  flatbuffers::FlatBufferBuilder fbb(256 + q.ids.size() * sizeof(Id128));
  flatbuffers::Offset<flatbuffers::Vector<const wire::Key128*>> ids = 0;
  if (!q.ids.empty()) {
    wire::Key128* dst = nullptr;
    ids = fbb.CreateUninitializedVectorOfStructs(q.ids.size(), &dst);
    std::memcpy(static_cast<void*>(dst), q.ids.data(), q.ids.size() * sizeof(Id128));
  }
  const wire::QueryCursor cursor = to_wire(q.cursor);
  fbb.Finish(wire::CreateQuery(fbb, uint16_t(q.kind), q.key, q.asset, ids, &cursor, q.limit));
  return finish(fbb);
}

QueryDecode decode_query(std::span<const std::byte> body, QueryRequest* out) {
  *out = QueryRequest{};
  const auto* q = verified_root<wire::Query>(body);
  if (q == nullptr) return QueryDecode::malformed;
  out->kind = QueryKind(q->kind());
  out->key = q->key();
  out->asset = q->asset();
  out->limit = q->limit();
  if (q->cursor() != nullptr && q->cursor()->reserved() != 0) return QueryDecode::invalid;
  out->cursor = from_wire(q->cursor());
  if (const auto* ids = q->ids(); ids != nullptr) {
    if (ids->size() > query_ids_max) return QueryDecode::invalid;  // before copying
    out->ids.resize(ids->size());
    for (uint32_t i = 0; i < ids->size(); i++)
      out->ids[i] = from_wire(*ids->Get(i));
  }
  return query_valid(*out) ? QueryDecode::ok : QueryDecode::invalid;
}

size_t query_row_size_bound(const QueryRowData& row) {
  return query_row_overhead_size_max + (row.text ? row.text->size() : 0);
}

size_t query_reply_size_bound(std::span<const QueryRowData> rows) {
  size_t size = query_reply_overhead_size_max;
  for (const QueryRowData& r : rows)
    size += query_row_size_bound(r);
  return size;
}

std::vector<std::byte> encode_query_reply(const QueryAnswer& a) {
  flatbuffers::FlatBufferBuilder fbb(a.status == Result::ok ? query_reply_size_bound(a.rows) : 64);
  if (a.status != Result::ok) {
    fbb.Finish(wire::CreateQueryReply(fbb, uint32_t(a.status)));
    return finish(fbb);
  }
  std::vector<flatbuffers::Offset<wire::QueryRow>> rows;
  rows.reserve(a.rows.size());
  for (const QueryRowData& r : a.rows) {
    flatbuffers::Offset<flatbuffers::Vector<uint8_t>> text = 0;
    if (r.text) {
      text = fbb.CreateVector(reinterpret_cast<const uint8_t*>(r.text->data()), r.text->size());
    }
    const wire::Key128 id = to_wire(r.id);
    rows.push_back(wire::CreateQueryRow(fbb, r.seq, r.time_us, &id, r.effect_kind, r.code, r.amount,
                                        r.balance_after, r.held_after, r.maturing_after,
                                        r.from_member_id, r.to_member_id, r.state, text));
  }
  auto row_vec = fbb.CreateVector(rows);
  const wire::QueryCursor next = to_wire(a.next);
  fbb.Finish(wire::CreateQueryReply(fbb, 0, row_vec, &next));
  return finish(fbb);
}

bool decode_query_reply(std::span<const std::byte> body, QueryAnswer* out) {
  *out = QueryAnswer{};
  const auto* reply = verified_root<wire::QueryReply>(body);
  if (reply == nullptr) return false;
  out->status = Result(reply->error());
  if (out->status != Result::ok) return true;
  out->next = from_wire(reply->next());
  const auto* rows = reply->rows();
  if (rows == nullptr) return true;
  if (rows->size() > std::max(query_ids_max, query_limit_max)) return false;
  out->rows.resize(rows->size());
  for (uint32_t i = 0; i < rows->size(); i++) {
    const wire::QueryRow* w = rows->Get(i);
    QueryRowData& r = out->rows[i];
    r.seq = w->seq();
    r.time_us = w->time_us();
    if (w->id() != nullptr) r.id = from_wire(*w->id());
    r.effect_kind = w->effect_kind();
    r.code = w->code();
    r.amount = w->amount();
    r.balance_after = w->balance_after();
    r.held_after = w->held_after();
    r.maturing_after = w->maturing_after();
    r.from_member_id = w->from_member_id();
    r.to_member_id = w->to_member_id();
    r.state = w->state();
    if (const auto* text = w->text(); text != nullptr) {
      if (text->size() > command_text_size_max) return false;
      r.text.emplace(reinterpret_cast<const char*>(text->data()), text->size());
    }
  }
  return true;
}

}  // namespace coffer::net
