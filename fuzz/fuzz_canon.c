/*
 * fuzz_canon.c - libFuzzer target for RFC 8785 canonicalisation and the
 * signature extension (src/trust/canon.c, sign.c).  For any JSON value:
 * canonicalising never fails but for memory, the canonical form parses and
 * canonicalises to itself (idempotence), and for an object, signing it and
 * verifying the result with the same key gives "verified", while verifying
 * the input as it came never crashes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "schakel/canon.h"
#include "schakel/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sk_jdoc *doc, *doc2;
	static sk_keypair kp;
	static bool init;
	const sk_jval *v, *w;
	sk_buf a, b, c, scratch;
	sk_error err;

	if (!init) {
		if (sk_json_doc_new(1 << 24, 64, &doc) || sk_json_doc_new(1 << 24, 64, &doc2) ||
		    sk_key_generate(&kp, &err))
			__builtin_trap();
		init = true;
	}
	if (sk_json_parse(doc, (const char *)data, size, &v, &err))
		return 0;
	sk_buf_init(&a, 0);
	sk_buf_init(&b, 0);
	sk_buf_init(&c, 0);
	sk_buf_init(&scratch, 0);
	if (sk_canon(v, NULL, &a, &err) == SK_OK) {
		/* the canonical form is JSON and its own canonical form */
		if (sk_json_parse(doc2, a.data, a.len, &w, &err) || sk_canon(w, NULL, &b, &err) ||
		    a.len != b.len || memcmp(a.data, b.data, a.len))
			__builtin_trap();
	}
	(void)sk_sig_verify(v, kp.pk, &scratch);
	if (v->type == SK_JOBJECT && sk_sig_sign(v, &kp, &c, &err) == SK_OK) {
		if (sk_json_parse(doc2, c.data, c.len, &w, &err) ||
		    sk_sig_verify(w, kp.pk, &scratch) != SK_SIG_VERIFIED)
			__builtin_trap();
	}
	sk_buf_free(&a);
	sk_buf_free(&b);
	sk_buf_free(&c);
	sk_buf_free(&scratch);
	return 0;
}
