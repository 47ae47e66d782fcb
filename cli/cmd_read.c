/*
 * cmd_read.c - the read-side commands: get, list, show, stats, export.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "schakel/decay.h"
#include "export_ids.h"
#include "schakel/file.h"
#include "schakel/timestamp.h"
#include "schakel/uuid.h"

#define MAX_TYPES 64

/* Split comma-separated --type values into types[]; false when over the cap. */
static bool add_types(char *arg, const char **types, size_t *n)
{
	for (char *save = NULL, *t = strtok_r(arg, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_TYPES)
			return false;
		types[(*n)++] = t;
	}
	return true;
}

/*
 * The filter options list and export share: --type (t), --collection (c),
 * --added-after (a).  Returns 1 if opt was one of them and is fine, 0 if opt
 * is not a filter option, or EXIT_USAGE after printing the problem.
 */
static int filter_opt(const char *cmd, int opt, sk_query *q, const char **types,
		      const char **coll)
{
	switch (opt) {
	case 't':
		if (!add_types(optarg, types, &q->ntypes))
			return cli_usage(cmd, "at most %d types", MAX_TYPES);
		return 1;
	case 'c':
		*coll = optarg;
		return 1;
	case 'a':
		if (!cli_parse_ts_us(optarg, &q->added_after))
			return cli_usage(cmd,
					 "--added-after: '%s' is not an RFC 3339 timestamp like "
					 "2024-01-31T12:00:00Z",
					 optarg);
		return 1;
	default:
		return 0;
	}
}

/* Resolve --collection into q->cid; prints the error. */
static bool resolve_collection(sk_store *st, const char *name, sk_query *q)
{
	sk_collection c;
	sk_error err;
	if (!name)
		return true;
	if (sk_store_collection_get(st, name, &c, &err)) {
		cli_err("%s", err.msg);
		return false;
	}
	q->cid = c.cid;
	sk_collection_clear(&c);
	return true;
}

/* --- get ---------------------------------------------------------------- */

struct get_state {
	size_t n;
	bool compact;
};

static int print_row_json(void *ud, const sk_row *r)
{
	struct get_state *gs = ud;
	gs->n++;
	if (gs->compact) {
		fwrite(r->json, 1, r->len, stdout);
		fputc('\n', stdout);
	} else {
		json_t *o = json_loadb(r->json, r->len, 0, NULL);
		if (o) {
			json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fputc('\n', stdout);
			json_decref(o);
		}
	}
	return 0;
}

int cmd_get(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all-versions", no_argument, NULL, 'a'},
	    {"compact", no_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	struct get_state gs = {0};
	bool all = false;
	sk_store *st;
	sk_error err;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'c')
			gs.compact = true;
		else
			return cli_usage("get", "unknown option");
	}
	if (optind + 1 != argc)
		return cli_usage("get", "expected exactly one object id");
	st = cli_open_store(ctx, SK_STORE_READONLY);
	if (!st)
		return EXIT_INPUT;
	if (sk_store_get(st, argv[optind], all, print_row_json, &gs, &err)) {
		cli_err("%s", err.msg);
		sk_store_close(st);
		return EXIT_INPUT;
	}
	sk_store_close(st);
	if (gs.n == 0) {
		cli_err("%s: no such object", argv[optind]);
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

/* --- list --------------------------------------------------------------- */

static void show_field(const char *k, const char *v);

/*
 * An indicator's score now (decay.h): "45 of base 60 (ip; trust 75, 1
 * sighting, 0 false-positive reports), alerting until TIME".
 */
static void show_score(sk_store *st, const char *id)
{
	const sk_decay_config *c = sk_decay_config_of(st);
	char line[400], until[SK_TS_STR_MAX];
	sk_decay_info d;
	sk_error err;

	if (sk_decay_get(st, id, 0, &d, &err))
		return;
	if (d.alert_until == SK_DECAY_NEVER)
		snprintf(until, sizeof(until), "%s", c->threshold ? "never decays below" : "");
	else
		sk_ts_format_us(d.alert_until, until);
	snprintf(line, sizeof(line),
		 "%.0f (base %d: %s, trust %d, %lld sightings, %lld false-positive reports)%s%s%s",
		 d.score, d.base, sk_decay_kind_name(d.kind), d.trust, (long long)d.sightings,
		 (long long)d.fp,
		 !c->threshold                       ? ""
		 : d.alert_until == SK_DECAY_NEVER ? "; alerting, "
		 : d.alerting                        ? "; alerting until "
						     : "; decayed below the threshold since ",
		 until, c->threshold ? "" : "; no decay.threshold set");
	show_field("score", line);
}

static const char *label_of(json_t *o)
{
	static const char *const keys[] = {"name",    "value",   "relationship_type",
					   "pattern", "content", "opinion",
					   "path",    "key",     "sighting_of_ref"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *s = json_string_value(json_object_get(o, keys[i]));
		if (s)
			return s;
	}
	return "";
}

struct list_state {
	bool json;
	size_t n;
};

static int list_row(void *ud, const sk_row *r)
{
	struct list_state *ls = ud;
	char da[SK_TS_STR_MAX];
	json_t *o;

	ls->n++;
	if (ls->json) {
		fwrite(r->json, 1, r->len, stdout);
		fputc('\n', stdout);
		return 0;
	}
	o = json_loadb(r->json, r->len, 0, NULL);
	sk_ts_format_us(r->date_added, da);
	{
		const char *mod = o ? json_string_value(json_object_get(o, "modified")) : NULL;
		if (!mod && o)
			mod = json_string_value(json_object_get(o, "created"));
		/* added, modified (the version), type, id, TLP, revoked, name */
		printf("%s  %-24s %-22s %-58s %-12s%s %.60s\n", da, mod ? mod : "-", r->type,
		       r->id, r->tlp ? sk_tlp_name(r->tlp) : "-", r->revoked ? " REVOKED" : "",
		       o ? label_of(o) : "");
	}
	json_decref(o);
	return 0;
}

int cmd_list(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"type", required_argument, NULL, 't'},	  {"collection", required_argument, NULL, 'c'},
	    {"added-after", required_argument, NULL, 'a'}, {"limit", required_argument, NULL, 'l'},
	    {"all-versions", no_argument, NULL, 'A'},	  {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const specs[] = {"2.0", "2.1"};
	const char *types[MAX_TYPES], *coll = NULL;
	struct list_state ls = {0};
	sk_query q;
	sk_store *st;
	sk_error err;
	int c, rc = EXIT_OK;

	sk_query_init(&q);
	q.types = types;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int f = filter_opt("list", c, &q, types, &coll);
		if (f == EXIT_USAGE)
			return f;
		if (f)
			continue;
		switch (c) {
		case 'l': {
			char *end;
			long long n = strtoll(optarg, &end, 10);
			if (*end || n < 1)
				return cli_usage("list", "--limit takes a positive number");
			q.limit = (size_t)n;
			break;
		}
		case 'A':
			q.vermode = SK_VER_ALL;
			q.specs = specs;
			q.nspecs = 2;
			break;
		case 'j':
			ls.json = true;
			break;
		default:
			return cli_usage("list", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("list", "unexpected argument '%s'", argv[optind]);
	st = cli_open_store(ctx, SK_STORE_READONLY);
	if (!st)
		return EXIT_INPUT;
	if (!resolve_collection(st, coll, &q))
		rc = EXIT_INPUT;
	else if (sk_store_query(st, &q, list_row, &ls, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	}
	sk_store_close(st);
	return rc;
}

/* --- show --------------------------------------------------------------- */

struct show_state {
	sk_store *st;
	json_t *obj;
	size_t nrel;
};

static int keep_obj(void *ud, const sk_row *r)
{
	json_t **o = ud;
	json_decref(*o);
	*o = json_loadb(r->json, r->len, 0, NULL);
	return 0;
}

/* Name of the latest version of id, or "" (caller frees). */
static char *name_of(sk_store *st, const char *id)
{
	json_t *o = NULL;
	char *out;
	sk_store_get(st, id, false, keep_obj, &o, NULL);
	out = strdup(o ? label_of(o) : "(not in store)");
	json_decref(o);
	return out;
}

static void show_field(const char *k, const char *v)
{
	if (v && *v)
		printf("  %-13s %s\n", k, v);
}

static void show_list(const char *k, json_t *arr)
{
	size_t i;
	json_t *e;
	char line[1024];
	size_t n = 0;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return;
	line[0] = '\0';
	json_array_foreach(arr, i, e)
	{
		const char *s = json_string_value(e);
		if (!s)
			continue;
		n += (size_t)snprintf(line + n, n < sizeof(line) ? sizeof(line) - n : 0, "%s%s",
				      i ? ", " : "", s);
		if (n >= sizeof(line))
			break;
	}
	show_field(k, line);
}

static void show_wrapped(const char *k, const char *text, size_t max)
{
	size_t len, col = 0;
	if (!text || !*text)
		return;
	len = strlen(text);
	printf("  %-13s ", k);
	for (size_t i = 0; i < len && i < max; i++) {
		char ch = text[i] == '\n' ? ' ' : text[i];
		if (col > 70 && ch == ' ') {
			printf("\n  %-13s ", "");
			col = 0;
			continue;
		}
		putchar(ch);
		col++;
	}
	if (len > max)
		fputs("...", stdout);
	putchar('\n');
}

static int show_rel(void *ud, const sk_row *rel, const char *rel_type, const char *other,
		    bool outgoing)
{
	struct show_state *ss = ud;
	char *name = name_of(ss->st, other);
	const char *sep = strstr(other, "--");
	int tlen = sep ? (int)(sep - other) : (int)strlen(other);

	if (ss->nrel++ == 0)
		printf("\nRelationships:\n");
	printf("  %s %-18s %-.*s  %s  [%s]\n", outgoing ? "->" : "<-", rel_type ? rel_type : "?",
	       tlen, other, name, other);
	(void)rel;
	free(name);
	return 0;
}

/* The properties the curated part of `show` prints; every other one follows it. */
static bool shown(const char *k)
{
	static const char *const keys[] = {
	    "type", "spec_version", "id", "name", "value", "relationship_type", "pattern",
	    "content", "opinion", "path", "key", "aliases", "indicator_types", "malware_types",
	    "threat_actor_types", "labels", "sectors", "country", "valid_from", "valid_until",
	    "first_seen", "last_seen", "created", "modified", "created_by_ref",
	    "object_marking_refs", "revoked", "confidence", "description", "external_references",
	    "object_refs", "sighting_of_ref", "where_sighted_refs", "observed_data_refs",
	    "count", NULL};
	for (int i = 0; keys[i]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

/* Every property the curated part left out, nothing hidden: scalars and lists as text. */
static void show_rest(json_t *o)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		char label[64];
		if (shown(k))
			continue;
		snprintf(label, sizeof(label), "%s", k);
		for (char *p = label; *p; p++)
			if (*p == '_')
				*p = ' ';
		if (json_is_string(v)) {
			show_wrapped(label, json_string_value(v), 100000);
		} else if (json_is_array(v) && json_array_size(v) &&
			   !json_is_object(json_array_get(v, 0)) &&
			   !json_is_array(json_array_get(v, 0))) {
			size_t i;
			json_t *e;
			bool all_str = true;
			json_array_foreach(v, i, e)
			{
				all_str = all_str && json_is_string(e);
			}
			if (all_str) {
				show_list(label, v);
				continue;
			}
			char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			show_wrapped(label, t ? t : "", 100000);
			free(t);
		} else {
			char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			show_wrapped(label, t ? t : "", 100000);
			free(t);
		}
	}
}

/* For a sighting: what was sighted, where, how often. */
static void show_sighting(sk_store *st, json_t *o)
{
	const char *of = json_string_value(json_object_get(o, "sighting_of_ref"));
	json_t *where = json_object_get(o, "where_sighted_refs"), *e;
	json_t *obs = json_object_get(o, "observed_data_refs");
	size_t i;
	if (!of)
		return;
	printf("\nSighting of:\n");
	{
		char *n = name_of(st, of);
		printf("  %s  [%s]\n", n, of);
		free(n);
	}
	if (json_is_integer(json_object_get(o, "count")))
		printf("  %-13s %lld\n", "count",
		       (long long)json_integer_value(json_object_get(o, "count")));
	json_array_foreach(where, i, e)
	{
		char *n = name_of(st, json_string_value(e));
		printf("  %-13s %s  [%s]\n", i ? "" : "seen by", n, json_string_value(e));
		free(n);
	}
	json_array_foreach(obs, i, e)
	{
		char *n = name_of(st, json_string_value(e));
		printf("  %-13s %s  [%s]\n", i ? "" : "observed", n, json_string_value(e));
		free(n);
	}
}

struct containers_state {
	size_t n;
};

static int show_container(void *ud, const sk_row *r)
{
	struct containers_state *cs = ud;
	json_t *o = json_loadb(r->json, r->len, 0, NULL);
	if (cs->n++ == 0)
		printf("\nIn:\n");
	printf("  %-10s %s  [%s]\n", r->type, o ? label_of(o) : "", r->id);
	json_decref(o);
	return 0;
}

int cmd_show(cli_ctx *ctx, int argc, char **argv)
{
	struct show_state ss = {0};
	sk_store *st;
	sk_error err;
	json_t *o = NULL;
	char *creator = NULL;
	int rc = EXIT_OK;
	const char *id;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("show", "expected exactly one object id");
	id = argv[1];
	st = cli_open_store(ctx, SK_STORE_READONLY);
	if (!st)
		return EXIT_INPUT;
	if (sk_store_get(st, id, false, keep_obj, &o, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
		goto out;
	}
	if (!o) {
		cli_err("%s: no such object", id);
		rc = EXIT_INPUT;
		goto out;
	}
	{
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *sv = json_string_value(json_object_get(o, "spec_version"));
		const char *cb = json_string_value(json_object_get(o, "created_by_ref"));
		json_t *marks = json_object_get(o, "object_marking_refs"), *e, *refs;
		char typeline[128];
		size_t i;
		sk_tlp tlp = SK_TLP_NONE;

		printf("%s\n", label_of(o));
		printf("  %-13s %s\n", "id", id);
		snprintf(typeline, sizeof(typeline), "%s (STIX %s)", type, sv ? sv : "2.0");
		show_field("type", typeline);
		show_list("aliases", json_object_get(o, "aliases"));
		show_list("types",
			  json_object_get(o, "indicator_types")	 ? json_object_get(o, "indicator_types")
			  : json_object_get(o, "malware_types") ? json_object_get(o, "malware_types")
								 : json_object_get(o, "threat_actor_types"));
		show_list("labels", json_object_get(o, "labels"));
		show_list("sectors", json_object_get(o, "sectors"));
		show_field("country", json_string_value(json_object_get(o, "country")));
		show_field("pattern", json_string_value(json_object_get(o, "pattern")));
		show_field("valid from", json_string_value(json_object_get(o, "valid_from")));
		show_field("valid until", json_string_value(json_object_get(o, "valid_until")));
		show_field("first seen", json_string_value(json_object_get(o, "first_seen")));
		show_field("last seen", json_string_value(json_object_get(o, "last_seen")));
		show_field("created", json_string_value(json_object_get(o, "created")));
		show_field("modified", json_string_value(json_object_get(o, "modified")));
		if (cb) {
			char line[400];
			creator = name_of(st, cb);
			snprintf(line, sizeof(line), "%s [%s]", creator, cb);
			show_field("created by", line);
		}
		json_array_foreach(marks, i, e)
		{
			sk_tlp t = sk_tlp_from_marking(json_string_value(e));
			if (t > tlp)
				tlp = t;
		}
		if (tlp)
			show_field("marking", sk_tlp_name(tlp));
		else if (json_array_size(marks))
			show_field("marking", "(non-TLP marking definitions)");
		if (json_is_true(json_object_get(o, "revoked")))
			show_field("revoked", "yes");
		{
			sk_sig_verdict verdict = SK_SIG_UNSIGNED;
			if (sk_store_signature(st, id, &verdict, &err) == SK_OK)
				show_field("signature", sk_sig_verdict_name(verdict));
		}
		if (json_is_integer(json_object_get(o, "confidence"))) {
			char conf[16];
			snprintf(conf, sizeof(conf), "%lld",
				 (long long)json_integer_value(json_object_get(o, "confidence")));
			show_field("confidence", conf);
		}
		if (!strncmp(id, "indicator--", 11))
			show_score(st, id);
		show_wrapped("description", json_string_value(json_object_get(o, "description")),
			     600);
		refs = json_object_get(o, "external_references");
		json_array_foreach(refs, i, e)
		{
			const char *src = json_string_value(json_object_get(e, "source_name"));
			const char *xid = json_string_value(json_object_get(e, "external_id"));
			const char *url = json_string_value(json_object_get(e, "url"));
			if (i >= 5) {
				printf("  %-13s (%zu more)\n", "", json_array_size(refs) - 5);
				break;
			}
			printf("  %-13s %s%s%s%s%s\n", i ? "" : "references", src ? src : "",
			       xid ? " " : "", xid ? xid : "", url ? " " : "", url ? url : "");
		}
		show_rest(o);
		show_sighting(st, o);
		refs = json_object_get(o, "object_refs");
		if (json_array_size(refs)) {
			printf("\nContains %zu objects:\n", json_array_size(refs));
			json_array_foreach(refs, i, e)
			{
				char *n = name_of(st, json_string_value(e));
				if (i >= 20) {
					printf("  ... %zu more\n", json_array_size(refs) - 20);
					free(n);
					break;
				}
				printf("  %s  [%s]\n", n, json_string_value(e));
				free(n);
			}
		}
	}
	{
		struct containers_state cs = {0};
		if (sk_store_containers(st, id, 50, show_container, &cs, &err)) {
			cli_err("%s", err.msg);
			rc = EXIT_INPUT;
		}
	}
	ss.st = st;
	ss.obj = o;
	if (sk_store_relations(st, id, show_rel, &ss, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	}
	if (ss.nrel == 0)
		printf("\nNo relationships.\n");
out:
	free(creator);
	json_decref(o);
	sk_store_close(st);
	return rc;
}

/* --- stats -------------------------------------------------------------- */

struct stats_state {
	const char *last;
	bool first, json;
	int64_t tot_obj, tot_ver;
};

static void stats_total(struct stats_state *ss)
{
	if (!ss->first && !ss->json)
		printf("  %-34s %10lld %10lld\n", "total", (long long)ss->tot_obj,
		       (long long)ss->tot_ver);
}

static int stats_row(void *ud, const sk_stat_row *r)
{
	struct stats_state *ss = ud;
	const char *group = r->collection ? r->collection : "";

	if (ss->json) {
		printf("{\"collection\":%s%s%s,\"type\":\"%s\",\"objects\":%lld,\"versions\":%lld}\n",
		       r->collection ? "\"" : "", r->collection ? r->collection : "null",
		       r->collection ? "\"" : "", r->type, (long long)r->objects,
		       (long long)r->versions);
		return 0;
	}
	if (ss->first || strcmp(ss->last, group) != 0) {
		stats_total(ss);
		if (r->collection)
			printf("\ncollection %s\n", r->collection);
		else
			printf("whole store\n");
		printf("  %-34s %10s %10s\n", "type", "objects", "versions");
		ss->first = false;
		ss->tot_obj = ss->tot_ver = 0;
	}
	free((void *)ss->last);
	ss->last = strdup(group);
	printf("  %-34s %10lld %10lld\n", r->type, (long long)r->objects, (long long)r->versions);
	ss->tot_obj += r->objects;
	ss->tot_ver += r->versions;
	return 0;
}

int cmd_stats(cli_ctx *ctx, int argc, char **argv)
{
	struct stats_state ss = {.last = NULL, .first = true};
	sk_store *st;
	sk_error err;
	char *id = NULL;
	int rc = EXIT_OK;

	if (argc == 2 && !strcmp(argv[1], "--json"))
		ss.json = true;
	else if (argc != 1)
		return cli_usage("stats", "unexpected argument '%s'", argv[1]);
	st = cli_open_store(ctx, SK_STORE_READONLY);
	if (!st)
		return EXIT_INPUT;
	if (!ss.json && sk_store_node_id(st, &id, NULL) == SK_OK) {
		char *name = name_of(st, id);
		printf("node %s [%s]\n\n", name, id);
		free(name);
	}
	if (sk_store_stats(st, stats_row, &ss, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	}
	stats_total(&ss);
	free((void *)ss.last);
	free(id);
	sk_store_close(st);
	return rc;
}

/* --- export ------------------------------------------------------------- */

struct export_state {
	FILE *out;
	size_t n;
};

static int export_row(void *ud, const sk_row *r)
{
	struct export_state *es = ud;
	fputs(es->n++ ? ",\n" : "\n", es->out);
	fwrite(r->json, 1, r->len, es->out);
	return 0;
}

int cmd_export(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"type", required_argument, NULL, 't'},	  {"collection", required_argument, NULL, 'c'},
	    {"added-after", required_argument, NULL, 'a'}, {"latest", no_argument, NULL, 'L'},
	    {"output", required_argument, NULL, 'o'},	  {"for", required_argument, NULL, 'F'},
	    {"format", required_argument, NULL, 'f'},	  {"sid-base", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const specs[] = {"2.0", "2.1"};
	const char *types[MAX_TYPES], *coll = NULL, *outpath = NULL, *who = NULL;
	const char *format = "stix";
	unsigned long sid_base = 9700000;
	struct export_state es = {0};
	char uuid[SK_UUID_LEN + 1];
	sk_query q;
	sk_store *st;
	sk_error err;
	int c, rc = EXIT_OK;

	sk_query_init(&q);
	q.types = types;
	q.vermode = SK_VER_ALL;
	q.specs = specs;
	q.nspecs = 2;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		int f = filter_opt("export", c, &q, types, &coll);
		if (f == EXIT_USAGE)
			return f;
		if (f)
			continue;
		switch (c) {
		case 'L':
			q.vermode = SK_VER_LAST;
			q.specs = NULL;
			q.nspecs = 0;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'F':
			who = optarg;
			break;
		case 'f':
			format = optarg;
			if (strcmp(format, "stix") && strcmp(format, "zeek-intel") &&
			    strcmp(format, "suricata"))
				return cli_usage("export", "unknown format '%s' (stix, zeek-intel, suricata)",
				                 format);
			break;
		case 's': {
			char *end;
			sid_base = strtoul(optarg, &end, 10);
			if (*end || !*optarg || sid_base < 1 || sid_base > 4000000000ul)
				return cli_usage("export", "--sid-base needs a number from 1 to 4000000000");
			break;
		}
		default:
			return cli_usage("export", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("export", "unexpected argument '%s'", argv[optind]);
	if (!strcmp(format, "suricata") && !outpath)
		return cli_usage("export", "--format suricata needs --output DIR");
	/* --for is an exit to a partner: it writes its audit entry */
	st = cli_open_store(ctx, who ? 0 : SK_STORE_READONLY);
	if (!st)
		return EXIT_INPUT;
	if (!resolve_collection(st, coll, &q)) {
		sk_store_close(st);
		return EXIT_INPUT;
	}
	if (who) { /* before any output file exists */
		sk_principal p;
		if (cli_resolve_for(st, who, &p)) {
			sk_store_close(st);
			return EXIT_INPUT;
		}
	}
	if (strcmp(format, "stix")) {
		rc = cli_export_ids(st, who, &q, format, outpath, (unsigned)sid_base);
		sk_store_close(st);
		return rc;
	}
	es.out = outpath ? sk_fopen_private(outpath, false) : stdout; /* RED content: 0600 */
	if (!es.out) {
		cli_err("%s: cannot write: %m", outpath);
		sk_store_close(st);
		return EXIT_INPUT;
	}
	sk_uuid_v4(uuid);
	fprintf(es.out, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", uuid);
	if (who)
		rc = cli_export_for(st, who, &q, export_row, &es);
	else if (sk_store_query(st, &q, export_row, &es, &err)) {
		cli_err("%s", err.msg);
		rc = EXIT_INPUT;
	}
	fputs("\n]}\n", es.out);
	if (fflush(es.out) != 0 || ferror(es.out)) {
		cli_err("%s: write error", outpath ? outpath : "<stdout>");
		rc = EXIT_INPUT;
	}
	if (outpath) {
		fclose(es.out);
		if (rc != EXIT_OK)
			unlink(outpath); /* no half-written export is left to be sent on */
	}
	if (rc == EXIT_OK)
		fprintf(stderr, "exported %zu object versions\n", es.n);
	sk_store_close(st);
	return rc;
}
