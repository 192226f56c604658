# The admin and channel handlers end to end (gateway/handlers_admin.cc,
# ledger_keys.cc, wechat_confirm.cc): cofferd + coffer-gateway subprocesses.
if(TARGET cofferd)
  coffer_test(gateway_admin_e2e_test SOURCES admin_e2e_test.cc
              LIBS coffer_gateway_crypto Boost::json OpenSSL::Crypto)
  add_dependencies(gateway_admin_e2e_test coffer-gateway cofferd)
  target_compile_definitions(gateway_admin_e2e_test
                             PRIVATE COFFER_GATEWAY_BIN="$<TARGET_FILE:coffer-gateway>"
                                     COFFER_COFFERD_BIN="$<TARGET_FILE:cofferd>")
endif()

# LedgerKeyResolver against a cofferd subprocess (cache with a fake clock).
if(TARGET cofferd)
  coffer_test(gateway_admin_keys_test SOURCES admin_keys_test.cc LIBS coffer_gateway)
  add_dependencies(gateway_admin_keys_test cofferd)
  target_compile_definitions(gateway_admin_keys_test
                             PRIVATE COFFER_COFFERD_BIN="$<TARGET_FILE:cofferd>")
endif()
