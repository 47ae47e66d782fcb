/*
 * enrol.c - joining a hub with an invitation code (`schakel enrol`): the
 * new node's half of include/schakel/invite.h, over the TAXII client.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/invite.h"
#include "schakel/peer.h"
#include "schakel/taxii_client.h"
#include "schakel/timestamp.h"

/* POST this node's identity and key; on success *token (malloc'd) is the hub's answer. */
static sk_err redeem(sk_store *st, const sk_invite_code *code, const sk_enrol_opts *o, char **token,
                     sk_error *err)
{
	char auth[128], kb64[SK_KEY_B64_MAX], *url = NULL, *body = NULL;
	const sk_keypair *kp = sk_store_own_key(st);
	sk_tc_config cfg = {.auth = "invite",
	                    .secret = auth,
	                    .ca_file = o->ca,
	                    .tls_pin = code->tls_pin,
	                    .timeout_s = o->timeout_s ? o->timeout_s : 30,
	                    .max_body = SK_INVITE_MAX_BODY};
	sk_tc *c = NULL;
	sk_tc_resp r = {0};
	json_t *req = NULL, *resp = NULL;
	const char *hub, *t;
	size_t n;
	sk_err rc;

	*token = NULL;
	sk_key_b64(kp->pk, kb64);
	snprintf(auth, sizeof(auth), "%s.%s", code->iid, code->secret);
	n = strlen(code->url) + sizeof(SK_INVITE_PATH) + 1;
	if (!(url = malloc(n)) ||
	    !(req = json_pack("{s:s, s:s}", "identity", sk_store_own_id(st), "key", kb64)) ||
	    !(body = json_dumps(req, JSON_COMPACT))) {
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
		goto out;
	}
	/* the code's URL is the server's base (as for `peer add`); enrolment is below it */
	{
		int base = (int)strlen(code->url);
		while (base && code->url[base - 1] == '/')
			base--;
		snprintf(url, n, "%.*s%s", base, code->url, SK_INVITE_PATH);
	}
	if ((rc = sk_tc_new(&cfg, &c, err)) ||
	    (rc = sk_tc_post(c, url, body, strlen(body), &r, err)))
		goto out;
	resp = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
	if (r.status != 200) {
		const char *why = json_string_value(json_object_get(resp, "description"));
		rc = sk_error_set(err, r.status == 401 || r.status == 409 ? SK_EAUTH : SK_EIO,
		                  "the hub refused the invitation (HTTP %ld): %s", r.status,
		                  why ? why : "no reason given");
		goto out;
	}
	hub = json_string_value(json_object_get(resp, "hub"));
	t = json_string_value(json_object_get(resp, "token"));
	if (!hub || strcmp(hub, code->hub) != 0 || !t || !*t) {
		rc = sk_error_set(err, SK_EIO,
		                  "the hub's answer is not the one its code promised "
		                  "(identity %s)",
		                  hub ? hub : "missing");
		goto out;
	}
	if (!(*token = strdup(t)))
		rc = sk_error_set(err, SK_ENOMEM, "out of memory");
out:
	sodium_memzero(auth, sizeof(auth));
	if (r.body.data)
		sodium_memzero(r.body.data, r.body.len);
	sk_tc_resp_free(&r);
	sk_tc_free(c);
	json_decref(req);
	json_decref(resp);
	free(body);
	free(url);
	return rc;
}

sk_err sk_enrol(sk_store *st, const char *db_path, const sk_invite_code *code,
                const sk_enrol_opts *o, sk_error *err)
{
	const char *name = o->name ? o->name : "hub";
	char kb64[SK_KEY_B64_MAX], *token = NULL;
	sk_peer existing;
	bool made;
	sk_err rc;

	if (!sk_store_own_id(st))
		return sk_error_set(err, SK_EINVAL, "this node has no identity yet (schakel init)");
	if ((rc = sk_store_own_key_ensure(st, &made, err)))
		return rc;
	if (code->expires_us <= sk_ts_now_us()) {
		char ts[SK_TS_STR_MAX];
		sk_ts_format_ms(code->expires_us, ts);
		return sk_error_set(err, SK_EINVAL,
		                    "the invitation expired at %s; ask the hub for "
		                    "a new one",
		                    ts);
	}
	if (!code->tls_pin && !o->allow_http)
		return sk_error_set(err, SK_EINVAL,
		                    "the invitation is for a hub without TLS (%s): "
		                    "its token would travel in clear; --allow-http "
		                    "accepts that",
		                    code->url);
	if (sk_peer_get(st, db_path, name, &existing, err) == SK_OK) {
		sk_peer_clear(&existing);
		return sk_error_set(err, SK_EEXIST,
		                    "a peer named '%s' exists; choose another with "
		                    "--name",
		                    name);
	}
	if ((rc = redeem(st, code, o, &token, err)))
		return rc;
	sk_key_b64(code->key, kb64);
	{
		sk_peer_params p = {.name = name,
		                    .url = code->url,
		                    .api_root = code->api_root,
		                    .collection = code->collection,
		                    .auth = "token",
		                    .secret = token,
		                    .ca = o->ca,
		                    .identity = code->hub,
		                    .local_collection = o->local_collection,
		                    .pull = true,
		                    .push = true,
		                    .key = kb64,
		                    .tls_pin = code->tls_pin};
		rc = sk_peer_add(st, db_path, &p, err);
	}
	if (rc)
		sk_error_prefix(err, "the hub accepted this node, but its peer could not be "
		                     "stored (ask the hub for a new invitation)");
	sodium_memzero(token, strlen(token));
	free(token);
	return rc;
}
