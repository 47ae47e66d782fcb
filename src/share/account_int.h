/*
 * account_int.h - what account.c gives auth.c (src/share/ only): password
 * verification that also returns the account's generation, and the check
 * that a cached login's account has not changed since.
 */
#ifndef SCHAKEL_ACCOUNT_INT_H
#define SCHAKEL_ACCOUNT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "schakel/account.h"

/* sk_auth_password, and *gen the verified account's generation (accounts.gen). */
sk_err sk_auth_password_gen(sk_store *st, const char *user, const char *password,
			    sk_principal *out, int64_t *gen, sk_error *err);

/* sk_account_gen_current is public (account.h): the console's sessions use it. */

#endif
