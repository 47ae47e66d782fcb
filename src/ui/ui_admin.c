/*
 * ui_admin.c - the console's administration (docs/console.md,
 * "Administration"): partners, accounts, tokens, grants and peers.
 */
#include "ui/ui_int.h"

void ui_h_admin_get(ui_ctx *c, char **seg, size_t nseg)
{
	(void)nseg;
	ui_error(c, 404, "no such API route: /ui/api/admin/%s", seg[1]);
}

void ui_h_admin_post(ui_ctx *c, char **seg, size_t nseg)
{
	(void)nseg;
	ui_error(c, 404, "no such API route: /ui/api/admin/%s", seg[1]);
}

void ui_h_admin_delete(ui_ctx *c, char **seg, size_t nseg)
{
	(void)nseg;
	ui_error(c, 404, "no such API route: /ui/api/admin/%s", seg[1]);
}
