// Private to core: the domain operations of SPEC.md as core commands, built on
// the engine API of core/engine.h. Records live in fixed-capacity tables sized
// by LedgerConfig and are kept permanently (reads and replays use them).
//
// Every state-changing domain command: checks all of its rules against current
// state first; then, inside an engine transaction, applies all of its transfers
// (an unexpected engine failure undoes them all); only then updates records.
// Families live in their own files: domain.cc (dispatch, config, groups,
// system accounts, reads, hash, image), members.cc, payments.cc.
#pragma once

#include <cstdint>
#include <memory>

#include "core/assert.h"
#include "core/engine.h"
#include "core/hash.h"
#include "core/image.h"
#include "core/key_index.h"
#include "core/ledger.h"
#include "core/line_index.h"
#include "core/types.h"

namespace coffer::detail {

// System accounts (DESIGN.md): created with the first state-changing domain command.
enum SystemAccount : uint32_t {
  sys_clearing_wechat = 0,
  sys_clearing_cash = 1,
  sys_clearing_bank = 2,
  sys_clearing_other = 3,
  sys_points_issuance = 4,  // points
  sys_points_funding = 5,
  sys_voucher_liability = 6,
  sys_payout_clearing = 7,
  sys_cashback_expense = 8,
  sys_rebate_expense = 9,
  sys_adjustment = 10,
  sys_adjustment_points = 11,  // points
};
static_assert(sys_adjustment_points + 1 == system_accounts_count);

// Account ids of domain accounts (all >= domain_account_id_min).
inline uint64_t system_account_id(uint32_t k) {
  return domain_account_id_min | (k + 1);
}
inline uint64_t member_account_id(uint32_t member_index, bool points) {
  return domain_account_id_min | (uint64_t{1} << 56) | (uint64_t{member_index} * 2 + points);
}
inline uint64_t merchant_account_id(uint32_t merchant_index) {
  return domain_account_id_min | (uint64_t{2} << 56) | merchant_index;
}

struct Group {
  uint32_t group_id;  // 0 = free entry
  uint32_t cashback_bp;
  uint32_t earn_points_bp;
  uint32_t use_points_bp;
  int64_t upgrade_threshold;
};
static_assert(sizeof(Group) == 24);

struct Member {
  uint64_t member_id;
  uint64_t phone_hash;
  int64_t cumulative_spend;
  uint64_t created_at_us;
  uint32_t wallet_slot;
  uint32_t points_slot;
  uint32_t group_id;
  uint32_t requested_group_id;  // as registered (0 = default): replays compare it
  uint8_t wallet_enabled;
  uint8_t reserved[7];
  uint64_t reserved2;
};
static_assert(sizeof(Member) == 64);

struct Merchant {
  uint64_t merchant_id;
  uint32_t settlement_slot;
  uint8_t split_payment_allowed;
  uint8_t reserved[3];
};
static_assert(sizeof(Merchant) == 16);

// Credits, debits, rebates and gifts: kept for replays and reads.
struct SimpleRecord {
  Id128 id;
  uint64_t fingerprint;
  uint64_t member_id;
  uint64_t other_member_id;  // gift: receiver
  int64_t amount;
  int64_t balance_after;  // the member's (gift: sender's) balance after
  uint64_t time_us;
  uint16_t kind;  // CommandKind
  uint16_t reserved0;
  Asset asset;
};
static_assert(sizeof(SimpleRecord) == 72);

// The legs of a payment: wallet W (member wallet -> merchant), points P
// (member points -> issuance), points value V (funding -> merchant).
enum PaymentLeg : uint32_t { leg_wallet = 0, leg_points = 1, leg_value = 2 };

struct Payment {
  Id128 id;
  uint64_t fingerprint;
  Id128 order_ref;
  Id128 channel_txn;
  uint64_t store_id;
  uint64_t created_us;
  uint64_t expires_us;  // held / awaiting_external: automatic void at
  uint32_t member;      // member index
  uint32_t merchant;    // merchant index
  int64_t amount;
  int64_t parts[4];  // wallet, points, value, external as created
  int64_t captured;  // amount captured (0 until captured)
  int64_t captured_parts[4];
  int64_t refunded;
  int64_t refunded_parts[4];
  uint32_t order;  // completed order linked to this payment (O2), or Domain::none
  uint32_t reserved2;
  Id128 op_id;  // the capture / void / confirm that closed it (replays)
  uint64_t op_fingerprint;
  uint8_t state;  // PaymentState
  uint8_t capture;
  uint8_t reserved[6];
};
static_assert(sizeof(Payment) == 248);

struct Refund {
  Id128 id;
  uint64_t fingerprint;
  uint32_t payment;  // payment index
  uint32_t reserved;
  int64_t amount;
  int64_t parts[4];  // wallet, points, value, external (due) returned
};
static_assert(sizeof(Refund) == 72);

struct Method {
  uint32_t method_id;  // 0 = free entry
  uint8_t channel;
  uint8_t enabled;
  uint16_t payee_count;
  uint64_t next_payee;  // rotation counter (R1)
};
static_assert(sizeof(Method) == 16);

struct Recharge {
  Id128 id;
  uint64_t fingerprint;
  Id128 channel_txn;  // the confirmation that settled it
  uint64_t created_us;
  uint64_t expires_us;
  int64_t amount;
  int64_t confirmed_amount;  // as paid (amount_mismatch keeps the paid amount)
  uint32_t member;           // member index
  uint32_t method_id;
  uint16_t payee_index;
  uint8_t state;  // RechargeState (never recharge_expired: derived on read)
  uint8_t channel;
  uint32_t reserved;
};
static_assert(sizeof(Recharge) == 88);

struct Batch {
  Id128 id;
  uint64_t fingerprint;
  uint64_t merchant_id;
  int64_t face_value;
  uint64_t valid_from_us;
  uint64_t valid_until_us;
  uint64_t created_us;
  uint32_t merchant;  // merchant index
  uint32_t quantity;
  uint32_t codes_added;
  uint32_t redeemed_count;
  int64_t redeemed_amount;
  uint32_t voided_count;  // unredeemed when voided
  uint8_t kind;           // VoucherKind
  uint8_t state;          // BatchState
  uint16_t reserved;
  Id128 void_id;  // the void command (replays)
};
static_assert(sizeof(Batch) == 112);

struct Voucher {
  Id128 id;  // keyed hash of the code
  uint64_t redeemed_at_us;
  uint64_t redeemed_by;  // store id (paper) or member id (card)
  uint32_t batch;        // batch index
  uint8_t redeemed;
  uint8_t reserved[3];
};
static_assert(sizeof(Voucher) == 40);

struct Withdrawal {
  Id128 id;
  uint64_t fingerprint;
  Id128 op_id;  // the approve / reject that decided it (replays)
  uint64_t op_fingerprint;
  uint64_t payout_hash;
  int64_t amount;
  uint64_t created_us;
  uint64_t decided_us;
  uint32_t member;
  uint32_t feedback_length;
  uint8_t state;  // WithdrawalState
  uint8_t reserved[7];
};
static_assert(sizeof(Withdrawal) == 96);

// A completed order (O1) and its two maturing grants: leg 0 = wallet
// cash-back, leg 1 = points.
struct Order {
  Id128 id;
  uint64_t fingerprint;
  int64_t amount;
  int64_t granted[2];  // as scheduled
  int64_t open[2];     // what is still maturing (after O2 shrinks)
  uint64_t matures_us[2];
  uint64_t completed_us;
  uint32_t member;
  uint32_t merchant;
  uint32_t payment;  // payment index or Domain::none
  uint32_t group_after;
  uint8_t state[2];  // GrantState
  uint8_t reserved[6];
};
static_assert(sizeof(Order) == 112);

struct Store {
  Id128 id;  // (merchant_id, store_id)
  uint64_t merchant_id;
  uint64_t store_id;
  int32_t lat_udeg;
  int32_t lon_udeg;
};
static_assert(sizeof(Store) == 40);

struct ApiKey {
  Id128 id;  // key hash
  uint64_t merchant_id;
  uint64_t store_id;
  uint8_t role;
  uint8_t enabled;
  uint8_t reserved[6];
};
static_assert(sizeof(ApiKey) == 40);

// A3: per (UTC day, merchant, store) counters of what was settled.
struct SettlementRow {
  Id128 id;  // Domain::settlement_key() of (merchant, store, day), salted on collision
  uint64_t merchant_id;
  uint64_t store_id;
  uint64_t day;  // days since the epoch, UTC
  int64_t payments_count;
  int64_t payments_amount;
  int64_t refunds_count;
  int64_t refunds_amount;
  int64_t voucher_count;
  int64_t voucher_amount;
};
static_assert(sizeof(SettlementRow) == 88);

// V5: failed code attempts of one redeemer in the current minute. The key is
// kept whole (not hashed) so that no chosen id can share another's counter:
// merchant_id != 0: a store of that merchant (id 0: all its stores together);
// merchant_id == 0: a member (id 0: every id that is not a member).
struct GuardSlot {
  uint64_t merchant_id;
  uint64_t id;
  uint32_t window;  // time_us / voucher_guard_window_us
  uint32_t failures;
};

// A permanent table of records keyed by Id128 (records are never removed).
template <class T>
class IdTable {
 public:
  // How many records ahead insert() prefetches the lines of the next ones.
  static constexpr uint32_t insert_prefetch_ahead = 4;

  void init(uint32_t capacity) {
    items_.reset(capacity);
    capacity_ = capacity;
    count_ = 0;
    index_.init(capacity);
  }
  // key: LineIndex::key(id), when the caller has it (the ledger keyed the command's id).
  uint32_t find(const Id128& id) const { return find(id, LineIndex::key(id)); }
  uint32_t find(const Id128& id, uint64_t key) const {
    return index_.find_value(key, [&](uint32_t i) { return items_[i].id == id; });
  }
  bool full() const { return count_ == capacity_; }
  // REQUIRES: !full(), id absent.
  uint32_t insert(const T& t) { return insert(t, LineIndex::key(t.id)); }
  uint32_t insert(const T& t, uint64_t key) {
    append(t.id, key) = t;
    return count_ - 1;
  }
  // The next record, to be filled in place: zeroed but for its id, indexed by
  // key. (Records are never removed, so the slot past the last has never been
  // written since init zeroed it.) REQUIRES: !full(), id absent.
  T& append(const Id128& id, uint64_t key) {
    COFFER_ASSERT(count_ < capacity_);
    prefetch_ahead();
    T& t = items_[count_];
    COFFER_ASSERT(t.id.is_zero());  // never written: the rest of it is zero too
    t.id = id;
    index_.insert(key, count_++);
    return t;
  }
  T& operator[](uint32_t i) { return items_[i]; }
  const T& operator[](uint32_t i) const { return items_[i]; }
  uint32_t count() const { return count_; }
  uint32_t capacity() const { return capacity_; }
  void prefetch_bucket_of(uint64_t key) const { index_.prefetch(key); }
  void prefetch_record_of(uint64_t key) const {
    const uint32_t i = index_.guess(key);
    if (i != LineIndex::none) detail::prefetch(&items_[i]);
  }
  // The record in the id's home bucket if it is this id's, else none: a hint
  // for the batch path that costs no probing.
  uint32_t guess(const Id128& id, uint64_t key) const {
    const uint32_t i = index_.guess(key);
    return i != LineIndex::none && items_[i].id == id ? i : LineIndex::none;
  }
  const T* data() const { return items_.get(); }

 private:
  // Records are appended: fetch the lines of a later one now, so that its
  // write does not wait for them (the hardware prefetcher does not follow
  // writes of odd-sized records reliably).
  void prefetch_ahead() const {
    if (count_ + insert_prefetch_ahead >= capacity_) return;
    const char* ahead = reinterpret_cast<const char*>(&items_[count_ + insert_prefetch_ahead]);
    for (size_t k = 0; k < sizeof(T); k += cache_line_size)
      detail::prefetch(ahead + k);
    detail::prefetch(ahead + sizeof(T) - 1);
  }

  TableArray<T> items_;
  uint32_t capacity_ = 0;
  uint32_t count_ = 0;
  LineIndex index_;
};

// What the batch path's later prefetch stages fetch for one domain or read
// command, worked out once at stage 0 (the stages then only follow it, with no
// dispatch on the command or hashing of its keys again). A hint: no result
// depends on it.
enum class PrefetchRecord : uint8_t { none, payment, recharge, voucher };
struct PrefetchPlan {
  uint64_t member_id = 0;        // the member the command names (0: none)
  Id128 record_id{};             // the existing record it addresses (record != none)
  uint64_t record_key = 0;       // LineIndex::key(record_id)
  uint32_t member_hash = 0;      // the member index's hash of member_id
  uint32_t member = UINT32_MAX;  // the member's index, once stage 2 has found it
  PrefetchRecord record = PrefetchRecord::none;
  bool points = false;  // the member's points account is read too
  bool active() const { return member_id != 0 || record != PrefetchRecord::none; }
};

class Domain {
 public:
  static constexpr uint32_t none = UINT32_MAX;

  Domain(Engine engine, const LedgerConfig& config);

  // A state-changing domain command (kinds domain_first .. read_first-1).
  Result execute(const Command& c, Reply& reply, EffectSink& sink);
  // A read (kinds read_first .. read_last): no state change, no effects.
  Result read(const Command& c, Reply& reply) const;
  // A replay of a remembered command (reply.result: its first result):
  // rebuilds the reply body of a success, and of VOUCHER_REDEEMED (when and
  // where: a voucher is redeemed once, so that cannot have changed since).
  // Other failures keep what the ledger remembered.
  void replay_reply(const Command& c, Reply& reply) const;
  // The engine settled (expired / matured) a domain-owned hold or grant.
  void on_settled(const PendingTransfer& p, const Command& c, EffectSink& sink);

  // Batch-path hints (no effect on results). Stage 0, plan_prefetch: the
  // index lines, and the plan for the rest (id_key: the key of c.id); then
  // prefetch(plan, stage): 1 the records, 2 the member's accounts (or, for a
  // command on an existing payment or recharge, its member), 3 that member's
  // accounts.
  void plan_prefetch(const Command& c, uint64_t id_key, PrefetchPlan& plan) const;
  void prefetch(PrefetchPlan& plan, int stage) const;
  // Before executing a planned command: the member its stage 2 found (or
  // none). find_member() answers from it, without a lookup, when that record
  // has the id asked for; any other id is looked up as usual.
  void hint_member(uint32_t member) { hinted_member_ = member; }

  uint64_t hash() const;
  // Members and merchants as the state hash and images hold them: account
  // slots as creation indices, which do not depend on the account table's size.
  Member stored(const Member& m) const;
  Merchant stored(const Merchant& m) const;
  void write_image(ImageWriter& out) const;  // caller adds the CRC framing
  // Reads this section into a fresh domain; false on anything malformed.
  bool read_image(ImageReader& in);
  // Open payments, withdrawals and order grants agree with the engine's
  // domain-owned holds and grants (image load; tests).
  bool holds_agree() const;

  // For tests and the simulation's invariants.
  const DomainConfig& config() const { return config_; }
  uint32_t member_count() const { return member_count_; }
  const Member& member_at(uint32_t i) const { return members_[i]; }
  uint32_t find_member(uint64_t member_id) const;
  uint32_t merchant_count() const { return merchant_count_; }
  const Merchant& merchant_at(uint32_t i) const { return merchants_[i]; }
  const IdTable<Payment>& payments() const { return payments_; }
  const IdTable<Refund>& refunds() const { return refunds_; }
  const IdTable<Recharge>& recharges() const { return recharges_; }
  const IdTable<Batch>& batches() const { return batches_; }
  const IdTable<Voucher>& vouchers() const { return vouchers_; }
  const IdTable<Withdrawal>& withdrawals() const { return withdrawals_; }
  const IdTable<Order>& orders() const { return orders_; }
  const IdTable<SettlementRow>& settlement() const { return settlement_; }
  static Id128 settlement_key(uint64_t merchant_id, uint64_t store_id, uint64_t day);
  bool system_ready() const { return system_ready_; }
  uint32_t system_slot(uint32_t k) const { return system_slot_[k]; }
  static Id128 leg_id(const Id128& record, uint32_t leg);

 private:
  Engine engine_;
  LedgerConfig capacities_;
  DomainConfig config_{};
  Group groups_[groups_max]{};
  bool system_ready_ = false;
  uint32_t system_slot_[system_accounts_count]{};

  TableArray<Member> members_;
  uint32_t member_count_ = 0;
  uint32_t hinted_member_ = none;  // hint_member(): a hint, in no image or hash
  KeyIndex member_index_;
  KeyIndex phone_index_;
  TableArray<Merchant> merchants_;
  uint32_t merchant_count_ = 0;
  KeyIndex merchant_index_;
  IdTable<SimpleRecord> simple_;
  IdTable<Payment> payments_;
  IdTable<Refund> refunds_;
  Method methods_[methods_max]{};
  IdTable<Recharge> recharges_;
  IdTable<Batch> batches_;
  IdTable<Voucher> vouchers_;
  TableArray<GuardSlot> guard_;
  IdTable<Withdrawal> withdrawals_;
  IdTable<Order> orders_;
  IdTable<Store> stores_;
  IdTable<ApiKey> api_keys_;
  IdTable<SettlementRow> settlement_;
  // Rows find_settlement() found lately, one per (merchant, store) hash: a
  // command looks its row up twice (room, then settle) and a day's commands
  // come from few stores. Not state: a hint, checked against the row's own
  // fields before use (UINT32_MAX = none).
  static constexpr uint32_t settlement_recent_size = 16;
  mutable uint32_t settlement_recent_[settlement_recent_size];

  // ---- shared helpers (domain.cc) ----
  uint32_t accounts_needed(uint32_t extra) const {
    return (system_ready_ ? 0 : system_accounts_count) + extra;
  }
  void ensure_system(const Command& c, EffectSink& sink);
  const Group* find_group(uint32_t group_id) const;
  uint32_t find_phone(uint64_t phone_hash) const;
  uint32_t find_merchant(uint64_t merchant_id) const;
  // Looks a record up by the command id: ok (absent), replayed, or ID_REUSED.
  template <class T>
  Result check_record_id(const IdTable<T>& table, const Command& c, uint32_t* index) const;
  // Inserts the record command c creates (its id is c's), indexed by the
  // ledger's key of that id.
  template <class T>
  uint32_t insert_record(IdTable<T>& table, const Command& c, const T& t) {
    COFFER_ASSERT(t.id == c.id);
    return table.insert(t, engine_.id_key());
  }
  // The same, filled in place by the caller (no copy of a large record).
  template <class T>
  T& append_record(IdTable<T>& table, const Command& c) {
    return table.append(c.id, engine_.id_key());
  }

  // ---- families ----
  Result config_set(const Command& c);
  Result group_set(const Command& c);
  Result merchant_set(const Command& c, EffectSink& sink);
  Result member_register(const Command& c, Reply& reply, EffectSink& sink);  // members.cc
  Result member_set_wallet(const Command& c, Reply& reply);
  Result money(const Command& c, Reply& reply, EffectSink& sink);
  Result gift(const Command& c, Reply& reply, EffectSink& sink);
  void member_reply(const Member& m, Reply& reply) const;
  void simple_reply(const SimpleRecord& r, Reply& reply) const;
  Result payment_create(const Command& c, Reply& reply, EffectSink& sink);  // payments.cc
  Result payment_capture(const Command& c, Reply& reply, EffectSink& sink);
  Result payment_void(const Command& c, Reply& reply, EffectSink& sink);
  Result payment_refund(const Command& c, Reply& reply, EffectSink& sink);
  Result payment_confirm_external(const Command& c, Reply& reply, EffectSink& sink);
  void payment_reply(const Payment& p, uint64_t now_us, Reply& reply) const;
  // Shared by capture, void and confirm_external (payments.cc). index = none
  // with ok: a repeat of the payment's last operation, already answered.
  Result find_payment_op(const Command& c, Reply& reply, uint32_t* index) const;
  Result move_payment_legs(const Command& c, const Payment& p, const int64_t take[3],
                           EffectSink& sink);
  void finish_payment_op(const Command& c, Payment& p, Reply& reply);
  void refund_reply(const Refund& r, Reply& reply) const;
  void payment_settled(const PendingTransfer& p);
  Result method_set(const Command& c);  // recharges.cc
  Result recharge_create(const Command& c, Reply& reply);
  Result recharge_confirm(const Command& c, Reply& reply, EffectSink& sink);
  void recharge_reply(const Recharge& r, uint64_t now_us, Reply& reply) const;
  const Method* find_method(uint32_t method_id) const;
  Result batch_create(const Command& c, Reply& reply);  // vouchers.cc
  Result batch_add_codes(const Command& c, Reply& reply);
  Result batch_void(const Command& c, Reply& reply);
  Result voucher_redeem(const Command& c, Reply& reply, EffectSink& sink);
  uint32_t guard_failures(uint64_t merchant_id, uint64_t id, uint32_t window) const;
  void guard_fail(uint64_t merchant_id, uint64_t id, uint32_t window);
  void batch_reply(const Batch& b, uint64_t now_us, Reply& reply) const;
  void voucher_reply(const Voucher& v, uint64_t now_us, Reply& reply) const;
  Result voucher_read(const Command& c, Reply& reply) const;
  int64_t max_withdrawable(const Member& m) const;  // withdrawals.cc
  Result withdrawal_create(const Command& c, Reply& reply, EffectSink& sink);
  Result withdrawal_decide(const Command& c, Reply& reply, EffectSink& sink);
  void withdrawal_reply(const Withdrawal& w, Reply& reply) const;
  Result order_complete(const Command& c, Reply& reply, EffectSink& sink);  // orders.cc
  void order_reply(const Order& o, Reply& reply) const;
  void order_settled(const PendingTransfer& p);
  Result store_set(const Command& c);  // merchants.cc
  Result api_key_set(const Command& c);
  Result nearby(const Command& c, Reply& reply) const;
  // A3: room for the row a settlement of (merchant, store) at time_us needs.
  bool settlement_room(uint64_t merchant_id, uint64_t store_id, uint64_t time_us) const;
  static uint32_t settlement_recent_slot(uint64_t merchant_id, uint64_t store_id);
  uint32_t find_settlement(uint64_t merchant_id, uint64_t store_id, uint64_t day,
                           Id128* free_key) const;
  [[gnu::noinline]] uint32_t find_settlement_by_key(uint64_t merchant_id, uint64_t store_id,
                                                    uint64_t day, Id128* free_key) const;
  enum class Settle { payment, refund, voucher };
  void settle(Settle what, uint64_t merchant_id, uint64_t store_id, uint64_t time_us,
              int64_t amount);
  // O2: shrinks an order's open grants to what the refunded share leaves.
  Result shrink_order_grants(const Command& c, const Order& o, int64_t refunded, int64_t captured,
                             int64_t keep[2], EffectSink& sink);
};

template <class T>
Result Domain::check_record_id(const IdTable<T>& table, const Command& c, uint32_t* index) const {
  *index = table.find(c.id, engine_.id_key());
  if (*index == none) return Result::ok;
  return table[*index].fingerprint == engine_.fingerprint() ? Result::ok : Result::id_reused;
}

}  // namespace coffer::detail
