// What sessions answer `query` frames from (PROTOCOL.md, "Queries"): cofferd
// implements it over the LMDB state store (make_store_query_service); tests
// use a fake.
//
// Read your writes: on arrival a query notes acknowledged_seq(); it is
// answered once applied_seq() has reached it. Sessions wait without blocking
// their I/O thread (a timer re-checks every query_wait_poll_ms) and answer
// UNAVAILABLE after query_wait_timeout_ms.
//
// Threads: every method may be called from any I/O thread at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "net/query_codec.h"

namespace coffer::storage {
class StateStore;
}

namespace coffer::net {

class Sequencer;

class QueryService {
 public:
  virtual ~QueryService() = default;
  // The last seq whose reply may have reached a client (durable).
  virtual uint64_t acknowledged_seq() const = 0;
  // The last seq the store has applied.
  virtual uint64_t applied_seq() const = 0;
  // Answers `query` (query_valid). The encoded answer must fit in
  // `reply_size_max` bytes (query_reply_size_bound): a page is cut short
  // there, with `next` continuing it; what cannot be cut (a texts query)
  // is answered INVALID_REQUEST. A failed store: STORAGE_ERROR.
  virtual void answer(const QueryRequest& query, size_t reply_size_max, QueryAnswer* out) = 0;
};

// Over cofferd's state store and sequencer; both must outlive it. Joins done
// here: a history, gift or withdrawal row carries the text kept under its id,
// or else under domain_leg_id(id, k) for the first k in 0..3 that has one.
std::unique_ptr<QueryService> make_store_query_service(const storage::StateStore& store,
                                                       const Sequencer& sequencer);

}  // namespace coffer::net
