// Texts and queries end to end in one process: client → server → sequencer →
// journal (in memory) → LMDB state store (a temp dir) → queries answered from
// it. Texts are journaled with their commands, replayed, and kept only when
// their command succeeded for the first time; a query sees every write
// acknowledged before it; queries and batches pipelined on one connection get
// their own replies.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "net/command_codec.h"
#include "net/query_codec.h"
#include "net/query_service.h"
#include "storage/state_store.h"
#include "tests/core/domain_util.h"
#include "tests/net/cofferd_harness.h"
#include "tests/net/test_client.h"

namespace coffer::testing {
namespace {

using test::make_gift;
using test::make_money;
using test::make_register;

constexpr uint64_t t0_us = 1'700'000'000'000'000ull;

Id128 id(uint64_t n) {
  return Id128{n, 0x7E47};
}

struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/coffer-net-texts-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

// A Node whose effects and kept texts feed a real state store, and whose
// queries it answers.
struct StoreNode {
  storage::MemoryFileSystem fs;
  net::ManualClock clock{t0_us};
  TempDir dir;
  std::unique_ptr<storage::StateStore> store;
  std::unique_ptr<net::QueryService> queries;
  Node node;

  std::mutex mu;
  std::vector<storage::StoredText> kept;  // every text handed to the store

  ::testing::AssertionResult start() {
    storage::StateStoreOptions o;
    o.dir = dir.path;
    o.sync_commits = false;
    o.log = [](const std::string&) {};
    if (storage::Status st = storage::StateStore::open(o, &store); !st.ok())
      return ::testing::AssertionFailure() << st.to_string();
    node.fs = &fs;
    node.clock = &clock;
    node.config = test::Driver::small_config();
    node.on_durable_effects = [this](uint64_t first, uint64_t last, std::vector<Effect> effects,
                                     std::vector<storage::StoredText> texts) {
      {
        std::lock_guard lock(mu);
        kept.insert(kept.end(), texts.begin(), texts.end());
      }
      (void)store->submit(storage::EffectBatch{first, last, std::move(effects), std::move(texts)});
    };
    node.make_queries = [this](net::Sequencer& sequencer) {
      queries = net::make_store_query_service(*store, sequencer);
      return queries.get();
    };
    return node.start();
  }
  ~StoreNode() {
    node.stop();  // before the store and the service it uses
  }
};

client::SubmitResult submit(client::Client& c, std::vector<Command> commands,
                            std::vector<CommandText> texts) {
  std::promise<client::SubmitResult> p;
  auto f = p.get_future();
  c.submit(commands, texts, [&p](client::SubmitResult r) { p.set_value(std::move(r)); });
  return f.get();
}

CommandText text_for(uint32_t index, Id128 key, std::string text, uint64_t group = 0) {
  return CommandText{index, key, group, std::move(text)};
}

TEST(TextsPipeline, KeptOnlyWhenOkAndNotReplayedJournaledAndReplayed) {
  storage::MemoryFileSystem fs;
  net::ManualClock clock(t0_us);
  std::mutex mu;
  std::vector<storage::StoredText> kept;
  Node node;
  node.fs = &fs;
  node.clock = &clock;
  node.config = test::Driver::small_config();
  node.on_durable_effects = [&](uint64_t, uint64_t, std::vector<Effect>,
                                std::vector<storage::StoredText> texts) {
    std::lock_guard lock(mu);
    kept.insert(kept.end(), texts.begin(), texts.end());
  };
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  ASSERT_TRUE(c);

  // Members 1 and 2; 1 gets 100.
  client::SubmitResult r =
      submit(*c,
             {make_register(id(1), 1), make_register(id(2), 2),
              make_money(CommandKind::member_credit, id(3), 1, 100)},
             {text_for(0, id(1), "member one"), text_for(2, id(3), R"({"ref":"credit-3"})")});
  ASSERT_EQ(r.status, Result::ok);
  for (const Reply& reply : r.replies)
    ASSERT_EQ(reply.result, Result::ok);
  // One batch: a gift that succeeds, one that fails (too much), and the first
  // member registered again (a replay: ok, flagged replayed).
  r = submit(
      *c,
      {make_gift(id(10), 1, 2, 30), make_gift(id(11), 1, 2, 1'000'000), make_register(id(1), 1)},
      {text_for(0, id(10), "gift ok"), text_for(1, id(11), "gift failed"),
       text_for(2, id(1), "member one, replayed")});
  ASSERT_EQ(r.status, Result::ok);
  EXPECT_EQ(r.replies[0].result, Result::ok);
  EXPECT_NE(r.replies[1].result, Result::ok);
  EXPECT_EQ(r.replies[2].result, Result::ok);
  EXPECT_NE(r.replies[2].flags & reply_flag_replayed, 0u);

  std::vector<storage::StoredText> live;
  {
    std::lock_guard lock(mu);
    live = kept;
  }
  ASSERT_EQ(live.size(), 3u);
  EXPECT_EQ(live[0].key, id(1));
  EXPECT_EQ(live[0].text, "member one");
  EXPECT_EQ(live[1].key, id(3));
  EXPECT_EQ(live[2].key, id(10));
  EXPECT_EQ(live[2].text, "gift ok");

  // Restart: the journal holds all five texts (inputs), and replay decides
  // again which are kept: the same ones, with the same seqs.
  node.stop();
  std::vector<storage::StoredText> replayed_kept;
  size_t journaled = 0;
  std::map<uint64_t, Id128> id_of_seq;
  node.on_replayed = [&](std::span<const Command> commands, std::span<const Reply> replies,
                         std::span<const CommandText> texts) {
    for (const Command& cmd : commands)
      id_of_seq[cmd.seq] = cmd.id;
    journaled += texts.size();
    for (const CommandText& t : texts) {
      if (text_kept(replies[t.index]))
        replayed_kept.push_back({commands[t.index].seq, t.key, t.group, t.text});
    }
  };
  ASSERT_TRUE(node.start());
  EXPECT_EQ(journaled, 5u);
  ASSERT_EQ(replayed_kept.size(), live.size());
  for (size_t i = 0; i < live.size(); i++) {
    EXPECT_EQ(replayed_kept[i].seq, live[i].seq);
    EXPECT_EQ(replayed_kept[i].key, live[i].key);
    EXPECT_EQ(replayed_kept[i].text, live[i].text);
    // Each kept text sits beside the command whose id is its key.
    EXPECT_EQ(id_of_seq[live[i].seq], live[i].key);
  }
}

TEST(TextsPipeline, InvalidTextsRefuseTheBatchAndApplyNothing) {
  storage::MemoryFileSystem fs;
  Node node;
  node.fs = &fs;
  node.config = test::Driver::small_config();
  ASSERT_TRUE(node.start());
  net::testing::TestClient raw;
  ASSERT_TRUE(raw.connect(node.port));
  ASSERT_TRUE(raw.hello(test_token));
  std::vector<Command> commands = {make_register(id(1), 1), make_register(id(2), 2)};
  std::vector<std::byte> good =
      net::encode_command_batch(commands, std::vector{text_for(0, id(1), "a")});
  // A zero key, forged past the encoder's check: encoded with a marker key,
  // whose 16 bytes are then zeroed in place.
  const Id128 marker{0x1122334455667788ull, 0x99aabbccddeeff00ull};
  std::vector<std::byte> body =
      net::encode_command_batch(commands, std::vector{CommandText{0, marker, 0, "x"}});
  bool patched = false;
  for (size_t i = 0; i + 16 <= body.size() && !patched; i++) {
    Id128 at;
    std::memcpy(&at, body.data() + i, 16);
    if (at == marker) {
      std::memset(body.data() + i, 0, 16);
      patched = true;
    }
  }
  ASSERT_TRUE(patched);
  std::vector<Command> out;
  std::vector<CommandText> texts_out;
  ASSERT_EQ(net::decode_command_batch(body, batch_size_max, out, texts_out),
            net::BatchDecode::bad_texts);
  net::Frame frame;
  ASSERT_TRUE(raw.send(net::encode_request_frame(7, body)));
  ASSERT_EQ(raw.read_frame(frame), net::testing::ReadStatus::frame);
  EXPECT_EQ(frame.header.type, net::FrameType::reply);
  EXPECT_EQ(frame.header.request_id, 7u);
  Result error = Result::ok;
  std::vector<Reply> replies;
  ASSERT_TRUE(net::decode_reply_batch(frame.body, &error, replies));
  EXPECT_EQ(error, Result::invalid_request);
  // Nothing was applied: the same commands with a good text succeed as new.
  ASSERT_TRUE(raw.send(net::encode_request_frame(8, good)));
  ASSERT_EQ(raw.read_frame(frame), net::testing::ReadStatus::frame);
  ASSERT_TRUE(net::decode_reply_batch(frame.body, &error, replies));
  EXPECT_EQ(error, Result::ok);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].result, Result::ok);
  EXPECT_EQ(replies[0].flags & reply_flag_replayed, 0u);
}

client::Query texts_query(std::vector<Id128> ids) {
  client::Query q;
  q.kind = client::QueryKind::texts;
  q.ids = std::move(ids);
  return q;
}

TEST(QueriesPipeline, AQueryAfterAWriteSeesTheWrite) {
  StoreNode n;
  ASSERT_TRUE(n.start());
  auto c = n.node.connect();
  ASSERT_TRUE(c);
  // Each text is queried right after its write was acknowledged; the store
  // applies on its own thread, so without waiting the query would often miss it.
  for (uint64_t i = 1; i <= 60; i++) {
    Command reg = make_register(id(1000 + i), i);
    const std::string text = R"({"phone":")" + std::to_string(13800000000 + i) + "\"}";
    client::SubmitResult r = submit(*c, {reg}, {text_for(0, id(5000 + i), text, /*group=*/77)});
    ASSERT_EQ(r.status, Result::ok);
    ASSERT_EQ(r.replies[0].result, Result::ok);
    client::QueryResult q = c->query_sync(texts_query({id(5000 + i), id(999'999)}));
    ASSERT_EQ(q.status, Result::ok) << i;
    ASSERT_EQ(q.rows.size(), 2u);
    EXPECT_EQ(q.rows[0].id, id(5000 + i));
    ASSERT_TRUE(q.rows[0].text.has_value()) << "write " << i << " not visible";
    EXPECT_EQ(*q.rows[0].text, text);
    EXPECT_FALSE(q.rows[1].text.has_value());
  }
  // The group lists them all, by key, in pages.
  client::Query g;
  g.kind = client::QueryKind::texts_in_group;
  g.key = 77;
  g.limit = 25;
  size_t seen = 0;
  Id128 last{};
  for (int page = 0; page < 10; page++) {
    client::QueryResult q = c->query_sync(g);
    ASSERT_EQ(q.status, Result::ok);
    for (const client::QueryRow& row : q.rows) {
      EXPECT_LT(last, row.id);
      last = row.id;
      EXPECT_TRUE(row.text.has_value());
    }
    seen += q.rows.size();
    if (q.next.at_start()) break;
    g.cursor = q.next;
  }
  EXPECT_EQ(seen, 60u);
}

TEST(QueriesPipeline, HistoryAndGiftsCarryTheirCommandsTexts) {
  StoreNode n;
  ASSERT_TRUE(n.start());
  auto c = n.node.connect();
  ASSERT_TRUE(c);
  ASSERT_EQ(submit(*c, {make_register(id(1), 1), make_register(id(2), 2)}, {}).status, Result::ok);
  client::SubmitResult r = submit(*c,
                                  {make_money(CommandKind::member_credit, id(3), 1, 500),
                                   make_gift(id(4), 1, 2, 120), make_gift(id(5), 1, 2, 80)},
                                  {text_for(0, id(3), R"({"ref":"credit"})"),
                                   text_for(1, id(4), R"({"ref":"g1","message":"hi"})")});
  ASSERT_EQ(r.status, Result::ok);
  for (const Reply& reply : r.replies)
    ASSERT_EQ(reply.result, Result::ok);

  client::Query h;
  h.kind = client::QueryKind::history;
  h.key = 1;
  h.asset = asset_wallet;
  h.limit = 10;
  client::QueryResult q = c->query_sync(h);
  ASSERT_EQ(q.status, Result::ok);
  ASSERT_EQ(q.rows.size(), 3u);  // newest first: gift 5, gift 4, credit 3
  EXPECT_EQ(q.rows[0].amount, -80);
  EXPECT_FALSE(q.rows[0].text.has_value());  // gift 5 had no text
  EXPECT_EQ(q.rows[1].amount, -120);
  ASSERT_TRUE(q.rows[1].text.has_value());
  EXPECT_EQ(*q.rows[1].text, R"({"ref":"g1","message":"hi"})");
  EXPECT_EQ(q.rows[2].amount, 500);
  EXPECT_EQ(q.rows[2].balance_after, 500);
  ASSERT_TRUE(q.rows[2].text.has_value());
  EXPECT_EQ(*q.rows[2].text, R"({"ref":"credit"})");
  EXPECT_EQ(q.rows[0].balance_after, 300);
  EXPECT_TRUE(q.next.at_start());

  // Page by page (limit 1) gives the same rows.
  h.limit = 1;
  std::vector<client::QueryRow> paged;
  for (int i = 0; i < 10; i++) {
    client::QueryResult p = c->query_sync(h);
    ASSERT_EQ(p.status, Result::ok);
    paged.insert(paged.end(), p.rows.begin(), p.rows.end());
    if (p.next.at_start()) break;
    h.cursor = p.next;
  }
  ASSERT_EQ(paged.size(), 3u);
  for (size_t i = 0; i < 3; i++) {
    EXPECT_EQ(paged[i].seq, q.rows[i].seq);
    EXPECT_EQ(paged[i].text, q.rows[i].text);
  }

  client::Query gifts;
  gifts.kind = client::QueryKind::gifts_received;
  gifts.key = 2;
  gifts.limit = 10;
  client::QueryResult gq = c->query_sync(gifts);
  ASSERT_EQ(gq.status, Result::ok);
  ASSERT_EQ(gq.rows.size(), 2u);
  EXPECT_EQ(gq.rows[0].id, id(5));
  EXPECT_EQ(gq.rows[1].id, id(4));
  EXPECT_EQ(gq.rows[1].from_member_id, 1u);
  EXPECT_EQ(gq.rows[1].to_member_id, 2u);
  EXPECT_EQ(gq.rows[1].amount, 120);
  ASSERT_TRUE(gq.rows[1].text.has_value());
  EXPECT_EQ(*gq.rows[1].text, R"({"ref":"g1","message":"hi"})");

  // Bad queries: refused in the reply, the connection goes on.
  client::Query bad = h;
  bad.limit = 0;
  EXPECT_EQ(c->query_sync(bad).status, Result::invalid_request);
  bad.limit = client::query_limit_max + 1;
  EXPECT_EQ(c->query_sync(bad).status, Result::invalid_request);
  client::Query group_zero;
  group_zero.kind = client::QueryKind::texts_in_group;
  group_zero.key = 0;
  EXPECT_EQ(c->query_sync(group_zero).status, Result::invalid_request);
  EXPECT_EQ(c->query_sync(texts_query({})).status, Result::invalid_request);
  EXPECT_EQ(c->query_sync(h).status, Result::ok);
}

// A page that would outgrow the frame is cut short and continued by `next`;
// a texts query that cannot be cut is refused.
TEST(QueriesPipeline, PagesAreCutToTheFrameAndContinue) {
  StoreNode n;
  ASSERT_TRUE(n.start());
  auto c = n.node.connect();
  ASSERT_TRUE(c);
  std::vector<Command> commands;
  std::vector<CommandText> texts;
  std::vector<Id128> keys;
  for (uint32_t i = 0; i < 10; i++) {
    commands.push_back(make_register(id(100 + i), 100 + i));
    texts.push_back(text_for(i, id(100 + i), std::string(1000, char('a' + i)), /*group=*/5));
    keys.push_back(id(100 + i));
  }
  commands.push_back(make_register(id(1), 1));
  commands.push_back(make_money(CommandKind::member_credit, id(2), 1, 900));
  commands.push_back(make_gift(id(3), 1, 100, 10));
  commands.push_back(make_gift(id(4), 1, 100, 20));
  texts.push_back(text_for(11, id(2), std::string(1000, 'c')));
  texts.push_back(text_for(12, id(3), std::string(1000, 'g')));
  texts.push_back(text_for(13, id(4), std::string(1000, 'h')));
  client::SubmitResult r = submit(*c, commands, texts);
  ASSERT_EQ(r.status, Result::ok);
  for (const Reply& reply : r.replies)
    ASSERT_EQ(reply.result, Result::ok);
  ASSERT_EQ(c->query_sync(texts_query({id(100)})).status, Result::ok);  // the store caught up

  const size_t three_rows =
      net::query_reply_overhead_size_max + 3 * (net::query_row_overhead_size_max + 1000) + 10;
  net::QueryRequest g;
  g.kind = net::QueryKind::texts_in_group;
  g.key = 5;
  g.limit = 100;
  std::vector<Id128> listed;
  for (int page = 0; page < 10; page++) {
    net::QueryAnswer a;
    n.queries->answer(g, three_rows, &a);
    ASSERT_EQ(a.status, Result::ok);
    ASSERT_LE(a.rows.size(), 3u);
    EXPECT_LE(net::encode_query_reply(a).size(), three_rows);
    for (const auto& row : a.rows)
      listed.push_back(row.id);
    if (a.next.at_start()) break;
    g.cursor = a.next;
  }
  std::vector<Id128> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);

  net::QueryRequest t;
  t.kind = net::QueryKind::texts;
  t.ids = keys;
  net::QueryAnswer a;
  n.queries->answer(t, three_rows, &a);
  EXPECT_EQ(a.status, Result::invalid_request);
  t.ids.resize(3);
  n.queries->answer(t, three_rows, &a);
  EXPECT_EQ(a.status, Result::ok);

  // History of member 1: gift 4, gift 3, credit 2, one row per page.
  const size_t one_row =
      net::query_reply_overhead_size_max + (net::query_row_overhead_size_max + 1000) + 10;
  net::QueryRequest h;
  h.kind = net::QueryKind::history;
  h.key = 1;
  h.limit = 10;
  std::vector<std::string> seen;
  for (int page = 0; page < 10; page++) {
    n.queries->answer(h, one_row, &a);
    ASSERT_EQ(a.status, Result::ok);
    ASSERT_EQ(a.rows.size(), 1u);
    ASSERT_TRUE(a.rows[0].text.has_value());
    seen.push_back(a.rows[0].text->substr(0, 1));
    if (a.next.at_start()) break;
    h.cursor = a.next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"h", "g", "c"}));
  // Gifts the same way (seq bounds rather than an inclusive cursor).
  net::QueryRequest gifts;
  gifts.kind = net::QueryKind::gifts_sent;
  gifts.key = 1;
  gifts.limit = 10;
  seen.clear();
  for (int page = 0; page < 10; page++) {
    n.queries->answer(gifts, one_row, &a);
    ASSERT_EQ(a.status, Result::ok);
    ASSERT_EQ(a.rows.size(), 1u);
    seen.push_back(a.rows[0].text->substr(0, 1));
    if (a.next.at_start()) break;
    gifts.cursor = a.next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"h", "g"}));
}

// A fake store that is never caught up (or has no service at all).
class LaggingQueries final : public net::QueryService {
 public:
  uint64_t acknowledged_seq() const override { return 10; }
  uint64_t applied_seq() const override { return applied.load(); }
  void answer(const net::QueryRequest& q, size_t, net::QueryAnswer* out) override {
    *out = net::QueryAnswer{};
    out->rows.resize(1);
    out->rows[0].id = q.ids.empty() ? Id128{} : q.ids[0];
    out->rows[0].text = "answered at " + std::to_string(applied.load());
  }
  std::atomic<uint64_t> applied{0};
};

std::vector<std::byte> raw_texts_query(Id128 key) {
  net::QueryRequest q;
  q.kind = net::QueryKind::texts;
  q.ids = {key};
  return net::encode_query(q);
}

TEST(QueriesPipeline, PipelinedQueriesAndBatchesGetTheirOwnReplies) {
  storage::MemoryFileSystem fs;
  LaggingQueries lagging;
  lagging.applied = 10;  // caught up
  Node node;
  node.fs = &fs;
  node.config = test::Driver::small_config();
  node.queries = &lagging;
  ASSERT_TRUE(node.start());
  net::testing::TestClient raw;
  ASSERT_TRUE(raw.connect(node.port));
  ASSERT_TRUE(raw.hello(test_token));
  std::vector<Command> one = {make_register(id(1), 1)};
  std::vector<Command> two = {make_register(id(2), 2), make_register(id(3), 3)};
  std::vector<std::byte> burst;
  auto add = [&burst](const std::vector<std::byte>& frame) {
    burst.insert(burst.end(), frame.begin(), frame.end());
  };
  add(net::encode_request_frame(1, net::encode_command_batch(one)));
  add(net::encode_query_frame(2, raw_texts_query(id(42))));
  add(net::encode_request_frame(3, net::encode_command_batch(two)));
  add(net::encode_query_frame(4, std::vector<std::byte>(12, std::byte{0x5a})));  // malformed
  add(net::encode_query_frame(5, raw_texts_query(id(43))));
  ASSERT_TRUE(raw.send(burst));

  net::Frame f;
  Result error = Result::unavailable;
  std::vector<Reply> replies;
  net::QueryAnswer answer;
  ASSERT_EQ(raw.read_frame(f), net::testing::ReadStatus::frame);
  EXPECT_EQ(f.header.type, net::FrameType::reply);
  EXPECT_EQ(f.header.request_id, 1u);
  ASSERT_TRUE(net::decode_reply_batch(f.body, &error, replies));
  EXPECT_EQ(replies.size(), 1u);

  ASSERT_EQ(raw.read_frame(f), net::testing::ReadStatus::frame);
  EXPECT_EQ(f.header.type, net::FrameType::query_reply);
  EXPECT_EQ(f.header.request_id, 2u);
  ASSERT_TRUE(net::decode_query_reply(f.body, &answer));
  ASSERT_EQ(answer.rows.size(), 1u);
  EXPECT_EQ(answer.rows[0].id, id(42));

  ASSERT_EQ(raw.read_frame(f), net::testing::ReadStatus::frame);
  EXPECT_EQ(f.header.type, net::FrameType::reply);
  EXPECT_EQ(f.header.request_id, 3u);
  ASSERT_TRUE(net::decode_reply_batch(f.body, &error, replies));
  EXPECT_EQ(replies.size(), 2u);

  ASSERT_EQ(raw.read_frame(f), net::testing::ReadStatus::frame);
  EXPECT_EQ(f.header.type, net::FrameType::query_reply);
  EXPECT_EQ(f.header.request_id, 4u);
  ASSERT_TRUE(net::decode_query_reply(f.body, &answer));
  EXPECT_EQ(answer.status, Result::invalid_request);

  ASSERT_EQ(raw.read_frame(f), net::testing::ReadStatus::frame);
  EXPECT_EQ(f.header.type, net::FrameType::query_reply);
  EXPECT_EQ(f.header.request_id, 5u);
  ASSERT_TRUE(net::decode_query_reply(f.body, &answer));
  ASSERT_EQ(answer.rows.size(), 1u);
  EXPECT_EQ(answer.rows[0].id, id(43));

  // A query reusing an id still in flight closes the connection, as for requests.
  lagging.applied = 0;  // keeps query 6 waiting
  ASSERT_TRUE(raw.send(net::encode_query_frame(6, raw_texts_query(id(1)))));
  ASSERT_TRUE(raw.send(net::encode_request_frame(6, net::encode_command_batch(one))));
  EXPECT_TRUE(raw.expect_error_then_close(net::error_code::invalid_request));
}

TEST(QueriesPipeline, AQueryWaitsForTheStoreThenGivesUpUnavailable) {
  storage::MemoryFileSystem fs;
  LaggingQueries lagging;
  Node node;
  node.fs = &fs;
  node.config = test::Driver::small_config();
  node.queries = &lagging;
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  ASSERT_TRUE(c);
  // Catches up while the query waits: answered then, not before.
  std::thread catch_up([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    lagging.applied = 10;
  });
  client::QueryResult q = c->query_sync(texts_query({id(1)}));
  catch_up.join();
  ASSERT_EQ(q.status, Result::ok);
  ASSERT_EQ(q.rows.size(), 1u);
  EXPECT_EQ(q.rows[0].text, std::optional<std::string>("answered at 10"));
  // Never catches up: UNAVAILABLE, and the connection still serves commands.
  lagging.applied = 9;
  EXPECT_EQ(c->query_sync(texts_query({id(1)})).status, Result::unavailable);
  EXPECT_GE(node.server->metrics().queries_timed_out, 1u);
  EXPECT_EQ(c->call(make_register(id(1), 1)).result, Result::ok);
}

TEST(QueriesPipeline, WithoutAStoreQueriesAreUnavailable) {
  storage::MemoryFileSystem fs;
  Node node;
  node.fs = &fs;
  node.config = test::Driver::small_config();
  ASSERT_TRUE(node.start());
  auto c = node.connect();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->query_sync(texts_query({id(1)})).status, Result::unavailable);
  EXPECT_EQ(c->call(make_register(id(1), 1)).result, Result::ok);
}

}  // namespace
}  // namespace coffer::testing
