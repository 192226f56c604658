// A seeded generator of random domain command streams (families a and b):
// valid and invalid commands, replays, id reuse, time jumps, ticks and reads,
// over a few members and merchants so that collisions are frequent.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "core/types.h"
#include "tests/core/domain_util.h"
#include "tests/core/sim_util.h"

namespace coffer::test {

constexpr uint64_t member_id_max = 14;  // ids 1..14, a few never registered
constexpr uint64_t merchant_id_max = 3;

class DomainGenerator {
 public:
  explicit DomainGenerator(uint64_t seed) : rng_(seed) {}

  // Stamps a command the test adds to the stream (seq and time).
  void stamp(Command& c) {
    c.seq = ++seq_;
    c.time_us = time_us_;
  }

  Command next() {
    Command c = make();
    c.seq = ++seq_;
    if (rng_.chance(20)) time_us_ += rng_.below(120) * 1000000;
    c.time_us = time_us_;
    return c;
  }

 private:
  Rng rng_;
  uint64_t seq_ = 1000;
  uint64_t time_us_ = 1'700'000'000'000'000;
  uint64_t next_id_ = 1;
  std::vector<Command> history_;
  std::vector<Id128> payments_;
  std::map<Id128, int64_t> amounts_;  // payment amounts, for halves and rests

  Id128 fresh() { return Id128{next_id_++, 0xd5}; }
  uint64_t member() { return 1 + rng_.below(member_id_max); }
  uint64_t merchant() { return 1 + rng_.below(merchant_id_max + 1); }
  int64_t amount() {
    const uint64_t r = rng_.below(100);
    if (r < 2) return 0;
    if (r < 3) return -1;
    return 1 + static_cast<int64_t>(rng_.below(r < 60 ? 500 : 5000));
  }
  struct RechargeRef {
    Id128 id;
    int64_t amount;
  };
  struct BatchRef {
    Id128 id;
    uint32_t quantity;
    uint32_t next;
  };
  std::vector<RechargeRef> recharges_;
  std::vector<BatchRef> batches_;
  std::vector<Id128> codes_;
  uint64_t next_code_ = 1;

  template <class T>
  T& pick(std::vector<T>& v) {
    if (v.size() > 64) v.erase(v.begin(), v.begin() + 32);
    return v[rng_.below(v.size())];
  }

  std::vector<Id128> withdrawals_;
  std::vector<Id128> history_ids_{Id128{1, 1}};

  // Recharges, vouchers and withdrawals: r in [0, 500).
  Command make_more(uint64_t r) {
    Command c{};
    if (r >= 500) {
      c = make_order(fresh(), member(), merchant(), amount() * 10,
                     rng_.chance(60) ? payment() : Id128{});
      if (rng_.chance(30)) c.body.order.lines[0] = OrderLine{amount(), 1000, rate_of_group};
      if (rng_.chance(10)) c.body.order.lines[1] = OrderLine{amount(), rate_of_group, 20000};
      if (rng_.chance(5)) c = make_read(CommandKind::order_get, 0, pick(history_ids_));
      if (rng_.chance(15)) {
        c = make_settlement_read(merchant(), rng_.below(3),
                                 time_us_ / us_per_day - (rng_.chance(20) ? 1 : 0));
      }
      if (c.kind == CommandKind::order_complete) history_ids_.push_back(c.id);
      remember(c);
      return c;
    }
    if (r >= 400) {
      if (r < 450 || withdrawals_.empty()) {
        c = make_withdrawal(fresh(), member(), amount() * (rng_.chance(30) ? 10 : 1));
        withdrawals_.push_back(c.id);
      } else {
        const bool approve = rng_.chance(50);
        c = make_withdrawal_op(
            approve ? CommandKind::withdrawal_approve : CommandKind::withdrawal_reject, fresh(),
            rng_.chance(5) ? fresh() : pick(withdrawals_),
            static_cast<uint32_t>(approve ? (rng_.chance(3) ? 1 : 0) : rng_.below(30)));
        if (rng_.chance(10)) {
          c = make_read(
              rng_.chance(50) ? CommandKind::withdrawal_get : CommandKind::withdrawal_limit_get,
              member(), pick(withdrawals_));
        }
      }
      remember(c);
      return c;
    }
    if (r < 20) {
      c = make_method(fresh(), 1 + static_cast<uint32_t>(rng_.below(4)),
                      static_cast<uint8_t>(rng_.below(rng_.chance(3) ? 6 : 4)), !rng_.chance(15),
                      static_cast<uint16_t>(rng_.below(4)));
    } else if (r < 90) {
      c = make_recharge(fresh(), member(), amount() * (rng_.chance(10) ? 100 : 1),
                        1 + static_cast<uint32_t>(rng_.below(5)));
      recharges_.push_back({c.id, c.body.recharge.amount});
    } else if (r < 160) {
      const bool known = !recharges_.empty() && !rng_.chance(10);
      const RechargeRef ref = known ? pick(recharges_) : RechargeRef{fresh(), 100};
      const int64_t paid = rng_.chance(85) ? ref.amount : ref.amount + 1;
      c = make_confirm(fresh(), ref.id, Id128{1 + rng_.below(rng_.chance(50) ? 3 : 1000), 7}, paid);
    } else if (r < 190) {
      const uint64_t from = time_us_ + (rng_.chance(15) ? 6000'000'000 : 0);
      const uint64_t until = from + (1 + rng_.below(rng_.chance(20) ? 300 : 20000)) * 1'000'000;
      c = make_batch(fresh(), merchant(),
                     static_cast<uint8_t>(1 + rng_.below(rng_.chance(3) ? 3 : 2)), amount(),
                     static_cast<uint32_t>(1 + rng_.below(6)), from, until);
      batches_.push_back({c.id, c.body.batch.quantity, 0});
    } else if (r < 260 && !batches_.empty()) {
      BatchRef& b = rng_.chance(80) ? batches_.back() : pick(batches_);
      const uint32_t count =
          std::min<uint32_t>(b.quantity > b.next ? b.quantity - b.next : 1,
                             1 + static_cast<uint32_t>(rng_.below(batch_codes_per_command)));
      c = make_add_codes(fresh(), b.id, rng_.chance(5) ? b.next + 1 : b.next, {});
      c.body.batch_codes.count = static_cast<uint8_t>(count);
      for (uint32_t k = 0; k < count; k++) {
        const bool dup = !codes_.empty() && rng_.chance(3);
        const Id128 code = dup ? codes_[rng_.below(codes_.size())] : Id128{next_code_++, 0xc0de};
        c.body.batch_codes.codes[k] = code;
        if (!dup) codes_.push_back(code);
      }
      b.next += count;  // a refused command leaves a gap: later adds fail in order
      if (codes_.size() > 512) codes_.erase(codes_.begin(), codes_.begin() + 256);
    } else if (r < 270 && !batches_.empty()) {
      c = make_batch_void(fresh(), pick(batches_).id);
    } else if (r < 340) {
      const Id128 code = codes_.empty() || rng_.chance(10) ? Id128{999999 + rng_.below(100), 1}
                                                           : codes_[rng_.below(codes_.size())];
      // Stores 1..3 exercise the V5 guard; store 0 (INVALID_REQUEST) now and then.
      c = make_redeem(fresh(), code, merchant(), rng_.chance(5) ? 0 : 1 + rng_.below(3));
    } else if (r < 380) {
      const Id128 code = codes_.empty() || rng_.chance(10) ? Id128{999999 + rng_.below(100), 1}
                                                           : codes_[rng_.below(codes_.size())];
      c = make_redeem_to_wallet(fresh(), code, member());
    } else {
      const uint64_t which = rng_.below(3);
      if (which == 0 && !recharges_.empty()) {
        c = make_read(CommandKind::recharge_get, 0, pick(recharges_).id);
      } else if (which == 1 && !batches_.empty()) {
        c = make_read(CommandKind::batch_get, 0, pick(batches_).id);
      } else {
        c = make_read(CommandKind::voucher_get, 0,
                      codes_.empty() ? Id128{1, 1} : codes_[rng_.below(codes_.size())]);
      }
    }
    if (c.kind == CommandKind::none) c = make_read(CommandKind::balance_get, member());
    remember(c);
    return c;
  }

  void remember(const Command& c) {
    if (c.kind < CommandKind::read_first && c.kind != CommandKind::tick) {
      if (history_.size() < 2048) {
        history_.push_back(c);
      } else {
        history_[rng_.below(history_.size())] = c;
      }
    }
  }

  Id128 payment() {
    if (payments_.empty() || rng_.chance(5)) return fresh();
    if (payments_.size() > 64) payments_.erase(payments_.begin(), payments_.begin() + 32);
    return payments_[rng_.below(payments_.size())];
  }

  Command make() {
    const uint64_t r = rng_.below(1580);
    if (r >= 1000) return make_more(r - 1000);
    if (!history_.empty() && r < 40) {  // exact replay
      return history_[rng_.below(history_.size())];
    }
    if (!history_.empty() && r < 55) {  // same id, other content
      Command c = history_[rng_.below(history_.size())];
      c.body.raw[8 + rng_.below(8)] ^= 1;
      return c;
    }
    Command c{};
    if (r < 100) {
      c = make_register(fresh(), member(), rng_.chance(30) ? 1 + rng_.below(6) : 0,
                        static_cast<uint32_t>(rng_.chance(10) ? rng_.below(4) : 0));
    } else if (r < 115) {
      c = make_set_wallet(fresh(), member(), !rng_.chance(30));
    } else if (r < 125) {
      c = make_merchant(fresh(), merchant(), rng_.chance(50));
    } else if (r < 135) {
      const uint64_t which = rng_.below(14);
      c = make_config(fresh(), 0, [](DomainConfig&) {});
      DomainConfig& v = c.body.config.values;
      const uint32_t fields[14] = {3, 5, 6, 7, 13, 1, 2, 8, 9, 0, 12, 14, 10, 11};
      c.body.config.mask = 1u << fields[which];
      v.wallet_max_balance = rng_.chance(70) ? 0 : 2000 + static_cast<int64_t>(rng_.below(20000));
      v.points_offset_rate = 1 + static_cast<uint32_t>(rng_.below(40));
      v.points_use_min = static_cast<uint32_t>(rng_.below(30));
      v.payment_hold_timeout_s = 60 + static_cast<uint32_t>(rng_.below(600));
      v.wallet_auto_open = rng_.chance(80) ? 1 : 0;
      v.recharge_min = 1 + static_cast<int64_t>(rng_.below(100));
      v.recharge_max = 1000 + static_cast<int64_t>(rng_.below(9000));
      v.recharge_timeout_s = 60 + static_cast<uint32_t>(rng_.below(600));
      v.voucher_fail_limit = static_cast<uint32_t>(rng_.below(12));
      v.withdraw_reserve_min = static_cast<int64_t>(rng_.below(3000));
      v.withdraw_max_rate_bp = static_cast<uint16_t>(rng_.below(10001));
      v.withdraw_enabled = rng_.chance(80) ? 1 : 0;
      v.wallet_gift_days = static_cast<uint16_t>(rng_.below(2));
      v.points_gift_days = static_cast<uint16_t>(rng_.below(2));
    } else if (r < 260) {
      const CommandKind k = rng_.chance(60)   ? CommandKind::member_credit
                            : rng_.chance(60) ? CommandKind::member_debit
                                              : CommandKind::rebate;
      c = make_money(k, fresh(), member(), amount(), rng_.chance(30) ? asset_points : asset_wallet,
                     rng_.chance(10) ? money_source_cash : money_source_adjustment);
      if (rng_.chance(1)) c.body.money.asset = 5;
    } else if (r < 320) {
      c = make_gift(fresh(), member(), member(), amount(),
                    static_cast<uint32_t>(rng_.chance(5) ? 201 : rng_.below(200)));
    } else if (r < 560) {
      const int64_t a = amount();
      const int64_t points = rng_.chance(40) ? static_cast<int64_t>(rng_.below(200)) : 0;
      const int64_t external = rng_.chance(20) && a > 1 ? static_cast<int64_t>(rng_.below(a)) : 0;
      c = make_payment(fresh(), member(), merchant(), a, points, external, rng_.chance(50),
                       rng_.below(3));
      payments_.push_back(c.id);
      amounts_[c.id] = a;
    } else if (r < 660) {
      c = make_payment_op(CommandKind::payment_capture, fresh(), payment(),
                          rng_.chance(50) ? 0 : static_cast<int64_t>(rng_.below(3000)));
    } else if (r < 700) {
      c = make_payment_op(CommandKind::payment_void, fresh(), payment());
    } else if (r < 740) {
      c = make_payment_op(CommandKind::payment_confirm_external, fresh(), payment(),
                          static_cast<int64_t>(rng_.below(3000)), Id128{rng_.below(5), 1});
    } else if (r < 860) {
      const Id128 target = payment();
      int64_t refund = amount();
      // Halves and their rests: the refund that completes the captured amount
      // must return exactly what remains of each part (W4).
      if (auto it = amounts_.find(target); it != amounts_.end() && rng_.chance(50)) {
        refund = rng_.chance(50) ? it->second / 2 : it->second - it->second / 2;
        if (rng_.chance(30)) refund = it->second / 3;
      }
      c = make_payment_op(CommandKind::payment_refund, fresh(), target, refund);
    } else if (r < 920) {
      c = make_tick();
    } else if (r < 960) {
      c = make_read(CommandKind::balance_get, member());
    } else {
      c = make_read(CommandKind::payment_get, 0, payment());
    }
    if (c.kind < CommandKind::read_first && c.kind != CommandKind::tick) {
      if (history_.size() < 2048) {
        history_.push_back(c);
      } else {
        history_[rng_.below(history_.size())] = c;
      }
    }
    return c;
  }
};

}  // namespace coffer::test
