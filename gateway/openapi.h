// The OpenAPI 3.0 document of the API, generated from the route table (paths,
// methods, parameters, roles, bearer security, the error schema) so that it
// cannot drift from what the router serves.
#pragma once

#include <boost/json/object.hpp>
#include <string>

namespace coffer::gateway {

boost::json::object openapi_document();
// Serialized once; served by GET /v1/openapi.json.
const std::string& openapi_json();

}  // namespace coffer::gateway
