// The ledger side of WeChat Pay notifications (wechat_notify.h's Confirmer).
//
// out_trade_no names a recharge (recharge_confirm, built as the cash/manual
// confirmation in handlers_admin.h: one transaction confirmed both ways is one
// confirmation); if no recharge has that id, the external part of a split
// payment (payment_confirm_external, id ("payment_confirm", out_trade_no +
// "/" + transaction_id), channel_txn ("channel_txn", transaction_id)).
// Each confirmation carries a text under its command id {"ref", "channel_txn_id",
// "channel": "wechat"}, so that the history entry it makes names the order.
//
// Outcomes: ok → confirmed (replayed → duplicate; a recharge recorded as
// amount_mismatch → amount_mismatch); the order already settled by another
// transaction (INVALID_STATE) → duplicate: nothing more is credited, and a
// retry would change nothing; a payment whose external part differs
// (INVALID_REQUEST) or the same transaction with another amount (ID_REUSED) →
// amount_mismatch; neither a recharge nor a payment → not_found; no answer or
// a server failure → unavailable (WeChat Pay retries).
#pragma once

#include "gateway/ledger_link.h"
#include "gateway/wechat_notify.h"

namespace coffer::gateway {

// `link` must outlive the confirmer's use.
Confirmer make_ledger_confirmer(LedgerLink* link);

}  // namespace coffer::gateway
