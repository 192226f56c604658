# Tests of coffer_gateway_http (gateway/http.cmake).
coffer_test(gateway_http_routes_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_routes_test.cc
            LIBS coffer_gateway_http LABELS gateway)
coffer_test(gateway_json_util_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/json_util_test.cc
            LIBS coffer_gateway_http LABELS gateway)
coffer_test(gateway_http_util_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_util_test.cc
            LIBS coffer_gateway_http LABELS gateway)
coffer_test(gateway_http_server_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_server_test.cc
            LIBS coffer_gateway_http LABELS gateway)
