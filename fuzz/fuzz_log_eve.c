/*
 * fuzz_log_eve.c - libFuzzer target: the JSON log readers (EVE and Zeek JSON,
 * which share the walker) over arbitrary bytes (fuzz_log.h).
 */
#include "fuzz_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_logread_opts eve = {.format = SK_LOGFMT_EVE, .max_line = 4096};
	sk_logread_opts zeek = {.format = SK_LOGFMT_ZEEK_JSON, .max_line = 4096};
	sk_fuzz_logread(data, size, &eve);
	sk_fuzz_logread(data, size, &zeek);
	return 0;
}
