// The journal record payload codec (storage/batch_payload.h, JOURNAL.md
// "Payload"): round trips, the no-text form, and one test per malformation.
#include "storage/batch_payload.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace coffer::storage {
namespace {

using Bytes = std::vector<std::byte>;

std::vector<Command> make_commands(uint32_t n) {
  std::vector<Command> commands;
  for (uint32_t i = 0; i < n; ++i) {
    Command c = make_transfer(Id128{i + 1, 0xABCD}, 10 + i, 20 + i, 100 * (i + 1), asset_wallet);
    c.seq = 1000 + i;
    c.time_us = 5000 + i;
    commands.push_back(c);
  }
  return commands;
}

CommandText text(uint32_t index, uint64_t key_lo, uint64_t group, std::string s) {
  return CommandText{index, Id128{key_lo, ~key_lo}, group, std::move(s)};
}

struct Decoded {
  bool ok = false;
  std::span<const std::byte> commands;
  std::vector<CommandText> texts;
  std::string error;
};

Decoded decode(const Bytes& payload, uint32_t count) {
  Decoded d;
  d.ok = decode_batch_payload(payload, count, &d.commands, &d.texts, &d.error);
  return d;
}

void put_u32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[at + i] = std::byte(v >> (8 * i));
}

TEST(BatchPayload, NoTextsIsExactlyTheCommands) {
  std::vector<Command> commands = make_commands(3);
  Bytes payload;
  encode_batch_payload(commands, {}, &payload);
  ASSERT_EQ(payload.size(), 3 * sizeof(Command));
  EXPECT_EQ(std::memcmp(payload.data(), commands.data(), payload.size()), 0);
  Decoded d = decode(payload, 3);
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.commands.data(), payload.data());
  EXPECT_EQ(d.commands.size(), payload.size());
  EXPECT_TRUE(d.texts.empty());
}

TEST(BatchPayload, RoundTripWithTexts) {
  std::vector<Command> commands = make_commands(5);
  std::vector<CommandText> texts = {text(0, 7, 0, R"({"ref":"a"})"), text(2, 8, 99, ""),
                                    text(4, 9, 1, std::string(command_text_size_max, 'x'))};
  texts[1].text = std::string("bin\0ary", 7);
  Bytes payload = {std::byte{0xEE}};  // encode appends
  encode_batch_payload(commands, texts, &payload);
  Bytes body(payload.begin() + 1, payload.end());
  size_t expected = 5 * sizeof(Command) + 4;
  for (const auto& t : texts)
    expected += 32 + t.text.size();
  ASSERT_EQ(body.size(), expected);
  Decoded d = decode(body, 5);
  ASSERT_TRUE(d.ok) << d.error;
  ASSERT_EQ(d.commands.size(), 5 * sizeof(Command));
  EXPECT_EQ(std::memcmp(d.commands.data(), commands.data(), d.commands.size()), 0);
  ASSERT_EQ(d.texts.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(d.texts[i].index, texts[i].index);
    EXPECT_EQ(d.texts[i].key, texts[i].key);
    EXPECT_EQ(d.texts[i].group, texts[i].group);
    EXPECT_EQ(d.texts[i].text, texts[i].text);
  }
  // Little-endian on disk: text_count right after the commands.
  EXPECT_EQ(body[5 * sizeof(Command)], std::byte{3});
  EXPECT_EQ(body[5 * sizeof(Command) + 4], std::byte{0});  // first index
}

TEST(BatchPayload, ZeroCommandsNoTexts) {
  Bytes payload;
  encode_batch_payload({}, {}, &payload);
  EXPECT_TRUE(payload.empty());
  Decoded d = decode(payload, 0);
  EXPECT_TRUE(d.ok) << d.error;
  EXPECT_TRUE(d.texts.empty());
}

// A valid payload of 3 commands with texts at 0 and 2, for the malformations.
Bytes good_payload() {
  Bytes payload;
  std::vector<Command> commands = make_commands(3);
  std::vector<CommandText> texts = {text(0, 1, 5, "hello"), text(2, 2, 0, "world!")};
  encode_batch_payload(commands, texts, &payload);
  return payload;
}
constexpr size_t kSection = 3 * sizeof(Command);
constexpr size_t kFirst = kSection + 4;      // first entry
constexpr size_t kSecond = kFirst + 32 + 5;  // second entry

void expect_bad(const Bytes& payload, uint32_t count, const std::string& needle) {
  Decoded d = decode(payload, count);
  EXPECT_FALSE(d.ok);
  EXPECT_TRUE(d.texts.empty());
  EXPECT_NE(d.error.find(needle), std::string::npos) << "error: " << d.error;
}

TEST(BatchPayload, GoodPayloadDecodes) {
  Decoded d = decode(good_payload(), 3);
  ASSERT_TRUE(d.ok) << d.error;
  ASSERT_EQ(d.texts.size(), 2u);
  EXPECT_EQ(d.texts[1].text, "world!");
}

TEST(BatchPayload, ShorterThanCommands) {
  Bytes p = good_payload();
  p.resize(kSection - 1);
  expect_bad(p, 3, "shorter than its 3 commands");
  expect_bad(good_payload(), 100, "shorter than its 100 commands");
}

TEST(BatchPayload, PartialTextCount) {
  for (size_t extra = 1; extra < 4; ++extra) {
    Bytes p = good_payload();
    p.resize(kSection + extra);
    expect_bad(p, 3, "offset " + std::to_string(kSection) + ": text_count");
  }
}

TEST(BatchPayload, TextCountZero) {
  Bytes p = good_payload();
  put_u32(p, kSection, 0);
  expect_bad(p, 3, "text_count 0 not in 1..3");
  // Also when nothing follows the count.
  p.resize(kSection + 4);
  expect_bad(p, 3, "text_count 0");
}

TEST(BatchPayload, TextCountAboveCommandCount) {
  Bytes p = good_payload();
  put_u32(p, kSection, 4);
  expect_bad(p, 3, "text_count 4 not in 1..3");
  put_u32(p, kSection, 0xFFFFFFFF);
  expect_bad(p, 3, "text_count 4294967295");
}

TEST(BatchPayload, TextCountBeyondBytes) {
  Bytes p = good_payload();
  put_u32(p, kSection, 3);  // plausible count, but the entries are not there
  expect_bad(p, 3, "");     // either the size check or a later field fails
  Bytes q = good_payload();
  q.resize(kFirst + 10);
  expect_bad(q, 3, "needs at least 64 bytes");
}

TEST(BatchPayload, TruncatedEntryHeader) {
  Bytes p = good_payload();
  p.resize(kSecond + 31);
  expect_bad(p, 3, "offset " + std::to_string(kSecond) + ": text 1 header");
}

TEST(BatchPayload, TruncatedText) {
  Bytes p = good_payload();
  p.pop_back();
  expect_bad(p, 3, "text 1 bytes: length 6, 5 bytes left");
}

TEST(BatchPayload, IndexNotIncreasing) {
  Bytes p = good_payload();
  put_u32(p, kSecond, 0);
  expect_bad(p, 3, "text 1 index 0 not above the previous");
}

TEST(BatchPayload, IndexAtOrAboveCommandCount) {
  Bytes p = good_payload();
  put_u32(p, kSecond, 3);
  expect_bad(p, 3, "text 1 index 3 >= command_count 3");
}

TEST(BatchPayload, ZeroKey) {
  Bytes p = good_payload();
  std::memset(p.data() + kFirst + 4, 0, 16);
  expect_bad(p, 3, "offset " + std::to_string(kFirst + 4) + ": text 0 key is zero");
}

TEST(BatchPayload, LengthOverLimit) {
  Bytes p = good_payload();
  put_u32(p, kFirst + 28, command_text_size_max + 1);
  expect_bad(p, 3, "text 0 length 8193 over the limit 8192");
  put_u32(p, kFirst + 28, 0xFFFFFFFF);
  expect_bad(p, 3, "over the limit");
}

TEST(BatchPayload, LengthPastEnd) {
  Bytes p = good_payload();
  put_u32(p, kSecond + 28, 100);
  expect_bad(p, 3, "text 1 bytes: length 100");
}

TEST(BatchPayload, TrailingBytes) {
  Bytes p = good_payload();
  p.push_back(std::byte{0});
  expect_bad(p, 3, "1 trailing bytes after 2 texts");
  Bytes q = good_payload();
  put_u32(q, kSection, 1);  // the second entry becomes trailing garbage
  expect_bad(q, 3, "trailing bytes after 1 texts");
}

TEST(BatchPayload, DecodeClearsPreviousTexts) {
  std::vector<CommandText> texts = {text(0, 1, 0, "stale")};
  std::span<const std::byte> commands;
  std::string error;
  Bytes p = good_payload();
  p.resize(kSection);
  ASSERT_TRUE(decode_batch_payload(p, 3, &commands, &texts, &error)) << error;
  EXPECT_TRUE(texts.empty());
}

TEST(BatchPayloadDeathTest, EncodeRejectsInvalidTexts) {
  std::vector<Command> commands = make_commands(2);
  std::vector<CommandText> texts = {text(1, 1, 0, "a"), text(1, 2, 0, "b")};
  Bytes p;
  EXPECT_DEATH(encode_batch_payload(commands, texts, &p), "command_texts_valid");
}

}  // namespace
}  // namespace coffer::storage
