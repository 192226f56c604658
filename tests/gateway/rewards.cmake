# Reward, voucher, withdrawal, history and report handlers end to end
# (cofferd + coffer-gateway subprocesses).
if(TARGET cofferd)
  coffer_test(gateway_rewards_e2e_test SOURCES rewards_e2e_test.cc LIBS Boost::json)
  add_dependencies(gateway_rewards_e2e_test coffer-gateway cofferd)
  target_compile_definitions(gateway_rewards_e2e_test
                             PRIVATE COFFER_GATEWAY_BIN="$<TARGET_FILE:coffer-gateway>"
                                     COFFER_COFFERD_BIN="$<TARGET_FILE:cofferd>")
endif()
