#include "gateway/handlers_admin.h"

#include "gateway/handler_util.h"

namespace coffer::gateway {

void bind_admin_handlers(Router*, LedgerLink*) {}

}  // namespace coffer::gateway
