/*
 * sector.c - the critical sectors: one table that maps STIX industry
 * sectors (industry-sector-ov) and MISP galaxy target categories onto
 * water, energy, finance and payments, health, government,
 * telecommunications and transport.  Actors, sectors pages, dossiers and
 * the cooperation figures all read this table; docs/sectors.md shows it.
 */
#include "schakel/intel.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const water_stix[] = {"water", "utilities", "dams", NULL};
static const char *const water_misp[] = {
    "water", "utilities", "water supply", "water utilities", "drinking water", "wastewater", NULL};
static const char *const energy_stix[] = {"energy", "utilities", "nuclear", NULL};
static const char *const energy_misp[] = {
    "energy",      "utilities", "electric",       "electricity", "gas",   "oil",
    "oil and gas", "petroleum", "energy company", "nuclear",     "power", NULL};
static const char *const finance_stix[] = {"financial-services", "finance", "insurance", NULL};
static const char *const finance_misp[] = {
    "finance", "financial", "financial services", "financial sector", "bank",      "banks",
    "banking", "payment",   "payments",           "investment",       "insurance", NULL};
static const char *const health_stix[] = {"healthcare", "health", NULL};
static const char *const health_misp[] = {"healthcare", "health",    "health care", "medical",
                                          "hospital",   "hospitals", NULL};
static const char *const gov_stix[] = {"government", "government-*", "emergency-services", NULL};
static const char *const gov_misp[] = {"government",
                                       "government, administration",
                                       "government administration",
                                       "government, administrations",
                                       "government agencies and services",
                                       "government institutions",
                                       "administration",
                                       "public administration",
                                       "public sector",
                                       NULL};
static const char *const tel_stix[] = {"telecommunications", "communications", NULL};
static const char *const tel_misp[] = {
    "telecommunications", "telecoms", "telecomms", "telecom", "telco", "telecommunication", NULL};
static const char *const tr_stix[] = {"transportation", "transport", "aviation", NULL};
static const char *const tr_misp[] = {"transport", "transportation", "transportation systems",
                                      "rail",      "aviation",       "civil aviation",
                                      "logistics", "maritime",       "shipping",
                                      NULL};

static const sk_sector table[SK_SECTOR_COUNT] = {
    {"water", "Water", "water", water_stix, water_misp},
    {"energy", "Energy", "energy", energy_stix, energy_misp},
    {"finance", "Finance and payments", "financial-services", finance_stix, finance_misp},
    {"health", "Health", "healthcare", health_stix, health_misp},
    {"government", "Government", "government", gov_stix, gov_misp},
    {"telecom", "Telecommunications", "telecommunications", tel_stix, tel_misp},
    {"transport", "Transport", "transportation", tr_stix, tr_misp},
};

/* MISP categories outside the critical sectors that still have a STIX industry sector. */
static const struct {
	const char *misp, *stix;
} others[] = {
    {"military", "defense"},
    {"defense", "defense"},
    {"defense industrial base", "defense"},
    {"defense contractor", "defense"},
    {"education", "education"},
    {"academia - university", "education"},
    {"universities", "education"},
    {"pharmaceuticals", "pharmaceuticals"},
    {"pharmacy", "pharmaceuticals"},
    {"technology", "technology"},
    {"high-tech", "technology"},
    {"high tech", "technology"},
    {"information technology", "technology"},
    {"aerospace", "aerospace"},
    {"manufacturing", "manufacturing"},
    {"chemical", "chemical"},
    {"mining", "mining"},
    {"retail", "retail"},
    {"hospitality", "hospitality-leisure"},
    {"construction", "construction"},
    {"automotive", "automotive"},
    {"media", "entertainment"},
    {"entertainment", "entertainment"},
    {"ngos", "non-profit"},
    {"non-profit organisation", "non-profit"},
    {"infrastructure", "infrastructure"},
};

const sk_sector *sk_sector_table(void)
{
	return table;
}

const sk_sector *sk_sector_get(const char *key)
{
	for (size_t i = 0; key && i < SK_SECTOR_COUNT; i++)
		if (!strcasecmp(table[i].key, key))
			return &table[i];
	return NULL;
}

bool sk_sector_has_stix(const sk_sector *k, const char *s)
{
	if (!k || !s)
		return false;
	for (size_t i = 0; k->stix_all[i]; i++) {
		const char *p = k->stix_all[i];
		size_t n = strlen(p);
		if (n > 1 && p[n - 1] == '*') {
			if (!strncasecmp(s, p, n - 1))
				return true;
		} else if (!strcasecmp(s, p)) {
			return true;
		}
	}
	return false;
}

/* c without surrounding blanks, lowercased into out; false if too long. */
static bool norm(const char *c, char *out, size_t cap)
{
	size_t n;
	while (*c && isspace((unsigned char)*c))
		c++;
	n = strlen(c);
	while (n && isspace((unsigned char)c[n - 1]))
		n--;
	if (n >= cap)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)c[i]);
	out[n] = 0;
	return true;
}

bool sk_sector_has_misp(const sk_sector *k, const char *c)
{
	char b[128];
	if (!k || !c || !norm(c, b, sizeof(b)))
		return false;
	for (size_t i = 0; k->misp[i]; i++)
		if (!strcmp(b, k->misp[i]))
			return true;
	return false;
}

const char *sk_sector_misp_to_stix(const char *c)
{
	char b[128];
	if (!c || !norm(c, b, sizeof(b)))
		return NULL;
	/* utilities stays utilities: it is both water and energy */
	if (!strcmp(b, "utilities"))
		return "utilities";
	for (size_t i = 0; i < SK_SECTOR_COUNT; i++)
		if (sk_sector_has_misp(&table[i], b))
			return table[i].stix;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (!strcmp(b, others[i].misp))
			return others[i].stix;
	return NULL;
}
