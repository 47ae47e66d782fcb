/*
 * dossier_html.c - the dossier as one self-contained, printable HTML
 * document (dossier.h): inline CSS with a print stylesheet, inline SVG
 * figures for the timeline and the technique matrix, no external request
 * (a Content-Security-Policy forbids any), the TLP banner of the whole
 * document on every printed page and, on each section, the most
 * restrictive marking of what that section shows.  Everything is rendered
 * from the dossier's JSON; every text is escaped.
 */
#include "dossier_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/timestamp.h"

#define TL_MAX 400 /* events drawn in the timeline figure */

static const char *const levels[] = {"none", "clear", "green", "amber", "amber+strict", "red"};

static int level_of(const char *l)
{
	for (int i = 0; l && i < 6; i++)
		if (!strcmp(l, levels[i]))
			return i;
	return 0;
}

/* The most restrictive TLP level anywhere in v ("tlp": {"level": ...} objects). */
static int max_tlp(const json_t *v)
{
	int m = 0, x;
	if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_t *t = json_object_get(v, "tlp");
		if (json_is_object(t) &&
		    (x = level_of(json_string_value(json_object_get(t, "level")))) > m)
			m = x;
		json_object_foreach((json_t *)v, k, e)
		{
			if ((x = max_tlp(e)) > m)
				m = x;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			if ((x = max_tlp(e)) > m)
				m = x;
		}
	}
	return m;
}

static sk_err esc(sk_buf *b, const char *s)
{
	sk_err rc = SK_OK;
	for (; s && *s && !rc; s++) {
		switch (*s) {
		case '&':
			rc = sk_buf_puts(b, "&amp;");
			break;
		case '<':
			rc = sk_buf_puts(b, "&lt;");
			break;
		case '>':
			rc = sk_buf_puts(b, "&gt;");
			break;
		case '"':
			rc = sk_buf_puts(b, "&quot;");
			break;
		case '\'':
			rc = sk_buf_puts(b, "&#39;");
			break;
		default:
			rc = sk_buf_append(b, s, 1);
		}
	}
	return rc;
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

typedef struct h {
	sk_buf *b;
	sk_err rc;
} h;

static void put(h *x, const char *s)
{
	if (!x->rc)
		x->rc = sk_buf_puts(x->b, s);
}

static void text(h *x, const char *s)
{
	if (!x->rc)
		x->rc = esc(x->b, s);
}

static void num(h *x, long long n)
{
	if (!x->rc)
		x->rc = sk_buf_printf(x->b, "%lld", n);
}

/* The member at a dotted path ("provenance.tlp.label") of o; NULL if none. */
static const json_t *at(const json_t *o, const char *path, size_t n)
{
	char key[64];
	while (o && n) {
		const char *dot = memchr(path, '.', n);
		size_t k = dot ? (size_t)(dot - path) : n;
		if (k >= sizeof(key))
			return NULL;
		memcpy(key, path, k);
		key[k] = '\0';
		o = json_object_get(o, key);
		path += k + (dot != NULL);
		n -= k + (dot != NULL);
	}
	return o;
}

/*
 * Render template t against o: literal HTML, with {path} for an escaped
 * string member, {#path} for an integer, {?path} for an integer or "not
 * stated", {@path} for the length of an array.  Paths are dotted.  The
 * templates are this file's constants: an unclosed brace ends the output.
 */
static void tpl(h *x, const json_t *o, const char *t)
{
	while (*t && !x->rc) {
		const char *b = strchr(t, '{'), *e;
		const json_t *v;
		if (!b) {
			put(x, t);
			return;
		}
		x->rc = sk_buf_append(x->b, t, (size_t)(b - t));
		if (!(e = strchr(b, '}')))
			return;
		t = e + 1;
		b += b[1] && strchr("#?@", b[1]) ? 2 : 1;
		v = at(o, b, (size_t)(e - b));
		switch (b[-1]) {
		case '#':
			num(x, (long long)json_integer_value(v));
			break;
		case '?':
			if (json_is_integer(v))
				num(x, (long long)json_integer_value(v));
			else
				put(x, "<em>not stated</em>");
			break;
		case '@':
			num(x, (long long)json_array_size(v));
			break;
		default:
			text(x, json_is_string(v) ? json_string_value(v) : "");
		}
	}
}

static const char *tlp_label(int l)
{
	static const char *const labels[] = {"UNMARKED",  "TLP:CLEAR",        "TLP:GREEN",
	                                     "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"};
	return labels[l < 0 || l > 5 ? 0 : l];
}

static const char *tlp_class(int l)
{
	static const char *const cls[] = {"none", "clear", "green", "amber", "amber", "red"};
	return cls[l < 0 || l > 5 ? 0 : l];
}

static void banner(h *x, int l, const char *cls)
{
	put(x, "<div class=\"tlp ");
	put(x, cls);
	put(x, " t-");
	put(x, tlp_class(l));
	put(x, "\">");
	put(x, tlp_label(l));
	put(x, "</div>\n");
}

static void section(h *x, const char *id, const char *title, const json_t *v)
{
	put(x, "<section id=\"");
	put(x, id);
	put(x, "\">");
	banner(x, max_tlp(v), "sec");
	put(x, "<h2>");
	text(x, title);
	put(x, "</h2>\n");
}

static void prov_cells(h *x, const json_t *it)
{
	json_t *p = json_object_get(it, "provenance"), *nr, *e;
	size_t i;
	tpl(x, p, "<td>{tlp.label}</td><td>{producer.name}</td><td>{signature}</td><td>{from}");
	nr = json_object_get(p, "not_releasable_to");
	if (json_array_size(nr)) {
		put(x, "<br><small>not releasable to: ");
		json_array_foreach(nr, i, e)
		{
			if (i)
				put(x, ", ");
			text(x, json_string_value(e));
		}
		put(x, "</small>");
	}
	put(x, "</td><td class=\"ev\">");
	json_array_foreach(json_object_get(it, "evidence"), i, e)
	{
		if (i >= 4) {
			put(x, "…");
			break;
		}
		if (i)
			put(x, "<br>");
		text(x, json_string_value(e));
	}
	put(x, "</td>");
}

static void item_table(h *x, const char *title, const json_t *list, const char *extra_key)
{
	size_t i;
	json_t *it;
	put(x, "<h3>");
	text(x, title);
	put(x, " (");
	num(x, (long long)json_array_size(list));
	put(x, ")</h3>\n");
	if (!json_array_size(list)) {
		put(x, "<p class=\"none\">none in the evidence</p>\n");
		return;
	}
	put(x, "<table><tr><th>name</th>");
	if (extra_key) {
		put(x, "<th>");
		text(x, extra_key);
		put(x, "</th>");
	}
	put(x,
	    "<th>TLP</th><th>producer</th><th>signature</th><th>from</th><th>evidence</th></tr>\n");
	json_array_foreach(list, i, it)
	{
		put(x, "<tr><td>");
		text(x, str(it, "name"));
		put(x, "</td>");
		if (extra_key) {
			json_t *e = json_object_get(it, extra_key);
			put(x, "<td>");
			if (json_is_integer(e))
				num(x, (long long)json_integer_value(e));
			else if (json_is_string(e))
				text(x, json_string_value(e));
			else if (json_is_null(e) || !e)
				put(x, "<em>not stated</em>");
			put(x, "</td>");
		}
		prov_cells(x, it);
		put(x, "</tr>\n");
	}
	put(x, "</table>\n");
}

static void cut_note(h *x, const json_t *d)
{
	json_t *c, *cuts = json_object_get(json_object_get(d, "limits"), "cut");
	size_t i;
	if (!json_array_size(cuts))
		return;
	put(x, "<p class=\"cut\">Lists cut to keep the dossier bounded: ");
	json_array_foreach(cuts, i, c)
	{
		if (i)
			put(x, "; ");
		tpl(x, c, "{list} shows {#shown} of {#total}");
	}
	put(x, ".</p>\n");
}

/* --- figures ---------------------------------------------------------------------- */

static void timeline_svg(h *x, const json_t *events)
{
	int64_t lo = 0, hi = 0, us;
	size_t i, n = json_array_size(events);
	json_t *e;
	if (!n) {
		put(x, "<p class=\"none\">no events</p>\n");
		return;
	}
	json_array_foreach(events, i, e)
	{
		const char *t = str(e, "time");
		if (!sk_ts_parse(t, strlen(t), NULL, &us))
			continue;
		if (!lo || us < lo)
			lo = us;
		if (us > hi)
			hi = us;
	}
	if (hi <= lo)
		hi = lo + 1;
	put(x, "<figure><svg viewBox=\"0 0 1000 140\" width=\"100%\" role=\"img\" "
	       "aria-label=\"timeline\"><line x1=\"20\" y1=\"100\" x2=\"980\" y2=\"100\" "
	       "stroke=\"#333\"/>");
	json_array_foreach(events, i, e)
	{
		const char *t = str(e, "time"), *k = str(e, "kind");
		const char *col = !strcmp(k, "sighting")   ? "#c0392b"
		                  : !strcmp(k, "campaign") ? "#2c3e50"
		                  : !strcmp(k, "report")   ? "#27ae60"
		                                           : "#7f8c8d";
		int row = !strcmp(k, "sighting") ? 0 : !strcmp(k, "campaign") ? 1 : 2;
		if (i >= TL_MAX || !sk_ts_parse(t, strlen(t), NULL, &us))
			continue;
		if (!x->rc)
			x->rc = sk_buf_printf(
			    x->b, "<circle cx=\"%.1f\" cy=\"%d\" r=\"4\" fill=\"%s\"><title>",
			    20 + 960.0 * (double)(us - lo) / (double)(hi - lo), 40 + row * 20, col);
		text(x, t);
		put(x, " ");
		text(x, k);
		put(x, ": ");
		text(x, str(e, "detail"));
		put(x, "</title></circle>");
	}
	put(x, "<text x=\"20\" y=\"125\" font-size=\"12\">");
	text(x, str(json_array_get(events, 0), "time"));
	put(x, "</text><text x=\"980\" y=\"125\" font-size=\"12\" text-anchor=\"end\">");
	text(x, str(json_array_get(events, n - 1), "time"));
	put(x, "</text><text x=\"20\" y=\"20\" font-size=\"11\" fill=\"#c0392b\">● sightings</text>"
	       "<text x=\"120\" y=\"20\" font-size=\"11\" fill=\"#2c3e50\">● campaigns</text>"
	       "<text x=\"220\" y=\"20\" font-size=\"11\" fill=\"#7f8c8d\">● relationships, "
	       "versions, reports</text></svg><figcaption>Timeline</figcaption></figure>\n");
}

static void matrix_svg(h *x, const json_t *m)
{
	json_t *tac = json_object_get(m, "tactics"), *t, *e;
	size_t i, k, cols = 0, rows = 0;
	json_array_foreach(tac, i, t)
	{
		size_t n = json_array_size(json_object_get(t, "techniques"));
		if (n) {
			cols++;
			if (n > rows)
				rows = n;
		}
	}
	if (!cols) {
		put(x, "<p class=\"none\">no ATT&amp;CK technique in the evidence</p>\n");
		return;
	}
	if (rows > 40)
		rows = 40;
	if (!x->rc)
		x->rc = sk_buf_printf(
		    x->b,
		    "<figure><svg viewBox=\"0 0 %zu %zu\" width=\"100%%\" role=\"img\" "
		    "aria-label=\"technique matrix\" font-size=\"9\">",
		    cols * 120, 30 + rows * 22);
	cols = 0;
	json_array_foreach(tac, i, t)
	{
		json_t *techs = json_object_get(t, "techniques");
		if (!json_array_size(techs))
			continue;
		if (!x->rc)
			x->rc = sk_buf_printf(
			    x->b,
			    "<rect x=\"%zu\" y=\"0\" width=\"116\" height=\"24\" "
			    "fill=\"#2c3e50\"/><text x=\"%zu\" y=\"16\" fill=\"#fff\">",
			    cols * 120, cols * 120 + 4);
		text(x, str(t, "name"));
		put(x, "</text>");
		json_array_foreach(techs, k, e)
		{
			if (k >= rows)
				break;
			if (!x->rc)
				x->rc = sk_buf_printf(
				    x->b,
				    "<rect x=\"%zu\" y=\"%zu\" width=\"116\" height=\"20\" "
				    "fill=\"#f5b7b1\"/><text x=\"%zu\" y=\"%zu\"><title>",
				    cols * 120, 28 + k * 22, cols * 120 + 3, 42 + k * 22);
			text(x, str(e, "name"));
			put(x, "</title>");
			text(x, str(e, "external_id"));
			put(x, " ");
			{
				char nm[18];
				snprintf(nm, sizeof(nm), "%s", str(e, "name"));
				dz_utf8_trim(nm);
				text(x, nm);
			}
			put(x, "</text>");
		}
		cols++;
	}
	put(x, "</svg><figcaption>ATT&amp;CK techniques used, by tactic</figcaption></figure>\n");
}

/* --- sections -------------------------------------------------------------------- */

static const char css[] =
    "body{font-family:Georgia,serif;max-width:60em;margin:2em auto;padding:0 1em;color:#111}"
    "h1{font-size:1.6em}h2{border-bottom:2px solid #2c3e50;margin-top:1.5em}"
    "table{border-collapse:collapse;width:100%;font-size:.8em;margin:.5em 0}"
    "th,td{border:1px solid #bbb;padding:3px 5px;text-align:left;vertical-align:top}"
    "th{background:#eee}.ev{font-family:monospace;font-size:.85em;word-break:break-all}"
    ".tlp{font-family:Arial,sans-serif;font-weight:bold;padding:2px 8px;display:inline-block}"
    ".t-clear{background:#fff;color:#000;border:1px solid #000}.t-green{background:#000;"
    "color:#33ff00}.t-amber{background:#000;color:#ffc000}.t-red{background:#000;"
    "color:#ff2b2b}.t-none{background:#ddd;color:#000}"
    ".page{position:fixed;top:0;right:0}.page-b{position:fixed;bottom:0;right:0}"
    ".sec{float:right}.none{color:#777;font-style:italic}.cut{color:#a04000}"
    ".statement{border:2px solid #2c3e50;padding:.5em 1em;background:#f4f6f7}"
    ".supported{color:#1e8449;font-weight:bold}.partly{color:#b9770e;font-weight:bold}"
    ".unknown,.not-shown{color:#7b241c;font-weight:bold}"
    "@media print{body{margin:0;max-width:none;font-size:10pt}section{page-break-inside:auto}"
    "h2{page-break-after:avoid}tr{page-break-inside:avoid}@page{margin:2cm 1.5cm}"
    ".page,.page-b{display:block}}"
    "@media screen{.page-b{display:none}}";

static void summary_section(h *x, const json_t *d)
{
	json_t *s = json_object_get(d, "executive_summary");
	section(x, "summary", "Executive summary", d); /* drawn from everything */
	tpl(x, s,
	    "<table><tr><th>who</th><td>{who}</td></tr><tr><th>against whom</th><td>"
	    "{against_whom}</td></tr><tr><th>since when</th><td>{since_when}</td></tr><tr><th>how "
	    "sure</th><td>{how_sure}</td></tr><tr><th>who agrees</th><td>{who_agrees}</td></tr>"
	    "</table>\n");
	tpl(x, d, "<p class=\"statement\">{statement}</p></section>\n");
}

static void attribution_section(h *x, const json_t *d)
{
	json_t *a = json_object_get(d, "attribution"), *c;
	size_t i;
	section(x, "attribution", "The attribution claim: the chain to a state", a);
	tpl(x, a,
	    "<p><strong>{explanation}</strong>. Confidence of the chain: {?confidence}.</p>"
	    "<p><small>{rule}</small></p>\n");
	put(x, "<table><tr><th>from</th><th>link</th><th>to</th><th>confidence</th>"
	       "<th>TLP</th><th>producer</th><th>signature</th><th>from node</th><th>evidence</th>"
	       "</tr>\n");
	json_array_foreach(json_object_get(a, "links"), i, c)
	{
		tpl(x, c,
		    "<tr><td>{from.name}</td><td>{relationship_type}</td><td>{to.name}</td>"
		    "<td>{?confidence}</td>");
		prov_cells(x, c);
		put(x, "</tr>\n");
	}
	put(x, "</table>\n");
	if (json_array_size(json_object_get(a, "cycles"))) {
		put(x, "<p class=\"cut\">Cycles of attributed-to found (not followed): ");
		num(x, (long long)json_array_size(json_object_get(a, "cycles")));
		put(x, "</p>\n");
	}
	put(x, "</section>\n");
}

static void activity_section(h *x, const json_t *d)
{
	json_t *a = json_object_get(d, "activity");
	json_t *t = json_object_get(a, "techniques");
	section(x, "activity", "What the subject did", a);
	item_table(x, "Campaigns", json_object_get(a, "campaigns"), NULL);
	item_table(x, "Intrusion sets attributed to it", json_object_get(a, "intrusion_sets"),
	           NULL);
	item_table(x, "Incidents", json_object_get(a, "incidents"), NULL);
	item_table(x, "Reports", json_object_get(a, "reports"), NULL);
	item_table(x, "Malware", json_object_get(a, "malware"), NULL);
	item_table(x, "Tools", json_object_get(a, "tools"), NULL);
	item_table(x, "Infrastructure", json_object_get(a, "infrastructure"), NULL);
	item_table(x, "ATT&CK techniques", json_object_get(t, "list"), "external_id");
	if (json_is_object(json_object_get(t, "matrix")))
		matrix_svg(x, json_object_get(t, "matrix"));
	item_table(x, "DISARM techniques", json_object_get(json_object_get(a, "disarm"), "list"),
	           "external_id");
	put(x, "</section>\n");
}

static void group_table(h *x, const char *title, const json_t *list, const char *k1, const char *k2)
{
	size_t i;
	json_t *g;
	put(x, "<h3>");
	text(x, title);
	put(x, "</h3>");
	if (!json_array_size(list)) {
		put(x, "<p class=\"none\">none</p>\n");
		return;
	}
	put(x, "<table><tr><th>");
	text(x, k1);
	put(x, "</th>");
	if (k2) {
		put(x, "<th>");
		text(x, k2);
		put(x, "</th>");
	}
	put(x, "<th>sightings</th><th>count</th><th>first seen</th><th>last seen</th></tr>\n");
	json_array_foreach(list, i, g)
	{
		put(x, "<tr><td>");
		text(x, str(g, k1));
		put(x, "</td>");
		if (k2) {
			json_t *v = json_object_get(g, k2), *e;
			size_t j;
			put(x, "<td>");
			if (json_is_array(v)) {
				json_array_foreach(v, j, e)
				{
					if (j)
						put(x, ", ");
					text(x, json_string_value(e));
				}
			} else {
				text(x, json_string_value(v));
			}
			put(x, "</td>");
		}
		tpl(x, g,
		    "<td>{#sightings}</td><td>{#count}</td><td>{first_seen}</td><td>{last_seen}"
		    "</td></tr>\n");
	}
	put(x, "</table>\n");
}

static void impact_section(h *x, const json_t *d)
{
	json_t *im = json_object_get(d, "impact"), *c;
	size_t i;
	section(x, "impact", "Who was hit", im);
	tpl(x, im,
	    "<p>{#sightings} sightings (count {#count}) of {#indicators_sighted} of {#indicators} "
	    "indicators, from {first_seen} to {last_seen}.</p><p>Critical sectors touched: ");
	json_array_foreach(json_object_get(im, "critical_sectors"), i, c)
	{
		if (i)
			put(x, ", ");
		text(x, str(c, "name"));
		put(x, json_is_true(json_object_get(c, "sighted")) ? " (sighted)" : " (targeted)");
	}
	if (!json_array_size(json_object_get(im, "critical_sectors")))
		put(x, "<em>none in the evidence</em>");
	put(x, "</p>\n");
	group_table(x, "By organisation", json_object_get(im, "by_partner"), "name", "sectors");
	group_table(x, "By sector", json_object_get(im, "by_sector"), "name", NULL);
	group_table(x, "By country", json_object_get(im, "by_country"), "country", NULL);
	item_table(x, "Sightings", json_object_get(im, "items"), "count");
	put(x, "</section>\n");
}

static void opinions_section(h *x, const json_t *d)
{
	json_t *o = json_object_get(d, "opinions"), *r, *v, *op;
	size_t i, k, j;
	section(x, "opinions", "The allies' opinions", o);
	if (!json_array_size(json_object_get(o, "reports")))
		put(x, "<p class=\"none\">no report on the subject</p>\n");
	json_array_foreach(json_object_get(o, "reports"), i, r)
	{
		put(x, "<h3>");
		text(x, str(r, "name"));
		put(x, "</h3><table><tr><th>version</th><th>modified</th><th>tally</th><th>opinions"
		       "</th><th>not yet answered</th></tr>\n");
		json_array_foreach(json_object_get(r, "versions"), k, v)
		{
			const char *key;
			json_t *n;
			tpl(x, v, "<tr><td>{#version}</td><td>{modified}</td><td>");
			json_object_foreach(json_object_get(v, "tally"), key, n)
			{
				text(x, key);
				put(x, ": ");
				num(x, (long long)json_integer_value(n));
				put(x, "<br>");
			}
			put(x, "</td><td>");
			json_array_foreach(json_object_get(v, "opinions"), j, op)
			{
				tpl(x, op,
				    "{by.name} — <strong>{opinion}</strong> ({created}): "
				    "{text}<br>");
			}
			put(x, "</td><td>");
			json_array_foreach(json_object_get(v, "not_yet_answered"), j, op)
			{
				text(x, str(op, "name"));
				put(x, "<br>");
			}
			put(x, "</td></tr>\n");
		}
		put(x, "</table>\n");
	}
	put(x, "</section>\n");
}

static void gaps_section(h *x, const json_t *d)
{
	json_t *g = json_object_get(d, "gaps"), *e;
	size_t i;
	section(x, "gaps", "The gaps", g);
	tpl(x, g,
	    "<ul><li>Attribution links without a stated confidence: {@links_without_confidence}"
	    "</li><li>Attribution links from a single source: {@single_source_links}</li><li>"
	    "Producers of the evidence: {#producers}");
	put(x, json_is_true(json_object_get(g, "single_source")) ? " (a single source)" : "");
	tpl(x, g,
	    "</li><li>Items unsigned or unverified: {#unsigned_or_unverified.count}</li><li>"
	    "Indicators never sighted: {#indicators_never_sighted}</li><li>Cycles of "
	    "attributed-to: {@attributed_to_cycles}</li></ul>\n");
	json_array_foreach(json_object_get(g, "links_without_confidence"), i, e)
	{
		tpl(x, e, "<p>No confidence: {from} {relationship_type} {to}</p>\n");
	}
	put(x, "</section>\n");
}

static void status(h *x, const char *s)
{
	char cls[32];
	snprintf(cls, sizeof(cls), "%s", s);
	for (char *p = cls; *p; p++)
		if (*p == ' ')
			*p = '-';
	put(x, "<span class=\"");
	text(x, cls);
	put(x, "\">");
	text(x, s);
	put(x, "</span>");
}

static void legal_section(h *x, const json_t *d)
{
	json_t *l = json_object_get(d, "legal_test"), *c, *e;
	size_t i, k;
	section(x, "legal", "The EU cyber-sanctions test, point by point", l);
	tpl(x, l, "<p>{framework}. {note}</p>\n");
	put(x, "<table><tr><th>criterion</th><th>status</th><th>what supports it</th>"
	       "<th>what is missing</th></tr>\n");
	json_array_foreach(json_object_get(l, "criteria"), i, c)
	{
		tpl(x, c, "<tr><td>{criterion}</td><td>");
		if (json_object_get(c, "status"))
			status(x, str(c, "status"));
		put(x, "</td><td>");
		json_array_foreach(json_object_get(c, "supports"), k, e)
		{
			tpl(x, e, "{what}: {name}{sector}<br>");
		}
		json_array_foreach(json_object_get(c, "actions"), k, e)
		{
			text(x, str(e, "action"));
			put(x, ": ");
			status(x, str(e, "status"));
			put(x, "<br>");
		}
		json_array_foreach(json_object_get(c, "factors"), k, e)
		{
			text(x, str(e, "factor"));
			put(x, ": ");
			status(x, str(e, "status"));
			tpl(x, e, " <small>({basis})</small><br>");
		}
		tpl(x, c, "</td><td>{missing}</td></tr>\n");
	}
	put(x, "</table></section>\n");
}

static void listing_section(h *x, const json_t *d)
{
	json_t *l = json_object_get(d, "listing");
	section(x, "listing", "Persons, entities and infrastructure named in the evidence", l);
	tpl(x, l, "<p>{note}</p>\n");
	item_table(x, "Persons and entities", json_object_get(l, "persons_and_entities"), NULL);
	item_table(x, "Threat actors", json_object_get(l, "threat_actors"), NULL);
	item_table(x, "Infrastructure", json_object_get(l, "infrastructure"), NULL);
	put(x, "</section>\n");
}

sk_err sk_dossier_html(const json_t *d, sk_buf *out, sk_error *err)
{
	h x = {out, SK_OK};
	int top = level_of(str(json_object_get(d, "tlp"), "level"));
	json_t *tl = json_object_get(d, "timeline");

	put(&x, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	        "style-src 'unsafe-inline'\"><title>Attribution dossier: ");
	text(&x, str(json_object_get(d, "subject"), "name"));
	put(&x, "</title><style>");
	put(&x, css);
	put(&x, "</style></head><body>\n");
	banner(&x, top, "page");
	banner(&x, top, "page-b");
	put(&x, "<h1>Attribution dossier: ");
	text(&x, str(json_object_get(d, "subject"), "name"));
	put(&x, "</h1>\n<p>Generated ");
	text(&x, str(d, "generated"));
	put(&x, " by ");
	text(&x, str(json_object_get(d, "node"), "name"));
	if (json_is_string(json_object_get(d, "for"))) {
		put(&x, " — releasable version for ");
		text(&x, str(d, "for"));
	}
	if (json_is_string(json_object_get(d, "since"))) {
		put(&x, " — since ");
		text(&x, str(d, "since"));
	}
	put(&x, ". Marking of the whole document: ");
	text(&x, tlp_label(top));
	put(&x, ".</p>\n");
	cut_note(&x, d);
	summary_section(&x, d);
	attribution_section(&x, d);
	activity_section(&x, d);
	impact_section(&x, d);
	section(&x, "timeline", "Timeline", tl);
	timeline_svg(&x, json_object_get(tl, "events"));
	put(&x, "</section>\n");
	opinions_section(&x, d);
	gaps_section(&x, d);
	legal_section(&x, d);
	listing_section(&x, d);
	put(&x, "<footer><p class=\"statement\">");
	text(&x, str(d, "statement"));
	put(&x, "</p></footer></body></html>\n");
	return x.rc ? sk_error_set(err, x.rc, "html: the dossier is too large") : SK_OK;
}
