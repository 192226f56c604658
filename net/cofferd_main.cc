// cofferd: the ledger server. Start-up, in order: flags → data dir lock →
// secrets → optional journal repair → LMDB state store → recovery (image as of
// S + journal after S) → journal (torn tail cut) → sequencer (effects to the
// store, periodic checkpoints) → server → "ready". SIGTERM/SIGINT: stop accepting, drain,
// sync, exit 0. Flags: API.md "Running the servers"; cofferd --help.
#include <signal.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "core/ledger.h"
#include "net/data_dir.h"
#include "net/query_service.h"
#include "net/sequencer.h"
#include "net/server.h"
#include "storage/journal.h"
#include "storage/recovery.h"
#include "storage/state_store.h"

namespace po = boost::program_options;
using namespace coffer;

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "cofferd: %s\n", message.c_str());
  return 1;
}

bool parse_listen(const std::string& text, std::string* host, uint16_t* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  *host = text.substr(0, colon);
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data() + colon + 1, end, value);
  if (ec != std::errc() || ptr != end || value > 65535) return false;
  *port = uint16_t(value);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir, listen, token_file;
  uint32_t accounts_max = 0, pending_max = 0, idempotency_max = 0, io_threads = 0;
  uint32_t queue_max = 0, tick_interval_ms = 0, checkpoint_interval_s = 0;
  uint64_t state_map_gib = 0;
  uint32_t members_max = 0, payments_max = 0, records_max = 0, vouchers_max = 0;
  po::options_description flags("cofferd — the Coffer ledger server\n\nOptions");
  flags.add_options()                                                               //
      ("help", "show this help and exit")                                           //
      ("data", po::value(&data_dir)->default_value("./data"), "data directory")     //
      ("listen", po::value(&listen)->default_value("127.0.0.1:7700"), "HOST:PORT")  //
      ("token-file", po::value(&token_file),
       "binary protocol token, first line (default DIR/token; generated on first start "
       "together with DIR/admin.key)")                                                         //
      ("accounts-max", po::value(&accounts_max)->default_value(1u << 20), "account capacity")  //
      ("pending-max", po::value(&pending_max)->default_value(1u << 18),
       "open holds and grants capacity")  //
      ("idempotency-max", po::value(&idempotency_max)->default_value(1u << 20),
       "command ids remembered for replays")                                           //
      ("io-threads", po::value(&io_threads)->default_value(1), "network I/O threads")  //
      ("queue-max", po::value(&queue_max)->default_value(4096),
       "requests waiting for the core thread before backpressure")  //
      ("tick-interval-ms", po::value(&tick_interval_ms)->default_value(100),
       "how often holds and grants are settled while any is open")  //
      ("members-max", po::value(&members_max)->default_value(1u << 18),
       "member capacity (each takes two of --accounts-max)")  //
      ("payments-max", po::value(&payments_max)->default_value(1u << 18),
       "payment records kept")  //
      ("records-max", po::value(&records_max)->default_value(1u << 18),
       "refunds, recharges and credit/debit/rebate/gift records kept, each")  //
      ("vouchers-max", po::value(&vouchers_max)->default_value(1u << 18),
       "voucher codes of all batches")  //
      ("checkpoint-interval-s", po::value(&checkpoint_interval_s)->default_value(60),
       "how often the state image is saved to LMDB (bounds replay time and journal size)")  //
      ("state-map-gib", po::value(&state_map_gib)->default_value(64),
       "LMDB map size in GiB (sparse; the state store's upper bound)")  //
      ("repair-journal",
       "truncate the journal at the first corruption (loses what follows) and start");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(flags).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cofferd: %s (see cofferd --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << flags << "\n";
    return 0;
  }
  std::string host;
  uint16_t port = 0;
  if (!parse_listen(listen, &host, &port)) {
    std::fprintf(stderr, "cofferd: --listen wants HOST:PORT, got '%s'\n", listen.c_str());
    return 2;
  }
  if (accounts_max < 1 || accounts_max > accounts_capacity_max || pending_max < 1 ||
      pending_max > pending_capacity_max || idempotency_max < 1 ||
      idempotency_max > idempotency_capacity_max || io_threads < 1 ||
      io_threads > net::io_threads_max || queue_max < 1 || queue_max > (1u << 20) ||
      members_max < 1 || members_max > members_capacity_max ||
      uint64_t{members_max} * 2 > accounts_max || payments_max < 1 ||
      payments_max > records_capacity_max || records_max < 1 ||
      records_max > records_capacity_max || vouchers_max < 1 ||
      vouchers_max > vouchers_capacity_max || checkpoint_interval_s < 1 ||
      checkpoint_interval_s > 86400 || state_map_gib < 1 || state_map_gib > 4096) {
    std::fprintf(stderr, "cofferd: a capacity flag is out of range (see cofferd --help)\n");
    return 2;
  }

  // Signals are taken by sigwait below: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int lock_fd = -1;
  if (net::DataDirError e = net::lock_data_dir(data_dir, &lock_fd); !e.ok) return fail(e.message);

  const bool default_token_file = token_file.empty();
  if (default_token_file) token_file = data_dir + "/token";
  if (default_token_file) {
    bool generated = false;
    std::string token, admin_key;
    if (net::DataDirError e =
            net::ensure_secrets(data_dir, token_file, &generated, &token, &admin_key);
        !e.ok) {
      return fail(e.message);
    }
    if (generated) {
      std::fprintf(stderr, "cofferd: first start: generated %s and %s/admin.key (shown once)\n",
                   token_file.c_str(), data_dir.c_str());
      std::fprintf(stderr, "cofferd: token: %s\n", token.c_str());
      if (!admin_key.empty()) std::fprintf(stderr, "cofferd: admin key: %s\n", admin_key.c_str());
    }
  }
  std::string token;
  if (net::DataDirError e = net::read_first_line(token_file, &token); !e.ok) {
    return fail("token file: " + e.message);
  }

  // --- Journal and recovery ---------------------------------------------------
  storage::JournalOptions journal_options;
  journal_options.dir = data_dir + "/journal";
  if (storage::Status st = storage::posix_file_system()->create_dir(journal_options.dir);
      !st.ok()) {
    return fail("cannot create " + journal_options.dir + ": " + st.to_string());
  }
  journal_options.log = [](const std::string& line) {
    std::fprintf(stderr, "cofferd: journal: %s\n", line.c_str());
  };
  if (vm.count("repair-journal")) {
    storage::RepairReport repair;
    if (storage::Status st = storage::repair_journal(journal_options, &repair); !st.ok()) {
      return fail("journal repair failed: " + st.to_string());
    }
    if (repair.repaired) {
      std::fprintf(stderr,
                   "cofferd: journal repaired: truncated at %s offset %llu, %u segments removed "
                   "(%s)\n",
                   repair.file.c_str(), (unsigned long long)repair.offset, repair.segments_removed,
                   repair.reason.c_str());
    } else {
      std::fprintf(stderr, "cofferd: journal repair: nothing to repair\n");
    }
  }
  // The LMDB state store (history, records, the state image), then recovery:
  // the image as of S, the journal after S replayed through a fresh ledger and
  // its effects re-fed to the store. Before Journal::open(), which cuts a torn tail.
  std::unique_ptr<storage::Journal> journal;  // declared first: the store's callback uses it
  std::atomic<storage::Journal*> journal_ptr{nullptr};
  storage::StateStoreOptions store_options;
  store_options.dir = data_dir + "/state";
  store_options.map_size_bytes = state_map_gib << 30;
  store_options.log = [](const std::string& line) {
    std::fprintf(stderr, "cofferd: state store: %s\n", line.c_str());
  };
  // Once an image as of S is durable, the journal below it is no longer needed.
  store_options.on_image_saved = [&journal_ptr](uint64_t seq) {
    if (storage::Journal* j = journal_ptr.load()) j->remove_segments_below(seq + 1);
  };
  std::unique_ptr<storage::StateStore> store;
  if (storage::Status st = storage::StateStore::open(store_options, &store); !st.ok()) {
    return fail("cannot open the state store in " + store_options.dir + ": " + st.to_string());
  }
  LedgerConfig config;
  config.accounts_capacity = accounts_max;
  config.pending_capacity = pending_max;
  config.idempotency_capacity = idempotency_max;
  config.members_capacity = members_max;
  config.payments_capacity = payments_max;
  config.records_capacity = records_max;
  config.vouchers_capacity = vouchers_max;
  auto ledger = std::make_unique<Ledger>(config);
  storage::RecoveryOptions recovery_options;
  recovery_options.journal_dir = journal_options.dir;
  recovery_options.log = [](const std::string& line) {
    std::fprintf(stderr, "cofferd: %s\n", line.c_str());
  };
  storage::RecoveryReport recovery;
  storage::Status recovered = storage::recover(recovery_options, *store, *ledger, &recovery);
  if (!recovered.ok() && vm.count("repair-journal")) {
    // The repair cut records that the state store had already followed, so
    // the store is ahead of the journal. The operator chose to lose them:
    // rebuild the store from the journal, keeping the old one aside. If the
    // journal cannot rebuild it (its start was removed after a checkpoint),
    // put the store back and stop.
    const std::string aside = store_options.dir + ".before-repair";
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(aside, ec);
    std::filesystem::rename(store_options.dir, aside, ec);
    if (ec) return fail("cannot move the state store aside: " + ec.message());
    ledger = std::make_unique<Ledger>(config);
    recovery = {};
    recovered = storage::StateStore::open(store_options, &store);
    if (recovered.ok()) recovered = storage::recover(recovery_options, *store, *ledger, &recovery);
    if (recovered.ok()) {
      std::fprintf(stderr,
                   "cofferd: state store rebuilt from the repaired journal; the old one "
                   "is kept in %s\n",
                   aside.c_str());
    } else {
      store.reset();
      std::filesystem::remove_all(store_options.dir, ec);
      std::filesystem::rename(aside, store_options.dir, ec);
    }
  }
  if (!recovered.ok()) {
    return fail("recovery failed: " + recovered.to_string() +
                " (start with --repair-journal to truncate a corrupt journal there, losing what "
                "follows)");
  }
  storage::JournalOpenReport open_report;
  if (storage::Status st = storage::Journal::open(journal_options, &journal, &open_report);
      !st.ok()) {
    return fail("cannot open the journal: " + st.to_string() +
                " (start with --repair-journal to truncate it there, losing what follows)");
  }
  if (open_report.next_seq != 0 && open_report.next_seq != ledger->last_seq() + 1) {
    return fail("journal ends at seq " + std::to_string(open_report.next_seq - 1) +
                " but recovery reached " + std::to_string(ledger->last_seq()));
  }
  journal_ptr.store(journal.get());

  // --- Serve ---------------------------------------------------------------------
  net::SequencerOptions sequencer_options;
  sequencer_options.queue_request_count_max = queue_max;
  sequencer_options.tick_interval_ms = tick_interval_ms;
  sequencer_options.on_durable_effects = [&store](uint64_t first_seq, uint64_t last_seq,
                                                  std::vector<Effect> effects,
                                                  std::vector<storage::StoredText> texts) {
    // Waits when the store's queue is full: backpressure on the whole pipeline
    // rather than a gap in history. A failed store keeps its sticky error,
    // which followers_healthy turns into STORAGE_ERROR for every later write.
    (void)store->submit(
        storage::EffectBatch{first_seq, last_seq, std::move(effects), std::move(texts)});
  };
  sequencer_options.followers_healthy = [&store] { return store->error().ok(); };
  sequencer_options.checkpoint_interval_ms = checkpoint_interval_s * 1000;
  sequencer_options.on_checkpoint = [&store](uint64_t seq, uint64_t hash,
                                             storage::ImageBuffer image) {
    (void)store->save_image(seq, hash, std::move(image));
  };
  net::Sequencer sequencer(*ledger, *journal, sequencer_options);
  std::atomic<net::Server*> server_ptr{nullptr};
  sequencer.start([&server_ptr](const net::SessionHandle& session, uint64_t request_id,
                                std::vector<std::byte> body) {
    if (net::Server* s = server_ptr.load()) s->reply(session, request_id, std::move(body));
  });
  // Queries (history, texts, lists) are answered from the store on the I/O
  // threads, once it has applied what was acknowledged before them.
  std::unique_ptr<net::QueryService> queries = net::make_store_query_service(*store, sequencer);
  net::ServerOptions server_options;
  server_options.queries = queries.get();
  server_options.address = host;
  server_options.port = port;
  server_options.io_threads = io_threads;
  server_options.access_token = token;
  std::unique_ptr<net::Server> server;
  if (net::ServerStatus st = net::Server::open(server_options, sequencer, &server); !st.ok()) {
    sequencer.stop();
    return fail("cannot listen on " + listen + ": " + st.message);
  }
  server_ptr.store(server.get());
  std::fprintf(stderr,
               "cofferd: ready on %s:%u (data %s, seq %llu, %llu records replayed, %u accounts)\n",
               host.c_str(), unsigned(server->port()), data_dir.c_str(),
               (unsigned long long)ledger->last_seq(),
               (unsigned long long)recovery.records_replayed, ledger->account_count());

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::fprintf(stderr, "cofferd: %s: stopping\n", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");

  // Stop reading (replies to requests already queued still flush), apply what
  // is queued, wait for the journal to make it durable, then close it.
  server->stop();
  sequencer.stop();
  server_ptr.store(nullptr);
  server.reset();
  journal_ptr.store(nullptr);
  journal.reset();
  if (storage::Status st = store->flush(); !st.ok()) {
    std::fprintf(stderr, "cofferd: state store: %s (the journal has everything)\n",
                 st.to_string().c_str());
  }
  store.reset();
  std::fprintf(stderr, "cofferd: stopped (seq %llu)\n", (unsigned long long)ledger->last_seq());
  net::release_data_dir(lock_fd);
  return 0;
}
