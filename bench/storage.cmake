# Journal benchmarks: append with group commit on the real file system (real
# fdatasync), and replay. State store benchmarks: follower apply throughput,
# history reads, recovery (image load + journal tail replay) for 1M and 10M
# accounts. COFFER_BENCH_DIR picks the directory (default: /tmp).
coffer_benchmark(SOURCES storage_bench.cc state_store_bench.cc LIBS coffer_storage coffer_core)
