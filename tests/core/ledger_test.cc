// Unit tests of the core ledger: one table row per rule and result code, then
// the behaviour of holds, grants, ticks, replays, linked chains and capacities.
#include "core/ledger.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace coffer {
namespace {

constexpr uint64_t kAlice = 1;     // member wallet, may not go negative, 1000 posted
constexpr uint64_t kBob = 2;       // member wallet, may not go negative, 0
constexpr uint64_t kPoints = 3;    // member points
constexpr uint64_t kChannel = 10;  // channel clearing, may go negative
constexpr uint64_t kIssuer = 11;   // points issuance
constexpr uint64_t kFrozen = 12;   // member wallet, frozen
constexpr uint64_t kStart_us = 1'700'000'000'000'000;

class LedgerTest : public ::testing::Test {
 protected:
  explicit LedgerTest(LedgerConfig config = {}) : ledger_(config), buffer_(8192) {}

  void SetUp() override {
    create(kAlice, asset_wallet, AccountKind::member_wallet, account_flag_no_negative);
    create(kBob, asset_wallet, AccountKind::member_wallet, account_flag_no_negative);
    create(kPoints, asset_points, AccountKind::member_points, account_flag_no_negative);
    create(kChannel, asset_wallet, AccountKind::channel_clearing, 0);
    create(kIssuer, asset_points, AccountKind::points_issuance, 0);
    create(kFrozen, asset_wallet, AccountKind::member_wallet, account_flag_no_negative);
    ASSERT_EQ(run(make_set_frozen(id(), kFrozen, true)).result, Result::ok);
    ASSERT_EQ(run(make_transfer(id(), kChannel, kAlice, 1000, asset_wallet)).result, Result::ok);
    hold_ = id();
    ASSERT_EQ(run(make_hold(hold_, kAlice, kChannel, 300, asset_wallet, 60)).result, Result::ok);
    grant_ = id();
    ASSERT_EQ(
        run(make_grant(grant_, kChannel, kBob, 50, asset_wallet, kStart_us + 100'000'000)).result,
        Result::ok);
  }

  void create(uint64_t account, Asset asset, AccountKind kind, uint16_t flags) {
    ASSERT_EQ(run(make_create_account(id(), account, asset, kind, flags)).result, Result::ok);
  }

  Id128 id() { return Id128{next_id_++, 0xab}; }

  // Stamps seq and time (advanced by advance_us) and applies one command.
  Reply run(Command c, uint64_t advance_us = 0) {
    c.seq = ++seq_;
    time_us_ += advance_us;
    c.time_us = time_us_;
    EffectSink sink(buffer_);
    Reply r = ledger_.apply(c, sink);
    effects_.assign(sink.effects().begin(), sink.effects().end());
    return r;
  }

  std::vector<Reply> run_batch(std::vector<Command> commands) {
    for (Command& c : commands) {
      c.seq = ++seq_;
      c.time_us = time_us_;
    }
    std::vector<Reply> replies(commands.size());
    EffectSink sink(buffer_);
    EXPECT_EQ(ledger_.apply(commands, replies, sink), commands.size());
    effects_.assign(sink.effects().begin(), sink.effects().end());
    return replies;
  }

  const Account& account(uint64_t account_id) {
    const uint32_t slot = ledger_.find_account(account_id);
    EXPECT_NE(slot, Ledger::slot_none);
    return ledger_.account(slot);
  }

  Ledger ledger_;
  std::vector<Effect> buffer_;
  std::vector<Effect> effects_;
  uint64_t seq_ = 0;
  uint64_t time_us_ = kStart_us;
  uint64_t next_id_ = 1;
  Id128 hold_{};
  Id128 grant_{};
};

// ---- One row per rule ----------------------------------------------------------

struct Row {
  const char* name;
  Result expected;
  // Builds the command from the fixture (for ids of the pending transfers).
  Command (*make)(LedgerTest&, Id128 fresh, Id128 hold, Id128 grant);
  uint64_t advance_us = 0;
};

Command with(Command c, void (*edit)(Command&)) {
  edit(c);
  return c;
}

const Row kRows[] = {
    {"single_phase_ok", Result::ok,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, kAlice, kBob, 700, asset_wallet);
     }},
    {"hold_ok", Result::ok,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_hold(f, kAlice, kChannel, 700, asset_wallet, 10);
     }},
    {"grant_ok", Result::ok,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_grant(f, kIssuer, kPoints, 5, asset_points, kStart_us);
     }},
    {"post_ok", Result::ok,
     [](LedgerTest&, Id128 f, Id128 h, Id128) {
       return make_pending_op(CommandKind::post_pending, f, h, 100);
     }},
    {"void_ok", Result::ok,
     [](LedgerTest&, Id128 f, Id128 h, Id128) {
       return make_pending_op(CommandKind::void_pending, f, h);
     }},
    {"shrink_ok", Result::ok,
     [](LedgerTest&, Id128 f, Id128, Id128 g) {
       return make_pending_op(CommandKind::shrink_grant, f, g, 20);
     }},
    {"cancel_ok", Result::ok,
     [](LedgerTest&, Id128 f, Id128, Id128 g) {
       return make_pending_op(CommandKind::cancel_grant, f, g);
     }},
    {"unfreeze_ok", Result::ok,
     [](LedgerTest&, Id128 f, Id128, Id128) { return make_set_frozen(f, kFrozen, false); }},
    {"negative_amount", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, kAlice, kBob, -5, asset_wallet);
     }},
    {"unknown_mode", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return with(make_transfer(f, kAlice, kBob, 5, asset_wallet),
                   [](Command& c) { c.body.transfer.mode = static_cast<TransferMode>(9); });
     }},
    {"single_phase_with_timeout", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return with(make_transfer(f, kAlice, kBob, 5, asset_wallet),
                   [](Command& c) { c.body.transfer.timeout_s = 5; });
     }},
    {"hold_timeout_too_long", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_hold(f, kAlice, kChannel, 5, asset_wallet, hold_timeout_s_max + 1);
     }},
    {"grant_without_time", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_grant(f, kChannel, kBob, 5, asset_wallet, 0);
     }},
    {"transfer_reserved_bytes", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return with(make_transfer(f, kAlice, kBob, 5, asset_wallet),
                   [](Command& c) { c.body.transfer.reserved1 = 1; });
     }},
    {"unknown_command_flag", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return with(make_transfer(f, kAlice, kBob, 5, asset_wallet),
                   [](Command& c) { c.flags = 0x8; });
     }},
    {"header_reserved", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return with(make_transfer(f, kAlice, kBob, 5, asset_wallet),
                   [](Command& c) { c.reserved = 1; });
     }},
    {"zero_id", Result::invalid_request,
     [](LedgerTest&, Id128, Id128, Id128) {
       return make_transfer(Id128{}, kAlice, kBob, 5, asset_wallet);
     }},
    {"unknown_kind", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return with(make_transfer(f, kAlice, kBob, 5, asset_wallet),
                   [](Command& c) { c.kind = static_cast<CommandKind>(90); });
     }},
    {"create_zero_account_id", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_create_account(f, 0, asset_wallet, AccountKind::member_wallet);
     }},
    {"create_kind_none", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_create_account(f, 99, asset_wallet, AccountKind::none);
     }},
    {"create_unknown_flag", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_create_account(f, 99, asset_wallet, AccountKind::adjustment, 0x100);
     }},
    {"void_with_amount", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128 h, Id128) {
       return make_pending_op(CommandKind::void_pending, f, h, 5);
     }},
    {"post_negative", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128 h, Id128) {
       return make_pending_op(CommandKind::post_pending, f, h, -1);
     }},
    {"freeze_bad_value", Result::invalid_request,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return with(make_set_frozen(f, kBob, true), [](Command& c) { c.body.account.frozen = 2; });
     }},
    {"tick_with_flags", Result::invalid_request,
     [](LedgerTest&, Id128, Id128, Id128) {
       return with(make_tick(), [](Command& c) { c.flags = 0x2; });
     }},
    {"freeze_unknown_account", Result::not_found,
     [](LedgerTest&, Id128 f, Id128, Id128) { return make_set_frozen(f, 777, true); }},
    {"lookup_unknown_account", Result::not_found,
     [](LedgerTest&, Id128, Id128, Id128) { return make_lookup(777); }},
    {"id_of_other_command", Result::id_reused,
     [](LedgerTest&, Id128, Id128, Id128) {
       return make_transfer(Id128{1, 0xab}, kAlice, kBob, 5, asset_wallet);
     }},
    {"id_of_open_hold", Result::id_reused,
     [](LedgerTest&, Id128, Id128 h, Id128) {
       return make_transfer(h, kAlice, kBob, 5, asset_wallet);
     }},
    {"insufficient_funds_counts_holds", Result::insufficient_funds,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, kAlice, kBob, 701, asset_wallet);  // 1000 - 300 held
     }},
    {"hold_insufficient_funds", Result::insufficient_funds,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_hold(f, kBob, kChannel, 1, asset_wallet, 10);  // maturing is not available
     }},
    {"account_exists", Result::account_exists,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_create_account(f, kBob, asset_wallet, AccountKind::member_wallet);
     }},
    {"debit_account_not_found", Result::debit_account_not_found,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, 777, kBob, 5, asset_wallet);
     }},
    {"credit_account_not_found", Result::credit_account_not_found,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, kAlice, 777, 5, asset_wallet);
     }},
    {"credit_frozen", Result::account_frozen,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, kChannel, kFrozen, 5, asset_wallet);
     }},
    {"asset_mismatch_accounts", Result::asset_mismatch,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, kAlice, kPoints, 5, asset_wallet);
     }},
    {"asset_mismatch_stated", Result::asset_mismatch,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, kAlice, kBob, 5, asset_points);
     }},
    {"same_account", Result::same_account,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, kAlice, kAlice, 5, asset_wallet);
     }},
    {"amount_zero", Result::amount_zero,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, kAlice, kBob, 0, asset_wallet);
     }},
    {"shrink_by_zero", Result::amount_zero,
     [](LedgerTest&, Id128 f, Id128, Id128 g) {
       return make_pending_op(CommandKind::shrink_grant, f, g, 0);
     }},
    {"overflow", Result::overflow,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_transfer(f, kChannel, kAlice, account_total_max, asset_wallet);
     }},
    {"pending_not_found", Result::pending_not_found,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return make_pending_op(CommandKind::post_pending, f, Id128{999, 999});
     }},
    {"post_a_grant", Result::not_a_hold,
     [](LedgerTest&, Id128 f, Id128, Id128 g) {
       return make_pending_op(CommandKind::post_pending, f, g);
     }},
    {"shrink_a_hold", Result::not_a_grant,
     [](LedgerTest&, Id128 f, Id128 h, Id128) {
       return make_pending_op(CommandKind::shrink_grant, f, h, 1);
     }},
    {"post_after_timeout", Result::hold_expired,
     [](LedgerTest&, Id128 f, Id128 h, Id128) {
       return make_pending_op(CommandKind::post_pending, f, h);
     },
     60'000'000},
    {"void_after_timeout_still_releases", Result::ok,
     [](LedgerTest&, Id128 f, Id128 h, Id128) {
       return make_pending_op(CommandKind::void_pending, f, h);
     },
     60'000'000},
    {"cancel_after_maturity", Result::grant_matured,
     [](LedgerTest&, Id128 f, Id128, Id128 g) {
       return make_pending_op(CommandKind::cancel_grant, f, g);
     },
     100'000'000},
    {"post_more_than_held", Result::exceeds_pending,
     [](LedgerTest&, Id128 f, Id128 h, Id128) {
       return make_pending_op(CommandKind::post_pending, f, h, 301);
     }},
    {"shrink_more_than_left", Result::exceeds_pending,
     [](LedgerTest&, Id128 f, Id128, Id128 g) {
       return make_pending_op(CommandKind::shrink_grant, f, g, 51);
     }},
    {"single_linked_command", Result::linked_chain_open,
     [](LedgerTest&, Id128 f, Id128, Id128) {
       return with(make_transfer(f, kAlice, kBob, 5, asset_wallet),
                   [](Command& c) { c.flags = command_flag_linked; });
     }},
};

class RuleTest : public LedgerTest, public ::testing::WithParamInterface<Row> {};

TEST_P(RuleTest, GivesItsResultAndChangesNothingOnFailure) {
  const Row& row = GetParam();
  const uint64_t before = ledger_.state_hash();
  const Command c = row.make(*this, id(), hold_, grant_);
  const Reply r = run(c, row.advance_us);
  EXPECT_EQ(r.result, row.expected) << result_name(r.result);
  if (row.expected != Result::ok) {
    EXPECT_TRUE(effects_.empty());
    // A failure is remembered (for replays) but touches no balance or pending transfer.
    EXPECT_EQ(account(kAlice).debits_pending, 300);
    EXPECT_EQ(account(kAlice).credits_posted, 1000);
    EXPECT_EQ(ledger_.pending_count(), 2u);
    if (c.kind == CommandKind::lookup_account || c.id.is_zero() ||
        row.expected == Result::id_reused || row.expected == Result::linked_chain_open ||
        c.kind == CommandKind::tick) {
      EXPECT_EQ(ledger_.state_hash(), before);
    }
  } else if (c.kind != CommandKind::lookup_account) {
    EXPECT_FALSE(effects_.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, RuleTest, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& row_info) {
                           return std::string(row_info.param.name);
                         });

// ---- Behaviour ---------------------------------------------------------------

TEST_F(LedgerTest, DerivedAmounts) {
  EXPECT_EQ(account(kAlice).balance(), 1000);
  EXPECT_EQ(account(kAlice).held(), 300);
  EXPECT_EQ(account(kAlice).available(), 700);
  EXPECT_EQ(account(kBob).maturing(), 50);
  EXPECT_EQ(account(kBob).available(), 0);
  const Reply r = run(make_lookup(kAlice));
  ASSERT_EQ(r.result, Result::ok);
  EXPECT_EQ(r.credits_posted, 1000);
  EXPECT_EQ(r.debits_pending, 300);
  EXPECT_EQ(r.kind, AccountKind::member_wallet);
  EXPECT_EQ(r.account_flags, account_flag_no_negative);
}

TEST_F(LedgerTest, SinglePhaseEffects) {
  const Id128 t = id();
  ASSERT_EQ(run(make_transfer(t, kAlice, kBob, 200, asset_wallet)).result, Result::ok);
  ASSERT_EQ(effects_.size(), 3u);
  EXPECT_EQ(effects_[0].kind, EffectKind::transfer_posted);
  EXPECT_EQ(effects_[0].transfer.transfer_id, t);
  EXPECT_EQ(effects_[0].transfer.amount, 200);
  EXPECT_EQ(effects_[0].seq, seq_);
  EXPECT_EQ(effects_[1].kind, EffectKind::balance_changed);
  EXPECT_EQ(effects_[1].balance.account_id, kAlice);
  EXPECT_EQ(effects_[1].balance.debits_posted, 200);
  EXPECT_EQ(effects_[2].balance.account_id, kBob);
  EXPECT_EQ(effects_[2].balance.credits_posted, 200);
  EXPECT_EQ(account(kAlice).available(), 500);
}

TEST_F(LedgerTest, PartialPostReleasesTheRest) {
  const Reply r = run(make_pending_op(CommandKind::post_pending, id(), hold_, 120));
  ASSERT_EQ(r.result, Result::ok);
  EXPECT_EQ(r.amount, 120);
  EXPECT_EQ(account(kAlice).held(), 0);
  EXPECT_EQ(account(kAlice).balance(), 880);
  EXPECT_EQ(account(kChannel).credits_pending, 0);
  EXPECT_EQ(ledger_.find_pending(hold_), nullptr);
  ASSERT_EQ(effects_.size(), 3u);
  EXPECT_EQ(effects_[0].kind, EffectKind::hold_posted);
  EXPECT_EQ(effects_[0].transfer.amount, 120);
  // Posting again: the hold is gone.
  EXPECT_EQ(run(make_pending_op(CommandKind::post_pending, id(), hold_)).result,
            Result::pending_not_found);
}

TEST_F(LedgerTest, FullPostWithZeroAmount) {
  EXPECT_EQ(run(make_pending_op(CommandKind::post_pending, id(), hold_)).amount, 300);
  EXPECT_EQ(account(kAlice).balance(), 700);
}

TEST_F(LedgerTest, PostToFrozenAccountRefusedVoidAllowed) {
  ASSERT_EQ(run(make_set_frozen(id(), kChannel, true)).result, Result::ok);
  EXPECT_EQ(run(make_pending_op(CommandKind::post_pending, id(), hold_)).result,
            Result::account_frozen);
  EXPECT_EQ(run(make_pending_op(CommandKind::void_pending, id(), hold_)).result, Result::ok);
  EXPECT_EQ(account(kAlice).available(), 1000);
}

TEST_F(LedgerTest, TickExpiresHoldAndMaturesGrantInDueOrder) {
  EXPECT_EQ(run(make_tick(), 59'999'999).amount, 0);  // nothing due yet
  Reply r = run(make_tick(), 1);                      // the hold times out at exactly +60 s
  EXPECT_EQ(r.amount, 1);
  ASSERT_EQ(effects_.size(), 3u);
  EXPECT_EQ(effects_[0].kind, EffectKind::hold_expired);
  EXPECT_EQ(account(kAlice).held(), 0);
  EXPECT_EQ(account(kAlice).balance(), 1000);
  r = run(make_tick(), 40'000'000);
  EXPECT_EQ(r.amount, 1);
  EXPECT_EQ(effects_[0].kind, EffectKind::grant_matured);
  EXPECT_EQ(account(kBob).balance(), 50);
  EXPECT_EQ(account(kBob).maturing(), 0);
  EXPECT_EQ(ledger_.pending_count(), 0u);
}

TEST_F(LedgerTest, TickOrdersByDueTimeThenSequence) {
  // Created out of due order; two with the same due time.
  const Id128 late = id(), tie_first = id(), tie_second = id();
  ASSERT_EQ(run(make_grant(late, kIssuer, kPoints, 1, asset_points, kStart_us + 9)).result,
            Result::ok);
  ASSERT_EQ(run(make_grant(tie_first, kIssuer, kPoints, 2, asset_points, kStart_us + 5)).result,
            Result::ok);
  ASSERT_EQ(run(make_grant(tie_second, kIssuer, kPoints, 3, asset_points, kStart_us + 5)).result,
            Result::ok);
  ASSERT_EQ(run(make_tick(), 10).amount, 3);
  ASSERT_EQ(effects_.size(), 9u);
  EXPECT_EQ(effects_[0].transfer.transfer_id, tie_first);
  EXPECT_EQ(effects_[3].transfer.transfer_id, tie_second);
  EXPECT_EQ(effects_[6].transfer.transfer_id, late);
  EXPECT_EQ(account(kPoints).balance(), 6);
}

TEST_F(LedgerTest, TickSettlesAtMostTickItemsMax) {
  for (uint32_t i = 0; i < tick_items_max + 5; i++) {
    ASSERT_EQ(run(make_grant(id(), kIssuer, kPoints, 1, asset_points, kStart_us + 1)).result,
              Result::ok);
  }
  EXPECT_EQ(run(make_tick(), 1).amount, static_cast<int64_t>(tick_items_max));
  EXPECT_EQ(run(make_tick()).amount, 5);
  EXPECT_EQ(account(kPoints).balance(), static_cast<int64_t>(tick_items_max + 5));
}

TEST_F(LedgerTest, HoldWithoutTimeoutNeverExpires) {
  const Id128 h = id();
  ASSERT_EQ(run(make_hold(h, kAlice, kChannel, 10, asset_wallet, 0)).result, Result::ok);
  run(make_tick(), 300'000'000'000ull);
  ASSERT_NE(ledger_.find_pending(h), nullptr);
  EXPECT_EQ(run(make_pending_op(CommandKind::post_pending, id(), h)).result, Result::ok);
}

TEST_F(LedgerTest, ShrinkAndCancelGrant) {
  Reply r = run(make_pending_op(CommandKind::shrink_grant, id(), grant_, 20));
  EXPECT_EQ(r.amount, 30);
  EXPECT_EQ(effects_[0].kind, EffectKind::grant_shrunk);
  EXPECT_EQ(account(kBob).maturing(), 30);
  r = run(make_pending_op(CommandKind::shrink_grant, id(), grant_, 30));
  EXPECT_EQ(r.amount, 0);
  EXPECT_EQ(effects_[0].kind, EffectKind::grant_cancelled);
  EXPECT_EQ(ledger_.find_pending(grant_), nullptr);
  EXPECT_EQ(account(kChannel).debits_pending, 0);
}

TEST_F(LedgerTest, ReplayReturnsFirstResultAndChangesNothing) {
  const Command ok = make_transfer(id(), kAlice, kBob, 100, asset_wallet);
  const Command refused = make_transfer(id(), kAlice, kBob, 100000, asset_wallet);
  ASSERT_EQ(run(ok).result, Result::ok);
  ASSERT_EQ(run(refused).result, Result::insufficient_funds);
  ASSERT_EQ(run(make_transfer(id(), kChannel, kAlice, 1'000'000, asset_wallet)).result, Result::ok);
  const uint64_t before = ledger_.state_hash();
  Reply r = run(ok);
  EXPECT_EQ(r.result, Result::ok);
  EXPECT_EQ(r.flags, reply_flag_replayed);
  r = run(refused);  // now affordable, but the first answer stands
  EXPECT_EQ(r.result, Result::insufficient_funds);
  EXPECT_EQ(r.flags, reply_flag_replayed);
  EXPECT_TRUE(effects_.empty());
  EXPECT_EQ(ledger_.state_hash(), before);
  Command other = ok;
  other.body.transfer.amount = 101;
  EXPECT_EQ(run(other).result, Result::id_reused);
}

class SmallIdTable : public LedgerTest {
 protected:
  static LedgerConfig config() {
    LedgerConfig c;
    c.idempotency_capacity = 4;
    return c;
  }
  SmallIdTable() : LedgerTest(config()) {}
};

TEST_F(SmallIdTable, ReplayRecognisedWithinCapacityForgottenAfter) {
  const Command c = make_transfer(id(), kChannel, kBob, 1, asset_wallet);
  ASSERT_EQ(run(c).result, Result::ok);
  for (int i = 0; i < 3; i++)
    run(make_transfer(id(), kChannel, kBob, 1, asset_wallet));
  EXPECT_EQ(run(c).flags, reply_flag_replayed);  // 3 applied since: remembered
  EXPECT_EQ(account(kBob).balance(), 4);
  run(make_transfer(id(), kChannel, kBob, 1, asset_wallet));  // 4 since: forgotten
  EXPECT_EQ(run(c).flags, 0u);
  EXPECT_EQ(account(kBob).balance(), 6);
  EXPECT_EQ(ledger_.idempotency_count(), 4u);
}

TEST_F(SmallIdTable, OpenHoldStillRecognisedAfterEviction) {
  const Command h = make_hold(id(), kAlice, kChannel, 10, asset_wallet, 60);
  ASSERT_EQ(run(h).result, Result::ok);
  for (int i = 0; i < 8; i++)
    run(make_transfer(id(), kChannel, kBob, 1, asset_wallet));
  const Reply r = run(h);
  EXPECT_EQ(r.result, Result::ok);
  EXPECT_EQ(r.flags, reply_flag_replayed);
  EXPECT_EQ(account(kAlice).held(), 310);
  Command other = h;
  other.body.transfer.amount = 11;
  EXPECT_EQ(run(other).result, Result::id_reused);
}

TEST_F(LedgerTest, LinkedChainAllOrNothing) {
  const uint64_t before = ledger_.state_hash();
  const uint32_t accounts_before = ledger_.account_count();
  std::vector<Command> chain = {
      make_create_account(id(), 50, asset_wallet, AccountKind::member_wallet),
      make_transfer(id(), kAlice, kBob, 600, asset_wallet),
      make_pending_op(CommandKind::post_pending, id(), hold_),  // posts 300 more
      make_hold(id(), kAlice, kChannel, 50, asset_wallet, 5),   // 1000-600-300 = 100 left
      make_transfer(id(), kAlice, kBob, 60, asset_wallet),      // only 50 left: fails
  };
  for (size_t k = 0; k + 1 < chain.size(); k++)
    chain[k].flags = command_flag_linked;
  const std::vector<Reply> r = run_batch(chain);
  EXPECT_EQ(r[0].result, Result::linked_event_failed);
  EXPECT_EQ(r[3].result, Result::linked_event_failed);
  EXPECT_EQ(r[4].result, Result::insufficient_funds);
  EXPECT_TRUE(effects_.empty());
  EXPECT_EQ(ledger_.account_count(), accounts_before);
  EXPECT_EQ(ledger_.find_account(50), Ledger::slot_none);
  ASSERT_NE(ledger_.find_pending(hold_), nullptr);
  EXPECT_EQ(account(kAlice).available(), 700);
  // The state differs from before only by the remembered ids of the chain.
  EXPECT_NE(ledger_.state_hash(), before);
  EXPECT_EQ(ledger_.pending_count(), 2u);

  // The same chain with an affordable last member succeeds as a whole.
  for (Command& c : chain)
    c.id = id();
  chain[4].body.transfer.amount = 50;
  const std::vector<Reply> ok = run_batch(chain);
  for (const Reply& x : ok)
    EXPECT_EQ(x.result, Result::ok);
  EXPECT_EQ(account(kAlice).balance(), 50);
  EXPECT_EQ(account(kAlice).held(), 50);
  EXPECT_NE(ledger_.find_account(50), Ledger::slot_none);
}

TEST_F(LedgerTest, LinkedChainRetryGetsSameAnswers) {
  std::vector<Command> chain = {make_transfer(id(), kAlice, kBob, 10, asset_wallet),
                                make_transfer(id(), kBob, kAlice, 999, asset_wallet)};
  chain[0].flags = command_flag_linked;
  const std::vector<Reply> first = run_batch(chain);
  const uint64_t hash = ledger_.state_hash();
  const std::vector<Reply> again = run_batch(chain);
  ASSERT_EQ(first.size(), again.size());
  for (size_t k = 0; k < first.size(); k++)
    EXPECT_EQ(first[k].result, again[k].result);
  EXPECT_EQ(ledger_.state_hash(), hash);
}

TEST_F(LedgerTest, ChainOpenAtEndOfBatchAndTooLong) {
  std::vector<Command> open = {make_transfer(id(), kAlice, kBob, 1, asset_wallet),
                               make_transfer(id(), kAlice, kBob, 1, asset_wallet)};
  for (Command& c : open)
    c.flags = command_flag_linked;
  std::vector<Reply> r = run_batch(open);
  EXPECT_EQ(r[0].result, Result::linked_event_failed);
  EXPECT_EQ(r[1].result, Result::linked_chain_open);
  std::vector<Command> chain;
  for (uint32_t k = 0; k <= linked_chain_length_max; k++) {
    chain.push_back(make_transfer(id(), kChannel, kBob, 1, asset_wallet));
    chain.back().flags = command_flag_linked;
  }
  chain.back().flags = 0;
  r = run_batch(chain);
  for (const Reply& x : r)
    EXPECT_EQ(x.result, Result::linked_chain_too_long);
  EXPECT_EQ(account(kBob).balance(), 0);
}

TEST_F(LedgerTest, TickInsideChainIsInvalid) {
  std::vector<Command> chain = {make_transfer(id(), kChannel, kBob, 1, asset_wallet), make_tick()};
  chain[0].flags = command_flag_linked;
  const std::vector<Reply> r = run_batch(chain);
  EXPECT_EQ(r[0].result, Result::linked_event_failed);
  EXPECT_EQ(r[1].result, Result::invalid_request);
}

TEST_F(LedgerTest, DuplicateIdInsideChain) {
  const Id128 same = id();
  std::vector<Command> chain = {make_transfer(same, kChannel, kBob, 1, asset_wallet),
                                make_transfer(same, kChannel, kBob, 1, asset_wallet)};
  chain[0].flags = command_flag_linked;
  const std::vector<Reply> r = run_batch(chain);
  EXPECT_EQ(r[0].result, Result::linked_event_failed);
  EXPECT_EQ(r[1].result, Result::id_reused);
}

TEST_F(LedgerTest, BatchStopsWhenSinkIsFullAndResumes) {
  std::vector<Command> batch;
  for (int i = 0; i < 10; i++)
    batch.push_back(make_transfer(id(), kChannel, kBob, 1, asset_wallet));
  for (Command& c : batch)
    c.seq = ++seq_, c.time_us = time_us_;
  std::vector<Effect> small(7);  // room for two transfers of three effects
  std::vector<Reply> replies(batch.size());
  size_t done = 0;
  int calls = 0;
  while (done < batch.size()) {
    EffectSink sink(small);
    const size_t n =
        ledger_.apply(std::span(batch).subspan(done), std::span(replies).subspan(done), sink);
    EXPECT_EQ(n, 2u < batch.size() - done ? 2u : batch.size() - done);
    EXPECT_EQ(sink.size(), n * 3);
    done += n;
    calls++;
  }
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(account(kBob).balance(), 10);
}

class TinyCapacities : public LedgerTest {
 protected:
  static LedgerConfig config() {
    LedgerConfig c;
    c.accounts_capacity = 6;
    c.pending_capacity = 2;
    return c;
  }
  TinyCapacities() : LedgerTest(config()) {}
};

TEST_F(TinyCapacities, CapacityExhausted) {
  EXPECT_EQ(run(make_create_account(id(), 99, asset_wallet, AccountKind::adjustment)).result,
            Result::capacity_exhausted);
  EXPECT_EQ(run(make_hold(id(), kAlice, kChannel, 1, asset_wallet, 5)).result,
            Result::capacity_exhausted);
  // Single-phase transfers need no pool entry.
  EXPECT_EQ(run(make_transfer(id(), kAlice, kBob, 1, asset_wallet)).result, Result::ok);
  // Freed entries are reused.
  ASSERT_EQ(run(make_pending_op(CommandKind::void_pending, id(), hold_)).result, Result::ok);
  EXPECT_EQ(run(make_hold(id(), kAlice, kChannel, 1, asset_wallet, 5)).result, Result::ok);
}

TEST(ResultNames, UpperCaseAndUnique) {
  std::set<std::string_view> names;
  int known = 0;
  for (uint32_t n = 0; n < 256; n++) {
    const std::string_view name = result_name(static_cast<Result>(n));
    if (name == "UNKNOWN") continue;
    known++;
    EXPECT_TRUE(names.insert(name).second) << name;
    for (char ch : name)
      EXPECT_TRUE((ch >= 'A' && ch <= 'Z') || ch == '_') << name;
  }
  EXPECT_EQ(known, 22 + 18);
  EXPECT_EQ(result_name(Result::insufficient_funds), "INSUFFICIENT_FUNDS");
  EXPECT_EQ(result_name(Result::account_frozen), "ACCOUNT_FROZEN");
  EXPECT_EQ(static_cast<uint32_t>(Result::storage_error), 21u);
}

TEST(Fingerprint, CoversContentNotIdOrTime) {
  Command a = make_transfer(Id128{1, 1}, 1, 2, 3, asset_wallet);
  Command b = a;
  b.id = Id128{2, 2};
  b.seq = 77;
  b.time_us = 88;
  EXPECT_EQ(Ledger::fingerprint(a), Ledger::fingerprint(b));
  for (size_t byte = 0; byte < command_body_size; byte++) {
    Command c = a;
    c.body.raw[byte] ^= 0x10;
    EXPECT_NE(Ledger::fingerprint(a), Ledger::fingerprint(c)) << byte;
  }
  Command k = a;
  k.flags = command_flag_linked;
  EXPECT_NE(Ledger::fingerprint(a), Ledger::fingerprint(k));
}

TEST(Fingerprint, IsTheSameInEveryBuild) {
  // Remembered fingerprints outlive the process (images, the journal's replay
  // after recovery): a faster implementation must give these same values.
  const Command a = make_transfer(Id128{1, 1}, 1001, 2002, 12345, asset_wallet);
  Command b{};
  b.kind = CommandKind::tick;
  b.flags = 3;
  b.reserved = 7;
  for (size_t i = 0; i < command_body_size; i++)
    b.body.raw[i] = static_cast<unsigned char>(i * 37 + 1);
  EXPECT_EQ(Ledger::fingerprint(a), 0xd85d3a79b5dccc16ull);
  EXPECT_EQ(Ledger::fingerprint(b), 0x860b3fc2afd84974ull);
}

}  // namespace
}  // namespace coffer
