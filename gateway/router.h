// Routing and the request pipeline independent of sockets: match method and
// path against the route table (typed path parameters, strict query strings),
// authenticate the key and check its role, then call the bound handler.
//
// Handlers are asynchronous: they get the request and a Responder, and may
// answer later and from any thread (the server posts the answer back to the
// connection's strand). Status choices the API table leaves open:
//   unknown path                    -> 404 NOT_FOUND
//   known path, method not served   -> 405 INVALID_REQUEST, "Allow" header
//   bad path parameter / query      -> 400 INVALID_REQUEST naming it
//   route without a bound handler   -> 501 NOT_IMPLEMENTED
#pragma once

#include <array>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/errors.h"
#include "gateway/limits.h"
#include "gateway/routes.h"

namespace coffer::gateway {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set by the server for transport errors after which it closes.
  bool close = false;
};

Response json_response(unsigned status, const boost::json::value& body);
Response error_response(const ApiError& error);
Response text_response(unsigned status, std::string content_type, std::string body);

// Percent-decodes `in` ('+' stays '+': query strings here are not forms).
// nullopt on a bad escape or a decoded NUL.
std::optional<std::string> percent_decode(std::string_view in);

// Decoded ?a=1&b=2. Keys appear at most once.
class QueryParams {
 public:
  // Parses the raw query (after '?'); 400 naming a bad or repeated parameter.
  static std::optional<ApiError> parse(std::string_view raw, QueryParams* out);
  // nullptr when absent.
  const std::string* get(std::string_view key) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// ?limit= (default 50, max 1000) and ?cursor= (opaque base64url position).
struct ListParams {
  uint32_t limit = list_limit_default;
  std::string cursor;  // decoded bytes; empty = from the start
};
std::optional<ApiError> parse_list_params(const QueryParams& query, ListParams* out);
// Cursors are base64url (no padding) of a position the handler chooses.
std::string encode_cursor(std::string_view position);
std::optional<std::string> decode_cursor(std::string_view text);
// Convenience for positions that are one u64 (a sequence number).
std::string encode_cursor_u64(uint64_t position);
std::optional<uint64_t> cursor_u64(std::string_view decoded);

struct PathParam {
  std::string_view name;  // from the route table
  std::string value;      // percent-decoded
  uint64_t u64 = 0;       // when the kind is ParamKind::u64
};

struct Request {
  BeastRequest raw;
  const RouteSpec* route = nullptr;
  std::string path;
  QueryParams query;
  std::vector<PathParam> params;
  // Set for AuthKind::key routes once the key resolved.
  std::optional<Principal> principal;

  std::string_view body() const { return raw.body(); }
  std::string_view header(std::string_view name) const;
  // REQUIRES: the route has a parameter `name`.
  const PathParam& param(std::string_view name) const;
};

// The way a handler answers. Copyable; call it once. If every copy is
// destroyed without an answer, the request gets 500 INTERNAL (a handler bug
// must not leave the connection hanging). The Request stays valid while any
// copy lives.
class Responder {
 public:
  using Sink = std::function<void(Response)>;
  Responder(std::shared_ptr<const Request> request, Sink sink);
  void operator()(Response response) const;
  void operator()(const ApiError& error) const { (*this)(error_response(error)); }
  const Request& request() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

using Handler = std::function<void(const Request&, Responder)>;

struct RouterOptions {
  // API.md: /metrics needs no key unless configured.
  bool metrics_require_key = false;
};

class Router {
 public:
  // `keys` must outlive the router; may be null when no route needs a key.
  Router(const KeyResolver* keys, RouterOptions options = {});

  // Binds a route; later binds replace earlier ones. Not thread-safe: bind
  // before serving.
  void bind(RouteId id, Handler handler);
  bool bound(RouteId id) const { return handlers_[static_cast<size_t>(id)] != nullptr; }

  // Route matching alone (no auth): the matched route with params filled, or
  // the error answer. On 405, `allow` gets the allowed methods.
  struct Match {
    const RouteSpec* route = nullptr;
    std::vector<PathParam> params;
    QueryParams query;
    std::optional<ApiError> error;
  };
  Match match(Method method, std::string_view target) const;

  // The whole pipeline. `done` gets the route (nullptr when none matched) and
  // the answer, exactly once, possibly from another thread and possibly
  // before handle() returns. Returns the matched route (or nullptr).
  using Done = std::function<void(const RouteSpec* route, Response response)>;
  const RouteSpec* handle(BeastRequest raw, Done done) const;

 private:
  void authorized(std::shared_ptr<Request> req, const Done& done) const;

  const KeyResolver* keys_;
  RouterOptions options_;
  std::array<Handler, route_count> handlers_{};
};

std::optional<Method> method_from_beast(boost::beast::http::verb verb);

}  // namespace coffer::gateway
