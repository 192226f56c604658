# coffer_gateway_crypto: WeChat Pay v3 notification verification, voucher codes,
# API keys and strict Base64 (OpenSSL 3 + Boost.JSON). No Beast, no ledger
# client: the HTTP layer calls in. Voucher codes' format and keyed hash come
# from clients/voucher_code.h (coffer_client_domain).
add_library(coffer_gateway_crypto STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/api_keys.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/base64.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/codes.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/wechatpay.cc)
target_include_directories(coffer_gateway_crypto PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(coffer_gateway_crypto PUBLIC coffer_client_domain OpenSSL::Crypto Boost::json)
