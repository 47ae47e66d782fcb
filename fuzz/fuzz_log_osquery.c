/*
 * fuzz_log_osquery.c - libFuzzer target: the osquery result log reader
 * (differential, snapshot and batched lines, one record per row) over
 * arbitrary bytes (fuzz_log.h).
 */
#include "fuzz_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_logread_opts o = {.format = SK_LOGFMT_OSQUERY, .max_line = 4096};
	sk_fuzz_logread(data, size, &o);
	return 0;
}
