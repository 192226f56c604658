// Every limit of the wire protocol and the server, in one place (TigerBeetle's
// rule: put a limit on everything). The values here are the compile-time
// maxima and defaults; `Limits` (server.h) lowers them at run time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/command_text.h"

namespace coffer::net {

// --- The frame -------------------------------------------------------------

inline constexpr uint32_t frame_magic = 0x52464F43u;  // "COFR" as bytes on the wire (LE u32).
inline constexpr uint16_t protocol_version = 1;
inline constexpr size_t frame_header_size = 32;

// A request frame carries up to batch_size_max commands; a reply, one result each.
inline constexpr uint32_t batch_size_max = 8192;
// Upper bound on one command (or one result) encoded in a batch body,
// FlatBuffers offsets and padding included.
inline constexpr uint32_t command_size_max = 128;
// The largest body a peer may send or receive: a full batch of maximal commands
// plus room for vtables, strings and alignment. 2 MiB.
inline constexpr uint32_t frame_body_size_max = 2 * 1024 * 1024;
// Before the hello is accepted a peer is unauthenticated: it may make the
// server allocate only this much for a body.
inline constexpr uint32_t hello_body_size_max = 4096;
inline constexpr uint32_t token_size_max = 256;
inline constexpr uint32_t client_name_size_max = 128;
inline constexpr uint32_t error_message_size_max = 1024;

// Texts beside commands (core/command_text.h): each costs its bytes plus at
// most this much FlatBuffers framing (table, vtable, offsets, padding); a
// batch body costs at most batch_body_overhead_size_max beyond its parts.
// Clients size their frames with these (command_batch_size_bound).
inline constexpr uint32_t command_text_overhead_size_max = 96;
inline constexpr uint32_t batch_body_overhead_size_max = 256;

// --- Queries (frame types query, query_reply) --------------------------------

inline constexpr uint32_t query_limit_max = 1000;  // rows per page
inline constexpr uint32_t query_ids_max = 1000;    // keys of one texts query
// A reply row costs its text's bytes plus at most this much framing; a
// reply body at most query_reply_overhead_size_max beyond its rows. A page
// that would not fit the session's frame_body_size_max is cut short (its
// `next` cursor then continues it).
inline constexpr uint32_t query_row_overhead_size_max = 192;
inline constexpr uint32_t query_reply_overhead_size_max = 128;
// Read your writes: a query waits until the state store has applied every
// seq acknowledged before it arrived, re-checking this often, and is answered
// UNAVAILABLE if that takes longer than the timeout.
inline constexpr uint32_t query_wait_poll_ms = 1;
inline constexpr uint32_t query_wait_timeout_ms = 2'000;

static_assert(frame_body_size_max >= batch_size_max * command_size_max + 64 * 1024,
              "a full batch of maximal commands must fit in one frame");
static_assert(frame_body_size_max < (uint32_t{1} << 31), "body length must fit in u32 with room");
static_assert(hello_body_size_max >= token_size_max + client_name_size_max + 256,
              "a maximal hello must fit in the pre-authentication body limit");
static_assert(hello_body_size_max <= frame_body_size_max);
static_assert(error_message_size_max + 256 <= hello_body_size_max,
              "error frames must be readable by a peer still in its handshake");
static_assert(frame_body_size_max >= query_reply_overhead_size_max + query_row_overhead_size_max +
                                         coffer::command_text_size_max,
              "a row with a maximal text fits a reply at the default body limit");
static_assert(frame_body_size_max >=
                  batch_body_overhead_size_max + batch_size_max * command_size_max +
                      command_text_overhead_size_max + coffer::command_text_size_max,
              "a full batch with one maximal text fits a frame");
static_assert(query_ids_max * 16 + 256 <= hello_body_size_max * 8,
              "a maximal texts query is small next to any body limit");
static_assert(query_wait_poll_ms >= 1 && query_wait_timeout_ms > query_wait_poll_ms);

// --- The server ------------------------------------------------------------

inline constexpr uint32_t connections_max = 1024;
inline constexpr uint32_t in_flight_frames_per_connection_max = 64;
inline constexpr uint32_t io_threads_max = 64;

inline constexpr uint32_t hello_timeout_ms = 5'000;
inline constexpr uint32_t idle_timeout_ms = 60'000;
// A peer whose socket accepts no byte of our replies for this long is a slow
// reader and is closed: its replies would otherwise pin memory.
inline constexpr uint32_t write_timeout_ms = 10'000;
// How long a session waits before offering a request again to a full sink.
inline constexpr uint32_t backpressure_retry_us = 200;
// After an error frame (or at stop) the session half-closes and drains its
// socket this long, so the peer reads the error rather than a TCP reset.
inline constexpr uint32_t close_linger_ms = 500;
// Graceful stop: replies in flight get this long to flush.
inline constexpr uint32_t stop_timeout_ms = 5'000;

// Bytes read from a socket per read call; frames may span reads.
inline constexpr size_t read_buffer_size = 64 * 1024;
// Frames gathered into one socket write (asio's scatter/gather caps at 64 buffers).
inline constexpr size_t write_batch_frames_max = 32;

static_assert(connections_max >= 1 && in_flight_frames_per_connection_max >= 1);
static_assert(write_batch_frames_max * 2 <= 64, "header + body per frame, 64 iovecs max");
static_assert(read_buffer_size >= frame_header_size);
static_assert(hello_timeout_ms > 0 && idle_timeout_ms > 0 && write_timeout_ms > 0);
static_assert(close_linger_ms < stop_timeout_ms, "linger must fit in the stop budget");

}  // namespace coffer::net
