/*
 * fuzz_hashed.c - libFuzzer target for hashed indicators
 * (src/detect/hashed.c, match_hashed.c) and hash-key grants
 * (src/trust/hashkey.c).  The input is a JSON indicator: its hashed-values
 * extension is parsed (digests or a Bloom filter) and, when valid, added to
 * a matcher holding the key it names, which is then run over a record made
 * of the input's own bytes as e-mail, domain and user values; the input is
 * also parsed as a grant and normalised as every path.  Nothing may crash,
 * leak or read out of bounds; a valid digest list must match its own values.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "schakel/hashed.h"
#include "schakel/hashkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[SK_HASHED_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sk_jdoc *doc;
	char norm[SK_HASHED_VALUE_MAX + 1];
	const sk_jval *v;
	sk_hashed_ext e;
	sk_hashkey k;
	sk_error err;

	if (!doc && sk_json_doc_new(1 << 24, 64, &doc))
		__builtin_trap();
	for (int p = 1; p < SK_HP__COUNT; p++) {
		size_t n =
		    sk_hashed_norm((sk_hashed_path)p, (const char *)data, size, norm, sizeof(norm));
		if (n > SK_HASHED_VALUE_MAX)
			__builtin_trap();
		/* normalising twice changes nothing */
		if (n && p != SK_HP_PHONE) {
			char again[SK_HASHED_VALUE_MAX + 1];
			size_t m = sk_hashed_norm((sk_hashed_path)p, norm, n, again, sizeof(again));
			if (m != n || memcmp(norm, again, n))
				__builtin_trap();
		}
	}
	(void)sk_hashkey_grant_parse((const char *)data, size, &k, &err);
	if (sk_json_parse(doc, (const char *)data, size, &v, &err))
		return 0;
	if (sk_hashed_parse(v, &e, &err) == SK_OK) {
		sk_hmatch *h = NULL;
		sk_hmatch_ctx *c = NULL;
		sk_logrec rec = {.n = 3};
		const sk_match_hit *hits = NULL;
		if (sk_hmatch_new(&h, &err) || sk_hmatch_ctx_new(&c, &err) ||
		    sk_hmatch_add_key(h, e.key_id, key, &err))
			__builtin_trap();
		(void)sk_hmatch_add(h, &e, 0, &err);
		if (sk_hmatch_build(h, &err))
			__builtin_trap();
		rec.obs[0] =
		    (sk_obs){.v = (const char *)data, .len = (uint32_t)size, .kind = SK_OBS_EMAIL};
		rec.obs[1] =
		    (sk_obs){.v = (const char *)data, .len = (uint32_t)size, .kind = SK_OBS_DOMAIN};
		rec.obs[2] =
		    (sk_obs){.v = (const char *)data, .len = (uint32_t)size, .kind = SK_OBS_USER};
		size_t nh = sk_hmatch_merge(h, c, &rec, &hits, 0);
		for (size_t i = 0; i < nh; i++)
			if (hits[i].ind != 0 || hits[i].value >= 3)
				__builtin_trap();
		sk_hmatch_ctx_free(c);
		sk_hmatch_free(h);
		sk_hashed_ext_clear(&e);
	}
	return 0;
}
