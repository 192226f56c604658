# coffer_gateway_http: the HTTP layer of coffer-gateway (Beast server, route
# table, router and auth, strict JSON, errors, metrics, CSV, RFC 3339 times,
# OpenAPI). No ledger client here: handlers that call the ledger bind later.
add_library(coffer_gateway_http
  ${CMAKE_CURRENT_LIST_DIR}/csv.cc
  ${CMAKE_CURRENT_LIST_DIR}/errors.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_server.cc
  ${CMAKE_CURRENT_LIST_DIR}/json_util.cc
  ${CMAKE_CURRENT_LIST_DIR}/metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/openapi.cc
  ${CMAKE_CURRENT_LIST_DIR}/router.cc
  ${CMAKE_CURRENT_LIST_DIR}/routes.cc
)
target_include_directories(coffer_gateway_http PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(coffer_gateway_http PUBLIC coffer_rfc3339 Boost::headers Boost::json
                                                 Threads::Threads)
# No deprecated Asio APIs (and nothing of ours relies on them).
target_compile_definitions(coffer_gateway_http PUBLIC BOOST_ASIO_NO_DEPRECATED)
