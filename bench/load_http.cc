// coffer-bench over HTTP: the same mix through coffer-gateway's JSON API
// (API.md), one keep-alive HTTP/1.1 connection per worker, one request at a
// time on each (no pipelining: what a storefront's connection pool does).
// The connections are asynchronous (Boost.Beast) on --http-threads I/O
// threads, so hundreds of them cost no thread each.
//
// A request answered 503 or cut by a lost connection is sent again with the
// same id (the API's idempotency makes that safe), up to http_attempts_max
// times; only then is its outcome counted as uncertain.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <memory>
#include <thread>

#include "bench/load.h"

namespace coffer::bench {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

constexpr auto kRequestTimeout = std::chrono::seconds(30);
constexpr auto kRetryDelay = std::chrono::milliseconds(20);

struct Call {
  http::verb verb = http::verb::get;
  std::string target;
  std::string body;
  OpKind kind = OpKind::read;
  uint64_t member = 0;
  int64_t amount = 0;
  uint64_t counter = 0;
};

using NextFn = std::function<bool(Call*)>;  // false: this connection is done
using DoneFn = std::function<void(const Call&, unsigned status, const std::string& body,
                                  uint64_t latency_us)>;  // status 0: no answer

// One keep-alive connection sending its calls one after another.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& io, tcp::resolver::results_type endpoints, const Options& o, NextFn next,
       DoneFn done)
      : stream_(io),
        timer_(io),
        endpoints_(std::move(endpoints)),
        o_(o),
        next_(std::move(next)),
        done_(std::move(done)) {}

  void start() { connect(); }

 private:
  void connect() {
    stream_.expires_after(kRequestTimeout);
    stream_.async_connect(endpoints_,
                          [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                            if (ec) return self->on_failure();
                            self->stream_.socket().set_option(tcp::no_delay(true));
                            if (self->have_call_) {
                              self->send();
                            } else {
                              self->take_next();
                            }
                          });
  }

  void take_next() {
    have_call_ = false;
    if (!next_(&call_)) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    have_call_ = true;
    attempts_ = 0;
    start_ = Clock::now();
    send();
  }

  void send() {
    attempts_++;
    req_ = {};
    req_.method(call_.verb);
    req_.target(call_.target);
    req_.version(11);
    req_.keep_alive(true);
    req_.set(http::field::host, o_.http_host);
    req_.set(http::field::authorization, "Bearer " + o_.api_key);
    if (!call_.body.empty()) {
      req_.set(http::field::content_type, "application/json");
      req_.body() = call_.body;
    }
    req_.prepare_payload();
    stream_.expires_after(kRequestTimeout);
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->on_failure();
      self->read();
    });
  }

  void read() {
    res_ = {};
    http::async_read(stream_, buffer_, res_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->on_failure();
                       self->on_response();
                     });
  }

  void on_response() {
    unsigned status = res_.result_int();
    bool keep = res_.keep_alive();
    failures_ = 0;
    if (status == 503 && attempts_ < http_attempts_max) {
      if (!keep) return reconnect();
      timer_.expires_after(kRetryDelay);
      timer_.async_wait([self = shared_from_this()](beast::error_code) { self->send(); });
      return;
    }
    finish(status, res_.body());
    if (!keep) {
      have_call_ = false;
      return reconnect();
    }
    take_next();
  }

  // A lost or refused connection: the call (if any) is sent again after a
  // reconnect, with the same id, until the attempts run out.
  void on_failure() {
    bool gone = ++failures_ > 2 * http_attempts_max;  // in a row: the server is gone
    if (have_call_ && (attempts_ >= http_attempts_max || gone)) {
      finish(0, "");
      have_call_ = false;
    }
    if (gone) return;  // this connection stops
    timer_.expires_after(kRetryDelay);
    timer_.async_wait([self = shared_from_this()](beast::error_code) { self->reconnect(); });
  }

  void reconnect() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    connect();
  }

  void finish(unsigned status, const std::string& body) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_);
    done_(call_, status, body, static_cast<uint64_t>(us.count()));
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  tcp::resolver::results_type endpoints_;
  const Options& o_;
  NextFn next_;
  DoneFn done_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  Call call_;
  bool have_call_ = false;
  uint32_t attempts_ = 0;
  uint32_t failures_ = 0;
  Clock::time_point start_;
};

// Runs `connections` connections until each one's NextFn says done.
bool run_connections(const Options& o, uint32_t connections,
                     const std::function<NextFn(uint32_t)>& make_next,
                     const std::function<DoneFn(uint32_t)>& make_done) {
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto endpoints = resolver.resolve(o.http_host, std::to_string(o.http_port), ec);
  if (ec) {
    std::fprintf(stderr, "coffer-bench: cannot resolve %s: %s\n", o.http_host.c_str(),
                 ec.message().c_str());
    return false;
  }
  for (uint32_t i = 0; i < connections; ++i)
    std::make_shared<Conn>(io, endpoints, o, make_next(i), make_done(i))->start();
  std::vector<std::thread> threads;
  for (uint32_t t = 1; t < o.http_threads; ++t)
    threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads)
    t.join();
  return true;
}

// The API error code of a failed answer ("INSUFFICIENT_FUNDS"), else HTTP_<status>.
std::string error_code(unsigned status, const std::string& body) {
  if (status == 0) return "NO_ANSWER";
  static const std::string key = "\"code\":\"";
  auto at = body.find(key);
  if (at != std::string::npos) {
    auto end = body.find('"', at + key.size());
    if (end != std::string::npos) return body.substr(at + key.size(), end - at - key.size());
  }
  return "HTTP_" + std::to_string(status);
}

// Sends `count` calls made by `make` over all connections; each answer must
// have one of the `ok` statuses. False on the first that does not.
bool run_phase(const Options& o, const char* what, uint64_t count,
               const std::function<void(uint64_t, Call*)>& make,
               std::initializer_list<unsigned> ok) {
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  uint32_t conns = static_cast<uint32_t>(std::min<uint64_t>(o.connections, count));
  run_connections(
      o, conns,
      [&](uint32_t) -> NextFn {
        return [&](Call* c) {
          if (failed.load()) return false;
          uint64_t k = next.fetch_add(1);
          if (k >= count) return false;
          *c = Call{};
          make(k, c);
          return true;
        };
      },
      [&](uint32_t) -> DoneFn {
        return [&, what](const Call& c, unsigned status, const std::string& body, uint64_t) {
          for (unsigned s : ok)
            if (s == status) return;
          if (!failed.exchange(true)) {
            std::fprintf(stderr, "coffer-bench: %s failed: %s %s -> %u %s\n", what,
                         std::string(http::to_string(c.verb)).c_str(), c.target.c_str(), status,
                         body.c_str());
          }
        };
      });
  return !failed.load() && next.load() >= count;
}

std::string member_target(uint64_t m, const char* tail) {
  return "/v1/members/" + std::to_string(m) + tail;
}

bool setup(const Options& o, const std::string& prefix) {
  // The default config already opens wallets on registration; set it anyway.
  // A gateway without PUT /v1/config yet answers 404/405: not fatal.
  bool config_ok = run_phase(o, "PUT /v1/config", 1,
                             [](uint64_t, Call* c) {
                               c->verb = http::verb::put;
                               c->target = "/v1/config";
                               c->body = R"({"wallet_auto_open":true})";
                             },
                             {200});
  if (!config_ok) std::fprintf(stderr, "coffer-bench: continuing with the server's config\n");
  if (!run_phase(o, "merchant", 1,
                 [&](uint64_t, Call* c) {
                   c->verb = http::verb::put;
                   c->target = "/v1/merchants/" + o.merchant;
                   c->body = R"({"name":"coffer-bench"})";
                 },
                 {200})) {
    return false;
  }
  std::fprintf(stderr, "coffer-bench: registering and funding %" PRIu64 " members over HTTP\n",
               o.members);
  // 409: registered before with other content (a phone): the member exists.
  if (!run_phase(o, "member registration", o.members,
                 [](uint64_t k, Call* c) {
                   c->verb = http::verb::post;
                   c->target = "/v1/members";
                   c->body = "{\"member_id\":" + std::to_string(k + 1) + "}";
                 },
                 {200, 201, 409})) {
    return false;
  }
  return run_phase(o, "funding", o.members,
                   [&](uint64_t k, Call* c) {
                     c->verb = http::verb::post;
                     c->target = member_target(k + 1, "/credit");
                     c->body = "{\"credit_id\":\"" + op_id(prefix, 0, 'f', k + 1) +
                               "\",\"amount\":" + std::to_string(initial_funds_minor) +
                               ",\"reason\":\"coffer-bench funding\"}";
                   },
                   {201});
}

// Every member's wallet balance, read over HTTP.
bool snapshot(const Options& o, Snapshot* s) {
  s->member_balance.assign(o.members + 1, INT64_MIN);
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  run_connections(
      o, static_cast<uint32_t>(std::min<uint64_t>(o.connections, o.members)),
      [&](uint32_t) -> NextFn {
        return [&](Call* c) {
          uint64_t k = next.fetch_add(1);
          if (k >= o.members || failed.load()) return false;
          *c = Call{};
          c->member = k + 1;
          c->target = member_target(k + 1, "/balance");
          return true;
        };
      },
      [&](uint32_t) -> DoneFn {
        return [&](const Call& c, unsigned status, const std::string& body, uint64_t) {
          if (status != 200) {
            failed = true;
            return;
          }
          json::error_code ec;
          json::value v = json::parse(body, ec);
          const json::value* bal = nullptr;
          if (!ec && v.is_object()) {
            const json::value* w = v.as_object().if_contains("wallet");
            if (w && w->is_object()) bal = w->as_object().if_contains("balance");
          }
          if (!bal || !bal->is_int64()) {
            failed = true;
            return;
          }
          s->member_balance[c.member] = bal->as_int64();
        };
      });
  return !failed.load() && next.load() >= o.members;
}

// One connection's share of the run: its own random stream, refund pool and
// statistics (its handlers never run concurrently).
struct HttpWorker {
  std::mt19937_64 rng;
  uint32_t id = 0;
  uint64_t counter = 0;
  RefundPool pool;
  WorkerStats stats;
};

void make_op(const Options& o, const std::string& prefix, const AccountChooser& chooser,
             HttpWorker* w, Call* c) {
  *c = Call{};
  c->kind = pick_op(o.mix, w->rng);
  c->member = chooser.pick(w->rng);
  c->counter = ++w->counter;
  Captured refund{};
  if (c->kind == OpKind::refund && !w->pool.take(w->rng, &refund)) c->kind = OpKind::payment;
  char body[256];
  switch (c->kind) {
    case OpKind::payment:
      c->amount = payment_amount_min_minor +
                  static_cast<int64_t>(w->rng() %
                                       (payment_amount_max_minor - payment_amount_min_minor + 1));
      c->verb = http::verb::post;
      c->target = "/v1/payments";
      std::snprintf(body, sizeof body,
                    "{\"payment_id\":\"%s\",\"member_id\":%" PRIu64
                    ",\"merchant_id\":\"%s\",\"amount\":%" PRId64 ",\"capture\":true}",
                    op_id(prefix, w->id, 'p', c->counter).c_str(), c->member, o.merchant.c_str(),
                    c->amount);
      c->body = body;
      break;
    case OpKind::recharge:
      c->amount = 1 + static_cast<int64_t>(w->rng() % recharge_amount_max_minor);
      c->verb = http::verb::post;
      c->target = member_target(c->member, "/credit");
      std::snprintf(body, sizeof body,
                    "{\"credit_id\":\"%s\",\"amount\":%" PRId64 ",\"reason\":\"recharge\"}",
                    op_id(prefix, w->id, 'c', c->counter).c_str(), c->amount);
      c->body = body;
      break;
    case OpKind::refund:
      c->member = refund.member;
      c->amount = 1 + static_cast<int64_t>(w->rng() % refund_amount_max_minor);
      c->verb = http::verb::post;
      c->target = "/v1/payments/" + op_id(prefix, w->id, 'p', refund.counter) + "/refunds";
      std::snprintf(body, sizeof body, "{\"refund_id\":\"%s\",\"amount\":%" PRId64 "}",
                    op_id(prefix, w->id, 'r', c->counter).c_str(), c->amount);
      c->body = body;
      break;
    case OpKind::read:
    case OpKind::voucher:  // refused by run_http: the gateway has no batch route yet
      c->kind = OpKind::read;
      c->verb = http::verb::get;
      c->target = member_target(c->member, "/balance");
      break;
  }
}

}  // namespace

int run_http(const Options& o) {
  if (o.api_key.empty()) {
    std::fprintf(stderr, "coffer-bench: --http needs --api-key or --api-key-file\n");
    return 2;
  }
  std::random_device rd;
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "ch%08x%04x", rd(), rd() & 0xffff);
  if (o.setup && !setup(o, prefix)) {
    std::fprintf(stderr, "coffer-bench: set-up over HTTP failed\n");
    return 2;
  }
  Snapshot before;
  if (o.verify && !snapshot(o, &before)) {
    std::fprintf(stderr, "coffer-bench: reading balances before the run failed\n");
    return 2;
  }

  AccountChooser chooser(o.members, o.zipf);
  Progress progress;
  std::vector<HttpWorker> workers(o.connections);
  for (uint32_t i = 0; i < o.connections; ++i) {
    workers[i].rng.seed(o.seed * 1'000'003 + i);
    workers[i].id = i + 1;  // 0 is the set-up's
    workers[i].stats.member_delta.assign(o.members + 1, 0);
  }
  auto start = Clock::now();
  CpuMeter cpu(o);
  std::thread watcher([&] { watch_progress(o, &progress, start); });
  std::string pfx = prefix;
  run_connections(
      o, o.connections,
      [&](uint32_t i) -> NextFn {
        return [&, i](Call* c) {
          if (!progress.claim(o, 1)) return false;
          make_op(o, pfx, chooser, &workers[i], c);
          return true;
        };
      },
      [&](uint32_t i) -> DoneFn {
        return [&, i](const Call& c, unsigned status, const std::string& body, uint64_t us) {
          HttpWorker& w = workers[i];
          w.stats.latency.record(us);
          w.stats.op_latency[static_cast<size_t>(c.kind)].record(us);
          w.stats.operations++;
          progress.done++;
          if (status >= 200 && status < 300) {
            w.stats.book(c.kind, c.member, c.amount);
            if (c.kind == OpKind::payment) w.pool.add({c.counter, c.member, c.amount}, w.rng);
            return;
          }
          w.stats.errors[error_code(status, body)]++;
          if ((status == 0 || status == 503) && c.kind != OpKind::read) w.stats.uncertain++;
          progress.errors++;
        };
      });
  progress.stop = true;
  watcher.join();
  RunResult result;
  result.transport = "http";
  result.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  cpu.finish(&result);
  result.total.member_delta.assign(o.members + 1, 0);
  for (const auto& w : workers)
    result.total.merge(w.stats);
  if (o.verify) {
    Snapshot after;
    if (!snapshot(o, &after)) {
      report(o, result);  // the run's figures, without a money check
      std::fprintf(stderr, "coffer-bench: reading balances after the run failed: no money check\n");
      return 2;
    }
    check_money(before, after, &result);
  }
  return report(o, result);
}

}  // namespace coffer::bench
