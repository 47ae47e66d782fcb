/*
 * logrec.h - the observation record that every log reader produces.
 *
 * A log line becomes one sk_logrec: its time, where it was (line, byte
 * offset), and up to SK_LOGREC_MAX_OBS typed values (observations) found in
 * it.  Values point into the reader's line buffer, or into a per-reader
 * scratch area when they had to be unescaped or normalised, so building a
 * record never allocates.  Everything in a record is valid until the next
 * sk_logread_next() on the reader that produced it.
 *
 * What each kind/role stands for in STIX patterns (the matcher's mapping):
 *   SK_OBS_IPV4     NONE: ipv4-addr:value
 *                   SRC:  network-traffic:src_ref.value (and ipv4-addr:value)
 *                   DST:  network-traffic:dst_ref.value (and ipv4-addr:value)
 *   SK_OBS_IPV6     as IPV4 with ipv6-addr:value
 *   SK_OBS_PORT     SRC: network-traffic:src_port   DST: network-traffic:dst_port
 *   SK_OBS_DOMAIN   domain-name:value (DNS query/answer, SNI, HTTP Host, SAN)
 *   SK_OBS_URL      url:value
 *   SK_OBS_EMAIL    email-addr:value (SRC = sender, DST = recipient);
 *                   SRC also email-message:from_ref.value, DST to_ref.value
 *   SK_OBS_MD5/SHA1/SHA256/SHA512
 *                   file:hashes.'MD5' / 'SHA-1' / 'SHA-256' / 'SHA-512'
 *   SK_OBS_X509_SHA1/X509_SHA256
 *                   x509-certificate:hashes.'SHA-1' / 'SHA-256'
 *   SK_OBS_X509_SERIAL  x509-certificate:serial_number
 *   SK_OBS_JA3/JA3S/JA4 no standard STIX object: x-ja3 style custom paths
 *                   (e.g. x-ja3:hash), or network-traffic:extensions custom
 *   SK_OBS_USER_AGENT   network-traffic:extensions.'http-request-ext'.
 *                       request_header.'User-Agent'
 *   SK_OBS_FILENAME file:name
 *   SK_OBS_SIGNATURE    not an observable: context (IDS alert signature)
 *   SK_OBS_CMDLINE  process:command_line
 *   SK_OBS_PROCESS  process:name, process:image_ref.name
 *   SK_OBS_REGKEY   windows-registry-key:key ("HKEY_LOCAL_MACHINE\..."; the
 *                   readers spell out abbreviated hives, HKLM -> HKEY_LOCAL_MACHINE;
 *                   compared case-insensitively, as Windows does)
 *   SK_OBS_DIRECTORY    directory:path, file:parent_directory_ref.path
 *   SK_OBS_MUTEX    mutex:name
 *   SK_OBS_USER     user-account:user_id, user-account:account_login
 *   SK_OBS_PARENT, SK_OBS_PARENT_CMDLINE
 *                   process:parent_ref.name, process:parent_ref.command_line
 *                   (the parent is also a process of the record: its name
 *                   and command line are added as PROCESS and CMDLINE too)
 *   SK_OBS_REGVALUE windows-registry-key:values[*].name (case-insensitive)
 *   SK_OBS_PHONE    a telephone number in E.164 ('+' and 8 to 15 digits), from
 *                   a tel: or sip: URI's user part (Zeek sip.log From/To/uri,
 *                   EVE sip uri/from/to, CSV call records) or a number as written in a phone column;
 *                   matched only by hashed indicators (x-schakel-phone:value,
 *                   docs/private-matching.md): no plain pattern path names it
 *
 * Normalisation done by the readers: domains lowercased, trailing dot
 * removed, syntax checked (labels of letters, digits, '-' and '_', 1..63
 * bytes, name <= 253); hashes and fingerprints lowercase hex (colons
 * removed); e-mail addresses stripped of a display name and angle brackets,
 * domain part lowercased; IPs, URLs and ports exactly as logged (the matcher
 * parses and normalises them).  Values that fail their syntax check are
 * dropped silently (they are not observations), they do not make the line
 * malformed.
 */
#ifndef SCHAKEL_LOGREC_H
#define SCHAKEL_LOGREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sk_obs_kind {
	SK_OBS_NONE = 0,
	SK_OBS_IPV4,
	SK_OBS_IPV6,
	SK_OBS_DOMAIN,
	SK_OBS_URL,
	SK_OBS_EMAIL,
	SK_OBS_MD5,
	SK_OBS_SHA1,
	SK_OBS_SHA256,
	SK_OBS_SHA512,
	SK_OBS_JA3,
	SK_OBS_JA3S,
	SK_OBS_JA4,
	SK_OBS_X509_SHA1,
	SK_OBS_X509_SHA256,
	SK_OBS_X509_SERIAL,
	SK_OBS_PORT,
	SK_OBS_USER_AGENT,
	SK_OBS_FILENAME,
	SK_OBS_SIGNATURE,
	/* host telemetry (ECS / Sysmon, osquery, auditd): no src / dst role */
	SK_OBS_CMDLINE,   /* process:command_line */
	SK_OBS_PROCESS,   /* process:name (the image's base name) */
	SK_OBS_REGKEY,    /* windows-registry-key:key, hive spelled out */
	SK_OBS_DIRECTORY, /* directory:path */
	SK_OBS_MUTEX,     /* mutex:name */
	SK_OBS_USER,      /* user-account:user_id */
	SK_OBS_PARENT,    /* process:parent_ref.name (the parent's image name) */
	SK_OBS_PARENT_CMDLINE, /* process:parent_ref.command_line */
	SK_OBS_REGVALUE,  /* windows-registry-key:values[*].name */
	SK_OBS_PHONE,     /* a telephone number, E.164 (hashed indicators only) */
	SK_OBS__COUNT
} sk_obs_kind;

typedef enum sk_obs_role {
	SK_ROLE_NONE = 0,
	SK_ROLE_SRC,
	SK_ROLE_DST,
} sk_obs_role;

/* One typed value.  v is NOT NUL-terminated: use len. */
typedef struct sk_obs {
	const char *v;
	const char *field; /* source field ("id.resp_h", "dns.rrname", CSV header); static or
	                      owned by the reader */
	uint32_t len;
	uint8_t kind;  /* sk_obs_kind */
	uint8_t role;  /* sk_obs_role */
	uint8_t flags; /* SK_OBS_F_*: what num holds (0 = nothing) */
	uint32_t num;  /* SK_OBS_F_IP4: the IPv4 address, host order (parsed once by the reader) */
} sk_obs;

#define SK_OBS_F_IP4 1u

#define SK_LOGREC_MAX_OBS 64

typedef struct sk_logrec {
	int64_t ts_us;   /* record time in microseconds since the epoch; 0 if none */
	uint64_t line;   /* 1-based line number in the (decompressed) input */
	uint64_t offset; /* byte offset of the line in the (decompressed) input */
	const char *raw; /* the line as read, without the newline (not NUL-terminated) */
	size_t raw_len;
	const char *event; /* Zeek _path / #path, EVE event_type; NULL if unknown */
	uint32_t event_len;
	uint32_t n;       /* values in obs[] */
	uint32_t dropped; /* values found beyond SK_LOGREC_MAX_OBS or the scratch space */
	sk_obs obs[SK_LOGREC_MAX_OBS];
} sk_logrec;

/* "ipv4", "domain", "sha256", ...; never NULL ("?" for out-of-range). */
const char *sk_obs_kind_name(sk_obs_kind kind);

/* "none", "src", "dst". */
const char *sk_obs_role_name(sk_obs_role role);

/*
 * The STIX object path a value of this kind and role stands for
 * ("network-traffic:src_ref.value", "file:hashes.'SHA-256'"); NULL for
 * SK_OBS_SIGNATURE and SK_OBS_NONE.  Static strings.
 */
const char *sk_obs_stix_path(sk_obs_kind kind, sk_obs_role role);

/* Syntax checks on s[0..n), usable by the matcher too. */
bool sk_obs_is_ipv4(const char *s, size_t n);
bool sk_obs_is_ipv6(const char *s, size_t n);   /* RFC 4291 text forms, optional %zone */
bool sk_obs_is_domain(const char *s, size_t n); /* labels only; no TLD check */
bool sk_obs_is_hex(const char *s, size_t n);

/*
 * Guess the kind of a free-standing value: IPv4, IPv6, URL (http/https/ftp),
 * e-mail, hash by hex length (32/40/64/128), domain (needs a dot and a
 * letter in the last label); SK_OBS_NONE otherwise.
 */
sk_obs_kind sk_obs_classify(const char *s, size_t n);

#endif
