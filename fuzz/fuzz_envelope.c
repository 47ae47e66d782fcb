/*
 * fuzz_envelope.c - libFuzzer target for TAXII POST bodies: the envelope
 * check, then the whole POST (decode, validate, store, status) through the
 * API on an in-memory node.  Any input must give a TAXII answer (202; 400
 * for malformed JSON; 422 for JSON that is not an envelope), never a crash,
 * leak or sanitizer report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/account.h"
#include "schakel/taxii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sk_store *st;
	static sk_taxii *t;
	static char auth[128], path[128];
	sk_taxii_resp resp;
	sk_error err;
	size_t n;

	if (!st) {
		sk_node_params np = {.name = "fuzz node"};
		sk_partner_params pp = {.name = "P"};
		sk_collection c;
		char *tok = NULL;
		if (sk_store_open(":memory:", SK_STORE_CREATE, &st, &err) ||
		    sk_store_init_node(st, &np, &err) || sk_partner_add(st, &pp, NULL, &err) ||
		    sk_account_add(st, "P", "a", "pw", NULL, &err) ||
		    sk_token_create(st, "a", NULL, &tok, NULL, &err) ||
		    sk_grant_set(st, "P", "default", SK_GRANT_READ | SK_GRANT_WRITE, &err) ||
		    sk_store_collection_get(st, "default", &c, &err) || sk_taxii_new(st, NULL, &t, &err))
			__builtin_trap();
		snprintf(auth, sizeof(auth), "Bearer %s", tok);
		snprintf(path, sizeof(path), "/api/collections/%s/objects/", c.uuid);
		free(tok);
		sk_collection_clear(&c);
	}
	(void)sk_taxii_envelope_check((const char *)data, size, &n, &err);
	sk_taxii_req req = {
	    .method = "POST",
	    .path = path,
	    .content_type = SK_TAXII_MEDIA_TYPE,
	    .authorization = auth,
	    .body = (const char *)data,
	    .body_len = size,
	};
	sk_taxii_handle(t, st, &req, &resp);
	if (resp.status != 202 && resp.status != 400 && resp.status != 422)
		__builtin_trap();
	sk_taxii_resp_free(&resp);
	return 0;
}
