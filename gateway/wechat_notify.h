// POST /v1/wechatpay/notify (API.md, "WeChat Pay notifications"): verify the
// signature and timestamp, decrypt the resource, and for trade_state SUCCESS
// confirm the recharge (or the external part of a split payment) whose id is
// out_trade_no. Answers, as WeChat Pay expects them:
//   204 (no body)   confirmed, a duplicate, or a trade state other than SUCCESS
//   401 FAIL        bad or missing signature, stale timestamp, undecryptable resource
//   400 FAIL        decrypted, but the transaction is malformed
//   404 FAIL        unknown out_trade_no
//   500 FAIL        the ledger did not answer: WeChat Pay retries later
//   503 FAIL        WeChat Pay is not configured
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "gateway/router.h"
#include "gateway/wechatpay.h"

namespace coffer::gateway {

// What the ledger made of a confirmation.
enum class ConfirmOutcome : uint8_t {
  confirmed,        // credited now (or the split payment captured)
  duplicate,        // this channel transaction was confirmed before: nothing more
  amount_mismatch,  // recorded as such by the ledger, nothing credited (SPEC R3)
  not_found,        // no recharge or payment with that id
  unavailable,      // the ledger did not answer
};

struct ChannelConfirmation {
  std::string out_trade_no;    // our recharge_id or payment_id
  std::string transaction_id;  // the channel's transaction id
  int64_t amount_fen = 0;
};

// Asks the ledger to confirm; calls `done` exactly once, from any thread.
using Confirmer =
    std::function<void(const ChannelConfirmation&, std::function<void(ConfirmOutcome)> done)>;

// Seconds since the epoch; injectable so that tests control the 5-minute window.
using WallClock = std::function<int64_t()>;
int64_t system_time_s();

// `verifier` null means WeChat Pay is not configured (503). `verifier` must
// outlive the handler.
Handler make_wechatpay_notify_handler(const wechatpay::Verifier* verifier, Confirmer confirm,
                                      WallClock now_s = system_time_s);

}  // namespace coffer::gateway
