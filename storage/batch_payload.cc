#include "storage/batch_payload.h"

#include <cstring>

#include "core/assert.h"

namespace coffer::storage {
namespace {

// Text section layout (JOURNAL.md, "Payload"): u32 text_count, then per text
// u32 index, u64 key_lo, u64 key_hi, u64 group, u32 length, length bytes.
constexpr size_t kTextCountSize = 4;
constexpr size_t kTextEntryHeaderSize = 4 + 8 + 8 + 8 + 4;
static_assert(kTextEntryHeaderSize == 32);

void put_u32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<std::byte>(v >> (8 * i));
}
void put_u64(std::byte* p, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<std::byte>(v >> (8 * i));
}
uint32_t get_u32(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
uint64_t get_u64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

std::string at(size_t offset) {
  return "batch payload offset " + std::to_string(offset) + ": ";
}

}  // namespace

void encode_batch_payload(std::span<const Command> commands, std::span<const CommandText> texts,
                          std::vector<std::byte>* out) {
  COFFER_ASSERT(command_texts_valid(texts, commands.size()));
  size_t size = commands.size_bytes();
  if (!texts.empty()) {
    size += kTextCountSize;
    for (const CommandText& t : texts)
      size += kTextEntryHeaderSize + t.text.size();
  }
  size_t start = out->size();
  out->resize(start + size);
  std::byte* p = out->data() + start;
  if (!commands.empty()) std::memcpy(p, commands.data(), commands.size_bytes());
  p += commands.size_bytes();
  if (texts.empty()) return;
  put_u32(p, static_cast<uint32_t>(texts.size()));
  p += kTextCountSize;
  for (const CommandText& t : texts) {
    put_u32(p, t.index);
    put_u64(p + 4, t.key.lo);
    put_u64(p + 12, t.key.hi);
    put_u64(p + 20, t.group);
    put_u32(p + 28, static_cast<uint32_t>(t.text.size()));
    p += kTextEntryHeaderSize;
    if (!t.text.empty()) std::memcpy(p, t.text.data(), t.text.size());
    p += t.text.size();
  }
  COFFER_ASSERT(p == out->data() + out->size());
}

bool decode_batch_payload(std::span<const std::byte> payload, uint32_t command_count,
                          std::span<const std::byte>* commands, std::vector<CommandText>* texts,
                          std::string* error) {
  texts->clear();
  const uint64_t commands_size = uint64_t{command_count} * sizeof(Command);
  if (payload.size() < commands_size) {
    return fail(error, "batch payload of " + std::to_string(payload.size()) +
                           " bytes is shorter than its " + std::to_string(command_count) +
                           " commands (" + std::to_string(commands_size) + " bytes)");
  }
  *commands = payload.first(commands_size);
  size_t off = commands_size;
  const size_t end = payload.size();
  if (off == end) return true;  // no text section

  if (end - off < kTextCountSize) {
    return fail(error,
                at(off) + "text_count: " + std::to_string(end - off) + " bytes left, needs 4");
  }
  const uint32_t text_count = get_u32(payload.data() + off);
  // Indexes strictly increase below command_count, so there are at most
  // command_count texts; checked before reserving so a bad count allocates nothing.
  if (text_count == 0 || text_count > command_count) {
    return fail(error, at(off) + "text_count " + std::to_string(text_count) + " not in 1.." +
                           std::to_string(command_count));
  }
  off += kTextCountSize;
  if ((end - off) / kTextEntryHeaderSize < text_count) {
    return fail(error, at(off) + "text_count " + std::to_string(text_count) + " needs at least " +
                           std::to_string(uint64_t{text_count} * kTextEntryHeaderSize) +
                           " bytes, " + std::to_string(end - off) + " left");
  }
  texts->reserve(text_count);
  uint64_t next_index = 0;
  for (uint32_t i = 0; i < text_count; ++i) {
    const std::string entry = "text " + std::to_string(i) + " ";
    if (end - off < kTextEntryHeaderSize) {
      texts->clear();
      return fail(error, at(off) + entry + "header: " + std::to_string(end - off) +
                             " bytes left, needs 32");
    }
    const std::byte* p = payload.data() + off;
    CommandText t;
    t.index = get_u32(p);
    t.key = Id128{get_u64(p + 4), get_u64(p + 12)};
    t.group = get_u64(p + 20);
    const uint32_t length = get_u32(p + 28);
    if (t.index < next_index || t.index >= command_count) {
      texts->clear();
      return fail(error, at(off) + entry + "index " + std::to_string(t.index) +
                             (t.index >= command_count
                                  ? " >= command_count " + std::to_string(command_count)
                                  : " not above the previous text's index"));
    }
    if (t.key.is_zero()) {
      texts->clear();
      return fail(error, at(off + 4) + entry + "key is zero");
    }
    if (length > command_text_size_max) {
      texts->clear();
      return fail(error, at(off + 28) + entry + "length " + std::to_string(length) +
                             " over the limit " + std::to_string(command_text_size_max));
    }
    off += kTextEntryHeaderSize;
    if (end - off < length) {
      texts->clear();
      return fail(error, at(off) + entry + "bytes: length " + std::to_string(length) + ", " +
                             std::to_string(end - off) + " bytes left");
    }
    t.text.assign(reinterpret_cast<const char*>(payload.data() + off), length);
    off += length;
    next_index = uint64_t{t.index} + 1;
    texts->push_back(std::move(t));
  }
  if (off != end) {
    texts->clear();
    return fail(error, at(off) + std::to_string(end - off) + " trailing bytes after " +
                           std::to_string(text_count) + " texts");
  }
  // Checked field by field above; this is the contract stated in the header.
  COFFER_ASSERT(command_texts_valid(*texts, command_count));
  return true;
}

}  // namespace coffer::storage
