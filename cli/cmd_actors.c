/*
 * cmd_actors.c - `schakel actors`: threat actors and intrusion sets with
 * their state attribution, sectors and ATT&CK use (intel.h).  The local
 * operator sees everything: the view is opened without a principal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "schakel/intel.h"
#include "schakel/policy.h"

static void print_countries(json_t *cs)
{
	size_t i;
	json_t *c;
	json_array_foreach(cs, i, c)
	{
		const char *code = json_string_value(json_object_get(c, "code"));
		printf("%s%s", i ? "," : "",
		       code ? code : json_string_value(json_object_get(c, "name")));
	}
}

static void print_list(json_t *r)
{
	size_t i, k;
	json_t *a, *s;
	printf("%-48s %-14s %-8s %-22s %5s %5s %5s  %s\n", "ID", "TYPE", "COUNTRY", "SECTORS",
	       "CAMP", "MALW", "TECH", "NAME");
	json_array_foreach(json_object_get(r, "actors"), i, a)
	{
		char sectors[256] = "";
		size_t n = 0;
		json_array_foreach(json_object_get(a, "sectors"), k, s)
		{
			n += (size_t)snprintf(sectors + n, sizeof(sectors) - n, "%s%s",
			                      k ? "," : "", json_string_value(s));
			if (n >= sizeof(sectors))
				break;
		}
		printf("%-48s %-14s ", json_string_value(json_object_get(a, "id")),
		       json_string_value(json_object_get(a, "type")));
		{
			char buf[64] = "";
			json_t *cs = json_object_get(a, "countries");
			size_t m = 0;
			json_array_foreach(cs, k, s)
			{
				const char *code = json_string_value(json_object_get(s, "code"));
				if (code)
					m += (size_t)snprintf(buf + m, sizeof(buf) - m, "%s%s",
					                      m ? "," : "", code);
				if (m >= sizeof(buf))
					break;
			}
			printf("%-8s ", *buf ? buf : "-");
		}
		printf("%-22s %5lld %5lld %5lld  %s\n", *sectors ? sectors : "-",
		       (long long)json_integer_value(json_object_get(a, "campaigns")),
		       (long long)json_integer_value(json_object_get(a, "malware")),
		       (long long)json_integer_value(json_object_get(a, "techniques")),
		       json_string_value(json_object_get(a, "name")));
	}
}

static void print_names(const char *label, json_t *arr)
{
	size_t i;
	json_t *e;
	if (!json_array_size(arr))
		return;
	printf("%s:", label);
	json_array_foreach(arr, i, e)
	{
		printf("%s %s", i ? "," : "", json_string_value(json_object_get(e, "name")));
	}
	printf("\n");
}

static void print_detail(json_t *r)
{
	size_t i, k;
	json_t *e, *t;
	printf("%s %s\n", json_string_value(json_object_get(r, "type")),
	       json_string_value(json_object_get(r, "name")));
	printf("id: %s\n", json_string_value(json_object_get(r, "id")));
	if (json_array_size(json_object_get(r, "aliases"))) {
		printf("aliases:");
		json_array_foreach(json_object_get(r, "aliases"), i, e)
		{
			printf("%s %s", i ? "," : "", json_string_value(e));
		}
		printf("\n");
	}
	if (json_object_get(r, "sponsor") && !json_is_null(json_object_get(r, "sponsor")))
		printf("sponsor: %s\n",
		       json_string_value(json_object_get(json_object_get(r, "sponsor"), "name")));
	printf("countries: ");
	print_countries(json_object_get(r, "countries"));
	printf("\nattribution:\n");
	json_array_foreach(json_object_get(r, "attribution"), i, e)
	{
		json_t *c = json_object_get(e, "confidence");
		printf("  %s --%s--> %s",
		       json_string_value(json_object_get(json_object_get(e, "from"), "name")),
		       json_string_value(json_object_get(e, "relationship_type")),
		       json_string_value(json_object_get(json_object_get(e, "to"), "name")));
		if (json_is_integer(c))
			printf(" (confidence %lld)", (long long)json_integer_value(c));
		printf("\n");
	}
	printf("sectors:");
	json_array_foreach(json_object_get(r, "sectors"), i, e)
	{
		printf(" %s", json_string_value(e));
	}
	printf("\n");
	print_names("campaigns", json_object_get(r, "campaigns"));
	print_names("malware", json_object_get(r, "malware"));
	print_names("tools", json_object_get(r, "tools"));
	print_names("targets", json_object_get(r, "targets"));
	printf("ATT&CK (%lld techniques used):\n",
	       (long long)json_integer_value(json_object_get(r, "techniques")));
	json_array_foreach(json_object_get(json_object_get(r, "matrix"), "tactics"), i, t)
	{
		bool any = false;
		json_array_foreach(json_object_get(t, "techniques"), k, e)
		{
			if (!json_is_true(json_object_get(e, "used")))
				continue;
			if (!any)
				printf("  %s:\n", json_string_value(json_object_get(t, "name")));
			any = true;
			printf("    %-10s %s\n",
			       json_string_value(json_object_get(e, "external_id"))
			           ? json_string_value(json_object_get(e, "external_id"))
			           : "",
			       json_string_value(json_object_get(e, "name")));
		}
	}
}

int cmd_actors(cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"country", required_argument, NULL, 'c'},
	    {"sector", required_argument, NULL, 's'},
	    {"q", required_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	sk_actor_filter f = {0};
	const char *show = NULL;
	bool as_json = false;
	sk_view *view = NULL;
	json_t *r = NULL;
	sk_store *st;
	sk_error err;
	sk_err rc;
	int c, code = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			f.country = optarg;
			break;
		case 's':
			f.sector = optarg;
			break;
		case 'q':
			f.q = optarg;
			break;
		case 'j':
			as_json = true;
			break;
		default:
			return cli_usage("actors", "unknown option");
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind], "show") || optind + 2 != argc)
			return cli_usage("actors", "expected: actors [OPTIONS] or actors show ID");
		show = argv[optind + 1];
	}
	st = cli_open_store(ctx, SK_STORE_READONLY);
	if (!st)
		return EXIT_INPUT;
	rc = sk_view_open(st, NULL, &view, &err);
	if (!rc)
		rc = sk_view_bind(view, &err);
	if (!rc)
		rc = show ? sk_intel_actor(st, show, &r, &err) : sk_intel_actors(st, &f, &r, &err);
	if (rc) {
		cli_err("%s", err.msg);
		code = rc == SK_EINVAL ? EXIT_USAGE : EXIT_INPUT;
	} else if (as_json) {
		char *s = json_dumps(r, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		if (s)
			printf("%s\n", s);
		free(s);
	} else if (show) {
		print_detail(r);
	} else {
		print_list(r);
	}
	json_decref(r);
	sk_view_free(view);
	sk_store_close(st);
	return code;
}
