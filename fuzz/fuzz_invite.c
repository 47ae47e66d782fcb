/*
 * fuzz_invite.c - libFuzzer target for invitation codes (sk_invite_decode),
 * the text `schakel enrol` takes from whoever hands it a code.
 *
 * Any input either decodes, and then every field the hub's signature covers
 * is present and of its form, or fails with a message; neither may crash,
 * leak or read outside the input.  A signed code cannot be made by the
 * fuzzer, so the seed corpus holds a real one (fuzz/corpus/invite/) and the
 * fuzzer's mutations exercise the paths up to the signature check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schakel/invite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_invite_code c;
	sk_error err;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sk_invite_decode(text, &c, &err) == SK_OK) {
		if (!c.url || !c.api_root || !c.collection || !c.hub || !c.iid || !c.secret ||
		    strlen(c.iid) != 16 || c.expires_us <= 0)
			abort();
		sk_invite_code_clear(&c);
	} else if (!err.msg[0]) {
		abort();
	}
	free(text);
	return 0;
}
