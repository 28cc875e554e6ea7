/*
 * The automatic write path: the rule on its own (lib/writepath.c, pure
 * functions of measured rates), and the learner's use of it: a switch
 * between direct updates and windows keeps the agent's place in its loop
 * and loses nothing.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "dq_test.h"
#include "writepath.h"

static void
test_max_window(void **state)
{
	(void)state;
	/* One agent, an empty or a large table: always direct. */
	assert_int_equal(dq__wp_max_window(44, 1), 0);
	assert_int_equal(dq__wp_max_window(0, 2), 0);
	assert_int_equal(dq__wp_max_window(DQ__WP_MAX_ENTRIES + 1, 2), 0);
	assert_int_equal(dq__wp_max_window(10000000, 16), 0);
	/* 16 steps per entry, a power of two at most, within the bounds. */
	assert_int_equal(dq__wp_max_window(44, 2), 512);     /* maze4x3 */
	assert_int_equal(dq__wp_max_window(256, 2), 4096);   /* 8x8 lake */
	assert_int_equal(dq__wp_max_window(3000, 2), 32768); /* taxi */
	assert_int_equal(dq__wp_max_window(10, 2), DQ__WP_MIN_WINDOW);
	assert_int_equal(dq__wp_max_window(DQ__WP_MAX_ENTRIES, 16),
			 DQ__WP_MAX_WINDOW);
}

static void
test_window_for(void **state)
{
	(void)state;
	/* At most 1/DQ__WP_STALE of the run's steps; none below the
	 * minimum window. */
	assert_int_equal(dq__wp_window_for(0, 4096), 0);
	assert_int_equal(
	    dq__wp_window_for(DQ__WP_MIN_WINDOW * DQ__WP_STALE - 1, 4096), 0);
	assert_int_equal(
	    dq__wp_window_for(DQ__WP_MIN_WINDOW * DQ__WP_STALE, 4096), 256);
	assert_int_equal(dq__wp_window_for(1024 * DQ__WP_STALE + 5, 4096),
			 1024);
	assert_int_equal(dq__wp_window_for(3000 * DQ__WP_STALE, 4096), 2048);
	assert_int_equal(dq__wp_window_for(1ull << 40, 4096), 4096);
	assert_int_equal(dq__wp_window_for(1ull << 40, 0), 0);
	assert_int_equal(dq__wp_window_for(1ull << 40, 100), 0);
	/* An epoch spans at least one window. */
	assert_int_equal(dq__wp_epoch(0), DQ__WP_EPOCH);
	assert_int_equal(dq__wp_epoch(256), DQ__WP_EPOCH);
	assert_int_equal(dq__wp_epoch(65536), 65536);
}

static dq__wp_sample
sample(uint64_t steps, uint64_t retries, uint64_t merges, uint64_t moved,
       uint64_t run)
{
	dq__wp_sample m = {steps, retries, merges, moved, run};

	return m;
}

static void
test_decide(void **state)
{
	const uint64_t run = 1u << 20; /* window_for: 4096 of 4096 */
	dq__wp_sample m;

	(void)state;
	/* Direct, cool: stays direct. Hot: windows, as long as the
	 * staleness bound allows. */
	m = sample(4096, 4, 0, 0, run);
	assert_int_equal(dq__wp_decide(0, 4096, &m), 0);
	m = sample(4096, 5, 0, 0, run);
	assert_int_equal(dq__wp_decide(0, 4096, &m), 4096);
	m = sample(4096, 5, 0, 0, 8000);
	assert_int_equal(dq__wp_decide(0, 4096, &m), 0); /* too early */
	m = sample(4096, 5, 0, 0, 40000);
	assert_int_equal(dq__wp_decide(0, 4096, &m), 1024);
	/* Windowed: merges that found the entry moved keep it windowed
	 * (and the window grows with the run); few send it back. Retries
	 * (of merges) do not count there. */
	m = sample(4096, 0, 300, 2, 1u << 16);
	assert_int_equal(dq__wp_decide(1024, 4096, &m), 2048);
	m = sample(4096, 100, 300, 1, 1u << 16);
	assert_int_equal(dq__wp_decide(1024, 4096, &m), 0);
	/* The same rates, measured over more steps. */
	m = sample(40960, 0, 3000, 10, run);
	assert_int_equal(dq__wp_decide(4096, 4096, &m), 0);
	m = sample(40960, 0, 3000, 11, run);
	assert_int_equal(dq__wp_decide(4096, 4096, &m), 4096);
	/* No window possible: direct, whatever the conflicts. */
	m = sample(4096, 4096, 0, 0, run);
	assert_int_equal(dq__wp_decide(0, 0, &m), 0);
	/* Nothing measured: no change. */
	m = sample(0, 0, 0, 0, run);
	assert_int_equal(dq__wp_decide(512, 4096, &m), 512);
	assert_int_equal(dq__wp_decide(0, 4096, &m), 0);
}

/* ------------------------------------------------------------------------ */
/* The learner's side. */

static uint32_t
forced_max(uint64_t entries, uint32_t agents)
{
	(void)entries;
	(void)agents;
	return 4096;
}

/* Every epoch a different path: direct, 300, 4096, 1000, direct, ...
 * (windows that do not divide an epoch, so that switches fall inside
 * open windows). */
static _Atomic unsigned forced_calls;

static uint32_t
forced_decide(uint32_t window, uint32_t max_window, const dq__wp_sample *m)
{
	static const uint32_t cycle[] = {300, 4096, 1000, 0};

	(void)window;
	(void)max_window;
	(void)m;
	/* Agents of one learner call it concurrently. */
	return cycle[atomic_fetch_add(&forced_calls, 1) % 4];
}

static double *
run_p1(const char *name, dq_write_path wp, uint64_t steps, size_t *n,
       dq_write_stats *ws)
{
	dq_env *env;
	dq_env_spec sp;
	dq_table *t;
	dq_learner_config c;
	dq_learner *l;
	double *q;

	assert_int_equal(dq_env_open_name(&env, name), 0);
	dq_env_spec_get(env, &sp);
	t = dq_test_table(sp.n_states, sp.n_actions, DQ_MODE_CAS, 0.0, false);
	dq_learner_config_init(&c);
	c.pin = DQ_PIN_NONE;
	c.max_steps = steps;
	c.agent.seed = 99;
	c.write_path = wp;
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	assert_int_equal(dq_learner_run(l, NULL), 0);
	assert_int_equal(dq_learner_agent_write_path(l, 0, ws), 0);
	*n = (size_t)sp.n_states * sp.n_actions;
	q = malloc(*n * sizeof(double));
	dq_table_snapshot(t, q, *n);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
	return q;
}

/*
 * One agent forced through every switch (direct -> windows of several
 * lengths -> direct, every epoch) learns bit for bit as with direct
 * updates: a window written back by its only writer is exact, and a
 * switch keeps the agent's state, episode and step count where they were.
 * A switch that restarted the episode, lost a pending window or re-drew a
 * step would change the table.
 */
static void
test_switching_is_exact(void **state)
{
	const char *envs[] = {"taxi", "frozenlake8x8"};

	(void)state;
	for (int e = 0; e < 2; e++) {
		dq_write_stats ws;
		size_t n;
		double *direct, *sw;

		direct = run_p1(envs[e], DQ_WRITE_DIRECT, 300000, &n, &ws);
		assert_int_equal(ws.window, 0);
		assert_true(ws.window_steps == 0 && ws.merges == 0);
		dq__wp_max_window_hook = forced_max;
		dq__wp_decide_hook = forced_decide;
		forced_calls = 0;
		sw = run_p1(envs[e], DQ_WRITE_AUTO, 300000, &n, &ws);
		dq__wp_max_window_hook = dq__wp_max_window;
		dq__wp_decide_hook = dq__wp_decide;
		/* About 300000 / 4096 epochs, three in four windowed. */
		assert_true(forced_calls > 40);
		assert_true(ws.window_steps > 150000 &&
			    ws.window_steps < 300000);
		assert_true(ws.merges > 0 && ws.moved == 0);
		assert_true(ws.mean_window > 300 && ws.mean_window < 4096);
		if (memcmp(direct, sw, n * sizeof(double)))
			fail_msg("%s: switching write paths changed the table",
				 envs[e]);
		free(direct);
		free(sw);
	}
}

/*
 * Two agents forced through the same switches on one hot table (the 4x3
 * maze, 44 entries), racing: the run ends cleanly with every step counted
 * and most steps in windows, and the counters agree. Under
 * ThreadSanitizer (make check) this is the concurrent switching's race
 * check.
 */
static void
test_switching_two_agents(void **state)
{
	dq_env *env;
	dq_env_spec sp;
	dq_table *t;
	dq_learner_config c;
	dq_learner *l;
	dq_run_result r;
	uint64_t windowed = 0, merges = 0, moved = 0;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	dq_env_spec_get(env, &sp);
	t = dq_test_table(sp.n_states, sp.n_actions, DQ_MODE_CAS, 0.0, false);
	dq_learner_config_init(&c);
	c.pin = DQ_PIN_NONE;
	c.n_threads = 2;
	c.max_steps = 400000;
	c.agent.gamma = 0.99;
	dq__wp_max_window_hook = forced_max;
	dq__wp_decide_hook = forced_decide;
	forced_calls = 0;
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	assert_int_equal(dq_learner_run(l, &r), 0);
	dq__wp_max_window_hook = dq__wp_max_window;
	dq__wp_decide_hook = dq__wp_decide;
	assert_int_equal(r.total.steps, 400000);
	for (uint32_t i = 0; i < 2; i++) {
		dq_write_stats ws;

		assert_int_equal(dq_learner_agent_write_path(l, i, &ws), 0);
		assert_true(ws.moved <= ws.merges);
		windowed += ws.window_steps;
		merges += ws.merges;
		moved += ws.moved;
	}
	assert_true(windowed > 200000 && windowed <= 400000);
	assert_true(merges > 0);
	(void)moved; /* > 0 only when the two threads overlapped */
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

/* Without the hooks one agent never opens a window (max_window 0). */
static void
test_one_agent_direct(void **state)
{
	dq_write_stats ws;
	size_t n;
	double *a, *b;

	(void)state;
	a = run_p1("maze4x3", DQ_WRITE_AUTO, 200000, &n, &ws);
	assert_int_equal(ws.window, 0);
	assert_true(ws.window_steps == 0 && ws.merges == 0);
	b = run_p1("maze4x3", DQ_WRITE_DIRECT, 200000, &n, &ws);
	assert_memory_equal(a, b, n * sizeof(double));
	free(a);
	free(b);
}

/* Config: DQ_WRITE_DIRECT with a window is a contradiction; an unknown
 * path is refused. */
static void
test_config(void **state)
{
	dq_env *env;
	dq_table *t;
	dq_learner_config c;
	dq_learner *l = NULL;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	t = dq_test_table(11, 4, DQ_MODE_CAS, 0.0, false);
	dq_learner_config_init(&c);
	assert_int_equal(c.write_path, DQ_WRITE_AUTO);
	c.max_steps = 10;
	c.write_path = DQ_WRITE_DIRECT;
	c.agent.sync_every = 16;
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	c.write_path = (dq_write_path)7;
	c.agent.sync_every = 0;
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	c.write_path = DQ_WRITE_AUTO;
	c.agent.sync_every = 16; /* explicit windows win */
	c.n_threads = 2;
	c.pin = DQ_PIN_NONE;
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	assert_int_equal(dq_learner_run(l, NULL), 0);
	{
		dq_write_stats ws;

		assert_int_equal(dq_learner_agent_write_path(l, 1, &ws), 0);
		assert_int_equal(ws.window, 16);
		/* Fixed windows: every step of the run, window 16. */
		assert_int_equal(ws.window_steps, 5);
		assert_true(ws.mean_window == 16.0);
		assert_int_equal(dq_learner_agent_write_path(l, 2, &ws),
				 -ERANGE);
		assert_int_equal(dq_learner_agent_write_path(NULL, 0, &ws),
				 -EINVAL);
		assert_int_equal(dq_learner_agent_write_path(l, 0, NULL),
				 -EINVAL);
	}
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_max_window),
	    cmocka_unit_test(test_window_for),
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_switching_is_exact),
	    cmocka_unit_test(test_switching_two_agents),
	    cmocka_unit_test(test_one_agent_direct),
	    cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests_name("writepath", tests, NULL, NULL);
}
