/*
 * ui_routes.c - the console's API: every route under /ui/api/, who may call
 * it, and its handler (docs/console.md lists them with their answers).
 */
#include "ui/ui_int.h"

const ui_route ui_routes[] = {
    /* sessions */
    {"POST", "login", 1, 1, UI_ANY, ui_h_login},
    {"POST", "logout", 1, 1, UI_READ, ui_h_logout},
    {"GET", "me", 1, 1, UI_READ, ui_h_me},
    {"POST", "totp", 2, 2, UI_OWN, ui_h_totp}, /* totp/enroll, totp/confirm, totp/disable */
    /* knowledge */
    {"GET", "objects", 2, 2, UI_READ, ui_h_object},
    {"POST", "objects", 1, 1, UI_WRITE, ui_h_object_create},
    {"PUT", "objects", 2, 2, UI_WRITE, ui_h_object_update},
    {"GET", "search", 1, 1, UI_READ, ui_h_search},
    {"GET", "facets", 1, 1, UI_READ, ui_h_facets},
    {"GET", "export", 1, 1, UI_READ, ui_h_export},
    {"GET", "graph", 1, 1, UI_READ, ui_h_graph},
    {"GET", "overview", 1, 1, UI_READ, ui_h_overview},
    {"GET", "alerts", 1, 1, UI_READ, ui_h_alerts},
    {"GET", "actors", 1, 2, UI_READ, ui_h_actors},
    {"GET", "sectors", 1, 2, UI_READ, ui_h_sectors},
    {"GET", "timeline", 1, 1, UI_READ, ui_h_timeline},
    {"GET", "cooperation", 1, 1, UI_READ, ui_h_cooperation},
    {"GET", "cooperation", 2, 2, UI_OWN, ui_h_coop_network}, /* cooperation/network */
    {"GET", "fleet", 1, 1, UI_OWN, ui_h_fleet},
    {"GET", "dossier", 1, 1, UI_READ, ui_h_dossier},
    /* administration */
    {"GET", "admin", 2, 2, UI_ADMIN, ui_h_admin_get},
    {"POST", "admin", 2, 3, UI_ADMIN, ui_h_admin_post},
    {"DELETE", "admin", 3, 3, UI_ADMIN, ui_h_admin_delete},
};

const size_t ui_nroutes = sizeof(ui_routes) / sizeof(ui_routes[0]);
