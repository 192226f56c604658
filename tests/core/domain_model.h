// A deliberately simple model of the domain commands (families a and b:
// members, credits, rebates, gifts, merchants, payments, refunds, expiry),
// written from SPEC.md with std::map and no engine: balances are plain
// numbers. The domain simulation runs it beside coffer::Ledger.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "core/hash.h"
#include "core/ledger.h"
#include "core/types.h"

namespace coffer::test {

struct ModelMember {
  uint32_t index = 0;
  int64_t cumulative = 0;
  uint64_t phone = 0;
  uint32_t requested_group = 0;
  uint32_t group = 1;
  bool enabled = true;
  int64_t wallet = 0, wallet_held = 0, points = 0, points_held = 0;
};

struct ModelPayment {
  uint64_t member = 0, merchant = 0, store = 0;
  int64_t amount = 0;
  int64_t parts[4] = {};  // wallet, points, value, external
  int64_t captured = 0;
  int64_t captured_parts[4] = {};
  int64_t refunded = 0;
  int64_t refunded_parts[4] = {};
  uint8_t state = 0;
  uint64_t expires_us = 0;
  uint64_t seq = 0;
  Id128 op_id{};
  uint64_t op_fp = 0;
  uint64_t fp = 0;
};

class DomainModel {
 public:
  std::map<uint64_t, ModelMember> members;
  std::map<uint64_t, std::pair<bool, int64_t>> merchants;  // split allowed, settlement balance
  std::map<Id128, ModelPayment> payments;
  std::set<Id128> open_payments;                           // held or awaiting_external
  std::map<Id128, std::pair<uint64_t, ReplyData>> simple;  // fingerprint, reply
  std::map<Id128, std::pair<uint64_t, ReplyData>> refunds;
  struct IdM {
    uint64_t fingerprint;
    Result result;
    uint8_t detail;  // a failure's ReplyData::detail, replayed with it
  };
  std::map<Id128, IdM> ids;                    // the id ring (never wraps here)
  int64_t system[system_accounts_count] = {};  // system balances
  // Groups 1 and 2 (set up by the simulation): cash-back, earn, use, threshold.
  uint32_t use_points_bp[3] = {0, 5000, 10000};
  uint32_t cashback_bp[3] = {0, 0, 500};
  uint32_t earn_points_bp[3] = {0, 10000, 10000};
  int64_t upgrade_threshold[3] = {0, 0, 20000};
  struct ModelOrder {
    uint64_t member = 0;
    int64_t amount = 0;
    int64_t granted[2] = {}, open[2] = {};
    uint64_t matures[2] = {};
    uint8_t state[2] = {};
    uint32_t group_after = 0;
    uint64_t fp = 0;
  };
  std::map<Id128, ModelOrder> orders;
  std::set<Id128> open_orders;
  std::map<Id128, Id128> order_of_payment;
  int64_t cashback_expense = 0;
  DomainConfig config{};
  bool system_ready = false;

  struct MethodM {
    uint8_t channel = 0;
    bool enabled = false;
    uint16_t payees = 0;
    uint64_t next = 0;
  };
  struct RechargeM {
    uint64_t member = 0;
    int64_t amount = 0;
    uint64_t created = 0, expires = 0;
    uint8_t state = recharge_pending;
    Id128 txn{};
    int64_t confirmed = 0;
    uint16_t payee = 0;
    uint32_t method = 0;
    uint8_t channel = 0;
    uint64_t fp = 0;
  };
  struct BatchM {
    uint64_t merchant = 0;
    uint8_t kind = 0;
    int64_t face = 0;
    uint32_t quantity = 0, added = 0, redeemed = 0, voided = 0;
    int64_t redeemed_amount = 0;
    uint64_t from = 0, until = 0;
    uint8_t state = batch_building;
    Id128 void_id{};
    uint64_t fp = 0;
    Id128 id{};
  };
  struct CodeM {
    Id128 batch{};
    bool redeemed = false;
    uint64_t at = 0, by = 0;
  };
  struct GuardM {
    uint64_t window = 0;
    uint32_t failures = 0;
  };
  struct WithdrawalM {
    uint64_t member = 0;
    int64_t amount = 0;
    uint8_t state = withdrawal_pending;
    uint32_t feedback = 0;
    uint64_t created = 0, decided = 0;
    Id128 op_id{};
    uint64_t op_fp = 0, fp = 0;
  };
  std::map<Id128, WithdrawalM> withdrawals;
  struct SettleRow {
    int64_t count[3] = {}, amount[3] = {};  // payments, refunds, paper vouchers
  };
  std::map<std::tuple<uint64_t, uint64_t, uint64_t>, SettleRow> settlement;  // day, merchant, store
  void settle(int what, uint64_t merchant, uint64_t store, uint64_t time_us, int64_t amount) {
    SettleRow& row = settlement[{time_us / us_per_day, merchant, store}];
    row.count[what]++;
    row.amount[what] += amount;
  }
  int64_t payout = 0;  // payout clearing balance
  std::map<uint32_t, MethodM> methods;
  std::map<Id128, RechargeM> recharges;
  std::map<Id128, BatchM> batches;
  std::map<Id128, CodeM> codes;
  // V5 failures by (merchant or 0, store or member or 0): exact, never evicted.
  std::map<std::pair<uint64_t, uint64_t>, GuardM> guard;
  int64_t clearing[4] = {};  // channel clearing balances
  int64_t liability = 0;     // voucher liability balance
  size_t vouchers_capacity = 1u << 18;
  size_t codes_reserved = 0;
  size_t members_capacity = 12;

  DomainModel() {
    config.wallet_gift_days = 15;
    config.points_gift_days = 15;
    config.withdraw_reserve_min = 5000;
    config.withdraw_max_rate_bp = 6000;
    config.recharge_min = 1;
    config.recharge_max = 5'000'000;
    config.recharge_timeout_s = 1800;
    config.voucher_fail_limit = 10;
    config.points_offset_rate = 10;
    config.points_use_min = 10;
    config.payment_hold_timeout_s = 1800;
    config.wallet_auto_open = 1;
  }

  Reply apply(const Command& c) {
    Reply r{};
    if (c.kind >= CommandKind::read_first) {
      r.result = read(c, r);
      return r;
    }
    if (c.kind == CommandKind::tick) {
      r.amount = tick(c.time_us);
      return r;
    }
    const uint64_t fp = Ledger::fingerprint(c);
    if (auto it = ids.find(c.id); it != ids.end()) {
      if (it->second.fingerprint != fp) {
        r.result = Result::id_reused;
        return r;
      }
      r.result = it->second.result;
      r.flags = reply_flag_replayed;
      if (r.result == Result::ok) replay(c, r);
      if (it->second.detail != 0) {
        ReplyData d{};
        d.detail = it->second.detail;
        set_reply_data(r, d);
      }
      return r;
    }
    r.result = execute(c, fp, r);
    const bool domain = c.kind >= CommandKind::domain_first && c.kind < CommandKind::read_first;
    ids[c.id] = {fp, r.result,
                 domain && r.result != Result::ok ? reply_data(r).detail : uint8_t{0}};
    return r;
  }

  int64_t tick_pending(uint64_t now) const {
    int64_t n = 0;
    for (const Id128& id : open_orders) {
      const ModelOrder& o = orders.at(id);
      for (int k = 0; k < 2; k++)
        n += o.state[k] == grant_maturing && o.matures[k] <= now;
    }
    for (const Id128& id : open_payments) {
      const ModelPayment& p = payments.at(id);
      if ((p.state == payment_held || p.state == payment_awaiting_external) &&
          p.expires_us <= now) {
        for (int k = 0; k < 3; k++)
          n += p.parts[k] > 0;
      }
    }
    return n;
  }

 private:
  static int64_t scale(int64_t x, int64_t num, int64_t den) {
    __extension__ typedef __int128 i128;
    return static_cast<int64_t>(static_cast<i128>(x) * num / den);
  }

  void set_member_reply(const ModelMember& m, uint64_t id, Reply& r) const {
    ReplyData d{};
    d.state = m.enabled;
    d.aux32 = m.group;
    d.v[0] = static_cast<int64_t>(id);
    set_reply_data(r, d);
  }
  ReplyData payment_data(const ModelPayment& p, uint64_t now) const {
    ReplyData d{};
    const bool open = p.state == payment_held || p.state == payment_awaiting_external;
    d.state = open && now >= p.expires_us ? uint8_t{payment_expired} : p.state;
    d.aux32 = static_cast<uint32_t>(p.expires_us / 1000000);
    d.v[0] = p.amount;
    d.v[1] = p.parts[0];
    d.v[2] = p.parts[1];
    d.v[3] = p.parts[2];
    d.v[4] = p.captured;
    d.v[5] = p.refunded;
    return d;
  }

  void replay(const Command& c, Reply& r) const {
    switch (c.kind) {
      case CommandKind::member_register:
      case CommandKind::member_set_wallet:
        if (auto it = members.find(c.body.member.member_id); it != members.end()) {
          set_member_reply(it->second, it->first, r);
        }
        break;
      case CommandKind::member_credit:
      case CommandKind::member_debit:
      case CommandKind::rebate:
      case CommandKind::gift:
        if (auto it = simple.find(c.id); it != simple.end()) set_reply_data(r, it->second.second);
        break;
      case CommandKind::payment_create:
        if (auto it = payments.find(c.id); it != payments.end()) {
          set_reply_data(r, payment_data(it->second, c.time_us));
        }
        break;
      case CommandKind::payment_capture:
      case CommandKind::payment_void:
      case CommandKind::payment_confirm_external:
        if (auto it = payments.find(c.body.payment_op.payment_id); it != payments.end()) {
          set_reply_data(r, payment_data(it->second, c.time_us));
        }
        break;
      case CommandKind::payment_refund:
        if (auto it = refunds.find(c.id); it != refunds.end()) set_reply_data(r, it->second.second);
        break;
      case CommandKind::order_complete:
        if (auto it = orders.find(c.id); it != orders.end()) {
          set_reply_data(r, order_data(it->second));
        }
        break;
      case CommandKind::withdrawal_create:
        if (auto it = withdrawals.find(c.id); it != withdrawals.end()) {
          set_reply_data(r, withdrawal_data(it->second));
        }
        break;
      case CommandKind::withdrawal_approve:
      case CommandKind::withdrawal_reject:
        if (auto it = withdrawals.find(c.body.withdrawal_op.withdrawal_id);
            it != withdrawals.end()) {
          set_reply_data(r, withdrawal_data(it->second));
        }
        break;
      case CommandKind::recharge_create:
        if (auto it = recharges.find(c.id); it != recharges.end()) {
          set_reply_data(r, recharge_data(it->second, c.time_us));
        }
        break;
      case CommandKind::recharge_confirm:
        if (auto it = recharges.find(c.body.recharge_confirm.recharge_id); it != recharges.end()) {
          set_reply_data(r, recharge_data(it->second, c.time_us));
        }
        break;
      case CommandKind::voucher_batch_create:
        if (auto it = batches.find(c.id); it != batches.end()) {
          set_reply_data(r, batch_data(it->second, c.time_us));
        }
        break;
      case CommandKind::voucher_batch_add_codes:
      case CommandKind::voucher_batch_void:
        if (auto it = batches.find(c.body.batch_codes.batch_id); it != batches.end()) {
          set_reply_data(r, batch_data(it->second, c.time_us));
        }
        break;
      case CommandKind::voucher_redeem:
      case CommandKind::voucher_redeem_to_wallet:
        if (auto it = codes.find(c.body.redeem.code); it != codes.end()) {
          set_reply_data(r, code_data(it->second, c.time_us));
        }
        break;
      default:
        break;
    }
  }

  Result read(const Command& c, Reply& r) const {
    if (c.kind == CommandKind::balance_get) {
      auto it = members.find(c.body.read.key);
      if (it == members.end()) return Result::not_found;
      const ModelMember& m = it->second;
      ReplyData d{};
      d.state = m.enabled;
      d.v[0] = m.wallet;
      d.v[1] = m.wallet_held;
      d.v[3] = m.points;
      d.v[4] = m.points_held;
      set_reply_data(r, d);
      return Result::ok;
    }
    if (c.kind == CommandKind::settlement_get) {
      auto it = settlement.find({c.body.read.index, c.body.read.key, c.body.read.id.lo});
      if (it == settlement.end()) return Result::not_found;
      const SettleRow& x = it->second;
      ReplyData d{};
      d.aux32 = c.body.read.index;
      d.v[0] = x.count[0];
      d.v[1] = x.amount[0];
      d.v[2] = x.amount[1];
      d.v[3] = x.count[2];
      d.v[4] = x.amount[2];
      d.v[5] = x.amount[0] - x.amount[1] + x.amount[2];
      set_reply_data(r, d);
      return Result::ok;
    }
    if (c.kind == CommandKind::order_get) {
      auto it = orders.find(c.body.read.id);
      if (it == orders.end()) return Result::not_found;
      set_reply_data(r, order_data(it->second));
      return Result::ok;
    }
    if (c.kind == CommandKind::withdrawal_limit_get) {
      auto it = members.find(c.body.read.key);
      if (it == members.end()) return Result::not_found;
      ReplyData d{};
      d.state = config.withdraw_enabled;
      d.v[0] = limit(it->second);
      d.v[1] = it->second.wallet - it->second.wallet_held;
      set_reply_data(r, d);
      return Result::ok;
    }
    if (c.kind == CommandKind::withdrawal_get) {
      auto it = withdrawals.find(c.body.read.id);
      if (it == withdrawals.end()) return Result::not_found;
      set_reply_data(r, withdrawal_data(it->second));
      return Result::ok;
    }
    if (c.kind == CommandKind::recharge_get) {
      auto it = recharges.find(c.body.read.id);
      if (it == recharges.end()) return Result::not_found;
      set_reply_data(r, recharge_data(it->second, c.time_us));
      return Result::ok;
    }
    if (c.kind == CommandKind::batch_get) {
      auto it = batches.find(c.body.read.id);
      if (it == batches.end()) return Result::not_found;
      set_reply_data(r, batch_data(it->second, c.time_us));
      return Result::ok;
    }
    if (c.kind == CommandKind::voucher_get) {
      auto it = codes.find(c.body.read.id);
      if (it == codes.end() || batches.at(it->second.batch).state == batch_building) {
        return Result::not_found;
      }
      set_reply_data(r, code_data(it->second, c.time_us));
      return Result::ok;
    }
    if (c.kind == CommandKind::payment_get) {
      auto it = payments.find(c.body.read.id);
      if (it == payments.end()) return Result::not_found;
      set_reply_data(r, payment_data(it->second, c.time_us));
      return Result::ok;
    }
    return Result::invalid_request;
  }

  // Expires due payments and matures due grants; the test keeps ticks small
  // enough that tick_items_max never cuts in.
  int64_t tick(uint64_t now) {
    int64_t settled = 0;
    for (auto it = open_payments.begin(); it != open_payments.end();) {
      ModelPayment& p = payments.at(*it);
      if (p.expires_us > now) {
        ++it;
        continue;
      }
      it = open_payments.erase(it);
      ModelMember& m = members[p.member];
      m.wallet_held -= p.parts[0];
      m.points_held -= p.parts[1];
      for (int k = 0; k < 3; k++)
        settled += p.parts[k] > 0;
      p.state = payment_expired;
    }
    for (auto it = open_orders.begin(); it != open_orders.end();) {
      ModelOrder& o = orders.at(*it);
      bool open = false;
      for (int k = 0; k < 2; k++) {
        if (o.state[k] != grant_maturing) continue;
        if (o.matures[k] > now) {
          open = true;
          continue;
        }
        ModelMember& m = members[o.member];
        (k == 0 ? m.wallet : m.points) += o.open[k];
        if (k == 0) cashback_expense -= o.open[k];
        o.state[k] = grant_state_matured;
        settled++;
      }
      it = open ? std::next(it) : open_orders.erase(it);
    }
    return settled;
  }

  Result execute(const Command& c, uint64_t fp, Reply& r) {
    if (c.flags != 0 || c.reserved != 0) return Result::invalid_request;
    switch (c.kind) {
      case CommandKind::config_set: {
        const ConfigBody& b = c.body.config;
        // The simulation only sends these fields, with valid values.
        if (b.mask & (1u << 0)) config.withdraw_reserve_min = b.values.withdraw_reserve_min;
        if (b.mask & (1u << 10)) config.wallet_gift_days = b.values.wallet_gift_days;
        if (b.mask & (1u << 11)) config.points_gift_days = b.values.points_gift_days;
        if (b.mask & (1u << 12)) config.withdraw_max_rate_bp = b.values.withdraw_max_rate_bp;
        if (b.mask & (1u << 14)) config.withdraw_enabled = b.values.withdraw_enabled;
        if (b.mask & (1u << 1)) config.recharge_min = b.values.recharge_min;
        if (b.mask & (1u << 2)) config.recharge_max = b.values.recharge_max;
        if (b.mask & (1u << 8)) config.recharge_timeout_s = b.values.recharge_timeout_s;
        if (b.mask & (1u << 9)) config.voucher_fail_limit = b.values.voucher_fail_limit;
        if (b.mask & (1u << 3)) config.wallet_max_balance = b.values.wallet_max_balance;
        if (b.mask & (1u << 5)) config.points_offset_rate = b.values.points_offset_rate;
        if (b.mask & (1u << 6)) config.points_use_min = b.values.points_use_min;
        if (b.mask & (1u << 7)) config.payment_hold_timeout_s = b.values.payment_hold_timeout_s;
        if (b.mask & (1u << 13)) config.wallet_auto_open = b.values.wallet_auto_open;
        return Result::ok;
      }
      case CommandKind::merchant_set: {
        const MerchantBody& b = c.body.merchant;
        if (b.merchant_id == 0 || b.split_payment_allowed > 1) return Result::invalid_request;
        auto it = merchants.find(b.merchant_id);
        if (it != merchants.end()) {
          it->second.first = b.split_payment_allowed;
          return Result::ok;
        }
        system_ready = true;
        merchants[b.merchant_id] = {b.split_payment_allowed != 0, 0};
        return Result::ok;
      }
      case CommandKind::member_register: {
        const MemberBody& b = c.body.member;
        if (b.member_id == 0 || b.enabled != 0) return Result::invalid_request;
        if (auto it = members.find(b.member_id); it != members.end()) {
          if (it->second.phone != b.phone_hash || it->second.requested_group != b.group_id) {
            return Result::id_reused;
          }
          set_member_reply(it->second, b.member_id, r);
          r.flags |= reply_flag_replayed;
          return Result::ok;
        }
        const uint32_t group = b.group_id == 0 ? 1 : b.group_id;
        if (group > 2) return Result::not_found;
        if (b.phone_hash != 0) {
          for (const auto& [id, m] : members) {
            if (m.phone == b.phone_hash) return Result::invalid_state;
          }
        }
        if (members.size() == members_capacity) return Result::capacity_exhausted;
        system_ready = true;
        ModelMember m;
        m.index = static_cast<uint32_t>(members.size());
        m.phone = b.phone_hash;
        m.requested_group = b.group_id;
        m.group = group;
        m.enabled = config.wallet_auto_open != 0;
        members[b.member_id] = m;
        set_member_reply(m, b.member_id, r);
        return Result::ok;
      }
      case CommandKind::member_set_wallet: {
        const MemberBody& b = c.body.member;
        if (b.enabled > 1 || b.phone_hash != 0 || b.group_id != 0) return Result::invalid_request;
        auto it = members.find(b.member_id);
        if (it == members.end()) return Result::not_found;
        it->second.enabled = b.enabled;
        set_member_reply(it->second, b.member_id, r);
        return Result::ok;
      }
      case CommandKind::member_credit:
      case CommandKind::member_debit:
      case CommandKind::rebate: {
        const MoneyBody& b = c.body.money;
        const bool debit = c.kind == CommandKind::member_debit;
        if (b.amount <= 0 || b.amount > domain_amount_max) return Result::invalid_request;
        if (b.asset > asset_points || b.source > 1) return Result::invalid_request;
        if (c.kind == CommandKind::rebate && (b.asset != asset_wallet || b.source != 0)) {
          return Result::invalid_request;
        }
        if (b.source == 1 && (debit || b.asset != asset_wallet)) return Result::invalid_request;
        auto it = members.find(b.member_id);
        if (it == members.end()) return Result::not_found;
        ModelMember& m = it->second;
        const bool wallet = b.asset == asset_wallet;
        if (wallet && !m.enabled) return Result::wallet_disabled;
        int64_t& bal = wallet ? m.wallet : m.points;
        const int64_t held = wallet ? m.wallet_held : m.points_held;
        if (debit && bal - held < b.amount) return Result::insufficient_funds;
        if (!debit && wallet && config.wallet_max_balance != 0 &&
            bal + b.amount > config.wallet_max_balance) {
          return Result::limit_exceeded;
        }
        bal += debit ? -b.amount : b.amount;
        if (b.source == 1) clearing[1] -= b.amount;
        ReplyData d{};
        d.v[0] = b.amount;
        d.v[1] = bal;
        simple[c.id] = {fp, d};
        set_reply_data(r, d);
        return Result::ok;
      }
      case CommandKind::gift: {
        const GiftBody& b = c.body.gift;
        if (b.amount <= 0 || b.amount > domain_amount_max || b.message_length > 200 ||
            b.from_member_id == b.to_member_id) {
          return Result::invalid_request;
        }
        auto f = members.find(b.from_member_id);
        auto t = members.find(b.to_member_id);
        if (f == members.end() || t == members.end()) return Result::not_found;
        if (!f->second.enabled || !t->second.enabled) return Result::wallet_disabled;
        if (f->second.wallet - f->second.wallet_held < b.amount) return Result::insufficient_funds;
        if (config.wallet_max_balance != 0 &&
            t->second.wallet + b.amount > config.wallet_max_balance) {
          return Result::limit_exceeded;
        }
        f->second.wallet -= b.amount;
        t->second.wallet += b.amount;
        ReplyData d{};
        d.v[0] = b.amount;
        d.v[1] = f->second.wallet;
        simple[c.id] = {fp, d};
        set_reply_data(r, d);
        return Result::ok;
      }
      case CommandKind::payment_create:
        return pay(c, fp, r);
      case CommandKind::payment_capture:
      case CommandKind::payment_void:
      case CommandKind::payment_confirm_external:
        return close(c, fp, r);
      case CommandKind::payment_refund:
        return refund(c, fp, r);
      case CommandKind::recharge_method_set: {
        const MethodBody& b = c.body.method;
        if (b.method_id == 0 || b.channel > 3 || b.enabled > 1 ||
            b.payee_count > payees_per_method_max) {
          return Result::invalid_request;
        }
        auto it = methods.find(b.method_id);
        if (it == methods.end() && methods.size() == methods_max) {
          return Result::capacity_exhausted;
        }
        MethodM& m = methods[b.method_id];
        m.channel = b.channel;
        m.enabled = b.enabled;
        m.payees = b.payee_count;
        return Result::ok;
      }
      case CommandKind::recharge_create:
        return recharge_create(c, fp, r);
      case CommandKind::withdrawal_create:
        return withdraw(c, fp, r);
      case CommandKind::order_complete:
        return complete(c, fp, r);
      case CommandKind::withdrawal_approve:
      case CommandKind::withdrawal_reject:
        return decide(c, fp, r);
      case CommandKind::recharge_confirm:
        return recharge_confirm(c, r);
      case CommandKind::voucher_batch_create:
        return batch_create(c, fp, r);
      case CommandKind::voucher_batch_add_codes:
        return add_codes(c, r);
      case CommandKind::voucher_batch_void: {
        const BatchCodesBody& b = c.body.batch_codes;
        if (b.count != 0 || b.first_index != 0) return Result::invalid_request;
        auto it = batches.find(b.batch_id);
        if (it == batches.end()) return Result::not_found;
        BatchM& bm = it->second;
        if (bm.state == batch_voided) {
          if (bm.void_id == c.id) {
            set_reply_data(r, batch_data(bm, c.time_us));
            r.flags |= reply_flag_replayed;
            return Result::ok;
          }
          return Result::invalid_state;
        }
        if (bm.state == batch_building) codes_reserved -= bm.quantity - bm.added;
        bm.voided = bm.quantity - bm.redeemed;
        bm.state = batch_voided;
        bm.void_id = c.id;
        set_reply_data(r, batch_data(bm, c.time_us));
        return Result::ok;
      }
      case CommandKind::voucher_redeem:
      case CommandKind::voucher_redeem_to_wallet:
        return redeem(c, r);
      default:
        return Result::invalid_request;
    }
  }

  ReplyData order_data(const ModelOrder& o) const {
    ReplyData d{};
    d.state = o.state[0];
    d.detail = o.state[1];
    d.aux32 = o.group_after;
    d.v[0] = o.granted[0];
    d.v[1] = static_cast<int64_t>(o.matures[0]);
    d.v[2] = o.granted[1];
    d.v[3] = static_cast<int64_t>(o.matures[1]);
    d.v[4] = o.open[0];
    d.v[5] = o.open[1];
    return d;
  }
  Result complete(const Command& c, uint64_t fp, Reply& r) {
    const OrderBody& b = c.body.order;
    if (b.amount <= 0 || b.amount > domain_amount_max) return Result::invalid_request;
    int64_t lines = 0;
    for (const OrderLine& l : b.lines) {
      if (l.amount < 0 || l.amount > domain_amount_max) return Result::invalid_request;
      if ((l.cashback_bp != rate_of_group && l.cashback_bp > 10000) ||
          (l.earn_points_bp != rate_of_group && l.earn_points_bp > 10000)) {
        return Result::invalid_request;
      }
      lines += l.amount;
    }
    if (lines > b.amount) return Result::invalid_request;
    if (auto it = orders.find(c.id); it != orders.end()) {
      if (it->second.fp != fp) return Result::id_reused;
      set_reply_data(r, order_data(it->second));
      r.flags |= reply_flag_replayed;
      return Result::ok;
    }
    auto mi = members.find(b.member_id);
    if (mi == members.end()) return Result::not_found;
    if (merchants.find(b.merchant_id) == merchants.end()) return Result::not_found;
    ModelMember& m = mi->second;
    if (!b.payment_id.is_zero()) {
      auto pi = payments.find(b.payment_id);
      if (pi == payments.end()) return Result::not_found;
      if (pi->second.member != b.member_id) return Result::invalid_request;
      if (order_of_payment.count(b.payment_id)) return Result::invalid_state;
    }
    ModelOrder o;
    o.member = b.member_id;
    o.amount = b.amount;
    o.fp = fp;
    const uint32_t g = m.group;
    auto earn = [&](int64_t amount, uint32_t cb, uint32_t ep) {
      o.granted[0] += scale(amount, cb == rate_of_group ? cashback_bp[g] : cb, 10000);
      o.granted[1] += scale(amount, ep == rate_of_group ? earn_points_bp[g] : ep, 1000000);
    };
    for (const OrderLine& l : b.lines) {
      if (l.amount != 0) earn(l.amount, l.cashback_bp, l.earn_points_bp);
    }
    earn(b.amount - lines, rate_of_group, rate_of_group);
    o.matures[0] = c.time_us + uint64_t{config.wallet_gift_days} * 86'400'000'000ull;
    o.matures[1] = c.time_us + uint64_t{config.points_gift_days} * 86'400'000'000ull;
    for (int k = 0; k < 2; k++) {
      o.open[k] = o.granted[k];
      if (o.granted[k] > 0) o.state[k] = grant_maturing;
    }
    m.cumulative += b.amount;
    uint32_t best = m.group;
    for (uint32_t k = 1; k <= 2; k++) {
      if (upgrade_threshold[k] <= m.cumulative && upgrade_threshold[k] > upgrade_threshold[best]) {
        best = k;
      }
    }
    m.group = best;
    o.group_after = best;
    orders[c.id] = o;
    if (o.state[0] == grant_maturing || o.state[1] == grant_maturing) open_orders.insert(c.id);
    if (!b.payment_id.is_zero()) order_of_payment[b.payment_id] = c.id;
    set_reply_data(r, order_data(o));
    return Result::ok;
  }

  int64_t limit(const ModelMember& m) const {
    const int64_t available = m.wallet - m.wallet_held;
    const int64_t by_rate = available * config.withdraw_max_rate_bp / 10000;
    const int64_t v = std::min(by_rate, available - config.withdraw_reserve_min);
    return v > 0 ? v : 0;
  }
  ReplyData withdrawal_data(const WithdrawalM& w) const {
    ReplyData d{};
    d.state = w.state;
    d.aux32 = w.feedback;
    d.v[0] = w.amount;
    d.v[1] = static_cast<int64_t>(w.member);
    d.v[2] = static_cast<int64_t>(w.created);
    d.v[3] = static_cast<int64_t>(w.decided);
    d.v[4] = 0xfeed;
    return d;
  }
  Result withdraw(const Command& c, uint64_t fp, Reply& r) {
    const WithdrawalBody& b = c.body.withdrawal;
    if (b.amount <= 0 || b.amount > domain_amount_max) return Result::invalid_request;
    if (auto it = withdrawals.find(c.id); it != withdrawals.end()) {
      if (it->second.fp != fp) return Result::id_reused;
      set_reply_data(r, withdrawal_data(it->second));
      r.flags |= reply_flag_replayed;
      return Result::ok;
    }
    if (!config.withdraw_enabled) return Result::withdrawals_disabled;
    auto mi = members.find(b.member_id);
    if (mi == members.end()) return Result::not_found;
    if (!mi->second.enabled) return Result::wallet_disabled;
    if (b.amount > limit(mi->second)) {
      ReplyData d{};
      d.v[0] = limit(mi->second);
      set_reply_data(r, d);
      return Result::limit_exceeded;
    }
    WithdrawalM w;
    w.member = b.member_id;
    w.amount = b.amount;
    w.created = c.time_us;
    w.fp = fp;
    mi->second.wallet_held += b.amount;
    withdrawals[c.id] = w;
    set_reply_data(r, withdrawal_data(w));
    return Result::ok;
  }
  Result decide(const Command& c, uint64_t fp, Reply& r) {
    const WithdrawalOpBody& b = c.body.withdrawal_op;
    const bool approve = c.kind == CommandKind::withdrawal_approve;
    if (approve ? b.feedback_length != 0 : b.feedback_length == 0) return Result::invalid_request;
    auto it = withdrawals.find(b.withdrawal_id);
    if (it == withdrawals.end()) return Result::not_found;
    WithdrawalM& w = it->second;
    if (w.op_id == c.id) {
      if (w.op_fp != fp) return Result::id_reused;
      set_reply_data(r, withdrawal_data(w));
      r.flags |= reply_flag_replayed;
      return Result::ok;
    }
    if (w.state != withdrawal_pending) return Result::invalid_state;
    ModelMember& m = members[w.member];
    m.wallet_held -= w.amount;
    if (approve) {
      m.wallet -= w.amount;
      payout += w.amount;
    }
    w.state = approve ? withdrawal_approved : withdrawal_rejected;
    w.feedback = b.feedback_length;
    w.decided = c.time_us;
    w.op_id = c.id;
    w.op_fp = fp;
    set_reply_data(r, withdrawal_data(w));
    return Result::ok;
  }

  ReplyData recharge_data(const RechargeM& x, uint64_t now) const {
    ReplyData d{};
    d.state = x.state == recharge_pending && now >= x.expires ? uint8_t{recharge_expired} : x.state;
    d.detail = x.channel;
    d.aux16 = x.payee;
    d.aux32 = x.method;
    d.v[0] = x.amount;
    d.v[1] = static_cast<int64_t>(x.expires);
    d.v[2] = x.confirmed;
    d.v[3] = static_cast<int64_t>(x.member);
    d.v[4] = static_cast<int64_t>(x.created);
    return d;
  }
  ReplyData batch_data(const BatchM& b, uint64_t now) const {
    ReplyData d{};
    d.state = b.state;
    d.detail = b.kind;
    d.aux32 = b.added;
    const int64_t unredeemed = int64_t{b.quantity} - b.redeemed - b.voided;
    d.v[0] = b.quantity;
    d.v[1] = b.redeemed;
    d.v[2] = b.redeemed_amount;
    d.v[3] = b.state != batch_voided && now >= b.until ? unredeemed : 0;
    d.v[4] = b.voided;
    d.v[5] = b.face;
    return d;
  }
  ReplyData code_data(const CodeM& x, uint64_t now) const {
    const BatchM& b = batches.at(x.batch);
    ReplyData d{};
    d.state = x.redeemed                ? voucher_state_redeemed
              : b.state == batch_voided ? voucher_state_void
              : now >= b.until          ? voucher_state_expired
                                        : voucher_unredeemed;
    d.detail = b.kind;
    d.v[0] = b.face;
    d.v[1] = static_cast<int64_t>(x.at);
    d.v[2] = static_cast<int64_t>(x.by);
    d.v[3] = static_cast<int64_t>(b.id.lo);
    d.v[4] = static_cast<int64_t>(b.id.hi);
    d.v[5] = static_cast<int64_t>(b.merchant);
    return d;
  }

  Result recharge_create(const Command& c, uint64_t fp, Reply& r) {
    const RechargeBody& b = c.body.recharge;
    if (b.amount <= 0 || b.amount > domain_amount_max) return Result::invalid_request;
    if (auto it = recharges.find(c.id); it != recharges.end()) {
      if (it->second.fp != fp) return Result::id_reused;
      set_reply_data(r, recharge_data(it->second, c.time_us));
      r.flags |= reply_flag_replayed;
      return Result::ok;
    }
    auto mi = members.find(b.member_id);
    if (mi == members.end()) return Result::not_found;
    auto me = methods.find(b.method_id);
    if (me == methods.end()) return Result::not_found;
    if (!me->second.enabled) return Result::invalid_state;
    if (!mi->second.enabled) return Result::wallet_disabled;
    if (b.amount < config.recharge_min || b.amount > config.recharge_max) {
      return Result::limit_exceeded;
    }
    if (config.wallet_max_balance != 0 &&
        mi->second.wallet + b.amount > config.wallet_max_balance) {
      return Result::limit_exceeded;
    }
    RechargeM x;
    x.member = b.member_id;
    x.amount = b.amount;
    x.created = c.time_us;
    x.expires = c.time_us + uint64_t{config.recharge_timeout_s} * 1000000;
    x.method = b.method_id;
    x.channel = me->second.channel;
    x.fp = fp;
    if (me->second.payees > 0)
      x.payee = static_cast<uint16_t>(me->second.next++ % me->second.payees);
    recharges[c.id] = x;
    set_reply_data(r, recharge_data(x, c.time_us));
    return Result::ok;
  }

  Result recharge_confirm(const Command& c, Reply& r) {
    const RechargeConfirmBody& b = c.body.recharge_confirm;
    if (b.amount <= 0 || b.amount > domain_amount_max || b.channel_txn.is_zero()) {
      return Result::invalid_request;
    }
    auto it = recharges.find(b.recharge_id);
    if (it == recharges.end()) return Result::not_found;
    RechargeM& x = it->second;
    if (x.state != recharge_pending) {
      if (x.txn == b.channel_txn && x.confirmed == b.amount) {
        set_reply_data(r, recharge_data(x, c.time_us));
        r.flags |= reply_flag_replayed;
        return Result::ok;
      }
      return Result::invalid_state;
    }
    x.txn = b.channel_txn;
    x.confirmed = b.amount;
    if (b.amount != x.amount) {
      x.state = recharge_amount_mismatch;
    } else {
      members[x.member].wallet += x.amount;
      clearing[x.channel] -= x.amount;
      x.state = c.time_us >= x.expires ? recharge_paid_late : recharge_paid;
    }
    set_reply_data(r, recharge_data(x, c.time_us));
    return Result::ok;
  }

  Result batch_create(const Command& c, uint64_t fp, Reply& r) {
    const BatchBody& b = c.body.batch;
    if ((b.kind != voucher_paper && b.kind != voucher_card) || b.face_value <= 0 ||
        b.face_value > domain_amount_max || b.quantity == 0 ||
        b.quantity > voucher_batch_quantity_max || b.valid_from_us >= b.valid_until_us) {
      return Result::invalid_request;
    }
    if (auto it = batches.find(c.id); it != batches.end()) {
      if (it->second.fp != fp) return Result::id_reused;
      set_reply_data(r, batch_data(it->second, c.time_us));
      r.flags |= reply_flag_replayed;
      return Result::ok;
    }
    if (merchants.find(b.merchant_id) == merchants.end()) return Result::not_found;
    if (codes.size() + codes_reserved + b.quantity > vouchers_capacity) {
      return Result::capacity_exhausted;
    }
    BatchM x;
    x.merchant = b.merchant_id;
    x.kind = b.kind;
    x.face = b.face_value;
    x.quantity = b.quantity;
    x.from = b.valid_from_us;
    x.until = b.valid_until_us;
    x.fp = fp;
    x.id = c.id;
    codes_reserved += b.quantity;
    batches[c.id] = x;
    set_reply_data(r, batch_data(x, c.time_us));
    return Result::ok;
  }

  Result add_codes(const Command& c, Reply& r) {
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
    auto it = batches.find(b.batch_id);
    if (it == batches.end()) return Result::not_found;
    BatchM& x = it->second;
    if (x.state != batch_building || b.first_index != x.added) return Result::invalid_state;
    if (uint64_t{x.added} + b.count > x.quantity) return Result::limit_exceeded;
    for (uint32_t k = 0; k < b.count; k++) {
      if (codes.count(b.codes[k])) return Result::invalid_request;
    }
    for (uint32_t k = 0; k < b.count; k++)
      codes[b.codes[k]] = CodeM{b.batch_id, false, 0, 0};
    codes_reserved -= b.count;
    x.added += b.count;
    if (x.added == x.quantity) x.state = batch_active;
    set_reply_data(r, batch_data(x, c.time_us));
    return Result::ok;
  }

  Result redeem(const Command& c, Reply& r) {
    const RedeemBody& b = c.body.redeem;
    const bool paper = c.kind == CommandKind::voucher_redeem;
    if (paper ? (b.member_id != 0 || b.merchant_id == 0 || b.store_id == 0)
              : (b.member_id == 0 || b.store_id != 0 || b.merchant_id != 0)) {
      return Result::invalid_request;
    }
    const uint64_t window = c.time_us / voucher_guard_window_us;
    const std::pair<uint64_t, uint64_t> key =
        paper ? std::pair{b.merchant_id, b.store_id}
              : std::pair{uint64_t{0}, members.count(b.member_id) ? b.member_id : 0};
    const std::pair<uint64_t, uint64_t> all_stores{b.merchant_id, 0};
    auto failures = [&](const std::pair<uint64_t, uint64_t>& k) -> uint64_t {
      auto it = guard.find(k);
      return it != guard.end() && it->second.window == window ? it->second.failures : 0;
    };
    const uint64_t limit = config.voucher_fail_limit;
    if (limit != 0 && (failures(key) >= limit ||
                       (paper && failures(all_stores) >= limit * voucher_guard_merchant_factor))) {
      return Result::rate_limited;
    }
    auto fail = [&](const std::pair<uint64_t, uint64_t>& k) {
      GuardM& g = guard[k];
      if (g.window != window) g = GuardM{window, 0};
      g.failures++;
    };
    const Result res = [&]() -> Result {
      auto ci = codes.find(b.code);
      if (ci == codes.end()) return Result::not_found;
      CodeM& x = ci->second;
      BatchM& bm = batches.at(x.batch);
      if (bm.state == batch_building) return Result::not_found;
      if (bm.kind != (paper ? voucher_paper : voucher_card)) return Result::voucher_wrong_kind;
      if (x.redeemed) {
        set_reply_data(r, code_data(x, c.time_us));
        return Result::voucher_redeemed;
      }
      if (bm.state == batch_voided) return Result::voucher_void;
      if (paper && bm.merchant != b.merchant_id) return Result::voucher_wrong_merchant;
      if (c.time_us < bm.from) return Result::voucher_not_yet_valid;
      if (c.time_us >= bm.until) return Result::voucher_expired;
      if (paper) {
        merchants[bm.merchant].second += bm.face;
        settle(2, b.merchant_id, b.store_id, c.time_us, bm.face);
      } else {
        auto mi = members.find(b.member_id);
        if (mi == members.end()) return Result::not_found;
        if (!mi->second.enabled) return Result::wallet_disabled;
        if (config.wallet_max_balance != 0 &&
            mi->second.wallet + bm.face > config.wallet_max_balance) {
          return Result::limit_exceeded;
        }
        mi->second.wallet += bm.face;
      }
      liability -= bm.face;
      x.redeemed = true;
      x.at = c.time_us;
      x.by = paper ? b.store_id : b.member_id;
      bm.redeemed++;
      bm.redeemed_amount += bm.face;
      set_reply_data(r, code_data(x, c.time_us));
      return Result::ok;
    }();
    if (res != Result::ok) {
      fail(key);
      if (paper) fail(all_stores);
    }
    return res;
  }

  Result pay(const Command& c, uint64_t fp, Reply& r) {
    const PaymentBody& b = c.body.payment;
    if (b.amount <= 0 || b.amount > domain_amount_max || b.points < 0 ||
        b.points > domain_amount_max || b.external_amount < 0 || b.external_amount >= b.amount ||
        b.capture > 1) {
      return Result::invalid_request;
    }
    auto mi = members.find(b.member_id);
    if (mi == members.end()) return Result::not_found;
    auto xi = merchants.find(b.merchant_id);
    if (xi == merchants.end()) return Result::not_found;
    ModelMember& m = mi->second;
    if (!m.enabled) return Result::wallet_disabled;
    if (b.external_amount > 0 && !xi->second.first) return Result::split_not_allowed;
    int64_t value = 0;
    if (b.points > 0) {
      ReplyData d{};
      if (b.points < config.points_use_min) {
        d.detail = points_rule_min;
      } else if (b.points > m.points - m.points_held) {
        d.detail = points_rule_balance;
      }
      value = scale(b.points, 100, config.points_offset_rate);
      if (d.detail == 0 && value > scale(b.amount, use_points_bp[m.group], 10000)) {
        d.detail = points_rule_max_share;
      }
      if (d.detail != 0) {
        set_reply_data(r, d);
        return Result::points_rule;
      }
    }
    if (value + b.external_amount > b.amount) return Result::invalid_request;
    const int64_t wallet = b.amount - value - b.external_amount;
    if (wallet > m.wallet - m.wallet_held) return Result::insufficient_funds;
    ModelPayment p;
    p.member = b.member_id;
    p.store = b.store_id;
    p.merchant = b.merchant_id;
    p.amount = b.amount;
    p.parts[0] = wallet;
    p.parts[1] = b.points;
    p.parts[2] = value;
    p.parts[3] = b.external_amount;
    p.fp = fp;
    p.seq = c.seq;
    const bool now = b.capture == 1 && b.external_amount == 0;
    if (now) {
      p.state = payment_captured;
      p.captured = b.amount;
      settle(0, b.merchant_id, b.store_id, c.time_us, b.amount);
      for (int k = 0; k < 4; k++)
        p.captured_parts[k] = p.parts[k];
      m.wallet -= wallet;
      m.points -= b.points;
      xi->second.second += wallet + value;
      system[4] += b.points;  // issuance
      system[5] -= value;     // funding
    } else {
      p.state = b.external_amount > 0 ? payment_awaiting_external : payment_held;
      p.expires_us = c.time_us + uint64_t{config.payment_hold_timeout_s} * 1000000;
      m.wallet_held += wallet;
      m.points_held += b.points;
      open_payments.insert(c.id);
    }
    payments[c.id] = p;
    set_reply_data(r, payment_data(p, c.time_us));
    return Result::ok;
  }

  Result close(const Command& c, uint64_t fp, Reply& r) {
    const PaymentOpBody& b = c.body.payment_op;
    const bool capture = c.kind == CommandKind::payment_capture;
    const bool confirm = c.kind == CommandKind::payment_confirm_external;
    if (capture && (b.amount < 0 || b.amount > domain_amount_max || !b.channel_txn.is_zero())) {
      return Result::invalid_request;
    }
    if (!capture && !confirm && (b.amount != 0 || !b.channel_txn.is_zero())) {
      return Result::invalid_request;
    }
    if (confirm && (b.amount <= 0 || b.channel_txn.is_zero())) return Result::invalid_request;
    auto it = payments.find(b.payment_id);
    if (it == payments.end()) return Result::not_found;
    ModelPayment& p = it->second;
    if (p.op_id == c.id) {
      if (p.op_fp != fp) return Result::id_reused;
      set_reply_data(r, payment_data(p, c.time_us));
      r.flags |= reply_flag_replayed;
      return Result::ok;
    }
    ModelMember& m = members[p.member];
    auto& merchant_balance = merchants[p.merchant].second;
    const bool open = p.state == payment_held || p.state == payment_awaiting_external;
    if (capture) {
      if (p.state != payment_held || c.time_us >= p.expires_us) return Result::invalid_state;
      const int64_t amount = b.amount == 0 ? p.amount : b.amount;
      if (amount > p.amount) return Result::limit_exceeded;
      int64_t take[3];
      take[1] = scale(p.parts[1], amount, p.amount);
      take[2] = scale(p.parts[2], amount, p.amount);
      take[0] = amount - take[2];
      m.wallet_held -= p.parts[0];
      m.points_held -= p.parts[1];
      m.wallet -= take[0];
      m.points -= take[1];
      merchant_balance += take[0] + take[2];
      system[4] += take[1];
      system[5] -= take[2];
      p.state = payment_captured;
      p.captured = amount;
      settle(0, p.merchant, p.store, c.time_us, amount);
      for (int k = 0; k < 3; k++)
        p.captured_parts[k] = take[k];
    } else if (confirm) {
      if (p.state != payment_awaiting_external || c.time_us >= p.expires_us) {
        return Result::invalid_state;
      }
      if (b.amount != p.parts[3]) return Result::invalid_request;
      m.wallet_held -= p.parts[0];
      m.points_held -= p.parts[1];
      m.wallet -= p.parts[0];
      m.points -= p.parts[1];
      merchant_balance += p.parts[0] + p.parts[2];
      system[4] += p.parts[1];
      system[5] -= p.parts[2];
      p.state = payment_captured;
      p.captured = p.amount;
      settle(0, p.merchant, p.store, c.time_us, p.amount);
      for (int k = 0; k < 4; k++)
        p.captured_parts[k] = p.parts[k];
    } else {
      if (!open || c.time_us >= p.expires_us) return Result::invalid_state;
      m.wallet_held -= p.parts[0];
      m.points_held -= p.parts[1];
      p.state = payment_voided;
    }
    p.op_id = c.id;
    p.op_fp = fp;
    open_payments.erase(b.payment_id);
    set_reply_data(r, payment_data(p, c.time_us));
    return Result::ok;
  }

  Result refund(const Command& c, uint64_t fp, Reply& r) {
    const PaymentOpBody& b = c.body.payment_op;
    if (b.amount <= 0 || b.amount > domain_amount_max || !b.channel_txn.is_zero()) {
      return Result::invalid_request;
    }
    auto it = payments.find(b.payment_id);
    if (it == payments.end()) return Result::not_found;
    ModelPayment& p = it->second;
    if (p.state != payment_captured) return Result::invalid_state;
    if (b.amount > p.captured - p.refunded) return Result::limit_exceeded;
    const bool last = p.refunded + b.amount == p.captured;
    int64_t back[4];
    for (int k = 0; k < 4; k++) {
      back[k] = last ? p.captured_parts[k] - p.refunded_parts[k]
                     : scale(p.captured_parts[k], b.amount, p.captured);
    }
    ModelMember& m = members[p.member];
    m.wallet += back[0];
    m.points += back[1];
    merchants[p.merchant].second -= back[0] + back[2];
    system[4] -= back[1];
    system[5] += back[2];
    p.refunded += b.amount;
    settle(1, p.merchant, p.store, c.time_us, b.amount);
    for (int k = 0; k < 4; k++)
      p.refunded_parts[k] += back[k];
    if (auto oi = order_of_payment.find(b.payment_id); oi != order_of_payment.end()) {
      ModelOrder& o = orders.at(oi->second);
      for (int k = 0; k < 2; k++) {
        if (o.state[k] != grant_maturing || c.time_us >= o.matures[k]) continue;
        int64_t keep = p.refunded >= p.captured
                           ? 0
                           : o.granted[k] - scale(o.granted[k], p.refunded, p.captured);
        if (keep > o.open[k]) keep = o.open[k];
        o.open[k] = keep;
        if (keep == 0) o.state[k] = grant_state_cancelled;
      }
    }
    ReplyData d{};
    d.v[0] = b.amount;
    d.v[1] = back[0];
    d.v[2] = back[1];
    d.v[3] = back[3];
    d.v[4] = back[2];
    refunds[c.id] = {fp, d};
    set_reply_data(r, d);
    return Result::ok;
  }
};

}  // namespace coffer::test
