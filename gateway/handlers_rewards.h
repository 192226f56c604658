// Ledger-backed handlers of API.md for money that moves between members and
// merchants after a purchase: orders (grants), rebates, gifts, withdrawals,
// voucher batches and redemptions, member history and the settlement report.
#pragma once

#include "gateway/ledger_link.h"
#include "gateway/router.h"

namespace coffer::gateway {

void bind_reward_handlers(Router* router, LedgerLink* link);

}  // namespace coffer::gateway
