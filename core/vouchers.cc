// Voucher batches (V1, V2), paper and card redemption with validity (V3, V4)
// and the brute-force guard (V5). Codes are generated outside core with a
// CSPRNG; core sees only keyed hashes. A batch arrives as one header command
// (voucher_batch_create) and ceil(quantity / 4) voucher_batch_add_codes
// commands in order; it becomes redeemable only when every code has arrived,
// so a batch is all-or-nothing (a half-built batch is voided by the edge).
#include "core/assert.h"
#include "core/domain.h"

namespace coffer::detail {

namespace {
uint64_t guard_set(uint64_t merchant_id, uint64_t id) {
  constexpr uint64_t sets = voucher_guard_slots / voucher_guard_ways;
  return (hash_u64(merchant_id ^ hash_u64(id)) & (sets - 1)) * voucher_guard_ways;
}
uint32_t live_failures(const GuardSlot& g, uint32_t window) {
  return g.window == window ? g.failures : 0;
}
}  // namespace

// V5 counters, set-associative: a key lives in one set of voucher_guard_ways
// slots. Only failures write; a new key takes its set's slot with the fewest
// failures this minute, so a flood of new keys cannot push out a refused one.
uint32_t Domain::guard_failures(uint64_t merchant_id, uint64_t id, uint32_t window) const {
  const GuardSlot* set = &guard_[guard_set(merchant_id, id)];
  for (uint32_t w = 0; w < voucher_guard_ways; w++) {
    if (set[w].merchant_id == merchant_id && set[w].id == id) return live_failures(set[w], window);
  }
  return 0;
}

void Domain::guard_fail(uint64_t merchant_id, uint64_t id, uint32_t window) {
  GuardSlot* set = &guard_[guard_set(merchant_id, id)];
  GuardSlot* pick = &set[0];
  for (uint32_t w = 0; w < voucher_guard_ways; w++) {
    GuardSlot& g = set[w];
    if (g.merchant_id == merchant_id && g.id == id) {
      pick = &g;
      break;
    }
    if (live_failures(g, window) < live_failures(*pick, window)) pick = &g;
  }
  if (pick->merchant_id != merchant_id || pick->id != id || pick->window != window) {
    *pick = GuardSlot{merchant_id, id, window, 0};
  }
  if (pick->failures != UINT32_MAX) pick->failures++;
}

void Domain::batch_reply(const Batch& b, uint64_t now_us, Reply& reply) const {
  ReplyData d{};
  d.state = b.state;
  d.detail = b.kind;
  d.aux32 = b.codes_added;
  const int64_t unredeemed = int64_t{b.quantity} - b.redeemed_count - b.voided_count;
  const bool expired = b.state != batch_voided && now_us >= b.valid_until_us;
  d.v[0] = b.quantity;  // issued
  d.v[1] = b.redeemed_count;
  d.v[2] = b.redeemed_amount;
  d.v[3] = expired ? unredeemed : 0;  // expired count
  d.v[4] = b.voided_count;
  d.v[5] = b.face_value;
  set_reply_data(reply, d);
}

void Domain::voucher_reply(const Voucher& v, uint64_t now_us, Reply& reply) const {
  const Batch& b = batches_[v.batch];
  ReplyData d{};
  d.state = v.redeemed                   ? voucher_state_redeemed
            : b.state == batch_voided    ? voucher_state_void
            : now_us >= b.valid_until_us ? voucher_state_expired
                                         : voucher_unredeemed;
  d.detail = b.kind;
  d.v[0] = b.face_value;
  d.v[1] = static_cast<int64_t>(v.redeemed_at_us);
  d.v[2] = static_cast<int64_t>(v.redeemed_by);
  d.v[3] = static_cast<int64_t>(b.id.lo);
  d.v[4] = static_cast<int64_t>(b.id.hi);
  d.v[5] = static_cast<int64_t>(b.merchant_id);
  set_reply_data(reply, d);
}

Result Domain::batch_create(const Command& c, Reply& reply) {
  const BatchBody& b = c.body.batch;
  if ((b.kind != voucher_paper && b.kind != voucher_card) || b.face_value <= 0 ||
      b.face_value > domain_amount_max || b.quantity == 0 ||
      b.quantity > voucher_batch_quantity_max || b.valid_from_us >= b.valid_until_us) {
    return Result::invalid_request;
  }
  uint32_t existing;
  if (const Result r = check_record_id(batches_, c, &existing); r != Result::ok) return r;
  if (existing != none) {
    batch_reply(batches_[existing], c.time_us, reply);
    reply.flags |= reply_flag_replayed;
    return Result::ok;
  }
  const uint32_t xi = find_merchant(b.merchant_id);
  if (xi == none) return Result::not_found;
  if (batches_.full()) return Result::capacity_exhausted;
  // Room for every code up front, so that the codes that follow cannot run out.
  uint64_t reserved = 0;
  for (uint32_t k = 0; k < batches_.count(); k++) {
    if (batches_[k].state == batch_building) {
      reserved += batches_[k].quantity - batches_[k].codes_added;
    }
  }
  if (vouchers_.count() + reserved + b.quantity > vouchers_.capacity()) {
    return Result::capacity_exhausted;
  }
  Batch n{};
  n.id = c.id;
  n.fingerprint = engine_.fingerprint();
  n.merchant_id = b.merchant_id;
  n.face_value = b.face_value;
  n.valid_from_us = b.valid_from_us;
  n.valid_until_us = b.valid_until_us;
  n.created_us = c.time_us;
  n.merchant = xi;
  n.quantity = b.quantity;
  n.kind = b.kind;
  n.state = batch_building;
  batch_reply(batches_[insert_record(batches_, c, n)], c.time_us, reply);
  return Result::ok;
}

Result Domain::batch_add_codes(const Command& c, Reply& reply) {
  const BatchCodesBody& b = c.body.batch_codes;
  if (b.count == 0 || b.count > batch_codes_per_command || b.reserved[0] || b.reserved[1] ||
      b.reserved[2]) {
    return Result::invalid_request;
  }
  for (uint32_t k = 0; k < batch_codes_per_command; k++) {
    if ((k < b.count) == b.codes[k].is_zero()) return Result::invalid_request;
    for (uint32_t j = 0; j < k && k < b.count; j++) {
      if (b.codes[j] == b.codes[k]) return Result::invalid_request;
    }
  }
  const uint32_t i = batches_.find(b.batch_id);
  if (i == none) return Result::not_found;
  Batch& batch = batches_[i];
  if (batch.state != batch_building) return Result::invalid_state;
  if (b.first_index != batch.codes_added) return Result::invalid_state;  // out of order
  if (uint64_t{batch.codes_added} + b.count > batch.quantity) return Result::limit_exceeded;
  for (uint32_t k = 0; k < b.count; k++) {
    if (vouchers_.find(b.codes[k]) != none) return Result::invalid_request;  // duplicate code
  }
  COFFER_ASSERT(vouchers_.count() + b.count <= vouchers_.capacity());  // reserved at create
  for (uint32_t k = 0; k < b.count; k++) {
    Voucher v{};
    v.id = b.codes[k];
    v.batch = i;
    vouchers_.insert(v);
  }
  batch.codes_added += b.count;
  if (batch.codes_added == batch.quantity) batch.state = batch_active;
  batch_reply(batch, c.time_us, reply);
  return Result::ok;
}

Result Domain::batch_void(const Command& c, Reply& reply) {
  const BatchCodesBody& b = c.body.batch_codes;
  if (b.count != 0 || b.first_index != 0) return Result::invalid_request;
  const uint32_t i = batches_.find(b.batch_id);
  if (i == none) return Result::not_found;
  Batch& batch = batches_[i];
  if (batch.state == batch_voided) {
    if (batch.void_id == c.id) {
      batch_reply(batch, c.time_us, reply);
      reply.flags |= reply_flag_replayed;
      return Result::ok;
    }
    return Result::invalid_state;
  }
  batch.voided_count = batch.quantity - batch.redeemed_count;
  batch.state = batch_voided;
  batch.void_id = c.id;
  batch_reply(batch, c.time_us, reply);
  return Result::ok;
}

// V3 (paper, at a store of the batch's merchant) and V4 (card, into a wallet).
// Every failed attempt counts towards the V5 guard of the store or member; the
// guard's counter is the one piece of state a failing command changes.
Result Domain::voucher_redeem(const Command& c, Reply& reply, EffectSink& sink) {
  const RedeemBody& b = c.body.redeem;
  const bool paper = c.kind == CommandKind::voucher_redeem;
  if (paper ? (b.member_id != 0 || b.merchant_id == 0 || b.store_id == 0)
            : (b.member_id == 0 || b.store_id != 0 || b.merchant_id != 0)) {
    return Result::invalid_request;
  }
  // V5 keys (GuardSlot): the store, and all stores of its merchant together;
  // or the member, with every id that is not a member sharing one counter.
  const uint32_t window = static_cast<uint32_t>(c.time_us / voucher_guard_window_us);
  const uint64_t guard_merchant = paper ? b.merchant_id : 0;
  const uint64_t guard_id =
      paper ? b.store_id : (find_member(b.member_id) == none ? 0 : b.member_id);
  const uint64_t limit = config_.voucher_fail_limit;
  if (limit != 0 && (guard_failures(guard_merchant, guard_id, window) >= limit ||
                     (paper && guard_failures(guard_merchant, 0, window) >=
                                   limit * voucher_guard_merchant_factor))) {
    return Result::rate_limited;
  }
  const Result r = [&]() -> Result {
    const uint32_t vi = vouchers_.find(b.code);
    if (vi == none) return Result::not_found;
    Voucher& v = vouchers_[vi];
    const Batch& batch = batches_[v.batch];
    if (batch.state == batch_building) return Result::not_found;  // not issued yet
    if (batch.kind != (paper ? voucher_paper : voucher_card)) return Result::voucher_wrong_kind;
    if (v.redeemed) {
      voucher_reply(v, c.time_us, reply);
      return Result::voucher_redeemed;
    }
    if (batch.state == batch_voided) return Result::voucher_void;
    if (paper && batch.merchant_id != b.merchant_id) return Result::voucher_wrong_merchant;
    if (c.time_us < batch.valid_from_us) return Result::voucher_not_yet_valid;
    if (c.time_us >= batch.valid_until_us) return Result::voucher_expired;
    uint32_t target;
    if (paper) {
      target = merchants_[batch.merchant].settlement_slot;
      if (!settlement_room(b.merchant_id, b.store_id, c.time_us)) {
        return Result::capacity_exhausted;
      }
    } else {
      const uint32_t mi = find_member(b.member_id);
      if (mi == none) return Result::not_found;
      const Member& m = members_[mi];
      if (!m.wallet_enabled) return Result::wallet_disabled;
      if (config_.wallet_max_balance != 0 &&
          engine_.account(m.wallet_slot).balance() + batch.face_value >
              config_.wallet_max_balance) {
        return Result::limit_exceeded;
      }
      target = m.wallet_slot;
    }
    engine_.begin(sink);
    const Result t = engine_.transfer(c, c.id, system_slot_[sys_voucher_liability], target,
                                      batch.face_value, TransferMode::single_phase, 0,
                                      paper ? code_voucher_redeem : code_voucher_recharge, sink);
    if (t != Result::ok) {
      engine_.abort(sink);
      return t;
    }
    engine_.commit();
    v.redeemed = 1;
    v.redeemed_at_us = c.time_us;
    v.redeemed_by = paper ? b.store_id : b.member_id;
    Batch& mb = batches_[v.batch];
    mb.redeemed_count++;
    mb.redeemed_amount += mb.face_value;
    if (paper) settle(Settle::voucher, b.merchant_id, b.store_id, c.time_us, mb.face_value);
    voucher_reply(v, c.time_us, reply);
    return Result::ok;
  }();
  if (r != Result::ok) {
    guard_fail(guard_merchant, guard_id, window);
    if (paper) guard_fail(guard_merchant, 0, window);
  }
  return r;
}

}  // namespace coffer::detail
