// The domain subcommands of `coffer` (SPEC.md operations over the client
// library), with ids and texts exactly as the HTTP gateway builds them
// (clients/domain_ids.h), so an operation started here and retried through
// HTTP is the same operation.
#pragma once

#include <string>
#include <vector>

#include "clients/cli_common.h"
#include "clients/domain_commands.h"

namespace coffer::cli {

// Members, balances, credits/debits, merchants, stores, groups, config, history.
void add_member_commands(std::vector<Subcommand>* table);
// Payments, recharges, order completion.
void add_payment_commands(std::vector<Subcommand>* table);
// Rebates, gifts, withdrawals, vouchers.
void add_reward_commands(std::vector<Subcommand>* table);

// --- Shared by the domain files ------------------------------------------------

// exit_ok, or a usage error naming `what` when `text` is not a SPEC §0 id.
int check_caller_id(const std::string& text, const std::string& what);
// exit_ok with the member id, or a usage error.
int member_arg(const std::string& text, const std::string& what, uint64_t* out);
// exit_ok with the amount, or a usage error.
int amount_arg(const std::string& text, const std::string& what, int64_t* out);
// exit_ok with the limit (default list_limit_default), or a usage error.
int limit_arg(const Args& a, uint32_t* out);
// A read of the record under a caller id (payment, recharge, batch, withdrawal):
// checks `id` (a usage error names `what`), then reads id_from_string(ns, id).
int read_by_id(Context& ctx, CommandKind kind, const char* ns, const std::string& id,
               const std::string& what, Reply* reply);
// A fresh random command id, for commands that set state (as the gateway's PUTs).
using client::random_command_id;
// Commands and answers as the gateway builds them (domain_commands.h, domain_json.h).
using client::DomainCommand;
using client::read_command;
// One command with the text beside it.
int call(Context& ctx, DomainCommand command, Reply* reply);
// The gateway's JSON answer with the CLI's "replayed": true when core replayed.
json::object with_replayed(json::object answer, const Reply& reply);
// Prints the rows of a list query page by page until `limit`; `row_json`
// makes one row's object. `name`: the list's field ("entries", "gifts", ...).
int print_list(Context& ctx, client::Query q, uint32_t limit, const char* name,
               json::object (*row_json)(const client::QueryRow&));

}  // namespace coffer::cli
