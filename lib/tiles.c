/*
 * Tile coding (<distq/tiles.h>, lib/tiles.h): the coder's definition, its
 * text form, and the tile-coded agent's checked public calls. The hot
 * parts (the active tiles, the rules over them) are inline in tiles.h and
 * tilerule.h, shared with the learner's loop.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "env.h"

#define TILES_MAX_BINS 65536u
#define TILES_MAX_ROWS (1u << 31)

int
dq_tiles_config_init(dq_tiles_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->n_tilings = 8;
	return 0;
}

/* A decimal count at *p, advancing it; -1 when there is none. */
static long long
parse_count(const char **p)
{
	const char *s = *p;
	long long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s - '0');
		if (v > 0xffffffffLL)
			v = 0x100000000LL; /* saturate: out of every range */
		s++;
	}
	*p = s;
	return v;
}

static int
parse_fail(int err, const char *why)
{
	dq__detail("tiles: %s (the form is TxB1,B2,...[@lo:hi,...][/H], e.g. "
		   "8x6,6,6,6)",
		   why);
	return err;
}

int
dq_tiles_config_parse(dq_tiles_config *cfg, const char *text)
{
	dq_tiles_config c;
	const char *p = text;
	long long v;
	uint32_t n = 0;

	if (!cfg || !text)
		return -EINVAL;
	c = *cfg;
	if ((v = parse_count(&p)) < 0 || (*p != 'x' && *p != 'X'))
		return parse_fail(-EINVAL, "no tilings before 'x'");
	if (v < 1 || v > DQ_TILES_MAX_TILINGS)
		return parse_fail(-ERANGE, "tilings out of 1..1024");
	c.n_tilings = (uint32_t)v;
	p++;
	for (;;) {
		if ((v = parse_count(&p)) < 0)
			return parse_fail(-EINVAL, "a bin count is missing");
		if (v < 1 || v > TILES_MAX_BINS)
			return parse_fail(-ERANGE, "bins out of 1..65536");
		if (n == DQ_TILES_MAX_DIM)
			return parse_fail(-EINVAL, "more than 16 dimensions");
		c.bins[n++] = (uint32_t)v;
		if (*p != ',')
			break;
		p++;
	}
	if (n == 1 && c.dim > 1) {
		for (uint32_t i = 1; i < c.dim; i++)
			c.bins[i] = c.bins[0];
		n = c.dim;
	}
	if (c.dim && n != c.dim) {
		dq__detail("tiles: %u bin counts for an observation of %u "
			   "dimensions",
			   n, c.dim);
		return -EINVAL;
	}
	c.dim = n;
	if (*p == '@') {
		p++;
		for (uint32_t i = 0; i < n; i++) {
			char *end;

			c.low[i] = dq__strtod_c(p, &end);
			if (end == p || *end != ':')
				return parse_fail(-EINVAL, "a range lo:hi");
			p = end + 1;
			c.high[i] = dq__strtod_c(p, &end);
			if (end == p)
				return parse_fail(-EINVAL, "a range lo:hi");
			p = end;
			if (i + 1 < n && *p++ != ',')
				return parse_fail(-EINVAL,
						  "one range per dimension");
		}
	}
	c.hash_rows = 0; /* unless the text says otherwise */
	if (*p == '/') {
		p++;
		if ((v = parse_count(&p)) < 1 || v > TILES_MAX_ROWS)
			return parse_fail(-ERANGE, "hash rows out of 1..2^31");
		c.hash_rows = (uint32_t)v;
	}
	if (*p)
		return parse_fail(-EINVAL, "unexpected text at the end");
	*cfg = c;
	return 0;
}

int
dq_tiles_config_from_env(dq_tiles_config *cfg, const dq_env *env,
			 const char *text)
{
	uint32_t d;
	int err;

	if (!cfg || !env)
		return -EINVAL;
	if ((err = dq_env_obs_dim(env, &d)) != 0)
		return err;
	if (!d) {
		dq__detail("tiles: the environment gives no observation");
		return -ENOTSUP;
	}
	cfg->dim = d;
	err = dq_env_obs_bounds(env, NULL, NULL, cfg->low, cfg->high,
				DQ_TILES_MAX_DIM);
	if (err)
		return err;
	return text ? dq_tiles_config_parse(cfg, text) : 0;
}

/* Rows of an unhashed coder, or 0 when more than TILES_MAX_ROWS. */
static uint64_t
tiles_rows(const dq_tiles_config *c)
{
	uint64_t rows = c->n_tilings;

	for (uint32_t i = 0; i < c->dim; i++) {
		rows *= (uint64_t)c->bins[i] + 1;
		if (rows > TILES_MAX_ROWS)
			return 0;
	}
	return rows;
}

/* -EINVAL with a detail naming the field and its rule. */
#define TILES_BAD(...) (dq__detail(__VA_ARGS__), -EINVAL)

static int
tiles_check(const dq_tiles_config *c)
{
	int err;

	if ((err = DQ__RESERVED_CHECK(c, "tiles: ")) != 0)
		return err;
	if (c->pad_)
		return TILES_BAD("tiles: pad_ is not zero");
	if (c->n_tilings < 1 || c->n_tilings > DQ_TILES_MAX_TILINGS)
		return TILES_BAD("tiles: n_tilings %u is outside [1, %u]",
				 c->n_tilings, DQ_TILES_MAX_TILINGS);
	if (c->dim < 1 || c->dim > DQ_TILES_MAX_DIM)
		return TILES_BAD("tiles: dim %u is outside [1, %u]", c->dim,
				 DQ_TILES_MAX_DIM);
	if (c->hash_rows > TILES_MAX_ROWS)
		return TILES_BAD("tiles: hash_rows %llu is over %llu",
				 (unsigned long long)c->hash_rows,
				 (unsigned long long)TILES_MAX_ROWS);
	for (uint32_t i = 0; i < c->dim; i++) {
		if (c->bins[i] < 1 || c->bins[i] > TILES_MAX_BINS)
			return TILES_BAD("tiles: bins[%u] %u is outside [1, "
					 "%u]",
					 i, c->bins[i],
					 (unsigned)TILES_MAX_BINS);
		if (!isfinite(c->low[i]) || !isfinite(c->high[i]) ||
		    !(c->low[i] < c->high[i]) ||
		    !isfinite(c->high[i] - c->low[i]))
			return TILES_BAD("tiles: low[%u] %g, high[%u] %g: "
					 "must be finite with low < high",
					 i, c->low[i], i, c->high[i]);
	}
	if (!c->hash_rows && !tiles_rows(c))
		return -ERANGE;
	return 0;
}

int
dq_tiles_create(dq_tiles **out, const dq_tiles_config *cfg)
{
	dq_tiles *tc;
	uint32_t T, D, stride = 1;
	int err;

	dq__detail_clear();
	if (!out || !cfg)
		return TILES_BAD("tiles: out and cfg must not be NULL");
	if ((err = tiles_check(cfg)) != 0)
		return err;
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return -ENOMEM;
	tc->cfg = *cfg;
	T = tc->T = cfg->n_tilings;
	D = tc->D = cfg->dim;
	tc->disp = malloc((size_t)T * D * sizeof(*tc->disp));
	if (!tc->disp) {
		free(tc);
		return -ENOMEM;
	}
	for (uint32_t t = 0; t < T; t++)
		for (uint32_t i = 0; i < D; i++)
			tc->disp[(size_t)t * D + i] =
			    (uint32_t)((uint64_t)t * (2 * i + 1) % T);
	/* The last dimension varies fastest, as CartPole's bins do. */
	for (uint32_t i = D; i-- > 0;) {
		tc->stride[i] = stride;
		stride *= cfg->bins[i] + 1;
	}
	for (uint32_t i = 0; i < D; i++) {
		tc->qmax[i] = cfg->bins[i] * T - 1;
		tc->scale[i] =
		    (double)cfg->bins[i] * T / (cfg->high[i] - cfg->low[i]);
	}
	tc->tshift = 32;
	for (uint32_t k = 0; k < 11; k++)
		if (T == 1u << k)
			tc->tshift = k;
	tc->hashed = cfg->hash_rows != 0;
	tc->per_tiling = tc->hashed ? 0 : stride;
	tc->rows = tc->hashed ? cfg->hash_rows : (uint32_t)tiles_rows(cfg);
	*out = tc;
	return 0;
}

void
dq_tiles_destroy(dq_tiles *tc)
{
	if (!tc)
		return;
	free(tc->disp);
	free(tc);
}

int
dq_tiles_config_get(const dq_tiles *tc, dq_tiles_config *cfg)
{
	if (!tc || !cfg)
		return -EINVAL;
	*cfg = tc->cfg;
	return 0;
}

int
dq_tiles_features(const dq_tiles *tc, uint32_t *rows)
{
	if (!tc || !rows)
		return -EINVAL;
	*rows = tc->rows;
	return 0;
}

int
dq_tiles_active(const dq_tiles *tc, const double *obs, uint32_t *tiles,
		size_t cap)
{
	if (!tc || !obs || !tiles || cap < tc->T)
		return -EINVAL;
	dq__tiles_active(tc, obs, tiles);
	return (int)tc->T;
}

int
dq_tiles_values(const dq_tiles *tc, const dq_table *table, const double *obs,
		double *q, size_t n)
{
	uint32_t f[DQ_TILES_MAX_TILINGS];

	if (!tc || !table || !obs || !q || n < table->n_actions ||
	    table->n_states != tc->rows)
		return -EINVAL;
	dq__tiles_active(tc, obs, f);
	dq__tiles_q(table, f, tc->T, q);
	return 0;
}

/* The shortest %.Ng that reads back exactly, with a '.' whatever
 * LC_NUMERIC says (',' separates the text's fields). */
void
dq__tiles_fmt_real(char *b, size_t size, double x)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(b, size, "%.*g", prec, x);
		for (char *c = b; *c; c++)
			if (*c == ',')
				*c = '.';
		if (dq__strtod_c(b, NULL) == x)
			return;
	}
}

int
dq_tiles_format(const dq_tiles *tc, char *buf, size_t size)
{
	const dq_tiles_config *c;
	char tmp[64], lo[32], hi[32];
	size_t len = 0;

	if (!tc || (!buf && size))
		return -EINVAL;
	c = &tc->cfg;
#define PUT(...)                                                    \
	do {                                                        \
		int k_ = snprintf(tmp, sizeof(tmp), __VA_ARGS__);   \
		if (len < size)                                     \
			snprintf(buf + len, size - len, "%s", tmp); \
		len += (size_t)k_;                                  \
	} while (0)
	PUT("%ux", c->n_tilings);
	for (uint32_t i = 0; i < c->dim; i++)
		PUT("%s%u", i ? "," : "", c->bins[i]);
	for (uint32_t i = 0; i < c->dim; i++) {
		dq__tiles_fmt_real(lo, sizeof(lo), c->low[i]);
		dq__tiles_fmt_real(hi, sizeof(hi), c->high[i]);
		PUT("%s%s:%s", i ? "," : "@", lo, hi);
	}
	if (c->hash_rows)
		PUT("/%u", c->hash_rows);
#undef PUT
	if (size && len >= size)
		buf[size - 1] = '\0';
	return len > INT32_MAX ? -EINVAL : (int)len;
}

/* ------------------------------------------------------------------------ */
/* The tile-coded agent. */

int
dq__tagent_init(dq_agent *ag, const dq_agent_config *cfg)
{
	const dq_tiles *tc = cfg->tiles;
	dq__tagent *tg;

	if (!tc)
		return 0;
	/* replay and a target table: their off-policy rules were checked
	 * (dq__replay_check()), q and expected-sarsa among these */
	if (!dq__tile_rule_valid(cfg->rule) || cfg->omega > 0.0 ||
	    cfg->sync_every || cfg->policy != DQ_POLICY_EGREEDY) {
		dq__detail("tiles: rules q, sarsa, expected-sarsa, nstep-q, "
			   "nstep-sarsa and q-lambda, epsilon-greedy, without "
			   "omega or sync_every");
		return DQ_ERULE;
	}
	if (ag->table->n_states != tc->rows) {
		dq__detail("tiles: the table has %u rows, the coder %u",
			   ag->table->n_states, tc->rows);
		return -EINVAL;
	}
	tg = calloc(1, sizeof(*tg));
	if (!tg)
		return -ENOMEM;
	tg->tc = tc;
	tg->T = tc->T;
	tg->D = tc->D;
	tg->f = calloc(tc->T, sizeof(*tg->f));
	tg->f2 = calloc(tc->T, sizeof(*tg->f2));
	tg->q = malloc(ag->table->n_actions * sizeof(*tg->q));
	tg->obs2 = malloc(tc->D * sizeof(*tg->obs2));
	ag->tg = tg;
	if (!tg->f || !tg->f2 || !tg->q || !tg->obs2)
		return -ENOMEM; /* freed by dq__tagent_fini() */
	if (cfg->rule == DQ_RULE_NSTEP_Q || cfg->rule == DQ_RULE_NSTEP_SARSA) {
		tg->pf = calloc((size_t)ag->pend_cap * tc->T, sizeof(*tg->pf));
		tg->lf = calloc(tc->T, sizeof(*tg->lf));
		if (!tg->pf || !tg->lf)
			return -ENOMEM; /* freed by dq__tagent_fini() */
	}
	return 0;
}

void
dq__tagent_fini(dq_agent *ag)
{
	dq__tagent *tg = ag->tg;

	if (!tg)
		return;
	free(tg->f);
	free(tg->f2);
	free(tg->q);
	free(tg->obs2);
	free(tg->pf);
	free(tg->lf);
	free(tg);
	ag->tg = NULL;
}

int
dq__tagent_flush(dq_agent *ag)
{
	const bool sarsa = ag->rule == DQ_RULE_NSTEP_SARSA;

	switch (ag->table->mode) {
	case DQ_MODE_CAS:
		return dq__tiles_nstep_flush(ag, true, sarsa, DQ_MODE_CAS);
	case DQ_MODE_HOGWILD:
		return dq__tiles_nstep_flush(ag, true, sarsa, DQ_MODE_HOGWILD);
	case DQ_MODE_LOCKED:
	default:
		return dq__tiles_nstep_flush(ag, true, sarsa, DQ_MODE_LOCKED);
	}
}

static int
no_coder(void)
{
	dq__detail("the agent has no tile coder (dq_agent_config.tiles)");
	return -EINVAL;
}

int
dq_agent_act_obs(dq_agent *agent, const double *obs, uint32_t *action)
{
	dq__tagent *tg;
	bool cached;

	if (!agent || !obs || !action)
		return -EINVAL;
	if (!(tg = agent->tg))
		return no_coder();
	cached =
	    tg->next_valid && !memcmp(obs, tg->obs2, tg->D * sizeof(double));
	if (!cached)
		dq__tiles_active(tg->tc, obs, tg->f);
	*action = dq__tiles_act(agent, tg->f, cached, agent->rule);
	return 0;
}

int
dq_agent_observe_obs(dq_agent *agent, const double *obs, uint32_t action,
		     double reward, const double *next_obs, bool terminated)
{
	dq__tagent *tg;
	uint64_t steps;
	int ret;

	if (!agent || !obs || (!terminated && !next_obs))
		return -EINVAL;
	if (!(tg = agent->tg))
		return no_coder();
	if (!isfinite(reward) || action >= agent->n_actions) {
		dq__detail("reward %g, action %u (of %u)", reward, action,
			   agent->n_actions);
		return -EINVAL;
	}
	dq__tiles_active(tg->tc, obs, tg->f);
	if (!terminated) {
		dq__tiles_active(tg->tc, next_obs, tg->f2);
		memcpy(tg->obs2, next_obs, tg->D * sizeof(double));
	}
	steps = agent->steps;
	if (agent->ext) { /* replay or a target table (lib/tilereplay.c) */
		ret =
		    dq__ext_observe_tiles(agent, tg->f, action, reward, tg->f2,
					  terminated, agent->table->mode);
		goto observed;
	}
	switch (agent->table->mode) {
	case DQ_MODE_CAS:
		ret = dq__agent_observe_tiles(agent, tg->f, action, reward,
					      tg->f2, terminated, agent->rule,
					      DQ_MODE_CAS);
		break;
	case DQ_MODE_HOGWILD:
		ret = dq__agent_observe_tiles(agent, tg->f, action, reward,
					      tg->f2, terminated, agent->rule,
					      DQ_MODE_HOGWILD);
		break;
	case DQ_MODE_LOCKED:
	default:
		ret = dq__agent_observe_tiles(agent, tg->f, action, reward,
					      tg->f2, terminated, agent->rule,
					      DQ_MODE_LOCKED);
		break;
	}
observed:
	/* the features of s' become those of the next act's state */
	if (!terminated) {
		uint32_t *t = tg->f;

		tg->f = tg->f2;
		tg->f2 = t;
	}
	if (terminated && agent->steps != steps)
		dq__agent_episode_end(agent);
	return ret;
}
