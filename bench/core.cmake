# Core ledger engine: single-phase transfers and hold+post (see RESULTS.md).
coffer_benchmark(SOURCES core_bench.cc LIBS coffer_core)
