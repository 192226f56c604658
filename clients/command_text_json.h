// Texts beside commands (core/command_text.h) as JSON objects: what the CLI
// and the gateway write beside a command, and read back from the state store.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/command_text.h"
#include "core/types.h"

namespace coffer::client {

// A text beside a command: `object` serialised as JSON.
CommandText make_text(Id128 key, uint64_t group, const boost::json::object& object);
// The JSON object of a stored text; empty when absent or not an object.
boost::json::object parse_text(const std::optional<std::string>& text);
// object[name] when it is a string, else null.
boost::json::value string_or_null(const boost::json::object& object, std::string_view name);

}  // namespace coffer::client
