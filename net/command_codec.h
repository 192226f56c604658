// Command batches on the wire (batch.fbs, PROTOCOL.md "Command batches"):
// request bodies carry up to batch_size_max core Commands, reply bodies one
// core Reply per command, in order. FlatBuffers stays behind this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/command_text.h"
#include "core/result.h"
#include "core/types.h"

namespace coffer::net {

// Request body. REQUIRES: commands.size() <= batch_size_max and
// command_texts_valid(texts, commands.size()).
std::vector<std::byte> encode_command_batch(std::span<const Command> commands,
                                            std::span<const CommandText> texts = {});

// An upper bound on the size of encode_command_batch's body (FlatBuffers
// overhead included): callers keep it within the peer's frame_body_size_max.
size_t command_batch_size_bound(size_t command_count, size_t text_count, size_t text_bytes);

enum class BatchDecode : uint8_t {
  ok = 0,
  malformed = 1,  // Verifier failure or no commands vector
  empty = 2,      // zero commands
  too_large = 3,  // more than the limit
  bad_texts = 4,  // texts that fail command_texts_valid (order, key, size)
};

// Verifies and copies the commands into `out` (cleared first). seq and time_us
// come out zero (the sequencer stamps them). A command whose kind is outside
// 1..domain_last gets kind `none`, which core answers INVALID_REQUEST (per
// command, and a linked chain fails as a whole), so an unknown kind never
// costs the connection.
// Texts go to `texts` (cleared first); a batch whose texts are not valid is
// refused whole (bad_texts), like any other malformed batch.
BatchDecode decode_command_batch(std::span<const std::byte> body, uint32_t batch_size_max,
                                 std::vector<Command>& out, std::vector<CommandText>& texts);
// The same, for callers that do not need the texts (they are still checked).
BatchDecode decode_command_batch(std::span<const std::byte> body, uint32_t batch_size_max,
                                 std::vector<Command>& out);

// Reply body: the replies in order (error 0), or a batch-level error.
std::vector<std::byte> encode_reply_batch(std::span<const Reply> replies);
std::vector<std::byte> encode_reply_batch_error(Result error);

// Decodes a reply body: *error gets the batch-level error (Result::ok when the
// replies are there). False when the bytes are malformed.
bool decode_reply_batch(std::span<const std::byte> body, Result* error, std::vector<Reply>& out);

}  // namespace coffer::net
