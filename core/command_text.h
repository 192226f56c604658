// Text beside a command. DESIGN.md: strings (names, phones, messages, payout
// details, caller ids) travel to the journal and the LMDB state store, never
// into core's state. Core only defines the type, because storage, net and the
// client all carry it; apply() never sees it.
//
// A batch carries at most one text per command. The state store keeps a text
// under its key only if its command succeeded for the first time (reply ok and
// not a replay, text_kept()); a later kept text under the same key replaces
// it, so "the latest name of merchant 7" is one key.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/result.h"
#include "core/types.h"

namespace coffer {

inline constexpr uint32_t command_text_size_max = 8192;

struct CommandText {
  uint32_t index = 0;  // position of its command in the batch
  Id128 key{};         // non-zero: where the state store keeps it
  uint64_t group = 0;  // 0: none; else listable with the other texts of the group
  std::string text;    // opaque bytes (the gateway writes JSON), <= command_text_size_max
};

// Indexes strictly increasing and below command_count, keys non-zero, sizes
// within the limit.
inline bool command_texts_valid(std::span<const CommandText> texts, size_t command_count) {
  uint64_t next_index = 0;
  for (const CommandText& t : texts) {
    if (t.index < next_index || t.index >= command_count) return false;
    if (t.key.is_zero() || t.text.size() > command_text_size_max) return false;
    next_index = uint64_t{t.index} + 1;
  }
  return true;
}

// Whether the text of a command with this reply is kept by the state store.
inline bool text_kept(const Reply& reply) {
  return reply.result == Result::ok && (reply.flags & reply_flag_replayed) == 0;
}

}  // namespace coffer
