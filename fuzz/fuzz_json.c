/*
 * fuzz_json.c - libFuzzer target for the arena JSON parser and the STIX
 * validator on one element.
 */
#include <stddef.h>
#include <stdint.h>

#include "schakel/json.h"
#include "schakel/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sk_jdoc *doc;
	const sk_jval *root;
	sk_stix_info info;
	sk_error err;

	if (!doc && sk_json_doc_new(1 << 24, 64, &doc))
		__builtin_trap();
	if (sk_json_parse(doc, (const char *)data, size, &root, &err) == SK_OK)
		(void)sk_stix_validate(root, &info, &err);
	return 0;
}
