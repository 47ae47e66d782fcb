/*
 * fuzz_taxii_query.c - libFuzzer target for TAXII query strings: splitting,
 * percent-decoding, filter parsing and next-token decoding.  Any input must
 * end in SK_OK or a clean error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "schakel/taxii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[SK_TAXII_KEY_BYTES] = {42};
	sk_taxii_param *p = NULL;
	sk_taxii_filters f;
	char *store = NULL;
	size_t n = 0;
	sk_error err;
	int64_t da;

	if (sk_taxii_query_split((const char *)data, size, &p, &n, &store, &err) == SK_OK) {
		for (unsigned allowed = SK_TF_ALL; allowed; allowed >>= 3)
			if (sk_taxii_filters_parse(p, n, allowed, &f, &err) == SK_OK) {
				if (f.next)
					(void)sk_taxii_token_decode(key, f.next, 1, f.hash, &da,
								    &err);
				sk_taxii_filters_free(&f);
			}
	}
	free(p);
	free(store);
	return 0;
}
