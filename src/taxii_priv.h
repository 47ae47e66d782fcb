/*
 * taxii_priv.h - helpers shared by taxii.c and taxii_query.c only.
 */
#ifndef SCHAKEL_TAXII_PRIV_H
#define SCHAKEL_TAXII_PRIV_H

#include <stdbool.h>

/* True if s is valid UTF-8 (NUL-terminated). */
bool sk_taxii_utf8_valid(const char *s);

#endif
