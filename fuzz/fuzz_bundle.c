/*
 * fuzz_bundle.c - libFuzzer target for reading bundle files
 * (src/trust/bundle.c): any input to sk_bundle_peek and sk_bundle_open ends
 * in SK_OK or a clean refusal, and a file that opens is one this target's
 * sender key signed: the corpus holds files sealed with the fixed test keys
 * below, so mutations of real files are tried.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "schakel/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fixed seeds, so that the corpus files verify (not secrets: test keys) */
static void keys(sk_keypair *sender, sk_keypair *recipient)
{
	unsigned char seed[32];
	memset(seed, 1, sizeof(seed));
	crypto_sign_seed_keypair(sender->pk, sender->sk, seed);
	memset(seed, 2, sizeof(seed));
	crypto_sign_seed_keypair(recipient->pk, recipient->sk, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sk_keypair sender, recipient;
	static bool init;
	sk_bundle_hdr h;
	sk_buf payload;
	sk_error err;

	if (!init) {
		keys(&sender, &recipient);
		init = true;
	}
	(void)sk_bundle_peek((const char *)data, size, &h, &err);
	sk_buf_init(&payload, 0);
	(void)sk_bundle_open((const char *)data, size, sender.pk, &recipient, &payload, &err);
	sk_buf_free(&payload);
	return 0;
}
