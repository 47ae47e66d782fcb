/*
 * fuzz_log_ecs.c - libFuzzer target: the Elastic Common Schema reader
 * (Winlogbeat, Elastic Agent, Sysmon) over arbitrary bytes (fuzz_log.h).
 */
#include "fuzz_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_logread_opts o = {.format = SK_LOGFMT_ECS, .max_line = 4096};
	sk_fuzz_logread(data, size, &o);
	return 0;
}
