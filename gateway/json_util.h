// Strict JSON requests (API.md: unknown fields rejected, amounts integers,
// no strings for numbers) with a small declarative field reader:
//
//   ObjectReader r(obj);
//   r.id("payment_id", &req.payment_id)        // required: plain pointer
//    .u64("member_id", &req.member_id)
//    .amount("amount", &req.amount)           // integer >= 0
//    .string("order_ref", &req.order_ref, 128) // optional: std::optional pointer
//    .boolean("capture", &req.capture);
//   if (auto err = r.finish()) return respond(*err);  // names unknown fields
//
// The first problem wins; later calls on a failed reader do nothing.
// REQUIRES: the object and every field name (string literals) outlive the
// reader.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/errors.h"
#include "gateway/limits.h"

namespace coffer::gateway {

// SPEC §0: 1-64 chars of [A-Za-z0-9_.:-].
bool is_valid_id(std::string_view s);
// 1-32 chars of [0-9+-].
bool is_valid_phone(std::string_view s);
// Decimal u64: digits only, no sign, no leading zeros (except "0"), no overflow.
std::optional<uint64_t> parse_u64(std::string_view s);
// Number of Unicode code points of valid UTF-8 text.
size_t utf8_length(std::string_view s);

// Parses `body` as one JSON object: anything else (malformed JSON, invalid
// UTF-8, a top-level array, nesting deeper than json_depth_max, trailing
// bytes) is a 400 INVALID_REQUEST. An empty body reads as {}.
std::optional<ApiError> parse_json_object(std::string_view body, boost::json::object* out);

enum class Presence : uint8_t { required, optional };

class ObjectReader {
 public:
  // `path` prefixes field names in errors ("payout.", "lines[2].").
  explicit ObjectReader(const boost::json::object& obj, std::string path = {});
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  // Scalars. A plain pointer makes the field required, a std::optional
  // pointer optional (absent or null leaves it empty).
  ObjectReader& u64(std::string_view name, uint64_t* out);
  ObjectReader& u64(std::string_view name, std::optional<uint64_t>* out);
  ObjectReader& i64(std::string_view name, int64_t* out,
                    int64_t min = std::numeric_limits<int64_t>::min(),
                    int64_t max = std::numeric_limits<int64_t>::max());
  ObjectReader& i64(std::string_view name, std::optional<int64_t>* out,
                    int64_t min = std::numeric_limits<int64_t>::min(),
                    int64_t max = std::numeric_limits<int64_t>::max());
  // Amounts in minor units: integers >= 0.
  ObjectReader& amount(std::string_view name, int64_t* out);
  ObjectReader& amount(std::string_view name, std::optional<int64_t>* out);
  ObjectReader& boolean(std::string_view name, bool* out);
  ObjectReader& boolean(std::string_view name, std::optional<bool>* out);
  // Text of 0..length_max code points.
  ObjectReader& string(std::string_view name, std::string* out,
                       size_t length_max = json_string_length_default_max);
  ObjectReader& string(std::string_view name, std::optional<std::string>* out,
                       size_t length_max = json_string_length_default_max);
  // SPEC §0 ids.
  ObjectReader& id(std::string_view name, std::string* out);
  ObjectReader& id(std::string_view name, std::optional<std::string>* out);
  // merchant_id / store_id: an id, or a non-negative integer taken as its decimal spelling.
  ObjectReader& tenant_id(std::string_view name, std::string* out);
  ObjectReader& tenant_id(std::string_view name, std::optional<std::string>* out);
  // One of a fixed set of strings ("wallet" | "points").
  ObjectReader& one_of(std::string_view name, std::string* out,
                       std::initializer_list<std::string_view> allowed);
  ObjectReader& one_of(std::string_view name, std::optional<std::string>* out,
                       std::initializer_list<std::string_view> allowed);
  // RFC 3339 time, as microseconds since the epoch.
  ObjectReader& time_us(std::string_view name, int64_t* out);
  ObjectReader& time_us(std::string_view name, std::optional<int64_t>* out);

  // Nested object; `read` declares its fields (unknown ones are rejected).
  // `present` (may be null) tells whether an optional object was given.
  ObjectReader& object(std::string_view name, Presence presence,
                       const std::function<void(ObjectReader&)>& read, bool* present = nullptr);
  // Array of objects, at most count_max; `read` gets each with its index.
  ObjectReader& objects(std::string_view name, Presence presence, size_t count_max,
                        const std::function<void(ObjectReader&, size_t)>& read);
  ObjectReader& strings(std::string_view name, Presence presence, std::vector<std::string>* out,
                        size_t count_max, size_t length_max = json_string_length_default_max);
  ObjectReader& amounts(std::string_view name, Presence presence, std::vector<int64_t>* out,
                        size_t count_max);

  bool ok() const { return !error_.has_value(); }
  // The first error, else the first unknown field, else nullopt.
  std::optional<ApiError> finish();

 private:
  // The value of `name`, marking it known; nullptr when absent (or null and
  // optional). Records "missing" for required fields.
  const boost::json::value* take(std::string_view name, bool required);
  void fail(std::string_view name, std::string message);
  std::string field_path(std::string_view name) const;
  bool read_u64(std::string_view name, const boost::json::value& v, uint64_t* out);
  bool read_i64(std::string_view name, const boost::json::value& v, int64_t min, int64_t max,
                int64_t* out);
  bool read_string(std::string_view name, const boost::json::value& v, size_t length_max,
                   std::string* out);
  bool read_id(std::string_view name, const boost::json::value& v, bool allow_integer,
               std::string* out);
  // one_of, required or not: the value when present and allowed.
  std::optional<std::string> one_of_value(std::string_view name, bool required,
                                          std::initializer_list<std::string_view> allowed);
  ObjectReader& optional_id(std::string_view name, bool allow_integer,
                            std::optional<std::string>* out);

  const boost::json::object& obj_;
  std::string path_;
  std::vector<std::string_view> known_;
  std::optional<ApiError> error_;
};

}  // namespace coffer::gateway
