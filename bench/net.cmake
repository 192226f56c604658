# End-to-end benchmarks of cofferd's pipeline over loopback with the real
# journal (real fdatasync). COFFER_BENCH_DIR picks the directory (default /tmp).
coffer_benchmark(SOURCES net_bench.cc LIBS coffer_net coffer_client coffer_storage coffer_core)
