// The payload of a journal record (JOURNAL.md frames it; this is what is
// inside): the batch's commands, 128 bytes each, then — only if the batch
// carried texts (core/command_text.h) — the text section. A payload of exactly
// command_count * 128 bytes has no texts (journals written before texts
// existed read the same). Grammar of the text section: JOURNAL.md, "Payload".
//
// Both the sequencer (writing) and recovery/replay (reading) use this one codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/command_text.h"
#include "core/types.h"

namespace coffer::storage {

// Appends the payload of `commands` and `texts` to `out`.
// REQUIRES: command_texts_valid(texts, commands.size()).
void encode_batch_payload(std::span<const Command> commands, std::span<const CommandText> texts,
                          std::vector<std::byte>* out);

// Splits a payload that should hold `command_count` commands. `commands` points
// into `payload` (unaligned: copy before use); `texts` gets the text section.
// false, with `error` saying what is wrong, for a payload shorter than its
// commands or a malformed text section (texts must satisfy command_texts_valid).
bool decode_batch_payload(std::span<const std::byte> payload, uint32_t command_count,
                          std::span<const std::byte>* commands, std::vector<CommandText>* texts,
                          std::string* error);

}  // namespace coffer::storage
