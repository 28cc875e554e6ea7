/*
 * Experience replay and the target table (lib/replay.c, lib/target.c):
 * the configuration's checks (on-policy rules refused, the memory bound),
 * the ring's semantics (capacity wrap, uniform draws by a chi-square test,
 * reproducible with a seed), the target's refresh by copy at exactly C
 * steps and by Polyak averaging (values worked out by hand), bootstraps
 * that really read the target and acts that do not, learning that still
 * reaches the exact optimum with both on at P = 1 and 2, and a shared
 * target refreshed under contention (clean under TSan: make check runs
 * every suite under it).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "dq_test.h"

#include "agent.h"
#include "replay.h"

static dq_agent_config
acfg(dq_rule rule)
{
	dq_agent_config c;

	dq_agent_config_init(&c);
	c.rule = rule;
	c.alpha.start = c.alpha.end = 0.5;
	c.epsilon.start = c.epsilon.end = 0.0;
	c.gamma = 0.9;
	c.random_ties = false;
	return c;
}

/* On-policy rules are refused, naming why; bad ranges; the memory bound
 * per agent and for the P agents of a learner (-ERANGE naming it). */
static void
test_config(void **state)
{
	dq_agent_config c;
	dq_learner_config lc;
	dq_learner *l = NULL;
	dq_table *t = dq_test_table_ch(16, 4, DQ_MODE_CAS, 1, false);
	dq_env *env;

	(void)state;
	c = acfg(DQ_RULE_SARSA);
	c.replay_capacity = 10;
	c.replay_batch = 1;
	c.replay_minibatches = 1;
	assert_int_equal(dq_agent_config_check(&c), DQ_ERULE);
	assert_non_null(strstr(dq_error_detail(), "off-policy"));
	c = acfg(DQ_RULE_SARSA);
	c.target_every = 10;
	assert_int_equal(dq_agent_config_check(&c), DQ_ERULE);
	for (dq_rule r = DQ_RULE_Q; r <= DQ_RULE_DOUBLE_Q; r++) {
		c = acfg(r);
		c.replay_capacity = 10;
		c.replay_batch = 2;
		c.replay_minibatches = 3;
		c.target_every = 7;
		c.target_tau = 0.1;
		assert_int_equal(dq_agent_config_check(&c),
				 r == DQ_RULE_SARSA ? DQ_ERULE : 0);
	}
	c = acfg(DQ_RULE_Q);
	c.replay_capacity = 10; /* no batch */
	assert_int_equal(dq_agent_config_check(&c), -EINVAL);
	c.replay_batch = 64;
	c.replay_minibatches = 65; /* 4160 > DQ_REPLAY_MAX_PER_STEP */
	assert_int_equal(dq_agent_config_check(&c), -EINVAL);
	c = acfg(DQ_RULE_Q);
	c.replay_batch = 1; /* a batch without a ring */
	assert_int_equal(dq_agent_config_check(&c), -EINVAL);
	c = acfg(DQ_RULE_Q);
	c.target_tau = 0.5; /* without a period */
	assert_int_equal(dq_agent_config_check(&c), -EINVAL);
	c.target_every = 1;
	c.target_tau = 1.5;
	assert_int_equal(dq_agent_config_check(&c), -EINVAL);
	c.target_tau = NAN;
	assert_int_equal(dq_agent_config_check(&c), -EINVAL);
	/* 24 x 2^26 bytes = 1.5 GiB for one agent */
	c = acfg(DQ_RULE_Q);
	c.replay_capacity = 1u << 26;
	c.replay_batch = 1;
	c.replay_minibatches = 1;
	assert_int_equal(dq_agent_config_check(&c), -ERANGE);
	assert_non_null(strstr(dq_error_detail(), "DQ_REPLAY_MAX_BYTES"));
	/* 24 x 2^25 = 768 MiB is one agent's right, not two agents' */
	c.replay_capacity = 1u << 25;
	assert_int_equal(dq_agent_config_check(&c), 0);
	assert_int_equal(dq_env_open_name(&env, "frozenlake4x4"), 0);
	dq_learner_config_init(&lc);
	lc.agent = c;
	lc.max_steps = 10;
	lc.n_threads = 2;
	assert_int_equal(dq_learner_create(&l, t, env, &lc), -ERANGE);
	assert_null(l);
	dq_env_close(env);
	dq_table_destroy(t);
}

/* The ring keeps the last `cap` transitions, the oldest overwritten
 * first; s' is stored as 0 on termination. */
static void
test_ring_wrap(void **state)
{
	dq__transition buf[5];
	dq__replay rp = {.buf = buf, .cap = 5, .batch = 1, .minibatches = 1};

	(void)state;
	for (uint32_t i = 0; i < 12; i++) {
		dq__replay_push(&rp, i, i % 3, (double)i, i + 100, i == 9);
		assert_int_equal(rp.count, i + 1 < 5 ? i + 1 : 5);
	}
	assert_int_equal(rp.head, 12 % 5);
	/* slots hold 10, 11, 7, 8, 9 */
	for (uint32_t k = 0; k < 5; k++) {
		uint32_t want = k < 2 ? 10 + k : 5 + k;

		assert_int_equal(buf[k].s, want);
		assert_int_equal(buf[k].a, want % 3);
		assert_true(buf[k].r == (double)want);
		assert_int_equal(buf[k].terminated, want == 9);
		assert_int_equal(buf[k].s2, want == 9 ? 0 : want + 100);
	}
}

/*
 * Draws are uniform over the stored transitions: 200,000 draws over 50
 * slots, chi-square with 49 degrees of freedom (mean 49, sd 9.9): fails
 * above 110 (p < 1e-8 for a uniform draw, so a correct ring never fails;
 * a draw skewed by 3% to one half exceeds it). Draws only cover the filled
 * part (count) of a ring not yet full. The same seed draws the same
 * sequence.
 */
static void
test_uniform(void **state)
{
	static dq__transition buf[64];
	dq__replay rp = {.buf = buf, .cap = 64, .batch = 1, .minibatches = 1};
	unsigned hist[64] = {0};
	const unsigned n = 200000;
	double chi = 0.0, e = n / 50.0;
	dq_rng g, h;

	(void)state;
	for (uint32_t i = 0; i < 50; i++)
		dq__replay_push(&rp, i, 0, 0.0, 0, false);
	assert_int_equal(dq_rng_seed(&g, 7, 0), 0);
	assert_int_equal(dq_rng_seed(&h, 7, 0), 0);
	for (unsigned i = 0; i < n; i++) {
		uint32_t k = dq__replay_draw(&rp, &g);

		assert_true(k < 50);
		assert_int_equal(k, dq__replay_draw(&rp, &h));
		hist[k]++;
	}
	for (int k = 0; k < 50; k++)
		chi += (hist[k] - e) * (hist[k] - e) / e;
	print_message("chi-square %.1f (49 dof, bound 110)\n", chi);
	assert_true(chi < 110.0);
}

/* Two agents with the same seed and configuration, fed the same
 * transitions, replay the same draws: identical tables, bit for bit; with
 * another seed, not. */
static void
test_reproducible(void **state)
{
	double v[3][16];

	(void)state;
	for (int k = 0; k < 3; k++) {
		dq_table *t = dq_test_table_ch(4, 4, DQ_MODE_CAS, 1, false);
		dq_agent_config c = acfg(DQ_RULE_Q);
		dq_agent *ag;
		dq_rng x;

		c.seed = k == 2 ? 99 : 5;
		c.replay_capacity = 16;
		c.replay_batch = 4;
		c.replay_minibatches = 2;
		assert_int_equal(dq_agent_create(&ag, t, &c), 0);
		assert_int_equal(dq_rng_seed(&x, 3, 0), 0);
		for (int i = 0; i < 200; i++) {
			uint32_t s = dq_rng_below(&x, 4),
				 a = dq_rng_below(&x, 4);

			assert_int_equal(
			    dq_agent_observe(ag, s, a, (double)(s == 3),
					     dq_rng_below(&x, 4), s == 3),
			    0);
		}
		assert_int_equal(ag->ext->replays,
				 (200u - 3) * 8); /* from step 4 */
		assert_int_equal(ag->steps, 200u);
		assert_int_equal(dq_table_snapshot(t, v[k], 16), 0);
		dq_agent_destroy(ag);
		dq_table_destroy(t);
	}
	assert_memory_equal(v[0], v[1], sizeof(v[0]));
	assert_memory_not_equal(v[0], v[2], sizeof(v[0]));
}

/* The target's current buffer, entry i of row s. */
static double
tget(const dq_agent *ag, uint32_t s, uint32_t i)
{
	return dq__table_get(dq__target_view(ag->ext->target), s, i);
}

/*
 * Refresh by copy at exactly C = 5 steps: a terminated transition on (0,0)
 * with alpha 0.5 moves Q(0,0) to 1 - 2^-k after k steps; the target keeps
 * 0 for steps 1-4, holds 1 - 2^-5 from step 5 to 9, 1 - 2^-10 from 10.
 */
static void
test_copy_every_c(void **state)
{
	dq_table *t = dq_test_table_ch(2, 2, DQ_MODE_CAS, 1, false);
	dq_agent_config c = acfg(DQ_RULE_Q);
	dq_agent *ag;

	(void)state;
	c.target_every = 5;
	assert_int_equal(dq_agent_create(&ag, t, &c), 0);
	for (int k = 1; k <= 12; k++) {
		int last = k / 5 * 5;

		assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, 0, true), 0);
		assert_true(tget(ag, 0, 0) ==
			    (last ? 1.0 - ldexp(1.0, -last) : 0.0));
	}
	dq_agent_destroy(ag);
	dq_table_destroy(t);
}

/*
 * Polyak tau 0.25, refreshed every step: live 0.5, 0.75, 0.875 (as above);
 * target 0.25 x 0.5 = 0.125, then 0.25 x 0.75 + 0.75 x 0.125 = 0.28125,
 * then 0.25 x 0.875 + 0.75 x 0.28125 = 0.4296875 (all exact in binary).
 * With C = 2 the blends come at steps 2 and 4 only.
 */
static void
test_polyak(void **state)
{
	static const double want1[] = {0.125, 0.28125, 0.4296875};
	/* C = 2: step 2 blends 0.75: 0.1875; step 4 blends 0.9375:
	 * 0.234375 + 0.140625 = 0.375 */
	static const double want2[] = {0.0, 0.1875, 0.1875, 0.375};

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		dq_table *t = dq_test_table_ch(2, 2, DQ_MODE_CAS, 1, false);
		dq_agent_config c = acfg(DQ_RULE_Q);
		dq_agent *ag;

		c.target_every = pass ? 2 : 1;
		c.target_tau = 0.25;
		assert_int_equal(dq_agent_create(&ag, t, &c), 0);
		for (int k = 0; k < (pass ? 4 : 3); k++) {
			assert_int_equal(
			    dq_agent_observe(ag, 0, 0, 1.0, 0, true), 0);
			assert_true(tget(ag, 0, 0) ==
				    (pass ? want2[k] : want1[k]));
		}
		dq_agent_destroy(ag);
		dq_table_destroy(t);
	}
}

/*
 * Bootstraps read the target, acts the live table. Target taken at
 * creation (all 0), then the live row s' = 1 set to [0, 10] (channel 0;
 * double-q's channel 1 stays 0, so QA = QB = row). One step (0, 0, r = 1,
 * s' = 1, alpha 0.5, gamma 0.9): from the target Q(0,0) = 0.5 x 1 = 0.5
 * (double-q: M += delta / 2 = 0.25); from the live table it would be
 * 0.5 x (1 + 9) = 5 (double-q 2.5), which the run without a target
 * shows. Then act(1) with epsilon 0 and lowest-index ties picks 1 from the
 * live row, where the target's row (a tie) would pick 0.
 */
static void
test_bootstrap_reads_target(void **state)
{
	static const dq_rule rules[] = {DQ_RULE_Q, DQ_RULE_EXPECTED_SARSA,
					DQ_RULE_DOUBLE_Q};

	(void)state;
	for (size_t i = 0; i < 3; i++)
		for (int target = 0; target < 2; target++) {
			const bool dq = rules[i] == DQ_RULE_DOUBLE_Q;
			dq_table *t = dq_test_table_ch(2, 2, DQ_MODE_CAS,
						       dq ? 2 : 1, false);
			dq_agent_config c = acfg(rules[i]);
			dq_agent *ag;
			double v;
			uint32_t act;

			c.target_every = target ? 1000 : 0;
			assert_int_equal(dq_agent_create(&ag, t, &c), 0);
			assert_int_equal(dq_table_set(t, 1, 1, 10.0), 0);
			assert_int_equal(dq_agent_act(ag, 0, &act), 0);
			assert_int_equal(
			    dq_agent_observe(ag, 0, 0, 1.0, 1, false), 0);
			assert_int_equal(dq_table_get(t, 0, 0, &v), 0);
			if (target)
				assert_true(v == (dq ? 0.25 : 0.5));
			else
				assert_true(v == (dq ? 2.5 : 5.0));
			assert_int_equal(dq_agent_act(ag, 1, &act), 0);
			assert_int_equal(act, 1);
			dq_agent_destroy(ag);
			dq_table_destroy(t);
		}
}

/*
 * Replay behind the write-back overlay (sync_every 2): replayed writes go
 * through it too, and its buffers are sized for them (1 + 8 writes per
 * step: 18 rows a window here, where the fresh transitions alone would
 * need 2); one agent behind the overlay learns exactly what it learns
 * with direct updates. (Not so with a target: it copies the shared
 * table, which lags the agent's window.)
 */
static void
test_overlay(void **state)
{
	double v[2][64 * 2];

	(void)state;
	for (int k = 0; k < 2; k++) {
		dq_table *t = dq_test_table_ch(64, 2, DQ_MODE_CAS, 1, false);
		dq_agent_config c = acfg(DQ_RULE_Q);
		dq_agent *ag;
		dq_rng x;

		c.sync_every = k ? 2 : 0;
		c.replay_capacity = 256;
		c.replay_batch = 4;
		c.replay_minibatches = 2;
		assert_int_equal(dq_agent_create(&ag, t, &c), 0);
		assert_int_equal(dq_rng_seed(&x, 3, 0), 0);
		for (int i = 0; i < 2000; i++) {
			uint32_t s = dq_rng_below(&x, 64);

			assert_int_equal(
			    dq_agent_observe(ag, s, dq_rng_below(&x, 2),
					     (double)(s == 63),
					     dq_rng_below(&x, 64), s == 63),
			    0);
		}
		assert_int_equal(dq_agent_sync(ag), 0);
		assert_int_equal(dq_table_snapshot(t, v[k], 128), 0);
		dq_agent_destroy(ag);
		dq_table_destroy(t);
	}
	assert_memory_equal(v[0], v[1], sizeof(v[0]));
}

/*
 * Learning still reaches the exactly optimal policy (the learner's target
 * check against value iteration) with replay (64 transitions, 2 x 2 per
 * step) and a target refreshed every 200 total steps, shared by the
 * agents, on frozenlake4x4 and maze4x3 at P = 1 and 2, for q and
 * double-q.
 */
static void
test_optimum(void **state)
{
	static const char *const envs[] = {"maze4x3", "frozenlake4x4"};
	static const dq_rule rules[] = {DQ_RULE_Q, DQ_RULE_DOUBLE_Q};

	(void)state;
	for (size_t e = 0; e < 2; e++)
		for (size_t i = 0; i < 2; i++)
			for (uint32_t p = 1; p <= 2; p++) {
				dq_test_lr x;
				dq_learner_config c;
				dq_run_result r;

				dq_test_lr_open_rule(&x, envs[e], rules[i], &c);
				c.agent.seed = 11;
				c.agent.replay_capacity = 64;
				c.agent.replay_batch = 2;
				c.agent.replay_minibatches = 2;
				c.agent.target_every = 200;
				c.max_steps = 20000000;
				dq_test_lr_run_to_target(&x, &c, p, &r);
				dq_test_lr_free(&x);
			}
}

/*
 * A shared target under contention: four threads update the live table
 * (cas) and tick the target every step with a period of one step (every
 * tick due: claims collide, refreshes overlap and are skipped), reading
 * through the current view meanwhile. No thread waits; every period is
 * claimed once (refreshes + skipped = the periods claimed); the target's
 * values are always values the table held (here: 0 or a value the
 * updates produce, all in [0, 1]). Run under TSan by make check.
 */
#define C_THREADS 4
#define C_STEPS 20000

struct cont {
	dq_table *t;
	dq__target *tg;
	uint32_t id;
	uint64_t claims;
};

static void *
cont_main(void *arg)
{
	struct cont *c = arg;
	dq_rng g;

	dq_rng_seed(&g, 1, c->id);
	for (uint64_t k = 1; k <= C_STEPS; k++) {
		uint32_t s = dq_rng_below(&g, 8), a = dq_rng_below(&g, 4);
		const dq_table *v;
		double max;

		(void)dq__table_apply(c->t, s, a,
				      (dq__op){DQ__OP_TD, 0.1, 1.0, 0.0});
		c->claims += dq__target_tick(c->tg, c->t, k * C_THREADS);
		v = dq__target_view(c->tg);
		(void)dq__table_greedy_max(v, dq_rng_below(&g, 8), NULL, &max);
		assert_true(max >= 0.0 && max <= 1.0);
	}
	return NULL;
}

static void
test_contention(void **state)
{
	dq_table *t = dq_test_table_ch(8, 4, DQ_MODE_CAS, 1, false);
	dq__target *tg;
	pthread_t th[C_THREADS];
	struct cont c[C_THREADS];
	uint64_t refreshed = 0, skipped, periods;

	(void)state;
	assert_int_equal(dq__target_create(&tg, t, 1, 0.0), 0);
	for (uint32_t i = 0; i < C_THREADS; i++) {
		c[i] = (struct cont){t, tg, i, 0};
		assert_int_equal(pthread_create(&th[i], NULL, cont_main, &c[i]),
				 0);
	}
	for (uint32_t i = 0; i < C_THREADS; i++) {
		pthread_join(th[i], NULL);
		refreshed += c[i].claims;
	}
	skipped = dq__load_u64(&tg->skipped, memory_order_relaxed);
	periods = dq__load_u64(&tg->next_due, memory_order_relaxed) - 1;
	print_message("refreshes %llu, skipped %llu, last period %llu\n",
		      (unsigned long long)refreshed,
		      (unsigned long long)skipped, (unsigned long long)periods);
	assert_true(refreshed >= 1);
	assert_int_equal(refreshed,
			 dq__load_u64(&tg->refreshes, memory_order_relaxed));
	assert_true(refreshed + skipped <= periods);
	/* quiescent: one more refresh copies the table exactly */
	dq__target_refresh(tg, t);
	for (uint32_t s = 0; s < 8; s++)
		for (uint32_t a = 0; a < 4; a++)
			assert_true(dq__table_get(dq__target_view(tg), s, a) ==
				    dq__table_get(t, s, a));
	dq__target_destroy(tg);
	dq_table_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_ring_wrap),
	    cmocka_unit_test(test_uniform),
	    cmocka_unit_test(test_reproducible),
	    cmocka_unit_test(test_copy_every_c),
	    cmocka_unit_test(test_polyak),
	    cmocka_unit_test(test_bootstrap_reads_target),
	    cmocka_unit_test(test_overlay),
	    cmocka_unit_test(test_optimum),
	    cmocka_unit_test(test_contention),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
