// RFC 3339 times, cursors and ?limit=, CSV, Prometheus metrics text.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "clients/rfc3339.h"
#include "gateway/csv.h"
#include "gateway/metrics.h"
#include "gateway/router.h"

namespace coffer::gateway {
namespace {

TEST(Rfc3339, FormatsUtc) {
  EXPECT_EQ(client::format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(client::format_rfc3339(1), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(client::format_rfc3339(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(client::format_rfc3339(951782400LL * 1'000'000), "2000-02-29T00:00:00Z");
  EXPECT_EQ(client::format_rfc3339(1767225600LL * 1'000'000 + 123'456),
            "2026-01-01T00:00:00.123456Z");
  EXPECT_EQ(client::format_rfc3339(client::rfc3339_us_max), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(client::format_rfc3339(client::rfc3339_us_min), "0000-01-01T00:00:00Z");
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  const int64_t t = 1767225600LL * 1'000'000;  // 2026-01-01T00:00:00Z
  EXPECT_EQ(client::parse_rfc3339("2026-01-01T00:00:00Z"), t);
  EXPECT_EQ(client::parse_rfc3339("2026-01-01t00:00:00z"), t);
  EXPECT_EQ(client::parse_rfc3339("2026-01-01T08:00:00+08:00"), t);
  EXPECT_EQ(client::parse_rfc3339("2025-12-31T19:30:00-04:30"), t);
  EXPECT_EQ(client::parse_rfc3339("2026-01-01T00:00:00.5Z"), t + 500'000);
  EXPECT_EQ(client::parse_rfc3339("2026-01-01T00:00:00.123456789Z"), t + 123'456);
  EXPECT_EQ(client::parse_rfc3339("2026-01-01T00:00:00.000001+00:00"), t + 1);
  EXPECT_EQ(client::parse_rfc3339("2024-02-29T12:00:00Z"), 1709208000LL * 1'000'000);
  for (const char* bad : {"",
                          "2026-01-01",
                          "2026-01-01T00:00:00",
                          "2026-01-01 00:00:00Z",
                          "2026-1-01T00:00:00Z",
                          "2026-01-01T00:00Z",
                          "2026-13-01T00:00:00Z",
                          "2026-00-01T00:00:00Z",
                          "2026-02-29T00:00:00Z",
                          "1900-02-29T00:00:00Z",
                          "2026-04-31T00:00:00Z",
                          "2026-01-01T24:00:00Z",
                          "2026-01-01T00:60:00Z",
                          "2026-12-31T23:59:60Z",
                          "2026-01-01T00:00:00.Z",
                          "2026-01-01T00:00:00.1234567890Z",
                          "2026-01-01T00:00:00+0800",
                          "2026-01-01T00:00:00+24:00",
                          "2026-01-01T00:00:00Z ",
                          " 2026-01-01T00:00:00Z",
                          "+2026-01-01T00:00:00Z",
                          "0000-01-01T00:00:00+00:01",
                          "9999-12-31T23:59:59-00:01"}) {
    EXPECT_FALSE(client::parse_rfc3339(bad)) << bad;
  }
}

TEST(Rfc3339, RoundTripsRandomTimes) {
  std::mt19937_64 rng(20260101);
  std::uniform_int_distribution<int64_t> dist(client::rfc3339_us_min, client::rfc3339_us_max);
  for (int i = 0; i < 20000; ++i) {
    int64_t t = dist(rng);
    if (i % 2) t -= t % 1'000'000;  // whole seconds too
    auto s = client::format_rfc3339(t);
    ASSERT_EQ(client::parse_rfc3339(s), t) << s;
  }
}

TEST(Dates, ParseAndFormat) {
  EXPECT_EQ(client::parse_date("1970-01-01"), 0);
  EXPECT_EQ(client::parse_date("2026-01-01"), 20454);
  EXPECT_EQ(client::format_date(20454), "2026-01-01");
  EXPECT_FALSE(client::parse_date("2026-02-30"));
  EXPECT_FALSE(client::parse_date("2026-01-01T00:00:00Z"));
  const int64_t first = *client::parse_date("0000-01-01");
  const int64_t last = *client::parse_date("9999-12-31");
  EXPECT_EQ(first * 86'400'000'000, client::rfc3339_us_min);
  for (int64_t d = first; d <= last; d += 997) {
    ASSERT_EQ(client::parse_date(client::format_date(d)), d);
  }
  EXPECT_EQ(client::format_date(last), "9999-12-31");
}

TEST(Cursors, RoundTripAndRejectGarbage) {
  for (std::string pos : {std::string("a"), std::string("ab"), std::string("abc"),
                          std::string("\x00\xff\x10", 3), std::string(96, '\xfe')}) {
    std::string text = encode_cursor(pos);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(decode_cursor(text), pos);
  }
  EXPECT_EQ(cursor_u64(*decode_cursor(encode_cursor_u64(0x0102030405060708ULL))),
            0x0102030405060708ULL);
  EXPECT_FALSE(cursor_u64("short"));
  for (const char* bad : {"", "a", "ab=", "a+b/", "ab c", "YR"}) {
    EXPECT_FALSE(decode_cursor(bad)) << bad;  // "YR" has non-zero unused bits
  }
  EXPECT_FALSE(decode_cursor(std::string(cursor_text_length_max + 1, 'A')));
}

TEST(ListParams, LimitAndCursor) {
  auto parse = [](std::string_view raw, ListParams* lp) {
    QueryParams q;
    EXPECT_FALSE(QueryParams::parse(raw, &q));
    return parse_list_params(q, lp);
  };
  ListParams lp;
  ASSERT_FALSE(parse("", &lp));
  EXPECT_EQ(lp.limit, list_limit_default);
  EXPECT_TRUE(lp.cursor.empty());
  ASSERT_FALSE(parse("limit=1000&cursor=" + encode_cursor_u64(77), &lp));
  EXPECT_EQ(lp.limit, 1000u);
  EXPECT_EQ(cursor_u64(lp.cursor), 77u);
  ASSERT_FALSE(parse("cursor=", &lp));
  EXPECT_TRUE(lp.cursor.empty());
  for (const char* bad : {"limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=", "limit=1.5",
                          "limit=99999999999999999999", "cursor=!!", "cursor=a"}) {
    auto err = parse(bad, &lp);
    ASSERT_TRUE(err) << bad;
    EXPECT_EQ(err->status, 400u);
  }
}

TEST(Csv, Rfc4180) {
  CsvWriter w;
  w.row({"date", "merchant_id", "net"});
  w.field("plain").field("with,comma").field("with \"quote\"").end_row();
  w.field("line\nbreak").field("cr\rx").field(int64_t{-42}).field(uint64_t{7}).end_row();
  w.field("").field(" spaced ").end_row();
  EXPECT_EQ(w.text(),
            "date,merchant_id,net\r\n"
            "plain,\"with,comma\",\"with \"\"quote\"\"\"\r\n"
            "\"line\nbreak\",\"cr\rx\",-42,7\r\n"
            ", spaced \r\n");
}

// A minimal RFC 4180 reader to check that every written field reads back.
std::vector<std::vector<std::string>> read_csv(std::string_view s) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, in_quotes = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty() && !quoted) {
      in_quotes = quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
      quoted = false;
    } else if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      rows.back().push_back(std::move(field));
      field.clear();
      quoted = false;
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  rows.pop_back();  // after the final CRLF
  return rows;
}

TEST(Csv, RandomFieldsReadBack) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab,\"\r\n 1";
  for (int round = 0; round < 200; ++round) {
    std::vector<std::vector<std::string>> rows(1 + rng() % 4);
    CsvWriter w;
    for (auto& row : rows) {
      row.resize(1 + rng() % 5);
      for (auto& f : row) {
        f.resize(rng() % 6);
        for (char& c : f)
          c = alphabet[rng() % alphabet.size()];
        w.field(f);
      }
      // A lone empty field would be an empty line; keep rows non-trivial.
      if (row.size() == 1 && row[0].empty()) {
        row[0] = "x";
        w = CsvWriter();
        round--;
        break;
      }
      w.end_row();
    }
    if (w.text().empty()) continue;
    EXPECT_EQ(read_csv(w.text()), rows) << w.text();
  }
}

TEST(Metrics, TextFormat) {
  Metrics m;
  const RouteSpec& balance = route_spec(RouteId::member_balance);
  m.record_request(&balance, 200, 400);         // bucket 0.0005
  m.record_request(&balance, 200, 3'000);       // bucket 0.005
  m.record_request(&balance, 404, 20'000'000);  // +Inf
  m.record_request(nullptr, 404, 10);
  m.record_request(&balance, 418, 10);  // "other"
  m.record_ledger_round_trip(1'500);
  m.record_error(MetricError::header_timeout);
  m.connection_opened();
  m.connection_opened();
  m.connection_closed();
  EXPECT_EQ(m.requests(&balance, 200), 2u);
  EXPECT_EQ(m.errors(MetricError::header_timeout), 1u);
  std::string text = m.render();

  auto has = [&](const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
  };
  const std::string r = "route=\"GET /v1/members/{member_id}/balance\"";
  EXPECT_TRUE(has("# TYPE coffer_http_requests_total counter"));
  EXPECT_TRUE(has("coffer_http_requests_total{" + r + ",status=\"200\"} 2"));
  EXPECT_TRUE(has("coffer_http_requests_total{" + r + ",status=\"404\"} 1"));
  EXPECT_TRUE(has("coffer_http_requests_total{" + r + ",status=\"other\"} 1"));
  EXPECT_TRUE(has("coffer_http_requests_total{route=\"unmatched\",status=\"404\"} 1"));
  EXPECT_TRUE(has("# TYPE coffer_http_request_duration_seconds histogram"));
  EXPECT_TRUE(has("coffer_http_request_duration_seconds_bucket{" + r + ",le=\"0.0005\"} 2"));
  EXPECT_TRUE(has("coffer_http_request_duration_seconds_bucket{" + r + ",le=\"0.005\"} 3"));
  EXPECT_TRUE(has("coffer_http_request_duration_seconds_bucket{" + r + ",le=\"10\"} 3"));
  EXPECT_TRUE(has("coffer_http_request_duration_seconds_bucket{" + r + ",le=\"+Inf\"} 4"));
  EXPECT_TRUE(has("coffer_http_request_duration_seconds_count{" + r + "} 4"));
  EXPECT_TRUE(has("coffer_http_request_duration_seconds_sum{" + r + "} 20.003410"));
  EXPECT_TRUE(has("coffer_ledger_round_trip_seconds_bucket{le=\"0.0025\"} 1"));
  EXPECT_TRUE(has("coffer_ledger_round_trip_seconds_count 1"));
  EXPECT_TRUE(has("coffer_http_open_connections 1"));
  EXPECT_TRUE(has("coffer_gateway_errors_total{kind=\"header_timeout\"} 1"));
  EXPECT_TRUE(has("coffer_gateway_errors_total{kind=\"write_failed\"} 0"));

  // Every line is a comment or "name{labels} value"; every metric has HELP and TYPE.
  std::istringstream lines(text);
  std::string line;
  std::set<std::string> typed;
  while (std::getline(lines, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line[0] == '#') continue;
    std::string name = line.substr(0, line.find_first_of("{ "));
    bool known = false;
    for (const auto& t : typed) {
      known |= name == t || name == t + "_bucket" || name == t + "_sum" || name == t + "_count";
    }
    EXPECT_TRUE(known) << line;
    EXPECT_NE(line.find(' '), std::string::npos) << line;
  }
}

TEST(Metrics, LabelEscaping) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value("GET /v1/x"), "GET /v1/x");
}

TEST(Metrics, ConcurrentRecordingLosesNothing) {
  Metrics m;
  const RouteSpec& r = route_spec(RouteId::healthz);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i)
        m.record_request(&r, 200, uint64_t(i));
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(m.requests(&r, 200), 40000u);
  EXPECT_NE(
      m.render().find("coffer_http_request_duration_seconds_count{route=\"GET /healthz\"} 40000"),
      std::string::npos);
}

}  // namespace
}  // namespace coffer::gateway
