/*
 * The tile coder's checkpoint section (lib/ckptiles.h). Its body is
 *
 *   u32 revision   DQ__TILES_REVISION: which mapping (lib/tiles.h's
 *                  offsets and hash) the definition is for
 *   u32 length     L, the bytes of the text (no NUL)
 *   L bytes        dq_tiles_format()'s text: "TxB1,...,BD@lo:hi,...[/H]"
 *
 * The text is the definition in full: the tilings, the bins and the span
 * of every dimension, the hash rows; each real number is written in the
 * shortest form that reads back to the same double (dq_tiles_format()),
 * so parsing it gives the coder bit for bit. The hash has no seed: the
 * revision fixes it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ckptiles.h"
#include "agent.h"

#define TILES_BODY_HEAD 8u

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

size_t
dq__ckp_tiles_encode(uint8_t *p, const dq_tiles *tc)
{
	/* The text of 16 dimensions is under 1 KiB: it always fits. */
	char text[DQ__CKP_TILES_TEXT_MAX + 1];
	int len = dq_tiles_format(tc, text, sizeof(text));

	if (len < 0 || len > (int)DQ__CKP_TILES_TEXT_MAX)
		len = 0; /* cannot happen; such a file would not load */
	if (p) {
		put32(p, DQ__TILES_REVISION);
		put32(p + 4, (uint32_t)len);
		memcpy(p + TILES_BODY_HEAD, text, (size_t)len);
	}
	return TILES_BODY_HEAD + (size_t)len;
}

int
dq__ckp_tiles_parse(const uint8_t *b, uint32_t len, uint32_t n_states,
		    dq_tiles_config *cfg)
{
	char text[DQ__CKP_TILES_TEXT_MAX + 1];
	dq_tiles_config c;
	dq_tiles *tc = NULL;
	uint32_t rev, tl, rows = 0;
	int err;

	if (len < TILES_BODY_HEAD)
		return DQ_ECORRUPT;
	rev = get32(b);
	tl = get32(b + 4);
	if (rev != DQ__TILES_REVISION) {
		dq__detail("the file's tile coder is of revision %u, this "
			   "library codes tiles by revision %u",
			   rev, DQ__TILES_REVISION);
		return DQ_EVERSION;
	}
	if (tl != len - TILES_BODY_HEAD || tl > DQ__CKP_TILES_TEXT_MAX || !tl ||
	    memchr(b + TILES_BODY_HEAD, '\0', tl))
		return DQ_ECORRUPT;
	memcpy(text, b + TILES_BODY_HEAD, tl);
	text[tl] = '\0';
	dq_tiles_config_init(&c);
	if (dq_tiles_config_parse(&c, text) != 0 ||
	    dq_tiles_create(&tc, &c) != 0) {
		dq__detail("the file's tile coder '%.64s' is not a valid one",
			   text);
		return DQ_ECORRUPT;
	}
	err = dq_tiles_features(tc, &rows);
	dq_tiles_destroy(tc);
	if (err || rows != n_states) {
		dq__detail("the file's tile coder '%.64s' has %u rows, its "
			   "table %u",
			   text, rows, n_states);
		return DQ_ECORRUPT;
	}
	*cfg = c;
	return 0;
}

int
dq__ckp_tiles_match(const dq_tiles_config *file, const dq_tiles *tc)
{
	dq_tiles_config l;
	char name[40], fv[40], lv[40];

	if (!file && !tc)
		return 0;
	if (!file || !tc) {
		dq__detail("the file holds a %s table, the learner is %s",
			   file ? "tile-coded" : "tabular (no tile coder)",
			   tc ? "tile-coded (dq_agent_config.tiles)"
			      : "tabular (no dq_agent_config.tiles)");
		return DQ_EMISMATCH;
	}
	dq_tiles_config_get(tc, &l);
#define DIFF(n, f, v)                                  \
	do {                                           \
		snprintf(name, sizeof(name), "%s", n); \
		snprintf(fv, sizeof(fv), f, file->v);  \
		snprintf(lv, sizeof(lv), f, l.v);      \
		goto differ;                           \
	} while (0)
	if (file->n_tilings != l.n_tilings)
		DIFF("tilings", "%u", n_tilings);
	if (file->dim != l.dim)
		DIFF("dimensions", "%u", dim);
	for (uint32_t i = 0; i < l.dim; i++) {
		if (file->bins[i] != l.bins[i]) {
			snprintf(name, sizeof(name), "bins[%u]", i);
			snprintf(fv, sizeof(fv), "%u", file->bins[i]);
			snprintf(lv, sizeof(lv), "%u", l.bins[i]);
			goto differ;
		}
		/* == : -0.0 and 0.0 code every observation alike */
		if (file->low[i] != l.low[i] || file->high[i] != l.high[i]) {
			bool lo = file->low[i] != l.low[i];

			snprintf(name, sizeof(name), "%s[%u]",
				 lo ? "low" : "high", i);
			dq__tiles_fmt_real(fv, sizeof(fv),
					   lo ? file->low[i] : file->high[i]);
			dq__tiles_fmt_real(lv, sizeof(lv),
					   lo ? l.low[i] : l.high[i]);
			goto differ;
		}
	}
	if (file->hash_rows != l.hash_rows)
		DIFF("hash_rows", "%u", hash_rows);
#undef DIFF
	return 0;
differ:
	dq__detail("tile coder: the file has %s %s, the learner %s %s", name,
		   fv, name, lv);
	return DQ_EMISMATCH;
}
