# Journal benchmarks: append with group commit on the real file system (real
# fdatasync), and replay. COFFER_BENCH_DIR picks the directory (default: /tmp).
coffer_benchmark(SOURCES storage_bench.cc LIBS coffer_storage)
