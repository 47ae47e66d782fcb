/*
 * logfmt_host.h - state shared by the JSON host-telemetry readers (ECS in
 * logfmt_ecs.c, osquery in logfmt_osquery.c): one strict DOM document whose
 * arena holds the current line's values until the next line, and the rows of
 * an osquery line still to be returned.
 */
#ifndef SCHAKEL_LOGFMT_HOST_H
#define SCHAKEL_LOGFMT_HOST_H

#include "logfmt.h"
#include "schakel/json.h"

struct sk_host_state {
	sk_jdoc *doc;
	/* osquery: the rows of the current line and the envelope they share */
	const sk_jval *rows[2]; /* "snapshot" / "diffResults.added", "diffResults.removed" */
	const sk_jval *row;     /* "columns" of a differential line */
	uint32_t set, next;     /* position in rows[] */
	int64_t ts_us;
	const char *name;
	size_t name_len;
	char why[SK_ERROR_MSG_MAX]; /* the reason of the last malformed line */
};

/*
 * Parse a line into h's document: LF_RECORD with *root an object, LF_SKIP
 * for a blank line, LF_MALFORMED with the parser's reason (what, which byte).
 */
int sk_logfmt_host_parse(sk_host_state *h, const char *line, size_t len, const sk_jval **root,
                         const char **reason);

/* A JSON integer as decimal text in the record's scratch (NULL when full). */
const char *sk_logfmt_host_int(sk_logbuild *b, const sk_jval *v, size_t *n);

#endif
