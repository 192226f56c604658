#include "storage/state_store.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/assert.h"
#include "core/crc32c.h"
#include "storage/lmdb_env.h"

namespace coffer::storage {

namespace {

// ---- Keys: big-endian so that LMDB's memcmp order is numeric order ----------

void put_be64(std::byte* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::byte>(v & 0xff);
    v >>= 8;
  }
}
void put_be32(std::byte* p, uint32_t v) {
  for (int i = 3; i >= 0; --i) {
    p[i] = static_cast<std::byte>(v & 0xff);
    v >>= 8;
  }
}
void put_be16(std::byte* p, uint16_t v) {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v & 0xff);
}
uint64_t get_be64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<uint64_t>(p[i]);
  return v;
}
uint32_t get_be32(const std::byte* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<uint32_t>(p[i]);
  return v;
}
uint16_t get_be16(const std::byte* p) {
  return static_cast<uint16_t>((static_cast<uint32_t>(p[0]) << 8) | static_cast<uint32_t>(p[1]));
}

// Newest first in ascending key order: the sequence and ordinal are inverted.
struct HistoryKey {
  std::byte b[kHistoryKeySize];
  HistoryKey(uint64_t account_id, uint64_t seq, uint32_t ordinal) {
    put_be64(b, account_id);
    put_be64(b + 8, ~seq);
    put_be32(b + 16, ~ordinal);
  }
};

// The stored value of a history entry (host byte order, fixed layout).
struct HistoryValue {
  uint64_t time_us;
  int64_t amount;
  int64_t balance_after;
  int64_t debits_pending_after;
  int64_t credits_pending_after;
  Id128 ref;
  uint16_t kind;
  uint16_t code;
  uint32_t asset;
};
static_assert(sizeof(HistoryValue) == kHistoryValueSize);
static_assert(std::is_trivially_copyable_v<HistoryValue>);

struct RecordKey {
  std::byte b[kRecordKeySize];
  RecordKey(EffectKind kind, uint64_t seq, uint32_t ordinal) {
    put_be16(b, static_cast<uint16_t>(kind));
    put_be64(b + 2, seq);
    put_be32(b + 10, ordinal);
  }
};

struct ChunkKey {
  std::byte b[8];
  explicit ChunkKey(uint64_t index) { put_be64(b, index); }
};

// ---- Meta -------------------------------------------------------------------

constexpr char kMetaFormat[] = "format_version";
constexpr char kMetaLastApplied[] = "last_applied_seq";
constexpr char kMetaImage[] = "image";

struct ImageMeta {
  uint64_t seq;
  uint64_t state_hash;
  uint64_t size_bytes;
  uint64_t chunk_count;
  uint32_t chunk_size_bytes;
  uint32_t crc_masked;  // CRC-32C of all image bytes, masked (core/crc32c.h)
};
static_assert(sizeof(ImageMeta) == 40);

template <typename T>
bool read_pod(const MDB_val& v, T* out) {
  if (v.mv_size != sizeof(T)) return false;
  std::memcpy(out, v.mv_data, sizeof(T));
  return true;
}

bool is_transfer_kind(EffectKind k) {
  switch (k) {
    case EffectKind::transfer_posted:
    case EffectKind::hold_created:
    case EffectKind::hold_posted:
    case EffectKind::hold_voided:
    case EffectKind::hold_expired:
    case EffectKind::grant_created:
    case EffectKind::grant_matured:
    case EffectKind::grant_shrunk:
    case EffectKind::grant_cancelled:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct StateStore::Impl {
  std::unique_ptr<lmdb::Env> env;
  MDB_dbi meta = 0;
  MDB_dbi history = 0;
  MDB_dbi records = 0;
  MDB_dbi image = 0;
  // One transaction's puts, sorted before they go in (writer only).
  std::vector<std::pair<HistoryKey, HistoryValue>> history_puts;
  std::vector<std::pair<RecordKey, const Effect*>> record_puts;

  Status put_sorted(lmdb::Txn& txn);
};

Status StateStore::Impl::put_sorted(lmdb::Txn& txn) {
  Impl& im = *this;
  auto by_key = [](const auto& a, const auto& b) {
    return std::memcmp(a.first.b, b.first.b, sizeof a.first.b) < 0;
  };
  std::sort(im.history_puts.begin(), im.history_puts.end(), by_key);
  std::sort(im.record_puts.begin(), im.record_puts.end(), by_key);
  for (const auto& [key, value] : im.history_puts) {
    Status s =
        lmdb::put(txn, im.history, lmdb::val(key.b, sizeof key.b), lmdb::val(&value, sizeof value));
    if (!s.ok()) return s;
  }
  for (const auto& [key, effect] : im.record_puts) {
    Status s = lmdb::put(txn, im.records, lmdb::val(key.b, sizeof key.b),
                         lmdb::val(effect, sizeof *effect));
    if (!s.ok()) return s;
  }
  return Status();
}

// ---- ImageBuffer --------------------------------------------------------------

void ImageBuffer::write(const void* data, size_t size) {
  const auto* p = static_cast<const std::byte*>(data);
  while (size > 0) {
    if (chunks_.empty() || chunks_.back().size() == kImageChunkSizeBytes) {
      chunks_.emplace_back();
      chunks_.back().reserve(kImageChunkSizeBytes);
    }
    std::vector<std::byte>& c = chunks_.back();
    const size_t n = std::min<size_t>(size, kImageChunkSizeBytes - c.size());
    c.insert(c.end(), p, p + n);
    p += n;
    size -= n;
    size_bytes_ += n;
  }
}

// ---- Image reader over LMDB ------------------------------------------------------

namespace {

class LmdbImageReader final : public ImageReader {
 public:
  LmdbImageReader(lmdb::Txn txn, MDB_dbi dbi, const ImageMeta& meta)
      : txn_(std::move(txn)), dbi_(dbi), meta_(meta) {}
  ~LmdbImageReader() override { cursor_.close(); }

  bool read(void* data, size_t size) override {
    auto* out = static_cast<std::byte*>(data);
    while (size > 0) {
      if (failed_) return false;
      if (pos_ == chunk_.size() && !next_chunk()) return false;
      const size_t n = std::min(size, chunk_.size() - pos_);
      std::memcpy(out, chunk_.data() + pos_, n);
      pos_ += n;
      out += n;
      size -= n;
    }
    return true;
  }

 private:
  bool next_chunk() {
    if (chunk_index_ == meta_.chunk_count) return false;  // end of the image
    MDB_val k, v;
    int rc;
    if (chunk_index_ == 0) {
      if (!cursor_.open(txn_, dbi_).ok()) return fail();
      rc = cursor_.get(&k, &v, MDB_FIRST);
    } else {
      rc = cursor_.get(&k, &v, MDB_NEXT);
    }
    if (rc != MDB_SUCCESS || k.mv_size != 8 ||
        get_be64(static_cast<const std::byte*>(k.mv_data)) != chunk_index_) {
      return fail();
    }
    chunk_ = lmdb::bytes(v);
    pos_ = 0;
    crc_ = crc32c_extend(crc_, chunk_.data(), chunk_.size());
    size_seen_ += chunk_.size();
    chunk_index_++;
    if (chunk_index_ == meta_.chunk_count &&
        (size_seen_ != meta_.size_bytes || crc32c_mask(crc_) != meta_.crc_masked)) {
      return fail();  // verified before the last chunk's bytes are handed out
    }
    if (chunk_.empty()) return fail();
    return true;
  }
  bool fail() {
    failed_ = true;
    return false;
  }

  lmdb::Txn txn_;
  lmdb::Cursor cursor_;
  MDB_dbi dbi_;
  ImageMeta meta_;
  std::span<const std::byte> chunk_;
  size_t pos_ = 0;
  uint64_t chunk_index_ = 0;
  uint64_t size_seen_ = 0;
  uint32_t crc_ = 0;
  bool failed_ = false;
};

}  // namespace

// ---- Open / close -----------------------------------------------------------

StateStore::StateStore(const StateStoreOptions& options)
    : options_(options), impl_(std::make_unique<Impl>()) {}

Status StateStore::open(const StateStoreOptions& options, std::unique_ptr<StateStore>* store) {
  if (options.dir.empty()) return Status(StatusCode::invalid_argument, "state store: empty dir");
  if (options.map_size_bytes < kStateStoreMapSizeMin ||
      options.map_size_bytes > kStateStoreMapSizeMax) {
    return Status(StatusCode::invalid_argument, "state store: map_size_bytes out of range");
  }
  if (options.txn_effect_count == 0 || options.txn_effect_count > kApplyTxnEffectCountMax ||
      options.queue_effect_count_max == 0) {
    return Status(StatusCode::invalid_argument, "state store: bad queue/txn limits");
  }
  std::unique_ptr<StateStore> s(new StateStore(options));
  Status st = lmdb::Env::open(options.dir, options.map_size_bytes, kStateStoreDbCount,
                              options.sync_commits ? 0 : MDB_NOSYNC, &s->impl_->env);
  if (!st.ok()) return st;
  st = s->open_dbs();
  if (!st.ok()) return st;
  s->submitted_seq_ = s->last_applied_seq_.load();
  if (options.writer_thread) s->thread_ = std::thread([p = s.get()] { p->writer_loop(); });
  *store = std::move(s);
  return Status();
}

Status StateStore::open_dbs() {
  lmdb::Txn txn;
  Status s = txn.begin(*impl_->env, /*read_only=*/false);
  if (!s.ok()) return s;
  if (!(s = lmdb::open_dbi(txn, "meta", MDB_CREATE, &impl_->meta)).ok()) return s;
  if (!(s = lmdb::open_dbi(txn, "history", MDB_CREATE, &impl_->history)).ok()) return s;
  if (!(s = lmdb::open_dbi(txn, "records", MDB_CREATE, &impl_->records)).ok()) return s;
  if (!(s = lmdb::open_dbi(txn, "image", MDB_CREATE, &impl_->image)).ok()) return s;

  MDB_val v;
  bool found = false;
  s = lmdb::get(txn, impl_->meta, lmdb::val(kMetaFormat, sizeof kMetaFormat - 1), &v, &found);
  if (!s.ok()) return s;
  if (found) {
    uint32_t version = 0;
    if (!read_pod(v, &version) || version != kStateStoreFormatVersion) {
      return Status(StatusCode::corruption, options_.dir + ": state store format version " +
                                                std::to_string(version) + ", expected " +
                                                std::to_string(kStateStoreFormatVersion));
    }
  } else {
    const uint32_t version = kStateStoreFormatVersion;
    s = lmdb::put(txn, impl_->meta, lmdb::val(kMetaFormat, sizeof kMetaFormat - 1),
                  lmdb::val(&version, sizeof version));
    if (!s.ok()) return s;
  }
  s = lmdb::get(txn, impl_->meta, lmdb::val(kMetaLastApplied, sizeof kMetaLastApplied - 1), &v,
                &found);
  if (!s.ok()) return s;
  uint64_t applied = 0;
  if (found && !read_pod(v, &applied)) {
    return Status(StatusCode::corruption, options_.dir + ": bad last_applied_seq");
  }
  s = lmdb::get(txn, impl_->meta, lmdb::val(kMetaImage, sizeof kMetaImage - 1), &v, &found);
  if (!s.ok()) return s;
  ImageMeta im{};
  if (found && !read_pod(v, &im)) {
    return Status(StatusCode::corruption, options_.dir + ": bad image record");
  }
  s = txn.commit();
  if (!s.ok()) return s;
  last_applied_seq_.store(applied);
  image_seq_.store(found ? im.seq : 0);
  return Status();
}

StateStore::~StateStore() {
  if (!options_.writer_thread) (void)flush();
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> l(queue_mu_);
  if (pending_image_ != nullptr) {
    log("state store: closing with the image as of seq " + std::to_string(pending_image_->seq) +
        " still waiting for its effects; the previous image stays");
  }
}

void StateStore::log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

Status StateStore::error() const {
  std::lock_guard<std::mutex> l(queue_mu_);
  return error_;
}

void StateStore::fail_locked(const Status& s) {
  if (error_.ok()) error_ = s;
  queue_.clear();
  queued_effect_count_ = 0;
  pending_image_.reset();
}

void StateStore::fail(const Status& s) {
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    fail_locked(s);
  }
  log("state store: stopped applying: " + s.to_string());
  room_cv_.notify_all();
}

// ---- Producer side --------------------------------------------------------------

Status StateStore::try_submit(EffectBatch batch) {
  return enqueue(std::move(batch), /*wait=*/false);
}
Status StateStore::submit(EffectBatch batch) {
  return enqueue(std::move(batch), /*wait=*/true);
}

Status StateStore::enqueue(EffectBatch batch, bool wait) {
  if (batch.first_seq == 0 || batch.last_seq < batch.first_seq) {
    return Status(StatusCode::invalid_argument, "effect batch: bad sequence range");
  }
  uint64_t prev = 0;
  for (const Effect& e : batch.effects) {
    if (e.seq < batch.first_seq || e.seq > batch.last_seq || e.seq < prev) {
      return Status(StatusCode::invalid_argument,
                    "effect batch: effect seq " + std::to_string(e.seq) + " out of order/range");
    }
    prev = e.seq;
  }
  {
    std::unique_lock<std::mutex> l(queue_mu_);
    if (!error_.ok()) return error_;
    if (stopping_) return Status(StatusCode::closed, "state store closing");
    if (batch.last_seq <= submitted_seq_) return Status();  // already taken: a re-feed
    if (batch.first_seq > submitted_seq_ + 1) {
      return Status(StatusCode::invalid_argument, "effect batch: gap, expected seq " +
                                                      std::to_string(submitted_seq_ + 1) +
                                                      ", got " + std::to_string(batch.first_seq));
    }
    const uint64_t n = batch.effects.size();
    // A batch larger than the whole queue is admitted into an empty queue.
    auto has_room = [&] {
      return queued_effect_count_ == 0 ||
             queued_effect_count_ + n <= options_.queue_effect_count_max;
    };
    if (!has_room()) {
      if (!wait) return Status(StatusCode::queue_full, "state store queue full");
      if (!options_.writer_thread) {
        // No thread: make the room here.
        l.unlock();
        (void)flush();
        l.lock();
      }
      room_cv_.wait(l, [&] { return has_room() || !error_.ok() || stopping_; });
      if (!error_.ok()) return error_;
      if (stopping_) return Status(StatusCode::closed, "state store closing");
    }
    submitted_seq_ = batch.last_seq;
    queued_effect_count_ += n;
    queue_.push_back(std::move(batch));
  }
  if (options_.writer_thread) queue_cv_.notify_one();
  return Status();
}

Status StateStore::save_image(uint64_t seq, uint64_t state_hash, ImageBuffer image) {
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    if (!error_.ok()) return error_;
    if (stopping_) return Status(StatusCode::closed, "state store closing");
    if (seq < image_seq_.load()) {
      return Status(StatusCode::invalid_argument, "image older than the stored one");
    }
    auto p = std::make_unique<PendingImage>();
    p->seq = seq;
    p->state_hash = state_hash;
    p->buffer = std::move(image);
    pending_image_ = std::move(p);  // a newer image replaces one still waiting
  }
  if (options_.writer_thread) queue_cv_.notify_one();
  return Status();
}

// ---- Writer side ------------------------------------------------------------------

void StateStore::writer_loop() {
  for (;;) {
    std::vector<EffectBatch> batches;
    {
      std::unique_lock<std::mutex> l(queue_mu_);
      auto image_due = [&] {
        return pending_image_ != nullptr && pending_image_->seq <= last_applied_seq_.load();
      };
      queue_cv_.wait(l, [&] { return stopping_ || !queue_.empty() || image_due(); });
      if (queue_.empty() && !image_due()) return;  // stopping, nothing left
      batches.swap(queue_);
      writer_busy_ = true;  // until this round is committed (an image alone included)
    }
    uint64_t n = 0;
    for (const EffectBatch& b : batches)
      n += b.effects.size();
    Status s;
    {
      std::lock_guard<std::mutex> w(write_mu_);
      s = apply_locked(batches);
    }
    {
      std::lock_guard<std::mutex> l(queue_mu_);
      queued_effect_count_ -= std::min(queued_effect_count_, n);
      // In the same critical section as writer_busy_: flush() never sees the
      // round finished without its error.
      if (!s.ok()) fail_locked(s);
      writer_busy_ = false;
    }
    if (!s.ok()) log("state store: stopped applying: " + s.to_string());
    room_cv_.notify_all();
  }
}

Status StateStore::flush() {
  if (!options_.writer_thread) {
    // No thread: apply here whatever is queued (and a due image).
    std::lock_guard<std::mutex> w(write_mu_);
    std::vector<EffectBatch> batches;
    {
      std::lock_guard<std::mutex> l(queue_mu_);
      if (!error_.ok()) return error_;
      batches.swap(queue_);
      queued_effect_count_ = 0;
    }
    Status s = apply_locked(batches);
    if (!s.ok()) fail(s);
    return error();
  }
  std::unique_lock<std::mutex> l(queue_mu_);
  room_cv_.wait(l, [&] {
    const bool image_due =
        pending_image_ != nullptr && pending_image_->seq <= last_applied_seq_.load();
    return !error_.ok() || (queue_.empty() && !writer_busy_ && !image_due);
  });
  return error_;
}

Status StateStore::apply_locked(std::vector<EffectBatch>& batches) {
  Impl& im = *impl_;
  size_t i = 0;
  do {
    uint64_t applied = last_applied_seq_.load();
    im.history_puts.clear();
    im.record_puts.clear();
    std::unique_ptr<PendingImage> image;
    lmdb::Txn txn;
    Status s = txn.begin(*im.env, /*read_only=*/false);
    if (!s.ok()) return s;

    uint64_t effect_count = 0, history_count = 0, record_count = 0;
    while (i < batches.size() && effect_count < options_.txn_effect_count) {
      const EffectBatch& b = batches[i++];
      if (b.last_seq <= applied) continue;        // re-fed: already in the store
      COFFER_ASSERT(b.first_seq <= applied + 1);  // enqueue() refuses gaps

      // The transfer record an account's balance change belongs to: core emits
      // it just before the two balance_changed effects of the same command.
      const Effect* transfer = nullptr;
      uint64_t seq = 0;
      uint32_t ordinal = 0;
      for (const Effect& e : b.effects) {
        if (e.seq <= applied) continue;
        if (e.seq != seq) {
          seq = e.seq;
          ordinal = 0;
          transfer = nullptr;
        } else {
          ordinal++;
        }
        effect_count++;
        // Dispatch on the kind. Domain effects get their own indexes here (add a
        // case); every kind without one is kept raw under records.
        switch (e.kind) {
          case EffectKind::balance_changed: {
            HistoryValue hv{};
            hv.time_us = e.time_us;
            hv.balance_after = e.balance.credits_posted - e.balance.debits_posted;
            hv.debits_pending_after = e.balance.debits_pending;
            hv.credits_pending_after = e.balance.credits_pending;
            hv.code = e.code;
            hv.asset = e.asset;
            if (transfer != nullptr) {
              hv.kind = static_cast<uint16_t>(transfer->kind);
              hv.ref = transfer->transfer.transfer_id;
              const int64_t a = transfer->transfer.amount;
              hv.amount = e.balance.account_id == transfer->transfer.debit_account_id ? -a : a;
            }
            im.history_puts.push_back({HistoryKey(e.balance.account_id, e.seq, ordinal), hv});
            history_count++;
            break;
          }
          default: {
            if (is_transfer_kind(e.kind)) transfer = &e;
            im.record_puts.push_back({RecordKey(e.kind, e.seq, ordinal), &e});
            record_count++;
            break;
          }
        }
      }
      applied = b.last_seq;
    }
    // Puts in key order: neighbouring keys share B-tree pages, so each page is
    // touched once per transaction instead of once per entry.
    s = im.put_sorted(txn);
    if (!s.ok()) return s;  // txn aborts: nothing of it is visible

    if (i == batches.size()) {
      std::lock_guard<std::mutex> l(queue_mu_);
      if (pending_image_ != nullptr && pending_image_->seq <= applied) {
        image = std::move(pending_image_);
      }
    }
    if (image != nullptr) {
      s = lmdb::clear(txn, im.image);
      uint32_t crc = 0;
      const auto& chunks = image->buffer.chunks();
      for (size_t c = 0; s.ok() && c < chunks.size(); ++c) {
        const ChunkKey key(c);
        s = lmdb::put(txn, im.image, lmdb::val(key.b, sizeof key.b), lmdb::val(chunks[c]));
        crc = crc32c_extend(crc, chunks[c].data(), chunks[c].size());
      }
      ImageMeta meta{};
      meta.seq = image->seq;
      meta.state_hash = image->state_hash;
      meta.size_bytes = image->buffer.size_bytes();
      meta.chunk_count = chunks.size();
      meta.chunk_size_bytes = static_cast<uint32_t>(kImageChunkSizeBytes);
      meta.crc_masked = crc32c_mask(crc);
      if (s.ok()) {
        s = lmdb::put(txn, im.meta, lmdb::val(kMetaImage, sizeof kMetaImage - 1),
                      lmdb::val(&meta, sizeof meta));
      }
      if (!s.ok()) return s;
    }
    if (applied == last_applied_seq_.load() && image == nullptr) {
      continue;  // nothing new (all re-fed): no commit needed
    }
    s = lmdb::put(txn, im.meta, lmdb::val(kMetaLastApplied, sizeof kMetaLastApplied - 1),
                  lmdb::val(&applied, sizeof applied));
    if (!s.ok()) return s;
    if (test_abort_next_commit_.exchange(false)) {
      txn.abort();
      return Status(StatusCode::closed, "test: process died before the commit");
    }
    s = txn.commit();
    if (!s.ok()) return s;
    last_applied_seq_.store(applied, std::memory_order_release);
    txn_count_.fetch_add(1, std::memory_order_relaxed);
    effects_applied_.fetch_add(effect_count, std::memory_order_relaxed);
    history_entries_written_.fetch_add(history_count, std::memory_order_relaxed);
    records_written_.fetch_add(record_count, std::memory_order_relaxed);
    if (image != nullptr) {
      image_seq_.store(image->seq, std::memory_order_release);
      if (options_.on_image_saved) options_.on_image_saved(image->seq);
    }
  } while (i < batches.size());
  return Status();
}

// ---- Reads ------------------------------------------------------------------------

Status StateStore::load_image(StoredImage* out) const {
  *out = StoredImage{};
  lmdb::Txn txn;
  Status s = txn.begin(*impl_->env, /*read_only=*/true);
  if (!s.ok()) return s;
  MDB_val v;
  bool found = false;
  s = lmdb::get(txn, impl_->meta, lmdb::val(kMetaImage, sizeof kMetaImage - 1), &v, &found);
  if (!s.ok() || !found) return s;
  ImageMeta meta{};
  if (!read_pod(v, &meta)) return Status(StatusCode::corruption, "state store: bad image record");
  out->present = true;
  out->seq = meta.seq;
  out->state_hash = meta.state_hash;
  out->size_bytes = meta.size_bytes;
  out->reader = std::make_unique<LmdbImageReader>(std::move(txn), impl_->image, meta);
  return Status();
}

Status StateStore::history(uint64_t account_id, HistoryCursor from, uint32_t limit,
                           HistoryPage* page) const {
  page->entries.clear();
  page->next = HistoryCursor{};
  page->as_of_seq = 0;
  if (limit == 0 || limit > kHistoryPageLimitMax) {
    return Status(StatusCode::invalid_argument, "history: limit out of range");
  }
  lmdb::Txn txn;
  Status s = txn.begin(*impl_->env, /*read_only=*/true);
  if (!s.ok()) return s;
  {
    MDB_val mv;
    bool found = false;
    s = lmdb::get(txn, impl_->meta, lmdb::val(kMetaLastApplied, sizeof kMetaLastApplied - 1), &mv,
                  &found);
    if (!s.ok()) return s;
    if (found && !read_pod(mv, &page->as_of_seq)) {
      return Status(StatusCode::corruption, "history: bad last_applied_seq");
    }
    lmdb::Cursor cur;
    if (!(s = cur.open(txn, impl_->history)).ok()) return s;
    // ~seq of the newest possible entry is 0: from the start, seek (account, 0, 0).
    HistoryKey start(account_id, ~uint64_t{0}, ~uint32_t{0});
    if (!from.at_start()) start = HistoryKey(account_id, from.seq, from.ordinal);
    MDB_val k = lmdb::val(start.b, sizeof start.b), v;
    int rc = cur.get(&k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS) {
      const auto* kb = static_cast<const std::byte*>(k.mv_data);
      if (k.mv_size != kHistoryKeySize || get_be64(kb) != account_id) break;
      const uint64_t seq = ~get_be64(kb + 8);
      const uint32_t ordinal = ~get_be32(kb + 16);
      if (page->entries.size() == limit) {
        page->next = HistoryCursor{seq, ordinal};
        break;
      }
      HistoryValue hv;
      if (!read_pod(v, &hv)) return Status(StatusCode::corruption, "history: bad value size");
      HistoryEntry& e = page->entries.emplace_back();
      e.account_id = account_id;
      e.seq = seq;
      e.ordinal = ordinal;
      e.time_us = hv.time_us;
      e.kind = static_cast<EffectKind>(hv.kind);
      e.code = hv.code;
      e.asset = hv.asset;
      e.amount = hv.amount;
      e.balance_after = hv.balance_after;
      e.debits_pending_after = hv.debits_pending_after;
      e.credits_pending_after = hv.credits_pending_after;
      e.ref = hv.ref;
      rc = cur.get(&k, &v, MDB_NEXT);
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return lmdb::status_from(rc, "history cursor");
  }
  return Status();
}

Status StateStore::records(EffectKind kind, uint64_t from_seq, uint32_t limit,
                           std::vector<Effect>* out) const {
  out->clear();
  if (limit == 0 || limit > kRecordsPageLimitMax) {
    return Status(StatusCode::invalid_argument, "records: limit out of range");
  }
  lmdb::Txn txn;
  Status s = txn.begin(*impl_->env, /*read_only=*/true);
  if (!s.ok()) return s;
  lmdb::Cursor cur;
  if (!(s = cur.open(txn, impl_->records)).ok()) return s;
  const RecordKey start(kind, from_seq, 0);
  MDB_val k = lmdb::val(start.b, sizeof start.b), v;
  int rc = cur.get(&k, &v, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS && out->size() < limit) {
    const auto* kb = static_cast<const std::byte*>(k.mv_data);
    if (k.mv_size != kRecordKeySize || get_be16(kb) != static_cast<uint16_t>(kind)) break;
    Effect e;
    if (!read_pod(v, &e)) return Status(StatusCode::corruption, "records: bad value size");
    out->push_back(e);
    rc = cur.get(&k, &v, MDB_NEXT);
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return lmdb::status_from(rc, "records cursor");
  return Status();
}

StateStoreStats StateStore::stats() const {
  StateStoreStats st;
  st.last_applied_seq = last_applied_seq();
  st.image_seq = image_seq();
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    st.queued_effect_count = queued_effect_count_;
    st.failed = !error_.ok();
  }
  st.txn_count = txn_count_.load();
  st.effects_applied = effects_applied_.load();
  st.history_entries_written = history_entries_written_.load();
  st.records_written = records_written_.load();
  MDB_envinfo info;
  MDB_stat stat;
  if (mdb_env_info(impl_->env->get(), &info) == MDB_SUCCESS &&
      mdb_env_stat(impl_->env->get(), &stat) == MDB_SUCCESS) {
    st.file_size_bytes = (uint64_t{info.me_last_pgno} + 1) * stat.ms_psize;
  }
  return st;
}

}  // namespace coffer::storage
