#include "gateway/router.h"

#include <atomic>
#include <boost/json/serialize.hpp>

#include "gateway/json_util.h"

namespace coffer::gateway {
namespace http = boost::beast::http;

Response json_response(unsigned status, const boost::json::value& body) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

Response error_response(const ApiError& error) {
  Response r;
  r.status = error.status;
  r.body = error.body();
  return r;
}

Response text_response(unsigned status, std::string content_type, std::string body) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

std::optional<Method> method_from_beast(http::verb verb) {
  switch (verb) {
    case http::verb::get:
      return Method::get;
    case http::verb::put:
      return Method::put;
    case http::verb::post:
      return Method::post;
    case http::verb::delete_:
      return Method::del;
    default:
      return std::nullopt;
  }
}

// --- Percent-decoding and query strings --------------------------------------

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool has_key(std::string_view list, std::string_view key) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    if (item == key) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

std::optional<ApiError> QueryParams::parse(std::string_view raw, QueryParams* out) {
  out->items_.clear();
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view piece = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    auto key = percent_decode(piece.substr(0, eq));
    auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1));
    if (!key || !value || key->empty()) {
      return invalid_request("malformed query string");
    }
    if (out->get(*key) != nullptr) {
      return invalid_field(*key, "query parameter '" + *key + "' given twice");
    }
    if (out->items_.size() >= query_params_max) {
      return invalid_request("too many query parameters");
    }
    out->items_.emplace_back(std::move(*key), std::move(*value));
  }
  return std::nullopt;
}

const std::string* QueryParams::get(std::string_view key) const {
  for (const auto& kv : items_) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

// --- Cursors ------------------------------------------------------------------

namespace {
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}
}  // namespace

std::string encode_cursor(std::string_view position) {
  std::string out;
  out.reserve((position.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= position.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(position[i])) << 16 | uint32_t(uint8_t(position[i + 1])) << 8 |
                 uint32_t(uint8_t(position[i + 2]));
    out.push_back(kB64Url[v >> 18]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
    out.push_back(kB64Url[v & 63]);
  }
  size_t rest = position.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t(uint8_t(position[i])) << 16;
    out.push_back(kB64Url[v >> 18]);
    out.push_back(kB64Url[(v >> 12) & 63]);
  } else if (rest == 2) {
    uint32_t v = uint32_t(uint8_t(position[i])) << 16 | uint32_t(uint8_t(position[i + 1])) << 8;
    out.push_back(kB64Url[v >> 18]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> decode_cursor(std::string_view text) {
  // Unpadded base64url; a length of 1 mod 4 cannot occur, and unused low
  // bits must be zero so that every position has exactly one spelling.
  if (text.empty() || text.size() > cursor_text_length_max || text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = b64url_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string encode_cursor_u64(uint64_t position) {
  char bytes[8];
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>(position >> (56 - 8 * i));
  return encode_cursor(std::string_view(bytes, 8));
}

std::optional<uint64_t> cursor_u64(std::string_view decoded) {
  if (decoded.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : decoded)
    v = (v << 8) | uint8_t(c);
  return v;
}

std::optional<ApiError> parse_list_params(const QueryParams& query, ListParams* out) {
  *out = ListParams{};
  if (const std::string* limit = query.get("limit")) {
    auto v = parse_u64(*limit);
    if (!v || *v < 1 || *v > list_limit_max) {
      return invalid_field(
          "limit", "'limit' must be an integer from 1 to " + std::to_string(list_limit_max));
    }
    out->limit = static_cast<uint32_t>(*v);
  }
  if (const std::string* cursor = query.get("cursor")) {
    // An empty ?cursor= means the first page.
    if (!cursor->empty()) {
      auto decoded = decode_cursor(*cursor);
      if (!decoded || decoded->empty()) return invalid_field("cursor", "'cursor' is not valid");
      out->cursor = std::move(*decoded);
    }
  }
  return std::nullopt;
}

// --- Request and Responder -----------------------------------------------------

std::string_view Request::header(std::string_view name) const {
  auto it = raw.find(boost::beast::string_view(name.data(), name.size()));
  if (it == raw.end()) return {};
  auto v = it->value();
  return std::string_view(v.data(), v.size());
}

const PathParam& Request::param(std::string_view name) const {
  for (const auto& p : params) {
    if (p.name == name) return p;
  }
  COFFER_ASSERT(false && "route has no such parameter");
  __builtin_unreachable();
}

struct Responder::State {
  std::shared_ptr<const Request> request;
  Sink sink;
  std::atomic<bool> answered{false};

  ~State() {
    if (!answered.load(std::memory_order_acquire) && sink) {
      sink(error_response(internal_error("the handler did not answer")));
    }
  }
};

Responder::Responder(std::shared_ptr<const Request> request, Sink sink)
    : state_(std::make_shared<State>()) {
  state_->request = std::move(request);
  state_->sink = std::move(sink);
}

void Responder::operator()(Response response) const {
  bool was = state_->answered.exchange(true, std::memory_order_acq_rel);
  COFFER_ASSERT(!was && "a handler answered twice");
  state_->sink(std::move(response));
}

const Request& Responder::request() const {
  return *state_->request;
}

// --- Router --------------------------------------------------------------------

namespace {

struct Segments {
  std::array<std::string_view, path_segments_max> items;
  size_t count = 0;
};

// "/a/b/c" -> {a, b, c}; false when not absolute or too deep.
bool split_path(std::string_view path, Segments* out) {
  if (path.empty() || path[0] != '/') return false;
  out->count = 0;
  path.remove_prefix(1);
  while (true) {
    if (out->count == path_segments_max) return false;
    size_t slash = path.find('/');
    out->items[out->count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return true;
}

bool is_param(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

// Shape match: same depth, equal literals, non-empty parameter segments.
bool shape_matches(const Segments& pattern, const Segments& path) {
  if (pattern.count != path.count) return false;
  for (size_t i = 0; i < path.count; ++i) {
    if (is_param(pattern.items[i])) {
      if (path.items[i].empty()) return false;
    } else if (pattern.items[i] != path.items[i]) {
      return false;
    }
  }
  return true;
}

// True when `a` is more specific than `b`: a literal beats a parameter at the
// first position where they differ ("/members/by-phone/{phone}" over
// "/members/{member_id}/wallet").
bool more_specific(const Segments& a, const Segments& b) {
  for (size_t i = 0; i < a.count && i < b.count; ++i) {
    bool pa = is_param(a.items[i]), pb = is_param(b.items[i]);
    if (pa != pb) return !pa;
  }
  return false;
}

std::optional<ApiError> check_param(std::string_view name, std::string_view raw, PathParam* out) {
  out->name = name;
  auto decoded = percent_decode(raw);
  std::string label(name);
  if (!decoded) return invalid_field(label, "path parameter '" + label + "' is malformed");
  out->value = std::move(*decoded);
  switch (param_kind(name)) {
    case ParamKind::u64: {
      auto v = parse_u64(out->value);
      if (!v) {
        return invalid_field(label, "path parameter '" + label + "' must be an unsigned integer");
      }
      out->u64 = *v;
      return std::nullopt;
    }
    case ParamKind::id:
      if (!is_valid_id(out->value)) {
        return invalid_field(
            label, "path parameter '" + label + "' must be 1-64 characters of [A-Za-z0-9_.:-]");
      }
      return std::nullopt;
    case ParamKind::phone:
      if (!is_valid_phone(out->value)) {
        return invalid_field(label, "path parameter '" + label + "' is not a phone number");
      }
      return std::nullopt;
  }
  return invalid_request("bad path parameter");
}

std::optional<std::string_view> bearer_key(std::string_view auth) {
  // RFC 7235: the scheme is case-insensitive.
  constexpr std::string_view kScheme = "bearer ";
  if (auth.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = auth[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  std::string_view key = auth.substr(kScheme.size());
  while (!key.empty() && key.front() == ' ')
    key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ')
    key.remove_suffix(1);
  if (key.empty() || key.size() > api_key_length_max) return std::nullopt;
  for (char c : key) {
    if (c <= ' ' || c > '~') return std::nullopt;
  }
  return key;
}

const std::array<Segments, route_count>& pattern_segments() {
  static const std::array<Segments, route_count> segs = [] {
    std::array<Segments, route_count> s{};
    for (const RouteSpec& r : route_table()) {
      bool ok = split_path(r.pattern, &s[static_cast<size_t>(r.id)]);
      COFFER_ASSERT(ok);
    }
    return s;
  }();
  return segs;
}

}  // namespace

Router::Router(const KeyResolver* keys, RouterOptions options) : keys_(keys), options_(options) {}

void Router::bind(RouteId id, Handler handler) {
  handlers_[static_cast<size_t>(id)] = std::move(handler);
}

Router::Match Router::match(Method method, std::string_view target) const {
  Match m;
  if (target.size() > target_length_max) {
    m.error = invalid_request("request target too long");
    return m;
  }
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view raw_query =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  // No fragments in a request target (RFC 9112 §3.2).
  if (target.find('#') != std::string_view::npos) {
    m.error = invalid_request("malformed request target");
    return m;
  }

  Segments segs;
  if (!split_path(path, &segs)) {
    m.error = not_found("no such path");
    return m;
  }
  const auto& patterns = pattern_segments();
  const RouteSpec* best = nullptr;
  std::string allow;
  for (const RouteSpec& r : route_table()) {
    const Segments& p = patterns[static_cast<size_t>(r.id)];
    if (!shape_matches(p, segs)) continue;
    if (r.method != method) {
      std::string_view name = method_name(r.method);
      if (allow.find(name) == std::string::npos) {
        if (!allow.empty()) allow += ", ";
        allow += name;
      }
      continue;
    }
    if (best == nullptr || more_specific(p, patterns[static_cast<size_t>(best->id)])) best = &r;
  }
  if (best == nullptr) {
    m.error = allow.empty() ? not_found("no such path") : method_not_allowed(allow);
    return m;
  }
  m.route = best;
  const Segments& p = patterns[static_cast<size_t>(best->id)];
  for (size_t i = 0; i < p.count; ++i) {
    if (!is_param(p.items[i])) continue;
    std::string_view name = p.items[i].substr(1, p.items[i].size() - 2);
    PathParam param;
    if (auto err = check_param(name, segs.items[i], &param)) {
      m.error = std::move(err);
      return m;
    }
    m.params.push_back(std::move(param));
  }
  if (auto err = QueryParams::parse(raw_query, &m.query)) {
    m.error = std::move(err);
    return m;
  }
  for (const auto& kv : m.query.items()) {
    if (!has_key(best->query, kv.first)) {
      m.error = invalid_field(kv.first, "unknown query parameter '" + kv.first + "'");
      return m;
    }
  }
  return m;
}

const RouteSpec* Router::handle(BeastRequest raw, Done done) const {
  auto method = method_from_beast(raw.method());
  std::string_view target(raw.target().data(), raw.target().size());
  // An unsupported method (PATCH, ...) on a known path is a 405: matching
  // with DELETE, which no route serves, gives exactly that.
  Match m = match(method.value_or(Method::del), target);
  if (m.error) {
    Response r = error_response(*m.error);
    if (m.error->status == 405) {
      if (auto* allowed = m.error->details.if_contains("allowed")) {
        r.headers.emplace_back("Allow", std::string(allowed->as_string()));
      }
    }
    done(m.route, std::move(r));
    return m.route;
  }

  auto req = std::make_shared<Request>();
  req->raw = std::move(raw);
  req->route = m.route;
  req->path = std::string(target.substr(0, target.find('?')));
  req->query = std::move(m.query);
  req->params = std::move(m.params);

  bool needs_key = m.route->auth == AuthKind::key ||
                   (m.route->id == RouteId::metrics && options_.metrics_require_key);
  const RouteSpec* route = m.route;
  if (!needs_key) {
    authorized(std::move(req), done);
    return route;
  }
  auto key = bearer_key(req->header("Authorization"));
  if (!key || keys_ == nullptr) {
    done(route, error_response(
                    unauthenticated("missing or malformed 'Authorization: Bearer <key>' header")));
    return route;
  }
  keys_->resolve(*key, [this, req, done, route](KeyResolution found) mutable {
    if (found.status == KeyStatus::unavailable) {
      done(route, error_response(unavailable("API keys cannot be read now (ledger server "
                                             "unreachable); retry")));
      return;
    }
    if (!found.known()) {
      done(route, error_response(unauthenticated("unknown API key")));
      return;
    }
    const Principal& principal = found.principal;
    bool allowed = route->id == RouteId::metrics ? true : role_allowed(*route, principal.role);
    if (!allowed) {
      done(route, error_response(forbidden("role '" + std::string(role_name(principal.role)) +
                                           "' may not call " + route_label(*route))));
      return;
    }
    req->principal = std::move(found.principal);
    authorized(std::move(req), done);
  });
  return route;
}

void Router::authorized(std::shared_ptr<Request> req, const Done& done) const {
  const RouteSpec* route = req->route;
  const Handler& handler = handlers_[static_cast<size_t>(route->id)];
  if (!handler) {
    done(route, error_response(not_implemented(route_label(*route))));
    return;
  }
  Responder responder(req, [done, route](Response r) { done(route, std::move(r)); });
  try {
    handler(*req, std::move(responder));
  } catch (...) {
    // The handler's Responder copies are gone: if it had not answered, the
    // last copy answered 500 on destruction.
  }
}

}  // namespace coffer::gateway
