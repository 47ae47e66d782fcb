/*
 * coop_out.c - the cooperation report (coop.h) as CSV, one row per
 * partner, and as one self-contained HTML page for evaluators: tables,
 * inline SVG bar charts (no script, no external request) and the list of
 * what the node cannot know.
 */
#include "coop_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void co_csv_field(sk_buf *b, const char *s)
{
	bool q = s && strpbrk(s, ",\"\r\n");
	if (!s)
		return;
	if (!q) {
		sk_buf_puts(b, s);
		return;
	}
	sk_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			sk_buf_putc(b, '"');
		sk_buf_putc(b, *s);
	}
	sk_buf_putc(b, '"');
}

void co_csv_num(sk_buf *b, const json_t *v)
{
	if (json_is_integer(v))
		sk_buf_printf(b, ",%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		sk_buf_printf(b, ",%.3f", json_real_value(v));
	else
		sk_buf_putc(b, ',');
}

static const char *const csv_ints[] = {"objects_received",
                                       "objects_sent",
                                       "objects_sent_unlisted",
                                       "sightings_received",
                                       "sightings_sent",
                                       "opinions_received",
                                       "opinions_sent",
                                       "detections_enabled",
                                       "received_from_producer",
                                       "received_relayed",
                                       NULL};
static const char *const csv_dists[] = {"time_to_share_s", "last_hop_s", "lead_time_s",
                                        "feedback_lead_s", NULL};

sk_err sk_coop_csv(const json_t *rep, sk_buf *b, sk_error *err)
{
	size_t i;
	json_t *p;
	sk_buf_puts(b, "partner,identity,country");
	for (i = 0; csv_ints[i]; i++)
		sk_buf_printf(b, ",%s", csv_ints[i]);
	for (i = 0; csv_dists[i]; i++)
		sk_buf_printf(b, ",%s_n,%s_median,%s_p90,%s_max", csv_dists[i], csv_dists[i],
		              csv_dists[i], csv_dists[i]);
	sk_buf_puts(b, ",sync_attempts,sync_attempts_failed,availability_pct\r\n");
	json_array_foreach(json_object_get(rep, "partners"), i, p)
	{
		co_csv_field(b, json_string_value(json_object_get(p, "partner")));
		sk_buf_putc(b, ',');
		co_csv_field(b, json_string_value(json_object_get(p, "identity")));
		sk_buf_putc(b, ',');
		co_csv_field(b, json_string_value(json_object_get(p, "country")));
		for (size_t k = 0; csv_ints[k]; k++)
			co_csv_num(b, json_object_get(p, csv_ints[k]));
		for (size_t k = 0; csv_dists[k]; k++) {
			json_t *d = json_object_get(p, csv_dists[k]);
			co_csv_num(b, json_object_get(d, "n"));
			co_csv_num(b, json_object_get(d, "median"));
			co_csv_num(b, json_object_get(d, "p90"));
			co_csv_num(b, json_object_get(d, "max"));
		}
		{ /* a peer's availability over the period; empty for a partner that is no peer */
			json_t *a = json_object_get(json_object_get(p, "sync"), "period");
			co_csv_num(b, json_object_get(a, "attempts"));
			co_csv_num(b, json_object_get(a, "attempts_failed"));
			co_csv_num(b, json_object_get(a, "availability_pct"));
		}
		sk_buf_puts(b, "\r\n");
	}
	return b->data ? SK_OK : sk_error_set(err, SK_ENOMEM, "out of memory");
}

void co_cap_list(sk_buf *b, const json_t *cap, bool gaps)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(cap, gaps ? "gaps" : "log_sources"), i, v)
	{
		if (gaps)
			sk_buf_printf(
			    b, "%s%s %lld", i ? "; " : "",
			    json_string_value(json_object_get(v, "object_type")),
			    (long long)json_integer_value(json_object_get(v, "indicators")));
		else
			sk_buf_printf(b, "%s%s", i ? " " : "",
			              json_string_value(json_object_get(v, "kind")));
	}
}

/* --- HTML ------------------------------------------------------------------------------------ */

void co_esc(sk_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			sk_buf_puts(b, "&lt;");
			break;
		case '>':
			sk_buf_puts(b, "&gt;");
			break;
		case '&':
			sk_buf_puts(b, "&amp;");
			break;
		case '"':
			sk_buf_puts(b, "&quot;");
			break;
		case '\'':
			sk_buf_puts(b, "&#39;");
			break;
		default:
			sk_buf_putc(b, *s);
		}
	}
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static double numv(const json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : 0;
}

static void dur_s(sk_buf *b, double s);

/* A duration for people: seconds, minutes, hours or days; a dash for none. */
static void dur(sk_buf *b, const json_t *v)
{
	if (!json_is_number(v))
		sk_buf_puts(b, "&ndash;");
	else
		dur_s(b, numv(v));
}

static void dur_s(sk_buf *b, double s)
{
	double a = fabs(s);
	if (a < 120)
		sk_buf_printf(b, "%.1f s", s);
	else if (a < 7200)
		sk_buf_printf(b, "%.1f min", s / 60);
	else if (a < 172800)
		sk_buf_printf(b, "%.1f h", s / 3600);
	else
		sk_buf_printf(b, "%.1f d", s / 86400);
}

typedef struct bar {
	const char *label;
	double v[2];
} bar;

/*
 * A horizontal bar chart with one or two series per row, scaled to the
 * largest value; values below zero are drawn as zero (and printed as they are).
 */
static void chart(sk_buf *b, const char *title, const char *s0, const char *s1, const bar *r,
                  size_t n, bool seconds)
{
	double max = 0;
	int rowh = s1 ? 26 : 18, h = 30 + (int)n * rowh;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < (s1 ? 2 : 1); k++)
			if (r[i].v[k] > max)
				max = r[i].v[k];
	sk_buf_puts(b, "<figure><figcaption>");
	co_esc(b, title);
	sk_buf_printf(b,
	              "</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\""
	              " height=\"%d\" role=\"img\">",
	              h);
	sk_buf_printf(b,
	              "<rect x=\"200\" y=\"4\" width=\"10\" height=\"10\" class=\"s0\"/>"
	              "<text x=\"214\" y=\"13\">%s</text>",
	              s0);
	if (s1)
		sk_buf_printf(b,
		              "<rect x=\"360\" y=\"4\" width=\"10\" height=\"10\" class=\"s1\"/>"
		              "<text x=\"374\" y=\"13\">%s</text>",
		              s1);
	for (size_t i = 0; i < n; i++) {
		int y = 24 + (int)i * rowh;
		sk_buf_printf(b, "<text x=\"195\" y=\"%d\" text-anchor=\"end\">", y + 11);
		co_esc(b, r[i].label);
		sk_buf_puts(b, "</text>");
		for (int k = 0; k < (s1 ? 2 : 1); k++) {
			double w = max > 0 && r[i].v[k] > 0 ? r[i].v[k] / max * 420 : 0;
			sk_buf_printf(b,
			              "<rect x=\"200\" y=\"%d\" width=\"%.1f\" height=\"10\" "
			              "class=\"s%d\"/><text x=\"%.1f\" y=\"%d\">",
			              y + k * 11, w, k, 204 + w, y + k * 11 + 9);
			if (seconds)
				dur_s(b, r[i].v[k]);
			else
				sk_buf_printf(b, "%.0f", r[i].v[k]);
			sk_buf_puts(b, "</text>");
		}
	}
	sk_buf_puts(b, "</svg></figure>\n");
}

static const char style[] =
    "body{font:15px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;"
    "color:#1b1b1b}table{border-collapse:collapse;margin:1em 0}th,td{border-bottom:1px solid "
    "#ccc;padding:.25em .6em;text-align:right}th:first-child,td:first-child{text-align:left}"
    "svg text{font:12px system-ui,sans-serif}.s0{fill:#2a6fb0}.s1{fill:#e08a2c}"
    "figure{margin:1.5em 0}figcaption{font-weight:600}.note{background:#fff6e0;padding:.6em "
    "1em;border-left:4px solid #e0a030}";

static void partner_table(sk_buf *b, const json_t *parts)
{
	size_t i;
	json_t *p;
	sk_buf_puts(b, "<table><tr><th>Partner</th><th>Objects received</th><th>Objects "
	               "sent</th><th>Sightings received</th><th>Sightings sent</th><th>Opinions "
	               "in/out</th><th>Time to share (median / p90 / max)</th><th>Detections "
	               "enabled</th></tr>\n");
	json_array_foreach(parts, i, p)
	{
		json_t *t = json_object_get(p, "time_to_share_s");
		sk_buf_puts(b, "<tr><td>");
		co_esc(b, str(p, "partner"));
		sk_buf_printf(b,
		              "</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td>"
		              "<td>%lld / %lld</td><td>",
		              (long long)numv(json_object_get(p, "objects_received")),
		              (long long)numv(json_object_get(p, "objects_sent")),
		              (long long)numv(json_object_get(p, "sightings_received")),
		              (long long)numv(json_object_get(p, "sightings_sent")),
		              (long long)numv(json_object_get(p, "opinions_received")),
		              (long long)numv(json_object_get(p, "opinions_sent")));
		dur(b, json_object_get(t, "median"));
		sk_buf_puts(b, " / ");
		dur(b, json_object_get(t, "p90"));
		sk_buf_puts(b, " / ");
		dur(b, json_object_get(t, "max"));
		sk_buf_printf(b, "</td><td>%lld</td></tr>\n",
		              (long long)numv(json_object_get(p, "detections_enabled")));
	}
	sk_buf_puts(b, "</table>\n");
}

static void sectors_table(sk_buf *b, const json_t *secs)
{
	size_t i;
	json_t *s;
	sk_buf_puts(b, "<h2>Sectors: whose knowledge protected them</h2>\n<table><tr><th>Sector"
	               "</th><th>Sightings</th><th>Protected by (sightings)</th><th>Feedback "
	               "lead (median)</th></tr>\n");
	json_array_foreach(secs, i, s)
	{
		const char *k;
		json_t *v;
		bool first = true;
		sk_buf_puts(b, "<tr><td>");
		co_esc(b, str(s, "sector"));
		sk_buf_printf(b, "</td><td>%lld</td><td>",
		              (long long)numv(json_object_get(s, "sightings")));
		json_object_foreach(json_object_get(s, "protected_by"), k, v)
		{
			sk_buf_puts(b, first ? "" : ", ");
			co_esc(b, k);
			sk_buf_printf(b, " (%lld)", (long long)json_integer_value(v));
			first = false;
		}
		sk_buf_puts(b, "</td><td>");
		dur(b, json_object_get(json_object_get(s, "feedback_lead_s"), "median"));
		sk_buf_puts(b, "</td></tr>\n");
	}
	sk_buf_puts(b, "</table>\n");
}

/* This node's capacity: what it can evaluate, the log sources it reads, the gaps. */
static void capacity(sk_buf *b, const json_t *cap)
{
	size_t i;
	json_t *v;
	if (!cap)
		return;
	sk_buf_printf(b,
	              "<h2>This node's capacity</h2><p>Indicators it can match (STIX patterns): "
	              "%lld; in other pattern languages: %lld; revoked: %lld.  Indicators none "
	              "of whose object types comes from a log source read in the period: "
	              "<b>%lld</b>.</p>\n<table><tr><th>Log source</th><th>First read</th>"
	              "<th>Last read</th><th>Records (all time)</th><th>In the period</th>"
	              "<th>Object types</th></tr>\n",
	              (long long)numv(json_object_get(cap, "indicators_matchable")),
	              (long long)numv(json_object_get(cap, "indicators_cannot_match")),
	              (long long)numv(json_object_get(cap, "indicators_revoked")),
	              (long long)numv(json_object_get(cap, "indicators_without_source")));
	json_array_foreach(json_object_get(cap, "log_sources"), i, v)
	{
		json_t *t;
		size_t j;
		sk_buf_puts(b, "<tr><td>");
		co_esc(b, str(v, "kind"));
		sk_buf_puts(b, "</td><td>");
		co_esc(b, str(v, "first_seen"));
		sk_buf_puts(b, "</td><td>");
		co_esc(b, str(v, "last_seen"));
		sk_buf_printf(b, "</td><td>%lld</td><td>%s</td><td>",
		              (long long)numv(json_object_get(v, "records")),
		              json_is_true(json_object_get(v, "in_period")) ? "yes" : "no");
		json_array_foreach(json_object_get(v, "object_types"), j, t)
		{
			sk_buf_puts(b, j ? ", " : "");
			co_esc(b, json_string_value(t));
		}
		sk_buf_puts(b, "</td></tr>\n");
	}
	sk_buf_puts(b, "</table>\n<p>Indicators received that no log source read here can "
	               "match (by object type): ");
	{
		sk_buf g;
		sk_buf_init(&g, 16384);
		co_cap_list(&g, cap, true);
		co_esc(b, g.len ? g.data : "none");
		sk_buf_free(&g);
	}
	sk_buf_puts(b, ".</p>\n");
}

static void rest(sk_buf *b, const json_t *rep)
{
	size_t i;
	json_t *v;
	sk_buf_puts(b, "<h2>Anonymous sightings by sector and country</h2><p>Groups of fewer "
	               "than three contributors are merged into &ldquo;other&rdquo;.</p><table>"
	               "<tr><th>Sector</th><th>Country</th><th>Sightings</th></tr>\n");
	json_array_foreach(json_object_get(rep, "anonymous_sightings"), i, v)
	{
		sk_buf_puts(b, "<tr><td>");
		co_esc(b, str(v, "sector"));
		sk_buf_puts(b, "</td><td>");
		co_esc(b, str(v, "country"));
		sk_buf_printf(b, "</td><td>%lld</td></tr>\n",
		              (long long)numv(json_object_get(v, "sightings")));
	}
	sk_buf_puts(b,
	            "</table>\n<h2>Reach of reports and groupings</h2><table><tr><th>Report"
	            "</th><th>Recipients</th><th>Time to 50 %</th><th>Time to 100 %</th></tr>\n");
	json_array_foreach(json_object_get(rep, "reach"), i, v)
	{
		sk_buf_puts(b, "<tr><td>");
		co_esc(b, json_object_get(v, "name") ? str(v, "name") : str(v, "id"));
		sk_buf_printf(b, "</td><td>%lld</td><td>",
		              (long long)numv(json_object_get(v, "recipients")));
		dur(b, json_object_get(v, "time_to_50pct_s"));
		sk_buf_puts(b, "</td><td>");
		dur(b, json_object_get(v, "time_to_100pct_s"));
		sk_buf_puts(b, "</td></tr>\n");
	}
	sk_buf_puts(b, "</table>\n<h2>Reach of collections</h2><table><tr><th>Collection</th>"
	               "<th>Versions added</th><th>Received by (versions)</th></tr>\n");
	json_array_foreach(json_object_get(rep, "collections"), i, v)
	{
		const char *k;
		json_t *n;
		bool first = true;
		sk_buf_puts(b, "<tr><td>");
		co_esc(b, str(v, "collection"));
		sk_buf_printf(b, "</td><td>%lld</td><td>",
		              (long long)numv(json_object_get(v, "versions_added")));
		json_object_foreach(json_object_get(v, "received_by"), k, n)
		{
			sk_buf_puts(b, first ? "" : ", ");
			co_esc(b, k);
			sk_buf_printf(b, " (%lld)", (long long)json_integer_value(n));
			first = false;
		}
		sk_buf_puts(b, "</td></tr>\n");
	}
	sk_buf_puts(b, "</table>\n<h2>Peer availability over the period</h2><table><tr><th>Peer"
	               "</th><th>Sync runs</th><th>Failed</th><th>Available</th><th>Errors</th>"
	               "</tr>\n");
	json_array_foreach(json_object_get(rep, "partners"), i, v)
	{
		json_t *a = json_object_get(json_object_get(v, "sync"), "period"), *e;
		size_t j;
		if (!a)
			continue;
		sk_buf_puts(b, "<tr><td>");
		co_esc(b, str(v, "partner"));
		sk_buf_printf(b, "</td><td>%lld</td><td>%lld</td><td>",
		              (long long)numv(json_object_get(a, "attempts")),
		              (long long)numv(json_object_get(a, "attempts_failed")));
		if (json_is_number(json_object_get(a, "availability_pct")))
			sk_buf_printf(b, "%.1f %%",
			              json_number_value(json_object_get(a, "availability_pct")));
		else
			sk_buf_puts(b, "no run");
		sk_buf_puts(b, "</td><td>");
		json_array_foreach(json_object_get(a, "errors"), j, e)
		{
			sk_buf_puts(b, j ? "; " : "");
			co_esc(b, str(e, "error"));
			sk_buf_printf(b, " (%lld)", (long long)numv(json_object_get(e, "n")));
		}
		sk_buf_puts(b, "</td></tr>\n");
	}
	sk_buf_puts(b, "</table>\n");
	capacity(b, json_object_get(rep, "capacity"));
	sk_buf_puts(b, "<h2>What this node cannot know</h2><div class=\"note\"><ul>");
	json_array_foreach(json_object_get(rep, "cannot_know"), i, v)
	{
		sk_buf_puts(b, "<li>");
		co_esc(b, json_string_value(v));
		sk_buf_puts(b, "</li>");
	}
	sk_buf_puts(b, "</ul></div>\n");
}

sk_err sk_coop_html(const json_t *rep, sk_buf *b, sk_error *err)
{
	const json_t *parts = json_object_get(rep, "partners"), *own = json_object_get(rep, "own");
	size_t n = json_array_size(parts), i;
	bar *r = n ? calloc(n, sizeof(*r)) : NULL;
	json_t *p;

	if (n && !r)
		return sk_error_set(err, SK_ENOMEM, "out of memory");
	sk_buf_printf(b,
	              "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	              "<title>Cooperation report</title><style>%s</style></head><body>\n"
	              "<h1>Cooperation report</h1>\n<p>Node ",
	              style);
	co_esc(b, str(json_object_get(rep, "node"), "identity"));
	sk_buf_puts(b, "<br>Period: ");
	co_esc(b, json_is_string(json_object_get(json_object_get(rep, "period"), "since"))
	              ? str(json_object_get(rep, "period"), "since")
	              : "the start");
	sk_buf_puts(b, " to ");
	co_esc(b, str(json_object_get(rep, "period"), "until"));
	if (json_is_string(json_object_get(json_object_get(rep, "scope"), "partner"))) {
		sk_buf_puts(b, "<br>Scoped to partner ");
		co_esc(b, str(json_object_get(rep, "scope"), "partner"));
		sk_buf_puts(b, ": only what it was given or gave is counted");
	}
	sk_buf_printf(b,
	              "</p><p>Sightings made here: %lld; reported back by partners: %lld; "
	              "resting on this node's own indicators: %lld. Lead time from an "
	              "indicator's arrival to the first sighting here (median): ",
	              (long long)numv(json_object_get(own, "sightings_here")),
	              (long long)numv(json_object_get(own, "sightings_received")),
	              (long long)numv(json_object_get(own, "detections_enabled")));
	dur(b, json_object_get(json_object_get(own, "lead_time_s"), "median"));
	sk_buf_puts(b, ".</p>\n<h2>Partners</h2>\n");
	partner_table(b, parts);
	json_array_foreach(parts, i, p)
	{
		r[i].label = str(p, "partner");
		r[i].v[0] = numv(json_object_get(p, "objects_received"));
		r[i].v[1] = numv(json_object_get(p, "objects_sent"));
	}
	chart(b, "Object versions received and sent", "received", "sent", r, n, false);
	json_array_foreach(parts, i, p)
	{
		json_t *t = json_object_get(p, "time_to_share_s");
		r[i].v[0] = numv(json_object_get(t, "median"));
		r[i].v[1] = numv(json_object_get(t, "p90"));
	}
	chart(b, "Time to share (producer's timestamp to arrival here)", "median", "p90", r, n,
	      true);
	json_array_foreach(parts, i, p)
	{
		r[i].v[0] = numv(json_object_get(p, "detections_enabled"));
	}
	chart(b, "Detections enabled (sightings resting on indicators it produced or relayed)",
	      "sightings", NULL, r, n, false);
	free(r);
	sectors_table(b, json_object_get(rep, "sectors"));
	rest(b, rep);
	sk_buf_puts(b, "<p>Definitions: docs/cooperation.md.</p></body></html>\n");
	return b->data ? SK_OK : sk_error_set(err, SK_ENOMEM, "out of memory");
}
