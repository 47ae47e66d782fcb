/*
 * logfmt.h - internal interface between the line reader (logread.c) and the
 * per-format line parsers (logfmt_*.c).
 *
 * A parser gets one line (without its newline) and a builder that fills the
 * record (detect/logbuild.h).  It returns LF_RECORD, LF_SKIP (header,
 * comment, blank) or LF_MALFORMED with a static reason.  Values that need
 * rewriting go to the builder's scratch area, whose size bounds the work per
 * line.
 */
#ifndef SCHAKEL_LOGFMT_H
#define SCHAKEL_LOGFMT_H

#include "detect/logbuild.h"
#include "schakel/logread.h"
#include "schakel/psl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { LF_SKIP = 0, LF_RECORD = 1, LF_MALFORMED = -1 };

/* ---- formats ---- */

/* Zeek field actions, shared by TSV and JSON (looked up by column name). */
typedef enum zk_act {
	ZK_IGNORE = 0,
	ZK_TS,
	ZK_PATH,
	ZK_IP_SRC,
	ZK_IP_DST,
	ZK_IP,
	ZK_PORT_SRC,
	ZK_PORT_DST,
	ZK_DOMAIN,
	ZK_HOST, /* IP or domain */
	ZK_HTTP_HOST,
	ZK_HTTP_URI,
	ZK_URL,
	ZK_JA3,
	ZK_JA3S,
	ZK_JA4,
	ZK_MD5,
	ZK_SHA1,
	ZK_SHA256,
	ZK_HASH,
	ZK_X509_FP, /* by length: SHA-1 or SHA-256 */
	ZK_X509_SERIAL,
	ZK_EMAIL_SRC,
	ZK_EMAIL_DST,
	ZK_EMAIL,
	ZK_UA,
	ZK_FILENAME,
	ZK_SIGNATURE,
} zk_act;

/* Index of a column name in the Zeek map (-1 = unmapped); entry i: its action and static name. */
int sk_logfmt_zeek_lookup(const char *name, size_t n);
const char *sk_logfmt_zeek_entry(int i, zk_act *act);
/* Action for a Zeek column of that name (any log). */
zk_act sk_logfmt_zeek_action(const char *name, size_t n);
/* Apply a (non-vector) Zeek value; ZK_HTTP_* are gathered by the caller. */
void sk_logfmt_zeek_apply(sk_logbuild *b, zk_act act, const char *field, const char *v, size_t n);

typedef struct sk_zeek_state sk_zeek_state;
sk_err sk_logfmt_zeek_new(sk_zeek_state **out);
void sk_logfmt_zeek_free(sk_zeek_state *z);
int sk_logfmt_zeek_line(sk_zeek_state *z, sk_logbuild *b, const char *line, size_t len,
                        const char **reason);

/* JSON lines: Zeek JSON and Suricata EVE (logfmt_eve.c holds the walker). */
int sk_logfmt_zeekjson_line(sk_logbuild *b, const char *line, size_t len, const char **reason);
int sk_logfmt_eve_line(sk_logbuild *b, const char *line, size_t len, const char **reason);

typedef struct sk_csv_state sk_csv_state;
sk_err sk_logfmt_csv_new(const char *mapping, sk_csv_state **out, sk_error *err);
void sk_logfmt_csv_free(sk_csv_state *c);
int sk_logfmt_csv_line(sk_csv_state *c, sk_logbuild *b, const char *line, size_t len,
                       const char **reason);

/*
 * Host telemetry.  ECS and osquery lines are read with the strict DOM
 * parser (core/json.c) into the state's arena, which keeps the values
 * until the next line.  An osquery snapshot line holds many rows: the
 * first call returns the first row's record and sk_logfmt_osq_more the
 * others (LF_SKIP when none is left).  An auditd event spans several lines
 * (one per record type, sharing a serial): lines are gathered and the event
 * is returned on its EOE line, on the first line of the next event, or by
 * sk_logfmt_audit_flush at the end of the input (LF_SKIP when nothing is
 * pending); the record's line and offset are those of the event's first line.
 */
typedef struct sk_host_state sk_host_state;
sk_err sk_logfmt_host_new(sk_host_state **out);
void sk_logfmt_host_free(sk_host_state *h);
int sk_logfmt_ecs_line(sk_host_state *h, sk_logbuild *b, const char *line, size_t len,
                       const char **reason);
int sk_logfmt_osq_line(sk_host_state *h, sk_logbuild *b, const char *line, size_t len,
                       const char **reason);
int sk_logfmt_osq_more(sk_host_state *h, sk_logbuild *b);

typedef struct sk_audit_state sk_audit_state;
sk_err sk_logfmt_audit_new(size_t max_line, sk_audit_state **out);
void sk_logfmt_audit_free(sk_audit_state *a);
int sk_logfmt_audit_line(sk_audit_state *a, sk_logbuild *b, const char *line, size_t len,
                         const char **reason);
int sk_logfmt_audit_flush(sk_audit_state *a, sk_logbuild *b);
/* The serial of an audit line ("audit(SECS:SERIAL)"), or NULL; *n its length. */
const char *sk_logfmt_audit_serial(const char *line, size_t len, size_t *n);
/* An EOE (end of event) line? */
bool sk_logfmt_audit_is_eoe(const char *line, size_t len);

/* psl may be NULL (TLD syntax fallback). */
int sk_logfmt_text_line(const sk_psl *psl, sk_logbuild *b, const char *line, size_t len,
                        const char **reason);

#endif
