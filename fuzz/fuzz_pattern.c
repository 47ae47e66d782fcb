/*
 * fuzz_pattern.c - libFuzzer target for the STIX pattern parser.
 *
 * Parses the input; on success writes the tree as JSON, formats every object
 * path and walks the tree, checking invariants the matcher will rely on; on
 * failure checks that the message names an offset inside the input.  A
 * broken invariant aborts, which libFuzzer reports as a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
	if (!cond)
		abort();
}

static int visit(const sk_pnode *n, unsigned depth, void *ud)
{
	size_t len = *(size_t *)ud;
	char buf[64];

	require(depth < 4 * SK_PATTERN_MAX_DEPTH);
	require(n->offset <= len);
	switch (n->kind) {
	case SK_PN_FOLLOWEDBY:
	case SK_PN_OBS_OR:
	case SK_PN_OBS_AND:
	case SK_PN_CMP_OR:
	case SK_PN_CMP_AND:
		require(n->nkids >= 2);
		break;
	case SK_PN_QUALIFIED:
	case SK_PN_OBSERVATION:
		require(n->nkids == 1 && n->kids);
		break;
	case SK_PN_COMPARISON:
		require(n->nkids == 0);
		require(n->cmp.path.nsteps >= 1 && n->cmp.path.type);
		require(n->object_type && !strcmp(n->object_type, n->cmp.path.type));
		require(sk_ppath_format(&n->cmp.path, buf, sizeof(buf)) > n->cmp.path.typelen);
		if (n->cmp.op != SK_PCMP_IN && n->cmp.op != SK_PCMP_EXISTS)
			require(n->cmp.value.offset + n->cmp.value.length <= len);
		break;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_pattern *p = NULL;
	sk_error err;
	sk_err rc = sk_pattern_parse((const char *)data, size, &p, &err);

	if (rc != SK_OK) {
		require(p == NULL);
		if (rc == SK_EINVAL && strncmp(err.msg, "pattern offset ", 15) == 0)
			require(strtoull(err.msg + 15, NULL, 10) <= size);
		return 0;
	}
	json_t *j = NULL;
	require(sk_pattern_to_json(p, &j) == SK_OK);
	char *s = json_dumps(j, JSON_COMPACT);
	require(s != NULL);
	free(s);
	json_decref(j);
	require(sk_pattern_walk(p, visit, &size) == 0);
	sk_pattern_free(p);
	return 0;
}
