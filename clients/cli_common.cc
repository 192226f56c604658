#include "clients/cli_common.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdio>
#include <future>
#include <string_view>

#include "clients/domain_names.h"
#include "clients/rfc3339.h"

namespace coffer::cli {

int Context::connect() {
  if (client) return exit_ok;
  client::ConnectStatus st = client::Client::connect(options, &client);
  if (!st.ok()) {
    std::fprintf(stderr, "coffer: %s:%u: %s\n", options.host.c_str(), unsigned(options.port),
                 st.message.c_str());
    return st.result == Result::unauthenticated ? exit_refused : exit_unavailable;
  }
  return exit_ok;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "coffer: %s (see coffer --help)\n", message.c_str());
  return exit_usage;
}

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  for (size_t start = 0; !list.empty() && start <= list.size();) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

namespace {
template <typename T>
bool parse_number(const std::string& text, T* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return !text.empty() && ec == std::errc() && ptr == end;
}
}  // namespace

bool parse_i64(const std::string& text, int64_t* out) {
  return parse_number(text, out);
}
bool parse_u32(const std::string& text, uint32_t* out) {
  return parse_number(text, out);
}
bool parse_u64(const std::string& text, uint64_t* out) {
  return parse_number(text, out);
}
bool parse_amount(const std::string& text, int64_t* out) {
  return parse_number(text, out) && *out > 0;
}
bool parse_member_id(const std::string& text, uint64_t* out) {
  return parse_number(text, out) && *out != 0;
}

bool parse_rfc3339_us(const std::string& text, uint64_t* out_us) {
  const std::optional<int64_t> us = client::parse_rfc3339(text);
  if (!us || *us < 0) return false;  // the ledger's times start at the epoch
  *out_us = static_cast<uint64_t>(*us);
  return true;
}

namespace {
int call_failure(Result status) {
  std::fprintf(stderr, "coffer: %s (%u)\n", std::string(result_name(status)).c_str(),
               unsigned(status));
  return status == Result::unavailable ? exit_unavailable : exit_refused;
}
}  // namespace

int submit(Context& ctx, const std::vector<Command>& commands,
           const std::vector<CommandText>& texts, std::vector<Reply>* replies) {
  if (int rc = ctx.connect(); rc != exit_ok) return rc;
  std::promise<client::SubmitResult> done;
  std::future<client::SubmitResult> result = done.get_future();
  ctx.client->submit(commands, texts, [&done](client::SubmitResult r) { done.set_value(r); });
  client::SubmitResult r = result.get();
  if (r.status != Result::ok) return call_failure(r.status);
  if (r.replies.size() != commands.size()) {
    std::fprintf(stderr, "coffer: the server answered %zu replies to %zu commands\n",
                 r.replies.size(), commands.size());
    return exit_unavailable;
  }
  *replies = std::move(r.replies);
  return exit_ok;
}

int call(Context& ctx, const Command& command, std::optional<CommandText> text, Reply* reply) {
  std::vector<CommandText> texts;
  if (text) {
    text->index = 0;
    texts.push_back(std::move(*text));
  }
  std::vector<Reply> replies;
  if (int rc = submit(ctx, {command}, texts, &replies); rc != exit_ok) return rc;
  *reply = replies[0];
  return exit_ok;
}

int query(Context& ctx, const client::Query& q, client::QueryResult* out) {
  if (int rc = ctx.connect(); rc != exit_ok) return rc;
  *out = ctx.client->query_sync(q);
  if (out->status != Result::ok) return call_failure(out->status);
  return exit_ok;
}

std::vector<std::optional<std::string>> fetch_texts(Context& ctx, const std::vector<Id128>& keys) {
  std::vector<std::optional<std::string>> texts(keys.size());
  if (keys.empty() || ctx.connect() != exit_ok) return texts;
  client::Query q;
  q.kind = client::QueryKind::texts;
  q.ids = keys;
  client::QueryResult r = ctx.client->query_sync(q);
  if (r.status != Result::ok) return texts;
  for (size_t i = 0; i < keys.size() && i < r.rows.size(); i++)
    texts[i] = r.rows[i].text;
  return texts;
}

bool replayed(const Reply& reply) {
  return (reply.flags & reply_flag_replayed) != 0;
}

int refused(Context& ctx, const Reply& reply, json::object details) {
  if (reply.result == Result::points_rule) {
    if (auto rule = client::points_rule_name(reply_data(reply).detail)) details["rule"] = *rule;
  }
  const std::string name(result_name(reply.result));
  if (ctx.json) {
    json::object error;
    error["code"] = name;
    error["result"] = unsigned(reply.result);
    for (auto& kv : details)
      error[kv.key()] = kv.value();
    if (replayed(reply)) error["replayed"] = true;
    std::printf("%s\n", json::serialize(json::object{{"error", std::move(error)}}).c_str());
  } else {
    std::printf("error %s (%u)", name.c_str(), unsigned(reply.result));
    for (auto& kv : details) {
      const json::value& v = kv.value();
      std::printf(" %s %s", std::string(kv.key()).c_str(),
                  v.is_string() ? std::string(v.as_string()).c_str() : json::serialize(v).c_str());
    }
    std::printf("%s\n", replayed(reply) ? " [replayed]" : "");
  }
  return exit_refused;
}

namespace {

std::string human(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_null()) return "-";
  if (v.is_object()) {
    std::string line;
    for (auto& kv : v.as_object()) {
      if (!line.empty()) line += ' ';
      line += std::string(kv.key()) + " " + human(kv.value());
    }
    return line;
  }
  return json::serialize(v);
}

}  // namespace

void print(const Context& ctx, const json::object& o) {
  if (ctx.json) {
    std::printf("%s\n", json::serialize(o).c_str());
    return;
  }
  for (auto& kv : o) {
    const json::value& v = kv.value();
    if (v.is_array() && (v.as_array().empty() || v.as_array()[0].is_object())) {
      if (v.as_array().empty()) std::printf("%s none\n", std::string(kv.key()).c_str());
      for (const json::value& row : v.as_array())
        std::printf("%s\n", human(row).c_str());
      continue;
    }
    std::printf("%s %s\n", std::string(kv.key()).c_str(), human(v).c_str());
  }
}

}  // namespace coffer::cli
