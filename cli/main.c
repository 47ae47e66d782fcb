/*
 * main.c - the schakel command: global options and git-style dispatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DB_HELP "  --db PATH     node database (default $SCHAKEL_DB or ./schakel.db)\n"

const cli_cmd cli_commands[] = {
    {"init", cmd_init, "create a node: its identity and an empty store",
     "usage: schakel init [--name NAME] [--sector SECTOR]... [--country CC] [--contact TEXT]\n"
     "\n"
     "Creates the node database with its STIX identity (an organisation), a\n"
     "location for --country, and a collection named 'default'.\n"
     "\n"
     "  --name NAME       organisation name (default: 'schakel node <hostname>')\n"
     "  --sector SECTOR   industry sector, e.g. government-national, utilities,\n"
     "                    water, energy, financial-services (repeatable)\n"
     "  --country CC      ISO 3166-1 alpha-2 country code, e.g. NL\n"
     "  --contact TEXT    contact information published with the identity\n" DB_HELP},
    {"import", cmd_import, "import STIX bundles, envelopes, arrays, objects or NDJSON",
     "usage: schakel import [--collection NAME] [--from PARTNER] [--strict] [--quiet] FILE...\n"
     "\n"
     "Imports STIX 2.0/2.1 content.  FILE may be '-' for stdin; gzip is read\n"
     "transparently.  Accepts a bundle, a TAXII 2.1 envelope, a JSON array of\n"
     "objects, one object, or newline-delimited JSON.  Invalid objects are\n"
     "reported with file, line and id and skipped; valid ones are stored.\n"
     "Every object passes the write rule (docs/sharing-policy.md): without\n"
     "--from, objects produced by another identity come from an unknown source\n"
     "and their TLP:AMBER and stricter versions never leave this node.\n"
     "\n"
     "  --collection NAME  collection to add to (default 'default'; created if new)\n"
     "  --from PARTNER     the files come from this partner: their objects are\n"
     "                     received from it (its unmarked level, onward sharing)\n"
     "  --strict           reject a whole file on its first invalid object\n"
     "  --batch N          objects per transaction (default 5000)\n"
     "  --quiet            no progress bar and no per-type summary\n" DB_HELP
     "\nExit status: 0 everything stored; 3 some objects rejected (each reported)\n"
     "and the rest stored; 1 nothing usable stored (unreadable input, every\n"
     "object rejected, or any rejection with --strict); 2 usage.\n"},
    {"get", cmd_get, "print an object (latest version, or all versions)",
     "usage: schakel get [--all-versions] [--compact] ID\n"
     "\n"
     "  --all-versions   every stored version, oldest first (2.0 and 2.1)\n"
     "  --compact        one line of JSON per version\n" DB_HELP},
    {"list", cmd_list, "list objects, newest last",
     "usage: schakel list [--type T]... [--collection C] [--added-after TS] [--limit N]\n"
     "                    [--all-versions] [--json]\n"
     "\n"
     "A row: when the version was added, its modified time, type, id, TLP,\n"
     "REVOKED for a revoked version, and its name.\n"
     "\n"
     "  --type T          only this type (repeatable, or comma-separated)\n"
     "  --collection C    only this collection (name or id); date_added is its own\n"
     "  --added-after TS  only versions added after TS (RFC 3339)\n"
     "  --limit N         at most N rows\n"
     "  --all-versions    every version, not only the latest\n"
     "  --json            one JSON object per line instead of a table\n" DB_HELP},
    {"show", cmd_show, "an object and its relationships, for people",
     "usage: schakel show ID\n"
     "\n"
     "Prints the latest version of the object in readable form (every property:\n"
     "the common ones first, then the rest as they are), its signature verdict,\n"
     "for a sighting what was sighted and by whom, the reports, groupings,\n"
     "notes and opinions that reference it, and its relationships and\n"
     "sightings in both directions.\n" DB_HELP},
    {"stats", cmd_stats, "counts per type and per collection",
     "usage: schakel stats [--json]\n" DB_HELP},
    {"export", cmd_export, "write a STIX 2.1 bundle",
     "usage: schakel export [--collection C] [--type T]... [--added-after TS] [--latest]\n"
     "                      [--output FILE] [--for PARTNER|ACCOUNT]\n"
     "       schakel export --format zeek-intel|suricata [--for PARTNER|ACCOUNT]\n"
     "                      [--collection C] [--output FILE|DIR] [--sid-base N]\n"
     "\n"
     "Writes a STIX 2.1 bundle with every stored version (or only the latest)\n"
     "of the selected objects, exactly as they were imported.\n"
     "\n"
     "--format zeek-intel writes a Zeek Intel framework file, --format suricata\n"
     "datasets, hash lists, IP reputation and the rules that load them into DIR,\n"
     "from the current indicators whose patterns a sensor can match (values\n"
     "compared with = or IN, joined by OR); what is left out and why is printed\n"
     "on stderr (see docs/matcher.md).\n"
     "\n"
     "  --collection C    only this collection\n"
     "  --type T          only this type (repeatable, or comma-separated)\n"
     "  --added-after TS  only versions added after TS\n"
     "  --latest          only the latest version of each object\n"
     "  --output FILE     write to FILE instead of stdout\n"
     "  --for NAME        only what partner (or account) NAME may see under the\n"
     "                    sharing policy (docs/sharing-policy.md)\n"
     "  --format F        stix (default), zeek-intel or suricata\n"
     "  --sid-base N      suricata: first rule sid (default 9700000)\n" DB_HELP},
    {"collection", cmd_collection, "list, add and share collections",
     "usage: schakel collection list\n"
     "       schakel collection add NAME [--id UUID] [--title T] [--description D]\n"
     "                [--alias A]... [--default-tlp LEVEL] [--public] [--api-root NAME]\n"
     "                [--fleet]\n"
     "       schakel collection set NAME --fleet|--no-fleet\n"
     "       schakel collection grant PARTNER COLLECTION [--read] [--write] [--amber]\n"
     "                [--amber-strict]\n"
     "       schakel collection red-recipient ACCOUNT COLLECTION [--remove]\n"
     "       schakel collection alias COLLECTION ALIAS\n"
     "\n"
     "A collection's objects without a TLP marking are treated as --default-tlp\n"
     "(default amber).  --public lets anyone read its TLP:CLEAR objects.  grant\n"
     "replaces the partner's grant: --read/--write, and whether the partner is a\n"
     "named TLP:AMBER / TLP:AMBER+STRICT recipient (see docs/sharing-policy.md).\n"
     "red-recipient names one account as a TLP:RED recipient.  A --fleet\n"
     "collection's versions are published to the sensor fleet's NATS JetStream\n"
     "streams by `serve --fleet` (docs/fleet.md).\n" DB_HELP},
    {"partner", cmd_partner, "add or list partner organisations",
     "usage: schakel partner add NAME [--identity ID] [--country CC] [--sector S]...\n"
     "       schakel partner set NAME --unmarked-tlp LEVEL | --key PUBKEY | --trust 0-100\n"
     "       schakel partner list\n"
     "\n"
     "A partner is an organisation, known by a STIX identity (created unless\n"
     "--identity gives the partner's own).  Objects whose created_by_ref is that\n"
     "identity are the partner's own (the TLP producer rule).  The unmarked\n"
     "level (default amber) is the TLP its unmarked POSTs arrive under; --key\n"
     "pins the partner's Ed25519 public key (what it signs is verified with it).\n" DB_HELP},
    {"account", cmd_account, "add, change, disable or delete accounts",
     "usage: schakel account add NAME --partner P [--password-stdin | --password PW]\n"
     "       schakel account add NAME --role admin|analyst|viewer|metrics\n"
     "                [--password-stdin | --password PW]\n"
     "       schakel account passwd NAME [--password-stdin | --password PW]\n"
     "       schakel account disable|enable|delete NAME\n"
     "       schakel account list\n"
     "       schakel account totp NAME enable|disable\n"
     "\n"
     "With --partner the account is a partner's (TAXII, under the partner's\n"
     "grants); with --role it is one of this node's own people: role metrics\n"
     "may read /metrics and nothing else, admin may read /metrics too.\n"
     "Without a password option one is generated and printed once on stdout.\n"
     "Passwords are stored only as argon2id hashes.  disable refuses the\n"
     "account's password and tokens until enable; delete removes it with its\n"
     "tokens.  Every change takes effect at once, on a running server too.\n"
     "totp enable gives the account a second factor for the console's login\n"
     "(RFC 6238, 6 digits every 30 s) and prints its otpauth:// URI once.\n" DB_HELP},
    {"token", cmd_token, "create or revoke API tokens",
     "usage: schakel token create ACCOUNT [--label L]\n"
     "       schakel token revoke TOKEN-ID|TOKEN\n"
     "\n"
     "create prints the token once on stdout (its id on stderr); only a hash is\n"
     "stored.  Use it as 'Authorization: Bearer TOKEN'.\n" DB_HELP},
    {"serve", cmd_serve, "serve the node over TAXII 2.1",
     "usage: schakel serve [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE]\n"
     "                     [--threads N] [--insecure] [--page-size N]\n"
     "                     [--max-content-length BYTES] [--timeout SECONDS]\n"
     "                     [--header-timeout S] [--body-timeout S]\n"
     "                     [--max-connections N] [--max-connections-per-address N]\n"
     "                     [--max-params N] [--max-uri-length BYTES]\n"
     "                     [--watch FILE|- [--watch-format F] [--alerts FILE]\n"
     "                      [--webhook URL] [--lookback DUR] [--subdomains]]\n"
     "                     [--no-ui] [--ui-idle S] [--ui-max-age S]\n"
     "                     [--fleet nats://HOST:PORT[,...] [--fleet-replicas N]]\n"
     "                     [--fleet-sensor nats://HOST:PORT --fleet-seed FILE\n"
     "                      [--fleet-collection NAME]]\n"
     "\n"
     "--fleet makes this node a fleet hub: every version entering a fleet\n"
     "collection is published to NATS JetStream, per audience, and the\n"
     "sensors' sightings are taken in.  --fleet-sensor makes it a sensor\n"
     "(credentials from `fleet sensor add`): it applies its audience's stream\n"
     "to its store (collection 'fleet') and --watch matcher, and publishes its\n"
     "sightings.  tls:// URLs use TLS; several URLs (comma-separated) name the\n"
     "servers of a cluster, where --fleet-replicas 3 replicates the streams the\n"
     "hub creates (docs/fleet.md).\n"
     "\n"
     "Serves the TAXII 2.1 API (discovery at /taxii2/) and the analyst console\n"
     "(/ui/, its API under /ui/api/; docs/console.md).  Plain HTTP is only\n"
     "allowed on a loopback address unless --insecure is given; with a\n"
     "certificate and key it serves HTTPS.  Prints the bound address on\n"
     "stdout, one JSON access-log line per request on stderr; stops cleanly on\n"
     "SIGTERM or SIGINT.  The process is not dumpable (no core dump, no ptrace).\n"
     "Limits: docs/serving.md.\n"
     "\n"
     "Options may also come from a configuration file, /etc/schakel/schakel.conf\n"
     "(or $SCHAKEL_CONFIG, or --config FILE): one option a line, KEY = VALUE with\n"
     "KEY a long option's name and flags true or false; the command line's\n"
     "options override it (docs/serving.md, 'Configuration file').\n"
     "\n"
     "  --config FILE             the configuration file (must exist when given)\n"
     "  --log FILE                the access log and messages to FILE (0600) instead\n"
     "                            of stderr; SIGHUP reopens it and the --alerts file\n"
     "  --listen ADDR:PORT        default 127.0.0.1:6543 (port 0 = any free port)\n"
     "  --threads N               worker threads (default 4)\n"
     "  --page-size N             most objects per page (default 1000)\n"
     "  --max-content-length B    largest POST body (default 104857600)\n"
     "  --timeout S               idle connection timeout (default 30; also\n"
     "                            --idle-timeout)\n"
     "  --header-timeout S        a request head must be in within S of its\n"
     "                            start, however slowly it comes (default 10)\n"
     "  --body-timeout S          a request body must be in within S (default 120)\n"
     "  --max-connections N       open connections in all (default 1000)\n"
     "  --max-connections-per-address N\n"
     "                            open connections per client address (default 64)\n"
     "  --max-params N            query parameters per request, at most 32\n"
     "                            (default 32; more: 400)\n"
     "  --max-uri-length B        request target length (default 16384; more: 414)\n"
     "  --metrics                 serve GET /metrics (Prometheus text format)\n"
     "  --metrics-public yes|no   /metrics without credentials (default: yes only\n"
     "                            when listening on loopback; else an account with\n"
     "                            role metrics or admin)\n"
     "  --auth-concurrency N      password checks (argon2) at once (default: CPUs-1)\n"
     "  --auth-wait-ms MS         wait for a free check, then 503 (default 500)\n"
     "  --auth-user-failures N    wrong passwords for a user from one address ...\n"
     "                            (default 5)\n"
     "  --auth-addr-failures N    ... or from one address for any user (default 30)\n"
     "  --auth-window S           ... within S seconds (default 300) are answered 429\n"
     "  --auth-block S            for S seconds (default 30), doubling with each\n"
     "  --auth-block-max S        further block up to S (default 900)\n"
     "  --no-sync                 do not run the peer sync scheduler\n"
     "  --watch FILE|-            match a live log against the node's indicators\n"
     "  --watch-format F          auto|zeek|zeek-json|eve|csv|text|ecs|osquery|auditd (default auto)\n"
     "  --csv-map MAP             as for scan\n"
     "  --alerts FILE             append alerts (JSON lines) to FILE\n"
     "  --no-alerts-stdout        do not print alerts on stdout\n"
     "  --webhook URL             POST each alert (JSON) to URL\n"
     "  --lookback DUR            rescan the last DUR (e.g. 90s, 30m, 24h) of the log\n"
     "                            when indicators arrive (at most 256 MiB kept)\n"
     "  --subdomains              as for scan\n"
     "  --no-warninglists         as for scan: keep indicators on warning lists\n"
     "  --no-sightings            do not record sightings of alerted indicators\n"
     "  --no-ui                   no console: /, /ui and /ui/... answer 404\n"
     "  --ui-idle S               a console session ends S seconds unused\n"
     "                            (default 1800)\n"
     "  --ui-max-age S            ... and S seconds after its login (default 43200)\n"
     "\n"
     "Unless --no-sync, every peer (schakel peer) is synced in its own thread\n"
     "every --interval seconds, with exponential backoff after failures.\n"
     "With --watch, indicators that arrive (POST, pull, import) are live within\n"
     "about 100 ms, without a restart; see docs/matcher.md, Live watch.\n" DB_HELP},
    {"pattern", cmd_pattern, "check a STIX pattern",
     "usage: schakel pattern check [--spec-version 2.0|2.1] [--json] PATTERN\n"
     "\n"
     "Parses a STIX pattern (PATTERN may be '-' for stdin) under the grammar of\n"
     "one STIX version (default 2.1; imports use each indicator's own).  Prints\n"
     "'valid pattern: ...' and exits 0, or prints where and why it is invalid\n"
     "and exits 1.\n"
     "\n"
     "  --spec-version V  2.1: START/STOP take t'...', each qualifier kind once on\n"
     "                    an observation expression; 2.0: START/STOP take '...',\n"
     "                    qualifiers may repeat\n"
     "  --json            print the parsed tree as JSON\n"},
    {"fleet", cmd_fleet, "sensor fleets on NATS JetStream: sensors, status",
     "usage: schakel fleet sensor add NAME --partner P [--seed-out FILE] [--authz FILE]\n"
     "       schakel fleet sensor list\n"
     "       schakel fleet sensor remove NAME [--authz FILE]\n"
     "       schakel fleet authz [--authz FILE]\n"
     "       schakel fleet status [--nats URL] [--format text|json]\n"
     "\n"
     "A sensor reads the audience stream of its partner (what the partner may see\n"
     "under the sharing policy) and publishes its sightings back.  sensor add makes\n"
     "the sensor's NKey and prints its credential file once (or writes it 0600 to\n"
     "--seed-out) for `serve --fleet-sensor URL --fleet-seed FILE` on the sensor,\n"
     "and rewrites the nats-server authorization include (--authz, default\n"
     "DB.nats-authz.conf): reload nats-server after.  status --nats reads each\n"
     "sensor's consumer position from JetStream (one attempt, 2 s at most).  See\n"
     "docs/fleet.md.\n" DB_HELP},
    {"peer", cmd_peer, "federation: peers to pull from and push to",
     "usage: schakel peer add NAME URL --api-root R --collection ID\n"
     "                  [--auth basic|token|none] [--user U] [--secret-stdin | --secret-env VAR]\n"
     "                  [--pull] [--push] [--ca FILE] [--identity ID]\n"
     "                  [--local-collection C] [--reshare] [--interval S]\n"
     "                  [--unmarked-tlp LEVEL] [--key PUBKEY | --trust-on-first-use]\n"
     "       schakel peer set NAME [--url URL] [any option of add]\n"
     "                  [--no-pull] [--no-push] [--no-reshare]\n"
     "       schakel peer list | status\n"
     "       schakel peer remove NAME\n"
     "       schakel peer sync NAME [--timeout S]\n"
     "\n"
     "A peer is one collection on a TAXII 2.1 server.  Pulled objects land in\n"
     "--local-collection (default 'default'; created when missing); pushed\n"
     "objects are taken from it,\n"
     "as far as the onward-sharing rules allow (docs/sharing-policy.md):\n"
     "--reshare lets received TLP:GREEN/CLEAR objects go to this peer;\n"
     "--identity is the peer organisation's STIX identity (its own objects may\n"
     "go back to it).  --unmarked-tlp is the level the peer's unmarked objects\n"
     "arrive under (default amber; never the local collection's default).\n"
     "--key pins the peer's Ed25519 public key for --identity; with\n"
     "--trust-on-first-use the key its identity publishes is pinned once, and a\n"
     "later change is refused unless signed by the pinned key (docs/provenance.md).\n"
     "The secret (password or token) is kept in <db>.secrets\n"
     "(mode 0600), never in the database and never printed.  Without --pull or\n"
     "--push, --pull is assumed.  `peer set` changes only what it is given and\n"
     "keeps the sync state (the pull cursor starts again only when the URL, API\n"
     "root or collection changes).  `schakel serve` syncs every peer each\n"
     "--interval seconds (default 30).\n" DB_HELP},
    {"invite", cmd_invite, "invite a partner's node to join this one (one-time code)",
     "usage: schakel invite PARTNER --collection C --url URL [--tls-cert FILE]\n"
     "                      [--read] [--write] [--amber | --amber-strict]\n"
     "                      [--account NAME] [--expires DUR]\n"
     "       schakel invite list\n"
     "\n"
     "Makes PARTNER (created when new) an account (default '<partner>-sync') and\n"
     "the grants given on collection C, nothing more (--read when none is given;\n"
     "an AMBER recipient only with --amber), and prints a one-time invitation\n"
     "code, alone on stdout.  The code carries URL (this server as the partner\n"
     "reaches it), the API root and collection, this node's identity and public\n"
     "key, the pin of the TLS certificate's public key (--tls-cert, the file\n"
     "serve uses; required for https://), and a secret of which this node keeps\n"
     "only a hash.  It is signed with this node's key, lasts --expires (1m-30d,\n"
     "e.g. 90m, 72h, 7d; default 72h) and is redeemed once by `schakel enrol` at\n"
     "the partner's node, which registers its identity and key here and gets an\n"
     "API token.  Read the printed key fingerprint to the partner's operator.\n"
     "list shows every invitation: open, used (and by which identity) or\n"
     "expired.  See docs/enrol.md.\n" DB_HELP},
    {"enrol", cmd_enrol, "join a hub with its invitation code",
     "usage: schakel enrol CODE|-|@FILE [--name PEER] [--fingerprint FP]\n"
     "                     [--local-collection C] [--ca FILE] [--allow-http]\n"
     "                     [--no-sync]\n"
     "\n"
     "Redeems an invitation made by `schakel invite` at the hub: checks the code's\n"
     "signature, its expiry and (with --fingerprint, as the hub's operator read\n"
     "it out) the hub's key; connects to the hub over TLS pinned to the public\n"
     "key in the code (with --ca, the chain is checked too); sends this node's\n"
     "identity and public key; stores the API token the hub returns in\n"
     "<db>.secrets; adds the hub as peer PEER (default 'hub'; pull, and push for\n"
     "sightings), its key pinned; and runs the first sync (not with --no-sync).\n"
     "Give the code as '-' (stdin) or @FILE rather than on the command line,\n"
     "where other users of the machine can read it.  A used, expired, changed or\n"
     "foreign code is refused with exit 1 and nothing stored.  An http:// hub\n"
     "needs --allow-http (the token then travels in clear).\n" DB_HELP},
    {"config", cmd_config, "node settings",
     "usage: schakel config set NAME VALUE | schakel config get NAME\n"
     "       schakel config show [--config FILE]\n"
     "\n"
     "show lists every node setting with its value and where it comes from\n"
     "(database or default), then the options serve reads from its\n"
     "configuration file (/etc/schakel/schakel.conf, $SCHAKEL_CONFIG, or\n"
     "--config), each with its file and line.\n"
     "\n"
     "  decay.threshold N                score (0-100) below which an indicator stops\n"
     "                                   alerting (default 0: none stops)\n"
     "  decay.KIND.lifetime DUR, decay.KIND.speed X\n"
     "                                   the decay model of ip, domain, url, file,\n"
     "                                   email or other indicators (DUR: 30d, 6w,\n"
     "                                   3mo, 2y); decay.default_trust N and\n"
     "                                   decay.default_confidence N: see docs/decay.md\n"
     "  sightings.anonymous true|per-sighting|false\n"
     "                                   sightings made here (sighting add, scan,\n"
     "                                   serve --watch) name an anonymous identity\n"
     "                                   (sectors and country only): one per node\n"
     "                                   (true: the producer can tell that two\n"
     "                                   sightings come from one reporter) or a\n"
     "                                   fresh one per sighting (not linkable)\n"
     "  sync.max_pages N                 most pages one pull of a peer fetches\n"
     "                                   (default 1000)\n"
     "  sync.max_seconds S               longest sync run of a peer, transfers\n"
     "                                   included (default 300)\n"
     "  taxii.title, taxii.description, taxii.contact TEXT\n"
     "                                   what TAXII discovery says of this server\n"
     "  taxii.default_root NAME          the API root discovery names as default\n"
     "  taxii.root.NAME.title|description TEXT\n"
     "                                   what an API root says of itself\n"
     "  taxii.root.NAME.name NEW         rename an API root (its URL changes)\n"
     "  taxii.root.NAME.enabled true|false\n"
     "                                   a disabled root is not listed and answers 404\n"
     "  cooperation.share true|false     consent to publish this node's cooperation\n"
     "                                   summary (report cooperation publish; default\n"
     "                                   false; audited)\n"
     "\n"
     "A run that reaches a sync limit, or whose peer repeats a `next` token,\n"
     "ends with an error in `peer status`; the next run resumes from the cursor.\n" DB_HELP},
    {"key", cmd_key, "the node's signing key and the keys pinned for others",
     "usage: schakel key show | key rotate | key list | key pin IDENTITY PUBKEY\n"
     "\n"
     "Every node has an Ed25519 key (<db>.key, mode 0600, never printed) and signs\n"
     "every object version it produces.  show prints the public key and a short\n"
     "fingerprint to read out over the phone (a node without a key gets one);\n"
     "rotate makes a new key and publishes it in the node's identity, signed\n"
     "with the old key, so that peers that pinned the old one accept it.  list\n"
     "shows the keys pinned per identity; pin pins one by hand (partner set\n"
     "--key and peer add --key do the same).  See docs/provenance.md.\n" DB_HELP},
    {"hashkey", cmd_hashkey, "collection hash keys for personal data shared as keyed hashes",
     "usage: schakel hashkey create COLLECTION | hashkey rotate COLLECTION | hashkey list\n"
     "       schakel hashkey export COLLECTION --for PARTNER --output FILE\n"
     "       schakel hashkey import FILE\n"
     "\n"
     "A collection's hash key (32 random bytes in <db>.hashkeys, mode 0600, never\n"
     "printed) keys the HMAC-SHA-256 digests of `indicator hash`.  create makes the\n"
     "collection's key, rotate a new one (the old ones stay held, so indicators\n"
     "hashed under them keep matching until replaced); both print the public key\n"
     "id.  list shows ids, producers and collections, not keys.  export seals the\n"
     "current key to PARTNER's pinned key (partner set --key) and signs it with\n"
     "this node's; import checks the sender's pinned key and that the file is for\n"
     "this node, opens it and keeps the key.  A tampered or foreign file is refused\n"
     "with exit 1 and nothing kept.  See docs/private-matching.md.\n" DB_HELP},
    {"indicator", cmd_indicator, "personal-data indicators as keyed hashes",
     "usage: schakel indicator hash --collection C --type PATH --input FILE [--tlp LEVEL]\n"
     "                              [--name TEXT] [--bloom [--fp-rate P]]\n"
     "\n"
     "Reads one value a line (blank lines and # comments skipped), normalises each\n"
     "(e-mail lower-cased, phone numbers E.164), and stores in C one indicator\n"
     "carrying HMAC-SHA-256(key, value) under C's current hash key, as a list of\n"
     "digests or (--bloom) a Bloom filter with false-positive rate P (default\n"
     "0.001).  PATH: email-addr:value, domain-name:value, user-account:user_id or\n"
     "x-schakel-phone:value.  A bad value stops with FILE:LINE and nothing stored.\n"
     "Receivers holding the key match it in `scan`.  See docs/private-matching.md.\n" DB_HELP},
    {"backup", cmd_backup, "a consistent copy of the node, running or not",
     "usage: schakel backup FILE\n"
     "\n"
     "Copies the node's database with SQLite's online backup API (one consistent\n"
     "snapshot, also while `schakel serve` writes; a plain cp of a node in use\n"
     "misses what is still in its write-ahead log), checks the copy, and copies\n"
     "the node's key (<db>.key), peer secrets (<db>.secrets) and hash keys\n"
     "(<db>.hashkeys) beside it as FILE.key, FILE.secrets and FILE.hashkeys.  Every\n"
     "file is created 0600; FILE must not exist.\n" DB_HELP},
    {"restore", cmd_restore, "put a backup back as the node's database",
     "usage: schakel restore FILE [--force]\n"
     "\n"
     "Copies FILE (made by schakel backup) and its FILE.key and FILE.secrets to\n"
     "the node's database path, then opens it (a backup of an older release is\n"
     "migrated).  Refuses an existing database unless --force; stop its server\n"
     "first.\n" DB_HELP},
    {"bundle", cmd_bundle, "signed bundle files for partners without a network link",
     "usage: schakel bundle export --for PARTNER --output FILE [--since-last] [--encrypt]\n"
     "       schakel bundle import FILE [--collection NAME]\n"
     "\n"
     "export writes exactly what PARTNER may see (the TAXII sharing policy), signed\n"
     "by this node; --encrypt seals it to the partner's pinned key (partner set\n"
     "--key); --since-last sends only what was added since the last bundle for\n"
     "that partner.  import checks the sender's signature against its pinned key,\n"
     "that the file is for this node and newer than the last one from that\n"
     "sender, opens it, and stores its objects under every rule (write rule,\n"
     "onward sharing) as received from the sender, in one transaction.  A\n"
     "tampered, truncated, replayed or foreign file is refused with exit 1 and\n"
     "nothing stored.  See docs/provenance.md.\n" DB_HELP},
    {"verify", cmd_verify, "check the signature of an object's newest version",
     "usage: schakel verify ID\n"
     "\n"
     "Prints 'verified', 'unsigned', 'unknown key' or 'bad signature' for the\n"
     "newest stored version of ID, checked against the key pinned for its\n"
     "producer.  Exit 0 only for verified.\n" DB_HELP},
    {"revoke", cmd_revoke, "revoke an object produced here (a signed revoked version)",
     "usage: schakel revoke ID [--reason TEXT]\n"
     "\n"
     "Writes a new, signed version of ID with revoked: true into the collections\n"
     "that hold it, so that it travels where the object went.  Only objects this\n"
     "node produced can be revoked here; deleting locally never deletes\n"
     "anything elsewhere.\n" DB_HELP},
    {"sighting", cmd_sighting, "record a sighting of an indicator made here",
     "usage: schakel sighting add INDICATOR-ID [--count N] [--false-positive]\n"
     "\n"
     "Stores a sighting (created by this node, or its anonymous identity), marked\n"
     "like the indicator, in the collections holding the indicator; sync sends it\n"
     "towards the indicator's source, and each node on the way passes it on\n"
     "towards the indicator's producer.  Prints the sighting id.  A sighting\n"
     "refreshes the indicator's score; --false-positive says the hit was benign\n"
     "(x_schakel_false_positive) and lowers it instead (docs/decay.md).\n" DB_HELP},
    {"metrics", cmd_metrics, "sync metrics (Prometheus text format)",
     "usage: schakel metrics\n" DB_HELP},
    {"feed", cmd_feed, "turn plain feeds (maltrail, ipsum, lists, csv) into STIX indicators",
     "usage: schakel feed import --format FMT --producer NAME --tlp LEVEL [--collection C]\n"
     "                           [--confidence N] [--column MAP] [--label L]...\n"
     "                           [--valid-from TS] [--max-line N] [--quiet]\n"
     "                           [--feed NAME] [--valid-for DUR] FILE...\n"
     "\n"
     "Reads a plain indicator feed (gzip transparently; '-' = stdin) and stores one\n"
     "STIX 2.1 indicator per entry, with a STIX pattern for its kind, created by\n"
     "the producer's identity and marked with the TLP 2.0 level given.  Ids are\n"
     "derived from producer and pattern, so importing a feed again stores nothing\n"
     "new and an updated feed only adds its new entries.  Broken lines are\n"
     "reported as FILE:LINE and skipped.\n"
     "\n"
     "Formats:\n"
     "  maltrail   indicator<TAB>kind<TAB>category<TAB>name; kinds domain, ipv4,\n"
     "             ipv4_cidr, ipv4_port, ipv6_port, domain_port, url, regex, other\n"
     "             (detected); category and name become labels\n"
     "  ipsum      ip<TAB>count (the count goes into the description)\n"
     "  lines      one indicator a line, its kind detected: IPv4/IPv6 (CIDR, :port),\n"
     "             domain, URL, e-mail, MD5/SHA-1/SHA-256/SHA-512\n"
     "  csv        a header line, then records; see --column.  The kind column\n"
     "             takes the names above, or a family (ip, ip-src, ip-dst, hostname,\n"
     "             fqdn, uri, hash, email-src...): the value's kind is detected and\n"
     "             must belong to it\n"
     "Lines starting with '#' and blank lines are skipped.\n"
     "\n"
     "  --format FMT        maltrail, ipsum, lines or csv (required)\n"
     "  --producer NAME     organisation that produced the feed (required)\n"
     "  --tlp LEVEL         clear, green, amber, amber+strict or red (required)\n"
     "  --collection C      collection to add to (default 'feeds'; created if new)\n"
     "  --confidence N      confidence 0-100 on every indicator\n"
     "  --column MAP        csv: ROLE=COLUMN,... with roles value, kind, label\n"
     "                      (repeatable) and name; COLUMN is a header name or a\n"
     "                      1-based number, e.g. value=indicator,kind=type,label=category\n"
     "                      (default: guessed from the header)\n"
     "  --label L           add label L to every indicator (repeatable, max 8)\n"
     "  --valid-from TS     created/modified/valid_from of new indicators (default: now)\n"
     "  --feed NAME         a named feed of the producer: entries of its last import\n"
     "                      missing from this one expire (a new version with\n"
     "                      valid_until now) unless another feed of the producer\n"
     "                      holds them; one that comes back is valid again\n"
     "  --valid-for DUR     new indicators are valid for DUR (12h, 30d, 6w, 3mo, 2y)\n"
     "  --max-line N        longest line in bytes (default 8192; longer = rejected)\n"
     "  --batch N           entries per transaction (default 50000)\n"
     "  --check             only parse, build and validate; store nothing (in --check\n"
     "                      mode 'stored' counts the indicators that would be built)\n"
     "  --quiet             no progress bar and no summary\n" DB_HELP
     "\nExit status: 0 every line imported; 3 some lines rejected (each reported)\n"
     "and the rest imported; 1 nothing imported (unreadable input or every line\n"
     "rejected; with --check: any line rejected); 2 usage.\n"},
    {"galaxy", cmd_galaxy, "MISP galaxy threat-actor clusters into STIX (actors, sponsors, sectors)",
     "usage: schakel galaxy import [--source NAME] [--collection C] [--quiet] FILE|DIR...\n"
     "\n"
     "Turns MISP galaxy threat-actor clusters into STIX 2.1 threat actors produced by\n"
     "the source's identity (default \"MISP galaxy (imported)\"), marked TLP:CLEAR:\n"
     "aliases and ATT&CK group ids, the country as a location (located-at), a\n"
     "suspected state sponsor as attributed-to a nation-state threat actor, target\n"
     "categories as targets relationships to sector identities, and joins to the\n"
     "intrusion sets already stored (ATT&CK id, then name, then alias) by new\n"
     "attributed-to relationships from that source.  A directory's *.json files are\n"
     "read; files of other galaxies (country, sector) are skipped.  Ids derive from\n"
     "the cluster uuids: importing again stores nothing new.  One transaction: bad\n"
     "input is reported with its file and offset or cluster, and nothing is stored.\n"
     "See docs/galaxy.md.\n"
     "\n"
     "  --source NAME       the producing source's name\n"
     "  --collection C      collection to add to (default 'galaxies'; created if new)\n"
     "  --quiet             no summary\n" DB_HELP},
    {"actors", cmd_actors, "threat actors and intrusion sets: state attribution, sectors, ATT&CK",
     "usage: schakel actors [--country CC] [--sector KEY] [--q TEXT] [--json]\n"
     "       schakel actors show ID [--json]\n"
     "\n"
     "Lists threat actors and intrusion sets with their state attribution (the\n"
     "attributed-to chain to a nation-state actor, located-at / originates-from\n"
     "countries), aliases, targeted critical sectors and counts of campaigns,\n"
     "malware and techniques.  `show` gives one actor: attribution with\n"
     "confidences, campaigns, malware, tools, targets and its ATT&CK matrix.\n"
     "\n"
     "  --country CC        attributed to or located in country CC (ISO 3166-1)\n"
     "  --sector KEY        targets critical sector KEY: water, energy, finance,\n"
     "                      health, government, telecom, transport (docs/sectors.md)\n"
     "  --q TEXT            TEXT in the name, an alias or an external id\n"
     "  --json              the console's JSON (docs/console.md)\n" DB_HELP},
    {"dossier", cmd_dossier, "attribution dossiers: the evidence from a subject to a state",
     "usage: schakel dossier build SUBJECT [--since TS] [--for PARTNER]\n"
     "                             [--format json|html|stix] [--output FILE] [--max N]\n"
     "\n"
     "Assembles what the node holds about an intrusion set, threat actor or\n"
     "campaign (SUBJECT: its id, name or alias): the attribution chain to a state\n"
     "with the confidence of each link (the weakest link bounds the chain), what\n"
     "it did, who was hit (sightings by partner, sector and country), a timeline,\n"
     "the allies' opinions, the gaps, and the EU cyber-sanctions test point by\n"
     "point (docs/dossier.md).  Every item carries its evidence and provenance.\n"
     "The dossier informs a decision; it does not make one.\n"
     "\n"
     "  --for PARTNER       the releasable version: only what PARTNER (or account)\n"
     "                      may see, every figure recomputed; audited\n"
     "  --since TS          leave out sightings and events before TS\n"
     "  --format F          json (default: the data), html (a printable document)\n"
     "                      or stix (a signed report bundled with its objects)\n"
     "  --output FILE       write to FILE (0600) instead of stdout\n"
     "  --max N             items per list (default 200); cut lists are named\n" DB_HELP},
    {"opinion", cmd_opinion, "this node's opinion on a report (joint attribution)",
     "usage: schakel opinion add REPORT-ID --opinion VALUE [--explanation TEXT]\n"
     "\n"
     "Makes a STIX opinion produced and signed here on REPORT-ID, VALUE one of\n"
     "strongly-disagree, disagree, neutral, agree, strongly-agree, stored in the\n"
     "collections holding the report; it travels back towards the report's\n"
     "producer like a sighting (docs/dossier.md).\n" DB_HELP},
    {"warninglist", cmd_warninglist, "MISP warning lists: known-benign values (false positives)",
     "usage: schakel warninglist import [--force] DIR\n"
     "       schakel warninglist list [--json]\n"
     "       schakel warninglist check VALUE...\n"
     "\n"
     "import  loads every DIR/<name>/list.json (MISP warninglist format); a list\n"
     "        replaces an older version of itself in one transaction; the same or\n"
     "        a newer stored version is kept unless --force\n"
     "list    the loaded lists: name, version, type, entries\n"
     "check   which lists contain VALUE (exit 0 if any, 1 if none)\n"
     "\n"
     "Indicators whose value is on a warning list are reported when matchers are\n"
     "compiled and left out unless --no-warninglists.\n" DB_HELP},
    {"scan", cmd_scan, "match the node's indicators against logs",
     "usage: schakel scan [--format auto|zeek|zeek-json|eve|csv|text|ecs|osquery|auditd]\n"
     "                    [--csv-map MAP] [--follow] [--threads N] [--at TS] [--subdomains]\n"
     "                    [--no-warninglists] [--output FILE] [--no-sightings] [--quiet]\n"
     "                    [--collection C] [--sightings-every SECS] [--no-cache] FILE...\n"
     "\n"
     "Compiles every current indicator (newest version, not revoked, valid at\n"
     "--at or now, STIX pattern) and matches it against the logs ('-' = stdin,\n"
     ".gz transparent).  Prints one JSON line per hit, a summary on stderr, and\n"
     "stores one sighting per indicator with hits, made like every sighting made\n"
     "here: named by the node's identity or, with sightings.anonymous, its\n"
     "anonymous one, and marked like the indicator (see docs/matcher.md).\n"
     "\n"
     "  --format F         log format (default: detected from the first line)\n"
     "  --csv-map MAP      CSV columns: COLUMN=KIND,...\n"
     "  --follow           keep reading a growing file (one FILE) until interrupted;\n"
     "                     survives logrotate; one thread\n"
     "  --threads N        matching threads (default: all online cores); output\n"
     "                     order is the input order whatever N\n"
     "  --at TS            compile the indicators valid at TS instead of now (also\n"
     "                     the time their scores are decayed to: docs/decay.md)\n"
     "  --no-decay         also compile indicators whose score fell below\n"
     "                     decay.threshold (no matcher cache)\n"
     "  --subdomains       domain-name:value = 'x' also matches subdomains of x\n"
     "  --no-warninglists  do not suppress indicators on warning lists\n"
     "  --output FILE      write the hits to FILE instead of stdout\n"
     "  --no-sightings     do not store sightings (opens the store read-only)\n"
     "  --no-cache         compile the indicators, neither reading nor writing the\n"
     "                     matcher cache beside the store (STORE.matcher)\n"
     "  --quiet            no summary, counts or progress bar (cannot-match reports stay)\n"
     "  --collection C     collection the sightings are added to (default: the\n"
     "                     collections holding each indicator)\n"
     "  --sightings-every SECS  with --follow: store sightings every SECS seconds\n"
     "                     (default 10) and at exit\n"},
    {"audit", cmd_audit, "the tamper-evident audit log: who received what, and changes",
     "usage: schakel audit list [--partner P] [--object ID] [--since TS] [--action A]\n"
     "                          [--json]\n"
     "       schakel audit verify [--archive FILE]... [--no-checkpoint]\n"
     "       schakel audit archive [--before TS] --output FILE\n"
     "       schakel audit checkpoint\n"
     "\n"
     "Every exit of object versions (TAXII objects, object, versions and manifest\n"
     "reads, sync pushes, export --for) and every change of partners, accounts,\n"
     "tokens, grants, RED recipients, peers and the audit settings is one entry of\n"
     "a hash chain; checkpoints sign it with the node key (<db>.key).  See\n"
     "docs/audit.md.\n"
     "\n"
     "list        entries, oldest first: seq, time, actor, action, subject, the\n"
     "            number of versions handed out and the detail (--json: JSON lines)\n"
     "  --partner P   entries about partner P (received by it, or changing it)\n"
     "  --object ID   exits that listed a version of object ID\n"
     "  --since TS    entries at or after TS\n"
     "  --action A    action A, or actions A.* (taxii, sync, export, account, ...)\n"
     "verify      checks the chain and every checkpoint; exit 0 if they hold, else\n"
     "            1 naming the first entry changed, removed or reordered; then\n"
     "            signs a checkpoint at the last entry (not with --no-checkpoint)\n"
     "  --archive FILE  archive files to verify first (repeatable, any order)\n"
     "archive     moves the entries older than --before (default: the retention\n"
     "            setting audit.retention_days) to a new file (mode 0600), with\n"
     "            the checkpoints that anchor them\n"
     "checkpoint  signs a checkpoint at the last entry now\n"
     "\n"
     "Settings (schakel config set): audit.enabled true|false (default true),\n"
     "audit.checkpoint_every N (default 1000), audit.retention_days D (default 365).\n"
     DB_HELP},
    {"report", cmd_report, "reports for people: measured cooperation per partner",
     "usage: schakel report cooperation [--since TS] [--until TS] [--partner P]\n"
     "                                  [--format json|csv|html] [--output FILE]\n"
     "       schakel report cooperation --network [--since TS] [--until TS]\n"
     "                                  [--format json|csv|html] [--output FILE]\n"
     "       schakel report cooperation publish --to PEER [--since TS] [--until TS]\n"
     "\n"
     "The numbers that show whether sharing works, from this node's own records:\n"
     "per partner, object versions received and sent (by type and TLP), sightings\n"
     "and opinions, time to share (median, p90, max), detections enabled, lead\n"
     "times; per sector, whose knowledge protected it; anonymous sightings by\n"
     "sector and country (groups of fewer than three merged into \"other\"); the\n"
     "reach of reports; peers' sync health; and what the node cannot know.\n"
     "Every figure is defined in docs/cooperation.md.\n"
     "\n"
     "  --since TS     the period starts at TS (inclusive; default: the start)\n"
     "  --until TS     the period ends at TS (exclusive; default: now)\n"
     "  --partner P    only partner or peer P (name or identity), counting only\n"
     "                 what P was given, gave us or produced\n"
     "  --format F     json (default; stable, schema schakel.cooperation/1), csv\n"
     "                 (one row per partner) or html (one self-contained page)\n"
     "  --output FILE  write to FILE (mode 0600) instead of stdout\n"
     "  --network      at a hub: the summaries it received (verified ones) with its\n"
     "                 own figures, each keyed sighting counted once; missing and\n"
     "                 unverified nodes listed (schema schakel.cooperation-network/1)\n"
     "\n"
     "publish makes this node's signed summary for peer PEER (x-schakel-coop-summary)\n"
     "through the view of the partner with PEER's identity, and queues it for PEER\n"
     "alone; it needs consent: schakel config set cooperation.share true.\n" DB_HELP},
    {"help", NULL, "show help for a command",
     "usage: schakel help [COMMAND]\n"
     "       schakel help --man [COMMAND]\n"
     "       schakel help --man-dir DIR\n"
     "\n"
     "  --man      the manual page (roff) of COMMAND, or of schakel, on stdout\n"
     "  --man-dir  write every manual page (schakel.1, schakel-COMMAND.1) into DIR\n"
     "             (the build does this; `cmake --install` installs them)\n"},
    {NULL, NULL, NULL, NULL},
};

static void print_main_help(FILE *f)
{
	fprintf(f, "usage: schakel [--db PATH] COMMAND [ARGS...]\n\n"
		   "schakel keeps a node's STIX threat intelligence, shares it with partners\n"
		   "over TAXII 2.1 under TLP, and matches it against logs.\n\n"
		   "Commands:\n");
	for (const cli_cmd *c = cli_commands; c->name; c++)
		fprintf(f, "  %-11s %s\n", c->name, c->summary);
	fprintf(f, "\nGlobal options:\n" DB_HELP
		   "  --help        this text; 'schakel help COMMAND' for a command\n"
		   "  --version     print the version\n");
}

int main(int argc, char **argv)
{
	cli_ctx ctx = {0};
	int i;

	ctx.db = getenv("SCHAKEL_DB");
	if (!ctx.db || !*ctx.db)
		ctx.db = "schakel.db";

	/* --db may appear anywhere before "--"; take it out of argv */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--db") || !strncmp(argv[i], "--db=", 5)) {
			int take = argv[i][4] == '=' ? 1 : 2;
			if (take == 2 && i + 1 >= argc) {
				cli_err("--db needs a path");
				return EXIT_USAGE;
			}
			ctx.db = take == 1 ? argv[i] + 5 : argv[i + 1];
			memmove(&argv[i], &argv[i + take], (size_t)(argc - i - take + 1) * sizeof(char *));
			argc -= take;
			i--;
		}
	}
	if (argc < 2) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_main_help(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("schakel 0.1.0\n");
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		const cli_cmd *c;
		if (argc < 3) {
			print_main_help(stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[2], "--man"))
			return cli_man(argc > 3 ? argv[3] : NULL);
		if (!strcmp(argv[2], "--man-dir")) {
			if (argc < 4) {
				cli_err("help --man-dir needs a directory");
				return EXIT_USAGE;
			}
			return cli_man_all(argv[3]);
		}
		c = cli_find(argv[2]);
		if (!c) {
			cli_err("no such command: %s", argv[2]);
			return EXIT_USAGE;
		}
		cli_print_usage(c);
		return EXIT_OK;
	}
	const cli_cmd *c = cli_find(argv[1]);
	if (!c || !c->run) {
		cli_err("'%s' is not a schakel command; see 'schakel --help'", argv[1]);
		return EXIT_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1)) {
		cli_print_usage(c);
		return EXIT_OK;
	}
	return c->run(&ctx, argc - 1, argv + 1);
}
