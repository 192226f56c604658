#include "gateway/json_util.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/parser.hpp>

#include "clients/rfc3339.h"

namespace coffer::gateway {
namespace {

bool is_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

std::string_view kind_name(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "an integer";
    case boost::json::kind::double_:
      return "a number with a fraction or exponent";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "?";
}

// Boost.JSON keeps the last of duplicate keys silently; a strict API must
// not (two readers of one body could see two different requests). This
// SAX pass over already-validated text finds the first duplicate key.
class DuplicateKeyFinder {
 public:
  static constexpr size_t max_object_size = size_t(-1);
  static constexpr size_t max_array_size = size_t(-1);
  static constexpr size_t max_key_size = size_t(-1);
  static constexpr size_t max_string_size = size_t(-1);

  std::optional<std::string> duplicate;

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_array_begin(boost::json::error_code&) { return true; }
  bool on_array_end(size_t, boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code&) {
    object_starts_.push_back(keys_.size());
    return true;
  }
  bool on_object_end(size_t, boost::json::error_code&) {
    keys_.resize(object_starts_.back());
    object_starts_.pop_back();
    return true;
  }
  bool on_string_part(boost::json::string_view, size_t, boost::json::error_code&) { return true; }
  bool on_string(boost::json::string_view, size_t, boost::json::error_code&) { return true; }
  bool on_key_part(boost::json::string_view s, size_t, boost::json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, size_t, boost::json::error_code& ec) {
    key_.append(s.data(), s.size());
    for (size_t i = object_starts_.back(); i < keys_.size(); i++) {
      if (keys_[i] == key_) {
        duplicate = std::move(key_);
        ec = boost::json::error::syntax;  // stops the parser
        return false;
      }
    }
    keys_.push_back(std::move(key_));
    key_.clear();
    return true;
  }
  bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_int64(int64_t, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_uint64(uint64_t, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_double(double, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_bool(bool, boost::json::error_code&) { return true; }
  bool on_null(boost::json::error_code&) { return true; }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

  DuplicateKeyFinder() {
    // Requests are a few small objects: no allocation after these.
    keys_.reserve(32);
    object_starts_.reserve(json_depth_max);
  }

 private:
  // The keys of every open object, outermost first (most keys fit the
  // strings' inline buffer); object_starts_ says where each object's begin.
  std::vector<std::string> keys_;
  std::vector<size_t> object_starts_;
  std::string key_;
};

std::optional<std::string> find_duplicate_key(std::string_view text,
                                              const boost::json::parse_options& opts) {
  boost::json::basic_parser<DuplicateKeyFinder> p(opts);
  boost::json::error_code ec;
  p.write_some(false, text.data(), text.size(), ec);
  return std::move(p.handler().duplicate);
}

}  // namespace

bool is_valid_id(std::string_view s) {
  if (s.empty() || s.size() > id_length_max) return false;
  for (char c : s) {
    if (!is_id_char(c)) return false;
  }
  return true;
}

bool is_valid_phone(std::string_view s) {
  if (s.empty() || s.size() > phone_length_max) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '+' || c == '-')) return false;
  }
  return true;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = uint64_t(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

std::optional<ApiError> parse_json_object(std::string_view body, boost::json::object* out) {
  if (body.empty()) {
    out->clear();
    return std::nullopt;
  }
  boost::json::parse_options opts;
  opts.max_depth = json_depth_max;
  opts.allow_comments = false;
  opts.allow_trailing_commas = false;
  opts.allow_invalid_utf8 = false;
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(body, ec, {}, opts);
  if (ec) return invalid_request("malformed JSON: " + ec.message());
  if (!v.is_object()) return invalid_request("the request body must be a JSON object");
  if (auto dup = find_duplicate_key(body, opts)) {
    return invalid_field(*dup, "field '" + *dup + "' appears twice");
  }
  *out = std::move(v.as_object());
  return std::nullopt;
}

ObjectReader::ObjectReader(const boost::json::object& obj, std::string path)
    : obj_(obj), path_(std::move(path)) {}

std::string ObjectReader::field_path(std::string_view name) const {
  std::string s = path_;
  s += name;
  return s;
}

void ObjectReader::fail(std::string_view name, std::string message) {
  if (error_) return;
  std::string field = field_path(name);
  error_ = invalid_field(field, "'" + field + "' " + message);
}

const boost::json::value* ObjectReader::take(std::string_view name, bool required) {
  known_.push_back(name);
  if (error_) return nullptr;
  const boost::json::value* v = obj_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) fail(name, v == nullptr ? "is required" : "must not be null");
    return nullptr;
  }
  return v;
}

bool ObjectReader::read_u64(std::string_view name, const boost::json::value& v, uint64_t* out) {
  if (v.is_uint64()) {
    *out = v.get_uint64();
    return true;
  }
  if (v.is_int64() && v.get_int64() >= 0) {
    *out = uint64_t(v.get_int64());
    return true;
  }
  if (v.is_int64()) {
    fail(name, "must not be negative");
  } else {
    fail(name, "must be an integer, not " + std::string(kind_name(v)));
  }
  return false;
}

bool ObjectReader::read_i64(std::string_view name, const boost::json::value& v, int64_t min,
                            int64_t max, int64_t* out) {
  int64_t x;
  if (v.is_int64()) {
    x = v.get_int64();
  } else if (v.is_uint64()) {
    fail(name, "is out of range");
    return false;
  } else {
    fail(name, "must be an integer, not " + std::string(kind_name(v)));
    return false;
  }
  if (x < min || x > max) {
    fail(name, min == 0 && x < 0 ? "must not be negative" : "is out of range");
    return false;
  }
  *out = x;
  return true;
}

bool ObjectReader::read_string(std::string_view name, const boost::json::value& v,
                               size_t length_max, std::string* out) {
  if (!v.is_string()) {
    fail(name, "must be a string, not " + std::string(kind_name(v)));
    return false;
  }
  std::string_view s = v.get_string();
  if (utf8_length(s) > length_max) {
    fail(name, "is longer than " + std::to_string(length_max) + " characters");
    return false;
  }
  out->assign(s.data(), s.size());
  return true;
}

ObjectReader& ObjectReader::u64(std::string_view name, uint64_t* out) {
  if (auto* v = take(name, true)) read_u64(name, *v, out);
  return *this;
}
ObjectReader& ObjectReader::u64(std::string_view name, std::optional<uint64_t>* out) {
  uint64_t x;
  if (auto* v = take(name, false); v && read_u64(name, *v, &x)) *out = x;
  return *this;
}
ObjectReader& ObjectReader::i64(std::string_view name, int64_t* out, int64_t min, int64_t max) {
  if (auto* v = take(name, true)) read_i64(name, *v, min, max, out);
  return *this;
}
ObjectReader& ObjectReader::i64(std::string_view name, std::optional<int64_t>* out, int64_t min,
                                int64_t max) {
  int64_t x;
  if (auto* v = take(name, false); v && read_i64(name, *v, min, max, &x)) *out = x;
  return *this;
}
ObjectReader& ObjectReader::amount(std::string_view name, int64_t* out) {
  return i64(name, out, 0);
}
ObjectReader& ObjectReader::amount(std::string_view name, std::optional<int64_t>* out) {
  return i64(name, out, 0);
}
ObjectReader& ObjectReader::boolean(std::string_view name, bool* out) {
  if (auto* v = take(name, true)) {
    if (v->is_bool()) {
      *out = v->get_bool();
    } else {
      fail(name, "must be a boolean, not " + std::string(kind_name(*v)));
    }
  }
  return *this;
}
ObjectReader& ObjectReader::boolean(std::string_view name, std::optional<bool>* out) {
  if (auto* v = take(name, false)) {
    if (v->is_bool()) {
      *out = v->get_bool();
    } else {
      fail(name, "must be a boolean, not " + std::string(kind_name(*v)));
    }
  }
  return *this;
}
ObjectReader& ObjectReader::string(std::string_view name, std::string* out, size_t length_max) {
  if (auto* v = take(name, true)) read_string(name, *v, length_max, out);
  return *this;
}
ObjectReader& ObjectReader::string(std::string_view name, std::optional<std::string>* out,
                                   size_t length_max) {
  std::string s;
  if (auto* v = take(name, false); v && read_string(name, *v, length_max, &s)) *out = std::move(s);
  return *this;
}
// An id is a string of SPEC §0's syntax. Merchant and store ids may also be a
// non-negative JSON integer, taken as its decimal spelling: shops often number
// them (and API.md's own examples do).
bool ObjectReader::read_id(std::string_view name, const boost::json::value& v, bool allow_integer,
                           std::string* out) {
  std::string s;
  if (allow_integer && (v.is_uint64() || (v.is_int64() && v.get_int64() >= 0))) {
    s = v.is_uint64() ? std::to_string(v.get_uint64()) : std::to_string(v.get_int64());
  } else if (!read_string(name, v, id_length_max, &s)) {
    return false;
  }
  if (!is_valid_id(s)) {
    fail(name, "must be 1-64 characters of [A-Za-z0-9_.:-]");
    return false;
  }
  *out = std::move(s);
  return true;
}

ObjectReader& ObjectReader::id(std::string_view name, std::string* out) {
  if (auto* v = take(name, true)) read_id(name, *v, false, out);
  return *this;
}
ObjectReader& ObjectReader::id(std::string_view name, std::optional<std::string>* out) {
  return optional_id(name, false, out);
}
ObjectReader& ObjectReader::tenant_id(std::string_view name, std::string* out) {
  if (auto* v = take(name, true)) read_id(name, *v, true, out);
  return *this;
}
ObjectReader& ObjectReader::tenant_id(std::string_view name, std::optional<std::string>* out) {
  return optional_id(name, true, out);
}
ObjectReader& ObjectReader::optional_id(std::string_view name, bool allow_integer,
                                        std::optional<std::string>* out) {
  std::string s;
  if (auto* v = take(name, false); v && read_id(name, *v, allow_integer, &s)) *out = std::move(s);
  return *this;
}

namespace {
std::string allowed_list(std::initializer_list<std::string_view> allowed) {
  std::string s;
  for (auto a : allowed) {
    if (!s.empty()) s += ", ";
    s += '"';
    s += a;
    s += '"';
  }
  return s;
}
bool in(std::initializer_list<std::string_view> allowed, std::string_view s) {
  for (auto a : allowed) {
    if (a == s) return true;
  }
  return false;
}
}  // namespace

std::optional<std::string> ObjectReader::one_of_value(
    std::string_view name, bool required, std::initializer_list<std::string_view> allowed) {
  std::string s;
  if (auto* v = take(name, required); v && read_string(name, *v, id_length_max, &s)) {
    if (in(allowed, s)) return s;
    fail(name, "must be one of " + allowed_list(allowed));
  }
  return std::nullopt;
}
ObjectReader& ObjectReader::one_of(std::string_view name, std::string* out,
                                   std::initializer_list<std::string_view> allowed) {
  if (auto v = one_of_value(name, true, allowed)) *out = std::move(*v);
  return *this;
}
ObjectReader& ObjectReader::one_of(std::string_view name, std::optional<std::string>* out,
                                   std::initializer_list<std::string_view> allowed) {
  if (auto v = one_of_value(name, false, allowed)) *out = std::move(*v);
  return *this;
}

ObjectReader& ObjectReader::time_us(std::string_view name, int64_t* out) {
  std::string s;
  if (auto* v = take(name, true); v && read_string(name, *v, 64, &s)) {
    if (auto t = client::parse_rfc3339(s)) {
      *out = *t;
    } else {
      fail(name, "must be an RFC 3339 time");
    }
  }
  return *this;
}
ObjectReader& ObjectReader::time_us(std::string_view name, std::optional<int64_t>* out) {
  std::string s;
  if (auto* v = take(name, false); v && read_string(name, *v, 64, &s)) {
    if (auto t = client::parse_rfc3339(s)) {
      *out = *t;
    } else {
      fail(name, "must be an RFC 3339 time");
    }
  }
  return *this;
}

ObjectReader& ObjectReader::object(std::string_view name, Presence presence,
                                   const std::function<void(ObjectReader&)>& read, bool* present) {
  if (present) *present = false;
  auto* v = take(name, presence == Presence::required);
  if (!v) return *this;
  if (!v->is_object()) {
    fail(name, "must be an object, not " + std::string(kind_name(*v)));
    return *this;
  }
  ObjectReader inner(v->get_object(), field_path(name) + ".");
  read(inner);
  if (auto err = inner.finish()) {
    error_ = std::move(err);
    return *this;
  }
  if (present) *present = true;
  return *this;
}

ObjectReader& ObjectReader::objects(std::string_view name, Presence presence, size_t count_max,
                                    const std::function<void(ObjectReader&, size_t)>& read) {
  auto* v = take(name, presence == Presence::required);
  if (!v) return *this;
  if (!v->is_array()) {
    fail(name, "must be an array, not " + std::string(kind_name(*v)));
    return *this;
  }
  const auto& arr = v->get_array();
  if (arr.size() > count_max) {
    fail(name, "has more than " + std::to_string(count_max) + " elements");
    return *this;
  }
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string elem = field_path(name) + "[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) {
      error_ = invalid_field(elem, "'" + elem + "' must be an object");
      return *this;
    }
    ObjectReader inner(arr[i].get_object(), elem + ".");
    read(inner, i);
    if (auto err = inner.finish()) {
      error_ = std::move(err);
      return *this;
    }
  }
  return *this;
}

ObjectReader& ObjectReader::strings(std::string_view name, Presence presence,
                                    std::vector<std::string>* out, size_t count_max,
                                    size_t length_max) {
  auto* v = take(name, presence == Presence::required);
  if (!v) return *this;
  if (!v->is_array()) {
    fail(name, "must be an array, not " + std::string(kind_name(*v)));
    return *this;
  }
  const auto& arr = v->get_array();
  if (arr.size() > count_max) {
    fail(name, "has more than " + std::to_string(count_max) + " elements");
    return *this;
  }
  std::vector<std::string> result;
  result.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string elem = std::string(name) + "[" + std::to_string(i) + "]";
    std::string s;
    if (!read_string(elem, arr[i], length_max, &s)) return *this;
    result.push_back(std::move(s));
  }
  *out = std::move(result);
  return *this;
}

ObjectReader& ObjectReader::amounts(std::string_view name, Presence presence,
                                    std::vector<int64_t>* out, size_t count_max) {
  auto* v = take(name, presence == Presence::required);
  if (!v) return *this;
  if (!v->is_array()) {
    fail(name, "must be an array, not " + std::string(kind_name(*v)));
    return *this;
  }
  const auto& arr = v->get_array();
  if (arr.size() > count_max) {
    fail(name, "has more than " + std::to_string(count_max) + " elements");
    return *this;
  }
  std::vector<int64_t> result;
  result.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string elem = std::string(name) + "[" + std::to_string(i) + "]";
    int64_t x;
    if (!read_i64(elem, arr[i], 0, INT64_MAX, &x)) return *this;
    result.push_back(x);
  }
  *out = std::move(result);
  return *this;
}

std::optional<ApiError> ObjectReader::finish() {
  if (error_) return error_;
  for (const auto& kv : obj_) {
    bool known = false;
    for (std::string_view k : known_) {
      if (k == kv.key()) {
        known = true;
        break;
      }
    }
    if (!known) {
      std::string field = field_path(kv.key());
      return invalid_field(field, "unknown field '" + field + "'");
    }
  }
  return std::nullopt;
}

}  // namespace coffer::gateway
