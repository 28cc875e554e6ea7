/* tests/test_agent.c - act/observe for simulators that own the loop
 * (lib/agent.c, lib/agent.h). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "dq_test.h"

static void
test_config_check(void **state)
{
	dq_agent_config c;

	(void)state;
	assert_int_equal(dq_agent_config_init(NULL), -EINVAL);
	assert_int_equal(dq_agent_config_check(NULL), -EINVAL);
	dq_agent_config_init(&c);
	assert_int_equal(dq_agent_config_check(&c), 0);
	assert_true(c.gamma == 0.95 && c.alpha.start == 0.1 &&
		    c.epsilon.start == 0.1);

#define BAD(field, value)                                             \
	do {                                                          \
		dq_agent_config b = c;                                \
		b.field = value;                                      \
		assert_int_equal(dq_agent_config_check(&b), -EINVAL); \
	} while (0)
	BAD(gamma, -0.1);
	BAD(gamma, 1.01);
	BAD(gamma, NAN);
	BAD(alpha.start, 0.0);
	BAD(alpha.start, 1.5);
	BAD(alpha.start, NAN);
	BAD(epsilon.start, -0.01);
	BAD(epsilon.start, 1.01);
	BAD(alpha.kind, (dq_schedule_kind)9);
	BAD(return_window, 0);
	BAD(return_window, (1u << 20) + 1);
	BAD(clock_step, 0);
	BAD(stream, (1u << 20) + 1);
#undef BAD
	/* Linear schedules check both ends and the length. */
	c.epsilon = (dq_schedule){
	    .kind = DQ_SCHEDULE_LINEAR, .start = 1.0, .end = 1.5, .steps = 10};
	assert_int_equal(dq_agent_config_check(&c), -EINVAL);
	c.epsilon = (dq_schedule){
	    .kind = DQ_SCHEDULE_LINEAR, .start = 1.0, .end = 0.0, .steps = 0};
	assert_int_equal(dq_agent_config_check(&c), -EINVAL);
	c.epsilon = (dq_schedule){.kind = DQ_SCHEDULE_EXP,
				  .start = 1.0,
				  .end = 0.0,
				  .steps = INFINITY};
	assert_int_equal(dq_agent_config_check(&c), -EINVAL);
	c.epsilon = (dq_schedule){
	    .kind = DQ_SCHEDULE_EXP, .start = 1.0, .end = 0.0, .steps = 100};
	assert_int_equal(dq_agent_config_check(&c), 0);
	c.gamma = 0.0;
	assert_int_equal(dq_agent_config_check(&c), 0);
	c.gamma = 1.0;
	assert_int_equal(dq_agent_config_check(&c), 0);
}

static void
test_create_and_args(void **state)
{
	dq_table *t = dq_test_table(3, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag = (dq_agent *)0x1;
	uint32_t a;
	dq_stats st;
	dq_rng *r;

	(void)state;
	dq_agent_config_init(&c);
	assert_int_equal(dq_agent_create(NULL, t, &c), -EINVAL);
	assert_int_equal(dq_agent_create(&ag, NULL, &c), -EINVAL);
	assert_int_equal(dq_agent_create(&ag, t, NULL), -EINVAL);
	c.gamma = 2;
	assert_int_equal(dq_agent_create(&ag, t, &c), -EINVAL);
	assert_ptr_equal(ag, (dq_agent *)0x1);
	dq_agent_config_init(&c);
	assert_int_equal(dq_agent_create(&ag, t, &c), 0);
	assert_int_equal(dq_agent_act(NULL, 0, &a), -EINVAL);
	assert_int_equal(dq_agent_act(ag, 0, NULL), -EINVAL);
	assert_int_equal(dq_agent_act(ag, 3, &a), -ERANGE);
	assert_int_equal(dq_agent_observe(NULL, 0, 0, 0, 0, false), -EINVAL);
	assert_int_equal(dq_agent_observe(ag, 3, 0, 0, 0, false), -ERANGE);
	assert_int_equal(dq_agent_observe(ag, 0, 2, 0, 0, false), -ERANGE);
	assert_int_equal(dq_agent_observe(ag, 0, 0, 0, 3, false), -ERANGE);
	assert_non_null(strstr(dq_error_detail(), "s' 3: the table has 3"));
	assert_int_equal(dq_agent_observe(ag, 0, 0, NAN, 0, false), -EINVAL);
	assert_non_null(strstr(dq_error_detail(), "not finite"));
	assert_int_equal(dq_agent_act(ag, 3, &a), -ERANGE);
	assert_non_null(strstr(dq_error_detail(), "state 3"));
	assert_int_equal(dq_agent_episode_end(NULL), -EINVAL);
	assert_int_equal(dq_agent_stats_get(NULL, &st), -EINVAL);
	assert_int_equal(dq_agent_stats_get(ag, NULL), -EINVAL);
	assert_int_equal(dq_agent_rng(ag, NULL), -EINVAL);
	assert_int_equal(dq_agent_rng(ag, &r), 0);
	assert_non_null(r);
	/* Nothing was learned from the rejected calls. */
	assert_int_equal(dq_agent_stats_get(ag, &st), 0);
	assert_int_equal(st.steps, 0);
	/* s' is not read on termination: a simulator's sentinel passes. */
	assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, UINT32_MAX, true), 0);
	assert_int_equal(dq_agent_stats_get(ag, &st), 0);
	assert_int_equal(st.steps, 1);
	assert_int_equal(st.episodes, 1);
	dq_agent_destroy(ag);
	dq_agent_destroy(NULL);
	dq_table_destroy(t);
}

/* The TD target: r + gamma max Q(s'), and r alone on termination. */
static void
test_observe_math(void **state)
{
	dq_table *t = dq_test_table(3, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag;
	double v;

	(void)state;
	dq_agent_config_init(&c);
	c.alpha.start = 0.5;
	c.gamma = 0.9;
	dq_agent_create(&ag, t, &c);
	dq_table_set(t, 2, 0, 4.0);
	dq_table_set(t, 2, 1, 10.0);
	assert_int_equal(dq_agent_observe(ag, 0, 1, 1.0, 2, false), 0);
	dq_table_get(t, 0, 1, &v);
	assert_true(fabs(v - 0.5 * (1.0 + 0.9 * 10.0)) < 1e-15);
	assert_int_equal(dq_agent_observe(ag, 1, 0, 2.0, 2, true), 0);
	dq_table_get(t, 1, 0, &v);
	assert_true(v == 1.0);
	dq_agent_destroy(ag);
	dq_table_destroy(t);
}

static void
test_epsilon_extremes(void **state)
{
	dq_table *t = dq_test_table(1, 5, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag;
	unsigned hits[5] = {0};
	uint32_t a;

	(void)state;
	dq_table_set(t, 0, 3, 1.0);
	dq_agent_config_init(&c);
	c.epsilon.start = 0.0;
	dq_agent_create(&ag, t, &c);
	for (int i = 0; i < 1000; i++) {
		dq_agent_act(ag, 0, &a);
		assert_int_equal(a, 3);
	}
	dq_agent_destroy(ag);
	c.epsilon.start = 1.0;
	dq_agent_create(&ag, t, &c);
	for (int i = 0; i < 50000; i++) {
		dq_agent_act(ag, 0, &a);
		hits[a]++;
	}
	for (int i = 0; i < 5; i++)
		assert_true(hits[i] > 9000 && hits[i] < 11000);
	dq_agent_destroy(ag);
	dq_table_destroy(t);
}

static void
test_schedules(void **state)
{
	dq_table *t = dq_test_table(2, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag;
	dq_stats st;

	(void)state;
	dq_agent_config_init(&c);
	c.epsilon = (dq_schedule){
	    .kind = DQ_SCHEDULE_LINEAR, .start = 1.0, .end = 0.1, .steps = 100};
	c.alpha = (dq_schedule){
	    .kind = DQ_SCHEDULE_EXP, .start = 0.5, .end = 0.01, .steps = 50};
	dq_agent_create(&ag, t, &c);
	for (int i = 0; i < 50; i++)
		dq_agent_observe(ag, 0, 0, 0.0, 1, false);
	dq_agent_stats_get(ag, &st);
	assert_true(fabs(st.epsilon - 0.55) < 1e-12);
	assert_true(fabs(st.alpha - (0.01 + 0.49 * exp(-1.0))) < 1e-12);
	for (int i = 0; i < 100; i++)
		dq_agent_observe(ag, 0, 0, 0.0, 1, false);
	dq_agent_stats_get(ag, &st);
	assert_true(st.epsilon == 0.1);
	assert_true(fabs(st.alpha - (0.01 + 0.49 * exp(-3.0))) < 1e-12);
	dq_agent_destroy(ag);

	/* clock_step: 4 schedule steps per agent step. */
	c.clock_step = 4;
	dq_agent_create(&ag, t, &c);
	for (int i = 0; i < 10; i++)
		dq_agent_observe(ag, 0, 0, 0.0, 1, false);
	dq_agent_stats_get(ag, &st);
	assert_true(fabs(st.epsilon - (1.0 - 0.9 * 0.4)) < 1e-12);
	dq_agent_destroy(ag);
	dq_table_destroy(t);
}

/* Episodes: termination ends one; episode_end ends a truncated one once. */
static void
test_episode_stats(void **state)
{
	dq_table *t = dq_test_table(2, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag;
	dq_stats st;

	(void)state;
	dq_agent_config_init(&c);
	c.return_window = 2;
	dq_agent_create(&ag, t, &c);
	dq_agent_stats_get(ag, &st);
	assert_true(isnan(st.mean_return));
	dq_agent_observe(ag, 0, 0, 1.0, 1, false);
	dq_agent_observe(ag, 1, 0, 2.0, 0, true);      /* return 3 */
	assert_int_equal(dq_agent_episode_end(ag), 0); /* no-op */
	dq_agent_observe(ag, 0, 0, -1.0, 1, false);
	dq_agent_episode_end(ag); /* return -1 */
	dq_agent_episode_end(ag); /* no-op */
	dq_agent_stats_get(ag, &st);
	assert_int_equal(st.episodes, 2);
	assert_int_equal(st.steps, 3);
	assert_true(st.mean_return == 1.0);
	dq_agent_observe(ag, 0, 0, 7.0, 1, true); /* window keeps -1, 7 */
	dq_agent_stats_get(ag, &st);
	assert_int_equal(st.returns_n, 2);
	assert_true(st.mean_return == 3.0);
	dq_agent_destroy(ag);
	dq_table_destroy(t);
}

/*
 * A simulator that owns its loop: a 5-state corridor walked by hand, with
 * reward 1 at the right end. The agent must learn to go right.
 */
static void
test_owned_loop_learns(void **state)
{
	dq_table *t = dq_test_table(5, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag;
	uint32_t a, s = 0;

	(void)state;
	dq_agent_config_init(&c);
	c.epsilon.start = 0.3;
	c.alpha.start = 0.5;
	c.gamma = 0.9;
	dq_agent_create(&ag, t, &c);
	for (int i = 0; i < 20000; i++) {
		dq_agent_act(ag, s, &a);
		uint32_t s2 = a ? s + 1 : (s ? s - 1 : 0);
		bool term = s2 == 4;

		dq_agent_observe(ag, s, a, term ? 1.0 : 0.0, s2, term);
		s = term ? 0 : s2;
	}
	for (uint32_t k = 0; k < 4; k++) {
		dq_table_greedy(t, k, NULL, &a);
		assert_int_equal(a, 1);
	}
	dq_agent_destroy(ag);
	dq_table_destroy(t);
}

/*
 * Replica mode: updates stay private until a sync, then are replayed onto
 * the shared table, so two agents' changes to one entry both count.
 */
static void
test_replica_sync(void **state)
{
	dq_table *t = dq_test_table(2, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *a1, *a2;
	dq_stats st;
	double v;

	(void)state;
	dq_agent_config_init(&c);
	c.alpha.start = 0.5;
	c.sync_every = 1000;
	assert_int_equal(dq_agent_create(&a1, t, &c), 0);
	c.stream = 1;
	assert_int_equal(dq_agent_create(&a2, t, &c), 0);
	/* Each moves Q(0,1) from 0 halfway to 4: +2 each, privately. */
	dq_agent_observe(a1, 0, 1, 4.0, 1, true);
	dq_agent_observe(a2, 0, 1, 4.0, 1, true);
	dq_table_get(t, 0, 1, &v);
	assert_true(v == 0.0);
	assert_int_equal(dq_agent_sync(a1), 0);
	dq_table_get(t, 0, 1, &v);
	assert_true(v == 2.0);
	assert_int_equal(dq_agent_sync(a2), 0);
	dq_table_get(t, 0, 1, &v);
	/* a2's window is replayed onto a1's result, as if its update came
	 * second: 2 + 0.5 * (4 - 2) = 3. Neither is lost, and the two pulls
	 * towards 4 do not add up past it (a sum of deltas would give 4). */
	assert_true(v == 3.0);
	/* After its sync a1 reads the shared table again. */
	assert_int_equal(dq_agent_sync(a1), 0);
	dq_agent_observe(a1, 0, 1, 3.0, 1, true); /* 3 -> 3: no change */
	assert_int_equal(dq_agent_sync(a1), 0);
	dq_table_get(t, 0, 1, &v);
	assert_true(v == 3.0);
	/* The agent also acts on its copy. */
	uint32_t act;
	dq_agent_config_init(&c);
	dq_agent_stats_get(a1, &st);
	assert_int_equal(st.steps, 2);
	dq_agent_destroy(a1);
	dq_agent_destroy(a2);
	c.epsilon.start = 0.0;
	c.sync_every = 1;
	dq_agent_create(&a1, t, &c);
	dq_agent_act(a1, 0, &act);
	assert_int_equal(act, 1);
	/* sync_every 1: every observe reaches the table at once. */
	dq_agent_observe(a1, 1, 0, 3.0, 0, true);
	dq_table_get(t, 1, 0, &v);
	assert_true(v == 0.0 + 0.1 * (3.0 - 0.0));
	dq_agent_destroy(a1);
	assert_int_equal(dq_agent_sync(NULL), -EINVAL);
	dq_table_destroy(t);

	/* Too large a table to replicate; too large a sync interval. */
	t = dq_test_table(1u << 21, 4, DQ_MODE_CAS, 0.0, false);
	c.sync_every = 16;
	assert_int_equal(dq_agent_create(&a1, t, &c), -ERANGE);
	c.sync_every = (1u << 30) + 1;
	assert_int_equal(dq_agent_config_check(&c), -EINVAL);
	dq_table_destroy(t);
}

/*
 * A window whose entry ends on the bits it started from is still written
 * back: the agent pulled the entry towards its targets, and when another
 * agent moved it meanwhile that pull must be replayed onto the other's
 * value, not dropped. Two agents driven by hand, so the interleaving is
 * fixed; alpha 0.5 and dyadic values keep every result exact. The result
 * must be what sequential Q-learning gives with the other's update first.
 */
static void
test_replica_round_trip_merged(void **state)
{
	dq_table *t = dq_test_table(2, 2, DQ_MODE_CAS, 1.0, false);
	dq_agent_config c;
	dq_agent *a1, *a2;
	double v;

	(void)state;
	dq_agent_config_init(&c);
	c.alpha.start = 0.5;
	c.sync_every = 1000;
	assert_int_equal(dq_agent_create(&a1, t, &c), 0);
	c.stream = 1;
	assert_int_equal(dq_agent_create(&a2, t, &c), 0);

	/* a1, privately: 1 -> 0.5 (target 0) -> 1 (target 1.5): back on the
	 * bits it copied, with keep = 0.25. */
	dq_agent_observe(a1, 0, 0, 0.0, 1, true);
	dq_agent_observe(a1, 0, 0, 1.5, 1, true);
	/* a2 moves the entry meanwhile: 1 -> 0 (target -1). */
	dq_agent_observe(a2, 0, 0, -1.0, 1, true);
	assert_int_equal(dq_agent_sync(a2), 0);
	dq_table_get(t, 0, 0, &v);
	assert_true(v == 0.0);
	/* a1's window replayed onto 0: 0 -> 0 -> 0 + 0.5 * 1.5 = 0.75. A
	 * write-back that skips the entry leaves 0 (a1's work lost). */
	assert_int_equal(dq_agent_sync(a1), 0);
	dq_table_get(t, 0, 0, &v);
	if (v != 0.75)
		fail_msg("round trip write-back: %.17g, expected 0.75", v);

	/* The same with the entry's own target equal to its value (a
	 * converged entry: every update leaves its bits), while the other
	 * agent moves it: 0.75 -> 0.75 privately (target 0.75), the other
	 * 0.75 -> 0.375, then the replay 0.375 + 0.5 * (0.75 - 0.375). */
	dq_agent_observe(a1, 0, 0, 0.75, 1, true);
	dq_agent_observe(a2, 0, 0, 0.0, 1, true);
	assert_int_equal(dq_agent_sync(a2), 0);
	assert_int_equal(dq_agent_sync(a1), 0);
	dq_table_get(t, 0, 0, &v);
	if (v != 0.5625)
		fail_msg("converged write-back: %.17g, expected 0.5625", v);

	/* Nobody else moved it: the write-back stores nothing new. */
	dq_agent_observe(a1, 0, 0, 0.5625, 1, true);
	assert_int_equal(dq_agent_sync(a1), 0);
	dq_table_get(t, 0, 0, &v);
	assert_true(v == 0.5625);
	dq_agent_destroy(a1);
	dq_agent_destroy(a2);
	dq_table_destroy(t);
}

/* The owned-loop corridor, learned through a replica. */
static void
test_replica_learns(void **state)
{
	dq_table *t = dq_test_table(5, 2, DQ_MODE_CAS, 0.0, false);
	dq_agent_config c;
	dq_agent *ag;
	uint32_t a, s = 0;

	(void)state;
	dq_agent_config_init(&c);
	c.epsilon.start = 0.3;
	c.alpha.start = 0.5;
	c.gamma = 0.9;
	c.sync_every = 64;
	dq_agent_create(&ag, t, &c);
	for (int i = 0; i < 20000; i++) {
		dq_agent_act(ag, s, &a);
		uint32_t s2 = a ? s + 1 : (s ? s - 1 : 0);
		bool term = s2 == 4;

		dq_agent_observe(ag, s, a, term ? 1.0 : 0.0, s2, term);
		s = term ? 0 : s2;
	}
	dq_agent_sync(ag);
	for (uint32_t k = 0; k < 4; k++) {
		dq_table_greedy(t, k, NULL, &a);
		assert_int_equal(a, 1);
	}
	dq_agent_destroy(ag);
	dq_table_destroy(t);
}

/*
 * dq_agent_observe() returns 0 or an error, never a retry count, and never
 * lets a finite reward put inf in the table: with Q(1,.) = 1e308, reward
 * 1e308 and gamma 1 the target overflows. The update is refused, Q(0,0)
 * and the agent's counters are unchanged. In replica mode the private
 * copy refuses it just the same, and a write-back whose merge would
 * overflow (another writer moved the entry to -DBL_MAX meanwhile) leaves
 * that entry as it is and returns the error.
 */
static void
test_observe_nonfinite_refused(void **state)
{
	dq_agent_config c;
	dq_agent *ag;
	dq_stats st;
	double v;

	(void)state;
	for (uint32_t sync = 0; sync <= 8; sync += 8) {
		dq_table *t = dq_test_table(2, 2, DQ_MODE_CAS, 0.0, false);

		dq_agent_config_init(&c);
		c.gamma = 1.0;
		c.alpha.start = 0.5;
		c.sync_every = sync;
		assert_int_equal(dq_table_set(t, 1, 0, 1e308), 0);
		assert_int_equal(dq_table_set(t, 1, 1, 1e308), 0);
		assert_int_equal(dq_agent_create(&ag, t, &c), 0);
		assert_int_equal(dq_agent_observe(ag, 0, 0, 1e308, 1, false),
				 DQ_ENONFINITE);
		assert_int_equal(dq_agent_observe(ag, 0, 0, NAN, 1, false),
				 -EINVAL);
		assert_int_equal(dq_agent_stats_get(ag, &st), 0);
		assert_int_equal(st.steps, 0);
		assert_int_equal(dq_agent_sync(ag), 0);
		assert_int_equal(dq_table_get(t, 0, 0, &v), 0);
		assert_true(v == 0.0);
		/* A finite one goes through and counts. */
		assert_int_equal(dq_agent_observe(ag, 0, 0, 1e308, 1, true), 0);
		assert_int_equal(dq_agent_stats_get(ag, &st), 0);
		assert_int_equal(st.steps, 1);
		if (sync) {
			/* Replayed onto -DBL_MAX: its target 1e308 minus
			 * -DBL_MAX overflows. */
			assert_int_equal(dq_table_set(t, 0, 0, -DBL_MAX), 0);
			assert_int_equal(dq_agent_sync(ag), DQ_ENONFINITE);
			assert_int_equal(dq_table_get(t, 0, 0, &v), 0);
			assert_true(v == -DBL_MAX);
		} else {
			assert_int_equal(dq_table_get(t, 0, 0, &v), 0);
			assert_true(v == 0.5 * 1e308);
		}
		dq_agent_destroy(ag);
		dq_table_destroy(t);
	}
}

/* The batched calls do exactly what as many single calls do, in order:
 * same actions (same random draws), same table bits, same counters; with
 * direct updates and in replica mode. */
static void
test_batch_equals_singles(void **state)
{
	enum { S = 7, A = 3, N = 2000 };
	static uint32_t s[N], a[N], a1[N], s2[N];
	static double r[N];
	static uint8_t term[N];
	double q1[S * A], q2[S * A];
	dq_rng rng;

	(void)state;
	dq_rng_seed(&rng, 5, 0);
	for (uint32_t sync = 0; sync <= 16; sync += 16) {
		dq_table *t1 = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);
		dq_table *t2 = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);
		dq_agent *g1, *g2;
		dq_agent_config c;
		dq_stats st1, st2;
		size_t done = 99;

		dq_agent_config_init(&c);
		c.epsilon.start = 0.3;
		c.sync_every = sync;
		assert_int_equal(dq_agent_create(&g1, t1, &c), 0);
		assert_int_equal(dq_agent_create(&g2, t2, &c), 0);
		for (int round = 0; round < 5; round++) {
			for (int i = 0; i < N; i++) {
				s[i] = dq_rng_below(&rng, S);
				s2[i] = dq_rng_below(&rng, S);
				r[i] = dq_rng_uniform(&rng) - 0.5;
				/* Any non-zero byte ends the episode. */
				term[i] = dq_rng_below(&rng, 10) == 0
					      ? (uint8_t)(1 + round)
					      : 0;
			}
			for (int i = 0; i < N; i++)
				assert_int_equal(dq_agent_act(g1, s[i], &a1[i]),
						 0);
			assert_int_equal(dq_agent_act_batch(g2, s, a, N), 0);
			assert_memory_equal(a, a1, sizeof a);
			for (int i = 0; i < N; i++)
				assert_int_equal(
				    dq_agent_observe(g1, s[i], a[i], r[i],
						     s2[i], term[i] != 0),
				    0);
			assert_int_equal(dq_agent_observe_batch(g2, s, a, r, s2,
								term, N, &done),
					 0);
			assert_int_equal(done, N);
		}
		assert_int_equal(dq_agent_sync(g1), 0);
		assert_int_equal(dq_agent_sync(g2), 0);
		assert_int_equal(dq_table_snapshot(t1, q1, S * A), 0);
		assert_int_equal(dq_table_snapshot(t2, q2, S * A), 0);
		assert_memory_equal(q1, q2, sizeof q1);
		assert_int_equal(dq_agent_stats_get(g1, &st1), 0);
		assert_int_equal(dq_agent_stats_get(g2, &st2), 0);
		assert_int_equal(st1.steps, 5 * N);
		assert_int_equal(st2.steps, st1.steps);
		assert_int_equal(st2.episodes, st1.episodes);
		assert_true(st1.episodes > 0);
		assert_memory_equal(&st1.mean_return, &st2.mean_return,
				    sizeof(double));
		dq_agent_destroy(g1);
		dq_agent_destroy(g2);
		dq_table_destroy(t1);
		dq_table_destroy(t2);
	}
}

/* Bad batches are refused whole: nothing drawn, written or counted. */
static void
test_batch_args(void **state)
{
	dq_table *t = dq_test_table(4, 2, DQ_MODE_CAS, 0.0, false);
	uint32_t s[3] = {0, 1, 2}, a[3] = {0, 1, 0}, s2[3] = {1, 2, 3};
	uint32_t act[3] = {7, 7, 7}, ref[3];
	double r[3] = {1, 2, 3};
	uint8_t term[3] = {0, 0, 1};
	dq_agent_config c;
	dq_agent *ag, *fresh;
	dq_stats st;
	size_t done = 99;
	double v;

	(void)state;
	dq_agent_config_init(&c);
	c.epsilon.start = 0.5;
	assert_int_equal(dq_agent_create(&ag, t, &c), 0);
	assert_int_equal(dq_agent_create(&fresh, t, &c), 0);
	assert_int_equal(dq_agent_act_batch(NULL, s, act, 3), -EINVAL);
	assert_int_equal(dq_agent_act_batch(ag, NULL, act, 3), -EINVAL);
	assert_int_equal(dq_agent_act_batch(ag, s, NULL, 3), -EINVAL);
	assert_int_equal(dq_agent_act_batch(ag, NULL, NULL, 0), 0);
	s[2] = 4;
	assert_int_equal(dq_agent_act_batch(ag, s, act, 3), -ERANGE);
	assert_true(act[0] == 7 && act[1] == 7 && act[2] == 7);
	s[2] = 2;
	/* Nothing was drawn: the agent still acts as a fresh one. */
	assert_int_equal(dq_agent_act_batch(ag, s, act, 3), 0);
	assert_int_equal(dq_agent_act_batch(fresh, s, ref, 3), 0);
	assert_memory_equal(act, ref, sizeof act);

	assert_int_equal(
	    dq_agent_observe_batch(NULL, s, a, r, s2, term, 3, &done), -EINVAL);
	assert_int_equal(done, 0);
	assert_int_equal(dq_agent_observe_batch(ag, s, a, r, s2, NULL, 3, NULL),
			 -EINVAL);
	assert_int_equal(
	    dq_agent_observe_batch(ag, NULL, NULL, NULL, NULL, NULL, 0, &done),
	    0);
	r[2] = NAN;
	done = 99;
	assert_int_equal(
	    dq_agent_observe_batch(ag, s, a, r, s2, term, 3, &done), -EINVAL);
	assert_int_equal(done, 0);
	r[2] = 3;
	a[2] = 2;
	assert_int_equal(
	    dq_agent_observe_batch(ag, s, a, r, s2, term, 3, &done), -ERANGE);
	a[2] = 0;
	s2[1] = 4;
	assert_int_equal(
	    dq_agent_observe_batch(ag, s, a, r, s2, term, 3, &done), -ERANGE);
	s2[1] = 2;
	assert_int_equal(dq_agent_stats_get(ag, &st), 0);
	assert_int_equal(st.steps, 0);
	assert_int_equal(dq_table_get(t, 0, 0, &v), 0);
	assert_true(v == 0.0);

	/* An update that would overflow stops the batch where it is. */
	assert_int_equal(dq_table_set(t, 2, 0, 1e308), 0);
	assert_int_equal(dq_table_set(t, 2, 1, 1e308), 0);
	c.gamma = 1.0;
	c.alpha.start = 0.5;
	dq_agent_destroy(ag);
	assert_int_equal(dq_agent_create(&ag, t, &c), 0);
	r[0] = 0.25;
	r[1] = 1e308; /* 1e308 + max Q(2,.) = inf */
	assert_int_equal(
	    dq_agent_observe_batch(ag, s, a, r, s2, term, 3, &done),
	    DQ_ENONFINITE);
	assert_int_equal(done, 1);
	assert_int_equal(dq_agent_stats_get(ag, &st), 0);
	assert_int_equal(st.steps, 1);
	assert_int_equal(dq_table_get(t, 0, 0, &v), 0);
	assert_true(v != 0.0);
	assert_int_equal(dq_table_get(t, 1, 1, &v), 0);
	assert_true(v == 0.0);
	dq_agent_destroy(ag);
	dq_agent_destroy(fresh);
	dq_table_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_check),
	    cmocka_unit_test(test_create_and_args),
	    cmocka_unit_test(test_observe_math),
	    cmocka_unit_test(test_epsilon_extremes),
	    cmocka_unit_test(test_schedules),
	    cmocka_unit_test(test_episode_stats),
	    cmocka_unit_test(test_owned_loop_learns),
	    cmocka_unit_test(test_replica_sync),
	    cmocka_unit_test(test_replica_round_trip_merged),
	    cmocka_unit_test(test_replica_learns),
	    cmocka_unit_test(test_observe_nonfinite_refused),
	    cmocka_unit_test(test_batch_equals_singles),
	    cmocka_unit_test(test_batch_args),
	};

	return cmocka_run_group_tests_name("agent", tests, NULL, NULL);
}
