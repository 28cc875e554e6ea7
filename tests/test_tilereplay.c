/*
 * tests/test_tilereplay.c - experience replay and the target table over
 * tiles (lib/tilereplay.c; tilerule.h's bootstrap through ag->boot).
 *
 * - One tiling whose tiles are the states reduces replay, a target table
 *   (copy and Polyak) and both to the tabular ones of lib/replay.c, bit
 *   for bit: the same seed takes the same actions, replays the same draws
 *   and ends with the same table and the same target.
 * - One replayed update and one target bootstrap over two tilings, the
 *   values worked out by hand.
 * - The ring keeps the last `cap` transitions' tiles (s' zeros on
 *   termination); the memory bound counts DQ_REPLAY_TILES_TRANSITION_BYTES
 *   (16 + 8T) a transition, per agent and for the P agents of a learner.
 * - A tile-coded learner with both trains CartPole reproducibly with a
 *   seed, at P = 1 and 2 (make check runs it under TSan too), and replays
 *   as many transitions as configured.
 * - A checkpoint drops what a tabular one drops: a resumed learner starts
 *   with empty rings and a target that is a copy of the loaded weights,
 *   so it does not continue the uninterrupted run bit for bit.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "dq_test_tiles.h"

#include "replay.h"

/* The corridor's states (dq_test_tiles.h, test_tilerules.c's too). */
#define S DQ_TEST_CORRIDOR_S

/* How the reduction is configured: replay (ring, batch, minibatches),
 * target (every, tau). */
struct ext_cfg {
	uint32_t cap, batch, k, every;
	double tau;
};

/*
 * One tiling of S tiles over [0, S]: observation s + 0.5 is tile s alone,
 * so the weights are the table and alpha / T is alpha. A tabular agent
 * with replay and/or a target (dq_agent_act/observe) and a tile-coded one
 * with the same (the _obs calls) take the same seed and corridor: every
 * act agrees, both replay as many transitions, and at the end every
 * weight and every target entry is the tabular one bit for bit.
 */
static void
equivalence(dq_rule rule, struct ext_cfg x)
{
	dq_test_twins tt;
	dq_agent_config c;
	dq_agent *ta, *wa;
	uint32_t differ, moved;

	dq_test_twins_config(&c, rule);
	c.replay_capacity = x.cap;
	c.replay_batch = x.batch;
	c.replay_minibatches = x.k;
	c.target_every = x.every;
	c.target_tau = x.tau;
	dq_test_twins_run(&tt, &c, 20000);
	ta = tt.ta;
	wa = tt.wa;
	assert_int_equal(ta->ext->replays, wa->ext->replays);
	if (x.cap) {
		assert_int_equal(wa->ext->replays,
				 (20000ull - x.batch + 1) * x.batch * x.k);
		assert_int_equal(wa->ext->rp.count, x.cap);
	}
	differ = dq_test_twins_differ(&tt, &moved, NULL);
	for (uint32_t y = 0; x.every && y < S; y++)
		for (uint32_t a = 0; a < 3; a++) {
			double u = dq__table_get(
				   dq__target_view(ta->ext->target), y, a),
			       v = dq__table_get(
				   dq__target_view(wa->ext->target), y, a);

			differ += memcmp(&u, &v, sizeof(u)) != 0;
		}
	print_message("%s, replay %u:%u:%u, target %u tau %g: %u differ, "
		      "%u of %u moved, %llu replays\n",
		      dq_rule_name(rule), x.cap, x.batch, x.k, x.every, x.tau,
		      differ, moved, S * 3,
		      (unsigned long long)wa->ext->replays);
	assert_int_equal(differ, 0);
	assert_true(moved > 20);
	dq_test_twins_free(&tt);
}

static void
test_reduces_to_tabular(void **state)
{
	(void)state;
	/* a ring of 40 wraps 500 times in 20,000 steps */
	equivalence(DQ_RULE_Q, (struct ext_cfg){40, 4, 2, 0, 0.0});
	equivalence(DQ_RULE_Q, (struct ext_cfg){0, 0, 0, 30, 0.0});
	equivalence(DQ_RULE_Q, (struct ext_cfg){40, 4, 1, 30, 0.0});
	equivalence(DQ_RULE_Q, (struct ext_cfg){40, 2, 1, 5, 0.25});
	equivalence(DQ_RULE_EXPECTED_SARSA, (struct ext_cfg){40, 4, 2, 0, 0});
	equivalence(DQ_RULE_EXPECTED_SARSA,
		    (struct ext_cfg){64, 3, 1, 50, 0.0});
}

/* An agent over two tilings of two tiles on [0, 1] ("2x2": 6 rows),
 * 2 actions, alpha 0.5 (0.25 a weight), gamma 0.9, epsilon 0, ties to
 * the lowest action: no draw but the replay's. */
static dq_test_rig
hand_rig(uint32_t cap, uint32_t every)
{
	dq_agent_config c;
	dq_test_rig r;
	uint32_t rows;

	dq_agent_config_init(&c);
	c.gamma = 0.9;
	c.alpha.start = c.alpha.end = 0.5;
	c.epsilon.start = c.epsilon.end = 0.0;
	c.random_ties = false;
	c.replay_capacity = cap;
	c.replay_batch = cap ? 1 : 0;
	c.replay_minibatches = cap ? 1 : 0;
	c.target_every = every;
	r = dq_test_rig_make("2x2", DQ_MODE_CAS, &c);
	assert_int_equal(dq_tiles_features(r.tc, &rows), 0);
	assert_int_equal(rows, 6);
	return r;
}

/* The weights other than those listed (rows x 2 entries, `set` marks
 * the listed ones) are 0. */
static void
others_zero(const dq_table *t, const bool set[6][2])
{
	for (uint32_t r = 0; r < 6; r++)
		for (uint32_t a = 0; a < 2; a++)
			if (!set[r][a])
				assert_true(dq_test_q(t, r, a) == 0.0);
}

/*
 * One replayed update, by hand. Observation 0.1 is tiles {0, 3} and 0.6
 * is {1, 4} (quantised to 1/2 of a tile: floor(4x) = 0 and 2; tiling 1
 * shifted by one quarter). Ring of 4, batch 1.
 *
 * Step 1, (0.1, a 0, r 1, 0.6, not terminated): the fresh update moves
 * w[0][0] and w[3][0] by 0.25 x (1 + 0.9 x 0 - 0) = 0.25; the ring holds
 * one transition, so the replay draws it: Q(0.1, 0) = 0.5, the step
 * 0.25 x (1 - 0.5) = 0.125: both weights 0.375 (0.25 without replay).
 *
 * Step 2, (0.6, a 1, r -1, terminated): w[1][1], w[4][1] = -0.25. The
 * replay draws index 0 or 1 of two (predicted from a copy of the agent's
 * stream, its only draw): transition 1 again gives w[0][0] = w[3][0] =
 * 0.375 + 0.25 x (1 + 0.9 max(0, -0.5) - 0.75) = 0.4375; transition 2
 * gives w[1][1] = w[4][1] = -0.25 + 0.25 x (-1 - (-0.5)) = -0.375.
 */
static void
test_replay_by_hand(void **state)
{
	dq_test_rig r = hand_rig(4, 0);
	dq_tiles *tc = r.tc;
	dq_table *t = r.t;
	dq_agent *ag = r.ag;
	const double o1 = 0.1, o2 = 0.6;
	uint32_t f[2];
	bool set[6][2] = {{false}};
	dq_rng copy;
	uint32_t pick;

	(void)state;
	assert_int_equal(dq_tiles_active(tc, &o1, f, 2), 2);
	assert_true(f[0] == 0 && f[1] == 3);
	assert_int_equal(dq_tiles_active(tc, &o2, f, 2), 2);
	assert_true(f[0] == 1 && f[1] == 4);
	assert_int_equal(dq_agent_observe_obs(ag, &o1, 0, 1.0, &o2, false), 0);
	assert_true(dq_test_q(t, 0, 0) == 0.375);
	assert_true(dq_test_q(t, 3, 0) == 0.375);
	set[0][0] = set[3][0] = true;
	others_zero(t, set);
	assert_int_equal(ag->ext->replays, 1);
	copy = ag->rng;
	pick = dq_rng_below(&copy, 2);
	assert_int_equal(dq_agent_observe_obs(ag, &o2, 1, -1.0, NULL, true), 0);
	print_message("step 2 replayed transition %u\n", pick + 1);
	assert_true(dq_test_q(t, 0, 0) == (pick == 0 ? 0.4375 : 0.375));
	assert_true(dq_test_q(t, 3, 0) == (pick == 0 ? 0.4375 : 0.375));
	assert_true(dq_test_q(t, 1, 1) == (pick == 1 ? -0.375 : -0.25));
	assert_true(dq_test_q(t, 4, 1) == (pick == 1 ? -0.375 : -0.25));
	set[1][1] = set[4][1] = true;
	others_zero(t, set);
	assert_int_equal(ag->ext->replays, 2);
	assert_int_equal(ag->steps, 2);
	dq_test_rig_free(&r);
}

/*
 * The target over tiles, by hand (no replay, a copy every 2 steps):
 * step 1, (0.6, a 1, r 2, terminated): w[1][1] = w[4][1] = 0.5, so live
 * Q(0.6, 1) = 1; the target still holds 0. Step 2, (0.1, a 0, r 0, 0.6):
 * the bootstrap reads the target, 0.9 x 0: no change (bootstrapping from
 * the live weights would give 0.25 x 0.9 = 0.225 each). The clock is 2:
 * the target becomes a copy. Step 3, the same transition: 0.25 x 0.9 x 1
 * = 0.225 to w[0][0] and w[3][0].
 */
static void
test_target_by_hand(void **state)
{
	dq_test_rig r = hand_rig(0, 2);
	dq_table *t = r.t;
	dq_agent *ag = r.ag;
	const double o1 = 0.1, o2 = 0.6;
	const dq_table *tv;

	(void)state;
	assert_int_equal(dq_agent_observe_obs(ag, &o2, 1, 2.0, NULL, true), 0);
	assert_true(dq_test_q(t, 1, 1) == 0.5 && dq_test_q(t, 4, 1) == 0.5);
	tv = dq__target_view(ag->ext->target);
	assert_true(dq__table_get(tv, 1, 1) == 0.0);
	assert_int_equal(dq_agent_observe_obs(ag, &o1, 0, 0.0, &o2, false), 0);
	assert_true(dq_test_q(t, 0, 0) == 0.0 && dq_test_q(t, 3, 0) == 0.0);
	tv = dq__target_view(ag->ext->target);
	assert_true(dq__table_get(tv, 1, 1) == 0.5);
	assert_true(dq__table_get(tv, 4, 1) == 0.5);
	assert_int_equal(dq_agent_observe_obs(ag, &o1, 0, 0.0, &o2, false), 0);
	assert_true(dq_test_q(t, 0, 0) == 0.25 * 0.9);
	assert_true(dq_test_q(t, 3, 0) == 0.25 * 0.9);
	dq_test_rig_free(&r);
}

/*
 * The ring of a tile-coded agent keeps the last `cap` transitions and
 * their tiles, the oldest overwritten first, s''s tiles zeros on
 * termination; it never holds more than cap. The memory bound counts
 * 16 + 8T bytes a transition: with 8 tilings (80 bytes) 2^24 transitions
 * are 1.25 GiB, refused, where a tabular ring of as many (384 MiB) is
 * not; 2^23 (640 MiB) is one agent's right, not two agents'.
 */
static void
test_capacity(void **state)
{
	dq__tile_transition rec[5];
	uint32_t tiles[5 * 2 * 3];
	dq__replay rp = {.tbuf = rec, .tiles = tiles, .T = 3, .cap = 5};
	dq_tiles *tc = dq_test_tiles("8x4", 1, 0.0, 1.0), *tc2;
	dq_agent_config c;
	dq_learner_config lc;
	dq_learner *l = NULL;
	dq_table *t;
	dq_env *env;
	uint32_t rows;

	(void)state;
	for (uint32_t i = 0; i < 12; i++) {
		const uint32_t f[3] = {i, i + 20, i + 40},
			       f2[3] = {i + 100, i + 120, i + 140};

		dq__replay_push_tiles(&rp, f, i % 2, (double)i, f2, i == 9);
		assert_int_equal(rp.count, i + 1 < 5 ? i + 1 : 5);
	}
	assert_int_equal(rp.head, 12 % 5);
	/* slots hold 10, 11, 7, 8, 9 */
	for (uint32_t k = 0; k < 5; k++) {
		const uint32_t want = k < 2 ? 10 + k : 5 + k;
		const uint32_t *tf = tiles + k * 6;

		assert_int_equal(rec[k].a, want % 2);
		assert_true(rec[k].r == (double)want);
		assert_int_equal(rec[k].terminated, want == 9);
		for (uint32_t j = 0; j < 3; j++) {
			assert_int_equal(tf[j], want + 20 * j);
			assert_int_equal(tf[3 + j],
					 want == 9 ? 0 : want + 100 + 20 * j);
		}
	}
	/* the bound */
	assert_int_equal(DQ_REPLAY_TILES_TRANSITION_BYTES(8), 80);
	assert_int_equal(DQ_REPLAY_TILES_TRANSITION_BYTES(1),
			 DQ_REPLAY_TRANSITION_BYTES);
	dq_agent_config_init(&c);
	c.replay_capacity = 1u << 24;
	c.replay_batch = 1;
	c.replay_minibatches = 1;
	assert_int_equal(dq_agent_config_check(&c), 0);
	c.tiles = tc;
	assert_int_equal(dq_agent_config_check(&c), -ERANGE);
	assert_non_null(strstr(dq_error_detail(), "x 80 bytes"));
	c.replay_capacity = 1u << 23;
	assert_int_equal(dq_agent_config_check(&c), 0);
	assert_int_equal(dq_env_open_name(&env, "mountaincar"), 0);
	dq_learner_config_init(&lc);
	lc.agent = c;
	/* mountaincar's 2 dimensions, 4 tilings: 48 bytes x 2^23 x 3 agents
	 * = 1.125 GiB */
	tc2 = dq_test_tiles("4x4,4", 2, -2.0, 2.0);
	assert_int_equal(dq_tiles_features(tc2, &rows), 0);
	t = dq_test_table(rows, 3, DQ_MODE_CAS, 0.0, false);
	lc.agent.tiles = tc2;
	lc.max_steps = 10;
	lc.pin = DQ_PIN_NONE;
	lc.n_threads = 3;
	assert_int_equal(dq_learner_create(&l, t, env, &lc), -ERANGE);
	assert_null(l);
	lc.n_threads = 1;
	lc.agent.replay_capacity = 1000;
	assert_int_equal(dq_learner_create(&l, t, env, &lc), 0);
	dq_learner_destroy(l);
	/* the on-policy rules over tiles are refused, naming why */
	c.tiles = tc;
	c.replay_capacity = 10;
	for (dq_rule r = DQ_RULE_Q; r <= DQ_RULE_Q_LAMBDA; r++) {
		c.rule = r;
		assert_int_equal(dq_agent_config_check(&c),
				 r == DQ_RULE_Q ||
					 r == DQ_RULE_EXPECTED_SARSA ||
					 r == DQ_RULE_DOUBLE_Q
				     ? 0
				     : DQ_ERULE);
	}
	dq_env_close(env);
	dq_table_destroy(t);
	dq_tiles_destroy(tc);
	dq_tiles_destroy(tc2);
}

/* A tile-coded CartPole learner (8x4,4,8,8, cas) with replay and a
 * target. */
typedef dq_test_tl tl;

static void
tl_make(tl *x, uint32_t threads, uint64_t steps, uint32_t every)
{
	dq_learner_config c;

	dq_test_tl_open(x, "cartpole", "8x4,4,8,8", DQ_MODE_CAS, 1, &c);
	c.n_threads = threads;
	c.max_steps = steps;
	c.agent.gamma = 1.0;
	c.agent.seed = 7;
	c.agent.alpha.start = c.agent.alpha.end = 0.1;
	c.agent.epsilon.start = c.agent.epsilon.end = 0.05;
	c.agent.replay_capacity = 1000;
	c.agent.replay_batch = 4;
	c.agent.replay_minibatches = 2;
	c.agent.target_every = every;
	assert_int_equal(dq_learner_create(&x->l, x->t, x->env, &c), 0);
}

static void
tl_run(tl *x, dq_run_result *r)
{
	assert_int_equal(dq_learner_run(x->l, r), 0);
}

/*
 * The learner's tile loop with replay and a target: one agent replays
 * B x K = 8 transitions a step once its ring holds 4, the same seed gives
 * the same weights bit for bit, and a target refreshed every 500 steps
 * was refreshed steps / 500 times; two agents run it together (TSan).
 */
static void
test_learner(void **state)
{
	tl a, b, p;
	dq_run_result r;
	dq_agent *ag;

	(void)state;
	tl_make(&a, 1, 20000, 500);
	tl_make(&b, 1, 20000, 500);
	tl_run(&a, &r);
	assert_int_equal(r.run_steps, 20000);
	tl_run(&b, &r);
	assert_true(dq_test_same_q(a.t, b.t));
	ag = dq__learner_agent(a.l, 0);
	assert_int_equal(ag->ext->replays, (20000ull - 3) * 8);
	assert_int_equal(ag->ext->rp.count, 1000);
	assert_int_equal(
	    dq__load_u64(&ag->ext->target->refreshes, memory_order_relaxed),
	    20000 / 500);
	tl_make(&p, 2, 20000, 100);
	tl_run(&p, &r);
	assert_true(r.total.steps >= 20000);
	for (uint32_t i = 0; i < 2; i++)
		assert_true(dq__learner_agent(p.l, i)->ext->replays > 0);
	dq_test_tl_free(&a);
	dq_test_tl_free(&b);
	dq_test_tl_free(&p);
}

/*
 * Checkpoints (docs/replay.md, "what a resume drops"), as for tabular
 * replay: A runs twice; B runs once and is saved; C, a new learner, is
 * restored from the file: its ring is empty (A's holds its transitions),
 * its run starts with the target a copy of the loaded weights (the target
 * here is never refreshed within the run), and C's weights after one run
 * are not A's: replay's contents are not in the file.
 */
static void
test_checkpoint_drops_ring(void **state)
{
	char dir[] = "/tmp/dq-tilereplay-XXXXXX", path[64];
	tl a, b, c;
	dq_checkpoint_meta m, got;
	dq_run_result r;
	dq_agent *ag;
	double *saved;
	uint32_t rows;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.ckp", dir);
	tl_make(&a, 1, 3000, 1u << 30);
	tl_make(&b, 1, 3000, 1u << 30);
	tl_make(&c, 1, 3000, 1u << 30);
	tl_run(&a, &r);
	tl_run(&b, &r);
	assert_true(dq_test_same_q(a.t, b.t));
	assert_int_equal(dq__learner_agent(b.l, 0)->ext->rp.count, 1000);
	memset(&m, 0, sizeof(m));
	strcpy(m.env, "cartpole");
	m.mode = DQ_MODE_CAS;
	m.gamma = 1.0;
	m.alpha = 0.1;
	m.epsilon = 0.05;
	m.seed = 7;
	assert_int_equal(dq_checkpoint_save_learner(path, b.l, &m), 0);
	assert_int_equal(dq_checkpoint_load_learner(path, c.l, &got), 0);
	assert_true(dq_test_same_q(b.t, c.t));
	ag = dq__learner_agent(c.l, 0);
	assert_int_equal(ag->ext->rp.count, 0); /* dropped */
	assert_int_equal(ag->ext->rp.head, 0);
	assert_int_equal(dq_tiles_features(c.tc, &rows), 0);
	saved = malloc((size_t)rows * 2 * sizeof(*saved));
	assert_non_null(saved);
	assert_int_equal(dq_table_snapshot(c.t, saved, (size_t)rows * 2), 0);
	tl_run(&a, &r);
	tl_run(&c, &r);
	/* the run's target: the loaded weights */
	for (uint32_t s = 0; s < rows; s++)
		for (uint32_t k = 0; k < 2; k++) {
			double v = dq__table_get(
			    dq__target_view(ag->ext->target), s, k);

			assert_memory_equal(&v, &saved[s * 2 + k], sizeof(v));
		}
	assert_false(dq_test_same_q(a.t, c.t));
	print_message("resumed: ring refilled to %u, %llu replays\n",
		      ag->ext->rp.count, (unsigned long long)ag->ext->replays);
	free(saved);
	dq_test_tl_free(&a);
	dq_test_tl_free(&b);
	dq_test_tl_free(&c);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reduces_to_tabular),
	    cmocka_unit_test(test_replay_by_hand),
	    cmocka_unit_test(test_target_by_hand),
	    cmocka_unit_test(test_capacity),
	    cmocka_unit_test(test_learner),
	    cmocka_unit_test(test_checkpoint_drops_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
