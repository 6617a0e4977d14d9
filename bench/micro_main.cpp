// micro_main — entry point of dovetail_micro; each micro_<room>.cpp registers its benchmarks.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
