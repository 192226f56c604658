# Core ledger engine: single-phase transfers and hold+post; domain commands:
# the mixed workload (see RESULTS.md).
coffer_benchmark(SOURCES core_bench.cc core_domain_bench.cc LIBS coffer_core)
