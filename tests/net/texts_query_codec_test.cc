// Texts beside commands and queries on the wire (net/command_codec.h texts,
// net/query_codec.h): round trips, size bounds, and every malformation.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "net/batch_generated.h"
#include "net/command_codec.h"
#include "net/query_codec.h"
#include "net/query_generated.h"

namespace coffer::net {
namespace {

std::vector<Command> ticks(size_t n) {
  std::vector<Command> v;
  for (size_t i = 0; i < n; i++)
    v.push_back(make_transfer(Id128{i + 1, 9}, 1, 2, int64_t(i) + 1, asset_wallet));
  return v;
}

CommandText text(uint32_t index, uint64_t key_lo, std::string bytes, uint64_t group = 0) {
  return CommandText{index, Id128{key_lo, 77}, group, std::move(bytes)};
}

// A batch built by hand, so the encoder's REQUIRES cannot stop a bad one.
std::vector<std::byte> forge(const std::vector<Command>& commands,
                             const std::vector<CommandText>& texts) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<wire::CommandText>> offsets;
  for (const CommandText& t : texts) {
    auto b = fbb.CreateVector(reinterpret_cast<const uint8_t*>(t.text.data()), t.text.size());
    offsets.push_back(wire::CreateCommandText(fbb, t.index, t.key.lo, t.key.hi, t.group, b));
  }
  auto tv = fbb.CreateVector(offsets);
  wire::Command128* dst = nullptr;
  auto cv = fbb.CreateUninitializedVectorOfStructs(commands.size(), &dst);
  std::memcpy(static_cast<void*>(dst), commands.data(), commands.size() * sizeof(Command));
  fbb.Finish(wire::CreateCommandBatch(fbb, cv, tv));
  const auto* p = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  return std::vector<std::byte>(p, p + fbb.GetSize());
}

TEST(TextsCodec, RoundTripKeepsEveryField) {
  std::vector<Command> commands = ticks(5);
  std::string binary("a\0b\xff", 4);
  std::vector<CommandText> in = {text(0, 1, R"({"ref":"order-1"})"), text(2, 2, binary, 99),
                                 text(3, 3, ""),
                                 text(4, 4, std::string(command_text_size_max, 'x'))};
  std::vector<Command> out;
  std::vector<CommandText> texts;
  ASSERT_EQ(decode_command_batch(encode_command_batch(commands, in), batch_size_max, out, texts),
            BatchDecode::ok);
  ASSERT_EQ(out.size(), 5u);
  ASSERT_EQ(texts.size(), in.size());
  for (size_t i = 0; i < in.size(); i++) {
    EXPECT_EQ(texts[i].index, in[i].index);
    EXPECT_EQ(texts[i].key, in[i].key);
    EXPECT_EQ(texts[i].group, in[i].group);
    EXPECT_EQ(texts[i].text, in[i].text);
  }
  // A batch without texts decodes to none; the 3-argument decode checks them too.
  ASSERT_EQ(decode_command_batch(encode_command_batch(commands), batch_size_max, out, texts),
            BatchDecode::ok);
  EXPECT_TRUE(texts.empty());
  EXPECT_EQ(decode_command_batch(forge(commands, {text(1, 1, "a"), text(1, 2, "b")}),
                                 batch_size_max, out),
            BatchDecode::bad_texts);
}

TEST(TextsCodec, EveryMalformationRefusesTheWholeBatch) {
  const std::vector<Command> commands = ticks(3);
  struct Case {
    const char* name;
    std::vector<CommandText> texts;
  };
  const std::vector<Case> cases = {
      {"same index twice", {text(1, 1, "a"), text(1, 2, "b")}},
      {"indexes decreasing", {text(2, 1, "a"), text(0, 2, "b")}},
      {"index past the commands", {text(3, 1, "a")}},
      {"index far past", {text(UINT32_MAX, 1, "a")}},
      {"zero key", {CommandText{0, Id128{0, 0}, 0, "a"}}},
      {"oversized text", {text(0, 1, std::string(command_text_size_max + 1, 'x'))}},
      {"more texts than commands",
       {text(0, 1, "a"), text(1, 2, "b"), text(2, 3, "c"), text(2, 4, "d")}},
  };
  for (const Case& c : cases) {
    std::vector<Command> out;
    std::vector<CommandText> texts;
    EXPECT_EQ(decode_command_batch(forge(commands, c.texts), batch_size_max, out, texts),
              BatchDecode::bad_texts)
        << c.name;
  }
  // The forger itself is sound: a valid set passes.
  std::vector<Command> out;
  std::vector<CommandText> texts;
  EXPECT_EQ(decode_command_batch(forge(commands, {text(0, 1, "a"), text(2, 2, "b")}),
                                 batch_size_max, out, texts),
            BatchDecode::ok);
  EXPECT_EQ(texts.size(), 2u);
}

TEST(TextsCodec, CorruptBodiesNeverCrashOrOverread) {
  const std::vector<CommandText> in = {text(0, 1, "hello"), text(3, 2, "world", 5)};
  std::vector<std::byte> body = encode_command_batch(ticks(4), in);
  std::vector<Command> out;
  std::vector<CommandText> texts;
  // A truncation may only cut trailing alignment padding; then nothing is lost.
  for (size_t n = 0; n < body.size(); n++) {
    if (decode_command_batch(std::span(body).first(n), batch_size_max, out, texts) ==
        BatchDecode::ok) {
      EXPECT_GE(n, body.size() - 8) << n;
      ASSERT_EQ(texts.size(), 2u);
      EXPECT_EQ(texts[0].text, "hello");
      EXPECT_EQ(texts[1].text, "world");
      EXPECT_EQ(out.size(), 4u);
    }
  }
  std::mt19937_64 rng(11);
  for (int i = 0; i < 3000; i++) {
    std::vector<std::byte> bad = body;
    bad[rng() % bad.size()] = std::byte(rng());
    if (decode_command_batch(bad, batch_size_max, out, texts) == BatchDecode::ok) {
      EXPECT_TRUE(command_texts_valid(texts, out.size()));
      size_t bytes = 0;
      for (const auto& t : texts)
        bytes += t.text.size();
      EXPECT_LE(bytes, bad.size());
    }
  }
}

TEST(TextsCodec, SizeBoundHolds) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 50; round++) {
    const size_t n = 1 + rng() % 300;
    std::vector<Command> commands = ticks(n);
    std::vector<CommandText> texts;
    size_t bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
      if (rng() % 2) continue;
      const size_t size = rng() % 4 == 0 ? command_text_size_max : rng() % 300;
      texts.push_back(text(i, i + 1, std::string(size, 'q'), rng() % 3));
      bytes += size;
    }
    EXPECT_LE(encode_command_batch(commands, texts).size(),
              command_batch_size_bound(n, texts.size(), bytes));
  }
  // Many tiny texts: the per-text overhead dominates.
  std::vector<Command> commands = ticks(batch_size_max);
  std::vector<CommandText> texts;
  for (uint32_t i = 0; i < batch_size_max; i++)
    texts.push_back(text(i, i + 1, "", 1));
  EXPECT_LE(encode_command_batch(commands, texts).size(),
            command_batch_size_bound(batch_size_max, batch_size_max, 0));
}

QueryRequest history_query() {
  QueryRequest q;
  q.kind = QueryKind::history;
  q.key = 42;
  q.asset = asset_points;
  q.cursor = QueryPosition{1234, 3, Id128{5, 6}};
  q.limit = 50;
  return q;
}

TEST(QueryCodec, RoundTripEveryKind) {
  for (uint16_t k = 1; k <= query_kind_max; k++) {
    QueryRequest q = history_query();
    q.kind = QueryKind(k);
    if (q.kind == QueryKind::texts) q.ids = {Id128{1, 2}, Id128{3, 0}, Id128{0, 4}};
    QueryRequest out;
    ASSERT_EQ(decode_query(encode_query(q), &out), QueryDecode::ok) << k;
    EXPECT_EQ(out.kind, q.kind);
    EXPECT_EQ(out.key, q.key);
    EXPECT_EQ(out.asset, q.asset);
    EXPECT_EQ(out.ids, q.ids);
    EXPECT_EQ(out.cursor, q.cursor);
    EXPECT_EQ(out.limit, q.limit);
  }
}

TEST(QueryCodec, LimitsAndRules) {
  auto decodes = [](const QueryRequest& q) {
    // Forged with the generated builder: encode_query would refuse some.
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<wire::Key128> ids;
    for (const Id128& id : q.ids)
      ids.emplace_back(id.lo, id.hi);
    auto iv = fbb.CreateVectorOfStructs(ids);
    wire::QueryCursor cursor(q.cursor.seq, wire::Key128(q.cursor.key.lo, q.cursor.key.hi),
                             q.cursor.ordinal, 0);
    fbb.Finish(wire::CreateQuery(fbb, uint16_t(q.kind), q.key, q.asset, iv, &cursor, q.limit));
    std::span<const std::byte> body(reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()),
                                    fbb.GetSize());
    QueryRequest out;
    return decode_query(body, &out);
  };
  QueryRequest q = history_query();
  EXPECT_EQ(decodes(q), QueryDecode::ok);
  q.limit = 0;
  EXPECT_EQ(decodes(q), QueryDecode::invalid);
  q.limit = query_limit_max;
  EXPECT_EQ(decodes(q), QueryDecode::ok);
  q.limit = query_limit_max + 1;
  EXPECT_EQ(decodes(q), QueryDecode::invalid);
  q = history_query();
  q.ids = {Id128{1, 1}};  // ids only for texts
  EXPECT_EQ(decodes(q), QueryDecode::invalid);
  q = history_query();
  q.kind = QueryKind(0);
  EXPECT_EQ(decodes(q), QueryDecode::invalid);
  q.kind = QueryKind(query_kind_max + 1);
  EXPECT_EQ(decodes(q), QueryDecode::invalid);

  QueryRequest t;
  t.kind = QueryKind::texts;
  t.limit = 0;                                  // ignored for texts
  EXPECT_EQ(decodes(t), QueryDecode::invalid);  // no ids
  t.ids.assign(query_ids_max, Id128{1, 1});
  EXPECT_EQ(decodes(t), QueryDecode::ok);
  t.ids.push_back(Id128{2, 2});
  EXPECT_EQ(decodes(t), QueryDecode::invalid);
  t.ids = {Id128{1, 1}, Id128{0, 0}};
  EXPECT_EQ(decodes(t), QueryDecode::invalid);  // zero key

  // The cursor's reserved word must be zero.
  flatbuffers::FlatBufferBuilder fbb;
  wire::QueryCursor cursor(0, wire::Key128(0, 0), 0, 1);
  fbb.Finish(wire::CreateQuery(fbb, uint16_t(QueryKind::history), 1, 0, 0, &cursor, 10));
  QueryRequest out;
  EXPECT_EQ(decode_query(std::span(reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()),
                                   fbb.GetSize()),
                         &out),
            QueryDecode::invalid);

  // Truncations and junk: malformed, never a crash.
  std::vector<std::byte> body = encode_query(history_query());
  for (size_t n = 0; n < body.size(); n++)
    EXPECT_NE(decode_query(std::span(body).first(n), &out), QueryDecode::ok) << n;
  EXPECT_EQ(decode_query({}, &out), QueryDecode::malformed);
  std::vector<std::byte> junk(32, std::byte{0xee});
  EXPECT_EQ(decode_query(junk, &out), QueryDecode::malformed);
}

TEST(QueryReplyCodec, RoundTripAndErrors) {
  QueryAnswer a;
  a.next = QueryPosition{9, 2, Id128{7, 7}};
  QueryRowData r;
  r.seq = 5;
  r.time_us = 6;
  r.id = Id128{1, 2};
  r.effect_kind = 3;
  r.code = 4;
  r.amount = -500;
  r.balance_after = 1000;
  r.held_after = 20;
  r.maturing_after = 30;
  r.from_member_id = 11;
  r.to_member_id = 12;
  r.state = 2;
  r.text = R"({"ref":"x"})";
  a.rows.push_back(r);
  r.text.reset();  // absent
  r.seq = 4;
  a.rows.push_back(r);
  r.text = "";  // present and empty: not the same as absent
  a.rows.push_back(r);
  QueryAnswer out;
  ASSERT_TRUE(decode_query_reply(encode_query_reply(a), &out));
  EXPECT_EQ(out.status, Result::ok);
  EXPECT_EQ(out.next, a.next);
  EXPECT_EQ(out.rows, a.rows);
  EXPECT_LE(encode_query_reply(a).size(), query_reply_size_bound(a.rows));

  ASSERT_TRUE(
      decode_query_reply(encode_query_reply(QueryAnswer{Result::invalid_request, {}, {}}), &out));
  EXPECT_EQ(out.status, Result::invalid_request);
  EXPECT_TRUE(out.rows.empty());
  std::vector<std::byte> junk(24, std::byte{0xab});
  EXPECT_FALSE(decode_query_reply(junk, &out));
}

TEST(QueryReplyCodec, SizeBoundHoldsForFullPages) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 20; round++) {
    QueryAnswer a;
    a.rows.resize(1 + rng() % query_limit_max);
    for (auto& row : a.rows) {
      row.seq = rng();
      row.amount = int64_t(rng());
      if (rng() % 3) row.text = std::string(rng() % 200, 't');
    }
    EXPECT_LE(encode_query_reply(a).size(), query_reply_size_bound(a.rows));
  }
}

}  // namespace
}  // namespace coffer::net
