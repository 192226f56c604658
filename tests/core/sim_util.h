// Shared by the core tests: a seeded generator of random command streams (valid
// and invalid, replays, id reuse, linked chains, expiries, ticks) over a small
// set of accounts, so that collisions and edge cases are frequent.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/ledger.h"
#include "core/types.h"

namespace coffer::test {

// splitmix64: fully specified, so a seed replays the same stream everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
  bool chance(uint32_t percent) { return below(100) < percent; }

 private:
  uint64_t state_;
};

inline uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}
inline bool soak() {
  return env_u64("COFFER_SOAK", 0) != 0;
}

class CommandGenerator {
 public:
  static constexpr uint64_t account_id_max = 40;  // ids 1..40; a few never created

  explicit CommandGenerator(uint64_t seed) : rng_(seed) {}

  // The next group to apply: one command, or one linked chain (2..5 members).
  std::vector<Command> next_group() {
    std::vector<Command> group;
    if (rng_.chance(6)) {
      const uint64_t length = 2 + rng_.below(4);
      for (uint64_t k = 0; k < length; k++) {
        Command c = next_command(/*in_chain=*/true);
        if (k + 1 < length) c.flags |= command_flag_linked;
        group.push_back(c);
      }
      // Rarely: a chain that is never closed (the group ends linked).
      if (rng_.chance(2)) group.back().flags |= command_flag_linked;
    } else {
      group.push_back(next_command(false));
    }
    for (Command& c : group)
      stamp(c);
    return group;
  }

  uint64_t time_us() const { return time_us_; }

 private:
  Rng rng_;
  uint64_t seq_ = 0;
  uint64_t time_us_ = 1'700'000'000'000'000;
  uint64_t next_ids_[3] = {1, 1, 1};  // per client (fresh_id)
  std::vector<Command> history_;      // recent commands, for replays and id reuse
  std::vector<Id128> pending_ids_;    // recent holds and grants, for post/void/...
  std::vector<Id128> never_expiring_;

  void stamp(Command& c) {
    c.seq = ++seq_;
    if (rng_.chance(30)) time_us_ += rng_.below(400'000);
    c.time_us = time_us_;
  }

  // Ids as clients make them: mostly in sequence, three clients interleaved,
  // and a quarter at random (as the edges' hashed ids are), so that the
  // indexes by id see both runs of consecutive lines and scattered ones.
  Id128 fresh_id() {
    if (rng_.chance(25)) return Id128{rng_.next() | 1, 0xfeed};
    const uint64_t client = rng_.below(3);
    return Id128{next_ids_[client]++, 0xc0ffee + client};
  }

  uint64_t account() { return 1 + rng_.below(account_id_max + 2); }

  int64_t amount() {
    const uint64_t r = rng_.below(1000);
    if (r < 10) return 0;
    if (r < 15) return -static_cast<int64_t>(rng_.below(10));
    if (r < 18) return account_total_max - static_cast<int64_t>(rng_.below(3));
    return 1 + static_cast<int64_t>(rng_.below(r < 500 ? 100 : 5000));
  }

  // Usually an account of the same asset, sometimes any.
  uint64_t partner(uint64_t d) {
    if (rng_.chance(10)) return account();
    uint64_t cr = 1 + rng_.below(account_id_max + 2);
    return cr % 2 == d % 2 ? cr : (cr > 1 ? cr - 1 : cr + 1);
  }

  // Accounts of odd id hold wallet money, even ids points: mismatches happen.
  static Asset asset_of(uint64_t account_id) { return account_id % 2; }

  Command next_command(bool in_chain) {
    Command c{};
    const uint64_t r = rng_.below(1000);
    if (!in_chain && !never_expiring_.empty() && rng_.chance(2)) {  // release a timeless hold
      c = make_pending_op(CommandKind::void_pending, fresh_id(), never_expiring_.front());
      never_expiring_.erase(never_expiring_.begin());
      return c;
    }
    if (!history_.empty() && r < 50) {  // exact replay
      c = history_[rng_.below(history_.size())];
      c.flags &= ~command_flag_linked;
      // A forgotten timeless hold may be created again: keep it releasable.
      if (c.kind == CommandKind::transfer && c.body.transfer.mode == TransferMode::hold &&
          c.body.transfer.timeout_s == 0) {
        never_expiring_.push_back(c.id);
      }
      return c;
    }
    if (!history_.empty() && r < 65) {  // same id, other content
      c = history_[rng_.below(history_.size())];
      c.flags &= ~command_flag_linked;
      c.body.raw[rng_.below(24)] ^= 1;
      return c;
    }
    if (r < 110) {
      const uint64_t id = account();
      const bool member = rng_.chance(60);
      AccountKind kind =
          member ? (asset_of(id) ? AccountKind::member_wallet : AccountKind::member_points)
                 : AccountKind::channel_clearing;
      if (rng_.chance(2)) kind = AccountKind::none;
      uint16_t flags = member ? account_flag_no_negative : 0;
      if (rng_.chance(2)) flags |= 0x80;
      c = make_create_account(fresh_id(), id, asset_of(id), kind, flags);
    } else if (r < 450) {
      const uint64_t d = account(), cr = rng_.chance(3) ? d : partner(d);
      c = make_transfer(fresh_id(), d, cr, amount(), rng_.chance(3) ? 7 : asset_of(d));
      c.body.transfer.code = static_cast<uint16_t>(rng_.below(5));
    } else if (r < 600) {
      const uint64_t d = account(), cr = partner(d);
      const uint32_t timeout_s =
          rng_.chance(1) ? 0 : (rng_.chance(1) ? hold_timeout_s_max + 1 : 1 + rng_.below(6));
      c = make_hold(fresh_id(), d, cr, amount(), asset_of(d), timeout_s);
      pending_ids_.push_back(c.id);
      // Holds without a timeout leave only when posted or voided: keep them reachable.
      if (timeout_s == 0) never_expiring_.push_back(c.id);
    } else if (r < 680) {
      const uint64_t d = account(), cr = partner(d);
      c = make_grant(fresh_id(), d, cr, amount(), asset_of(d),
                     rng_.chance(2) ? 0 : time_us_ + rng_.below(6'000'000));
      pending_ids_.push_back(c.id);
    } else if (r < 880) {
      const Id128 target = pending_ids_.empty() || rng_.chance(3) ? fresh_id() : pick_pending();
      const uint64_t op = rng_.below(100);
      const CommandKind kind = op < 45   ? CommandKind::post_pending
                               : op < 70 ? CommandKind::void_pending
                               : op < 88 ? CommandKind::shrink_grant
                                         : CommandKind::cancel_grant;
      int64_t amount = 0;
      if (kind == CommandKind::post_pending || kind == CommandKind::shrink_grant ||
          rng_.chance(3)) {
        amount = rng_.chance(40) ? 0 : static_cast<int64_t>(rng_.below(3000));
        if (rng_.chance(2)) amount = -1;
      }
      c = make_pending_op(kind, fresh_id(), target, amount);
    } else if (r < 900) {
      c = make_set_frozen(fresh_id(), account(), rng_.chance(5));
      if (rng_.chance(3)) c.body.account.frozen = 2;
    } else if (r < 970 && !in_chain) {
      c = make_tick();
    } else if (r < 985) {
      c = make_lookup(account());
    } else if (r < 990) {
      c = make_tick();  // in a chain: invalid
    } else {
      c = make_transfer(fresh_id(), account(), account(), 5, 1);
      const uint64_t bad = rng_.below(4);
      if (bad == 0) c.kind = static_cast<CommandKind>(90);  // unassigned domain kind
      if (bad == 1) c.flags = 0x40;
      if (bad == 2) c.reserved = 1;
      if (bad == 3) c.id = Id128{};
    }
    if (c.kind != CommandKind::tick && c.kind != CommandKind::lookup_account) {
      if (history_.size() < 4096) {
        history_.push_back(c);
      } else {
        history_[rng_.below(history_.size())] = c;
      }
    }
    return c;
  }

  Id128 pick_pending() {
    if (pending_ids_.size() > 256)
      pending_ids_.erase(pending_ids_.begin(), pending_ids_.begin() + 128);
    return pending_ids_[rng_.below(pending_ids_.size())];
  }
};

}  // namespace coffer::test
