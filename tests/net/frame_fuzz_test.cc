// Runs the fuzz target over a few thousand deterministic inputs: random bytes,
// and valid frame streams with mutations (bit flips, truncation, insertion,
// splicing), so every CI run exercises the decoder's error paths.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "net/command_codec.h"
#include "net/query_codec.h"
#include "net/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace coffer::net {
namespace {

using Bytes = std::vector<std::byte>;

int run(const Bytes& input) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

void append(Bytes& to, const Bytes& from) {
  to.insert(to.end(), from.begin(), from.end());
}

Bytes valid_stream(std::mt19937_64& rng) {
  Bytes s;
  s.push_back(std::byte(rng() % 5));  // body limit selector
  s.push_back(std::byte(rng()));      // chunking seed
  int frames = int(rng() % 6);
  for (int i = 0; i < frames; ++i) {
    switch (rng() % 8) {
      case 0:
        append(s, encode_hello_frame(
                      rng(), {protocol_version, "token-" + std::to_string(rng() % 100), "client"}));
        break;
      case 1:
        append(s, encode_hello_ok_frame(rng(), {"coffer", rng(), {4096, 8192, 64}}));
        break;
      case 2:
        append(s, encode_error_frame(rng(), {uint32_t(rng() % 22), "message"}));
        break;
      case 3: {
        Bytes body(rng() % 300);
        for (auto& b : body)
          b = std::byte(rng());
        append(s, encode_request_frame(rng(), body));
        break;
      }
      case 4: {  // a real batch with texts
        std::vector<Command> commands(1 + rng() % 4, make_tick());
        std::vector<CommandText> texts;
        for (uint32_t k = 0; k < commands.size(); k++)
          if (rng() % 2) texts.push_back(CommandText{k, Id128{rng() | 1, rng()}, rng() % 3, "t"});
        append(s, encode_request_frame(rng(), encode_command_batch(commands, texts)));
        break;
      }
      case 5: {
        QueryRequest q;
        q.kind = QueryKind(1 + rng() % query_kind_max);
        q.key = rng();
        q.limit = 1 + uint32_t(rng() % query_limit_max);
        if (q.kind == QueryKind::texts) q.ids.assign(1 + rng() % 3, Id128{rng() | 1, rng()});
        q.cursor = QueryPosition{rng(), uint32_t(rng()), Id128{rng(), rng()}};
        append(s, encode_query_frame(rng(), encode_query(q)));
        break;
      }
      case 6: {
        QueryAnswer a;
        a.rows.resize(rng() % 3);
        for (auto& row : a.rows) {
          row.seq = rng();
          if (rng() % 2) row.text = "text";
        }
        append(s, encode_query_reply_frame(rng(), encode_query_reply(a)));
        break;
      }
      default:
        append(s, encode_ping_frame(rng(), {}));
    }
  }
  return s;
}

void mutate(Bytes& s, std::mt19937_64& rng) {
  if (s.size() <= 2) return;
  int edits = 1 + int(rng() % 4);
  for (int e = 0; e < edits && s.size() > 2; ++e) {
    size_t at = 2 + rng() % (s.size() - 2);
    switch (rng() % 4) {
      case 0:
        s[at] ^= std::byte(1u << (rng() % 8));
        break;
      case 1:
        s.resize(at);
        break;
      case 2:
        s.insert(s.begin() + ptrdiff_t(at), std::byte(rng()));
        break;
      default:
        s[at] = std::byte(rng());
        break;
    }
  }
}

size_t iterations() {
  return std::getenv("COFFER_SOAK") != nullptr ? 1'000'000 : 20'000;
}

TEST(FrameFuzz, RandomBytes) {
  std::mt19937_64 rng(0xC0FFE5);
  for (size_t i = 0; i < iterations(); ++i) {
    Bytes input(rng() % 200);
    for (auto& b : input)
      b = std::byte(rng());
    // Sometimes start with the magic so the header checks past it are reached.
    if (input.size() > 6 && rng() % 2) {
      input[2] = std::byte('C');
      input[3] = std::byte('O');
      input[4] = std::byte('F');
      input[5] = std::byte('R');
    }
    ASSERT_EQ(run(input), 0);
  }
}

TEST(FrameFuzz, ValidStreamsDecodeWhole) {
  std::mt19937_64 rng(7);
  for (size_t i = 0; i < iterations() / 3; ++i)
    ASSERT_EQ(run(valid_stream(rng)), 0);
}

TEST(FrameFuzz, MutatedValidStreams) {
  std::mt19937_64 rng(11);
  for (size_t i = 0; i < iterations(); ++i) {
    Bytes s = valid_stream(rng);
    mutate(s, rng);
    ASSERT_EQ(run(s), 0);
  }
}

TEST(FrameFuzz, SplicedStreams) {
  std::mt19937_64 rng(13);
  for (size_t i = 0; i < iterations() / 3; ++i) {
    Bytes a = valid_stream(rng), b = valid_stream(rng);
    size_t cut = a.size() > 2 ? 2 + rng() % (a.size() - 1) : a.size();
    a.resize(std::min(cut, a.size()));
    a.insert(a.end(), b.begin() + 2, b.end());
    ASSERT_EQ(run(a), 0);
  }
}

}  // namespace
}  // namespace coffer::net
