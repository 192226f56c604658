// The pipeline, top to bottom:
//
//   I/O threads ──try_push──► queue (bounded, lock-free)
//                                │
//                     core thread: decode → stamp seq/time → Ledger::apply
//                                │            → encode replies → Journal::submit
//                                ▼
//                     journal writer thread: write, ONE fdatasync per group
//                                │
//                     completion (writer thread) → reply (Server::reply)
//
// A batch of only lookups is not stamped or journaled (it changes nothing):
// it is answered from memory, and released once every record submitted before
// it is durable, so a read never shows state that a crash could still undo.
//
// The core thread never waits for a sync: it goes on with the next batch while
// the journal writes the previous ones (pipelining; group commit gathers them).
// It waits only when too many records are in flight (backpressure).
//
// Failure rule: once the journal fails (poisoned, closed), nothing more is
// applied and every later batch, reads included, is answered STORAGE_ERROR until
// restart. Batches applied after the failing one while it was syncing are in
// memory but not durable; they too are answered STORAGE_ERROR, and refusing
// reads keeps anyone from seeing them. On restart the state is rebuilt from
// what is durable.
#include "net/sequencer.h"

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <time.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/assert.h"
#include "net/command_codec.h"
#include "storage/batch_payload.h"

namespace coffer::net {

uint64_t RealClock::now_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const uint64_t now = uint64_t(ts.tv_sec) * 1'000'000u + uint64_t(ts.tv_nsec) / 1000u;
  if (now > last_us_) last_us_ = now;
  return last_us_;
}

namespace {
// Records handed to the journal and not yet completed. Below the journal's own
// queue limits (storage/constants.h), so submit() never refuses for space
// after a batch was applied.
constexpr uint32_t records_in_flight_max = 1024;
constexpr uint64_t bytes_in_flight_max = 128ull << 20;
static_assert(records_in_flight_max < storage::kQueueRecordCountDefault);
static_assert(bytes_in_flight_max + frame_body_size_max < storage::kQueueSizeBytesDefault);
// A record's payload (commands and texts) is never larger than the request
// body it came from, and that fits a frame.
static_assert(frame_body_size_max <= storage::kRecordPayloadSizeMax);
// Requests taken from the queue per wake-up.
constexpr size_t dequeue_bulk_max = 64;
// The core thread wakes at least this often to tick and to notice stop().
constexpr int64_t idle_wait_us = 20'000;
}  // namespace

struct Sequencer::State {
  State(Ledger& l, storage::Journal& j, const SequencerOptions& o)
      : ledger(l),
        journal(j),
        options(o),
        clock(o.clock != nullptr ? o.clock : &own_clock),
        queue(size_t{o.queue_request_count_max} + dequeue_bulk_max * 4),
        effects(effects_per_command_max) {
    next_seq = ledger.last_seq() + 1;
    next_seq_published.store(next_seq);
    acknowledged_seq.store(ledger.last_seq());
  }

  Ledger& ledger;
  storage::Journal& journal;
  const SequencerOptions options;
  RealClock own_clock;
  Clock* clock;

  moodycamel::BlockingConcurrentQueue<Request> queue;
  std::atomic<uint32_t> queued{0};  // exact bound; moodycamel's own is per-block
  std::atomic<bool> accepting{true};
  std::atomic<bool> stopping{false};
  bool stopped = false;
  std::thread thread;
  ReplyFn reply;

  // Core thread only.
  uint64_t next_seq = 1;
  uint64_t last_tick_us = 0;
  uint64_t last_checkpoint_us = 0;
  uint64_t last_checkpoint_seq = 0;
  std::vector<Command> commands;
  std::vector<CommandText> texts;  // beside `commands` (core/command_text.h)
  std::vector<Reply> replies;
  std::vector<Effect> effects;
  size_t effects_per_command_estimate = effects_per_transfer_max;

  std::atomic<bool> journal_failed{false};
  std::mutex flight_mu;
  std::condition_variable flight_cv;
  uint32_t records_in_flight = 0;   // GUARDED_BY(flight_mu)
  uint64_t bytes_in_flight = 0;     // GUARDED_BY(flight_mu)
  uint64_t submitted_last_seq = 0;  // GUARDED_BY(flight_mu): last seq handed to the journal
  uint64_t durable_last_seq = 0;    // GUARDED_BY(flight_mu): last seq the journal completed
  struct WaitingRead {
    uint64_t after_seq;
    SessionHandle session;
    uint64_t request_id;
    std::vector<std::byte> body;
  };
  std::vector<WaitingRead> waiting_reads;  // GUARDED_BY(flight_mu), by after_seq

  std::atomic<uint64_t> requests{0}, command_count{0}, ticks{0}, checkpoints{0},
      records_submitted{0}, records_durable{0}, malformed_batches{0}, storage_errors{0},
      next_seq_published{1}, acknowledged_seq{0};

  // Never below the recovered state's time, even if the wall clock was
  // stepped back across a restart: core requires non-decreasing time.
  uint64_t now() const { return std::max(clock->now_us(), ledger.last_time_us()); }
  void run();
  void process(Request& request);
  void maybe_tick(uint64_t now_us);
  void maybe_checkpoint(uint64_t now_us);
  // Stamps, applies, journals `commands`; replies to (session, request_id)
  // when durable if `answer`.
  void run_batch(uint64_t now_us, const SessionHandle& session, uint64_t request_id, bool answer);
  void wait_for_room(uint64_t size_bytes);
  void on_durable(const storage::Status& status, uint64_t size_bytes, uint64_t last_seq,
                  const SessionHandle& session, uint64_t request_id, std::vector<std::byte>& body,
                  bool answer);
  // True when every command is a read (Ledger::is_read): served by read_only_batch().
  bool read_only() const;
  void read_only_batch(const SessionHandle& session, uint64_t request_id);
  void refuse(const SessionHandle& session, uint64_t request_id, Result error) {
    reply(session, request_id, encode_reply_batch_error(error));
  }
};

void Sequencer::State::run() {
  Request batch[dequeue_bulk_max];
  while (true) {
    const size_t n = queue.wait_dequeue_bulk_timed(batch, dequeue_bulk_max, idle_wait_us);
    queued.fetch_sub(uint32_t(n));
    for (size_t i = 0; i < n; i++) {
      process(batch[i]);
      batch[i] = Request{};  // frees the body now, not at the next overwrite
    }
    if (!journal_failed.load()) {
      maybe_tick(now());
      maybe_checkpoint(now());
    }
    if (n == 0 && stopping.load() && queued.load() == 0) break;
  }
}

void Sequencer::State::process(Request& request) {
  requests.fetch_add(1, std::memory_order_relaxed);
  if (journal_failed.load()) {
    storage_errors.fetch_add(1, std::memory_order_relaxed);
    refuse(request.session, request.request_id, Result::storage_error);
    return;
  }
  if (decode_command_batch(request.body, options.batch_size_max, commands, texts) !=
      BatchDecode::ok) {
    malformed_batches.fetch_add(1, std::memory_order_relaxed);
    refuse(request.session, request.request_id, Result::invalid_request);
    return;
  }
  const uint64_t now_us = now();
  maybe_tick(now_us);
  if (read_only()) {
    read_only_batch(request.session, request.request_id);
    return;
  }
  if (options.followers_healthy && !options.followers_healthy()) {
    storage_errors.fetch_add(1, std::memory_order_relaxed);
    refuse(request.session, request.request_id, Result::storage_error);
    return;
  }
  run_batch(now_us, request.session, request.request_id, true);
}

void Sequencer::State::maybe_tick(uint64_t now_us) {
  if (options.tick_interval_ms == 0 || ledger.pending_count() == 0) return;
  if (now_us < last_tick_us + uint64_t{options.tick_interval_ms} * 1000) return;
  last_tick_us = now_us;
  ticks.fetch_add(1, std::memory_order_relaxed);
  // `commands` may hold the request being processed: set it aside meanwhile.
  std::vector<Command> saved;
  std::vector<CommandText> saved_texts;
  saved.swap(commands);
  saved_texts.swap(texts);
  commands.assign(1, make_tick());
  run_batch(now_us, SessionHandle{}, 0, false);
  commands.swap(saved);
  texts.swap(saved_texts);
}

void Sequencer::State::maybe_checkpoint(uint64_t now_us) {
  if (options.checkpoint_interval_ms == 0 || !options.on_checkpoint) return;
  if (ledger.last_seq() == last_checkpoint_seq) return;
  if (now_us < last_checkpoint_us + uint64_t{options.checkpoint_interval_ms} * 1000) return;
  last_checkpoint_us = now_us;
  last_checkpoint_seq = ledger.last_seq();
  storage::ImageBuffer image;
  ledger.write_image(image);
  checkpoints.fetch_add(1, std::memory_order_relaxed);
  options.on_checkpoint(ledger.last_seq(), ledger.state_hash(), std::move(image));
}

void Sequencer::State::run_batch(uint64_t now_us, const SessionHandle& session, uint64_t request_id,
                                 bool answer) {
  const size_t n = commands.size();
  COFFER_ASSERT(n >= 1 && n <= batch_size_max);
  COFFER_ASSERT(command_texts_valid(texts, n));  // decode_command_batch checked them
  uint64_t size_bytes = n * sizeof(Command);
  for (const CommandText& t : texts)
    size_bytes += t.text.size();
  wait_for_room(size_bytes);
  if (journal_failed.load()) {  // failed while we waited: apply nothing more
    storage_errors.fetch_add(1, std::memory_order_relaxed);
    if (answer) refuse(session, request_id, Result::storage_error);
    return;
  }

  const uint64_t first_seq = next_seq;
  for (Command& c : commands) {
    c.seq = next_seq++;
    c.time_us = now_us;
  }
  replies.resize(n);
  EffectSink sink(effects);
  std::vector<Effect> record_effects;  // for the state store, when it listens
  // Sized from the last batch's effects per command: one allocation, no
  // reallocation copies of megabytes as the batch's effects arrive.
  if (options.on_durable_effects) record_effects.reserve(n * effects_per_command_estimate + 64);
  size_t done = 0;
  while (done < n) {
    sink.clear();
    done += ledger.apply(std::span<const Command>(commands).subspan(done),
                         std::span<Reply>(replies).subspan(done), sink);
    if (options.on_durable_effects) {
      record_effects.insert(record_effects.end(), sink.effects().begin(), sink.effects().end());
    }
  }
  if (options.on_durable_effects) {
    effects_per_command_estimate = (record_effects.size() + n - 1) / n;
  }
  command_count.fetch_add(n, std::memory_order_relaxed);
  next_seq_published.store(next_seq, std::memory_order_relaxed);

  // Texts whose command succeeded for the first time go to the state store.
  std::vector<storage::StoredText> kept_texts;
  if (options.on_durable_effects) {
    for (const CommandText& t : texts) {
      if (!text_kept(replies[t.index])) continue;
      kept_texts.push_back(storage::StoredText{commands[t.index].seq, t.key, t.group, t.text});
    }
  }

  // The journal keeps every text (the inputs), kept or not: replay decides again.
  storage::JournalRecord record;
  record.first_seq = first_seq;
  record.command_count = uint32_t(n);
  record.time_first_us = now_us;
  record.time_last_us = now_us;
  record.payload.reserve(size_bytes + texts.size() * 32);
  storage::encode_batch_payload(commands, texts, &record.payload);
  size_bytes = record.payload.size();

  std::vector<std::byte> body;
  if (answer) body = encode_reply_batch(replies);
  {
    std::lock_guard lock(flight_mu);
    records_in_flight++;
    bytes_in_flight += size_bytes;
    submitted_last_seq = next_seq - 1;
  }
  const uint64_t last_seq = next_seq - 1;
  records_submitted.fetch_add(1, std::memory_order_relaxed);
  storage::Status st = journal.submit(
      std::move(record),
      [this, size_bytes, first_seq, last_seq, session, request_id, answer, body = std::move(body),
       record_effects = std::move(record_effects),
       kept_texts = std::move(kept_texts)](const storage::Status& status) mutable {
        // The store follows the journal: effects only once durable, before the
        // replies (so a client that saw ok can read its history).
        if (status.ok() && options.on_durable_effects) {
          options.on_durable_effects(first_seq, last_seq, std::move(record_effects),
                                     std::move(kept_texts));
        }
        // Before the replies: a query sent after one of them waits for this seq.
        if (status.ok()) {
          uint64_t seen = acknowledged_seq.load();
          while (seen < last_seq && !acknowledged_seq.compare_exchange_weak(seen, last_seq)) {
          }
        }
        on_durable(status, size_bytes, last_seq, session, request_id, body, answer);
      });
  if (!st.ok()) {
    // Applied but never to be durable: stop applying from here on.
    std::fprintf(stderr, "cofferd: journal refused a record: %s\n", st.to_string().c_str());
    std::vector<std::byte> none;
    on_durable(st, size_bytes, last_seq, session, request_id, none, answer);
  }
}

void Sequencer::State::wait_for_room(uint64_t size_bytes) {
  std::unique_lock lock(flight_mu);
  flight_cv.wait(lock, [&] {
    return records_in_flight < records_in_flight_max &&
           bytes_in_flight + size_bytes <= bytes_in_flight_max;
  });
}

bool Sequencer::State::read_only() const {
  for (const Command& c : commands)
    if (!Ledger::is_read(c.kind)) return false;
  return true;
}

// Reads change nothing: answered from memory at the clock's time, without a
// seq or a journal record, once everything they may reflect is durable.
void Sequencer::State::read_only_batch(const SessionHandle& session, uint64_t request_id) {
  replies.resize(commands.size());
  const uint64_t now_us = now();
  for (size_t i = 0; i < commands.size(); i++)
    replies[i] = ledger.read(commands[i], now_us);
  std::vector<std::byte> body = encode_reply_batch(replies);
  {
    std::lock_guard lock(flight_mu);
    if (durable_last_seq < submitted_last_seq) {
      waiting_reads.push_back(
          WaitingRead{submitted_last_seq, session, request_id, std::move(body)});
      return;
    }
  }
  reply(session, request_id, std::move(body));
}

void Sequencer::State::on_durable(const storage::Status& status, uint64_t size_bytes,
                                  uint64_t last_seq, const SessionHandle& session,
                                  uint64_t request_id, std::vector<std::byte>& body, bool answer) {
  if (status.ok()) {
    records_durable.fetch_add(1, std::memory_order_relaxed);
    if (answer) reply(session, request_id, std::move(body));
  } else {
    if (!journal_failed.exchange(true)) {
      std::fprintf(stderr, "cofferd: journal failed, refusing all commands until restart: %s\n",
                   status.to_string().c_str());
    }
    storage_errors.fetch_add(1, std::memory_order_relaxed);
    if (answer) refuse(session, request_id, Result::storage_error);
  }
  // Reads that waited for this record: answered now, or refused if it failed
  // (they may have seen its effects).
  std::vector<WaitingRead> ready;
  {
    std::lock_guard lock(flight_mu);
    records_in_flight--;
    bytes_in_flight -= size_bytes;
    durable_last_seq = std::max(durable_last_seq, last_seq);
    size_t n = 0;
    while (n < waiting_reads.size() && waiting_reads[n].after_seq <= durable_last_seq)
      n++;
    if (!status.ok()) n = waiting_reads.size();
    ready.assign(std::make_move_iterator(waiting_reads.begin()),
                 std::make_move_iterator(waiting_reads.begin() + long(n)));
    waiting_reads.erase(waiting_reads.begin(), waiting_reads.begin() + long(n));
    flight_cv.notify_all();
  }
  for (WaitingRead& w : ready) {
    if (status.ok()) {
      reply(w.session, w.request_id, std::move(w.body));
    } else {
      refuse(w.session, w.request_id, Result::storage_error);
    }
  }
}

Sequencer::Sequencer(Ledger& ledger, storage::Journal& journal, const SequencerOptions& options)
    : s_(std::make_unique<State>(ledger, journal, options)) {
  COFFER_ASSERT(options.batch_size_max >= 1 && options.batch_size_max <= batch_size_max);
  COFFER_ASSERT(options.queue_request_count_max >= 1);
}

Sequencer::~Sequencer() {
  stop();
}

void Sequencer::start(ReplyFn reply) {
  COFFER_ASSERT(!s_->thread.joinable() && !s_->stopped);
  s_->reply = std::move(reply);
  s_->thread = std::thread([this] { s_->run(); });
}

void Sequencer::stop() {
  State& s = *s_;
  if (s.stopped) return;
  s.stopped = true;
  s.accepting.store(false);
  s.stopping.store(true);
  if (s.thread.joinable()) s.thread.join();
  std::unique_lock lock(s.flight_mu);
  s.flight_cv.wait(lock, [&] { return s.records_in_flight == 0; });
}

bool Sequencer::try_push(Request&& request) {
  State& s = *s_;
  if (!s.accepting.load(std::memory_order_relaxed)) return false;
  if (s.queued.fetch_add(1) >= s.options.queue_request_count_max) {
    s.queued.fetch_sub(1);
    return false;
  }
  if (!s.queue.enqueue(std::move(request))) {
    s.queued.fetch_sub(1);
    return false;
  }
  return true;
}

uint64_t Sequencer::acknowledged_seq() const {
  return s_->acknowledged_seq.load();
}

SequencerStats Sequencer::stats() const {
  const State& s = *s_;
  SequencerStats out;
  out.requests = s.requests.load();
  out.commands = s.command_count.load();
  out.ticks = s.ticks.load();
  out.checkpoints = s.checkpoints.load();
  out.records_submitted = s.records_submitted.load();
  out.records_durable = s.records_durable.load();
  out.malformed_batches = s.malformed_batches.load();
  out.storage_errors = s.storage_errors.load();
  out.next_seq = s.next_seq_published.load();
  out.journal_failed = s.journal_failed.load();
  return out;
}

storage::Status replay_journal(const storage::JournalReader::Options& options, uint64_t from_seq,
                               Ledger& ledger, ReplayReport* report,
                               const ReplayedRecordFn& on_record) {
  *report = ReplayReport{};
  std::unique_ptr<storage::JournalReader> reader;
  storage::Status st = storage::JournalReader::open(options, from_seq, &reader);
  if (!st.ok()) return st;
  std::vector<Command> commands;
  std::vector<CommandText> texts;
  std::vector<Reply> replies;
  std::vector<Effect> effects(effects_per_command_max);
  while (true) {
    storage::JournalRecordView record;
    bool has_record = false;
    st = reader->next(&record, &has_record);
    if (!st.ok()) return st;
    if (!has_record) break;
    const size_t n = record.command_count;
    std::span<const std::byte> command_bytes;
    std::string error;
    if (n == 0 || n > batch_size_max ||
        !storage::decode_batch_payload(record.payload, uint32_t(n), &command_bytes, &texts,
                                       &error) ||
        command_bytes.size() != n * sizeof(Command)) {
      return storage::Status(storage::StatusCode::corruption,
                             reader->end_file() + " offset " +
                                 std::to_string(reader->end_offset()) +
                                 ": record payload is not whole commands and texts" +
                                 (error.empty() ? "" : ": " + error));
    }
    commands.resize(n);
    replies.resize(n);
    std::memcpy(commands.data(), command_bytes.data(), command_bytes.size());
    for (size_t i = 0; i < n; i++) {
      const Command& c = commands[i];
      if (c.seq != record.first_seq + i || (ledger.last_seq() != 0 && c.seq <= ledger.last_seq()) ||
          c.time_us < ledger.last_time_us()) {
        return storage::Status(storage::StatusCode::corruption,
                               reader->end_file() + " offset " +
                                   std::to_string(reader->end_offset()) +
                                   ": command sequence or time out of order");
      }
    }
    EffectSink sink(effects);
    size_t done = 0;
    while (done < n) {
      sink.clear();
      done += ledger.apply(std::span<const Command>(commands).subspan(done),
                           std::span<Reply>(replies).subspan(done), sink);
    }
    if (on_record) on_record(commands, replies, texts);
    report->records++;
    report->commands += n;
    report->last_seq = commands.back().seq;
  }
  report->torn_tail = reader->torn_tail();
  report->torn_tail_file = reader->torn_tail_file();
  report->torn_tail_offset = reader->torn_tail_offset();
  return storage::Status();
}

}  // namespace coffer::net
