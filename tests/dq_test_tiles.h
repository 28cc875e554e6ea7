/*
 * Set-up shared by the suites over tiles (test_tiles, test_tilerules,
 * test_tilereplay): a tile coder from its text form, a tile-coded agent
 * over a fresh weight table (a rig), and the twins that check a
 * one-tile-per-state agent against the tabular one on a slippery
 * corridor. dq_test.h stays about tables; this one needs lib/agent.h.
 */
#ifndef DQ_TEST_TILES_H
#define DQ_TEST_TILES_H

#include <math.h>

#include "dq_test.h"

#include "agent.h"

/* A tile coder of @dim dimensions, each over [@lo, @hi], from @text
 * ("TxB1,B2,...[/hash]", dq_tiles_config_parse()). Fails the test when
 * parsing or creation fails. */
static inline dq_tiles *
dq_test_tiles(const char *text, uint32_t dim, double lo, double hi)
{
	dq_tiles_config c;
	dq_tiles *tc = NULL;

	assert_int_equal(dq_tiles_config_init(&c), 0);
	c.dim = dim;
	for (uint32_t i = 0; i < dim; i++) {
		c.low[i] = lo;
		c.high[i] = hi;
	}
	assert_int_equal(dq_tiles_config_parse(&c, text), 0);
	assert_int_equal(dq_tiles_create(&tc, &c), 0);
	return tc;
}

/* The coder @text of @env's observation (dq_tiles_config_from_env():
 * "TxB1,B2,..." over the environment's own bounds); its rows (features)
 * into *@rows when @rows is not NULL. Fails the test when any step
 * fails. */
static inline dq_tiles *
dq_test_tiles_env(const dq_env *env, const char *text, uint32_t *rows)
{
	dq_tiles_config c;
	dq_tiles *tc = NULL;

	assert_int_equal(dq_tiles_config_init(&c), 0);
	assert_int_equal(dq_tiles_config_from_env(&c, env, text), 0);
	assert_int_equal(dq_tiles_create(&tc, &c), 0);
	if (rows)
		assert_int_equal(dq_tiles_features(tc, rows), 0);
	return tc;
}

/* A tile-coded agent: its coder, its weight table, the agent. */
typedef struct dq_test_rig {
	dq_tiles *tc;
	dq_table *t;
	dq_agent *ag;
} dq_test_rig;

/* A rig over one dimension on [0, 1] coded by @text, a table of its rows
 * x 2 actions (every weight 0) in @mode, and an agent of @c (its tiles
 * set here). Fails the test when any creation fails. */
static inline dq_test_rig
dq_test_rig_make(const char *text, dq_mode mode, dq_agent_config *c)
{
	dq_test_rig r;
	uint32_t rows;

	r.tc = dq_test_tiles(text, 1, 0.0, 1.0);
	assert_int_equal(dq_tiles_features(r.tc, &rows), 0);
	r.t = dq_test_table(rows, 2, mode, 0.0, false);
	c->tiles = r.tc;
	assert_int_equal(dq_agent_create(&r.ag, r.t, c), 0);
	return r;
}

static inline void
dq_test_rig_free(dq_test_rig *r)
{
	dq_agent_destroy(r->ag);
	dq_table_destroy(r->t);
	dq_tiles_destroy(r->tc);
}

/* A tile-coded learner: its environment, coder, weight table, learner. */
typedef struct dq_test_tl {
	dq_env *env;
	dq_tiles *tc;
	dq_table *t;
	dq_learner *l;
} dq_test_tl;

/* Opens environment @env_name, its coder @text (dq_test_tiles_env()) and
 * a table of the coder's rows x the environment's actions in @mode with
 * @channels channels, and fills @c with the learner defaults, pin none
 * and that coder; the caller sets its own fields and creates x->l
 * (dq_learner_create(&x->l, x->t, x->env, c)). Fails the test when any
 * step fails. */
static inline void
dq_test_tl_open(dq_test_tl *x, const char *env_name, const char *text,
		dq_mode mode, uint32_t channels, dq_learner_config *c)
{
	dq_env_spec sp;
	uint32_t rows;

	memset(x, 0, sizeof(*x));
	assert_int_equal(dq_env_open_name(&x->env, env_name), 0);
	assert_int_equal(dq_env_spec_get(x->env, &sp), 0);
	x->tc = dq_test_tiles_env(x->env, text, &rows);
	x->t = dq_test_table_full(rows, sp.n_actions, mode, 0.0, false,
				  channels, false);
	dq_learner_config_init(c);
	c->pin = DQ_PIN_NONE;
	c->agent.tiles = x->tc;
}

/* Frees what dq_test_tl_open() and the caller's learner hold. */
static inline void
dq_test_tl_free(dq_test_tl *x)
{
	dq_learner_destroy(x->l);
	dq_table_destroy(x->t);
	dq_tiles_destroy(x->tc);
	dq_env_close(x->env);
}

/* The corridor: states 0..S-1, actions left, stay, right; a move slips to
 * a random one with probability 1/4; reward -1 a step, +5 on reaching
 * S-1 (terminated); truncated after LIMIT steps. Its own random stream,
 * so that both twins see the same world. */
#define DQ_TEST_CORRIDOR_S 12u
#define DQ_TEST_CORRIDOR_LIMIT 25u

static inline uint32_t
dq_test_corridor_step(dq_rng *w, uint32_t s, uint32_t a, double *r, bool *term)
{
	uint32_t m = dq_rng_uniform(w) < 0.25 ? dq_rng_below(w, 3) : a;

	s = m == 0 ? (s ? s - 1 : 0) : m == 2 ? s + 1 : s;
	*term = s == DQ_TEST_CORRIDOR_S - 1;
	*r = *term ? 5.0 : -1.0;
	return s;
}

/*
 * Twins: a tabular agent ta over tab (S x 3) and a tile-coded one wa over
 * tw, with one tiling of S tiles over [0, S] ("1x12", S + 1 rows):
 * observation s + 0.5 is tile s alone, so the weights are the table and
 * alpha / T is alpha.
 */
typedef struct dq_test_twins {
	dq_tiles *tc;
	dq_table *tab, *tw;
	dq_agent *ta, *wa;
} dq_test_twins;

/* The twins' common settings: @rule, gamma 0.9, alpha 0.3, epsilon 0.2,
 * seed 7; the caller adds its rule's or extension's fields. */
static inline void
dq_test_twins_config(dq_agent_config *c, dq_rule rule)
{
	dq_agent_config_init(c);
	c->rule = rule;
	c->gamma = 0.9;
	c->alpha.start = c->alpha.end = 0.3;
	c->epsilon.start = c->epsilon.end = 0.2;
	c->seed = 7;
}

/*
 * Makes the twins of @c (the tabular agent without tiles, the other with
 * the coder) and runs them @steps steps on the corridor, seed 11, each
 * episode from a uniform state below S - 1: the tabular agent takes
 * dq_agent_act/observe, the tile-coded one the _obs calls, every act must
 * agree, and a truncation ends the episode of both (the flush). The
 * caller compares what they learnt, then frees them.
 */
static inline void
dq_test_twins_run(dq_test_twins *x, const dq_agent_config *c, uint32_t steps)
{
	const uint32_t S = DQ_TEST_CORRIDOR_S;
	dq_agent_config wc = *c;
	dq_rng w;
	uint32_t rows, s, len = 0;

	x->tc = dq_test_tiles("1x12", 1, 0.0, (double)S);
	x->tab = dq_test_table(S, 3, DQ_MODE_CAS, 0.0, false);
	assert_int_equal(dq_tiles_features(x->tc, &rows), 0);
	assert_int_equal(rows, S + 1);
	x->tw = dq_test_table(rows, 3, DQ_MODE_CAS, 0.0, false);
	wc.tiles = NULL;
	assert_int_equal(dq_agent_create(&x->ta, x->tab, &wc), 0);
	wc.tiles = x->tc;
	assert_int_equal(dq_agent_create(&x->wa, x->tw, &wc), 0);
	dq_rng_seed(&w, 11, 0);
	s = dq_rng_below(&w, S - 1);
	for (uint32_t k = 0; k < steps; k++) {
		uint32_t a, b, s2;
		double r, o = s + 0.5, o2;
		bool term;

		assert_int_equal(dq_agent_act(x->ta, s, &a), 0);
		assert_int_equal(dq_agent_act_obs(x->wa, &o, &b), 0);
		assert_int_equal(a, b);
		s2 = dq_test_corridor_step(&w, s, a, &r, &term);
		o2 = s2 + 0.5;
		assert_int_equal(dq_agent_observe(x->ta, s, a, r, s2, term), 0);
		assert_int_equal(
		    dq_agent_observe_obs(x->wa, &o, a, r, &o2, term), 0);
		s = s2;
		if (term || ++len == DQ_TEST_CORRIDOR_LIMIT) {
			if (!term) { /* truncated: the flush */
				assert_int_equal(dq_agent_episode_end(x->ta),
						 0);
				assert_int_equal(dq_agent_episode_end(x->wa),
						 0);
			}
			len = 0;
			s = dq_rng_below(&w, S - 1);
		}
	}
}

/* The twins' weights entry for entry (S x 3): returns how many differ
 * bit for bit (memcmp) from the tabular table; into *@moved how many the
 * tabular one moved from 0, into *@maxd (when not NULL) the largest
 * |difference|. */
static inline uint32_t
dq_test_twins_differ(const dq_test_twins *x, uint32_t *moved, double *maxd)
{
	uint32_t differ = 0;

	*moved = 0;
	if (maxd)
		*maxd = 0.0;
	for (uint32_t y = 0; y < DQ_TEST_CORRIDOR_S; y++)
		for (uint32_t a = 0; a < 3; a++) {
			double u = dq_test_q(x->tab, y, a),
			       v = dq_test_q(x->tw, y, a);

			differ += memcmp(&u, &v, sizeof(u)) != 0;
			*moved += u != 0.0;
			if (maxd && fabs(u - v) > *maxd)
				*maxd = fabs(u - v);
		}
	return differ;
}

static inline void
dq_test_twins_free(dq_test_twins *x)
{
	dq_agent_destroy(x->ta);
	dq_agent_destroy(x->wa);
	dq_table_destroy(x->tab);
	dq_table_destroy(x->tw);
	dq_tiles_destroy(x->tc);
}

#endif
