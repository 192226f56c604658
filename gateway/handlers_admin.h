// Ledger-backed handlers of API.md for platform set-up and channels: config,
// groups, stores (put, nearby), recharge methods, recharges (create, list,
// get, confirm), API keys. The ledger side of WeChat Pay notifications is in
// wechat_confirm.h, key resolution in ledger_keys.h.
//
// Command ids (net/ids.h id_from_string, stable forever):
//   recharge_create    ("recharge", recharge_id)
//   recharge_confirm   ("recharge_confirm", recharge_id + "/" + channel_txn_id)
//                      channel_txn = ("channel_txn", channel_txn_id)
//   api_key_set        ("api_key", key_id)
//   config_set, group_set, store_set, recharge_method_set: a fresh random id
//   per call (PUTs set a state).
// Texts (core/command_text.h, handler_util.h text_key / text_group):
//   recharge create / confirm   under the command id {"ref": recharge_id, ...};
//                               the create's in group text_group("recharges",
//                               "all"): GET /v1/recharges lists it
//   config guide                text_key("config", "guide") {"text","path","amounts"}
//   group                       text_key("group", decimal id) {"name"}
//   store                       text_key("store", M + "/" + S), group
//                               text_group("stores", M), where M and S are the
//                               decimal core ids of merchant and store
//                               (net::account_id_from_string): for numeric
//                               ids that is the id itself, and a nearby
//                               answer (core ids only) finds the text of a
//                               store whose ids are not numbers.
//                               {"merchant_id","store_id","name","address","lat","lon"}
//   recharge method             text_key("method", decimal id), group
//                               text_group("methods", "all")
//                               {"method_id","name","channel","enabled","payee_accounts"}
//   api key                     text_key("api_key", key_id)
//                               {"key_id","role","merchant_id","store_id","name"}
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "clients/domain_commands.h"
#include "clients/domain_ids.h"
#include "core/command_text.h"
#include "core/constants.h"
#include "core/types.h"
#include "gateway/ledger_link.h"
#include "gateway/limits.h"
#include "gateway/router.h"

namespace coffer::gateway {

// Recharge guidance (SPEC R2): prompt text, path, suggested amounts. Bounded
// so that the text beside config_set stays within command_text_size_max even
// when every character needs a 6-byte JSON escape.
inline constexpr size_t guide_text_length_max = 800;
inline constexpr size_t guide_path_length_max = 256;
inline constexpr size_t guide_amounts_max = 12;
// Recharge methods (SPEC R1): payee account strings, at most the core's count.
// 64 accounts of 64 characters fit one text as plain text; escapes could
// overflow it, which the handler answers 400 (text_fits below).
inline constexpr size_t payee_account_length_max = 64;
inline constexpr size_t payee_accounts_max = coffer::payees_per_method_max;
// Names of groups, stores, methods and keys; store addresses.
inline constexpr size_t admin_name_length_max = 128;
inline constexpr size_t address_length_max = 256;
// GET /v1/stores/nearby: one core read per store, in sequence (each read
// starts after the previous answer), so the list limit is the read count.
inline constexpr uint32_t nearby_limit_default = list_limit_default;
inline constexpr uint32_t nearby_limit_max = list_limit_max;

static_assert((guide_text_length_max + guide_path_length_max) * 6 + guide_amounts_max * 20 + 64 <=
                  coffer::command_text_size_max,
              "a guide must fit one text");
static_assert(payee_accounts_max * (payee_account_length_max + 3) + admin_name_length_max * 6 +
                      128 <=
                  coffer::command_text_size_max,
              "a method's payee accounts must fit one text when not escaped");
static_assert((admin_name_length_max + address_length_max) * 6 + 2 * 64 * 6 + 128 <=
                  coffer::command_text_size_max,
              "a store must fit one text");
static_assert(coffer::groups_max <= coffer::batch_size_max, "GET /v1/groups reads all in one call");
static_assert(coffer::methods_max <= coffer::batch_size_max);
static_assert(nearby_limit_max <= list_limit_max && nearby_limit_default <= nearby_limit_max);

// The store text's key and group (see above; clients/domain_ids.h).
using client::store_text_group;
using client::store_text_key;

// recharge_confirm of `recharge_id` by the channel's transaction (ids above).
// Cash/manual confirmation, WeChat Pay and the CLI build it the same way
// (clients/domain_commands.h), so one transaction confirmed both ways is one
// confirmation (a replay).
using client::recharge_confirm_command;

// Binds the routes listed above. `link` must outlive the router's use.
void bind_admin_handlers(Router* router, LedgerLink* link);

}  // namespace coffer::gateway
