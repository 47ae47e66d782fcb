/*
 * hashkey.c - collection hash keys in "<db>.hashkeys" and their grants
 * (see hashkey.h and docs/private-matching.md).
 *
 * The file is text: a magic line, then one key per line, tab-separated:
 *   id  producer  collection  created-µs  current(0/1)  base64-key
 * Names with a tab, newline or over SK_HASHKEY_NAME_MAX bytes are refused.
 */
#include "schakel/hashkey.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schakel/file.h"
#include "schakel/json.h"

#define MAGIC        "schakel-hashkeys-v1"
#define B64          sodium_base64_VARIANT_ORIGINAL
#define LINE_MAX_LEN 1024

char *sk_hashkey_path(const char *db_path)
{
	size_t n = strlen(db_path) + 10;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s.hashkeys", db_path);
	return p;
}

void sk_hashkey_id(const unsigned char key[SK_HASHKEY_LEN], char out[SK_HASHKEY_ID_LEN + 1])
{
	static const char ctx[] = "schakel-hashkey";
	unsigned char h[SK_HASHKEY_ID_LEN / 2];
	crypto_generichash_state s;

	crypto_generichash_init(&s, NULL, 0, sizeof(h));
	crypto_generichash_update(&s, (const unsigned char *)ctx, sizeof(ctx) - 1);
	crypto_generichash_update(&s, key, SK_HASHKEY_LEN);
	crypto_generichash_final(&s, h, sizeof(h));
	sodium_bin2hex(out, SK_HASHKEY_ID_LEN + 1, h, sizeof(h));
}

static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n < SK_HASHKEY_NAME_MAX && !strpbrk(s, "\t\r\n");
}

void sk_hashkeys_free(sk_hashkeys *ks)
{
	if (!ks)
		return;
	if (ks->k)
		sodium_memzero(ks->k, ks->n * sizeof(*ks->k));
	free(ks->k);
	ks->k = NULL;
	ks->n = 0;
}

sk_err sk_hashkeys_add(sk_hashkeys *ks, const sk_hashkey *k, sk_error *err)
{
	size_t at = ks->n;

	if (!name_ok(k->producer) || !name_ok(k->collection))
		return sk_error_set(err, SK_EINVAL,
		                    "a key's producer and collection must be 1 to "
		                    "%d bytes without tabs or newlines",
		                    SK_HASHKEY_NAME_MAX - 1);
	for (size_t i = 0; i < ks->n; i++)
		if (!strcmp(ks->k[i].id, k->id))
			at = i;
	if (at == ks->n) {
		sk_hashkey *nk;
		if (ks->n >= SK_HASHKEYS_MAX)
			return sk_error_set(err, SK_ELIMIT, "more than %d hash keys",
			                    SK_HASHKEYS_MAX);
		/* a fresh array (not realloc) so that the old copy can be wiped */
		if (!(nk = calloc(ks->n + 1, sizeof(*nk))))
			return sk_error_set(err, SK_ENOMEM, "out of memory");
		if (ks->n)
			memcpy(nk, ks->k, ks->n * sizeof(*nk));
		if (ks->k)
			sodium_memzero(ks->k, ks->n * sizeof(*ks->k));
		free(ks->k);
		ks->k = nk;
		ks->n++;
	}
	if (k->current)
		for (size_t i = 0; i < ks->n; i++)
			if (!strcmp(ks->k[i].producer, k->producer) &&
			    !strcmp(ks->k[i].collection, k->collection))
				ks->k[i].current = false;
	ks->k[at] = *k;
	return SK_OK;
}

const sk_hashkey *sk_hashkeys_current(const sk_hashkeys *ks, const char *producer,
                                      const char *collection)
{
	for (size_t i = 0; i < ks->n; i++)
		if (ks->k[i].current && !strcmp(ks->k[i].producer, producer) &&
		    !strcmp(ks->k[i].collection, collection))
			return &ks->k[i];
	return NULL;
}

const sk_hashkey *sk_hashkeys_find(const sk_hashkeys *ks, const char *id)
{
	for (size_t i = 0; i < ks->n; i++)
		if (!strcmp(ks->k[i].id, id))
			return &ks->k[i];
	return NULL;
}

sk_err sk_hashkey_generate(const char *producer, const char *collection, int64_t now_us,
                           sk_hashkey *out, sk_error *err)
{
	if (sodium_init() < 0)
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if (!name_ok(producer) || !name_ok(collection))
		return sk_error_set(err, SK_EINVAL, "bad producer or collection name");
	memset(out, 0, sizeof(*out));
	randombytes_buf(out->key, sizeof(out->key));
	sk_hashkey_id(out->key, out->id);
	snprintf(out->producer, sizeof(out->producer), "%s", producer);
	snprintf(out->collection, sizeof(out->collection), "%s", collection);
	out->created = now_us;
	out->current = true;
	return SK_OK;
}

/* One line "id\tproducer\tcollection\tcreated\tcurrent\tkey" into *k. */
static bool parse_line(char *line, sk_hashkey *k)
{
	char *f[6], *save = NULL, *end;
	size_t n = 0;
	int i = 0;

	line[strcspn(line, "\r\n")] = '\0';
	for (char *t = strtok_r(line, "\t", &save); t && i < 6; t = strtok_r(NULL, "\t", &save))
		f[i++] = t;
	if (i != 6 || strlen(f[0]) != SK_HASHKEY_ID_LEN || !name_ok(f[1]) || !name_ok(f[2]) ||
	    (strcmp(f[4], "0") && strcmp(f[4], "1")))
		return false;
	memset(k, 0, sizeof(*k));
	k->created = strtoll(f[3], &end, 10);
	if (*end ||
	    sodium_base642bin(k->key, sizeof(k->key), f[5], strlen(f[5]), NULL, &n, NULL, B64) ||
	    n != sizeof(k->key))
		return false;
	sk_hashkey_id(k->key, k->id);
	if (strcmp(k->id, f[0]))
		return false; /* the id must belong to the key */
	snprintf(k->producer, sizeof(k->producer), "%s", f[1]);
	snprintf(k->collection, sizeof(k->collection), "%s", f[2]);
	k->current = f[4][0] == '1';
	return true;
}

sk_err sk_hashkeys_load(const char *path, sk_hashkeys *out, sk_error *err)
{
	char line[LINE_MAX_LEN];
	unsigned lineno = 1;
	sk_hashkey k;
	sk_err rc = SK_OK;
	FILE *f;

	memset(out, 0, sizeof(*out));
	if (sodium_init() < 0)
		return sk_error_set(err, SK_EUNSUPPORTED, "libsodium failed to initialise");
	if (!(f = fopen(path, "r")))
		return errno == ENOENT ? SK_OK
		                       : sk_error_set(err, SK_EIO, "%s: %s", path, strerror(errno));
	if (!fgets(line, sizeof(line), f) || strncmp(line, MAGIC "\n", sizeof(MAGIC))) {
		rc = sk_error_set(err, SK_EINVAL, "%s: not a schakel hash-key file", path);
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!parse_line(line, &k) || (rc = sk_hashkeys_add(out, &k, err))) {
			rc = rc ? rc
			        : sk_error_set(err, SK_EINVAL, "%s:%u: damaged hash-key line", path,
			                       lineno);
			break;
		}
	}
out:
	sodium_memzero(line, sizeof(line));
	sodium_memzero(&k, sizeof(k));
	fclose(f);
	if (rc)
		sk_hashkeys_free(out);
	return rc;
}

static int fill_keys(FILE *f, void *ud)
{
	const sk_hashkeys *ks = ud;
	char b64[sodium_base64_ENCODED_LEN(SK_HASHKEY_LEN, B64)];
	int rc = fputs(MAGIC "\n", f) < 0 ? -1 : 0;

	for (size_t i = 0; !rc && i < ks->n; i++) {
		const sk_hashkey *k = &ks->k[i];
		sodium_bin2base64(b64, sizeof(b64), k->key, sizeof(k->key), B64);
		if (fprintf(f, "%s\t%s\t%s\t%lld\t%d\t%s\n", k->id, k->producer, k->collection,
		            (long long)k->created, k->current ? 1 : 0, b64) < 0)
			rc = -1;
	}
	sodium_memzero(b64, sizeof(b64));
	return rc;
}

sk_err sk_hashkeys_save(const char *path, const sk_hashkeys *ks, sk_error *err)
{
	return sk_file_replace_private(path, fill_keys, (void *)ks, err);
}

sk_err sk_hashkey_grant(const sk_hashkey *k, sk_buf *out, sk_error *err)
{
	char b64[sodium_base64_ENCODED_LEN(SK_HASHKEY_LEN, B64)];
	sk_err rc;

	sodium_bin2base64(b64, sizeof(b64), k->key, sizeof(k->key), B64);
	rc = sk_buf_puts(out, "{\"schakel_hashkey\":1,\"producer\":");
	rc = rc ? rc : sk_buf_put_json_string(out, k->producer, strlen(k->producer));
	rc = rc ? rc : sk_buf_puts(out, ",\"collection\":");
	rc = rc ? rc : sk_buf_put_json_string(out, k->collection, strlen(k->collection));
	rc = rc ? rc
	        : sk_buf_printf(out, ",\"key_id\":\"%s\",\"created\":%lld,\"key\":\"%s\"}", k->id,
	                        (long long)k->created, b64);
	sodium_memzero(b64, sizeof(b64));
	return rc ? sk_error_set(err, rc, "out of memory") : SK_OK;
}

sk_err sk_hashkey_grant_parse(const char *text, size_t len, sk_hashkey *out, sk_error *err)
{
	const sk_jval *v, *created;
	const char *p, *c, *id, *key;
	sk_jdoc *doc = NULL;
	size_t n = 0;
	sk_err rc;

	memset(out, 0, sizeof(*out));
	if ((rc = sk_json_doc_new(len * 2 + ((size_t)1 << 20), 4, &doc)))
		return sk_error_set(err, rc, "out of memory");
	if ((rc = sk_json_parse(doc, text, len, &v, err))) {
		sk_error_prefix(err, "not a hash-key grant");
		goto out;
	}
	p = sk_json_str(sk_json_get(v, "producer"));
	c = sk_json_str(sk_json_get(v, "collection"));
	id = sk_json_str(sk_json_get(v, "key_id"));
	key = sk_json_str(sk_json_get(v, "key"));
	created = sk_json_get(v, "created");
	if (!sk_json_is(sk_json_get(v, "schakel_hashkey"), SK_JINT) || !name_ok(p) || !name_ok(c) ||
	    !id || !key || !sk_json_is(created, SK_JINT) ||
	    sodium_base642bin(out->key, sizeof(out->key), key, strlen(key), NULL, &n, NULL, B64) ||
	    n != sizeof(out->key)) {
		rc = sk_error_set(err, SK_EINVAL, "not a hash-key grant (fields missing or bad)");
		goto out;
	}
	sk_hashkey_id(out->key, out->id);
	if (strcmp(out->id, id)) {
		rc = sk_error_set(err, SK_EINVAL, "the grant's key id %.20s does not match its key",
		                  id);
		goto out;
	}
	snprintf(out->producer, sizeof(out->producer), "%s", p);
	snprintf(out->collection, sizeof(out->collection), "%s", c);
	out->created = created->u.i;
	out->current = true;
out:
	if (rc)
		sodium_memzero(out, sizeof(*out));
	sk_json_doc_free(doc);
	return rc;
}
