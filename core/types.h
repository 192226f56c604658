// Ids, accounts, commands, effects and replies of the core. Every record here is
// fixed-size and trivially copyable with an explicit layout, so that batches can be
// journaled and replayed as bytes. Enum values are stored: DO NOT RENUMBER.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/constants.h"
#include "core/result.h"

namespace coffer {

// Opaque 128-bit command id (the edges derive it from the caller's string id).
// Trivial (no member initialisers) so that records holding it stay trivial;
// value-initialise (`Id128{}`) for zero.
struct Id128 {
  uint64_t lo;
  uint64_t hi;
  friend bool operator==(const Id128&, const Id128&) = default;
  friend auto operator<=>(const Id128&, const Id128&) = default;
  bool is_zero() const { return lo == 0 && hi == 0; }
};

// Asset of an account. 0 = the deployment's base currency, 1 = points; more may follow.
using Asset = uint32_t;
inline constexpr Asset asset_wallet = 0;
inline constexpr Asset asset_points = 1;

enum class AccountKind : uint16_t {
  none = 0,
  member_wallet = 1,
  member_points = 2,
  // System accounts (DESIGN.md, "The core").
  channel_clearing = 16,
  merchant_settlement = 17,
  points_issuance = 18,
  voucher_liability = 19,
  payout_clearing = 20,
  cashback_expense = 21,
  rebate_expense = 22,
  adjustment = 23,
};
bool account_kind_valid(AccountKind k);

// Account flags.
inline constexpr uint16_t account_flag_no_negative = 1u << 0;  // debits may not exceed credits
inline constexpr uint16_t account_flag_frozen = 1u << 1;       // no transfers in or out
inline constexpr uint16_t account_flags_known = account_flag_no_negative | account_flag_frozen;

// One account: 64 bytes, one cache line. Amounts in minor units (or points).
struct alignas(64) Account {
  uint64_t id;
  int64_t debits_posted;
  int64_t credits_posted;
  int64_t debits_pending;   // open holds (and grants paid from this account)
  int64_t credits_pending;  // grants maturing into this account (and holds paying it)
  uint64_t user_data;
  Asset asset;
  AccountKind kind;
  uint16_t flags;
  uint64_t reserved;

  int64_t balance() const { return credits_posted - debits_posted; }
  int64_t held() const { return debits_pending; }
  int64_t available() const { return balance() - debits_pending; }
  int64_t maturing() const { return credits_pending; }
};
static_assert(sizeof(Account) == account_record_size);
static_assert(std::is_trivially_copyable_v<Account>);

enum class PendingKind : uint8_t {
  hold = 1,   // debit reserved now; posted or voided later, voided at its timeout
  grant = 2,  // credit promised now; posts itself at matures_at unless shrunk/cancelled
};

// An open hold or maturing grant: 64 bytes.
struct alignas(64) PendingTransfer {
  Id128 id;  // id of the command that created it
  uint32_t debit_slot;
  uint32_t credit_slot;
  int64_t amount;
  uint64_t due_us;       // hold: expires at (0 = never); grant: matures at
  uint64_t seq;          // creating command's sequence number (orders equal due times)
  uint64_t fingerprint;  // creating command's content hash: recognises replays
  PendingKind kind;
  uint8_t reserved;
  uint16_t code;
  uint32_t heap_pos;  // position in the timer heap (internal)
};
static_assert(sizeof(PendingTransfer) == pending_record_size);
static_assert(std::is_trivially_copyable_v<PendingTransfer>);

// ---- Commands ---------------------------------------------------------------

// Kinds 1..31 are engine commands; 32..127 are reserved for the domain commands
// of SPEC.md (payments, recharges, vouchers, ...).
enum class CommandKind : uint16_t {
  none = 0,
  create_account = 1,
  transfer = 2,        // single-phase, pending hold or maturing grant (TransferMode)
  post_pending = 3,    // post a hold, fully or partly; the rest is released
  void_pending = 4,    // release a hold
  shrink_grant = 5,    // reduce a maturing grant by an amount
  cancel_grant = 6,    // drop a maturing grant
  set_frozen = 7,      // freeze / unfreeze an account
  tick = 8,            // settle holds and grants due at or before time_us
  lookup_account = 9,  // read; not recorded for idempotency
  engine_last = 31,
  domain_first = 32,
  domain_last = 127,
};

// Command flags.
inline constexpr uint16_t command_flag_linked = 1u
                                                << 0;  // this and the next succeed or fail together
inline constexpr uint16_t command_flags_known = command_flag_linked;

enum class TransferMode : uint8_t {
  single_phase = 0,
  hold = 1,   // pending debit with timeout_s
  grant = 2,  // pending credit maturing at matures_at_us
};

struct CreateAccountBody {
  uint64_t account_id;  // non-zero
  uint64_t user_data;
  Asset asset;
  AccountKind kind;
  uint16_t flags;  // account_flag_*
};

struct TransferBody {
  uint64_t debit_account_id;
  uint64_t credit_account_id;
  int64_t amount;          // > 0
  uint64_t matures_at_us;  // grant only
  uint64_t user_data;
  uint32_t timeout_s;  // hold only; 0 = never expires
  Asset asset;         // must equal both accounts' asset
  TransferMode mode;
  uint8_t reserved0;
  uint16_t code;  // kind of movement, for history (recharge, payment, ...)
  uint32_t reserved1;
};

// post_pending (amount 0 = the full amount), void_pending (amount 0),
// shrink_grant (amount = reduction, > 0), cancel_grant (amount 0).
struct PendingBody {
  Id128 pending_id;
  int64_t amount;
};

struct AccountBody {  // set_frozen, lookup_account
  uint64_t account_id;
  uint8_t frozen;  // set_frozen: 1 = freeze, 0 = unfreeze
};

union CommandBody {
  CreateAccountBody create_account;
  TransferBody transfer;
  PendingBody pending;
  AccountBody account;
  unsigned char raw[command_body_size];
};
static_assert(sizeof(CommandBody) == command_body_size);

// 128 bytes. Build with value-initialisation (`Command c{}`) so that padding and
// unused body bytes are zero: the idempotency fingerprint covers the whole body.
struct alignas(8) Command {
  CommandKind kind;
  uint16_t flags;
  uint32_t reserved;
  Id128 id;
  uint64_t seq;      // stamped by the sequencer, strictly increasing
  uint64_t time_us;  // stamped by the sequencer, non-decreasing
  CommandBody body;
};
static_assert(sizeof(Command) == command_size);
static_assert(offsetof(Command, body) == command_header_size);
static_assert(std::is_trivially_copyable_v<Command>);

// ---- Effects ----------------------------------------------------------------

enum class EffectKind : uint16_t {
  none = 0,
  account_created = 1,  // .account
  account_flags = 2,    // .account (flags changed)
  balance_changed = 3,  // .balance: the account's full state after the change
  transfer_posted = 4,  // .transfer: single-phase transfer
  hold_created = 5,
  hold_posted = 6,  // amount = posted part; the rest is released
  hold_voided = 7,
  hold_expired = 8,
  grant_created = 9,
  grant_matured = 10,
  grant_shrunk = 11,     // amount = reduction
  grant_cancelled = 12,  // amount = amount dropped
};

struct EffectTransfer {
  Id128 transfer_id;  // the creating command's id (for holds and grants: the pending id)
  uint64_t debit_account_id;
  uint64_t credit_account_id;
  int64_t amount;
};
struct EffectBalance {
  uint64_t account_id;
  int64_t debits_posted;
  int64_t credits_posted;
  int64_t debits_pending;
  int64_t credits_pending;
};
struct EffectAccount {
  uint64_t account_id;
  uint64_t user_data;
  AccountKind kind;
  uint16_t flags;
  uint32_t reserved0;
  uint64_t reserved1[2];
};

// 64 bytes. Enough for the storage follower to rebuild balances and history
// without running core: every balance change carries the account's absolute state.
struct alignas(8) Effect {
  uint64_t seq;
  uint64_t time_us;
  EffectKind kind;
  uint16_t code;  // the transfer's code
  Asset asset;
  union {
    EffectTransfer transfer;
    EffectBalance balance;
    EffectAccount account;
  };
};
static_assert(sizeof(Effect) == effect_size);
static_assert(std::is_trivially_copyable_v<Effect>);

// ---- Replies ----------------------------------------------------------------

inline constexpr uint32_t reply_flag_replayed = 1u << 0;  // first result of an earlier command

// 64 bytes. A replayed reply carries only the first result code.
struct Reply {
  Result result;
  uint32_t flags;
  int64_t amount;  // transfer: amount; post: amount posted; shrink: amount left
  // lookup_account:
  Asset asset;
  AccountKind kind;
  uint16_t account_flags;
  int64_t debits_posted;
  int64_t credits_posted;
  int64_t debits_pending;
  int64_t credits_pending;
  uint64_t reserved;
};
static_assert(sizeof(Reply) == reply_size);
static_assert(std::is_trivially_copyable_v<Reply>);

// ---- Builders (zero everything they do not set) -------------------------------

inline Command make_create_account(Id128 id, uint64_t account_id, Asset asset, AccountKind kind,
                                   uint16_t flags = 0) {
  Command c{};
  c.kind = CommandKind::create_account;
  c.id = id;
  c.body.create_account.account_id = account_id;
  c.body.create_account.asset = asset;
  c.body.create_account.kind = kind;
  c.body.create_account.flags = flags;
  return c;
}

inline Command make_transfer(Id128 id, uint64_t debit_id, uint64_t credit_id, int64_t amount,
                             Asset asset, TransferMode mode = TransferMode::single_phase) {
  Command c{};
  c.kind = CommandKind::transfer;
  c.id = id;
  c.body.transfer.debit_account_id = debit_id;
  c.body.transfer.credit_account_id = credit_id;
  c.body.transfer.amount = amount;
  c.body.transfer.asset = asset;
  c.body.transfer.mode = mode;
  return c;
}

inline Command make_hold(Id128 id, uint64_t debit_id, uint64_t credit_id, int64_t amount,
                         Asset asset, uint32_t timeout_s) {
  Command c = make_transfer(id, debit_id, credit_id, amount, asset, TransferMode::hold);
  c.body.transfer.timeout_s = timeout_s;
  return c;
}

inline Command make_grant(Id128 id, uint64_t debit_id, uint64_t credit_id, int64_t amount,
                          Asset asset, uint64_t matures_at_us) {
  Command c = make_transfer(id, debit_id, credit_id, amount, asset, TransferMode::grant);
  c.body.transfer.matures_at_us = matures_at_us;
  return c;
}

inline Command make_pending_op(CommandKind kind, Id128 id, Id128 pending_id, int64_t amount = 0) {
  Command c{};
  c.kind = kind;
  c.id = id;
  c.body.pending.pending_id = pending_id;
  c.body.pending.amount = amount;
  return c;
}

inline Command make_set_frozen(Id128 id, uint64_t account_id, bool frozen) {
  Command c{};
  c.kind = CommandKind::set_frozen;
  c.id = id;
  c.body.account.account_id = account_id;
  c.body.account.frozen = frozen ? 1 : 0;
  return c;
}

inline Command make_tick() {
  Command c{};
  c.kind = CommandKind::tick;
  return c;
}

inline Command make_lookup(uint64_t account_id) {
  Command c{};
  c.kind = CommandKind::lookup_account;
  c.body.account.account_id = account_id;
  return c;
}

}  // namespace coffer
