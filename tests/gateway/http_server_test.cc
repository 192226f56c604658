// The HTTP server over real sockets on 127.0.0.1: keep-alive, pipelining in
// order, limits (body, header, connections, slowloris, idle, handler
// timeout), strict JSON answers, auth, /metrics and /healthz.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <future>
#include <mutex>
#include <thread>

#include "gateway/http_server.h"
#include "gateway/json_util.h"

namespace coffer::gateway {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

const bool kIgnoreSigpipe = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

using HttpResponse = http::response<http::string_body>;

class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::address_v4::loopback(), port));
  }

  void send(http::verb method, std::string target, std::string key = {}, std::string body = {}) {
    send_raw(serialize(method, std::move(target), std::move(key), std::move(body)));
  }

  static std::string serialize(http::verb method, std::string target, std::string key = {},
                               std::string body = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!key.empty()) req.set(http::field::authorization, "Bearer " + key);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    std::ostringstream os;
    os << req;
    return os.str();
  }

  bool send_raw(std::string_view bytes) {
    beast::error_code ec;
    net::write(socket_, net::buffer(bytes), ec);
    return !ec;
  }

  // Reads give up after timeout_ms so that a server bug fails the test
  // instead of hanging it. (Asio's blocking reads ignore SO_RCVTIMEO.)
  std::optional<HttpResponse> read(int timeout_ms = 5'000) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    beast::error_code ec;
    bool done = false;
    http::async_read(socket_, buffer_, parser, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    if (!run_for(timeout_ms, &done) || ec) return std::nullopt;
    return parser.release();
  }

  // Reads one response header (e.g. an interim 100 Continue).
  std::optional<http::response<http::empty_body>> read_header_only(int timeout_ms = 5'000) {
    http::response_parser<http::empty_body> parser;
    beast::error_code ec;
    bool done = false;
    http::async_read_header(socket_, buffer_, parser, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    if (!run_for(timeout_ms, &done) || ec) return std::nullopt;
    return parser.release();
  }

  HttpResponse call(http::verb method, std::string target, std::string key = {},
                    std::string body = {}) {
    send(method, std::move(target), std::move(key), std::move(body));
    auto r = read();
    EXPECT_TRUE(r.has_value());
    return r ? std::move(*r) : HttpResponse{};
  }

  // True when the server closed the connection (EOF or reset) within
  // timeout_ms; false when it stays open or sends bytes.
  bool closed_by_server(int timeout_ms = 5'000) {
    if (buffer_.size() > 0) return false;
    char c;
    beast::error_code ec;
    bool done = false;
    socket_.async_read_some(net::buffer(&c, 1), [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    if (!run_for(timeout_ms, &done)) return false;
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

 private:
  bool run_for(int timeout_ms, bool* done) {
    ioc_.restart();
    ioc_.run_for(std::chrono::milliseconds(timeout_ms));
    if (*done) return true;
    beast::error_code ignored;
    socket_.cancel(ignored);
    ioc_.restart();
    ioc_.run();  // the cancelled operation completes
    return false;
  }

  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string error_code_of(const HttpResponse& r) {
  boost::json::error_code ec;
  auto v = boost::json::parse(r.body(), ec);
  if (ec || !v.is_object() || !v.as_object().contains("error")) return "<no error body>";
  return std::string(v.at("error").at("code").as_string());
}

std::string error_field_of(const HttpResponse& r) {
  auto v = boost::json::parse(r.body());
  auto* f = v.at("error").as_object().if_contains("field");
  return f ? std::string(f->as_string()) : "<none>";
}

// Handlers complete on this thread, as ledger callbacks will.
class Worker {
 public:
  Worker() : thread_([this] { run(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void after(std::chrono::milliseconds delay, std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back({std::chrono::steady_clock::now() + delay, std::move(fn)});
    cv_.notify_all();
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      if (stop_ && jobs_.empty()) return;
      if (jobs_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto it = std::min_element(jobs_.begin(), jobs_.end(),
                                 [](auto& a, auto& b) { return a.first < b.first; });
      if (it->first > std::chrono::steady_clock::now()) {
        auto when = it->first;  // jobs_ may grow while we wait
        cv_.wait_until(lock, when);
        continue;
      }
      auto fn = std::move(it->second);
      jobs_.erase(it);
      lock.unlock();
      fn();
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::function<void()>>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

// Keys answered from another thread, as a ledger lookup would be.
class AsyncKeys final : public KeyResolver {
 public:
  AsyncKeys(const MemoryKeyResolver* keys, Worker* worker) : keys_(keys), worker_(worker) {}
  void resolve(std::string_view key, Done done) const override {
    worker_->after(std::chrono::milliseconds(0),
                   [this, key = std::string(key), done] { keys_->resolve(key, done); });
  }

 private:
  const MemoryKeyResolver* keys_;
  Worker* worker_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : async_keys_(&keys_, &worker_), router_(&async_keys_) {
    keys_.add("kp", Principal{Role::platform, "", "", "p"});
    keys_.add("ks", Principal{Role::service, "", "", "s"});
    keys_.add("km", Principal{Role::merchant, "m1", "", "m"});
    keys_.add("kt", Principal{Role::store, "m1", "s1", "t"});
    bind_builtin_routes(&router_, &metrics_, [this](std::function<void(bool)> done) {
      bool h = healthy_.load();
      worker_.after(std::chrono::milliseconds(1), [done, h] { done(h); });
    });
    // Echo: a strict JSON reader, answered on the I/O thread.
    router_.bind(RouteId::payment_create, [](const Request& req, Responder respond) {
      boost::json::object body;
      if (auto err = parse_json_object(req.body(), &body)) return respond(*err);
      std::string payment_id;
      uint64_t member_id = 0;
      int64_t amount = 0;
      std::optional<bool> capture;
      ObjectReader r(body);
      r.id("payment_id", &payment_id)
          .u64("member_id", &member_id)
          .amount("amount", &amount)
          .boolean("capture", &capture);
      if (auto err = r.finish()) return respond(*err);
      respond(json_response(
          201, boost::json::object{
                   {"payment_id", payment_id}, {"member_id", member_id}, {"amount", amount}}));
    });
    // Slow: answers from the worker thread after member_id milliseconds.
    router_.bind(RouteId::member_get, [this](const Request& req, Responder respond) {
      uint64_t id = req.param("member_id").u64;
      log("start " + std::to_string(id));
      worker_.after(std::chrono::milliseconds(id), [this, id, respond] {
        log("end " + std::to_string(id));
        respond(json_response(200, boost::json::object{{"member_id", id}}));
      });
    });
    // Rendezvous: GET balance of 1 answers only once balance of 2 has been
    // dispatched; pipelined GETs must overlap for both to succeed.
    router_.bind(RouteId::member_balance, [this](const Request& req, Responder respond) {
      uint64_t id = req.param("member_id").u64;
      std::lock_guard<std::mutex> lock(mu_);
      if (id == 1) {
        waiting_ = respond;
      } else if (waiting_) {
        auto first = std::move(*waiting_);
        waiting_.reset();
        worker_.after(std::chrono::milliseconds(0), [first, respond] {
          first(json_response(200, boost::json::object{{"member", 1}}));
          respond(json_response(200, boost::json::object{{"member", 2}}));
        });
      } else {
        respond(json_response(200, boost::json::object{{"member", id}}));
      }
    });
    // State-changing: records what it saw, answered from the worker.
    router_.bind(RouteId::payment_capture, [this](const Request& req, Responder respond) {
      log("capture " + req.param("payment_id").value);
      worker_.after(std::chrono::milliseconds(0),
                    [respond] { respond(json_response(200, boost::json::object{})); });
    });
    // Never answers (keeps its responder): the handler timeout must.
    router_.bind(RouteId::payment_void, [this](const Request&, Responder respond) {
      std::lock_guard<std::mutex> lock(mu_);
      hung_.push_back(respond);
    });
  }

  ~HttpServerTest() override {
    if (server_) server_->stop(1000);
    // Answer hung handlers after the server is gone: must be harmless.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& r : hung_)
      r(json_response(200, boost::json::object{}));
  }

  void start(HttpLimits limits = test_limits(), uint32_t threads = 2) {
    HttpServerOptions options;
    options.threads = threads;
    options.limits = limits;
    server_ = std::make_unique<HttpServer>(options, &router_, &metrics_);
    ServerStatus st = server_->start();
    ASSERT_TRUE(st.ok) << st.message;
    ASSERT_NE(server_->port(), 0);
  }

  static HttpLimits test_limits() {
    HttpLimits l;
    l.body_bytes_max = 1024;
    l.connections_max = 8;
    l.header_timeout_ms = 2'000;
    l.idle_timeout_ms = 5'000;
    l.handler_timeout_ms = 3'000;
    return l;
  }

  void log(std::string line) {
    std::lock_guard<std::mutex> lock(mu_);
    log_.push_back(std::move(line));
  }
  std::vector<std::string> log_copy() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

  // Polls a condition that depends on the server's own threads.
  template <typename F>
  static bool eventually(F f) {
    for (int i = 0; i < 500; ++i) {
      if (f()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return f();
  }

  MemoryKeyResolver keys_;
  AsyncKeys async_keys_;
  Router router_;
  Metrics metrics_;
  std::atomic<bool> healthy_{true};
  std::mutex mu_;
  std::vector<std::string> log_;
  std::optional<Responder> waiting_;
  std::vector<Responder> hung_;
  std::unique_ptr<HttpServer> server_;
  // Last: destroyed first, running its remaining jobs while everything they
  // touch still exists.
  Worker worker_;
};

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  Client c(server_->port());
  for (int i = 0; i < 5; ++i) {
    HttpResponse r =
        c.call(http::verb::post, "/v1/payments", "ks",
               R"({"payment_id":"p)" + std::to_string(i) + R"(","member_id":7,"amount":100})");
    ASSERT_EQ(r.result_int(), 201u) << r.body();
    EXPECT_TRUE(r.keep_alive());
    auto v = boost::json::parse(r.body());
    EXPECT_EQ(v.at("payment_id").as_string(), "p" + std::to_string(i));
    HttpResponse h = c.call(http::verb::get, "/healthz");
    EXPECT_EQ(h.result_int(), 200u);
  }
  EXPECT_EQ(metrics_.open_connections(), 1);
  EXPECT_EQ(metrics_.requests(&route_spec(RouteId::payment_create), 201), 5u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  Client c(server_->port());
  // The first request is the slowest; answers must still come in order.
  std::string batch;
  for (int id : {120, 0, 60, 5}) {
    batch += Client::serialize(http::verb::get, "/v1/members/" + std::to_string(id), "ks");
  }
  ASSERT_TRUE(c.send_raw(batch));
  for (int id : {120, 0, 60, 5}) {
    auto r = c.read();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->result_int(), 200u);
    EXPECT_EQ(boost::json::parse(r->body()).at("member_id").to_number<uint64_t>(), uint64_t(id));
  }
}

TEST_F(HttpServerTest, PipelineDeeperThanTheReadAheadIsAnsweredCompletely) {
  HttpLimits l = test_limits();
  l.pipeline_depth_max = 4;
  start(l);
  Client c(server_->port());
  std::string batch;
  constexpr int kRequests = 50;
  for (int i = 0; i < kRequests; ++i) {
    batch += i % 5 == 4
                 ? Client::serialize(http::verb::post,
                                     "/v1/payments/pay-" + std::to_string(i) + "/capture", "ks")
                 : Client::serialize(http::verb::get, "/v1/members/" + std::to_string(i % 3), "ks");
  }
  ASSERT_TRUE(c.send_raw(batch));
  for (int i = 0; i < kRequests; ++i) {
    auto r = c.read();
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->result_int(), 200u) << i;
    if (i % 5 != 4) {
      EXPECT_EQ(boost::json::parse(r->body()).at("member_id").to_number<uint64_t>(),
                uint64_t(i % 3));
    }
  }
}

TEST_F(HttpServerTest, PipelinedSafeRequestsOverlap) {
  start();
  Client c(server_->port());
  // Balance of 1 answers only after balance of 2 was dispatched: if the
  // server ran them one after the other, the first would hit the handler
  // timeout (503).
  ASSERT_TRUE(c.send_raw(Client::serialize(http::verb::get, "/v1/members/1/balance", "ks") +
                         Client::serialize(http::verb::get, "/v1/members/2/balance", "ks")));
  for (int member : {1, 2}) {
    auto r = c.read();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->result_int(), 200u) << r->body();
    EXPECT_EQ(boost::json::parse(r->body()).at("member").as_int64(), member);
  }
}

TEST_F(HttpServerTest, PipelinedStateChangesWaitForEverythingBefore) {
  start();
  Client c(server_->port());
  std::string batch = Client::serialize(http::verb::get, "/v1/members/80", "ks") +
                      Client::serialize(http::verb::post, "/v1/payments/pay-1/capture", "ks") +
                      Client::serialize(http::verb::get, "/v1/members/0", "ks") +
                      Client::serialize(http::verb::post, "/v1/payments/pay-2/capture", "ks");
  ASSERT_TRUE(c.send_raw(batch));
  for (int i = 0; i < 4; ++i) {
    auto r = c.read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 200u);
  }
  // The capture starts only after the slow GET ended; the GET after it only
  // after the capture ran.
  EXPECT_EQ(log_copy(), (std::vector<std::string>{"start 80", "end 80", "capture pay-1", "start 0",
                                                  "end 0", "capture pay-2"}));
}

TEST_F(HttpServerTest, BodyTooLargeIs413AndCloses) {
  start();
  Client c(server_->port());
  std::string body =
      R"({"payment_id":"p","member_id":1,"amount":1,"pad":")" + std::string(4096, 'x') + "\"}";
  c.send(http::verb::post, "/v1/payments", "ks", body);
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413u);
  EXPECT_EQ(error_code_of(*r), "INVALID_REQUEST");
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimAnswer) {
  start();
  Client c(server_->port());
  std::string body = R"({"payment_id":"p","member_id":1,"amount":5})";
  ASSERT_TRUE(
      c.send_raw("POST /v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ks\r\n"
                 "Expect: 100-continue\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n"));
  // The client waits for "100 Continue" before it sends the body.
  auto interim = c.read_header_only();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100u);
  ASSERT_TRUE(c.send_raw(body));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 201u);
}

TEST_F(HttpServerTest, ChunkedBodyTooLargeIs413) {
  start();
  Client c(server_->port());
  std::string req =
      "POST /v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ks\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i)
    req += "200\r\n" + std::string(512, 'a') + "\r\n";
  req += "0\r\n\r\n";
  ASSERT_TRUE(c.send_raw(req));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413u);
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, HeaderTooLargeIs431AndCloses) {
  start();
  Client c(server_->port());
  std::string req =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(10'000, 'p') + "\r\n\r\n";
  ASSERT_TRUE(c.send_raw(req));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 431u);
  EXPECT_EQ(error_code_of(*r), "INVALID_REQUEST");
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, MalformedHttpIs400AndCloses) {
  start();
  Client c(server_->port());
  ASSERT_TRUE(c.send_raw("GARBAGE\r\n\r\n"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 400u);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_GE(metrics_.errors(MetricError::malformed_request), 1u);
}

TEST_F(HttpServerTest, TooManyConnectionsGet429) {
  HttpLimits l = test_limits();
  l.connections_max = 3;
  start(l);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(server_->port()));
    EXPECT_EQ(clients.back()->call(http::verb::get, "/healthz").result_int(), 200u);
  }
  Client extra(server_->port());
  auto r = extra.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 429u);
  EXPECT_EQ(error_code_of(*r), "RATE_LIMITED");
  EXPECT_TRUE(extra.closed_by_server());
  EXPECT_EQ(metrics_.errors(MetricError::connection_rejected), 1u);
  // A slot freed is a slot available again.
  clients.pop_back();
  ASSERT_TRUE(eventually([&] { return metrics_.open_connections() == 2; }));
  Client again(server_->port());
  EXPECT_EQ(again.call(http::verb::get, "/healthz").result_int(), 200u);
}

TEST_F(HttpServerTest, SlowlorisHeaderTimeoutCloses) {
  HttpLimits l = test_limits();
  l.header_timeout_ms = 300;
  start(l);
  Client c(server_->port());
  ASSERT_TRUE(c.send_raw("GET /healthz HTTP/1.1\r\n"));
  // Keep dribbling header lines, far more slowly than a real client, for up
  // to 10 s; the server must cut the connection long before.
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    closed = !c.send_raw("X-Slow: 1\r\n");
  }
  EXPECT_TRUE(closed || c.closed_by_server());
  EXPECT_TRUE(eventually([&] { return metrics_.errors(MetricError::header_timeout) >= 1; }));
  EXPECT_TRUE(eventually([&] { return metrics_.open_connections() == 0; }));
}

TEST_F(HttpServerTest, SilentNewConnectionIsClosedAtTheHeaderTimeout) {
  HttpLimits l = test_limits();
  l.header_timeout_ms = 200;
  l.idle_timeout_ms = 60'000;
  start(l);
  Client c(server_->port());
  // Nothing sent: closed long before the (one minute) idle timeout.
  EXPECT_TRUE(c.closed_by_server(10'000));
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  HttpLimits l = test_limits();
  l.header_timeout_ms = 200;
  l.idle_timeout_ms = 400;
  start(l);
  Client c(server_->port());
  EXPECT_EQ(c.call(http::verb::get, "/healthz").result_int(), 200u);
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(metrics_.errors(MetricError::idle_timeout), 1u);
}

TEST_F(HttpServerTest, SlowHandlerIsNotAnIdleConnection) {
  HttpLimits l = test_limits();
  l.header_timeout_ms = 100;
  l.idle_timeout_ms = 200;
  start(l);
  Client c(server_->port());
  // The handler takes longer than the idle timeout; the client is waiting,
  // not idle, so it gets its answer.
  HttpResponse r = c.call(http::verb::get, "/v1/members/600", "ks");
  EXPECT_EQ(r.result_int(), 200u);
}

TEST_F(HttpServerTest, HandlerTimeoutIs503AndLateAnswersAreDropped) {
  HttpLimits l = test_limits();
  l.handler_timeout_ms = 200;
  start(l);
  Client c(server_->port());
  HttpResponse r = c.call(http::verb::post, "/v1/payments/x/void", "ks", "{}");
  EXPECT_EQ(r.result_int(), 503u);
  EXPECT_EQ(error_code_of(r), "UNAVAILABLE");
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_EQ(hung_.size(), 1u);
    hung_[0](json_response(200, boost::json::object{}));  // too late: dropped
    hung_.clear();
  }
  // The connection still works and answers the next request, not the late one.
  HttpResponse h = c.call(http::verb::get, "/healthz");
  EXPECT_EQ(h.result_int(), 200u);
  EXPECT_EQ(boost::json::parse(h.body()).at("status").as_string(), "ok");
  EXPECT_EQ(metrics_.errors(MetricError::handler_timeout), 1u);
}

TEST_F(HttpServerTest, StrictJsonAnswers) {
  start();
  Client c(server_->port());
  HttpResponse malformed = c.call(http::verb::post, "/v1/payments", "ks", "{\"payment_id\":");
  EXPECT_EQ(malformed.result_int(), 400u);
  EXPECT_EQ(error_code_of(malformed), "INVALID_REQUEST");

  HttpResponse unknown = c.call(http::verb::post, "/v1/payments", "ks",
                                R"({"payment_id":"p","member_id":1,"amount":5,"colour":"red"})");
  EXPECT_EQ(unknown.result_int(), 400u);
  EXPECT_EQ(error_field_of(unknown), "colour");
  EXPECT_NE(unknown.body().find("colour"), std::string::npos);

  HttpResponse wrong = c.call(http::verb::post, "/v1/payments", "ks",
                              R"({"payment_id":"p","member_id":1,"amount":"5"})");
  EXPECT_EQ(wrong.result_int(), 400u);
  EXPECT_EQ(error_field_of(wrong), "amount");

  HttpResponse fraction = c.call(http::verb::post, "/v1/payments", "ks",
                                 R"({"payment_id":"p","member_id":1,"amount":5.0})");
  EXPECT_EQ(fraction.result_int(), 400u);
  // The connection survives request-level errors.
  HttpResponse ok = c.call(http::verb::post, "/v1/payments", "ks",
                           R"({"payment_id":"p","member_id":1,"amount":5})");
  EXPECT_EQ(ok.result_int(), 201u);
  EXPECT_EQ(ok[http::field::content_type], "application/json");
}

TEST_F(HttpServerTest, RoutingAndAuthErrors) {
  start();
  Client c(server_->port());
  HttpResponse missing = c.call(http::verb::get, "/v1/nope", "kp");
  EXPECT_EQ(missing.result_int(), 404u);
  EXPECT_EQ(error_code_of(missing), "NOT_FOUND");
  HttpResponse method = c.call(http::verb::delete_, "/v1/payments", "kp");
  EXPECT_EQ(method.result_int(), 405u);
  EXPECT_EQ(method[http::field::allow], "POST");
  HttpResponse bad_id = c.call(http::verb::get, "/v1/members/abc", "kp");
  EXPECT_EQ(bad_id.result_int(), 400u);
  HttpResponse no_key = c.call(http::verb::get, "/v1/members/5");
  EXPECT_EQ(no_key.result_int(), 401u);
  EXPECT_EQ(error_code_of(no_key), "UNAUTHENTICATED");
  HttpResponse bad_key = c.call(http::verb::get, "/v1/members/5", "wrong");
  EXPECT_EQ(bad_key.result_int(), 401u);
  HttpResponse store = c.call(http::verb::get, "/v1/members/5", "kt");
  EXPECT_EQ(store.result_int(), 403u);
  EXPECT_EQ(error_code_of(store), "FORBIDDEN");
  HttpResponse unbound = c.call(http::verb::get, "/v1/config", "kp");
  EXPECT_EQ(unbound.result_int(), 501u);
  HttpResponse openapi = c.call(http::verb::get, "/v1/openapi.json", "kt");
  EXPECT_EQ(openapi.result_int(), 200u);
  EXPECT_TRUE(boost::json::parse(openapi.body()).as_object().contains("paths"));
}

TEST_F(HttpServerTest, MetricsAfterRequests) {
  start();
  Client c(server_->port());
  for (int i = 0; i < 3; ++i) {
    c.call(http::verb::post, "/v1/payments", "ks",
           R"({"payment_id":"p","member_id":1,"amount":5})");
  }
  c.call(http::verb::get, "/v1/nope", "ks");
  HttpResponse m = c.call(http::verb::get, "/metrics");
  ASSERT_EQ(m.result_int(), 200u);
  EXPECT_EQ(m[http::field::content_type].substr(0, 10), "text/plain");
  const std::string& text = m.body();
  EXPECT_NE(text.find("coffer_http_requests_total{route=\"POST /v1/payments\",status=\"201\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("coffer_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("coffer_http_request_duration_seconds_count{route=\"POST /v1/payments\"} 3\n"),
      std::string::npos);
  EXPECT_NE(text.find("coffer_http_open_connections 1\n"), std::string::npos);
}

TEST_F(HttpServerTest, HealthzFollowsTheProbe) {
  start();
  Client c(server_->port());
  HttpResponse ok = c.call(http::verb::get, "/healthz");
  EXPECT_EQ(ok.result_int(), 200u);
  EXPECT_EQ(boost::json::parse(ok.body()), boost::json::parse(R"({"status":"ok"})"));
  healthy_ = false;
  HttpResponse down = c.call(http::verb::get, "/healthz");
  EXPECT_EQ(down.result_int(), 503u);
  EXPECT_EQ(error_code_of(down), "UNAVAILABLE");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  start();
  Client c(server_->port());
  ASSERT_TRUE(c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto r = c.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, ManyClientsManyThreads) {
  HttpLimits l = test_limits();
  l.connections_max = 64;
  start(l, 4);
  constexpr int kClients = 8;
  const int per_client = std::getenv("COFFER_SOAK") ? 20'000 : 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      Client c(server_->port());
      for (int i = 0; i < per_client; ++i) {
        std::string id = "p" + std::to_string(t) + "-" + std::to_string(i);
        HttpResponse r = c.call(http::verb::post, "/v1/payments", "ks",
                                R"({"payment_id":")" + id + R"(","member_id":1,"amount":5})");
        if (r.result_int() == 201 &&
            boost::json::parse(r.body()).at("payment_id").as_string() == id) {
          ok.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok.load(), kClients * per_client);
  EXPECT_EQ(metrics_.requests(&route_spec(RouteId::payment_create), 201),
            uint64_t(kClients * per_client));
}

TEST_F(HttpServerTest, StopWithOpenConnectionsReturns) {
  start();
  Client idle(server_->port());
  Client busy(server_->port());
  EXPECT_EQ(idle.call(http::verb::get, "/healthz").result_int(), 200u);
  busy.send(http::verb::get, "/v1/members/100", "ks");
  ASSERT_TRUE(eventually([&] { return log_copy().size() == 1; }));  // handler started
  server_->stop(2000);
  // The request in flight was answered before the server went away.
  auto r = busy.read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_TRUE(idle.closed_by_server());
  EXPECT_EQ(metrics_.open_connections(), 0);
}

TEST_F(HttpServerTest, AnswersAfterStopAreHarmless) {
  start();
  Client c(server_->port());
  c.send(http::verb::post, "/v1/payments/x/void", "ks", "{}");
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> lock(mu_);
    return hung_.size() == 1;
  }));
  server_->stop(0);
  // The handler answers after the server and its io_context are gone.
  std::lock_guard<std::mutex> lock(mu_);
  hung_[0](json_response(200, boost::json::object{}));
  hung_.clear();
  EXPECT_FALSE(c.read(100).has_value());
}

TEST(HttpServerStart, RejectsBadOptions) {
  Router router(nullptr);
  Metrics metrics;
  HttpServerOptions bad_address;
  bad_address.address = "not-an-address";
  EXPECT_FALSE(HttpServer(bad_address, &router, &metrics).start().ok);
  HttpServerOptions bad_limits;
  bad_limits.limits.pipeline_depth_max = 0;
  EXPECT_FALSE(HttpServer(bad_limits, &router, &metrics).start().ok);

  HttpServerOptions first;
  HttpServer a(first, &router, &metrics);
  ASSERT_TRUE(a.start().ok);
  HttpServerOptions same_port;
  same_port.port = a.port();
  ServerStatus st = HttpServer(same_port, &router, &metrics).start();
  EXPECT_FALSE(st.ok);
  EXPECT_NE(st.message.find("cannot listen"), std::string::npos);
}

}  // namespace
}  // namespace coffer::gateway
