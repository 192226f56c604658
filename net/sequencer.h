// The sequencer: the one core thread between the server's I/O threads and the
// journal (DESIGN.md, "The shape"). Requests arrive through a bounded
// lock-free queue (RequestSink::try_push: false when full = backpressure); the
// core thread decodes each batch, stamps every command with the next sequence
// number and the clock's time, applies it to the Ledger, hands the stamped
// commands to the journal and goes on with the next batch. The replies leave
// (Server::reply, from the journal's writer thread) only once the journal
// reports the record durable. A batch of only reads is answered from
// memory, unjournaled, once everything submitted before it is durable.
//
// Threads: try_push from any thread; start/stop from the owner; replies are
// sent from the journal's writer thread (never an I/O thread, as Server needs).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/command_text.h"
#include "core/ledger.h"
#include "net/server.h"
#include "storage/journal.h"
#include "storage/state_store.h"

namespace coffer::net {

// Time for the sequencer: microseconds since the Unix epoch, never going
// backwards (core requires non-decreasing time). Called from the core thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t now_us() = 0;
};

// CLOCK_REALTIME in microseconds, clamped so that it never goes backwards
// when the wall clock is stepped back (it then stands still until it catches up).
class RealClock final : public Clock {
 public:
  uint64_t now_us() override;

 private:
  uint64_t last_us_ = 0;
};

// For tests: time moves only when told.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_us) : now_us_(start_us) {}
  uint64_t now_us() override { return now_us_.load(); }
  void advance_us(uint64_t delta_us) { now_us_ += delta_us; }

 private:
  std::atomic<uint64_t> now_us_;
};

struct SequencerOptions {
  // Requests waiting for the core thread; past it try_push says full.
  uint32_t queue_request_count_max = 4096;
  uint32_t batch_size_max = coffer::batch_size_max;
  // While any hold or grant is open, a tick command is stamped and journaled
  // at least this often; no ticks while none is open (an idle server writes
  // nothing). 0: never tick on its own.
  uint32_t tick_interval_ms = 100;
  Clock* clock = nullptr;  // nullptr: a RealClock owned by the sequencer
  // The state store's feed (storage/state_store.h StateStore::submit): the
  // effects of each journal record, called once the record is durable, in
  // sequence order, on the journal's writer thread; never for a record that
  // failed. Keep it short (enqueue). nullptr: effects are dropped.
  // `texts`: the record's texts whose command's reply satisfies text_kept
  // (core/command_text.h), each with its command's seq, in seq order.
  std::function<void(uint64_t first_seq, uint64_t last_seq, std::vector<Effect> effects,
                     std::vector<storage::StoredText> texts)>
      on_durable_effects;
  // Checkpoints: at most this often, and only when something changed, the core
  // thread writes the ledger's image between batches and hands it over with
  // its seq and state hash (StateStore::save_image, which commits it once its
  // history reaches that seq). Writing the image pauses the core thread for
  // about a memory copy of the state. 0 or no callback: no checkpoints.
  uint32_t checkpoint_interval_ms = 0;
  // False once a follower of the journal (the LMDB state store) has failed:
  // writes are then refused with STORAGE_ERROR, as after a journal failure,
  // until a restart; reads go on. Checked once per request. nullptr: healthy.
  std::function<bool()> followers_healthy;
  std::function<void(uint64_t seq, uint64_t state_hash, storage::ImageBuffer image)> on_checkpoint;
};

struct SequencerStats {
  uint64_t requests = 0;
  uint64_t commands = 0;
  uint64_t ticks = 0;
  uint64_t records_submitted = 0;
  uint64_t records_durable = 0;
  uint64_t malformed_batches = 0;
  uint64_t storage_errors = 0;  // batches answered STORAGE_ERROR
  uint64_t checkpoints = 0;
  uint64_t next_seq = 0;
  bool journal_failed = false;
};

// Where replies go: Server::reply in production, a test's collector otherwise.
using ReplyFn =
    std::function<void(const SessionHandle& session, uint64_t request_id, std::vector<std::byte>)>;

class Sequencer final : public RequestSink {
 public:
  // `ledger` holds the recovered state (last_seq() is where numbering resumes);
  // `journal` is open and positioned after it. Both must outlive the sequencer,
  // and nothing else may touch the ledger while the sequencer runs.
  Sequencer(Ledger& ledger, storage::Journal& journal, const SequencerOptions& options);
  ~Sequencer() override;  // stop()
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Starts the core thread. REQUIRES: called once.
  void start(ReplyFn reply);
  // Stops taking requests, applies everything already queued, waits until the
  // journal has completed every record (and so every reply was sent). Idempotent.
  void stop();

  bool try_push(Request&& request) override;

  SequencerStats stats() const;

  // The last seq whose record is durable: every reply a client can have seen
  // is at or below it (it is raised before those replies leave, after the
  // record's effects went to on_durable_effects). Queries wait for the state
  // store to reach it (read your writes). Any thread.
  uint64_t acknowledged_seq() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

struct ReplayReport {
  uint64_t records = 0;
  uint64_t commands = 0;
  uint64_t last_seq = 0;  // 0: nothing replayed
  bool torn_tail = false;
  std::string torn_tail_file;
  uint64_t torn_tail_offset = 0;
};

// Start-up recovery: reads the journal in `options.dir` from `from_seq` and
// applies every record to `ledger`, exactly as journaled (seq and time from
// the record). Corruption, a gap or a record whose payload is not whole
// commands plus a valid text section (storage/batch_payload.h) fails with the
// file and offset. `on_record`, if set, gets each record's commands (stamped),
// replies and texts after it was applied (tests; the state store's re-feed).
using ReplayedRecordFn =
    std::function<void(std::span<const Command> commands, std::span<const Reply> replies,
                       std::span<const CommandText> texts)>;
//
// Seam for the LMDB state store: load its image as of sequence S into the
// ledger first, then call this with from_seq = S + 1.
storage::Status replay_journal(const storage::JournalReader::Options& options, uint64_t from_seq,
                               Ledger& ledger, ReplayReport* report,
                               const ReplayedRecordFn& on_record = nullptr);

}  // namespace coffer::net
