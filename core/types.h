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
  points_funding = 24,  // wallet asset: pays merchants the cash value of points used
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
  // Rank in creation order (0, 1, ...): the ledger's bookkeeping, stored as 0
  // in images and left out of the state hash (it follows from their order).
  uint64_t creation_index;

  int64_t balance() const { return credits_posted - debits_posted; }
  int64_t held() const { return debits_pending; }
  int64_t available() const { return balance() - debits_pending; }
  int64_t maturing() const { return credits_pending; }
};
static_assert(sizeof(Account) == account_record_size);
static_assert(std::is_trivially_copyable_v<Account>);

inline constexpr uint8_t pending_owner_engine = 0;
inline constexpr uint8_t pending_owner_domain = 1;

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
  uint8_t owner;  // pending_owner_*: domain-owned ones are not reachable by engine commands
  uint16_t code;
  uint32_t heap_pos;  // position in the timer heap (internal)
};
static_assert(sizeof(PendingTransfer) == pending_record_size);
static_assert(std::is_trivially_copyable_v<PendingTransfer>);

// ---- Commands ---------------------------------------------------------------

// Kinds 1..31 are engine commands; 32..95 domain commands, 96..127 domain reads
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
  // Domain commands (SPEC.md). Bodies below; replies in ReplyData (see core/README.md).
  config_set = 32,                // ConfigBody: fields in mask
  group_set = 33,                 // GroupBody (O3)
  member_register = 34,           // MemberBody (M1, M2, M5)
  member_set_wallet = 35,         // MemberBody: enabled (M2)
  member_credit = 36,             // MoneyBody: admin / cash credit, wallet or points (R4, P3)
  member_debit = 37,              // MoneyBody: admin debit (R4, P3)
  rebate = 38,                    // MoneyBody: distribution rebate (O4)
  gift = 39,                      // GiftBody (V6)
  merchant_set = 40,              // MerchantBody (A1)
  recharge_method_set = 41,       // MethodBody (R1)
  store_set = 42,                 // StoreBody (A1, A4)
  api_key_set = 43,               // ApiKeyBody (A2): id = hash of key_id
  payment_create = 48,            // PaymentBody (W1-W3, W5, P2)
  payment_capture = 49,           // PaymentOpBody: amount 0 = full (W3)
  payment_void = 50,              // PaymentOpBody (W3)
  payment_refund = 51,            // PaymentOpBody: amount > 0 (W4)
  payment_confirm_external = 52,  // PaymentOpBody: amount = external part (W2)
  recharge_create = 53,           // RechargeBody (R3, R6)
  recharge_confirm = 54,          // RechargeConfirmBody (R3)
  voucher_batch_create = 56,      // BatchBody (V1): the batch is usable once all codes arrived
  voucher_batch_add_codes = 57,   // BatchCodesBody: up to 4 code hashes, in order
  voucher_batch_void = 58,        // BatchCodesBody with count 0 (V2)
  voucher_redeem = 59,            // RedeemBody: paper, at a store (V3)
  voucher_redeem_to_wallet = 60,  // RedeemBody: card, into a member's wallet (V4)
  withdrawal_create = 61,         // WithdrawalBody (D1-D3)
  withdrawal_approve = 62,        // WithdrawalOpBody
  withdrawal_reject = 63,         // WithdrawalOpBody: feedback_length > 0
  order_complete = 64,            // OrderBody (O1-O3): id = hash of order_ref
  // Reads: not recorded for idempotency, no effects, id may be zero.
  read_first = 96,
  config_get = 96,             // ReadBody: part 0/1 = bytes [56*part, 56*part+56) of DomainConfig
  group_get = 97,              // ReadBody: key = group_id, or index = position when key = 0
  member_get = 98,             // ReadBody: key = member_id
  member_by_phone = 99,        // ReadBody: key = phone hash
  balance_get = 100,           // ReadBody: key = member_id
  payment_get = 101,           // ReadBody: id = payment id
  merchant_get = 102,          // ReadBody: key = merchant_id
  recharge_get = 103,          // ReadBody: id = recharge id
  method_get = 104,            // ReadBody: key = method_id
  batch_get = 105,             // ReadBody: id = batch id
  voucher_get = 106,           // ReadBody: id = code hash
  withdrawal_get = 107,        // ReadBody: id = withdrawal id
  withdrawal_limit_get = 108,  // ReadBody: key = member_id (D2)
  order_get = 109,             // ReadBody: id = order id
  stores_nearby = 110,         // NearbyBody: the next store by distance after a cursor
  api_key_get = 111,           // ReadBody: id = key hash
  settlement_get = 112,        // ReadBody: key = merchant_id, id.lo = store_id, index = day
  read_last = 127,
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

// ---- Domain command bodies (strings never enter core: they travel beside the
// command to the journal; core sees hashes and lengths only) ----

// Every configurable value of SPEC.md (API.md GET/PUT /v1/config), 80 bytes.
struct DomainConfig {
  int64_t withdraw_reserve_min;  // minor units (D2)
  int64_t recharge_min;          // R6
  int64_t recharge_max;
  int64_t wallet_max_balance;   // 0 = none
  uint32_t default_group_id;    // M5
  uint32_t points_offset_rate;  // points per major unit (P2)
  uint32_t points_use_min;
  uint32_t payment_hold_timeout_s;  // W3
  uint32_t recharge_timeout_s;      // R3
  uint32_t voucher_fail_limit;      // V5
  uint16_t wallet_gift_days;        // O1
  uint16_t points_gift_days;
  uint16_t withdraw_max_rate_bp;  // D2
  uint8_t wallet_auto_open;       // M2
  uint8_t withdraw_enabled;       // D1
  uint32_t reserved[4];
};
static_assert(sizeof(DomainConfig) == 80);

// config_set: bit k of mask = field k in the order of DomainConfig (0..14).
inline constexpr uint32_t config_field_count = 15;
struct ConfigBody {
  uint32_t mask;
  uint32_t reserved;
  DomainConfig values;
};

struct GroupBody {
  uint32_t group_id;  // non-zero
  uint32_t cashback_bp;
  uint32_t earn_points_bp;
  uint32_t use_points_bp;
  int64_t upgrade_threshold;  // cumulative spend, minor units
};

struct MemberBody {     // member_register, member_set_wallet
  uint64_t member_id;   // non-zero
  uint64_t phone_hash;  // 0 = no phone (the edge hashes the normalised number)
  uint32_t group_id;    // 0 = default_group_id
  uint8_t enabled;      // member_set_wallet: 1 / 0
};

inline constexpr uint8_t money_source_adjustment = 0;  // admin credit / debit
inline constexpr uint8_t money_source_cash = 1;        // cash recharge (R4)
struct MoneyBody {                                     // member_credit, member_debit, rebate
  uint64_t member_id;
  int64_t amount;  // > 0
  Asset asset;     // asset_wallet or asset_points (rebate: wallet)
  uint8_t source;  // money_source_*
};

struct GiftBody {
  uint64_t from_member_id;
  uint64_t to_member_id;
  int64_t amount;
  uint32_t message_length;  // checked (<= 200) at the edge; kept for the record
};

struct MerchantBody {
  uint64_t merchant_id;  // non-zero
  uint8_t split_payment_allowed;
};

struct PaymentBody {
  uint64_t member_id;
  uint64_t merchant_id;
  uint64_t store_id;        // 0 = none
  Id128 order_ref;          // hash of order_ref, zero = none
  int64_t amount;           // > 0, the whole order
  int64_t points;           // >= 0 points used (P2)
  int64_t external_amount;  // >= 0 paid outside (split payment, W2)
  uint8_t capture;          // 1 = capture now (W1); 0 = hold (W3)
};

struct PaymentOpBody {  // capture, void, refund, confirm_external
  Id128 payment_id;
  int64_t amount;
  Id128 channel_txn;  // confirm_external: hash of the channel's transaction id
};

enum RechargeChannel : uint8_t {
  channel_wechat = 0,
  channel_cash = 1,
  channel_bank = 2,
  channel_other = 3,
};

struct MethodBody {
  uint32_t method_id;  // non-zero
  uint8_t channel;     // RechargeChannel
  uint8_t enabled;
  uint16_t payee_count;  // payee accounts (names travel beside); 0..payees_per_method_max
};

struct RechargeBody {
  uint64_t member_id;
  int64_t amount;
  uint32_t method_id;
};

struct RechargeConfirmBody {
  Id128 recharge_id;
  Id128 channel_txn;  // hash of the channel's transaction id (idempotency key)
  int64_t amount;     // as paid
};

enum VoucherKind : uint8_t { voucher_paper = 1, voucher_card = 2 };

struct BatchBody {
  uint64_t merchant_id;
  int64_t face_value;
  uint64_t valid_from_us;
  uint64_t valid_until_us;  // exclusive
  uint32_t quantity;        // 1..voucher_batch_quantity_max
  uint8_t kind;             // VoucherKind
};

inline constexpr uint32_t batch_codes_per_command = 4;
struct BatchCodesBody {
  Id128 batch_id;
  uint32_t first_index;  // position of codes[0] in the batch: commands arrive in order
  uint8_t count;         // 1..batch_codes_per_command (void: 0)
  uint8_t reserved[3];
  Id128 codes[batch_codes_per_command];  // keyed hashes of the codes (the gateway's key)
};

struct RedeemBody {
  Id128 code;            // keyed hash of the code
  uint64_t merchant_id;  // paper: the redeeming store's merchant
  uint64_t store_id;     // paper: the store; card: 0
  uint64_t member_id;    // card: the member; paper: 0
};

struct WithdrawalBody {
  uint64_t member_id;
  int64_t amount;
  uint64_t payout_hash;  // hash of the payout details (they travel beside)
};

struct WithdrawalOpBody {
  Id128 withdrawal_id;
  uint32_t feedback_length;  // reject: > 0 (the text travels beside)
};

// O1 line-level rates: up to order_lines_max lines with their own rates; the
// rest of the amount (amount - sum of lines) earns at the member's group rates.
inline constexpr uint32_t rate_of_group = UINT32_MAX;  // a line rate taken from the group
struct OrderLine {
  int64_t amount;
  uint32_t cashback_bp;     // or rate_of_group
  uint32_t earn_points_bp;  // or rate_of_group
};
inline constexpr uint32_t order_lines_max = 3;
struct OrderBody {
  uint64_t member_id;
  uint64_t merchant_id;
  int64_t amount;    // paid amount
  Id128 payment_id;  // zero = none; links refunds of that payment to these grants (O2)
  OrderLine lines[order_lines_max];  // amount 0 = unused
};

struct StoreBody {
  uint64_t merchant_id;
  uint64_t store_id;  // non-zero
  int32_t lat_udeg;   // micro-degrees, -90e6..90e6
  int32_t lon_udeg;   // -180e6..180e6
};

enum ApiRole : uint8_t { role_platform = 1, role_service = 2, role_merchant = 3, role_store = 4 };
struct ApiKeyBody {
  Id128 key_hash;        // keyed hash of the secret (the secret never enters core)
  uint64_t merchant_id;  // merchant and store roles
  uint64_t store_id;     // store role
  uint8_t role;          // ApiRole
  uint8_t enabled;       // 0 = revoked
};

// stores_nearby: stores ordered by (distance_m, merchant_id, store_id); the
// reply is the first one after the cursor (start: all zero, first = 1).
struct NearbyBody {
  int32_t lat_udeg;
  int32_t lon_udeg;
  uint64_t after_distance_m;
  uint64_t after_merchant_id;
  uint64_t after_store_id;
  uint8_t first;  // 1: ignore the cursor
};

enum GrantState : uint8_t {
  grant_none = 0,
  grant_maturing = 1,
  grant_state_matured = 2,
  grant_state_cancelled = 3,  // shrunk to nothing by refunds
};

enum WithdrawalState : uint8_t {
  withdrawal_pending = 1,
  withdrawal_approved = 2,
  withdrawal_rejected = 3,
};

struct ReadBody {
  uint64_t key;
  Id128 id;
  uint32_t index;
  uint32_t part;
};

union CommandBody {
  CreateAccountBody create_account;
  TransferBody transfer;
  PendingBody pending;
  AccountBody account;
  ConfigBody config;
  GroupBody group;
  MemberBody member;
  MoneyBody money;
  GiftBody gift;
  MerchantBody merchant;
  PaymentBody payment;
  PaymentOpBody payment_op;
  MethodBody method;
  RechargeBody recharge;
  RechargeConfirmBody recharge_confirm;
  BatchBody batch;
  BatchCodesBody batch_codes;
  RedeemBody redeem;
  WithdrawalBody withdrawal;
  WithdrawalOpBody withdrawal_op;
  OrderBody order;
  StoreBody store;
  ApiKeyBody api_key;
  NearbyBody nearby;
  ReadBody read;
  unsigned char raw[command_body_size];
};
static_assert(sizeof(CommandBody) == command_body_size);
static_assert(sizeof(BatchCodesBody) == command_body_size);
static_assert(sizeof(OrderBody) == command_body_size);
static_assert(sizeof(ConfigBody) <= command_body_size && sizeof(PaymentBody) <= command_body_size &&
              sizeof(PaymentOpBody) <= command_body_size && sizeof(ReadBody) <= command_body_size);

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

// Domain replies reuse the 56 bytes after result and flags; read and write them
// with reply_data() / set_reply_data(). Per-kind meaning in core/README.md.
struct ReplyData {
  uint8_t state;   // record state (payment_state_*, ...)
  uint8_t detail;  // e.g. points_rule_* for POINTS_RULE
  uint16_t aux16;
  uint32_t aux32;
  int64_t v[6];
};
static_assert(sizeof(ReplyData) == reply_size - 8);
inline ReplyData reply_data(const Reply& r) {
  ReplyData d;
  std::memcpy(&d, reinterpret_cast<const unsigned char*>(&r) + 8, sizeof d);
  return d;
}
inline void set_reply_data(Reply& r, const ReplyData& d) {
  std::memcpy(reinterpret_cast<unsigned char*>(&r) + 8, &d, sizeof d);
}

inline constexpr uint8_t points_rule_min = 1;
inline constexpr uint8_t points_rule_balance = 2;
inline constexpr uint8_t points_rule_max_share = 3;

enum PaymentState : uint8_t {
  payment_held = 1,
  payment_awaiting_external = 2,
  payment_captured = 3,
  payment_voided = 4,
  payment_expired = 5,
};

enum RechargeState : uint8_t {
  recharge_pending = 1,
  recharge_paid = 2,
  recharge_paid_late = 3,        // confirmed after expires_at: still credited
  recharge_amount_mismatch = 4,  // confirmed with another amount: nothing credited
  recharge_expired = 5,          // read only: pending past expires_at
};

enum BatchState : uint8_t {
  batch_building = 1,  // codes still arriving: nothing redeemable
  batch_active = 2,
  batch_voided = 3,
};

enum VoucherState : uint8_t {
  voucher_unredeemed = 1,
  voucher_state_redeemed = 2,
  voucher_state_void = 3,
  voucher_state_expired = 4,
};

// Transfer codes (history types of API.md); stored in effects. DO NOT RENUMBER.
enum TransferCode : uint16_t {
  code_recharge = 1,
  code_admin_credit = 2,
  code_admin_debit = 3,
  code_payment = 4,
  code_refund = 5,
  code_payment_hold = 6,
  code_points_return = 7,
  code_cashback = 8,
  code_points_earn = 9,
  code_points_use = 10,
  code_points_value = 11,  // points funding -> merchant: cash value of points used
  code_rebate = 12,
  code_gift = 13,
  code_withdrawal_hold = 14,
  code_withdrawal_paid = 15,
  code_voucher_recharge = 16,
  code_voucher_redeem = 17,
  code_cash_recharge = 18,
};

// The ids of the holds/grants/transfers a domain record makes: leg k (0..3)
// of record `record`. Invertible (xor with a per-leg constant): applied again to
// a leg's id it gives the record's id, so a settled leg finds its record and a
// history entry (whose ref is the leg id) finds the command that made it.
inline constexpr uint32_t domain_leg_count = 4;
inline Id128 domain_leg_id(const Id128& record, uint32_t leg) {
  constexpr uint64_t salt[domain_leg_count] = {0x5bd1e9955bd1e995ull, 0x27d4eb2f165667c5ull,
                                               0x85ebca77c2b2ae63ull, 0xc2b2ae3d27d4eb4full};
  return Id128{record.lo ^ salt[leg], record.hi ^ (salt[leg] >> 7)};
}

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
