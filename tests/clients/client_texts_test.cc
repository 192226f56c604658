// The client with texts and queries against a real in-process server: the
// auto-batcher packs several calls with texts into one frame and keeps each
// text beside its own command; queries and calls from many threads get their
// own answers; bad calls fail at once; queries are retried after a reconnect.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "net/query_service.h"
#include "tests/net/cofferd_harness.h"

namespace coffer::testing {
namespace {

Id128 id(uint64_t n) {
  return Id128{n, 0x7E47C};
}

void create_accounts(client::Client& c) {
  ASSERT_EQ(
      c.call(make_create_account(id(1), 1, asset_wallet, AccountKind::channel_clearing)).result,
      Result::ok);
  ASSERT_EQ(c.call(make_create_account(id(2), 2, asset_wallet, AccountKind::member_wallet)).result,
            Result::ok);
}

std::future<client::SubmitResult> submit(client::Client& c, const std::vector<Command>& commands,
                                         const std::vector<CommandText>& texts) {
  auto p = std::make_shared<std::promise<client::SubmitResult>>();
  auto f = p->get_future();
  c.submit(commands, texts, [p](client::SubmitResult r) { p->set_value(std::move(r)); });
  return f;
}

std::string text_of(const Id128& key) {
  return R"({"ref":")" + std::to_string(key.lo) + "\"}";
}

TEST(ClientTexts, AutoBatchedCallsKeepEachTextBesideItsCommand) {
  storage::MemoryFileSystem fs;
  SyncGate gate(fs);
  std::mutex mu;
  std::vector<storage::StoredText> kept;
  Node node;
  node.fs = &fs;
  node.on_durable_effects = [&](uint64_t, uint64_t, std::vector<Effect>,
                                std::vector<storage::StoredText> texts) {
    std::lock_guard lock(mu);
    kept.insert(kept.end(), texts.begin(), texts.end());
  };
  ASSERT_TRUE(node.start());
  auto c = node.connect(/*in_flight_frames_max=*/1);
  create_accounts(*c);
  const uint64_t frames_before = c->metrics().frames_sent;

  gate.close();
  Command first = make_transfer(id(100), 1, 2, 1, asset_wallet);
  auto f0 = submit(*c, {first}, {CommandText{0, id(100), 0, text_of(id(100))}});
  ASSERT_TRUE(gate.wait_blocked());
  // 4 threads x 30 calls of 1..3 transfers each, texts on some commands only,
  // so every call's text indexes differ from their place in the packed frame.
  std::vector<std::future<client::SubmitResult>> futures[4];
  std::atomic<size_t> texts_sent{1};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < 30; i++) {
        std::vector<Command> commands;
        std::vector<CommandText> texts;
        const uint64_t n = 1 + (i + uint64_t(t)) % 3;
        for (uint64_t k = 0; k < n; k++) {
          const Id128 cid = id(1000 + uint64_t(t) * 1000 + i * 10 + k);
          commands.push_back(make_transfer(cid, 1, 2, 1, asset_wallet));
          if ((i + k) % 2 == 0) texts.push_back(CommandText{uint32_t(k), cid, 0, text_of(cid)});
        }
        texts_sent += texts.size();
        futures[t].push_back(submit(*c, commands, texts));
      }
    });
  }
  for (auto& t : threads)
    t.join();
  gate.open();
  ASSERT_EQ(f0.get().status, Result::ok);
  for (auto& v : futures)
    for (auto& f : v) {
      client::SubmitResult r = f.get();
      ASSERT_EQ(r.status, Result::ok);
      for (const Reply& reply : r.replies)
        ASSERT_EQ(reply.result, Result::ok);
    }
  // The first frame, then all 120 calls in one.
  EXPECT_EQ(c->metrics().frames_sent - frames_before, 2u);

  std::vector<storage::StoredText> live;
  {
    std::lock_guard lock(mu);
    live = kept;
  }
  ASSERT_EQ(live.size(), texts_sent.load());
  // Which command got which seq: from the journal, on restart.
  c.reset();
  node.stop();
  std::map<uint64_t, Id128> id_of_seq;
  node.on_replayed = [&](std::span<const Command> commands, std::span<const Reply>,
                         std::span<const CommandText>) {
    for (const Command& cmd : commands)
      id_of_seq[cmd.seq] = cmd.id;
  };
  ASSERT_TRUE(node.start());
  for (const storage::StoredText& t : live) {
    EXPECT_EQ(id_of_seq[t.seq], t.key) << "text " << t.text << " beside the wrong command";
    EXPECT_EQ(t.text, text_of(t.key));
  }
}

// Answers a texts query with one row per key whose text names the key.
class EchoQueries final : public net::QueryService {
 public:
  uint64_t acknowledged_seq() const override { return 0; }
  uint64_t applied_seq() const override { return 0; }
  void answer(const net::QueryRequest& q, size_t, net::QueryAnswer* out) override {
    *out = net::QueryAnswer{};
    for (const Id128& key : q.ids) {
      net::QueryRowData& row = out->rows.emplace_back();
      row.id = key;
      row.text = text_of(key);
    }
    answered++;
  }
  std::atomic<uint64_t> answered{0};
};

client::Query texts_query(std::vector<Id128> ids) {
  client::Query q;
  q.kind = client::QueryKind::texts;
  q.ids = std::move(ids);
  return q;
}

TEST(ClientTexts, QueriesAndCallsFromManyThreadsGetTheirOwnAnswers) {
  storage::MemoryFileSystem fs;
  EchoQueries queries;
  Node node;
  node.fs = &fs;
  node.queries = &queries;
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  create_accounts(*c);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; t++) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < 60; i++) {
        const uint64_t n = 10'000 + uint64_t(t) * 1000 + i;
        if (i % 2 == 0) {
          client::QueryResult q = c->query_sync(texts_query({id(n), id(n + 500'000)}));
          if (q.status != Result::ok || q.rows.size() != 2 || q.rows[0].id != id(n) ||
              q.rows[1].text != text_of(id(n + 500'000)))
            failures++;
        } else {
          Reply r = c->call(make_transfer(id(n), 1, 2, 1, asset_wallet));
          if (r.result != Result::ok || r.amount != 1) failures++;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(queries.answered.load(), 6u * 30u);
  EXPECT_EQ(c->call(make_lookup(2)).credits_posted, 6 * 30);
}

TEST(ClientTexts, BadCallsFailAtOnce) {
  storage::MemoryFileSystem fs;
  Node node;
  node.fs = &fs;
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  const Command t = make_tick();
  std::vector<Command> two = {t, t};
  // Texts against the rules of command_texts_valid.
  EXPECT_EQ(submit(*c, two, {CommandText{2, id(1), 0, "x"}}).get().status, Result::invalid_request);
  EXPECT_EQ(
      submit(*c, two, {CommandText{1, id(1), 0, "x"}, CommandText{0, id(2), 0, "y"}}).get().status,
      Result::invalid_request);
  EXPECT_EQ(submit(*c, two, {CommandText{0, Id128{0, 0}, 0, "x"}}).get().status,
            Result::invalid_request);
  EXPECT_EQ(submit(*c, two, {CommandText{0, id(1), 0, std::string(command_text_size_max + 1, 'x')}})
                .get()
                .status,
            Result::invalid_request);
  // Valid texts, but the call would not fit in one frame.
  std::vector<Command> many(c->batch_size_max(), t);
  std::vector<CommandText> big;
  for (uint32_t i = 0; i < 400; i++)
    big.push_back(CommandText{i, id(i + 1), 0, std::string(command_text_size_max, 'b')});
  EXPECT_EQ(submit(*c, many, big).get().status, Result::invalid_request);
  // Queries against the limits.
  client::Query q;
  q.kind = client::QueryKind::history;
  q.key = 1;
  q.limit = 0;
  EXPECT_EQ(c->query_sync(q).status, Result::invalid_request);
  q.limit = client::query_limit_max + 1;
  EXPECT_EQ(c->query_sync(q).status, Result::invalid_request);
  EXPECT_EQ(c->query_sync(texts_query({})).status, Result::invalid_request);
  EXPECT_EQ(c->query_sync(texts_query(std::vector<Id128>(client::query_ids_max + 1, id(1)))).status,
            Result::invalid_request);
  // The client is still fine.
  EXPECT_EQ(submit(*c, two, {CommandText{1, id(9), 0, "ok"}}).get().status, Result::ok);
}

TEST(ClientTexts, AQuerySentWhileTheServerIsDownIsAnsweredAfterItReturns) {
  storage::MemoryFileSystem fs;
  EchoQueries queries;
  auto node = std::make_unique<Node>();
  node->fs = &fs;
  node->queries = &queries;
  ASSERT_TRUE(node->start());
  const uint16_t port = node->port;
  client::ClientOptions o;
  o.port = port;
  o.token = test_token;
  o.reconnect_attempts_max = 50;
  o.reconnect_backoff_ms = 20;
  std::unique_ptr<client::Client> c;
  ASSERT_TRUE(client::Client::connect(o, &c).ok());
  ASSERT_EQ(c->query_sync(texts_query({id(5)})).status, Result::ok);

  node->stop();
  node = std::make_unique<Node>();
  node->fs = &fs;
  node->port = port;
  node->queries = &queries;
  std::promise<client::QueryResult> p;
  c->query(texts_query({id(6)}), [&p](client::QueryResult r) { p.set_value(std::move(r)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(node->start());
  client::QueryResult r = p.get_future().get();
  ASSERT_EQ(r.status, Result::ok);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].text, std::optional<std::string>(text_of(id(6))));
  EXPECT_GE(c->metrics().reconnects, 1u);
}

}  // namespace
}  // namespace coffer::testing
