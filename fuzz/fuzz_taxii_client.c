/*
 * fuzz_taxii_client.c - libFuzzer target: arbitrary response bytes through
 * the sync client's response handling (header lines, envelope scan, status
 * parse, URL join with a server-given reference).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/taxii_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_tc_envelope e;
	sk_tc_status s;
	sk_tc_resp r;
	sk_error err;
	const char *p = (const char *)data;
	size_t nl = 0;

	/* first line: a header; the rest: a body */
	while (nl < size && p[nl] != '\n')
		nl++;
	memset(&r, 0, sizeof(r));
	sk_tc_header_line(&r, p, nl);
	const char *body = p + (nl < size ? nl + 1 : nl);
	size_t blen = size - (size_t)(body - p);
	if (sk_tc_envelope_scan(body, blen, &e, &err) == SK_OK)
		sk_tc_envelope_clear(&e);
	sk_tc_status_parse(body, blen, &s, &err);
	char *ref = strndup(p, nl);
	char *out = NULL;
	if (ref && sk_tc_url_join("http://peer.example:1/taxii2/", ref, &out, &err) == SK_OK)
		free(out);
	free(ref);
	return 0;
}
