#include "storage/state_store.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

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

// History entries are appended in (seq, ordinal) order: every transaction
// writes fresh pages at the end of the tree instead of dirtying one page per
// account it touches. Each entry points at its account's previous entry; the
// newest entry of each account is in `history_heads`.
struct HistoryKey {
  std::byte b[kHistoryKeySize];
  HistoryKey(uint64_t seq, uint32_t ordinal) {
    put_be64(b, seq);
    put_be32(b + 8, ordinal);
  }
};

// The stored value of a history entry (host byte order, fixed layout).
struct HistoryValue {
  uint64_t account_id;
  uint64_t time_us;
  int64_t amount;
  int64_t balance_after;
  int64_t debits_pending_after;
  int64_t credits_pending_after;
  Id128 ref;
  uint64_t prev_seq;  // the account's previous entry; 0: none
  uint32_t prev_ordinal;
  uint16_t kind;
  uint16_t code;
  uint32_t asset;
  uint32_t reserved;
};
static_assert(sizeof(HistoryValue) == kHistoryValueSize);
static_assert(std::is_trivially_copyable_v<HistoryValue>);

struct HistoryHeadKey {
  std::byte b[kHistoryHeadKeySize];
  explicit HistoryHeadKey(uint64_t account_id) { put_be64(b, account_id); }
};
struct HistoryHead {  // the account's newest entry
  uint64_t seq;
  uint32_t ordinal;
  uint32_t reserved;
};
static_assert(sizeof(HistoryHead) == kHistoryHeadValueSize);

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

// ---- Texts and domain indexes (STATE_STORE.md, "Texts" and "Indexes") -------

// lo then hi: memcmp order is Id128's order (operator<=> compares lo first).
void put_id(std::byte* p, const Id128& id) {
  put_be64(p, id.lo);
  put_be64(p + 8, id.hi);
}
Id128 get_id(const std::byte* p) {
  return Id128{get_be64(p), get_be64(p + 8)};
}

struct TextKey {
  std::byte b[kTextKeySize];
  explicit TextKey(const Id128& key) { put_id(b, key); }
};
struct TextGroupKey {
  std::byte b[kTextGroupKeySize];
  TextGroupKey(uint64_t group, const Id128& key) {
    put_be64(b, group);
    put_id(b + 8, key);
  }
};
// Followed by the text's bytes.
struct TextValueHeader {
  uint64_t group;
  uint64_t seq;
};
static_assert(sizeof(TextValueHeader) == kTextValueHeaderSize);

struct AccountKey {
  std::byte b[kAccountKeySize];
  explicit AccountKey(uint64_t account_id) { put_be64(b, account_id); }
};
struct AccountValue {
  uint64_t user_data;
  uint32_t asset;
  uint16_t kind;
  uint16_t reserved;
};
static_assert(sizeof(AccountValue) == kAccountValueSize);

struct MemberAccountKey {
  std::byte b[kMemberAccountKeySize];
  MemberAccountKey(uint64_t member_id, Asset asset) {
    put_be64(b, member_id);
    put_be32(b + 8, asset);
  }
};

// Newest first: the seq is inverted, as in history.
struct GiftKey {
  std::byte b[kGiftKeySize];
  GiftKey(uint64_t member_id, GiftDirection direction, uint64_t seq) {
    put_be64(b, member_id);
    b[8] = static_cast<std::byte>(direction);
    put_be64(b + 9, ~seq);
  }
};
struct GiftValue {
  uint64_t seq;
  uint64_t time_us;
  Id128 gift_id;
  uint64_t from_member_id;
  uint64_t to_member_id;
  int64_t amount;
};
static_assert(sizeof(GiftValue) == kGiftValueSize);
static_assert(std::is_trivially_copyable_v<GiftValue>);

struct WithdrawalKey {
  std::byte b[kWithdrawalKeySize];
  WithdrawalKey(uint8_t state, uint64_t seq) {
    b[0] = static_cast<std::byte>(state);
    put_be64(b + 1, seq);
  }
};
struct WithdrawalValue {
  uint64_t seq;
  uint64_t time_us;
  Id128 withdrawal_id;
  uint64_t member_id;
  int64_t amount;
  uint8_t state;
  uint8_t reserved[7];
};
static_assert(sizeof(WithdrawalValue) == kWithdrawalValueSize);
static_assert(std::is_trivially_copyable_v<WithdrawalValue>);
struct WithdrawalIdKey {
  std::byte b[kTextKeySize];
  explicit WithdrawalIdKey(const Id128& id) { put_id(b, id); }
};
struct WithdrawalIdValue {  // where the withdrawal's entry is now
  uint64_t seq;
  uint8_t state;
  uint8_t reserved[7];
};
static_assert(sizeof(WithdrawalIdValue) == kWithdrawalIdValueSize);

// The leg of a withdrawal record that is its hold (core/withdrawals.cc).
constexpr uint32_t kWithdrawalHoldLeg = 3;
static_assert(kWithdrawalHoldLeg < domain_leg_count);

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

// History rows are kept for member wallet/points accounts and engine accounts
// (binary-protocol clients read those); not for the other domain accounts.
bool history_wanted(uint64_t account_id, AccountKind kind) {
  return account_id < domain_account_id_min || kind == AccountKind::member_wallet ||
         kind == AccountKind::member_points;
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
  MDB_dbi history_heads = 0;
  MDB_dbi records = 0;
  MDB_dbi image = 0;
  MDB_dbi texts = 0;
  MDB_dbi text_groups = 0;
  MDB_dbi accounts = 0;
  MDB_dbi member_accounts = 0;
  MDB_dbi gifts = 0;
  MDB_dbi withdrawals = 0;
  MDB_dbi withdrawal_ids = 0;
  // One transaction's puts (writer only): history in key order as produced,
  // records sorted before they go in.
  std::vector<std::pair<HistoryKey, HistoryValue>> history_puts;
  // Account -> its first and newest entries of this transaction (indexes in history_puts).
  struct TxnHead {
    uint32_t first;
    uint32_t last;
  };
  std::unordered_map<uint64_t, TxnHead> txn_heads;
  std::vector<std::pair<uint64_t, TxnHead>> heads_sorted;  // scratch
  std::vector<std::pair<RecordKey, const Effect*>> record_puts;
  std::vector<const StoredText*> text_puts;  // one transaction's texts, sorted by key
  std::vector<std::byte> text_value;         // scratch for put_text (writer only)
  // Domain accounts whose history nobody reads (system and merchant settlement
  // accounts: every payment touches them; settlement reports come from core).
  // Writer only; rebuilt from `accounts` at open. Member accounts and engine
  // accounts (< domain_account_id_min) are not in it: they keep their history.
  std::unordered_set<uint64_t> no_history;

  bool keeps_history(uint64_t account_id) const {
    return account_id < domain_account_id_min || !no_history.contains(account_id);
  }
  Status load_no_history(lmdb::Txn& txn);

  // Queues a history entry, linked to the account's previous entry of this
  // transaction (the links to older ones are set by put_history).
  void add_history(const HistoryKey& key, HistoryValue v);
  // Links each account's first entry of the transaction to its stored head,
  // appends the entries and moves the heads.
  Status put_history(lmdb::Txn& txn);
  Status put_sorted(lmdb::Txn& txn);
  // Writer, inside the batch's write transaction. The domain indexes are put
  // at once (not sorted): they are rare next to balance changes, and a gift or
  // withdrawal must see an account created earlier in the same transaction.
  Status put_text(lmdb::Txn& txn, const StoredText& t);
  Status put_account(lmdb::Txn& txn, const Effect& e);
  Status put_gift(lmdb::Txn& txn, const Effect& e);
  Status move_withdrawal(lmdb::Txn& txn, const Effect& e, uint8_t state);
  // The member owning a member wallet/points account; 0 for any other account.
  Status member_of(lmdb::Txn& txn, uint64_t account_id, uint64_t* member_id) const;

  // Reads inside `txn`.
  Status last_applied(lmdb::Txn& txn, uint64_t* seq) const;
  Status history_in(lmdb::Txn& txn, uint64_t account_id, HistoryCursor from, uint32_t limit,
                    HistoryPage* page) const;
};

Status StateStore::Impl::put_text(lmdb::Txn& txn, const StoredText& t) {
  const TextKey key(t.key);
  const MDB_val k = lmdb::val(key.b, sizeof key.b);
  const TextValueHeader header{t.group, t.seq};
  text_value.resize(sizeof header + t.text.size());
  std::memcpy(text_value.data(), &header, sizeof header);
  if (!t.text.empty()) std::memcpy(text_value.data() + sizeof header, t.text.data(), t.text.size());
  // Most keys are new (a command's own id): one descent puts them. A key that
  // exists hands back its old value, whose group the index must follow.
  MDB_val v = lmdb::val(text_value);
  bool existed = false;
  Status s = lmdb::put_new(txn, texts, k, &v, &existed);
  if (!s.ok()) return s;
  uint64_t old_group = 0;
  if (existed) {
    if (v.mv_size < sizeof(TextValueHeader)) {
      return Status(StatusCode::corruption, "texts: value shorter than its header");
    }
    std::memcpy(&old_group, v.mv_data, sizeof old_group);  // TextValueHeader::group
    s = lmdb::put(txn, texts, k, lmdb::val(text_value));
    if (!s.ok()) return s;
  }
  if (existed && old_group == t.group) return Status();  // index entry already right
  if (old_group != 0) {
    const TextGroupKey gk(old_group, t.key);
    bool deleted = false;
    if (!(s = lmdb::del(txn, text_groups, lmdb::val(gk.b, sizeof gk.b), &deleted)).ok()) return s;
  }
  if (t.group != 0) {
    const TextGroupKey gk(t.group, t.key);
    s = lmdb::put(txn, text_groups, lmdb::val(gk.b, sizeof gk.b), lmdb::val(nullptr, 0));
  }
  return s;
}

Status StateStore::Impl::put_account(lmdb::Txn& txn, const Effect& e) {
  const AccountKey key(e.account.account_id);
  AccountValue v{};
  v.user_data = e.account.user_data;
  v.asset = e.asset;
  v.kind = static_cast<uint16_t>(e.account.kind);
  Status s = lmdb::put(txn, accounts, lmdb::val(key.b, sizeof key.b), lmdb::val(&v, sizeof v));
  if (!s.ok()) return s;
  if (!history_wanted(e.account.account_id, e.account.kind))
    no_history.insert(e.account.account_id);
  if (e.account.kind == AccountKind::member_wallet ||
      e.account.kind == AccountKind::member_points) {
    const MemberAccountKey mk(e.account.user_data, e.asset);
    const uint64_t account_id = e.account.account_id;
    s = lmdb::put(txn, member_accounts, lmdb::val(mk.b, sizeof mk.b),
                  lmdb::val(&account_id, sizeof account_id));
  }
  return s;
}

Status StateStore::Impl::member_of(lmdb::Txn& txn, uint64_t account_id, uint64_t* member_id) const {
  *member_id = 0;
  const AccountKey key(account_id);
  MDB_val v;
  bool found = false;
  Status s = lmdb::get(txn, accounts, lmdb::val(key.b, sizeof key.b), &v, &found);
  if (!s.ok() || !found) return s;
  AccountValue av;
  if (!read_pod(v, &av)) return Status(StatusCode::corruption, "accounts: bad value size");
  const auto kind = static_cast<AccountKind>(av.kind);
  if (kind == AccountKind::member_wallet || kind == AccountKind::member_points) {
    *member_id = av.user_data;
  }
  return Status();
}

Status StateStore::Impl::load_no_history(lmdb::Txn& txn) {
  no_history.clear();
  lmdb::Cursor cur;
  Status s = cur.open(txn, accounts);
  if (!s.ok()) return s;
  const AccountKey start(domain_account_id_min);
  MDB_val k = lmdb::val(start.b, sizeof start.b), v;
  int rc = cur.get(&k, &v, MDB_SET_RANGE);
  for (; rc == MDB_SUCCESS; rc = cur.get(&k, &v, MDB_NEXT)) {
    AccountValue av;
    if (k.mv_size != kAccountKeySize || !read_pod(v, &av)) {
      return Status(StatusCode::corruption, "accounts: bad key or value size");
    }
    const uint64_t account_id = get_be64(static_cast<const std::byte*>(k.mv_data));
    if (!history_wanted(account_id, static_cast<AccountKind>(av.kind)))
      no_history.insert(account_id);
  }
  if (rc != MDB_NOTFOUND) return lmdb::status_from(rc, "accounts cursor");
  return Status();
}

Status StateStore::Impl::put_gift(lmdb::Txn& txn, const Effect& e) {
  GiftValue v{};
  v.seq = e.seq;
  v.time_us = e.time_us;
  v.gift_id = e.transfer.transfer_id;
  v.amount = e.transfer.amount;
  Status s = member_of(txn, e.transfer.debit_account_id, &v.from_member_id);
  if (s.ok()) s = member_of(txn, e.transfer.credit_account_id, &v.to_member_id);
  if (!s.ok()) return s;
  // A side that is not a member (an engine transfer coded as a gift) gets no entry.
  if (v.from_member_id != 0) {
    const GiftKey k(v.from_member_id, GiftDirection::sent, e.seq);
    s = lmdb::put(txn, gifts, lmdb::val(k.b, sizeof k.b), lmdb::val(&v, sizeof v));
    if (!s.ok()) return s;
  }
  if (v.to_member_id != 0) {
    const GiftKey k(v.to_member_id, GiftDirection::received, e.seq);
    s = lmdb::put(txn, gifts, lmdb::val(k.b, sizeof k.b), lmdb::val(&v, sizeof v));
  }
  return s;
}

// Moves the withdrawal whose hold `e` touches to `state`: its entry leaves the
// list of its previous state and joins the new one under this seq.
Status StateStore::Impl::move_withdrawal(lmdb::Txn& txn, const Effect& e, uint8_t state) {
  WithdrawalValue v{};
  v.seq = e.seq;
  v.time_us = e.time_us;
  v.withdrawal_id = domain_leg_id(e.transfer.transfer_id, kWithdrawalHoldLeg);
  v.amount = e.transfer.amount;
  v.state = state;
  Status s = member_of(txn, e.transfer.debit_account_id, &v.member_id);
  if (!s.ok()) return s;

  const WithdrawalIdKey idk(v.withdrawal_id);
  const MDB_val ik = lmdb::val(idk.b, sizeof idk.b);
  MDB_val old;
  bool found = false;
  if (!(s = lmdb::get(txn, withdrawal_ids, ik, &old, &found)).ok()) return s;
  if (found) {
    WithdrawalIdValue where;
    if (!read_pod(old, &where)) {
      return Status(StatusCode::corruption, "withdrawal_ids: bad value size");
    }
    const WithdrawalKey ok(where.state, where.seq);
    bool deleted = false;
    if (!(s = lmdb::del(txn, withdrawals, lmdb::val(ok.b, sizeof ok.b), &deleted)).ok()) return s;
  }
  const WithdrawalKey k(state, e.seq);
  s = lmdb::put(txn, withdrawals, lmdb::val(k.b, sizeof k.b), lmdb::val(&v, sizeof v));
  if (!s.ok()) return s;
  WithdrawalIdValue where{};
  where.seq = e.seq;
  where.state = state;
  return lmdb::put(txn, withdrawal_ids, ik, lmdb::val(&where, sizeof where));
}

void StateStore::Impl::add_history(const HistoryKey& key, HistoryValue v) {
  const auto index = static_cast<uint32_t>(history_puts.size());
  auto [it, first] = txn_heads.try_emplace(v.account_id, TxnHead{index, index});
  if (!first) {  // the previous entry is in this transaction
    const HistoryKey& prev = history_puts[it->second.last].first;
    v.prev_seq = get_be64(prev.b);
    v.prev_ordinal = get_be32(prev.b + 8);
    it->second.last = index;
  }  // else put_history() links it to the stored head
  history_puts.push_back({key, v});
}

Status StateStore::Impl::put_history(lmdb::Txn& txn) {
  if (history_puts.empty()) return Status();
  // Keys only grow (seq > last applied): appended, pages filled completely.
  lmdb::Cursor cur;
  Status s = cur.open(txn, history);
  if (!s.ok()) return s;
  // Heads in account order: neighbouring pages of history_heads, each read
  // and moved with one descent. The first entry of an account in this
  // transaction links to the stored head (none: prev_seq 0).
  heads_sorted.assign(txn_heads.begin(), txn_heads.end());
  std::sort(heads_sorted.begin(), heads_sorted.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  lmdb::Cursor heads;
  if (!(s = heads.open(txn, history_heads)).ok()) return s;
  for (const auto& [account_id, th] : heads_sorted) {
    const HistoryHeadKey hk(account_id);
    MDB_val k = lmdb::val(hk.b, sizeof hk.b), v;
    int rc = heads.get(&k, &v, MDB_SET_KEY);
    HistoryHead head{};
    if (rc == MDB_SUCCESS && !read_pod(v, &head)) {
      return Status(StatusCode::corruption, "history_heads: bad value size");
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return lmdb::status_from(rc, "history_heads");
    HistoryValue& first = history_puts[th.first].second;
    first.prev_seq = head.seq;
    first.prev_ordinal = head.ordinal;
    const HistoryKey& newest = history_puts[th.last].first;
    head.seq = get_be64(newest.b);
    head.ordinal = get_be32(newest.b + 8);
    k = lmdb::val(hk.b, sizeof hk.b);
    v = lmdb::val(&head, sizeof head);
    rc = mdb_cursor_put(heads.raw(), &k, &v, rc == MDB_SUCCESS ? MDB_CURRENT : 0);
    if (rc != MDB_SUCCESS) return lmdb::status_from(rc, "history_heads put");
  }
  for (const auto& [key, value] : history_puts) {
    MDB_val k = lmdb::val(key.b, sizeof key.b), v = lmdb::val(&value, sizeof value);
    const int rc = mdb_cursor_put(cur.raw(), &k, &v, MDB_APPEND);
    if (rc != MDB_SUCCESS) return lmdb::status_from(rc, "history append");
  }
  return Status();
}

Status StateStore::Impl::put_sorted(lmdb::Txn& txn) {
  Impl& im = *this;
  auto by_key = [](const auto& a, const auto& b) {
    return std::memcmp(a.first.b, b.first.b, sizeof a.first.b) < 0;
  };
  std::sort(im.record_puts.begin(), im.record_puts.end(), by_key);
  Status s = put_history(txn);
  if (!s.ok()) return s;
  for (const auto& [key, effect] : im.record_puts) {
    s = lmdb::put(txn, im.records, lmdb::val(key.b, sizeof key.b),
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
  if (!(s = lmdb::open_dbi(txn, "history_heads", MDB_CREATE, &impl_->history_heads)).ok()) {
    return s;
  }
  if (!(s = lmdb::open_dbi(txn, "records", MDB_CREATE, &impl_->records)).ok()) return s;
  if (!(s = lmdb::open_dbi(txn, "image", MDB_CREATE, &impl_->image)).ok()) return s;
  const std::pair<const char*, MDB_dbi*> more[] = {
      {"texts", &impl_->texts},
      {"text_groups", &impl_->text_groups},
      {"accounts", &impl_->accounts},
      {"member_accounts", &impl_->member_accounts},
      {"gifts", &impl_->gifts},
      {"withdrawals", &impl_->withdrawals},
      {"withdrawal_ids", &impl_->withdrawal_ids},
  };
  static_assert(5 + std::size(more) == kStateStoreDbCount);
  for (const auto& [name, dbi] : more) {
    if (!(s = lmdb::open_dbi(txn, name, MDB_CREATE, dbi)).ok()) return s;
  }

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
  if (!(s = impl_->load_no_history(txn)).ok()) return s;
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
  // Per request (followers_healthy): no lock while healthy.
  if (!failed_.load(std::memory_order_acquire)) return Status();
  std::lock_guard<std::mutex> l(queue_mu_);
  return error_;
}

void StateStore::fail_locked(const Status& s) {
  if (error_.ok()) {
    error_ = s;
    failed_.store(true, std::memory_order_release);
  }
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
  prev = 0;
  for (const StoredText& t : batch.texts) {
    if (t.seq < batch.first_seq || t.seq > batch.last_seq || t.seq < prev || t.key.is_zero() ||
        t.text.size() > command_text_size_max) {
      return Status(StatusCode::invalid_argument,
                    "effect batch: text of seq " + std::to_string(t.seq) +
                        " out of order/range, zero key or over the size limit");
    }
    prev = t.seq;
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
    im.txn_heads.clear();
    im.record_puts.clear();
    im.text_puts.clear();
    std::unique_ptr<PendingImage> image;
    lmdb::Txn txn;
    Status s = txn.begin(*im.env, /*read_only=*/false);
    if (!s.ok()) return s;

    uint64_t effect_count = 0, history_count = 0, record_count = 0, text_count = 0;
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
            if (!im.keeps_history(e.balance.account_id)) break;
            HistoryValue hv{};
            hv.account_id = e.balance.account_id;
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
            im.add_history(HistoryKey(e.seq, ordinal), hv);
            history_count++;
            break;
          }
          default: {
            // Raw records only for what no other table holds: transfers live
            // on in the history rows of their accounts, account_created in
            // `accounts`.
            if (is_transfer_kind(e.kind)) {
              transfer = &e;
            } else if (e.kind != EffectKind::account_created) {
              im.record_puts.push_back({RecordKey(e.kind, e.seq, ordinal), &e});
              record_count++;
            }
            // Domain indexes: only these kinds and codes cost more than the record.
            if (e.kind == EffectKind::account_created) {
              s = im.put_account(txn, e);
            } else if (e.code == code_gift && e.kind == EffectKind::transfer_posted) {
              s = im.put_gift(txn, e);
            } else if (e.code == code_withdrawal_hold) {
              switch (e.kind) {
                case EffectKind::hold_created:
                  s = im.move_withdrawal(txn, e, withdrawal_pending);
                  break;
                case EffectKind::hold_posted:
                  s = im.move_withdrawal(txn, e, withdrawal_approved);
                  break;
                case EffectKind::hold_voided:
                case EffectKind::hold_expired:  // withdrawal holds never expire; as a release
                  s = im.move_withdrawal(txn, e, withdrawal_rejected);
                  break;
                default:
                  break;
              }
            }
            if (!s.ok()) return s;  // txn aborts: nothing of it is visible
            break;
          }
        }
      }
      for (const StoredText& t : b.texts) {
        if (t.seq > applied) im.text_puts.push_back(&t);  // else re-fed
      }
      applied = b.last_seq;
    }
    // Puts in key order: neighbouring keys share B-tree pages, so each page is
    // touched once per transaction instead of once per entry.
    s = im.put_sorted(txn);
    if (!s.ok()) return s;  // txn aborts: nothing of it is visible
    // Texts in key order too; stable, so that of two texts under one key the
    // later (higher seq) is put last and wins.
    std::stable_sort(im.text_puts.begin(), im.text_puts.end(),
                     [](const StoredText* a, const StoredText* b) { return a->key < b->key; });
    for (const StoredText* t : im.text_puts) {
      if (!(s = im.put_text(txn, *t)).ok()) return s;
    }
    text_count = im.text_puts.size();

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
    texts_written_.fetch_add(text_count, std::memory_order_relaxed);
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

Status StateStore::Impl::last_applied(lmdb::Txn& txn, uint64_t* seq) const {
  *seq = 0;
  MDB_val mv;
  bool found = false;
  Status s =
      lmdb::get(txn, meta, lmdb::val(kMetaLastApplied, sizeof kMetaLastApplied - 1), &mv, &found);
  if (!s.ok()) return s;
  if (found && !read_pod(mv, seq)) {
    return Status(StatusCode::corruption, "state store: bad last_applied_seq");
  }
  return Status();
}

Status StateStore::Impl::history_in(lmdb::Txn& txn, uint64_t account_id, HistoryCursor from,
                                    uint32_t limit, HistoryPage* page) const {
  HistoryCursor at = from;
  if (at.at_start()) {
    const HistoryHeadKey hk(account_id);
    MDB_val v;
    bool found = false;
    Status s = lmdb::get(txn, history_heads, lmdb::val(hk.b, sizeof hk.b), &v, &found);
    if (!s.ok() || !found) return s;
    HistoryHead head;
    if (!read_pod(v, &head)) return Status(StatusCode::corruption, "history_heads: bad value size");
    at = HistoryCursor{head.seq, head.ordinal};
  }
  page->entries.reserve(std::min<uint32_t>(limit, 64));
  // Follow the account's chain, newest first: one descent per entry.
  while (!at.at_start()) {
    if (page->entries.size() == limit) {
      page->next = at;
      break;
    }
    const HistoryKey key(at.seq, at.ordinal);
    MDB_val v;
    bool found = false;
    Status s = lmdb::get(txn, history, lmdb::val(key.b, sizeof key.b), &v, &found);
    if (!s.ok()) return s;
    HistoryValue hv;
    if (!found || !read_pod(v, &hv) || hv.account_id != account_id) {
      // A cursor from elsewhere (another account, made up) ends the page; a
      // broken link from the head is corruption.
      if (from.at_start() || !page->entries.empty()) {
        return Status(StatusCode::corruption,
                      "history: broken chain at seq " + std::to_string(at.seq));
      }
      break;
    }
    HistoryEntry& e = page->entries.emplace_back();
    e.account_id = account_id;
    e.seq = at.seq;
    e.ordinal = at.ordinal;
    e.time_us = hv.time_us;
    e.kind = static_cast<EffectKind>(hv.kind);
    e.code = hv.code;
    e.asset = hv.asset;
    e.amount = hv.amount;
    e.balance_after = hv.balance_after;
    e.debits_pending_after = hv.debits_pending_after;
    e.credits_pending_after = hv.credits_pending_after;
    e.ref = hv.ref;
    at = HistoryCursor{hv.prev_seq, hv.prev_ordinal};
  }
  return Status();
}

Status StateStore::history(uint64_t account_id, HistoryCursor from, uint32_t limit,
                           HistoryPage* page) const {
  *page = HistoryPage{};
  if (limit == 0 || limit > kHistoryPageLimitMax) {
    return Status(StatusCode::invalid_argument, "history: limit out of range");
  }
  lmdb::Txn txn;
  Status s = txn.begin(*impl_->env, /*read_only=*/true);
  if (!s.ok()) return s;
  if (!(s = impl_->last_applied(txn, &page->as_of_seq)).ok()) return s;
  return impl_->history_in(txn, account_id, from, limit, page);
}

Status StateStore::member_history(uint64_t member_id, Asset asset, HistoryCursor from,
                                  uint32_t limit, HistoryPage* page) const {
  *page = HistoryPage{};
  if (limit == 0 || limit > kHistoryPageLimitMax) {
    return Status(StatusCode::invalid_argument, "member_history: limit out of range");
  }
  lmdb::Txn txn;
  Status s = txn.begin(*impl_->env, /*read_only=*/true);
  if (!s.ok()) return s;
  if (!(s = impl_->last_applied(txn, &page->as_of_seq)).ok()) return s;
  // One snapshot for the account lookup and the walk.
  const MemberAccountKey mk(member_id, asset);
  MDB_val v;
  bool found = false;
  s = lmdb::get(txn, impl_->member_accounts, lmdb::val(mk.b, sizeof mk.b), &v, &found);
  if (!s.ok() || !found) return s;
  uint64_t account_id = 0;
  if (!read_pod(v, &account_id)) {
    return Status(StatusCode::corruption, "member_accounts: bad value size");
  }
  return impl_->history_in(txn, account_id, from, limit, page);
}

Status StateStore::texts(std::span<const Id128> keys,
                         std::vector<std::optional<std::string>>* out) const {
  out->clear();
  if (keys.size() > kTextsKeysMax) {
    return Status(StatusCode::invalid_argument, "texts: too many keys");
  }
  lmdb::Txn txn;
  Status s = txn.begin(*impl_->env, /*read_only=*/true);
  if (!s.ok()) return s;
  out->reserve(keys.size());
  for (const Id128& key : keys) {
    const TextKey k(key);
    MDB_val v;
    bool found = false;
    if (!(s = lmdb::get(txn, impl_->texts, lmdb::val(k.b, sizeof k.b), &v, &found)).ok()) {
      out->clear();
      return s;
    }
    if (!found) {
      out->emplace_back();
      continue;
    }
    if (v.mv_size < kTextValueHeaderSize) {
      out->clear();
      return Status(StatusCode::corruption, "texts: value shorter than its header");
    }
    out->emplace_back(std::in_place, static_cast<const char*>(v.mv_data) + kTextValueHeaderSize,
                      v.mv_size - kTextValueHeaderSize);
  }
  return Status();
}

Status StateStore::texts_in_group(uint64_t group, Id128 after, uint32_t limit,
                                  TextGroupPage* page) const {
  *page = TextGroupPage{};
  if (group == 0 || limit == 0 || limit > kTextsPageLimitMax) {
    return Status(StatusCode::invalid_argument, "texts_in_group: group 0 or limit out of range");
  }
  lmdb::Txn txn;
  Status s = txn.begin(*impl_->env, /*read_only=*/true);
  if (!s.ok()) return s;
  lmdb::Cursor cur;
  if (!(s = cur.open(txn, impl_->text_groups)).ok()) return s;
  const TextGroupKey start(group, after);
  MDB_val k = lmdb::val(start.b, sizeof start.b), v;
  int rc = cur.get(&k, &v, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS) {
    const auto* kb = static_cast<const std::byte*>(k.mv_data);
    if (k.mv_size != kTextGroupKeySize || get_be64(kb) != group) break;
    const Id128 key = get_id(kb + 8);
    if (key == after) {  // strictly after the cursor (zero never exists)
      rc = cur.get(&k, &v, MDB_NEXT);
      continue;
    }
    if (page->texts.size() == limit) {
      page->next = page->texts.back().first;
      break;
    }
    const TextKey tk(key);
    MDB_val tv;
    bool found = false;
    if (!(s = lmdb::get(txn, impl_->texts, lmdb::val(tk.b, sizeof tk.b), &tv, &found)).ok()) {
      return s;
    }
    if (!found || tv.mv_size < kTextValueHeaderSize) {
      return Status(StatusCode::corruption, "text_groups: entry without its text");
    }
    page->texts.emplace_back(
        key, std::string(static_cast<const char*>(tv.mv_data) + kTextValueHeaderSize,
                         tv.mv_size - kTextValueHeaderSize));
    rc = cur.get(&k, &v, MDB_NEXT);
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return lmdb::status_from(rc, "text_groups cursor");
  return Status();
}

Status StateStore::gifts(uint64_t member_id, GiftDirection direction, uint64_t before_seq,
                         uint32_t limit, GiftPage* page) const {
  *page = GiftPage{};
  if (limit == 0 || limit > kGiftsPageLimitMax ||
      (direction != GiftDirection::sent && direction != GiftDirection::received)) {
    return Status(StatusCode::invalid_argument, "gifts: limit or direction out of range");
  }
  if (before_seq == 1) return Status();  // nothing below seq 1
  lmdb::Txn txn;
  Status s = txn.begin(*impl_->env, /*read_only=*/true);
  if (!s.ok()) return s;
  lmdb::Cursor cur;
  if (!(s = cur.open(txn, impl_->gifts)).ok()) return s;
  // ~(UINT64_MAX) = 0 is the newest possible key of the member and direction.
  const GiftKey start(member_id, direction, before_seq == 0 ? UINT64_MAX : before_seq - 1);
  MDB_val k = lmdb::val(start.b, sizeof start.b), v;
  int rc = cur.get(&k, &v, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS) {
    const auto* kb = static_cast<const std::byte*>(k.mv_data);
    if (k.mv_size != kGiftKeySize || get_be64(kb) != member_id ||
        kb[8] != static_cast<std::byte>(direction)) {
      break;
    }
    if (page->entries.size() == limit) {
      page->next_before_seq = page->entries.back().seq;
      break;
    }
    GiftValue gv;
    if (!read_pod(v, &gv)) return Status(StatusCode::corruption, "gifts: bad value size");
    page->entries.push_back(
        GiftEntry{gv.seq, gv.time_us, gv.gift_id, gv.from_member_id, gv.to_member_id, gv.amount});
    rc = cur.get(&k, &v, MDB_NEXT);
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return lmdb::status_from(rc, "gifts cursor");
  return Status();
}

Status StateStore::withdrawals(uint8_t state, uint64_t after_seq, uint32_t limit,
                               WithdrawalPage* page) const {
  *page = WithdrawalPage{};
  if (limit == 0 || limit > kWithdrawalsPageLimitMax ||
      (state != withdrawal_pending && state != withdrawal_approved &&
       state != withdrawal_rejected)) {
    return Status(StatusCode::invalid_argument, "withdrawals: limit or state out of range");
  }
  if (after_seq == UINT64_MAX) return Status();
  lmdb::Txn txn;
  Status s = txn.begin(*impl_->env, /*read_only=*/true);
  if (!s.ok()) return s;
  lmdb::Cursor cur;
  if (!(s = cur.open(txn, impl_->withdrawals)).ok()) return s;
  const WithdrawalKey start(state, after_seq + 1);
  MDB_val k = lmdb::val(start.b, sizeof start.b), v;
  int rc = cur.get(&k, &v, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS) {
    const auto* kb = static_cast<const std::byte*>(k.mv_data);
    if (k.mv_size != kWithdrawalKeySize || kb[0] != static_cast<std::byte>(state)) break;
    if (page->entries.size() == limit) {
      page->next_after_seq = page->entries.back().seq;
      break;
    }
    WithdrawalValue wv;
    if (!read_pod(v, &wv)) return Status(StatusCode::corruption, "withdrawals: bad value size");
    page->entries.push_back(
        WithdrawalEntry{wv.seq, wv.time_us, wv.withdrawal_id, wv.member_id, wv.amount, wv.state});
    rc = cur.get(&k, &v, MDB_NEXT);
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return lmdb::status_from(rc, "withdrawals cursor");
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
  st.texts_written = texts_written_.load();
  MDB_envinfo info;
  MDB_stat stat;
  if (mdb_env_info(impl_->env->get(), &info) == MDB_SUCCESS &&
      mdb_env_stat(impl_->env->get(), &stat) == MDB_SUCCESS) {
    st.file_size_bytes = (uint64_t{info.me_last_pgno} + 1) * stat.ms_psize;
  }
  return st;
}

}  // namespace coffer::storage
