// Ledger-backed handlers of API.md for platform set-up and channels: config,
// groups, stores (put, nearby), recharge methods, recharges (create, get,
// confirm), API keys; and the ledger side of WeChat Pay notifications.
#pragma once

#include "gateway/ledger_link.h"
#include "gateway/router.h"

namespace coffer::gateway {

void bind_admin_handlers(Router* router, LedgerLink* link);

}  // namespace coffer::gateway
