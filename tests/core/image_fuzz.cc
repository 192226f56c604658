// libFuzzer target: the state-image reader (Ledger::read_image), core's one
// decoder, which reads what the state store kept across a restart. Built as a
// fuzzer with -DCOFFER_FUZZ=ON (clang) and, in every build, into
// core_image_fuzz_test, which runs it over mutated real images.
//
// Input: byte 0, bit 0 set = reseal (write the right CRC into the trailer
// first, so that the structural checks and the state hash, not the CRC, must
// refuse a bad image); the rest is the image. Properties for any input:
// - no crash, no undefined behaviour, no read past the input;
// - a refused image leaves the ledger fresh: nothing in it, and a valid image
//   still loads into it;
// - an accepted image writes back exactly its own bytes (but for the header's
//   capacities, which are the writer's) and keeps the invariant that every
//   asset sums to zero over all accounts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "core/crc32c.h"
#include "core/image.h"
#include "core/ledger.h"
#include "tests/core/image_fuzz.h"
#include "tests/fuzz_check.h"

namespace {

using coffer::Ledger;
using coffer::Result;

constexpr size_t trailer_size = 8;        // masked CRC-32C of all before it, then 4 zero bytes
constexpr size_t capacities_offset = 16;  // in the header: accounts, pending, ids
constexpr size_t capacities_size = 12;

// Writes the right CRC into the trailer of `image` (if it has one).
void reseal_trailer(std::vector<unsigned char>& image) {
  if (image.size() < trailer_size) return;
  const size_t body = image.size() - trailer_size;
  const uint32_t masked = coffer::crc32c_mask(coffer::crc32c(image.data(), body));
  std::memcpy(image.data() + body, &masked, sizeof masked);
}

std::vector<unsigned char> image_of(const Ledger& ledger) {
  coffer::VectorImageWriter w;
  ledger.write_image(w);
  return w.bytes;
}

Result load(Ledger& ledger, const std::vector<unsigned char>& bytes) {
  coffer::SpanImageReader r(bytes.data(), bytes.size());
  return ledger.read_image(r);
}

// The image of an empty ledger: must load into any ledger a refused load left.
const std::vector<unsigned char>& empty_image() {
  static const std::vector<unsigned char> bytes = [] {
    Ledger empty(coffer::test::image_fuzz_config());
    return image_of(empty);
  }();
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool reseal = (data[0] & 1) != 0;
  std::vector<unsigned char> image(data + 1, data + size);
  if (reseal) reseal_trailer(image);
  Ledger ledger(coffer::test::image_fuzz_config());
  const Result r = load(ledger, image);
  FUZZ_CHECK(r == Result::ok || r == Result::invalid_request);
  if (r != Result::ok) {
    FUZZ_CHECK(ledger.account_count() == 0);
    FUZZ_CHECK(ledger.pending_count() == 0);
    FUZZ_CHECK(ledger.idempotency_count() == 0);
    FUZZ_CHECK(ledger.last_seq() == 0);
    FUZZ_CHECK(load(ledger, empty_image()) == Result::ok);
    return 0;
  }
  // The header's capacities say what the writer had; the reader's own go
  // into what it writes (an image loads into any ledger that holds its counts).
  const std::vector<unsigned char> back = image_of(ledger);
  FUZZ_CHECK(back.size() == image.size() && image.size() >= capacities_offset + capacities_size);
  std::vector<unsigned char> expected = image;
  std::memcpy(expected.data() + capacities_offset, back.data() + capacities_offset,
              capacities_size);
  reseal_trailer(expected);
  FUZZ_CHECK(back == expected);
  std::map<coffer::Asset, int64_t> sums;
  for (uint32_t k = 0; k < ledger.account_count(); k++) {
    const coffer::Account& a = ledger.account(ledger.account_slot_at(k));
    sums[a.asset] += a.credits_posted - a.debits_posted;
  }
  for (const auto& [asset, sum] : sums)
    FUZZ_CHECK(sum == 0);
  return 0;
}
