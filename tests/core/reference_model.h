// A deliberately simple model of the core ledger, written for clarity, not speed:
// std::map for everything, a whole-state copy to roll back a linked chain, a
// full sort to find what a tick settles. The simulation runs it beside
// coffer::Ledger and compares every reply and balance.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <vector>

#include "core/ledger.h"
#include "core/types.h"

namespace coffer::test {

struct RefAccount {
  uint64_t id = 0;
  Asset asset = 0;
  AccountKind kind = AccountKind::none;
  uint16_t flags = 0;
  int64_t debits_posted = 0;
  int64_t credits_posted = 0;
  int64_t debits_pending = 0;
  int64_t credits_pending = 0;

  int64_t available() const { return credits_posted - debits_posted - debits_pending; }
};

struct RefPending {
  Id128 id{};
  uint64_t debit_id = 0;
  uint64_t credit_id = 0;
  int64_t amount = 0;
  uint64_t due_us = 0;
  uint64_t seq = 0;
  uint64_t fingerprint = 0;
  PendingKind kind = PendingKind::hold;
};

class ReferenceModel {
 public:
  explicit ReferenceModel(const LedgerConfig& config) : config_(config) {}

  std::map<uint64_t, RefAccount> accounts;
  std::map<Id128, RefPending> pending;

  // Applies a batch: each unlinked command alone, each linked chain as a whole.
  std::vector<Reply> apply(std::span<const Command> commands) {
    std::vector<Reply> replies(commands.size());
    size_t i = 0;
    while (i < commands.size()) {
      if (!(commands[i].flags & command_flag_linked)) {
        replies[i] = apply_single(commands[i]);
        i++;
        continue;
      }
      size_t end = i;
      while (end < commands.size() && (commands[end].flags & command_flag_linked))
        end++;
      if (end == commands.size()) {
        for (size_t k = i; k < end; k++) {
          replies[k].result =
              k + 1 == end ? Result::linked_chain_open : Result::linked_event_failed;
        }
        break;
      }
      end++;
      if (end - i > linked_chain_length_max) {
        for (size_t k = i; k < end; k++)
          replies[k].result = Result::linked_chain_too_long;
      } else {
        apply_chain(commands.subspan(i, end - i), std::span(replies).subspan(i, end - i));
      }
      i = end;
    }
    return replies;
  }

  bool is_remembered(const Id128& id) const { return remembered_.count(id) != 0; }

 private:
  struct Remembered {
    uint64_t fingerprint;
    Result result;
  };

  LedgerConfig config_;
  std::map<Id128, Remembered> remembered_;
  std::deque<Id128> remembered_order_;  // oldest first

  void remember(const Id128& id, uint64_t fingerprint, Result result) {
    if (remembered_order_.size() == config_.idempotency_capacity) {
      remembered_.erase(remembered_order_.front());
      remembered_order_.pop_front();
    }
    remembered_[id] = Remembered{fingerprint, result};
    remembered_order_.push_back(id);
  }

  static bool is_read_or_tick(const Command& c) {
    return c.kind == CommandKind::tick || c.kind == CommandKind::lookup_account;
  }

  // Idempotency checks. Returns true (and sets the reply) if the command must not run.
  bool check_id(const Command& c, std::span<const Command> chain_before, Reply& reply) {
    const uint64_t fp = Ledger::fingerprint(c);
    auto it = remembered_.find(c.id);
    if (it != remembered_.end()) {
      if (it->second.fingerprint == fp) {
        reply.result = it->second.result;
        reply.flags = reply_flag_replayed;
      } else {
        reply.result = Result::id_reused;
      }
      return true;
    }
    for (const Command& earlier : chain_before) {
      if (earlier.id == c.id) {
        reply.result = Result::id_reused;
        return true;
      }
    }
    auto p = pending.find(c.id);
    if (p != pending.end()) {
      if (p->second.fingerprint == fp) {
        reply.result = Result::ok;
        reply.flags = reply_flag_replayed;
      } else {
        reply.result = Result::id_reused;
      }
      return true;
    }
    return false;
  }

  Reply apply_single(const Command& c) {
    Reply reply{};
    if (c.flags & command_flag_linked) {
      reply.result = Result::linked_chain_open;
      return reply;
    }
    if (is_read_or_tick(c)) {
      if (c.flags != 0 || c.reserved != 0) {
        reply.result = Result::invalid_request;
      } else if (c.kind == CommandKind::tick) {
        reply.result = tick(c.time_us, reply);
      } else {
        reply.result = lookup(c.body.account.account_id, reply);
      }
      return reply;
    }
    if (c.id.is_zero()) {
      reply.result = Result::invalid_request;
      return reply;
    }
    if (check_id(c, {}, reply)) return reply;
    reply.result = execute(c, reply);
    remember(c.id, Ledger::fingerprint(c), reply.result);
    return reply;
  }

  void apply_chain(std::span<const Command> chain, std::span<Reply> replies) {
    const auto saved_accounts = accounts;
    const auto saved_pending = pending;
    std::vector<bool> executed(chain.size(), false);
    size_t failed = chain.size();
    for (size_t k = 0; k < chain.size(); k++) {
      const Command& c = chain[k];
      Reply& reply = replies[k];
      reply = Reply{};
      if (is_read_or_tick(c) || c.id.is_zero()) {
        reply.result = Result::invalid_request;
      } else {
        // Earlier members that ran count as "in the chain" for duplicate ids.
        std::vector<Command> ran;
        for (size_t e = 0; e < k; e++) {
          if (executed[e]) ran.push_back(chain[e]);
        }
        if (!check_id(c, ran, reply)) {
          reply.result = execute(c, reply);
          executed[k] = true;
        }
      }
      if (reply.result != Result::ok) {
        failed = k;
        break;
      }
    }
    if (failed < chain.size()) {
      accounts = saved_accounts;
      pending = saved_pending;
      for (size_t k = 0; k < chain.size(); k++) {
        if (k == failed) continue;
        // Replays keep their first answer, also after the failure (not run).
        if (k < failed && (replies[k].flags & reply_flag_replayed)) continue;
        replies[k] = Reply{};
        replies[k].result = Result::linked_event_failed;
        if (k > failed && !is_read_or_tick(chain[k])) {
          auto it = remembered_.find(chain[k].id);
          if (it != remembered_.end() && it->second.fingerprint == Ledger::fingerprint(chain[k])) {
            replies[k].result = it->second.result;
            replies[k].flags = reply_flag_replayed;
          }
        }
      }
    }
    for (size_t k = 0; k < chain.size(); k++) {
      if (executed[k]) remember(chain[k].id, Ledger::fingerprint(chain[k]), replies[k].result);
    }
  }

  RefAccount* find(uint64_t id) {
    auto it = accounts.find(id);
    return it == accounts.end() ? nullptr : &it->second;
  }

  Result execute(const Command& c, Reply& reply) {
    if ((c.flags & ~command_flags_known) || c.reserved != 0) return Result::invalid_request;
    switch (c.kind) {
      case CommandKind::create_account:
        return create_account(c.body.create_account);
      case CommandKind::transfer:
        return transfer(c, reply);
      case CommandKind::post_pending:
      case CommandKind::void_pending:
      case CommandKind::shrink_grant:
      case CommandKind::cancel_grant:
        return pending_op(c, reply);
      case CommandKind::set_frozen:
        return set_frozen(c.body.account);
      default:
        return Result::invalid_request;
    }
  }

  Result create_account(const CreateAccountBody& b) {
    if (b.account_id == 0 || !account_kind_valid(b.kind) || (b.flags & ~account_flags_known)) {
      return Result::invalid_request;
    }
    if (accounts.count(b.account_id)) return Result::account_exists;
    if (accounts.size() == config_.accounts_capacity) return Result::capacity_exhausted;
    RefAccount a;
    a.id = b.account_id;
    a.asset = b.asset;
    a.kind = b.kind;
    a.flags = b.flags;
    accounts[a.id] = a;
    return Result::ok;
  }

  static bool side_fits(int64_t posted, int64_t pending_amount, int64_t amount) {
    // Both sides are at most account_total_max (2^62 - 1), so this cannot overflow.
    return amount <= account_total_max - posted - pending_amount;
  }

  Result transfer(const Command& c, Reply& reply) {
    const TransferBody& t = c.body.transfer;
    if (t.reserved0 != 0 || t.reserved1 != 0) return Result::invalid_request;
    if (t.mode == TransferMode::single_phase) {
      if (t.timeout_s != 0 || t.matures_at_us != 0) return Result::invalid_request;
    } else if (t.mode == TransferMode::hold) {
      if (t.matures_at_us != 0 || t.timeout_s > hold_timeout_s_max) return Result::invalid_request;
    } else if (t.mode == TransferMode::grant) {
      if (t.timeout_s != 0 || t.matures_at_us == 0) return Result::invalid_request;
    } else {
      return Result::invalid_request;
    }
    if (t.amount < 0) return Result::invalid_request;
    if (t.amount == 0) return Result::amount_zero;
    if (t.debit_account_id == t.credit_account_id) return Result::same_account;
    RefAccount* d = find(t.debit_account_id);
    if (!d) return Result::debit_account_not_found;
    RefAccount* cr = find(t.credit_account_id);
    if (!cr) return Result::credit_account_not_found;
    if (d->asset != t.asset || cr->asset != t.asset) return Result::asset_mismatch;
    if ((d->flags & account_flag_frozen) || (cr->flags & account_flag_frozen)) {
      return Result::account_frozen;
    }
    if (!side_fits(d->debits_posted, d->debits_pending, t.amount) ||
        !side_fits(cr->credits_posted, cr->credits_pending, t.amount)) {
      return Result::overflow;
    }
    if ((d->flags & account_flag_no_negative) && d->available() < t.amount) {
      return Result::insufficient_funds;
    }
    if (t.mode != TransferMode::single_phase && pending.size() == config_.pending_capacity) {
      return Result::capacity_exhausted;
    }
    if (t.mode == TransferMode::single_phase) {
      d->debits_posted += t.amount;
      cr->credits_posted += t.amount;
    } else {
      d->debits_pending += t.amount;
      cr->credits_pending += t.amount;
      RefPending p;
      p.id = c.id;
      p.debit_id = d->id;
      p.credit_id = cr->id;
      p.amount = t.amount;
      p.seq = c.seq;
      p.fingerprint = Ledger::fingerprint(c);
      if (t.mode == TransferMode::hold) {
        p.kind = PendingKind::hold;
        p.due_us = t.timeout_s == 0 ? 0 : c.time_us + uint64_t{t.timeout_s} * 1000000;
      } else {
        p.kind = PendingKind::grant;
        p.due_us = t.matures_at_us;
      }
      pending[p.id] = p;
    }
    reply.amount = t.amount;
    return Result::ok;
  }

  Result pending_op(const Command& c, Reply& reply) {
    const PendingBody& b = c.body.pending;
    const bool is_hold_op =
        c.kind == CommandKind::post_pending || c.kind == CommandKind::void_pending;
    if (b.amount < 0) return Result::invalid_request;
    if ((c.kind == CommandKind::void_pending || c.kind == CommandKind::cancel_grant) &&
        b.amount != 0) {
      return Result::invalid_request;
    }
    if (c.kind == CommandKind::shrink_grant && b.amount == 0) return Result::amount_zero;
    auto it = pending.find(b.pending_id);
    if (it == pending.end()) return Result::pending_not_found;
    RefPending p = it->second;
    if (is_hold_op && p.kind != PendingKind::hold) return Result::not_a_hold;
    if (!is_hold_op && p.kind != PendingKind::grant) return Result::not_a_grant;
    const bool due = p.due_us != 0 && c.time_us >= p.due_us;
    if (c.kind == CommandKind::post_pending && due) return Result::hold_expired;
    if (!is_hold_op && due) return Result::grant_matured;
    if (b.amount > p.amount) return Result::exceeds_pending;
    RefAccount& d = accounts.at(p.debit_id);
    RefAccount& cr = accounts.at(p.credit_id);
    if (c.kind == CommandKind::post_pending &&
        ((d.flags & account_flag_frozen) || (cr.flags & account_flag_frozen))) {
      return Result::account_frozen;
    }
    if (c.kind == CommandKind::shrink_grant) {
      d.debits_pending -= b.amount;
      cr.credits_pending -= b.amount;
      it->second.amount -= b.amount;
      reply.amount = it->second.amount;
      if (it->second.amount == 0) pending.erase(it);
      return Result::ok;
    }
    // post, void, cancel: the whole pending amount is released first.
    d.debits_pending -= p.amount;
    cr.credits_pending -= p.amount;
    if (c.kind == CommandKind::post_pending) {
      const int64_t posted = b.amount == 0 ? p.amount : b.amount;
      d.debits_posted += posted;
      cr.credits_posted += posted;
      reply.amount = posted;
    }
    pending.erase(it);
    return Result::ok;
  }

  Result set_frozen(const AccountBody& b) {
    if (b.frozen > 1) return Result::invalid_request;
    RefAccount* a = find(b.account_id);
    if (!a) return Result::not_found;
    if (b.frozen) {
      a->flags |= account_flag_frozen;
    } else {
      a->flags &= ~account_flag_frozen;
    }
    return Result::ok;
  }

  Result lookup(uint64_t account_id, Reply& reply) {
    RefAccount* a = find(account_id);
    if (!a) return Result::not_found;
    reply.asset = a->asset;
    reply.kind = a->kind;
    reply.account_flags = a->flags;
    reply.debits_posted = a->debits_posted;
    reply.credits_posted = a->credits_posted;
    reply.debits_pending = a->debits_pending;
    reply.credits_pending = a->credits_pending;
    return Result::ok;
  }

  Result tick(uint64_t now_us, Reply& reply) {
    std::vector<RefPending> due;
    for (const auto& [id, p] : pending) {
      if (p.due_us != 0 && p.due_us <= now_us) due.push_back(p);
    }
    std::sort(due.begin(), due.end(), [](const RefPending& a, const RefPending& b) {
      return a.due_us != b.due_us ? a.due_us < b.due_us : a.seq < b.seq;
    });
    if (due.size() > tick_items_max) due.resize(tick_items_max);
    for (const RefPending& p : due) {
      RefAccount& d = accounts.at(p.debit_id);
      RefAccount& cr = accounts.at(p.credit_id);
      d.debits_pending -= p.amount;
      cr.credits_pending -= p.amount;
      if (p.kind == PendingKind::grant) {
        d.debits_posted += p.amount;
        cr.credits_posted += p.amount;
      }
      pending.erase(p.id);
    }
    reply.amount = static_cast<int64_t>(due.size());
    return Result::ok;
  }
};

}  // namespace coffer::test
