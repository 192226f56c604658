#include "gateway/handlers_rewards.h"

#include "gateway/handler_util.h"

namespace coffer::gateway {

void bind_reward_handlers(Router*, LedgerLink*, const CodeSecret&) {}

}  // namespace coffer::gateway
