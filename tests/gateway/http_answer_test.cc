// append_response writes by hand what Beast's serializer wrote before
// (http_server.cc): the same bytes for every kind of answer the server sends.
#include <gtest/gtest.h>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>

#include "gateway/http_server.h"

namespace coffer::gateway {
namespace {

namespace http = boost::beast::http;

// The former try_write: a Beast message serialized by Beast.
std::string beast_bytes(unsigned version, const Response& r, bool keep_alive) {
  http::response<http::string_body> msg;
  msg.version(version);
  msg.result(r.status);
  msg.set(http::field::server, "coffer-gateway");
  for (auto& [name, value] : r.headers)
    msg.set(name, value);
  msg.keep_alive(keep_alive);
  if (r.status != 204 && r.status != 304) {
    msg.set(http::field::content_type, r.content_type);
    msg.body() = r.body;
  }
  msg.prepare_payload();
  std::ostringstream out;
  out << msg;
  return out.str();
}

std::string our_bytes(unsigned version, const Response& r, bool keep_alive) {
  std::string out = "left alone|";  // appends, never overwrites
  append_response(version, r, keep_alive, &out);
  EXPECT_EQ(out.substr(0, 11), "left alone|");
  return out.substr(11);
}

TEST(HttpAnswer, SameBytesAsBeast) {
  Response created;
  created.status = 201;
  created.body = R"({"payment_id":"p1","state":"captured"})";
  Response not_found = error_response(ApiError{404, "NOT_FOUND", "no such member", {}});
  Response with_headers = text_response(200, "text/csv; charset=utf-8", "a,b\n1,2\n");
  with_headers.headers = {{"Content-Disposition", "attachment; filename=\"r.csv\""},
                          {"Cache-Control", "no-store"},
                          {"Allow", "GET"}};
  Response empty_ok;
  empty_ok.status = 200;
  Response no_content;
  no_content.status = 204;
  Response not_modified;
  not_modified.status = 304;
  Response odd_status;
  odd_status.status = 599;
  odd_status.body = "{}";
  for (const Response* r :
       {&created, &not_found, &with_headers, &empty_ok, &no_content, &not_modified, &odd_status}) {
    for (unsigned version : {10u, 11u}) {
      for (bool keep_alive : {true, false}) {
        SCOPED_TRACE(testing::Message()
                     << r->status << " HTTP/" << version << " keep_alive " << keep_alive);
        EXPECT_EQ(our_bytes(version, *r, keep_alive), beast_bytes(version, *r, keep_alive));
      }
    }
  }
}

TEST(HttpAnswer, HeadersTheServerWritesAreNotRepeated) {
  Response r = text_response(200, "application/json", "{}");
  r.headers = {{"content-length", "999"},
               {"Connection", "keep-alive"},
               {"Server", "other"},
               {"X-A", "1"},
               {"x-a", "2"},
               {"Content-Type", "text/plain"}};
  const std::string bytes = our_bytes(11, r, false);
  EXPECT_EQ(bytes,
            "HTTP/1.1 200 OK\r\nServer: coffer-gateway\r\nx-a: 2\r\nConnection: close\r\n"
            "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
}

}  // namespace
}  // namespace coffer::gateway
