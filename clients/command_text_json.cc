#include "clients/command_text_json.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <utility>

namespace coffer::client {

namespace json = boost::json;

CommandText make_text(Id128 key, uint64_t group, const json::object& object) {
  CommandText t;
  t.key = key;
  t.group = group;
  t.text = json::serialize(object);
  return t;
}

json::object parse_text(const std::optional<std::string>& text) {
  if (!text) return {};
  json::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

json::value string_or_null(const json::object& object, std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || !it->value().is_string()) return nullptr;
  return it->value();
}

}  // namespace coffer::client
