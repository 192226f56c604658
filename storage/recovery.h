// Start-up recovery (DESIGN.md, "Durability and recovery"; rules in
// STATE_STORE.md): load the state image from the state store (as of seq S),
// replay every journal record after S through the Ledger, re-feed their effects
// to the store so that its history is complete, and return the final state hash.
//
// Call it BEFORE Journal::open() (it reads the journal with a JournalReader and
// may delete segments), on a freshly constructed Ledger, with an open StateStore.
// Afterwards the sequencer stamps report.next_seq next; Journal::open() accepts
// it (if recovery emptied the journal because it was behind the image, the
// journal is empty and takes any first record).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/ledger.h"
#include "storage/file_system.h"
#include "storage/state_store.h"
#include "storage/status.h"

namespace coffer::storage {

struct RecoveryOptions {
  std::string journal_dir;
  FileSystem* fs = nullptr;  // nullptr: posix_file_system()
  // false: ignore the stored image and replay the whole journal (tools, tests).
  bool use_image = true;
  // Delete journal segments whose records are all at or below the image's seq.
  bool remove_segments_below_image = true;
  std::function<void(const std::string&)> log;  // nullptr: stderr
};

struct RecoveryReport {
  bool image_loaded = false;
  uint64_t image_seq = 0;
  uint64_t image_state_hash = 0;
  uint64_t store_applied_seq = 0;  // the store's last applied seq before recovery
  uint64_t journal_first_seq = 0;  // first record replayed (0: none)
  uint64_t records_replayed = 0;
  uint64_t commands_replayed = 0;
  uint64_t effects_fed = 0;           // effects handed to the store (those above its applied seq)
  bool journal_behind_image = false;  // journal ended before S: its segments were removed
  uint32_t segments_removed = 0;
  bool torn_tail = false;  // Journal::open() will cut it off
  std::string torn_tail_file;
  uint64_t torn_tail_offset = 0;
  uint64_t last_seq = 0;    // Ledger::last_seq() after recovery
  uint64_t next_seq = 0;    // the sequence number the next command must carry
  uint64_t state_hash = 0;  // Ledger::state_hash() after recovery: log it
};

// Errors: the image fails to load or its state hash differs (corruption); a
// journal record is corrupt mid-journal, a segment is missing, or the journal
// starts after S + 1 (corruption, naming file and offset where known); the store
// failed (its sticky error, e.g. no_space: restart with space; recovery resumes
// from its last applied seq).
Status recover(const RecoveryOptions& options, StateStore& store, Ledger& ledger,
               RecoveryReport* report);

}  // namespace coffer::storage
