/*
 * fuzz_log_zeek.c - libFuzzer target: the Zeek TSV log reader over arbitrary
 * bytes (fuzz_log.h), and the same records whichever column splitter
 * (logs/logsimd.h) the reader runs: the best this CPU has and the scalar one.
 */
#include "fuzz_log.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_logread_opts o = {.format = SK_LOGFMT_ZEEK, .max_line = 4096};
	sk_fuzz_logread(data, size, &o);
	uint64_t best = sk_fuzz_logread_digest(data, size, &o);
	setenv("SK_SIMD", "scalar", 1);
	uint64_t scalar = sk_fuzz_logread_digest(data, size, &o);
	unsetenv("SK_SIMD");
	if (best != scalar)
		abort();
	return 0;
}
