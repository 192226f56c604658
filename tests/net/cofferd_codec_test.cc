// Command batches on the wire and ids from strings (net/command_codec.h, net/ids.h).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "net/batch_generated.h"
#include "net/command_codec.h"
#include "net/ids.h"

namespace coffer::net {
namespace {

std::vector<Command> sample_commands() {
  std::vector<Command> v;
  v.push_back(make_create_account(Id128{1, 2}, 42, asset_wallet, AccountKind::member_wallet,
                                  account_flag_no_negative));
  v.push_back(make_hold(Id128{3, 4}, 42, 43, 500, asset_points, 60));
  v.push_back(make_grant(Id128{5, 6}, 43, 42, 7, asset_wallet, 123456789));
  v.push_back(make_pending_op(CommandKind::post_pending, Id128{7, 8}, Id128{3, 4}, 100));
  v.push_back(make_set_frozen(Id128{9, 10}, 42, true));
  v.push_back(make_lookup(42));
  v.push_back(make_tick());
  v[1].flags = command_flag_linked;
  return v;
}

TEST(CommandCodec, RoundTripIsByteExactExceptSeqAndTime) {
  std::vector<Command> in = sample_commands();
  in[0].seq = 99;  // ignored on input
  in[0].time_us = 77;
  std::vector<Command> out;
  ASSERT_EQ(decode_command_batch(encode_command_batch(in), batch_size_max, out), BatchDecode::ok);
  ASSERT_EQ(out.size(), in.size());
  in[0].seq = 0;
  in[0].time_us = 0;
  for (size_t i = 0; i < in.size(); i++)
    EXPECT_EQ(std::memcmp(&in[i], &out[i], sizeof(Command)), 0) << i;
}

TEST(CommandCodec, GeneratedStructMirrorsCoreFieldByField) {
  Command c = make_transfer(Id128{0x1111, 0x2222}, 5, 6, 99, asset_wallet);
  c.flags = 1;
  c.seq = 7;
  c.time_us = 8;
  wire::Command128 w;
  static_assert(sizeof w == sizeof c);
  std::memcpy(static_cast<void*>(&w), &c, sizeof c);
  EXPECT_EQ(w.kind(), uint16_t(CommandKind::transfer));
  EXPECT_EQ(w.flags(), 1);
  EXPECT_EQ(w.id_lo(), 0x1111u);
  EXPECT_EQ(w.id_hi(), 0x2222u);
  EXPECT_EQ(w.seq(), 7u);
  EXPECT_EQ(w.time_us(), 8u);
  EXPECT_EQ(std::memcmp(w.body()->Data(), &c.body, command_body_size), 0);

  Reply r{};
  r.result = Result::insufficient_funds;
  r.flags = reply_flag_replayed;
  r.amount = -5;
  r.asset = asset_points;
  r.kind = AccountKind::member_points;
  r.account_flags = 3;
  r.debits_posted = 10;
  r.credits_posted = 11;
  r.debits_pending = 12;
  r.credits_pending = 13;
  wire::Reply64 wr;
  std::memcpy(static_cast<void*>(&wr), &r, sizeof r);
  EXPECT_EQ(wr.result(), 6u);
  EXPECT_EQ(wr.flags(), reply_flag_replayed);
  EXPECT_EQ(wr.amount(), -5);
  EXPECT_EQ(wr.asset(), asset_points);
  EXPECT_EQ(wr.kind(), uint16_t(AccountKind::member_points));
  EXPECT_EQ(wr.account_flags(), 3);
  EXPECT_EQ(wr.debits_posted(), 10);
  EXPECT_EQ(wr.credits_posted(), 11);
  EXPECT_EQ(wr.debits_pending(), 12);
  EXPECT_EQ(wr.credits_pending(), 13);
}

TEST(CommandCodec, UnknownKindsBecomeNoneOthersKept) {
  std::vector<Command> in = sample_commands();
  in[2].kind = CommandKind(0);
  in[3].kind = CommandKind(128);
  in[4].kind = CommandKind(0xFFFF);
  in[5].kind = CommandKind(40);  // a domain kind: core decides
  std::vector<Command> out;
  ASSERT_EQ(decode_command_batch(encode_command_batch(in), batch_size_max, out), BatchDecode::ok);
  EXPECT_EQ(out[1].kind, CommandKind::transfer);
  EXPECT_EQ(out[2].kind, CommandKind::none);
  EXPECT_EQ(out[3].kind, CommandKind::none);
  EXPECT_EQ(out[4].kind, CommandKind::none);
  EXPECT_EQ(out[5].kind, CommandKind(40));
}

TEST(CommandCodec, LimitsAndMalformedBodies) {
  std::vector<Command> out;
  std::vector<Command> many(batch_size_max + 1, make_tick());
  // The encoder refuses more than the maximum (assert), so build it by hand.
  flatbuffers::FlatBufferBuilder fbb;
  wire::Command128* dst = nullptr;
  auto vec = fbb.CreateUninitializedVectorOfStructs(many.size(), &dst);
  std::memcpy(static_cast<void*>(dst), many.data(), many.size() * sizeof(Command));
  fbb.Finish(wire::CreateCommandBatch(fbb, vec));
  std::span<const std::byte> big(reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()),
                                 fbb.GetSize());
  EXPECT_EQ(decode_command_batch(big, batch_size_max, out), BatchDecode::too_large);
  std::vector<Command> ten(10, make_tick());
  EXPECT_EQ(decode_command_batch(encode_command_batch(ten), 9, out), BatchDecode::too_large);
  EXPECT_EQ(decode_command_batch(encode_command_batch({}), batch_size_max, out),
            BatchDecode::empty);
  EXPECT_EQ(decode_command_batch({}, batch_size_max, out), BatchDecode::malformed);

  // Every truncation and a sweep of single-byte corruptions: never a crash,
  // never more commands than the body holds.
  std::vector<std::byte> body = encode_command_batch(sample_commands());
  for (size_t n = 0; n < body.size(); n++) {
    BatchDecode d = decode_command_batch(std::span(body).first(n), batch_size_max, out);
    EXPECT_NE(d, BatchDecode::ok) << n;
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; i++) {
    std::vector<std::byte> bad = body;
    bad[rng() % bad.size()] = std::byte(rng());
    if (decode_command_batch(bad, batch_size_max, out) == BatchDecode::ok) {
      EXPECT_LE(out.size() * sizeof(Command), bad.size());
    }
  }
}

TEST(ReplyCodec, RoundTripAndBatchError) {
  std::vector<Reply> in(3);
  in[0].result = Result::ok;
  in[0].amount = 5;
  in[1].result = Result::not_found;
  in[2].result = Result::insufficient_funds;
  in[2].credits_pending = -9;
  std::vector<Reply> out;
  Result error = Result::unavailable;
  ASSERT_TRUE(decode_reply_batch(encode_reply_batch(in), &error, out));
  EXPECT_EQ(error, Result::ok);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(std::memcmp(in.data(), out.data(), 3 * sizeof(Reply)), 0);

  ASSERT_TRUE(decode_reply_batch(encode_reply_batch_error(Result::storage_error), &error, out));
  EXPECT_EQ(error, Result::storage_error);
  EXPECT_TRUE(out.empty());
  std::vector<std::byte> junk(16, std::byte{0xff});
  EXPECT_FALSE(decode_reply_batch(junk, &error, out));
}

// Expected values computed independently with Python's hashlib:
//   d = sha256(b"ns:id").digest(); int.from_bytes(d[:8], "little"), d[8:16] likewise.
TEST(Ids, FirstSixteenBytesOfSha256LittleEndian) {
  const Id128 id = id_from_string("ns", "id");
  EXPECT_EQ(id.lo, 0xa54a0fbde6aaae3bull);
  EXPECT_EQ(id.hi, 0x8184691101d3dd92ull);
  EXPECT_NE(id, id_from_string("ns", "id2"));
  EXPECT_NE(id, id_from_string("ns2", "id"));
}

TEST(Ids, AccountIds) {
  EXPECT_EQ(account_id_from_string("42"), 42u);
  EXPECT_EQ(account_id_from_string("18446744073709551615"), UINT64_MAX);
  const uint64_t hashed = account_id_from_string("alice");
  EXPECT_EQ(hashed, 5837431763636890457ull);  // hashlib, bit 63 cleared, bit 62 set
  EXPECT_GE(hashed, uint64_t{1} << 62);
  EXPECT_LT(hashed, uint64_t{1} << 63);
  EXPECT_EQ(hashed, account_id_from_string("alice"));
  EXPECT_NE(hashed, account_id_from_string("bob"));
  EXPECT_GE(account_id_from_string("0"), uint64_t{1} << 62);    // zero is not an id
  EXPECT_GE(account_id_from_string("007"), uint64_t{1} << 62);  // not canonical decimal
  EXPECT_GE(account_id_from_string("18446744073709551616"), uint64_t{1} << 62);
}

}  // namespace
}  // namespace coffer::net
