coffer_test(gateway_wechatpay_test SOURCES wechatpay_test.cc LIBS coffer_gateway_crypto
            LABELS gateway)
coffer_test(gateway_codes_test SOURCES codes_test.cc LIBS coffer_gateway_crypto LABELS gateway)
