/* fuzz_log_zeek.c - libFuzzer target: the Zeek TSV log reader over arbitrary bytes (fuzz_log.h). */
#include "fuzz_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_logread_opts o = {.format = SK_LOGFMT_ZEEK, .max_line = 4096};
	sk_fuzz_logread(data, size, &o);
	return 0;
}
