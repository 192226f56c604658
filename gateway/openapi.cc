#include "gateway/openapi.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <string_view>

#include "gateway/limits.h"
#include "gateway/routes.h"

namespace coffer::gateway {
namespace {

namespace json = boost::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

json::object param_schema(std::string_view name) {
  json::object schema;
  switch (param_kind(name)) {
    case ParamKind::u64:
      schema["type"] = "integer";
      schema["format"] = "uint64";
      schema["minimum"] = 0;
      break;
    case ParamKind::id:
      schema["type"] = "string";
      schema["pattern"] = "^[A-Za-z0-9_.:-]{1,64}$";
      break;
    case ParamKind::phone:
      schema["type"] = "string";
      schema["pattern"] = "^[0-9+-]{1,32}$";
      break;
  }
  return schema;
}

json::object query_schema(std::string_view name) {
  json::object schema;
  if (name == "limit") {
    schema["type"] = "integer";
    schema["minimum"] = 1;
    schema["maximum"] = list_limit_max;
    schema["default"] = list_limit_default;
  } else if (name == "lat" || name == "lon") {
    schema["type"] = "number";
  } else if (name == "format") {
    schema["type"] = "string";
    schema["enum"] = json::array{"json", "csv"};
  } else if (name == "asset") {
    schema["type"] = "string";
    schema["enum"] = json::array{"wallet", "points"};
  } else if (name == "direction") {
    schema["type"] = "string";
    schema["enum"] = json::array{"sent", "received"};
  } else {
    schema["type"] = "string";
  }
  return schema;
}

json::object error_response_ref(std::string_view description) {
  json::object r;
  r["description"] = description;
  r["content"] = json::object{
      {"application/json",
       json::object{{"schema", json::object{{"$ref", "#/components/schemas/Error"}}}}}};
  return r;
}

std::string operation_id(const RouteSpec& r) {
  // The RouteId name would be nicer but enums carry no names; the summary
  // is unique per route, the label is too.
  std::string id = lower(method_name(r.method));
  for (char c : r.pattern) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      id += c;
    } else if (c == '/' || c == '-' || c == '.') {
      if (id.back() != '_') id += '_';
    }
  }
  while (!id.empty() && id.back() == '_')
    id.pop_back();
  return id;
}

json::object operation(const RouteSpec& r) {
  json::object op;
  op["operationId"] = operation_id(r);
  op["summary"] = r.summary;
  json::array roles;
  for (int i = 0; i < role_count; ++i) {
    if (r.auth == AuthKind::key && (r.roles & role_bit(Role(i))))
      roles.push_back(json::value(role_name(Role(i))));
  }
  op["x-roles"] = std::move(roles);
  op["x-auth"] = r.auth == AuthKind::key         ? "key"
                 : r.auth == AuthKind::signature ? "signature"
                                                 : "none";
  if (r.auth == AuthKind::key) {
    op["security"] = json::array{json::object{{"bearer", json::array{}}}};
  } else {
    op["security"] = json::array{};
  }

  json::array params;
  std::string_view p = r.pattern;
  for (size_t open = p.find('{'); open != std::string_view::npos; open = p.find('{', open + 1)) {
    size_t close = p.find('}', open);
    std::string_view name = p.substr(open + 1, close - open - 1);
    params.push_back(json::object{
        {"name", name}, {"in", "path"}, {"required", true}, {"schema", param_schema(name)}});
  }
  std::string_view q = r.query;
  while (!q.empty()) {
    size_t comma = q.find(',');
    std::string_view name = q.substr(0, comma);
    params.push_back(json::object{
        {"name", name}, {"in", "query"}, {"required", false}, {"schema", query_schema(name)}});
    if (comma == std::string_view::npos) break;
    q.remove_prefix(comma + 1);
  }
  if (!params.empty()) op["parameters"] = std::move(params);

  if (r.method == Method::post || r.method == Method::put) {
    op["requestBody"] = json::object{
        {"required", r.id != RouteId::voucher_batch_void},
        {"content", json::object{{"application/json",
                                  json::object{{"schema", json::object{{"type", "object"}}}}}}}};
  }

  json::object responses;
  json::object ok;
  ok["description"] = "Success";
  if (r.success_status != 204) {
    std::string_view type = r.id == RouteId::metrics ? "text/plain" : "application/json";
    json::object schema = r.id == RouteId::metrics ? json::object{{"type", "string"}}
                                                   : json::object{{"type", "object"}};
    ok["content"] = json::object{{type, json::object{{"schema", std::move(schema)}}}};
  }
  responses[std::to_string(r.success_status)] = std::move(ok);
  responses["400"] = error_response_ref("INVALID_REQUEST");
  if (r.auth == AuthKind::key) {
    responses["401"] = error_response_ref("UNAUTHENTICATED");
    responses["403"] = error_response_ref("FORBIDDEN");
  }
  if (r.id == RouteId::healthz || r.auth == AuthKind::key) {
    responses["503"] = error_response_ref("UNAVAILABLE");
  }
  responses["default"] = error_response_ref("Any other error of API.md's table");
  op["responses"] = std::move(responses);
  return op;
}

}  // namespace

json::object openapi_document() {
  json::object doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = json::object{{"title", "Coffer gateway"},
                             {"version", "1"},
                             {"description", "Stored value ledger: wallets, points, vouchers."}};
  json::object paths;
  for (const RouteSpec& r : route_table()) {
    json::value& item = paths[r.pattern];
    if (!item.is_object()) item = json::object{};
    item.as_object()[lower(method_name(r.method))] = operation(r);
  }
  doc["paths"] = std::move(paths);

  json::object error_inner{
      {"type", "object"},
      {"required", json::array{"code", "message"}},
      {"properties", json::object{{"code", json::object{{"type", "string"}}},
                                  {"message", json::object{{"type", "string"}}}}},
      {"additionalProperties", true}};
  json::object error_schema{{"type", "object"},
                            {"required", json::array{"error"}},
                            {"properties", json::object{{"error", std::move(error_inner)}}}};
  doc["components"] =
      json::object{{"securitySchemes",
                    json::object{{"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}}}}},
                   {"schemas", json::object{{"Error", std::move(error_schema)}}}};
  return doc;
}

const std::string& openapi_json() {
  static const std::string text = json::serialize(openapi_document());
  return text;
}

}  // namespace coffer::gateway
