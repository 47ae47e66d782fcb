/*
 * fuzz_log_auditd.c - libFuzzer target: the Linux audit log reader over
 * arbitrary bytes, read in sequence (fuzz_log.h) and cut into small chunks
 * for a worker, as parallel scans read it (where an event must not be split
 * across chunks).
 */
#include "fuzz_log.h"

static void chunked(const uint8_t *data, size_t size, const sk_logread_opts *o)
{
	sk_reader *r;
	sk_logread *lr = NULL, *w = NULL;
	sk_logchunk c = {0};
	const sk_logrec *rec;
	volatile unsigned sum = 0;

	if (sk_reader_open_mem(data, size, "fuzz", &r, NULL))
		return;
	if (sk_logread_open_reader(r, o, &lr, NULL) || sk_logread_new_worker(o, &w, NULL))
		goto out;
	for (int guard = 0; guard < 10000; guard++) {
		if (sk_logread_chunk(lr, &c, 4096, NULL) || sk_logread_bind(w, &c, NULL))
			break;
		while (sk_logread_next(w, &rec, NULL) == SK_OK && rec)
			for (uint32_t i = 0; i < rec->n; i++)
				for (uint32_t k = 0; k < rec->obs[i].len; k++)
					sum += (unsigned char)rec->obs[i].v[k];
		if (c.end)
			break;
	}
out:
	sk_logchunk_free(&c);
	sk_logread_close(w);
	sk_logread_close(lr);
	(void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_logread_opts o = {.format = SK_LOGFMT_AUDITD, .max_line = 4096};
	sk_fuzz_logread(data, size, &o);
	chunked(data, size, &o);
	return 0;
}
