// Determinism: the same command stream gives the same state hash, also when the
// stream goes through a byte copy (as the journal stores it) into a fresh ledger,
// and whatever the batch boundaries and effect-buffer sizes are.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/ledger.h"
#include "tests/core/domain_generator.h"
#include "tests/core/sim_util.h"

namespace coffer::test {
namespace {

LedgerConfig config() {
  LedgerConfig c;
  c.accounts_capacity = 36;
  c.pending_capacity = 64;
  c.idempotency_capacity = 1024;
  return c;
}

// A stream cut into groups (single commands or whole linked chains).
std::vector<std::vector<Command>> make_stream(uint64_t seed, size_t groups) {
  CommandGenerator generator(seed);
  std::vector<std::vector<Command>> stream;
  for (size_t i = 0; i < groups; i++) {
    stream.push_back(generator.next_group());
    // An unclosed chain would swallow the next group when groups share a batch,
    // which changes the stream's meaning; close it so batching cannot matter.
    stream.back().back().flags &= ~command_flag_linked;
  }
  return stream;
}

// Applies the stream in batches of `groups_per_batch` groups with an effect
// buffer of `effects_capacity`; returns the state hash and a digest of effects.
std::pair<uint64_t, uint64_t> apply(const std::vector<std::vector<Command>>& stream,
                                    size_t groups_per_batch, size_t effects_capacity) {
  Ledger ledger(config());
  std::vector<Effect> effects(effects_capacity);
  uint64_t digest = 0;
  uint64_t reply_digest = 0;
  for (size_t g = 0; g < stream.size(); g += groups_per_batch) {
    std::vector<Command> batch;
    for (size_t k = g; k < std::min(stream.size(), g + groups_per_batch); k++) {
      batch.insert(batch.end(), stream[k].begin(), stream[k].end());
    }
    std::vector<Reply> replies(batch.size());
    size_t done = 0;
    while (done < batch.size()) {
      EffectSink sink(effects);
      const size_t n = ledger.apply(std::span<const Command>(batch).subspan(done),
                                    std::span(replies).subspan(done), sink);
      EXPECT_TRUE(n > 0 || sink.size() == 0);
      if (n == 0) {
        ADD_FAILURE() << "effect buffer too small for one command";
        return {0, 0};
      }
      for (const Effect& e : sink.effects()) {
        digest = digest * 1099511628211ull + e.seq * 31 + static_cast<uint64_t>(e.kind) +
                 static_cast<uint64_t>(e.transfer.amount);
      }
      done += n;
    }
    for (const Reply& r : replies)
      reply_digest = reply_digest * 31 + static_cast<uint64_t>(r.result);
  }
  return {ledger.state_hash(), digest ^ (reply_digest * 0x9e3779b97f4a7c15ull)};
}

TEST(CoreDeterminism, SameStreamSameHash) {
  const auto stream = make_stream(env_u64("COFFER_SEED", 42), 60'000);
  const auto a = apply(stream, 1, effects_per_command_max + 64);
  const auto b = apply(stream, 1, effects_per_command_max + 64);
  EXPECT_EQ(a, b);
  // Batch boundaries and buffer sizes do not change the outcome.
  const auto c = apply(stream, 97, effects_per_command_max * 3);
  EXPECT_EQ(a, c);
}

TEST(CoreDeterminism, JournalByteCopyReplaysToSameHash) {
  const auto stream = make_stream(7, 40'000);
  // Serialise as bytes, as the journal would, and read back into fresh commands.
  std::vector<unsigned char> journal;
  for (const auto& group : stream) {
    for (const Command& c : group) {
      const auto* p = reinterpret_cast<const unsigned char*>(&c);
      journal.insert(journal.end(), p, p + sizeof(Command));
    }
  }
  ASSERT_EQ(journal.size() % command_size, 0u);
  std::vector<std::vector<Command>> replayed;
  size_t offset = 0;
  for (const auto& group : stream) {
    std::vector<Command> copy(group.size());
    std::memcpy(copy.data(), journal.data() + offset, group.size() * sizeof(Command));
    offset += group.size() * sizeof(Command);
    replayed.push_back(std::move(copy));
  }
  EXPECT_EQ(apply(stream, 16, effects_per_command_max * 2),
            apply(replayed, 16, effects_per_command_max * 2));
}

TEST(CoreDeterminism, DifferentStreamsDifferentHashes) {
  // The hash must actually depend on the state.
  EXPECT_NE(apply(make_stream(1, 5'000), 8, effects_per_command_max * 2).first,
            apply(make_stream(2, 5'000), 8, effects_per_command_max * 2).first);
  Ledger a(config()), b(config());
  std::vector<Effect> effects(16);
  EffectSink sink(effects);
  Command c = make_create_account(Id128{1, 1}, 5, asset_wallet, AccountKind::adjustment);
  c.seq = 1;
  a.apply(c, sink);
  c.body.create_account.account_id = 6;
  b.apply(c, sink);
  EXPECT_NE(a.state_hash(), b.state_hash());
}

// Domain commands: the same stream gives the same state hash and replies
// whatever the batch boundaries and effect-buffer sizes.
std::pair<uint64_t, uint64_t> apply_domain(const std::vector<Command>& stream, size_t batch_size,
                                           size_t effects_capacity) {
  LedgerConfig c;
  c.accounts_capacity = 64;
  c.pending_capacity = 4096;
  c.idempotency_capacity = 1u << 16;
  c.members_capacity = 12;
  c.payments_capacity = 1u << 15;
  c.records_capacity = 1u << 15;
  c.vouchers_capacity = 1u << 14;
  Ledger ledger(c);
  std::vector<Effect> effects(effects_capacity);
  uint64_t digest = 0, reply_digest = 0;  // apart: batching interleaves them differently
  for (size_t g = 0; g < stream.size(); g += batch_size) {
    const size_t end = std::min(stream.size(), g + batch_size);
    std::vector<Reply> replies(end - g);
    size_t done = 0;
    while (done < replies.size()) {
      EffectSink sink(effects);
      const size_t n =
          ledger.apply(std::span<const Command>(stream).subspan(g + done, end - g - done),
                       std::span(replies).subspan(done), sink);
      if (n == 0) {
        ADD_FAILURE() << "effect buffer too small";
        return {0, 0};
      }
      for (const Effect& e : sink.effects())
        digest = digest * 1099511628211ull + e.seq * 31 + static_cast<uint64_t>(e.kind);
      done += n;
    }
    for (const Reply& r : replies) {
      const ReplyData d = reply_data(r);
      reply_digest =
          reply_digest * 31 + static_cast<uint64_t>(r.result) + d.state + d.v[0] * 7 + d.v[1];
    }
  }
  return {ledger.state_hash(), digest ^ (reply_digest * 0x9e3779b97f4a7c15ull)};
}

TEST(CoreDeterminism, DomainStreamWhateverTheBatching) {
  DomainGenerator generator(env_u64("COFFER_SEED", 5));
  std::vector<Command> stream;
  for (int k = 0; k < 60'000; k++)
    stream.push_back(generator.next());
  const auto a = apply_domain(stream, 1, effects_per_command_max);
  EXPECT_EQ(a, apply_domain(stream, 97, effects_per_command_max));
  EXPECT_EQ(a, apply_domain(stream, batch_size_max, effects_per_command_max * 3));
  DomainGenerator other(6);
  std::vector<Command> stream2;
  for (int k = 0; k < 5'000; k++)
    stream2.push_back(other.next());
  EXPECT_NE(a.first, apply_domain(stream2, 16, effects_per_command_max).first);
}

}  // namespace
}  // namespace coffer::test
