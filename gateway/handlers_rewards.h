// Ledger-backed handlers of API.md for money that moves between members and
// merchants after a purchase: orders (grants), rebates, gifts, withdrawals,
// voucher batches and redemptions, member history and the settlement report.
#pragma once

#include "gateway/codes.h"
#include "gateway/ledger_link.h"
#include "gateway/router.h"

namespace coffer::gateway {

// `code_secret`: the key of the voucher codes' keyed hash (handlers.h).
void bind_reward_handlers(Router* router, LedgerLink* link, const CodeSecret& code_secret);

}  // namespace coffer::gateway
