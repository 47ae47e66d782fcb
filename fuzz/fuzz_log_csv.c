/* fuzz_log_csv.c - libFuzzer target: the CSV log reader over arbitrary bytes (fuzz_log.h). */
#include "fuzz_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_logread_opts o = {.format = SK_LOGFMT_CSV, .max_line = 4096, .csv_map = "c=auto"};
	sk_fuzz_logread(data, size, &o);
	return 0;
}
