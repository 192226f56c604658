// The ledger configuration of the image fuzz target (image_fuzz.cc) and of the
// seed images its test builds (image_fuzz_test.cc): an image loads only into a
// ledger whose capacities hold its counts, so both sides use this one.
#pragma once

#include "core/ledger.h"

namespace coffer::test {

inline LedgerConfig image_fuzz_config() {
  LedgerConfig c;
  c.accounts_capacity = 64;
  c.pending_capacity = 256;
  c.idempotency_capacity = 1u << 12;
  c.members_capacity = 12;
  c.merchants_capacity = 8;
  c.payments_capacity = 1u << 10;
  c.records_capacity = 1u << 10;
  c.batches_capacity = 64;
  c.vouchers_capacity = 1u << 10;
  c.stores_capacity = 8;
  c.api_keys_capacity = 8;
  c.settlement_capacity = 256;
  return c;
}

}  // namespace coffer::test
