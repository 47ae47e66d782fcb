/*
 * coop_audit.c - the exits of a simulated year for the cooperation
 * benchmark (bench/coop.sh): for each partner "pNN" (NN = 00..P-1), E audit
 * entries of the kind a TAXII page writes (taxii.objects, subject
 * partner:pNN), each listing V object versions picked at random among the
 * store's versions, appended through sk_audit_append in one transaction.
 * Build: cmake --build build --target coop_audit_bench
 * Usage: coop_audit_bench DB PARTNERS ENTRIES_PER_PARTNER VERSIONS_PER_ENTRY
 */
#include <stdio.h>
#include <stdlib.h>

#include "schakel/audit.h"
#include "schakel/store.h"
#include "store/store_priv.h"

int main(int argc, char **argv)
{
	sk_store *st = NULL;
	sk_error err;
	sqlite3_stmt *s = NULL;
	int64_t maxver = 0, *vers;
	int parts, per, nv;
	char subj[32];

	if (argc != 5) {
		fprintf(stderr, "usage: coop_audit_bench DB PARTNERS ENTRIES VERSIONS\n");
		return 2;
	}
	parts = atoi(argv[2]);
	per = atoi(argv[3]);
	nv = atoi(argv[4]);
	if (parts <= 0 || per <= 0 || nv <= 0 || nv > SK_AUDIT_LIST_MAX ||
	    !(vers = malloc((size_t)nv * sizeof(*vers)))) {
		fprintf(stderr, "bad arguments (at most %d versions per entry)\n",
		        SK_AUDIT_LIST_MAX);
		return 2;
	}
	if (sk_store_open(argv[1], 0, &st, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		free(vers);
		return 1;
	}
	if (sqlite3_prepare_v2(sk_store_sqlite(st), "SELECT max(ver) FROM objects", -1, &s, NULL) ==
	        SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		maxver = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	srand(14);
	if (maxver <= 0 || sk_store_begin(st, &err)) {
		fprintf(stderr, "empty store or %s\n", maxver <= 0 ? "no versions" : err.msg);
		free(vers);
		sk_store_close(st);
		return 1;
	}
	for (int p = 0; p < parts; p++) {
		sk_audit_entry e = {.action = "taxii.objects",
		                    .actor = subj,
		                    .subject = subj,
		                    .detail = "{\"path\":\"/api/collections/share/objects/\"}",
		                    .vers = vers,
		                    .nvers = (size_t)nv,
		                    .exit = true};
		snprintf(subj, sizeof(subj), "partner:p%02d", p);
		for (int i = 0; i < per; i++) {
			for (int k = 0; k < nv; k++)
				vers[k] = 1 + (int64_t)((double)rand() / ((double)RAND_MAX + 1) *
				                        (double)maxver);
			if (sk_audit_append(st, &e, &err)) {
				fprintf(stderr, "append: %s\n", err.msg);
				return 1;
			}
		}
	}
	if (sk_store_commit(st, &err)) {
		fprintf(stderr, "commit: %s\n", err.msg);
		return 1;
	}
	free(vers);
	sk_store_close(st);
	return 0;
}
