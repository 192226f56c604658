// End to end over loopback: client → server → sequencer → ledger → journal
// with real fdatasync in a temp dir ($COFFER_BENCH_DIR or /tmp) → reply.
// Transfers/s with calls of 1, 64 and 8192 commands (64 calls in flight; the
// client coalesces small calls into frames), the latency of one transfer and
// of one balance read made one at a time.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "clients/client.h"
#include "core/ledger.h"
#include "net/sequencer.h"
#include "net/server.h"
#include "storage/journal.h"

namespace coffer {
namespace {

constexpr char bench_token[] = "bench-token";

struct BenchServer {
  std::string dir;
  std::unique_ptr<storage::Journal> journal;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<net::Sequencer> sequencer;
  std::unique_ptr<net::Server> server;
  std::atomic<net::Server*> server_ptr{nullptr};
  std::unique_ptr<client::Client> client;
  uint64_t next_id = 1;

  bool start() {
    const char* base = std::getenv("COFFER_BENCH_DIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/coffer-net-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return false;
    dir = tmpl;
    storage::JournalOptions jo;
    jo.dir = dir;
    jo.log = [](const std::string&) {};
    if (!storage::Journal::open(jo, &journal).ok()) return false;
    LedgerConfig config;
    config.accounts_capacity = 1024;
    config.idempotency_capacity = 1u << 20;
    ledger = std::make_unique<Ledger>(config);
    net::SequencerOptions so;
    so.tick_interval_ms = 0;
    sequencer = std::make_unique<net::Sequencer>(*ledger, *journal, so);
    sequencer->start([this](const net::SessionHandle& s, uint64_t id, std::vector<std::byte> b) {
      if (net::Server* p = server_ptr.load()) p->reply(s, id, std::move(b));
    });
    net::ServerOptions o;
    o.access_token = bench_token;
    if (!net::Server::open(o, *sequencer, &server).ok()) return false;
    server_ptr.store(server.get());
    client::ClientOptions co;
    co.port = server->port();
    co.token = bench_token;
    if (!client::Client::connect(co, &client).ok()) return false;
    client->call(make_create_account(Id128{1, 1}, 1, asset_wallet, AccountKind::channel_clearing));
    client->call(make_create_account(Id128{2, 1}, 2, asset_wallet, AccountKind::member_wallet));
    return true;
  }

  ~BenchServer() {
    client.reset();
    if (server) server->stop();
    if (sequencer) sequencer->stop();
    server_ptr.store(nullptr);
    server.reset();
    sequencer.reset();
    journal.reset();
    ledger.reset();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }

  std::vector<Command> transfers(size_t n) {
    std::vector<Command> v;
    v.reserve(n);
    for (size_t i = 0; i < n; i++)
      v.push_back(make_transfer(Id128{next_id++, 7}, 1, 2, 1, asset_wallet));
    return v;
  }
};

void BM_EndToEndTransfers(benchmark::State& state) {
  const size_t batch = size_t(state.range(0));
  BenchServer s;
  if (!s.start()) {
    state.SkipWithError("server start failed");
    return;
  }
  const size_t window =
      std::getenv("NET_BENCH_WINDOW") ? size_t(std::atoi(std::getenv("NET_BENCH_WINDOW"))) : 64;
  std::deque<std::future<client::SubmitResult>> in_flight;
  bool ok = true;
  for (auto _ : state) {
    std::vector<Command> cmds = s.transfers(batch);
    in_flight.push_back(s.client->submit(cmds));
    if (in_flight.size() >= window) {
      ok &= in_flight.front().get().status == Result::ok;
      in_flight.pop_front();
    }
  }
  while (!in_flight.empty()) {
    ok &= in_flight.front().get().status == Result::ok;
    in_flight.pop_front();
  }
  if (!ok) state.SkipWithError("a call failed");
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(batch));
  state.counters["frames"] = double(s.client->metrics().frames_sent);
}
BENCHMARK(BM_EndToEndTransfers)->Arg(1)->Arg(64)->Arg(8192)->UseRealTime();

// One transfer at a time: the round trip including one fdatasync.
void BM_TransferLatency(benchmark::State& state) {
  BenchServer s;
  if (!s.start()) {
    state.SkipWithError("server start failed");
    return;
  }
  for (auto _ : state) {
    Command c = s.transfers(1)[0];
    if (s.client->call(c).result != Result::ok) state.SkipWithError("transfer failed");
  }
}
BENCHMARK(BM_TransferLatency)->UseRealTime();

// One balance read at a time. A lookup-only batch is not journaled: no
// fdatasync, just the round trip through the server and the core thread.
void BM_BalanceReadLatency(benchmark::State& state) {
  BenchServer s;
  if (!s.start()) {
    state.SkipWithError("server start failed");
    return;
  }
  for (auto _ : state) {
    if (s.client->call(make_lookup(2)).result != Result::ok) state.SkipWithError("lookup failed");
  }
}
BENCHMARK(BM_BalanceReadLatency)->UseRealTime();

}  // namespace
}  // namespace coffer
