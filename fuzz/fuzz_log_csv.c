/*
 * fuzz_log_csv.c - libFuzzer target: the csv log reader over arbitrary bytes.
 *
 * The input is read from memory (gzip is inflated when it starts with the
 * magic) with a small line limit so that over-long lines are exercised too;
 * every value of every record is touched so the sanitizers see bad pointers.
 */
#include "schakel/logread.h"
#include "schakel/reader.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_reader *r;
	sk_logread *lr;
	const sk_logrec *rec;
	volatile unsigned sum = 0;
	sk_logread_opts o = {.format = SK_LOGFMT_CSV, .max_line = 4096, .csv_map = "c=auto"};

	if (sk_reader_open_mem(data, size, "fuzz", &r, NULL))
		return 0;
	if (sk_logread_open_reader(r, &o, &lr, NULL))
		return 0;
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
	return 0;
}
