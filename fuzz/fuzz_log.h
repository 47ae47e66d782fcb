/*
 * fuzz_log.h - what the log-reader fuzz targets share: read arbitrary bytes
 * from memory with the given options (gzip is inflated when the input starts
 * with the magic; the targets use a small line limit so that over-long lines
 * are exercised too) and touch every value of every record, so that the
 * sanitizers see bad pointers and lengths.
 */
#ifndef SCHAKEL_FUZZ_LOG_H
#define SCHAKEL_FUZZ_LOG_H

#include "schakel/logread.h"
#include "schakel/reader.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void sk_fuzz_logread(const uint8_t *data, size_t size, const sk_logread_opts *o)
{
	sk_reader *r;
	sk_logread *lr;
	const sk_logrec *rec;
	volatile unsigned sum = 0;

	if (sk_reader_open_mem(data, size, "fuzz", &r, NULL))
		return;
	if (sk_logread_open_reader(r, o, &lr, NULL))
		return;
	while (sk_logread_next(lr, &rec, NULL) == SK_OK && rec) {
		for (uint32_t i = 0; i < rec->n; i++) {
			const sk_obs *ob = &rec->obs[i];
			for (uint32_t k = 0; k < ob->len; k++)
				sum += (unsigned char)ob->v[k];
			sum += (unsigned char)ob->field[0];
		}
		for (size_t k = 0; k < rec->raw_len; k++)
			sum += (unsigned char)rec->raw[k];
		for (uint32_t k = 0; k < rec->event_len; k++)
			sum += (unsigned char)rec->event[k];
	}
	sk_logread_close(lr);
	(void)sum;
}

/*
 * A digest of every record read from data (line, time, event, every
 * value's kind, role, field and bytes) and of the reading's end: two
 * readings that give the same records give the same digest.
 */
static inline uint64_t sk_fuzz_logread_digest(const uint8_t *data, size_t size,
                                              const sk_logread_opts *o)
{
	sk_reader *r;
	sk_logread *lr;
	const sk_logrec *rec;
	uint64_t h = 1469598103934665603ULL;
	sk_err rc;
#define MIX(x) (h = (h ^ (uint64_t)(x)) * 1099511628211ULL)

	if (sk_reader_open_mem(data, size, "fuzz", &r, NULL))
		return 0;
	if (sk_logread_open_reader(r, o, &lr, NULL))
		return 0;
	while ((rc = sk_logread_next(lr, &rec, NULL)) == SK_OK && rec) {
		MIX(rec->line);
		MIX(rec->ts_us);
		MIX(rec->n);
		MIX(rec->dropped);
		for (uint32_t k = 0; k < rec->event_len; k++)
			MIX((unsigned char)rec->event[k]);
		for (uint32_t i = 0; i < rec->n; i++) {
			const sk_obs *ob = &rec->obs[i];
			MIX(ob->kind);
			MIX(ob->role);
			MIX(ob->len);
			for (const char *f = ob->field; *f; f++)
				MIX((unsigned char)*f);
			for (uint32_t k = 0; k < ob->len; k++)
				MIX((unsigned char)ob->v[k]);
		}
	}
	MIX(rc);
#undef MIX
	sk_logread_close(lr);
	return h;
}

#endif
