/*
 * export_ids.h - indicators for the tools sensor operators run (Zeek's Intel
 * framework, Suricata datasets and rules): what export_ids.c takes from the
 * store and what the writers (export_ids.c for Zeek, export_suricata.c)
 * turn it into.
 */
#ifndef SCHAKEL_EXPORT_IDS_H
#define SCHAKEL_EXPORT_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "schakel/store.h"

/* What one '=' comparison compares, as the tools know it. */
typedef enum ids_type {
	IT_ADDR,
	IT_SUBNET,
	IT_DOMAIN,
	IT_URL, /* value as written: scheme://host/path */
	IT_EMAIL,
	IT_MD5,
	IT_SHA1,
	IT_SHA256,
	IT_SHA512,
	IT_FILE_NAME,
	IT_USER_NAME,
	IT_CERT_SHA1,
	IT_CERT_SHA256,
	IT_JA3,
	IT_JA3S,
	IT_USER_AGENT,
	IT__COUNT
} ids_type;

/* Why an indicator is left out (counted for the summary on stderr). */
typedef enum ids_reason {
	IR_NOT_STIX, /* pattern_type other than stix */
	IR_INVALID,  /* revoked, or outside [valid_from, valid_until) now */
	IR_PARSE,    /* the pattern does not parse */
	IR_MULTI,    /* several observations joined by AND / FOLLOWEDBY, or a qualifier */
	IR_AND,      /* comparisons joined by AND */
	IR_OP,       /* an operator other than = and IN, or NOT */
	IR_PATH,     /* a path no network sensor sees (host objects, ports...) */
	IR_VALUE,    /* a value that does not parse or that the file format cannot hold */
	IR_TOOL,     /* only types this tool has no way to match */
	IR__COUNT
} ids_reason;

typedef struct ids_ind {
	char *id, *name, *source;
} ids_ind;

typedef struct ids_item {
	ids_type type;
	char *value; /* normalised (see export_ids.c) */
	size_t ind;  /* index in inds */
} ids_item;

typedef struct ids_set {
	ids_ind *inds;
	size_t ninds, indcap;
	ids_item *items;
	size_t nitems, itemcap;
	size_t left[IR__COUNT]; /* indicators left out, by reason */
	size_t seen;            /* indicator versions looked at */
	bool oom;
} ids_set;

/* The reason's text for the summary. */
const char *ids_reason_text(ids_reason r);
/* Count ind as left out when none of its items has a type in `ok` (bit per ids_type). */
void ids_count_tool(ids_set *s, unsigned ok, size_t *written);

/*
 * `schakel export --format zeek-intel|suricata`: the current STIX indicators
 * (latest version, not revoked, valid now) that the node itself
 * holds, or that partner / account `who` may see (then through the sharing
 * policy and audited as export --for does); output is a file (zeek-intel,
 * NULL = stdout) or a directory (suricata).  What is left out and why goes
 * to stderr.  Returns an EXIT_* code.
 */
int cli_export_ids(sk_store *st, const char *who, const sk_query *q, const char *format,
                   const char *output, unsigned sid_base);

/* The types the Suricata files can match (bit per ids_type). */
#define IDS_SURICATA_TYPES                                                                         \
	((1u << IT_ADDR) | (1u << IT_SUBNET) | (1u << IT_DOMAIN) | (1u << IT_URL) |                \
	 (1u << IT_MD5) | (1u << IT_SHA1) | (1u << IT_SHA256) | (1u << IT_FILE_NAME) |             \
	 (1u << IT_CERT_SHA1) | (1u << IT_JA3) | (1u << IT_JA3S) | (1u << IT_USER_AGENT))

/*
 * Write the Suricata files into directory dir (created 0700 if absent, files
 * 0600): datasets, hash lists, IP reputation and the rules that load them;
 * *values is the number of values written.  items must be sorted.  Returns
 * an EXIT_* code.
 */
int ids_write_suricata(const ids_set *s, const char *dir, unsigned sid_base, size_t *values);

#endif
