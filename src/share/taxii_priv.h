/*
 * taxii_priv.h - what the files of the TAXII 2.1 server share (src/share/
 * only): the server state, the request context, the error responses
 * (taxii.c) and the resource handlers the router calls.  Each handler
 * answers into c->resp: a resource or a TAXII error message.
 */
#ifndef SCHAKEL_TAXII_PRIV_H
#define SCHAKEL_TAXII_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "schakel/account.h"
#include "schakel/policy.h"
#include "schakel/taxii.h"
#include "schakel/uuid.h"

/* One queued POST for the writer thread. */
typedef struct post_job {
	struct post_job *next;
	char sid[SK_UUID_LEN + 1];
	int64_t cid;
	char *body;
	size_t len;
	char rx[SK_IDENTITY_ID_MAX + 1]; /* the poster's partner identity (provenance) */
} post_job;

struct sk_taxii {
	sk_taxii_config cfg;
	unsigned char key[SK_TAXII_KEY_BYTES];
	sk_auth_cache *cache;
	char *db_path; /* owned copy of cfg.db_path */
	/* background writer: a FIFO of jobs, bounded in bytes */
	pthread_mutex_t qmu;
	pthread_cond_t qcv;
	post_job *head, *tail;
	size_t queued_bytes;
	bool writer_running, stopping;
	pthread_t writer;
};

typedef struct ctx {
	sk_taxii *t;
	sk_store *st;
	const sk_taxii_req *req;
	sk_taxii_resp *resp;
	sk_principal who; /* aid 0 = anonymous */
	int64_t root;     /* api root id */
	char root_name[80];
} ctx;

typedef struct coll_info {
	sk_collection c;
	char alias[204];
	bool has20; /* holds STIX 2.0 versions: media_types names version=2.0 too */
} coll_info;

enum mode { M_OBJECTS, M_MANIFEST, M_OBJECT, M_VERSIONS };

/* --- error responses and negotiation (taxii.c) --- */

/* Append s as a JSON string, or null when s is NULL. */
void sk_taxii_jstr(sk_buf *b, const char *s);
/* Replace the response with a TAXII error message of HTTP status. */
void sk_taxii_fail(ctx *c, int status, const char *title, const char *desc);
/* A 500 for a store failure; e's details go to the server log only. */
void sk_taxii_fail_db(ctx *c, const sk_error *e);
/* The Content-Type header names TAXII 2.1 JSON? */
bool sk_taxii_content_type_ok(const char *h);

/* --- collections (taxii_collections.c) --- */

/*
 * The collection with id or alias key, or number cid, in the current root
 * into *ci, whose strings the caller frees with sk_collection_clear() after
 * SK_OK.  SK_ENOTFOUND if none.
 */
sk_err sk_taxii_find_coll(ctx *c, const char *key, int64_t cid, coll_info *ci, sk_error *err);
/* Append the TAXII collection resource of ci as account access a sees it. */
void sk_taxii_put_collection(sk_buf *b, const coll_info *ci, const sk_access *a);
/*
 * Resolve the collection of the URL for a read or write; false after
 * answering (401, 403, 404 or 500).  On true the caller clears ci->c.
 */
bool sk_taxii_open_coll(ctx *c, const char *key, bool write, coll_info *ci, sk_access *a);
void sk_taxii_get_discovery(ctx *c);
/* title and desc of the root from the store (borrowed; NULL: none). */
void sk_taxii_get_api_root(ctx *c, const char *title, const char *desc);
void sk_taxii_get_collections(ctx *c);

/* --- objects (taxii_objects.c) --- */

/* GET objects, manifest, one object (oid) or its versions (oid). */
void sk_taxii_get_objects(ctx *c, const char *ckey, enum mode mode, const char *oid);
void sk_taxii_delete_object(ctx *c, const char *ckey, const char *oid);

/* --- POST and status (taxii_post.c) --- */

void sk_taxii_post_objects(ctx *c, const char *ckey);
/*
 * The checks of a POST of objects that need no body: credentials, size,
 * media type, write access to collection ckey.  false after answering (401,
 * 403, 404, 413, 415, 500); on true the caller clears ci->c.
 */
bool sk_taxii_post_allowed(ctx *c, const char *ckey, coll_info *ci, sk_access *a);
/* Answer status sid with http_status if the account may see it, else 404. */
void sk_taxii_render_status(ctx *c, const char *sid, int http_status);
/* Finish the queued imports and stop the background writer (sk_taxii_free). */
void sk_taxii_writer_stop(sk_taxii *t);

/*
 * At server start: statuses still pending belong to envelopes a crash
 * interrupted; their imports ran in one transaction, so nothing of them is
 * stored.  Mark them complete with every object failed.
 */
sk_err sk_taxii_recover_statuses(sk_store *st, sk_error *err);

#endif
