/*
 * ui_fleet.c - the console's peer page, the fleet's part (docs/fleet.md,
 * docs/console.md): GET /ui/api/fleet answers what `schakel fleet status
 * --format json` prints (sk_fleet_status_json): every sensor, its last
 * sighting, its consumer's lag, what its audience was sent and what it
 * applied.  For this node's own people only (the route is UI_OWN): a
 * sensor's name, partner and key are the hub's business, not a partner's.
 *
 * At a running hub (serve --fleet URL) the consumers' positions are read
 * from JetStream with one bounded attempt (SK_FLEET_ONCE_MS); when NATS does
 * not answer, the store's figures are still sent, with "nats_error" saying
 * why applied and lag are null.
 */
#include "schakel/fleet.h"
#include "ui/ui_core_int.h"
#include "ui/ui_int.h"

void ui_h_fleet(ui_ctx *c, char **seg, size_t nseg)
{
	const char *url = c->ui->cfg.fleet_url;
	json_t *r = NULL;
	sk_error err, nerr;
	sk_err rc;

	(void)seg;
	(void)nseg;
	rc = sk_fleet_status_json(c->st, url, &r, &err);
	if (rc && url && rc != SK_ENOMEM) { /* NATS down: what the store knows, and why */
		nerr = err;
		rc = sk_fleet_status_json(c->st, NULL, &r, &err);
		if (!rc && (json_object_set_new(r, "nats", json_string(url)) ||
		            json_object_set_new(r, "nats_error", json_string(nerr.msg)))) {
			json_decref(r);
			r = NULL;
			rc = sk_error_set(&err, SK_ENOMEM, "out of memory");
		}
	}
	if (rc) {
		ui_error(c, 500, "fleet status: %s", err.msg);
		return;
	}
	if (json_object_set_new(r, "hub", json_boolean(url != NULL))) {
		json_decref(r);
		r = NULL;
	}
	ui_send_json(c, 200, r);
}
