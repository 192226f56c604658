// Runs the image fuzz target (image_fuzz.cc) over real state images with
// mutations: bit flips, bytes set to edge values, 4- and 8-byte fields
// overwritten with small or huge counts and ids, truncation, insertion and
// copied runs, mostly with the CRC resealed so that the structural checks and
// the state hash must refuse them. Every CI run exercises the image reader's
// refusals this way (and under ASan in test.sh --asan).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/ledger.h"
#include "tests/core/domain_generator.h"
#include "tests/core/image_fuzz.h"
#include "tests/core/sim_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace coffer::test {
namespace {

using Bytes = std::vector<unsigned char>;

void run(bool reseal, const Bytes& image) {
  Bytes input;
  input.push_back(reseal ? 1 : 0);
  input.insert(input.end(), image.begin(), image.end());
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

// A ledger with accounts, holds, grants, remembered ids and domain records.
Bytes seed_image(uint64_t seed, int commands) {
  DomainGenerator generator(seed);
  Ledger ledger(image_fuzz_config());
  std::vector<Effect> effects(effects_per_command_max);
  for (int k = 0; k < commands; k++) {
    EffectSink sink(effects);
    ledger.apply(generator.next(), sink);
  }
  VectorImageWriter w;
  ledger.write_image(w);
  return w.bytes;
}

// Under ASan a fresh ledger per input costs ~20 ms: fewer rounds there (the
// deep run is the real fuzzer's, scripts/fuzz.sh).
#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t default_rounds = 600;
#else
constexpr uint64_t default_rounds = 5'000;
#endif

Bytes mutate(const Bytes& image, Rng& rng) {
  Bytes m = image;
  const int edits = 1 + static_cast<int>(rng.below(3));
  for (int e = 0; e < edits && !m.empty(); e++) {
    const size_t at = rng.below(m.size());
    switch (rng.below(7)) {
      case 0:  // one bit
        m[at] ^= static_cast<unsigned char>(1u << rng.below(8));
        break;
      case 1: {  // a byte at an edge value
        static constexpr unsigned char edge[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
        m[at] = edge[rng.below(sizeof edge)];
        break;
      }
      case 2:
      case 3: {  // a 4- or 8-byte field: a small count, a huge one, or another field's value
        const size_t width = rng.below(2) ? 8 : 4;
        if (at + width > m.size()) break;
        uint64_t v;
        switch (rng.below(3)) {
          case 0:
            v = rng.below(70);
            break;
          case 1:
            v = ~uint64_t{0} - rng.below(3);
            break;
          default:
            std::memcpy(&v, m.data() + rng.below(m.size() - width + 1), width);
        }
        std::memcpy(m.data() + at, &v, width);
        break;
      }
      case 4:  // truncated
        m.resize(at);
        break;
      case 5:  // bytes inserted
        m.insert(m.begin() + static_cast<long>(at), rng.below(16) + 1,
                 static_cast<unsigned char>(rng.below(256)));
        break;
      default: {  // a run copied over another place (a record duplicated)
        const size_t from = rng.below(m.size());
        const size_t n = std::min({size_t{1} + rng.below(96), m.size() - from, m.size() - at});
        std::memmove(m.data() + at, m.data() + from, n);
      }
    }
  }
  return m;
}

// With COFFER_IMAGE_FUZZ_SEEDS=DIR, also writes the seed images there as the
// real fuzzer's corpus (scripts/fuzz.sh): from random bytes it would not get
// past the header.
TEST(CoreImageFuzz, SeedImagesLoadAndRoundTrip) {
  const char* corpus = std::getenv("COFFER_IMAGE_FUZZ_SEEDS");
  for (uint64_t seed : {1, 2, 3}) {
    const Bytes image = seed_image(seed, seed == 1 ? 100 : 1'500);
    if (corpus != nullptr) {
      std::ofstream out(std::string(corpus) + "/seed-" + std::to_string(seed), std::ios::binary);
      out.put(1);  // reseal
      out.write(reinterpret_cast<const char*>(image.data()), static_cast<long>(image.size()));
      ASSERT_TRUE(out.good());
    }
    Ledger ledger(image_fuzz_config());
    SpanImageReader r(image.data(), image.size());
    ASSERT_EQ(ledger.read_image(r), Result::ok) << "seed " << seed;
    ASSERT_GT(ledger.account_count(), 0u);
    run(true, image);  // accepted: the target checks the round trip and the sums
    run(false, image);
  }
}

TEST(CoreImageFuzz, MutatedImagesAreRefusedCleanly) {
  const uint64_t base = env_u64("COFFER_SEED", 17);
  const int rounds = static_cast<int>(env_u64("COFFER_IMAGE_FUZZ_ROUNDS", default_rounds));
  for (uint64_t seed : {base, base + 1}) {
    const Bytes image = seed_image(seed, 1'500);
    Rng rng(seed);
    for (int k = 0; k < rounds; k++) {
      const Bytes m = mutate(image, rng);
      run(rng.below(8) != 0, m);  // mostly resealed
    }
  }
  // Random bytes after a valid header.
  const Bytes image = seed_image(base, 200);
  Rng rng(base + 2);
  for (int k = 0; k < 200; k++) {
    Bytes m(image.begin(), image.begin() + std::min<size_t>(image.size(), 56));
    const size_t n = rng.below(4096);
    for (size_t i = 0; i < n; i++)
      m.push_back(static_cast<unsigned char>(rng.below(256)));
    run(true, m);
  }
}

}  // namespace
}  // namespace coffer::test
