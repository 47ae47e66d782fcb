/*
 * ui_coop.c - the console's cooperation page (docs/cooperation.md,
 * docs/console.md): GET /ui/api/cooperation?since=&until=[&partner=] answers
 * the report of `schakel report cooperation` (coop.h) for the period, read
 * through the request's view.  A partner's account always gets the report
 * scoped to its own organisation: only what it was given, gave or produced.
 * GET /ui/api/cooperation/network answers the hub's network report of
 * `report cooperation --network`, to this node's own people only.
 */
#include <string.h>

#include "schakel/coop.h"
#include "ui/ui_int.h"

#define MAX_PARTNER 200 /* longest partner parameter */

/* The report r (stolen, freed on error) or the error of rc as its HTTP status. */
static void answer(ui_ctx *c, sk_err rc, json_t *r, const sk_error *err)
{
	if (!rc) {
		ui_send_json(c, 200, r);
		return;
	}
	json_decref(r);
	if (rc == SK_ENOTFOUND)
		ui_error(c, 404, "%s", err->msg);
	else if (rc == SK_EINVAL)
		ui_error(c, 400, "%s", err->msg);
	else
		ui_error(c, 500, "%s", err->msg);
}

void ui_h_cooperation(ui_ctx *c, char **seg, size_t nseg)
{
	sk_coop_opts o = {0};
	sk_error err;
	json_t *r = NULL;
	sk_err rc;

	(void)seg;
	(void)nseg;
	if (!ui_param_time(c, "since", 0, &o.since) || !ui_param_time(c, "until", 0, &o.until))
		return;
	if (o.since && o.until && o.since >= o.until) {
		ui_error(c, 400, "since must be before until");
		return;
	}
	o.partner = ui_param(c, "partner");
	if (o.partner && (!*o.partner || strlen(o.partner) > MAX_PARTNER)) {
		ui_error(c, 400, "partner: empty or longer than %d bytes", MAX_PARTNER);
		return;
	}
	if (c->who.role == SK_ROLE_PARTNER) {
		if (!c->who.partner[0]) {
			ui_error(c, 403, "cooperation: an account of no partner");
			return;
		}
		o.partner = c->who.partner; /* never another partner's figures */
	}
	if (!ui_bind_view(c))
		return;
	rc = sk_coop_report(c->st, &o, &r, &err); /* before answer(): r is its out-parameter */
	answer(c, rc, r, &err);
}

/*
 * GET /ui/api/cooperation/network?since=&until=: the hub's network report,
 * what `schakel report cooperation --network --format json` prints
 * (sk_coop_network: the verified summaries its partners sent, combined with
 * this node's records).  For this node's own people only (the route is
 * UI_OWN): it names every partner and what each reported, so a partner's
 * account or token gets 403.  Fields the report may gain are passed on as
 * they are.
 */
void ui_h_coop_network(ui_ctx *c, char **seg, size_t nseg)
{
	sk_coop_opts o = {0};
	sk_error err;
	json_t *r = NULL;
	sk_err rc;

	if (nseg != 2 || strcmp(seg[1], "network")) {
		ui_error(c, 404, "no such API route: /ui/api/cooperation/%s", seg[1]);
		return;
	}
	if (!ui_param_time(c, "since", 0, &o.since) || !ui_param_time(c, "until", 0, &o.until))
		return;
	if (o.since && o.until && o.since >= o.until) {
		ui_error(c, 400, "since must be before until");
		return;
	}
	if (!ui_bind_view(c))
		return;
	rc = sk_coop_network(c->st, &o, &r, &err); /* before answer(): r is its out-parameter */
	answer(c, rc, r, &err);
}
