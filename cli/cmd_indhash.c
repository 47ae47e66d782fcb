/*
 * cmd_indhash.c - `schakel indicator hash`: a file of personal-data values
 * (e-mail addresses, domains, user ids, phone numbers) turned into one
 * indicator carrying their keyed hashes, or a Bloom filter over them,
 * under the collection's current hash key (docs/private-matching.md).
 * Nothing of the values is stored or printed.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/hashed.h"
#include "schakel/hashkey.h"
#include "schakel/import.h"
#include "schakel/timestamp.h"
#include "schakel/tlp.h"
#include "schakel/uuid.h"

#define LINE_MAX_LEN 4096
#define B64          sodium_base64_VARIANT_ORIGINAL

typedef struct dig {
	unsigned char d[SK_HASHED_DIGEST_LEN];
} dig;

static int cmp_dig(const void *a, const void *b)
{
	return memcmp(a, b, SK_HASHED_DIGEST_LEN);
}

/* Read, normalise and hash every value of path; *n distinct digests.  Prints where it fails. */
static int read_values(const char *file, sk_hashed_path path, const unsigned char *key, dig **out,
                       size_t *n)
{
	char line[LINE_MAX_LEN], norm[SK_HASHED_VALUE_MAX + 1];
	size_t cap = 0, len, k = 0;
	unsigned long lineno = 0;
	dig *v = NULL;
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	int rc = EXIT_INPUT;

	*n = 0;
	if (!f) {
		cli_err("%s: %s", file, strerror(errno));
		return EXIT_INPUT;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		len = strcspn(line, "\r\n");
		if (len == sizeof(line) - 1 && line[len] != '\n') {
			cli_err("%s:%lu: line longer than %d bytes", file, lineno,
			        LINE_MAX_LEN - 2);
			goto out;
		}
		line[len] = '\0';
		if (!line[strspn(line, " \t")] || line[strspn(line, " \t")] == '#')
			continue;
		if (!(len = sk_hashed_norm(path, line, len, norm, sizeof(norm)))) {
			cli_err("%s:%lu: not a value of %s (nothing stored)", file, lineno,
			        sk_hashed_path_name(path));
			goto out;
		}
		if (k == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			dig *nv;
			if (nc > 100000000 || !(nv = realloc(v, nc * sizeof(*nv)))) {
				cli_err("%s:%lu: too many values", file, lineno);
				goto out;
			}
			v = nv;
			cap = nc;
		}
		sk_hashed_digest(key, norm, len, v[k++].d);
	}
	if (ferror(f)) {
		cli_err("%s: %s", file, strerror(errno));
		goto out;
	}
	if (!k) {
		cli_err("%s: no values", file);
		goto out;
	}
	qsort(v, k, sizeof(*v), cmp_dig);
	*n = 1;
	for (size_t i = 1; i < k; i++)
		if (memcmp(v[i].d, v[*n - 1].d, sizeof(v[i].d)))
			v[(*n)++] = v[i];
	*out = v;
	v = NULL;
	rc = EXIT_OK;
out:
	sodium_memzero(line, sizeof(line));
	sodium_memzero(norm, sizeof(norm));
	free(v);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* The Bloom filter over v: m bits and k positions for false-positive rate p. */
static sk_err put_bloom(sk_buf *b, const dig *v, size_t n, double p, uint64_t *mo, unsigned *ko)
{
	double mf = ceil(-(double)n * log(p) / (M_LN2 * M_LN2));
	uint64_t m = mf < 64 ? 64 : (uint64_t)mf;
	unsigned k = (unsigned)lround((double)m / (double)n * M_LN2);
	size_t bytes;
	unsigned char *bits;
	char *b64;
	sk_err rc;

	m = (m + 7) / 8 * 8;
	if (m > SK_HASHED_BLOOM_MAX_BITS)
		return SK_ELIMIT;
	k = k < 1 ? 1 : k > SK_HASHED_BLOOM_MAX_K ? SK_HASHED_BLOOM_MAX_K : k;
	bytes = (size_t)(m / 8);
	if (!(bits = calloc(bytes, 1)) || !(b64 = malloc(sodium_base64_ENCODED_LEN(bytes, B64)))) {
		free(bits);
		return SK_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		for (unsigned j = 0; j < k; j++) {
			uint64_t pos = sk_hashed_bloom_pos(v[i].d, j, m);
			bits[pos >> 3] |= (unsigned char)(1u << (pos & 7));
		}
	sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(bytes, B64), bits, bytes, B64);
	rc = sk_buf_printf(b, "\"bloom\":{\"m\":%llu,\"k\":%u,\"bits\":\"", (unsigned long long)m,
	                   k);
	rc = rc ? rc : sk_buf_puts(b, b64);
	rc = rc ? rc : sk_buf_puts(b, "\"}");
	free(bits);
	free(b64);
	*mo = m;
	*ko = k;
	return rc;
}

static void on_reject(void *ud, const char *where, const char *msg)
{
	(void)ud;
	cli_err("%s: %s", where, msg);
}

static int hash_main(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"collection", required_argument, NULL, 'c'}, {"type", required_argument, NULL, 't'},
	    {"input", required_argument, NULL, 'i'},      {"tlp", required_argument, NULL, 'T'},
	    {"name", required_argument, NULL, 'n'},       {"bloom", no_argument, NULL, 'b'},
	    {"fp-rate", required_argument, NULL, 'p'},    {NULL, 0, NULL, 0}};
	const char *coll = NULL, *input = NULL, *name = NULL, *own;
	sk_hashed_path path = SK_HP_NONE;
	sk_tlp tlp = SK_TLP_NONE;
	bool bloom = false;
	double fp = 0.001;
	sk_hashkeys ks = {0};
	const sk_hashkey *key;
	sk_collection c = {0};
	sk_store *st = NULL;
	sk_reader *rd = NULL;
	sk_import_opts io = {0};
	sk_import_stats stats = {0};
	sk_error err;
	sk_buf b;
	dig *v = NULL;
	size_t n = 0;
	char *kpath = NULL, now[SK_TS_STR_MAX], uuid[SK_UUID_LEN + 1], hex[65];
	uint64_t m = 0;
	unsigned k = 0;
	int opt, rc = EXIT_INPUT;

	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			coll = optarg;
			break;
		case 'i':
			input = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'b':
			bloom = true;
			break;
		case 't':
			if ((path = sk_hashed_path_parse(optarg)) == SK_HP_NONE)
				return cli_usage("indicator", "--type: one of email-addr:value, "
				                              "domain-name:value, "
				                              "user-account:user_id, "
				                              "x-schakel-phone:value");
			break;
		case 'T':
			if (!sk_tlp_parse(optarg, &tlp))
				return cli_usage("indicator", "--tlp: unknown level '%s'", optarg);
			break;
		case 'p': {
			char *end;
			fp = strtod(optarg, &end);
			if (*end || !(fp > 0 && fp < 0.5))
				return cli_usage("indicator",
				                 "--fp-rate needs a number in (0, 0.5)");
			bloom = true;
			break;
		}
		default:
			return cli_usage("indicator", "unknown option");
		}
	}
	if (optind != argc || !coll || !input || path == SK_HP_NONE)
		return cli_usage("indicator",
		                 "indicator hash --collection C --type PATH --input FILE "
		                 "[--tlp L] [--name N] [--bloom [--fp-rate P]]");
	sk_buf_init(&b, (size_t)1 << 30);
	if (!(st = cli_open_store(ctx, 0)))
		goto out;
	if (!(own = sk_store_own_id(st))) {
		cli_err("indicator: this node has no identity (schakel init)");
		goto out;
	}
	if (sk_store_collection_get(st, coll, &c, &err)) {
		cli_err("indicator: collection %s: %s", coll, err.msg);
		goto out;
	}
	if (!(kpath = sk_hashkey_path(ctx->db)) || sk_hashkeys_load(kpath, &ks, &err)) {
		cli_err("indicator: %s", kpath ? err.msg : "out of memory");
		goto out;
	}
	if (!(key = sk_hashkeys_current(&ks, own, coll))) {
		cli_err("indicator: collection %s has no hash key (schakel hashkey create %s)",
		        coll, coll);
		goto out;
	}
	if ((rc = read_values(input, path, key->key, &v, &n)))
		goto out;
	rc = EXIT_INPUT;
	if (!bloom && n > SK_HASHED_MAX_DIGESTS) {
		cli_err("indicator: %zu values: more than %u need --bloom", n,
		        SK_HASHED_MAX_DIGESTS);
		goto out;
	}
	sk_ts_format_ms(sk_ts_now_us(), now);
	sk_uuid_v4(uuid);
	if (sk_buf_printf(&b, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[%s,", uuid,
	                  sk_hashed_extension_definition()))
		goto oom;
	sk_uuid_v4(uuid);
	if (sk_buf_printf(
	        &b,
	        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
	        "\"created\":\"%s\",\"modified\":\"%s\",\"created_by_ref\":\"%s\","
	        "\"indicator_types\":[\"compromised\"],\"pattern_type\":\"stix\","
	        "\"pattern\":\"" SK_HASHED_PATTERN_PREFIX "key_id = '%s']\","
	        "\"valid_from\":\"%s\",\"name\":",
	        uuid, now, now, own, key->id, now) ||
	    sk_buf_put_json_string(&b, name ? name : "hashed values",
	                           strlen(name ? name : "hashed values")))
		goto oom;
	if (tlp != SK_TLP_NONE &&
	    sk_buf_printf(&b, ",\"object_marking_refs\":[\"%s\"]", sk_tlp_marking_id(tlp)))
		goto oom;
	if (sk_buf_printf(&b,
	                  ",\"extensions\":{\"" SK_HASHED_EXT_ID "\":{\"extension_type\":"
	                  "\"property-extension\",\"alg\":\"hmac-sha256\",\"key_id\":\"%s\","
	                  "\"path\":\"%s\",",
	                  key->id, sk_hashed_path_name(path)))
		goto oom;
	if (bloom) {
		sk_err brc = put_bloom(&b, v, n, fp, &m, &k);
		if (brc == SK_ELIMIT) {
			cli_err("indicator: a Bloom filter for %zu values at %g is too large", n,
			        fp);
			goto out;
		}
		if (brc)
			goto oom;
	} else {
		if (sk_buf_puts(&b, "\"digests\":["))
			goto oom;
		for (size_t i = 0; i < n; i++) {
			sodium_bin2hex(hex, sizeof(hex), v[i].d, sizeof(v[i].d));
			if (sk_buf_printf(&b, "%s\"%s\"", i ? "," : "", hex))
				goto oom;
		}
		if (sk_buf_putc(&b, ']'))
			goto oom;
	}
	if (sk_buf_puts(&b, "}}}]}"))
		goto oom;
	io.cid = c.cid;
	io.strict = true;
	io.on_reject = on_reject;
	io.max_element = b.len > SK_IMPORT_DEFAULT_MAX_ELEMENT / 2 ? b.len * 2 : 0;
	if (sk_reader_open_mem(b.data, b.len, "indicator hash", &rd, &err) ||
	    sk_import_reader(st, rd, &io, &stats, &err) || stats.rejected) {
		cli_err("indicator: %s", stats.rejected ? "refused" : err.msg);
		goto out;
	}
	printf("indicator--%s\n", uuid);
	if (bloom)
		fprintf(stderr,
		        "schakel: %zu values under key %s as a Bloom filter of %llu bits, k %u "
		        "(false positives about %.2g per lookup)\n",
		        n, key->id, (unsigned long long)m, k,
		        pow(1 - exp(-(double)k * (double)n / (double)m), k));
	else
		fprintf(stderr, "schakel: %zu values under key %s\n", n, key->id);
	rc = EXIT_OK;
	goto out;
oom:
	cli_err("indicator: out of memory (or larger than 1 GiB)");
out:
	sk_collection_clear(&c);
	sk_reader_close(rd);
	sk_buf_free(&b);
	free(v);
	sk_hashkeys_free(&ks);
	free(kpath);
	sk_store_close(st);
	return rc;
}

int cmd_indicator(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "hash"))
		return hash_main(ctx, argc, argv);
	return cli_usage("indicator", "indicator hash --collection C --type PATH --input FILE ...");
}
