// Every limit of the journal, in one place (TigerBeetle style). The on-disk
// sizes below are part of the format in JOURNAL.md: DO NOT CHANGE THEM without a
// new format version.
#pragma once

#include <cstddef>
#include <cstdint>

namespace coffer::storage {

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;
inline constexpr uint64_t kGiB = 1024 * kMiB;

// --- On-disk format (JOURNAL.md) ---------------------------------------------

inline constexpr uint32_t kJournalFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 32;
inline constexpr size_t kFrameHeaderSize = 40;
// Segment file names: "journal-" + 20 decimal digits of first_seq + ".wal".
inline constexpr size_t kSegmentNameSeqDigits = 20;

// --- Records -----------------------------------------------------------------

// One record is one sequencer batch: up to 8 192 commands of ~128 bytes is 1 MiB;
// 4 MiB leaves room for larger commands without fragmenting records.
inline constexpr uint32_t kRecordPayloadSizeMax = 4 * kMiB;
// A batch never holds more commands than this (core's batch max is 8 192).
inline constexpr uint32_t kRecordCommandCountMax = 1u << 16;

// --- Segments ----------------------------------------------------------------

inline constexpr uint64_t kSegmentSizeDefault = 64 * kMiB;
// Small segments are allowed so tests can cross segment boundaries cheaply.
inline constexpr uint64_t kSegmentSizeMin = 256;
inline constexpr uint64_t kSegmentSizeMax = 4 * kGiB;

// --- Writer queue (backpressure) ---------------------------------------------

inline constexpr uint32_t kQueueRecordCountDefault = 4096;
inline constexpr uint64_t kQueueSizeBytesDefault = 256 * kMiB;

// --- Invariants between the limits -------------------------------------------

static_assert(kSegmentHeaderSize % 8 == 0 && kFrameHeaderSize % 8 == 0,
              "headers keep 8-byte alignment of the fields after them");
static_assert(kSegmentSizeDefault >= kSegmentHeaderSize + kFrameHeaderSize + kRecordPayloadSizeMax,
              "a record of maximum size must fit in an empty default segment");
static_assert(kSegmentSizeMin > kSegmentHeaderSize + kFrameHeaderSize,
              "the smallest segment holds at least one record");
static_assert(kSegmentSizeDefault >= kSegmentSizeMin && kSegmentSizeDefault <= kSegmentSizeMax);
static_assert(kRecordPayloadSizeMax <= UINT32_MAX - kFrameHeaderSize,
              "frame length field is 32 bits");
static_assert(kRecordCommandCountMax >= 8192, "core batches of 8 192 commands must fit");
static_assert(kQueueSizeBytesDefault >= kRecordPayloadSizeMax + kFrameHeaderSize,
              "the queue admits at least one record of maximum size");

}  // namespace coffer::storage
