#include "core/ledger.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/account_table.h"
#include "core/assert.h"
#include "core/command_id_index.h"
#include "core/crc32c.h"
#include "core/domain.h"
#include "core/engine.h"
#include "core/hash.h"
#include "core/line_index.h"

namespace coffer {

using detail::LineIndex;

namespace {

constexpr uint32_t heap_pos_none = UINT32_MAX;
constexpr uint32_t undo_per_command_max = 4;
// How many commands ahead the batch path prefetches (bucket stage; records at half).
constexpr uint32_t prefetch_distance = 8;
constexpr uint32_t hash_ring_size = 16;  // > prefetch_distance, a power of two
static_assert(hash_ring_size > prefetch_distance && (hash_ring_size & (hash_ring_size - 1)) == 0);

// A remembered command: 32 bytes in the FIFO ring.
struct IdEntry {
  Id128 id;
  uint64_t fingerprint;
  uint16_t result;   // Result
  uint8_t detail;    // a failed domain command's ReplyData::detail (the rule of POINTS_RULE):
                     // replayed with its code
  uint8_t reserved;  // 0 (with detail and result: the u32 result of version-1 images)
  uint32_t unused;   // 0 (builds before the CommandIdIndex kept the index hash here)
  Result result_code() const { return static_cast<Result>(result); }
};
static_assert(sizeof(IdEntry) == 32);

// The index hashes of one command's keys, computed once: the batch path's
// first prefetch stage fills them, and its later stages and the execution of
// the command use them again instead of hashing the same ids three times.
struct KeyHashes {
  uint64_t id_key = 0;   // the command id's key in the indexes by id (LineIndex::key)
  uint64_t pending = 0;  // post/void/shrink/cancel: the key of the pending transfer's id
  uint32_t debit = 0;    // transfer: the accounts
  uint32_t credit = 0;
  // Domain and read commands: the batch path holds a prefetch plan for the
  // later stages beside these hashes (in a ring of its own, so that the other
  // commands do not pay for clearing one).
  bool planned = false;
};

// Timer heap entry, ordered by (due_us, seq).
struct Timer {
  uint64_t due_us;
  uint64_t seq;
  uint32_t index;  // pending pool index
};

enum class UndoKind : uint8_t {
  account,
  account_created,
  pending_created,
  pending_removed,
  pending_changed,
  movement,  // amounts added to two accounts: subtracted again
};

// A movement's undo: what apply_movement() added, instead of two 64-byte
// account snapshots.
struct UndoMovement {
  uint32_t debit_slot;
  uint32_t credit_slot;
  int64_t amount;
  bool pending;  // added to the pending sides (else the posted ones)
};

// Snapshot of one record changed inside a linked chain, restored in reverse order.
struct UndoEntry {
  UndoKind kind;
  uint32_t index;
  union {
    Account account;
    PendingTransfer pending;
    UndoMovement movement;
  };
};

uint32_t account_hash(uint64_t account_id) {
  return detail::AccountTable::hash(account_id);
}

KeyHashes key_hashes(const Command& c) {
  KeyHashes h;
  h.id_key = LineIndex::key(c.id);
  switch (c.kind) {
    case CommandKind::transfer:
      h.debit = account_hash(c.body.transfer.debit_account_id);
      h.credit = account_hash(c.body.transfer.credit_account_id);
      break;
    case CommandKind::post_pending:
    case CommandKind::void_pending:
    case CommandKind::shrink_grant:
    case CommandKind::cancel_grant:
      h.pending = LineIndex::key(c.body.pending.pending_id);
      break;
    default:
      break;
  }
  return h;
}

// Whether adding `amount` to one side (posted + pending) stays within the cap.
bool side_fits(int64_t posted, int64_t pending, int64_t amount) {
  return posted + pending <= account_total_max - amount;
}

}  // namespace

bool account_kind_valid(AccountKind k) {
  switch (k) {
    case AccountKind::member_wallet:
    case AccountKind::member_points:
    case AccountKind::channel_clearing:
    case AccountKind::merchant_settlement:
    case AccountKind::points_issuance:
    case AccountKind::voucher_liability:
    case AccountKind::payout_clearing:
    case AccountKind::cashback_expense:
    case AccountKind::rebate_expense:
    case AccountKind::adjustment:
    case AccountKind::points_funding:
      return true;
    case AccountKind::none:
      return false;
  }
  return false;
}

struct Ledger::State {
  LedgerConfig config;

  // Accounts, in a table keyed by id (slot = position, stable).
  detail::AccountTable accounts;

  // Open holds and grants: a pool with a free list, indexed by id, timed by a heap.
  detail::TableArray<PendingTransfer> pending;
  detail::TableArray<uint32_t> pending_free;  // stack of free pool indices
  uint32_t pending_free_count = 0;
  uint32_t pending_count = 0;
  detail::LineIndex pending_index;
  detail::TableArray<Timer> heap;
  uint32_t heap_size = 0;

  // Remembered command ids: a FIFO ring, indexed by id (ring position =
  // ids_head + serial - first live serial).
  detail::TableArray<IdEntry> ids;
  uint32_t ids_head = 0;
  uint32_t ids_count = 0;
  detail::CommandIdIndex id_index;

  // Linked chain in progress.
  bool chain_active = false;
  std::unique_ptr<UndoEntry[]> undo;
  uint32_t undo_count = 0;
  struct ChainMember {
    uint64_t fingerprint;
    bool record;  // insert into the id table when the chain ends
  };
  ChainMember chain[linked_chain_length_max];

  uint64_t last_seq = 0;
  uint64_t last_time_us = 0;
  bool started = false;

  // Domain records (SPEC.md) on top of the engine.
  std::unique_ptr<detail::Domain> domain;

  // Empty state with the given capacities (the constructor, and a failed image load).
  void init(const LedgerConfig& c) {
    config = c;
    accounts.init(c.accounts_capacity);
    pending.reset(c.pending_capacity);
    pending_free.reset(c.pending_capacity);
    // Free list handed out from index 0 upwards.
    for (uint32_t i = 0; i < c.pending_capacity; i++) {
      pending_free[i] = c.pending_capacity - 1 - i;
    }
    pending_free_count = c.pending_capacity;
    pending_count = 0;
    pending_index.init(c.pending_capacity);
    heap.reset(c.pending_capacity);
    heap_size = 0;
    ids.reset(c.idempotency_capacity);
    ids_head = 0;
    ids_count = 0;
    id_index.init(c.idempotency_capacity);
    undo.reset(new UndoEntry[linked_chain_length_max * undo_per_command_max]);
    undo_count = 0;
    chain_active = false;
    last_seq = 0;
    last_time_us = 0;
    started = false;
    domain = std::make_unique<detail::Domain>(detail::Engine(*this), c);
  }

  // ---- accounts ----
  uint32_t find_account(uint64_t id) const { return find_account(id, account_hash(id)); }
  uint32_t find_account(uint64_t id, uint32_t hash) const { return accounts.find(id, hash); }

  // The next undo entry (only while chain_active: a linked chain or a domain
  // command records what it changes).
  UndoEntry& push_undo(UndoKind kind, uint32_t index) {
    COFFER_ASSERT(undo_count < linked_chain_length_max * undo_per_command_max);
    UndoEntry& u = undo[undo_count++];
    u.kind = kind;
    u.index = index;
    return u;
  }
  void save_account(uint32_t slot) {
    if (chain_active) push_undo(UndoKind::account, slot).account = accounts[slot];
  }

  // ---- pending ----
  uint32_t find_pending(const Id128& id) const { return find_pending(id, LineIndex::key(id)); }
  uint32_t find_pending(const Id128& id, uint64_t key) const {
    return pending_index.find_value(key, [&](uint32_t i) { return pending[i].id == id; });
  }

  // (due_us, seq, id): a total order, so that what one tick settles does not
  // depend on the heap's layout (one domain command may open several holds).
  bool timer_before(const Timer& a, const Timer& b) const {
    if (a.due_us != b.due_us) return a.due_us < b.due_us;
    if (a.seq != b.seq) return a.seq < b.seq;
    return pending[a.index].id < pending[b.index].id;
  }

  void heap_set(uint32_t pos, const Timer& t) {
    heap[pos] = t;
    pending[t.index].heap_pos = pos;
  }
  void heap_up(uint32_t pos) {
    Timer t = heap[pos];
    while (pos > 0) {
      uint32_t parent = (pos - 1) / 2;
      if (!timer_before(t, heap[parent])) break;
      heap_set(pos, heap[parent]);
      pos = parent;
    }
    heap_set(pos, t);
  }
  void heap_down(uint32_t pos) {
    Timer t = heap[pos];
    for (;;) {
      uint32_t child = pos * 2 + 1;
      if (child >= heap_size) break;
      if (child + 1 < heap_size && timer_before(heap[child + 1], heap[child])) child++;
      if (!timer_before(heap[child], t)) break;
      heap_set(pos, heap[child]);
      pos = child;
    }
    heap_set(pos, t);
  }
  void heap_push(uint32_t index) {
    const PendingTransfer& p = pending[index];
    heap[heap_size] = Timer{p.due_us, p.seq, index};
    heap_up(heap_size++);
  }
  void heap_remove(uint32_t pos) {
    COFFER_ASSERT(pos < heap_size);
    pending[heap[pos].index].heap_pos = heap_pos_none;
    heap_size--;
    if (pos == heap_size) return;
    const uint32_t moved = heap[heap_size].index;
    heap_set(pos, heap[heap_size]);
    heap_up(pos);
    heap_down(pending[moved].heap_pos);
  }

  // Links a record into the pool at `index` (already taken from the free list).
  void pending_link(uint32_t index) {
    PendingTransfer& p = pending[index];
    p.heap_pos = heap_pos_none;
    pending_index.insert(LineIndex::key(p.id), index);
    if (p.due_us != 0) heap_push(index);
    pending_count++;
  }
  void pending_unlink(uint32_t index) {
    PendingTransfer& p = pending[index];
    if (p.heap_pos != heap_pos_none) heap_remove(p.heap_pos);
    pending_index.erase(LineIndex::key(p.id), index);
    pending_count--;
  }

  void pending_create(const PendingTransfer& record) {
    COFFER_ASSERT(pending_free_count > 0);
    uint32_t index = pending_free[--pending_free_count];
    pending[index] = record;
    pending_link(index);
    if (chain_active) push_undo(UndoKind::pending_created, index);
  }
  void pending_remove(uint32_t index) {
    if (chain_active) push_undo(UndoKind::pending_removed, index).pending = pending[index];
    pending_unlink(index);
    pending[index] = PendingTransfer{};
    pending_free[pending_free_count++] = index;
  }
  void save_pending(uint32_t index) {
    // A change of amount only (shrink): restore the record in place.
    if (chain_active) push_undo(UndoKind::pending_changed, index).pending = pending[index];
  }

  void rollback() {
    while (undo_count > 0) {
      UndoEntry& u = undo[--undo_count];
      switch (u.kind) {
        case UndoKind::account:
          accounts[u.index] = u.account;
          break;
        case UndoKind::account_created:
          accounts.erase_newest(u.index);
          break;
        case UndoKind::pending_created:
          pending_unlink(u.index);
          pending[u.index] = PendingTransfer{};
          pending_free[pending_free_count++] = u.index;
          break;
        case UndoKind::pending_removed: {
          COFFER_ASSERT(pending_free_count > 0 && pending_free[pending_free_count - 1] == u.index);
          pending_free_count--;
          pending[u.index] = u.pending;
          pending_link(u.index);
          break;
        }
        case UndoKind::pending_changed: {  // amount changed in place; heap untouched
          uint32_t heap_pos = pending[u.index].heap_pos;
          pending[u.index] = u.pending;
          pending[u.index].heap_pos = heap_pos;
          break;
        }
        case UndoKind::movement: {
          const UndoMovement& m = u.movement;
          Account& d = accounts[m.debit_slot];
          Account& cr = accounts[m.credit_slot];
          (m.pending ? d.debits_pending : d.debits_posted) -= m.amount;
          (m.pending ? cr.credits_pending : cr.credits_posted) -= m.amount;
          break;
        }
      }
    }
  }

  // ---- remembered ids ----
  const IdEntry* find_id(const Id128& id) const { return find_id(id, LineIndex::key(id)); }
  const IdEntry* find_id(const Id128& id, uint64_t key) const {
    const IdEntry* found = nullptr;
    id_index.find(key, ids_count, [&](uint32_t serial) {
      const uint32_t first = id_index.next_serial() - ids_count;
      uint64_t pos = uint64_t{ids_head} + (serial - first);
      if (pos >= config.idempotency_capacity) pos -= config.idempotency_capacity;
      if (ids[pos].id != id) return false;
      found = &ids[pos];
      return true;
    });
    return found;
  }
  void record_id(const Id128& id, uint64_t fingerprint, Result result, uint8_t detail = 0) {
    record_id(id, fingerprint, result, detail, LineIndex::key(id));
  }
  void record_id(const Id128& id, uint64_t fingerprint, Result result, uint8_t detail,
                 uint64_t key) {
    const uint32_t capacity = config.idempotency_capacity;
    if (ids_count == capacity) {  // forget the oldest: its index slot stops being live
      ids_head = ids_head + 1 == capacity ? 0 : ids_head + 1;
      ids_count--;
    }
    uint32_t pos = ids_head + ids_count;
    if (pos >= capacity) pos -= capacity;
    ids[pos] = IdEntry{id, fingerprint, static_cast<uint16_t>(result), detail, 0, 0};
    id_index.insert(key, ids_count);
    ids_count++;
  }

  // ---- effects ----
  static Effect& push(EffectSink& sink) {
    COFFER_ASSERT(sink.size_ < sink.capacity_);
    return sink.data_[sink.size_++];
  }
  // A movement between two accounts (their new balances already applied): its
  // transfer record and both accounts' absolute states, reserved together.
  void emit_movement(EffectSink& sink, EffectKind kind, uint64_t seq, uint64_t time_us,
                     uint16_t code, const Id128& id, uint32_t debit_slot, uint32_t credit_slot,
                     int64_t amount) {
    static_assert(effects_per_transfer_max == 3);
    COFFER_ASSERT(sink.room() >= effects_per_transfer_max);
    Effect* e = sink.data_ + sink.size_;
    sink.size_ += effects_per_transfer_max;
    const Account& d = accounts[debit_slot];
    const Account& cr = accounts[credit_slot];
    e[0].seq = seq;
    e[0].time_us = time_us;
    e[0].kind = kind;
    e[0].code = code;
    e[0].asset = d.asset;
    e[0].transfer = EffectTransfer{id, d.id, cr.id, amount};
    write_balance(e[1], seq, time_us, code, d);
    write_balance(e[2], seq, time_us, code, cr);
  }
  static void write_balance(Effect& e, uint64_t seq, uint64_t time_us, uint16_t code,
                            const Account& a) {
    e.seq = seq;
    e.time_us = time_us;
    e.kind = EffectKind::balance_changed;
    e.code = code;
    e.asset = a.asset;
    e.balance =
        EffectBalance{a.id, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending};
  }
  void emit_account(EffectSink& sink, EffectKind kind, const Command& c, uint32_t slot) {
    const Account& a = accounts[slot];
    Effect& e = push(sink);
    e = Effect{};
    e.seq = c.seq;
    e.time_us = c.time_us;
    e.kind = kind;
    e.asset = a.asset;
    e.account.account_id = a.id;
    e.account.user_data = a.user_data;
    e.account.kind = a.kind;
    e.account.flags = a.flags;
  }

  // ---- commands: each validates everything first, then mutates ----
  Result create_account(const Command& c, EffectSink& sink) {
    const CreateAccountBody& b = c.body.create_account;
    if (b.account_id == 0 || b.account_id >= domain_account_id_min || !account_kind_valid(b.kind) ||
        (b.flags & ~account_flags_known)) {
      return Result::invalid_request;
    }
    if (find_account(b.account_id) != slot_none) return Result::account_exists;
    if (accounts.count() == config.accounts_capacity) return Result::capacity_exhausted;
    add_account(c, b.account_id, b.user_data, b.asset, b.kind, b.flags, sink);
    return Result::ok;
  }

  // REQUIRES: valid kind and flags, unknown id, room.
  uint32_t add_account(const Command& c, uint64_t id, uint64_t user_data, Asset asset,
                       AccountKind kind, uint16_t flags, EffectSink& sink) {
    const uint32_t slot = accounts.insert(id, account_hash(id));
    Account& a = accounts[slot];
    a.user_data = user_data;
    a.asset = asset;
    a.kind = kind;
    a.flags = flags;
    if (chain_active) push_undo(UndoKind::account_created, slot);
    emit_account(sink, EffectKind::account_created, c, slot);
    return slot;
  }

  Result transfer(const Command& c, const KeyHashes& h, Reply& reply, EffectSink& sink) {
    const TransferBody& t = c.body.transfer;
    if (t.reserved0 != 0 || t.reserved1 != 0) return Result::invalid_request;
    switch (t.mode) {
      case TransferMode::single_phase:
        if (t.timeout_s != 0 || t.matures_at_us != 0) return Result::invalid_request;
        break;
      case TransferMode::hold:
        if (t.matures_at_us != 0 || t.timeout_s > hold_timeout_s_max) {
          return Result::invalid_request;
        }
        break;
      case TransferMode::grant:
        if (t.timeout_s != 0 || t.matures_at_us == 0) return Result::invalid_request;
        break;
      default:
        return Result::invalid_request;
    }
    if (t.amount < 0) return Result::invalid_request;
    if (t.amount == 0) return Result::amount_zero;
    if (t.debit_account_id == t.credit_account_id) return Result::same_account;
    const uint32_t ds = find_account(t.debit_account_id, h.debit);
    if (ds == slot_none) return Result::debit_account_not_found;
    const uint32_t cs = find_account(t.credit_account_id, h.credit);
    if (cs == slot_none) return Result::credit_account_not_found;
    const Account& d = accounts[ds];
    const Account& cr = accounts[cs];
    if (d.asset != t.asset || cr.asset != t.asset) return Result::asset_mismatch;
    if (const Result r = movement_allowed(d, cr, t.amount, t.mode); r != Result::ok) return r;
    uint64_t due_us = 0;
    if (t.mode == TransferMode::hold) {
      const uint64_t timeout_us = uint64_t{t.timeout_s} * 1000000;
      due_us = t.timeout_s == 0                      ? 0
               : c.time_us > UINT64_MAX - timeout_us ? UINT64_MAX
                                                     : c.time_us + timeout_us;
    } else if (t.mode == TransferMode::grant) {
      due_us = t.matures_at_us;
    }
    apply_movement(c, c.id, ds, cs, t.amount, t.mode, due_us, t.code, pending_owner_engine, sink);
    reply.amount = t.amount;
    return Result::ok;
  }

  // The rules every movement between two accounts obeys, a transfer command's
  // or the domain's: neither account frozen, both sides within the cap, the
  // debit side not below zero where it may not go, room for a pending one.
  // (This and apply_movement are forced inline: out of line, both hot callers
  // ran ~25 instructions more per movement.)
  [[gnu::always_inline]] Result movement_allowed(const Account& d, const Account& cr,
                                                 int64_t amount, TransferMode mode) const {
    if ((d.flags | cr.flags) & account_flag_frozen) return Result::account_frozen;
    if (!side_fits(d.debits_posted, d.debits_pending, amount) ||
        !side_fits(cr.credits_posted, cr.credits_pending, amount)) {
      return Result::overflow;
    }
    if ((d.flags & account_flag_no_negative) && d.available() < amount) {
      return Result::insufficient_funds;
    }
    if (mode != TransferMode::single_phase && pending_count == config.pending_capacity) {
      return Result::capacity_exhausted;
    }
    return Result::ok;
  }

  // Applies an allowed movement: posted now, or opened as a hold or grant
  // (due_us: its expiry or maturity) owned by `owner`; emits its effects.
  [[gnu::always_inline]] void apply_movement(const Command& c, const Id128& id, uint32_t ds,
                                             uint32_t cs, int64_t amount, TransferMode mode,
                                             uint64_t due_us, uint16_t code, uint8_t owner,
                                             EffectSink& sink) {
    if (chain_active) {
      push_undo(UndoKind::movement, ds).movement =
          UndoMovement{ds, cs, amount, mode != TransferMode::single_phase};
    }
    Account& d = accounts[ds];
    Account& cr = accounts[cs];
    EffectKind kind = EffectKind::transfer_posted;
    if (mode == TransferMode::single_phase) {
      d.debits_posted += amount;
      cr.credits_posted += amount;
    } else {
      d.debits_pending += amount;
      cr.credits_pending += amount;
      PendingTransfer p{};
      p.id = id;
      p.debit_slot = ds;
      p.credit_slot = cs;
      p.amount = amount;
      p.seq = c.seq;
      p.code = code;
      p.due_us = due_us;
      p.owner = owner;
      p.fingerprint = current_fingerprint;
      p.kind = mode == TransferMode::hold ? PendingKind::hold : PendingKind::grant;
      kind = mode == TransferMode::hold ? EffectKind::hold_created : EffectKind::grant_created;
      pending_create(p);
    }
    emit_movement(sink, kind, c.seq, c.time_us, code, id, ds, cs, amount);
  }

  Result pending_op(const Command& c, const KeyHashes& h, Reply& reply, EffectSink& sink) {
    const PendingBody& b = c.body.pending;
    const bool on_hold = c.kind == CommandKind::post_pending || c.kind == CommandKind::void_pending;
    if (b.amount < 0) return Result::invalid_request;
    if ((c.kind == CommandKind::void_pending || c.kind == CommandKind::cancel_grant) &&
        b.amount != 0) {
      return Result::invalid_request;
    }
    if (c.kind == CommandKind::shrink_grant && b.amount == 0) return Result::amount_zero;
    const uint32_t index = find_pending(b.pending_id, h.pending);
    if (index == LineIndex::none) return Result::pending_not_found;
    PendingTransfer& p = pending[index];
    // Holds and grants of domain records move only with their record.
    if (p.owner != pending_owner_engine) return Result::pending_not_found;
    if (on_hold && p.kind != PendingKind::hold) return Result::not_a_hold;
    if (!on_hold && p.kind != PendingKind::grant) return Result::not_a_grant;
    const bool due = p.due_us != 0 && c.time_us >= p.due_us;
    if (c.kind == CommandKind::post_pending && due) return Result::hold_expired;
    if (!on_hold && due) return Result::grant_matured;
    if (b.amount > p.amount) return Result::exceeds_pending;
    const uint32_t ds = p.debit_slot;
    const uint32_t cs = p.credit_slot;
    Account& d = accounts[ds];
    Account& cr = accounts[cs];
    if (c.kind == CommandKind::post_pending && ((d.flags | cr.flags) & account_flag_frozen)) {
      return Result::account_frozen;
    }

    const Id128 pid = p.id;
    const uint16_t code = p.code;
    const int64_t held = p.amount;
    save_account(ds);
    save_account(cs);
    EffectKind kind;
    int64_t amount;
    switch (c.kind) {
      case CommandKind::post_pending:
        amount = b.amount == 0 ? held : b.amount;
        d.debits_pending -= held;
        cr.credits_pending -= held;
        d.debits_posted += amount;
        cr.credits_posted += amount;
        pending_remove(index);
        kind = EffectKind::hold_posted;
        reply.amount = amount;
        break;
      case CommandKind::void_pending:
        amount = held;
        d.debits_pending -= held;
        cr.credits_pending -= held;
        pending_remove(index);
        kind = EffectKind::hold_voided;
        break;
      case CommandKind::shrink_grant:
        amount = b.amount;
        d.debits_pending -= amount;
        cr.credits_pending -= amount;
        if (amount == held) {
          pending_remove(index);
          kind = EffectKind::grant_cancelled;
        } else {
          save_pending(index);
          p.amount -= amount;
          kind = EffectKind::grant_shrunk;
        }
        reply.amount = held - amount;
        break;
      default:  // cancel_grant
        amount = held;
        d.debits_pending -= held;
        cr.credits_pending -= held;
        pending_remove(index);
        kind = EffectKind::grant_cancelled;
        break;
    }
    emit_movement(sink, kind, c.seq, c.time_us, code, pid, ds, cs, amount);
    return Result::ok;
  }

  Result set_frozen(const Command& c, EffectSink& sink) {
    const AccountBody& b = c.body.account;
    if (b.frozen > 1) return Result::invalid_request;
    const uint32_t slot = find_account(b.account_id);
    if (slot == slot_none) return Result::not_found;
    save_account(slot);
    Account& a = accounts[slot];
    a.flags = b.frozen ? (a.flags | account_flag_frozen)
                       : static_cast<uint16_t>(a.flags & ~account_flag_frozen);
    emit_account(sink, EffectKind::account_flags, c, slot);
    return Result::ok;
  }

  Result lookup(const Command& c, Reply& reply) const {
    const uint32_t slot = find_account(c.body.account.account_id);
    if (slot == slot_none) return Result::not_found;
    const Account& a = accounts[slot];
    reply.asset = a.asset;
    reply.kind = a.kind;
    reply.account_flags = a.flags;
    reply.debits_posted = a.debits_posted;
    reply.credits_posted = a.credits_posted;
    reply.debits_pending = a.debits_pending;
    reply.credits_pending = a.credits_pending;
    return Result::ok;
  }

  // Settles due holds (expire) and grants (mature) in (due_us, seq) order.
  Result tick(const Command& c, Reply& reply, EffectSink& sink) {
    uint32_t settled = 0;
    uint64_t last_due = 0, last_seq_settled = 0;
    while (heap_size > 0 && heap[0].due_us <= c.time_us) {
      const uint32_t index = heap[0].index;
      PendingTransfer& p = pending[index];
      // Past the limit, only the rest of the last record's legs (same due, seq).
      if (settled >= tick_items_max && (p.due_us != last_due || p.seq != last_seq_settled)) break;
      last_due = p.due_us;
      last_seq_settled = p.seq;
      Account& d = accounts[p.debit_slot];
      Account& cr = accounts[p.credit_slot];
      d.debits_pending -= p.amount;
      cr.credits_pending -= p.amount;
      EffectKind kind = EffectKind::hold_expired;
      if (p.kind == PendingKind::grant) {
        d.debits_posted += p.amount;
        cr.credits_posted += p.amount;
        kind = EffectKind::grant_matured;
      }
      const uint32_t ds = p.debit_slot, cs = p.credit_slot;
      emit_movement(sink, kind, c.seq, c.time_us, p.code, p.id, ds, cs, p.amount);
      const PendingTransfer settled_copy = p;
      pending_remove(index);
      settled++;
      if (settled_copy.owner == pending_owner_domain) domain->on_settled(settled_copy, c, sink);
    }
    reply.amount = settled;
    return Result::ok;
  }

  uint64_t current_fingerprint = 0;
  uint64_t current_id_key = 0;  // the key of that command's id (LineIndex::key)

  Result load_image(ImageReader& in);

  uint64_t state_hash_of() const {
    const State& s = *this;
    // Accounts and pending transfers: a sum of per-record hashes, so the order of
    // slots and pool indices does not matter. Remembered ids: in FIFO order.
    uint64_t account_sum = 0;
    for (uint32_t k = 0; k < s.accounts.count(); k++) {
      const Account a = s.accounts.stored(k);
      account_sum += detail::hash_words(&a, sizeof a, 1);
    }
    uint64_t pendings = 0;
    for (uint32_t i = 0; i < s.config.pending_capacity; i++) {
      const PendingTransfer& p = s.pending[i];
      if (p.kind != PendingKind::hold && p.kind != PendingKind::grant) continue;
      const uint64_t words[9] = {p.id.lo,
                                 p.id.hi,
                                 s.accounts[p.debit_slot].id,
                                 s.accounts[p.credit_slot].id,
                                 static_cast<uint64_t>(p.amount),
                                 p.due_us,
                                 p.seq,
                                 p.fingerprint,
                                 (uint64_t{static_cast<uint8_t>(p.kind)} << 16) | p.code};
      pendings += detail::hash_words(words, sizeof words, 2);
    }
    uint64_t id_chain = detail::hash_u64(s.ids_count);
    for (uint32_t k = 0; k < s.ids_count; k++) {
      const IdEntry& e = s.ids[(s.ids_head + k) % s.config.idempotency_capacity];
      // result | detail << 16: a version-1 entry (detail 0) hashes as before.
      const uint64_t words[4] = {e.id.lo, e.id.hi, e.fingerprint,
                                 e.result | uint64_t{e.detail} << 16};
      id_chain = detail::hash_words(words, sizeof words, id_chain);
    }
    const uint64_t all[6] = {account_sum,        pendings,        id_chain,
                             s.accounts.count(), s.pending_count, s.domain->hash()};
    return detail::hash_words(all, sizeof all, 3);
  }

  // Batch path hints (no effect on results).
  // Computes the command's hashes into `h` (and for a domain or read command
  // the plan of its later stages into `plan`) and prefetches the index buckets.
  void prefetch_buckets(const Command& c, KeyHashes& h, detail::PrefetchPlan& plan) const {
    h = key_hashes(c);
    if (is_domain(c.kind) || is_read(c.kind)) {
      h.planned = true;
      domain->plan_prefetch(c, h.id_key, plan);
    }
    id_index.prefetch(h.id_key);
    // Each prefetch takes a line-fill buffer; skip the ones that cannot pay off.
    // (The FIFO ring itself is read sequentially: the hardware prefetches it.)
    if (pending_count != 0) pending_index.prefetch(h.id_key);
    if (c.kind == CommandKind::transfer) {
      accounts.prefetch(h.debit);
      accounts.prefetch(h.credit);
    } else if (c.kind == CommandKind::post_pending || c.kind == CommandKind::void_pending) {
      pending_index.prefetch(h.pending);
    }
  }
  void prefetch_records(const Command& c, const KeyHashes& h, detail::PrefetchPlan& plan) const {
    if (h.planned && plan.active()) domain->prefetch(plan, 1);
    if (c.kind == CommandKind::post_pending || c.kind == CommandKind::void_pending) {
      const uint32_t i = pending_index.guess(h.pending);
      if (i != LineIndex::none) detail::prefetch(&pending[i]);
    }
  }

  static bool header_valid(const Command& c) {
    return (c.flags & ~command_flags_known) == 0 && c.reserved == 0;
  }
  Result execute(const Command& c, const KeyHashes& h, Reply& reply, EffectSink& sink) {
    if (!header_valid(c)) return Result::invalid_request;
    switch (c.kind) {
      case CommandKind::create_account:
        return create_account(c, sink);
      case CommandKind::transfer:
        return transfer(c, h, reply, sink);
      case CommandKind::post_pending:
      case CommandKind::void_pending:
      case CommandKind::shrink_grant:
      case CommandKind::cancel_grant:
        return pending_op(c, h, reply, sink);
      case CommandKind::set_frozen:
        return set_frozen(c, sink);
      default:
        if (c.kind >= CommandKind::domain_first && c.kind <= CommandKind::domain_last) {
          // Domain commands are atomic on their own and may not be linked.
          if (chain_active || (c.flags & command_flag_linked)) return Result::invalid_request;
          return domain->execute(c, reply, sink);
        }
        return Result::invalid_request;
    }
  }

  void advance_clock(const Command& c) {
    COFFER_ASSERT(!started || c.seq > last_seq);
    COFFER_ASSERT(!started || c.time_us >= last_time_us);
    started = true;
    last_seq = c.seq;
    last_time_us = c.time_us;
  }

  // One command, outside or inside a chain. Sets reply; returns whether the
  // command counts as a success for a linked chain.
  //
  // Lone: the caller knows that `c` is a transfer, or a domain command, with no
  // flags (so not in a chain) — the batch path's common cases. The same code,
  // with the dispatch on kind and the chain bookkeeping compiled out.
  enum class Lone { any, transfer, domain };
  bool apply_one(const Command& c, Reply& reply, EffectSink& sink, uint32_t chain_pos) {
    return apply_one(c, key_hashes(c), reply, sink, chain_pos);
  }
  template <Lone kLone = Lone::any>
  bool apply_one(const Command& c, const KeyHashes& h, Reply& reply, EffectSink& sink,
                 uint32_t chain_pos) {
    if constexpr (kLone == Lone::transfer) {
      COFFER_ASSERT(c.kind == CommandKind::transfer && c.flags == 0);
    } else if constexpr (kLone == Lone::domain) {
      COFFER_ASSERT(is_domain(c.kind) && c.flags == 0);
    }
    const bool in_chain = kLone == Lone::any && chain_active;
    advance_clock(c);
    reply = Reply{};
    ChainMember member{0, false};
    if (kLone == Lone::any &&
        (c.kind == CommandKind::tick || c.kind == CommandKind::lookup_account || is_read(c.kind))) {
      if (chain_active || c.flags != 0 || c.reserved != 0) {
        reply.result = Result::invalid_request;
      } else if (c.kind == CommandKind::tick) {
        reply.result = tick(c, reply, sink);
      } else if (c.kind == CommandKind::lookup_account) {
        reply.result = lookup(c, reply);
      } else {
        reply.result = domain->read(c, reply);
      }
    } else if (c.id.is_zero()) {
      reply.result = Result::invalid_request;
    } else {
      const uint64_t fp = fingerprint_of(c);
      if (const IdEntry* e = find_id(c.id, h.id_key)) {
        reply.result = e->fingerprint == fp ? e->result_code() : Result::id_reused;
        if (e->fingerprint == fp) {
          reply.flags = reply_flag_replayed;
          // A failure answers its remembered detail (POINTS_RULE's rule); the
          // domain may rebuild the whole body from its records.
          if (e->detail != 0) {
            ReplyData d{};
            d.detail = e->detail;
            set_reply_data(reply, d);
          }
          if (kLone == Lone::domain || (kLone == Lone::any && is_domain(c.kind))) {
            domain->replay_reply(c, reply);
          }
        }
      } else if (in_chain && in_chain_before(c.id, chain_pos)) {
        reply.result = Result::id_reused;
      } else if (uint32_t pi = pending_count == 0 ? LineIndex::none : find_pending(c.id, h.id_key);
                 pi != LineIndex::none) {
        // Still open: the original created it, so its result was ok.
        const bool same = pending[pi].fingerprint == fp;
        reply.result = same ? Result::ok : Result::id_reused;
        if (same) reply.flags = reply_flag_replayed;
      } else {
        current_fingerprint = fp;
        current_id_key = h.id_key;
        if constexpr (kLone == Lone::transfer) {
          reply.result = header_valid(c) ? transfer(c, h, reply, sink) : Result::invalid_request;
        } else if constexpr (kLone == Lone::domain) {
          reply.result =
              header_valid(c) ? domain->execute(c, reply, sink) : Result::invalid_request;
        } else {
          reply.result = execute(c, h, reply, sink);
        }
        member = ChainMember{fp, true};
        if (!in_chain) {
          const bool domain_command =
              kLone == Lone::domain || (kLone == Lone::any && is_domain(c.kind));
          const uint8_t detail =
              domain_command && reply.result != Result::ok ? reply_data(reply).detail : 0;
          record_id(c.id, fp, reply.result, detail, h.id_key);
        }
      }
    }
    if (in_chain) chain[chain_pos] = member;
    return reply.result == Result::ok;
  }

  static bool is_read(CommandKind k) {
    return k >= CommandKind::read_first && k <= CommandKind::read_last;
  }
  static bool is_domain(CommandKind k) {
    return k >= CommandKind::domain_first && k < CommandKind::read_first;
  }

  const Command* chain_commands = nullptr;
  bool in_chain_before(const Id128& id, uint32_t pos) const {
    for (uint32_t k = 0; k < pos; k++) {
      if (chain[k].record && chain_commands[k].id == id) return true;
    }
    return false;
  }

  static uint64_t fingerprint_of(const Command& c) {
    // Content only: kind, flags and reserved (first 8 bytes) and the body.
    static_assert(8 + command_body_size == 12 * 8);
    return detail::fingerprint_command(reinterpret_cast<const unsigned char*>(&c),
                                       offsetof(Command, body));
  }

  // A whole chain [first, first + n), n >= 1, terminated (last not linked).
  void apply_chain(const Command* cmds, Reply* replies, uint32_t n, EffectSink& sink) {
    chain_active = true;
    chain_commands = cmds;
    undo_count = 0;
    const size_t effects_mark = sink.size_;
    uint32_t failed = n;
    for (uint32_t k = 0; k < n; k++) {
      if (!apply_one(cmds[k], replies[k], sink, k)) {
        failed = k;
        break;
      }
    }
    if (failed < n) {
      // Members after the failure never run and are not remembered; a replayed
      // one still answers its first result, so that a retried chain gets the
      // same answers as the first time.
      for (uint32_t k = failed + 1; k < n; k++) {
        const Command& c = cmds[k];
        advance_clock(c);
        chain[k] = ChainMember{0, false};
        replies[k] = Reply{};
        replies[k].result = Result::linked_event_failed;
        if (c.kind == CommandKind::tick || c.kind == CommandKind::lookup_account ||
            is_read(c.kind)) {
          continue;
        }
        const IdEntry* e = c.id.is_zero() ? nullptr : find_id(c.id);
        if (e && e->fingerprint == fingerprint_of(c)) {
          replies[k].result = e->result_code();
          replies[k].flags = reply_flag_replayed;
        }
      }
      rollback();
      sink.size_ = effects_mark;
      // Members before the failure: undone; replayed ones keep their first result.
      for (uint32_t k = 0; k < failed; k++) {
        if (replies[k].flags & reply_flag_replayed) continue;
        replies[k] = Reply{};
        replies[k].result = Result::linked_event_failed;
      }
    }
    chain_active = false;
    for (uint32_t k = 0; k < n; k++) {
      if (chain[k].record) record_id(cmds[k].id, chain[k].fingerprint, replies[k].result);
    }
    undo_count = 0;
    chain_commands = nullptr;
  }
};

Ledger::Ledger(const LedgerConfig& config) : s_(std::make_unique<State>()) {
  COFFER_ASSERT(config.accounts_capacity >= 1 && config.accounts_capacity <= accounts_capacity_max);
  COFFER_ASSERT(config.pending_capacity >= 1 && config.pending_capacity <= pending_capacity_max);
  COFFER_ASSERT(config.idempotency_capacity >= 1 &&
                config.idempotency_capacity <= idempotency_capacity_max);
  s_->init(config);
}

Ledger::~Ledger() = default;

uint32_t Ledger::effects_max(const Command& c) {
  switch (c.kind) {
    case CommandKind::tick:
      return effects_per_tick_max;
    case CommandKind::lookup_account:
      return 0;
    case CommandKind::create_account:
    case CommandKind::set_frozen:
      return 1;
    case CommandKind::transfer:
    case CommandKind::post_pending:
    case CommandKind::void_pending:
    case CommandKind::shrink_grant:
    case CommandKind::cancel_grant:
      return effects_per_transfer_max;
    default:
      if (State::is_read(c.kind)) return 0;
      if (State::is_domain(c.kind)) return effects_per_domain_command_max;
      return effects_per_transfer_max;
  }
}

Reply Ledger::apply(const Command& c, EffectSink& sink) {
  COFFER_ASSERT(sink.room() >= effects_max(c));
  Reply reply{};
  if (c.flags & command_flag_linked) {
    s_->advance_clock(c);
    reply.result = Result::linked_chain_open;
    return reply;
  }
  s_->apply_one(c, reply, sink, 0);
  return reply;
}

size_t Ledger::apply(std::span<const Command> commands, std::span<Reply> replies,
                     EffectSink& sink) {
  COFFER_ASSERT(replies.size() >= commands.size());
  State& s = *s_;
  const size_t n = commands.size();
  // Hashes of the commands [i, i + prefetch_distance], by index mod the ring;
  // `hashed` counts the commands hashed (and their buckets prefetched) so far.
  // A linked chain moves i by its length: the commands it skipped over are
  // hashed then.
  KeyHashes hashes[hash_ring_size];
  detail::PrefetchPlan plans[hash_ring_size];  // valid where hashes[k].planned
  size_t hashed = 0;
  // The last command hashed that has later prefetch stages (a transfer has
  // none), +1; 0 = none. While it is <= i + 1, the later stages have nothing to do.
  size_t staged_end = 0;
  size_t i = 0;
  while (i < n) {
    // Overlap the cache misses of later commands with the work on this one:
    // index buckets first, then (once those are likely cached) the records.
    for (const size_t last = std::min(n - 1, i + prefetch_distance); hashed <= last; hashed++) {
      const Command& ahead = commands[hashed];
      s.prefetch_buckets(ahead, hashes[hashed % hash_ring_size], plans[hashed % hash_ring_size]);
      if (ahead.kind != CommandKind::transfer) staged_end = hashed + 1;
    }
    if (staged_end > i + 1) {
      if (i + prefetch_distance / 2 < n) {
        const size_t k = i + prefetch_distance / 2;
        s.prefetch_records(commands[k], hashes[k % hash_ring_size], plans[k % hash_ring_size]);
      }
      if (i + prefetch_distance / 4 < n) {
        const size_t k = (i + prefetch_distance / 4) % hash_ring_size;
        if (hashes[k].planned && plans[k].active()) s.domain->prefetch(plans[k], 2);
      }
      if (i + 1 < n) {
        const size_t k = (i + 1) % hash_ring_size;
        if (hashes[k].planned && plans[k].record != detail::PrefetchRecord::none) {
          s.domain->prefetch(plans[k], 3);
        }
      }
    }
    const Command& c = commands[i];
    if (c.kind == CommandKind::transfer && c.flags == 0) {
      if (sink.room() < effects_per_transfer_max) break;
      s.apply_one<State::Lone::transfer>(c, hashes[i % hash_ring_size], replies[i], sink, 0);
      i++;
      continue;
    }
    if (!(c.flags & command_flag_linked)) {
      if (sink.room() < effects_max(c)) break;
      if (const size_t k = i % hash_ring_size; hashes[k].planned) {
        s.domain->hint_member(plans[k].member);
      }
      if (State::is_domain(c.kind) && c.flags == 0) {
        s.apply_one<State::Lone::domain>(c, hashes[i % hash_ring_size], replies[i], sink, 0);
      } else {
        s.apply_one(c, hashes[i % hash_ring_size], replies[i], sink, 0);
      }
      i++;
      continue;
    }
    // A linked chain: find its end and its worst-case effects.
    size_t end = i;
    uint64_t effects = 0;
    // A tick inside a chain is refused, so it emits nothing there.
    // Ticks, reads and domain commands are refused inside a chain: no effects there.
    auto member_effects = [](const Command& m) {
      return m.kind == CommandKind::tick || State::is_read(m.kind) || State::is_domain(m.kind)
                 ? 0u
                 : effects_max(m);
    };
    while (end < n && (commands[end].flags & command_flag_linked)) {
      effects += member_effects(commands[end++]);
    }
    if (end == n) {  // the batch ends inside the chain
      for (size_t k = i; k < n; k++) {
        s.advance_clock(commands[k]);
        replies[k] = Reply{};
        replies[k].result = k + 1 == n ? Result::linked_chain_open : Result::linked_event_failed;
      }
      i = n;
      break;
    }
    effects += member_effects(commands[end]);
    end++;  // include the terminating command
    if (end - i > linked_chain_length_max) {
      for (size_t k = i; k < end; k++) {
        s.advance_clock(commands[k]);
        replies[k] = Reply{};
        replies[k].result = Result::linked_chain_too_long;
      }
      i = end;
      continue;
    }
    if (sink.room() < effects) break;
    s.apply_chain(&commands[i], &replies[i], static_cast<uint32_t>(end - i), sink);
    i = end;
  }
  return i;
}

uint32_t Ledger::find_account(uint64_t account_id) const {
  return s_->find_account(account_id);
}
const Account& Ledger::account(uint32_t slot) const {
  COFFER_ASSERT(s_->accounts.valid(slot));
  return s_->accounts[slot];
}
uint32_t Ledger::account_count() const {
  return s_->accounts.count();
}
uint32_t Ledger::account_slot_at(uint32_t creation_index) const {
  COFFER_ASSERT(creation_index < s_->accounts.count());
  return s_->accounts.slot_at(creation_index);
}
const PendingTransfer* Ledger::find_pending(Id128 id) const {
  uint32_t i = s_->find_pending(id);
  return i == LineIndex::none ? nullptr : &s_->pending[i];
}
uint32_t Ledger::pending_pool_size() const {
  return s_->config.pending_capacity;
}
const PendingTransfer* Ledger::pending_at(uint32_t index) const {
  COFFER_ASSERT(index < s_->config.pending_capacity);
  const PendingTransfer& p = s_->pending[index];
  return p.kind == PendingKind::hold || p.kind == PendingKind::grant ? &p : nullptr;
}
uint32_t Ledger::pending_count() const {
  return s_->pending_count;
}
uint32_t Ledger::idempotency_count() const {
  return s_->ids_count;
}
uint64_t Ledger::last_seq() const {
  return s_->last_seq;
}
bool Ledger::is_read(CommandKind kind) {
  return kind == CommandKind::lookup_account || State::is_read(kind);
}

Reply Ledger::read(const Command& c, uint64_t now_us) const {
  COFFER_ASSERT(is_read(c.kind));
  Reply reply{};
  if (c.flags != 0 || c.reserved != 0) {
    reply.result = Result::invalid_request;
    return reply;
  }
  Command at = c;
  at.time_us = std::max(now_us, s_->last_time_us);
  reply.result =
      c.kind == CommandKind::lookup_account ? s_->lookup(at, reply) : s_->domain->read(at, reply);
  return reply;
}

uint64_t Ledger::last_time_us() const {
  return s_->last_time_us;
}
uint64_t Ledger::fingerprint(const Command& c) {
  return State::fingerprint_of(c);
}

uint64_t Ledger::state_hash() const {
  return s_->state_hash_of();
}

// ---- Engine: the internal API of the domain -----------------------------------

namespace detail {

uint32_t Engine::find_account(uint64_t id) const {
  return s_.find_account(id);
}
const Account& Engine::account(uint32_t slot) const {
  return s_.accounts[slot];
}
uint32_t Engine::domain_pending_count() const {
  uint32_t n = 0;
  for (uint32_t i = 0; i < s_.config.pending_capacity; i++) {
    const PendingTransfer& p = s_.pending[i];
    n += (p.kind == PendingKind::hold || p.kind == PendingKind::grant) &&
         p.owner == pending_owner_domain;
  }
  return n;
}
uint64_t Engine::fingerprint() const {
  return s_.current_fingerprint;
}
uint64_t Engine::id_key() const {
  return s_.current_id_key;
}
uint32_t Engine::account_count() const {
  return s_.accounts.count();
}
uint32_t Engine::account_slot_at(uint32_t creation_index) const {
  return s_.accounts.slot_at(creation_index);
}
uint32_t Engine::account_creation_index(uint32_t slot) const {
  return s_.accounts.creation_index(slot);
}
uint32_t Engine::account_room() const {
  return s_.config.accounts_capacity - s_.accounts.count();
}
uint32_t Engine::pending_room() const {
  return s_.config.pending_capacity - s_.pending_count;
}
const PendingTransfer* Engine::find_pending(const Id128& id) const {
  const uint32_t i = s_.find_pending(id);
  return i == LineIndex::none ? nullptr : &s_.pending[i];
}

uint32_t Engine::create_account(const Command& c, uint64_t id, uint64_t user_data, Asset asset,
                                AccountKind kind, uint16_t flags, EffectSink& sink) {
  COFFER_ASSERT(s_.accounts.count() < s_.config.accounts_capacity);
  COFFER_ASSERT(s_.find_account(id) == Ledger::slot_none);
  return s_.add_account(c, id, user_data, asset, kind, flags, sink);
}

Result Engine::transfer(const Command& c, const Id128& id, uint32_t ds, uint32_t cs, int64_t amount,
                        TransferMode mode, uint64_t due_us, uint16_t code, EffectSink& sink) {
  COFFER_ASSERT(s_.accounts.valid(ds) && s_.accounts.valid(cs) && ds != cs);
  if (amount <= 0) return Result::invalid_request;
  const Account& d = s_.accounts[ds];
  const Account& cr = s_.accounts[cs];
  if (d.asset != cr.asset) return Result::asset_mismatch;
  if (const Result r = s_.movement_allowed(d, cr, amount, mode); r != Result::ok) return r;
  if (mode != TransferMode::single_phase && s_.find_pending(id) != LineIndex::none) {
    return Result::id_reused;
  }
  s_.apply_movement(c, id, ds, cs, amount, mode, due_us, code, pending_owner_domain, sink);
  return Result::ok;
}

Result Engine::post(const Command& c, const Id128& pending_id, int64_t amount, EffectSink& sink) {
  const uint32_t index = s_.find_pending(pending_id);
  if (index == LineIndex::none) return Result::pending_not_found;
  PendingTransfer& p = s_.pending[index];
  if (p.kind != PendingKind::hold) return Result::not_a_hold;
  if (p.due_us != 0 && c.time_us >= p.due_us) return Result::hold_expired;
  if (amount <= 0 || amount > p.amount) return Result::exceeds_pending;
  const uint32_t ds = p.debit_slot, cs = p.credit_slot;
  Account& d = s_.accounts[ds];
  Account& cr = s_.accounts[cs];
  if ((d.flags | cr.flags) & account_flag_frozen) return Result::account_frozen;
  const int64_t held = p.amount;
  const uint16_t code = p.code;
  s_.save_account(ds);
  s_.save_account(cs);
  d.debits_pending -= held;
  cr.credits_pending -= held;
  d.debits_posted += amount;
  cr.credits_posted += amount;
  s_.pending_remove(index);
  s_.emit_movement(sink, EffectKind::hold_posted, c.seq, c.time_us, code, pending_id, ds, cs,
                   amount);
  return Result::ok;
}

Result Engine::release(const Command& c, const Id128& pending_id, EffectSink& sink) {
  const uint32_t index = s_.find_pending(pending_id);
  if (index == LineIndex::none) return Result::pending_not_found;
  PendingTransfer& p = s_.pending[index];
  const uint32_t ds = p.debit_slot, cs = p.credit_slot;
  const int64_t held = p.amount;
  const uint16_t code = p.code;
  const EffectKind kind =
      p.kind == PendingKind::hold ? EffectKind::hold_voided : EffectKind::grant_cancelled;
  s_.save_account(ds);
  s_.save_account(cs);
  s_.accounts[ds].debits_pending -= held;
  s_.accounts[cs].credits_pending -= held;
  s_.pending_remove(index);
  s_.emit_movement(sink, kind, c.seq, c.time_us, code, pending_id, ds, cs, held);
  return Result::ok;
}

Result Engine::shrink(const Command& c, const Id128& pending_id, int64_t amount, EffectSink& sink) {
  const uint32_t index = s_.find_pending(pending_id);
  if (index == LineIndex::none) return Result::pending_not_found;
  PendingTransfer& p = s_.pending[index];
  if (p.kind != PendingKind::grant) return Result::not_a_grant;
  if (amount <= 0 || amount > p.amount) return Result::exceeds_pending;
  if (amount == p.amount) return release(c, pending_id, sink);
  const uint32_t ds = p.debit_slot, cs = p.credit_slot;
  s_.save_account(ds);
  s_.save_account(cs);
  s_.save_pending(index);
  s_.accounts[ds].debits_pending -= amount;
  s_.accounts[cs].credits_pending -= amount;
  p.amount -= amount;
  s_.emit_movement(sink, EffectKind::grant_shrunk, c.seq, c.time_us, p.code, pending_id, ds, cs,
                   amount);
  return Result::ok;
}

void Engine::begin(EffectSink& sink) {
  COFFER_ASSERT(!s_.chain_active);
  s_.chain_active = true;  // record undo entries
  s_.undo_count = 0;
  effects_mark_ = sink.size_;
}
void Engine::commit() {
  COFFER_ASSERT(s_.chain_active);
  s_.chain_active = false;
  s_.undo_count = 0;
}
void Engine::abort(EffectSink& sink) {
  COFFER_ASSERT(s_.chain_active);
  s_.rollback();
  sink.size_ = effects_mark_;
  s_.chain_active = false;
}

}  // namespace detail

// ---- State image ------------------------------------------------------------

namespace {

struct ImageHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t started;
  uint32_t accounts_capacity;
  uint32_t pending_capacity;
  uint32_t idempotency_capacity;
  uint32_t account_count;
  uint32_t pending_count;
  uint32_t ids_count;
  uint64_t last_seq;
  uint64_t last_time_us;
};
static_assert(sizeof(ImageHeader) == 56);

struct ImageTrailer {
  uint64_t state_hash;
  uint32_t crc_masked;  // over every byte before this field
  uint32_t reserved;
};

// Forwards to the caller's writer and keeps a CRC of everything written.
class CrcWriter final : public ImageWriter {
 public:
  explicit CrcWriter(ImageWriter& out) : out_(out) {}
  void write(const void* data, size_t size) override {
    crc_ = crc32c_extend(crc_, data, size);
    out_.write(data, size);
  }
  uint32_t crc() const { return crc_; }

 private:
  ImageWriter& out_;
  uint32_t crc_ = 0;
};

class CrcReader final : public ImageReader {
 public:
  explicit CrcReader(ImageReader& in) : in_(in) {}
  bool read(void* data, size_t size) override {
    if (!in_.read(data, size)) return false;
    crc_ = crc32c_extend(crc_, data, size);
    return true;
  }
  uint32_t crc() const { return crc_; }

 private:
  ImageReader& in_;
  uint32_t crc_ = 0;
};

}  // namespace

void Ledger::write_image(ImageWriter& out) const {
  const State& s = *s_;
  COFFER_ASSERT(!s.chain_active);
  CrcWriter w(out);
  ImageHeader h{};
  h.magic = image_magic;
  h.version = image_version;
  h.started = s.started ? 1 : 0;
  h.accounts_capacity = s.config.accounts_capacity;
  h.pending_capacity = s.config.pending_capacity;
  h.idempotency_capacity = s.config.idempotency_capacity;
  h.account_count = s.accounts.count();
  h.pending_count = s.pending_count;
  h.ids_count = s.ids_count;
  h.last_seq = s.last_seq;
  h.last_time_us = s.last_time_us;
  w.write(&h, sizeof h);
  // Accounts in creation order; slots are written as creation indices, which
  // do not depend on the table's size.
  for (uint32_t k = 0; k < s.accounts.count(); k++) {
    const Account a = s.accounts.stored(k);
    w.write(&a, sizeof a);
  }
  for (uint32_t i = 0; i < s.config.pending_capacity; i++) {
    PendingTransfer p = s.pending[i];
    if (p.kind != PendingKind::hold && p.kind != PendingKind::grant) continue;
    p.heap_pos = 0;  // rebuilt on load
    p.debit_slot = s.accounts.creation_index(p.debit_slot);
    p.credit_slot = s.accounts.creation_index(p.credit_slot);
    w.write(&i, sizeof i);
    w.write(&p, sizeof p);
  }
  for (uint32_t k = 0; k < s.ids_count; k++) {
    IdEntry e = s.ids[(s.ids_head + k) % s.config.idempotency_capacity];
    w.write(&e, sizeof e);
  }
  s.domain->write_image(w);
  ImageTrailer t{};
  t.state_hash = state_hash();
  w.write(&t.state_hash, sizeof t.state_hash);
  t.crc_masked = crc32c_mask(w.crc());
  out.write(&t.crc_masked, sizeof t.crc_masked + sizeof t.reserved);
}

Result Ledger::read_image(ImageReader& in) {
  State& s = *s_;
  if (s.started || s.accounts.count() != 0 || s.pending_count != 0 || s.ids_count != 0) {
    return Result::invalid_request;  // only into a freshly constructed ledger
  }
  const Result r = s.load_image(in);
  if (r != Result::ok) s.init(s.config);  // leave it fresh, never half-loaded
  return r;
}

Result Ledger::State::load_image(ImageReader& in) {
  CrcReader rd(in);
  ImageHeader h{};
  if (!rd.read(&h, sizeof h)) return Result::invalid_request;
  if (h.magic != image_magic || h.version != image_version || h.started > 1) {
    return Result::invalid_request;
  }
  if (h.account_count > config.accounts_capacity || h.pending_count > config.pending_capacity ||
      h.ids_count > config.idempotency_capacity) {
    return Result::invalid_request;
  }
  if (h.started == 0 && (h.last_seq != 0 || h.last_time_us != 0)) return Result::invalid_request;

  for (uint32_t k = 0; k < h.account_count; k++) {
    Account a;
    if (!rd.read(&a, sizeof a)) return Result::invalid_request;
    if (a.id == 0 || !account_kind_valid(a.kind) || (a.flags & ~account_flags_known)) {
      return Result::invalid_request;
    }
    if (a.debits_posted < 0 || a.credits_posted < 0 || a.debits_pending < 0 ||
        a.credits_pending < 0 || a.debits_posted > account_total_max - a.debits_pending ||
        a.credits_posted > account_total_max - a.credits_pending) {
      return Result::invalid_request;
    }
    if ((a.flags & account_flag_no_negative) && a.available() < 0) return Result::invalid_request;
    if (a.creation_index != 0 || find_account(a.id) != slot_none) return Result::invalid_request;
    const uint32_t slot = accounts.insert(a.id, account_hash(a.id));
    a.creation_index = k;
    accounts[slot] = a;
  }

  // Pending totals per account must equal the open transfers behind them.
  std::vector<int64_t> debits(h.account_count, 0), credits(h.account_count, 0);
  std::vector<bool> used(config.pending_capacity, false);
  uint32_t last_index = 0;
  for (uint32_t k = 0; k < h.pending_count; k++) {
    uint32_t index;
    PendingTransfer p;
    if (!rd.read(&index, sizeof index) || !rd.read(&p, sizeof p)) return Result::invalid_request;
    // Ascending, as written: one image per state (the free list follows from it).
    if (index >= config.pending_capacity || (k > 0 && index <= last_index)) {
      return Result::invalid_request;
    }
    last_index = index;
    if ((p.kind != PendingKind::hold && p.kind != PendingKind::grant) ||
        p.owner > pending_owner_domain || p.id.is_zero() || p.amount <= 0 ||
        p.debit_slot >= h.account_count || p.credit_slot >= h.account_count ||
        p.debit_slot == p.credit_slot || (p.kind == PendingKind::grant && p.due_us == 0) ||
        p.heap_pos != 0) {  // derived, written as 0: rebuilt below
      return Result::invalid_request;
    }
    if (find_pending(p.id) != LineIndex::none) return Result::invalid_request;
    if (debits[p.debit_slot] > account_total_max - p.amount ||
        credits[p.credit_slot] > account_total_max - p.amount) {
      return Result::invalid_request;
    }
    debits[p.debit_slot] += p.amount;
    credits[p.credit_slot] += p.amount;
    p.debit_slot = accounts.slot_at(p.debit_slot);  // written as creation indices
    p.credit_slot = accounts.slot_at(p.credit_slot);
    used[index] = true;
    pending[index] = p;
    pending_link(index);
  }
  for (uint32_t k = 0; k < h.account_count; k++) {
    const Account& a = accounts[accounts.slot_at(k)];
    if (a.debits_pending != debits[k] || a.credits_pending != credits[k]) {
      return Result::invalid_request;
    }
  }
  // Free list: the unused indices, lowest handed out first.
  pending_free_count = 0;
  for (uint32_t i = config.pending_capacity; i-- > 0;) {
    if (!used[i]) pending_free[pending_free_count++] = i;
  }

  for (uint32_t k = 0; k < h.ids_count; k++) {
    IdEntry e;
    if (!rd.read(&e, sizeof e)) return Result::invalid_request;
    if (e.id.is_zero() || e.unused != 0 || e.reserved != 0 || find_id(e.id) != nullptr ||
        !result_known(e.result_code()) || (e.detail != 0 && e.result_code() == Result::ok)) {
      return Result::invalid_request;
    }
    record_id(e.id, e.fingerprint, e.result_code(), e.detail);
  }

  started = h.started != 0;
  last_seq = h.last_seq;
  last_time_us = h.last_time_us;
  if (!domain->read_image(rd)) return Result::invalid_request;

  uint64_t stored_hash;
  if (!rd.read(&stored_hash, sizeof stored_hash)) return Result::invalid_request;
  const uint32_t crc = rd.crc();
  uint32_t tail[2];
  if (!in.read(tail, sizeof tail)) return Result::invalid_request;
  if (crc32c_unmask(tail[0]) != crc || tail[1] != 0) return Result::invalid_request;
  uint8_t extra;
  if (in.read(&extra, 1)) return Result::invalid_request;  // trailing bytes
  if (state_hash_of() != stored_hash) return Result::invalid_request;
  return Result::ok;
}

}  // namespace coffer
