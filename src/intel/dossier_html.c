/* placeholder */
#include "dossier_int.h"
sk_err sk_dossier_html(const json_t *d, sk_buf *out, sk_error *err)
{
	(void)d;
	(void)out;
	return sk_error_set(err, SK_EINVAL, "html: not yet");
}
sk_err sk_dossier_stix(sk_store *st, const json_t *d, json_t **out, sk_error *err)
{
	(void)st;
	(void)d;
	*out = NULL;
	return sk_error_set(err, SK_EINVAL, "stix: not yet");
}
sk_err sk_dossier_opinion_add(sk_store *st, const char *r, const char *o, const char *e, char *id,
                              sk_error *err)
{
	(void)st;
	(void)r;
	(void)o;
	(void)e;
	(void)id;
	return sk_error_set(err, SK_EINVAL, "not yet");
}
