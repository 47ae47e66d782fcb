/*
 * fuzz_log_text.c - libFuzzer target: the free-text log reader over arbitrary
 * bytes (fuzz_log.h), with a small public suffix list on odd-sized inputs
 * and the TLD syntax fallback on even-sized ones.
 */
#include "fuzz_log.h"

#include "schakel/psl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sk_psl *psl;
	static const char rules[] = "example\ncom\nco.uk\n*.ck\n!www.ck\nxn--p1ai\n";
	sk_logread_opts o = {.format = SK_LOGFMT_TEXT, .max_line = 4096};

	/* one small list for all runs (the Debian file would be re-read each time) */
	if (!psl && sk_psl_load_mem(rules, sizeof(rules) - 1, &psl, NULL))
		return 0;
	o.psl = size % 2 ? psl : NULL;
	o.psl_path = "/nonexistent"; /* without the list: the TLD syntax fallback */
	sk_fuzz_logread(data, size, &o);
	return 0;
}
