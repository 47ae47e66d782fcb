/*
 * coop_netout.c - the network report (coop.h, coop_net.c) as CSV, one row
 * per node that sent a verified summary, and as one self-contained HTML
 * page for evaluators (tables only; no script, no external request).
 */
#include "coop_int.h"

#include <stdio.h>
#include <string.h>

static const json_t *at(const json_t *o, const char *a, const char *b)
{
	return json_object_get(json_object_get(o, a), b);
}

/* A node's log sources or gaps as one CSV field. */
static void cap_field(sk_buf *b, const json_t *cap, bool gaps)
{
	sk_buf t;
	sk_buf_init(&t, 16384);
	co_cap_list(&t, cap, gaps);
	co_csv_field(b, t.len ? t.data : "");
	sk_buf_free(&t);
}

sk_err sk_coop_network_csv(const json_t *rep, sk_buf *b, sk_error *err)
{
	size_t i;
	json_t *n;
	sk_buf_puts(b, "node,identity,summaries,objects_received_from_hub,received_relayed,"
	               "keyed_sightings,time_to_share_median,last_hop_median,availability_pct,"
	               "indicators_matchable,indicators_cannot_match,log_sources,"
	               "indicators_without_source,gaps\r\n");
	json_array_foreach(json_object_get(rep, "nodes"), i, n)
	{
		co_csv_field(b, json_string_value(json_object_get(n, "node")));
		sk_buf_putc(b, ',');
		co_csv_field(b, json_string_value(json_object_get(n, "identity")));
		co_csv_num(b, json_object_get(n, "summaries"));
		co_csv_num(b, json_object_get(n, "objects_received_from_hub"));
		co_csv_num(b, json_object_get(n, "received_relayed"));
		co_csv_num(b, json_object_get(n, "keyed_sightings"));
		co_csv_num(b, at(n, "time_to_share_s", "median"));
		co_csv_num(b, at(n, "last_hop_s", "median"));
		co_csv_num(b, at(n, "link", "availability_pct"));
		co_csv_num(b, at(n, "capacity", "indicators_matchable"));
		co_csv_num(b, at(n, "capacity", "indicators_cannot_match"));
		sk_buf_putc(b, ',');
		cap_field(b, json_object_get(n, "capacity"), false);
		co_csv_num(b, at(n, "capacity", "indicators_without_source"));
		sk_buf_putc(b, ',');
		cap_field(b, json_object_get(n, "capacity"), true);
		sk_buf_puts(b, "\r\n");
	}
	return b->data ? SK_OK : sk_error_set(err, SK_ENOMEM, "out of memory");
}

static void cell(sk_buf *b, const json_t *v)
{
	sk_buf_puts(b, "<td>");
	if (json_is_string(v))
		co_esc(b, json_string_value(v));
	else if (json_is_integer(v))
		sk_buf_printf(b, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		sk_buf_printf(b, "%.1f", json_real_value(v));
	else
		sk_buf_puts(b, "&ndash;");
	sk_buf_puts(b, "</td>");
}

/* A table of rows (objects) with the given keys (NULL-terminated) and headings. */
static void table(sk_buf *b, const char *title, const json_t *rows, const char *const *keys,
                  const char *const *heads)
{
	size_t i;
	json_t *r;
	sk_buf_printf(b, "<h2>%s</h2>\n", title);
	if (!json_array_size(rows)) {
		sk_buf_puts(b, "<p>None.</p>\n");
		return;
	}
	sk_buf_puts(b, "<table><tr>");
	for (size_t k = 0; heads[k]; k++)
		sk_buf_printf(b, "<th>%s</th>", heads[k]);
	sk_buf_puts(b, "</tr>\n");
	json_array_foreach(rows, i, r)
	{
		sk_buf_puts(b, "<tr>");
		for (size_t k = 0; keys[k]; k++) {
			const char *dot = strchr(keys[k], '.');
			char a[64];
			if (!strcmp(keys[k], "capacity.log_sources") ||
			    !strcmp(keys[k], "capacity.gaps")) {
				sk_buf t;
				sk_buf_init(&t, 16384);
				co_cap_list(&t, json_object_get(r, "capacity"), keys[k][9] == 'g');
				sk_buf_puts(b, "<td>");
				co_esc(b, t.len ? t.data : "none");
				sk_buf_puts(b, "</td>");
				sk_buf_free(&t);
			} else if (dot && (size_t)(dot - keys[k]) < sizeof(a)) {
				memcpy(a, keys[k], (size_t)(dot - keys[k]));
				a[dot - keys[k]] = '\0';
				cell(b, at(r, a, dot + 1));
			} else {
				cell(b, json_object_get(r, keys[k]));
			}
		}
		sk_buf_puts(b, "</tr>\n");
	}
	sk_buf_puts(b, "</table>\n");
}

sk_err sk_coop_network_html(const json_t *rep, sk_buf *b, sk_error *err)
{
	static const char *const kn[] = {"node",
	                                 "summaries",
	                                 "objects_received_from_hub",
	                                 "received_relayed",
	                                 "keyed_sightings",
	                                 "time_to_share_s.median",
	                                 "last_hop_s.median",
	                                 "link.availability_pct",
	                                 "capacity.indicators_matchable",
	                                 "capacity.indicators_cannot_match",
	                                 "capacity.log_sources",
	                                 "capacity.indicators_without_source",
	                                 "capacity.gaps",
	                                 NULL};
	static const char *const hn[] = {"Node",
	                                 "Summaries",
	                                 "Received from the hub",
	                                 "of which relayed",
	                                 "Keyed sightings",
	                                 "Time to share (median s)",
	                                 "Last hop (median s)",
	                                 "Link availability %",
	                                 "Indicators matchable",
	                                 "Cannot match",
	                                 "Log sources",
	                                 "No log source for",
	                                 "Gaps (object type, indicators)",
	                                 NULL};
	static const char *const kp[] = {"producer", "detected_by", "sightings", NULL};
	static const char *const hp[] = {"Knowledge of", "protected", "Sightings", NULL};
	static const char *const ks[] = {"producer", "sector", "sightings", NULL};
	static const char *const hs[] = {"Knowledge of", "protected sector", "Sightings", NULL};
	static const char *const kh[] = {"node",
	                                 "time_to_share_s.median",
	                                 "time_to_share_s.p90",
	                                 "last_hop_s.median",
	                                 "received_relayed",
	                                 NULL};
	static const char *const hh[] = {
	    "Node", "Time to share (median s)", "p90 s", "Last hop (median s)", "Relayed", NULL};
	static const char *const km[] = {"node", "identity", NULL};
	static const char *const hm[] = {"Node", "Identity", NULL};
	static const char *const ku[] = {"node", "summary_ref", "verdict", NULL};
	static const char *const hu[] = {"Node", "Summary", "Signature", NULL};
	static const char *const kr[] = {"node", "objects_sent", NULL};
	static const char *const hr[] = {"Node", "Objects sent to it", NULL};
	static const char *const ka[] = {"sector", "country", "sightings", NULL};
	static const char *const ha[] = {"Sector", "Country", "Sightings", NULL};
	const json_t *s = json_object_get(rep, "sightings");
	size_t i;
	json_t *v;

	sk_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	               "<title>Cooperation across the network</title><style>body{font-family:"
	               "sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
	               "td,th{border:1px solid #999;padding:.2em .5em;text-align:left}"
	               ".note{background:#fff6d5;padding:.5em 1em}</style></head><body>\n"
	               "<h1>Cooperation across the network</h1>\n<p>Period: ");
	co_esc(b, json_string_value(at(rep, "period", "since")));
	sk_buf_puts(b, " &ndash; ");
	co_esc(b, json_string_value(at(rep, "period", "until")));
	sk_buf_printf(b,
	              ". Sightings counted once: <b>%lld</b> distinct keyed sightings "
	              "(%lld reported, %lld duplicates removed) and %lld unkeyed ones that could "
	              "not be de-duplicated; network total %lld.</p>\n",
	              (long long)json_integer_value(json_object_get(s, "distinct")),
	              (long long)json_integer_value(json_object_get(s, "keyed_reported")),
	              (long long)json_integer_value(json_object_get(s, "duplicates_removed")),
	              (long long)json_integer_value(json_object_get(s, "unkeyed_not_deduplicated")),
	              (long long)json_integer_value(json_object_get(s, "network_total")));
	table(b, "Who protects whom", json_object_get(rep, "protection"), kp, hp);
	table(b, "Who protects which sector", json_object_get(rep, "protection_by_sector"), ks, hs);
	table(b, "Where the chain is weakest: slowest hops", at(rep, "chain", "slowest_hops"), kh,
	      hh);
	table(b, "Nodes that never report back", at(rep, "chain", "never_report_back"), kr, hr);
	table(b, "Nodes", json_object_get(rep, "nodes"), kn, hn);
	table(b, "Missing: no summary in the period", json_object_get(rep, "missing"), km, hm);
	table(b, "Unverified summaries (left out of every figure)",
	      json_object_get(rep, "unverified"), ku, hu);
	table(b, "Anonymous sightings by sector and country",
	      json_object_get(rep, "anonymous_sightings"), ka, ha);
	sk_buf_puts(b, "<h2>What this report cannot know</h2><div class=\"note\"><ul>");
	json_array_foreach(json_object_get(rep, "cannot_know"), i, v)
	{
		sk_buf_puts(b, "<li>");
		co_esc(b, json_string_value(v));
		sk_buf_puts(b, "</li>");
	}
	sk_buf_puts(b, "</ul></div>\n</body></html>\n");
	return b->data ? SK_OK : sk_error_set(err, SK_ENOMEM, "out of memory");
}
