#include "net/command_codec.h"

#include <cstring>

#include "core/assert.h"
#include "net/batch_generated.h"
#include "net/constants.h"

namespace coffer::net {

// The wire structs are core's records, byte for byte: copying is the decoding.
static_assert(sizeof(wire::Command128) == sizeof(Command) && sizeof(Command) == command_size);
static_assert(sizeof(wire::Reply64) == sizeof(Reply) && sizeof(Reply) == reply_size);
static_assert(alignof(wire::Command128) <= alignof(Command));
static_assert(std::is_trivially_copyable_v<wire::Command128>);
static_assert(std::is_trivially_copyable_v<wire::Reply64>);
// FlatBuffers stores structs little-endian; the memcpy needs a little-endian host.
static_assert(FLATBUFFERS_LITTLEENDIAN, "the batch codec copies structs as bytes");
static_assert(batch_size_max == coffer::batch_size_max, "net and core agree on the batch size");
static_assert(command_size_max >= command_size, "a batch of full commands fits a frame");

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

}  // namespace

size_t command_batch_size_bound(size_t command_count, size_t text_count, size_t text_bytes) {
  return batch_body_overhead_size_max + command_count * command_size_max +
         text_count * command_text_overhead_size_max + text_bytes;
}

std::vector<std::byte> encode_command_batch(std::span<const Command> commands,
                                            std::span<const CommandText> texts) {
  COFFER_ASSERT(commands.size() <= batch_size_max);
  COFFER_ASSERT(command_texts_valid(texts, commands.size()));
  size_t text_bytes = 0;
  for (const CommandText& t : texts)
    text_bytes += t.text.size();
  flatbuffers::FlatBufferBuilder fbb(
      command_batch_size_bound(commands.size(), texts.size(), text_bytes));
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::CommandText>>> text_vec = 0;
  if (!texts.empty()) {
    std::vector<flatbuffers::Offset<wire::CommandText>> offsets;
    offsets.reserve(texts.size());
    for (const CommandText& t : texts) {
      auto bytes = fbb.CreateVector(reinterpret_cast<const uint8_t*>(t.text.data()), t.text.size());
      offsets.push_back(wire::CreateCommandText(fbb, t.index, t.key.lo, t.key.hi, t.group, bytes));
    }
    text_vec = fbb.CreateVector(offsets);
  }
  wire::Command128* dst = nullptr;
  auto vec = fbb.CreateUninitializedVectorOfStructs(commands.size(), &dst);
  if (!commands.empty())
    std::memcpy(static_cast<void*>(dst), commands.data(), commands.size_bytes());
  fbb.Finish(wire::CreateCommandBatch(fbb, vec, text_vec));
  return finish(fbb);
}

BatchDecode decode_command_batch(std::span<const std::byte> body, uint32_t batch_size_max_now,
                                 std::vector<Command>& out) {
  std::vector<CommandText> texts;
  return decode_command_batch(body, batch_size_max_now, out, texts);
}

BatchDecode decode_command_batch(std::span<const std::byte> body, uint32_t batch_size_max_now,
                                 std::vector<Command>& out, std::vector<CommandText>& texts) {
  out.clear();
  texts.clear();
  const auto* batch = verified_root<wire::CommandBatch>(body);
  if (batch == nullptr || batch->commands() == nullptr) return BatchDecode::malformed;
  const auto* commands = batch->commands();
  const uint32_t count = commands->size();
  if (count == 0) return BatchDecode::empty;
  if (count > batch_size_max_now || count > batch_size_max) return BatchDecode::too_large;
  // The Verifier checked that count * 128 bytes lie inside the body.
  out.resize(count);
  std::memcpy(out.data(), commands->Data(), size_t{count} * sizeof(Command));
  for (Command& c : out) {
    c.seq = 0;
    c.time_us = 0;
    const auto kind = uint16_t(c.kind);
    if (kind == 0 || kind > uint16_t(CommandKind::domain_last)) c.kind = CommandKind::none;
  }
  if (const auto* wire_texts = batch->texts(); wire_texts != nullptr) {
    // More texts than commands cannot be valid: refused before anything is copied.
    if (wire_texts->size() > count) return BatchDecode::bad_texts;
    texts.resize(wire_texts->size());
    for (uint32_t i = 0; i < wire_texts->size(); i++) {
      const wire::CommandText* w = wire_texts->Get(i);
      const auto* bytes = w->text();
      const size_t size = bytes == nullptr ? 0 : bytes->size();
      if (size > command_text_size_max) return BatchDecode::bad_texts;
      CommandText& t = texts[i];
      t.index = w->index();
      t.key = Id128{w->key_lo(), w->key_hi()};
      t.group = w->group();
      if (size > 0) t.text.assign(reinterpret_cast<const char*>(bytes->data()), size);
    }
    if (!command_texts_valid(texts, count)) return BatchDecode::bad_texts;
  }
  return BatchDecode::ok;
}

std::vector<std::byte> encode_reply_batch(std::span<const Reply> replies) {
  COFFER_ASSERT(replies.size() <= batch_size_max);
  flatbuffers::FlatBufferBuilder fbb(replies.size() * sizeof(Reply) + 64);
  wire::Reply64* dst = nullptr;
  auto vec = fbb.CreateUninitializedVectorOfStructs(replies.size(), &dst);
  if (!replies.empty()) std::memcpy(static_cast<void*>(dst), replies.data(), replies.size_bytes());
  fbb.Finish(wire::CreateReplyBatch(fbb, vec, 0));
  return finish(fbb);
}

std::vector<std::byte> encode_reply_batch_error(Result error) {
  flatbuffers::FlatBufferBuilder fbb(64);
  fbb.Finish(wire::CreateReplyBatch(fbb, 0, uint32_t(error)));
  return finish(fbb);
}

bool decode_reply_batch(std::span<const std::byte> body, Result* error, std::vector<Reply>& out) {
  out.clear();
  const auto* batch = verified_root<wire::ReplyBatch>(body);
  if (batch == nullptr) return false;
  *error = Result(batch->error());
  const auto* replies = batch->replies();
  if (replies == nullptr) return *error != Result::ok;
  if (replies->size() > batch_size_max) return false;
  out.resize(replies->size());
  if (!out.empty()) std::memcpy(out.data(), replies->Data(), out.size() * sizeof(Reply));
  return true;
}

}  // namespace coffer::net
