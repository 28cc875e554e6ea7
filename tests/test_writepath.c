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
	/* 16 steps per entry at least, the next power of two, within the
	 * bounds: never fewer than 16 (10^3 entries: 16384, not 8192). */
	assert_int_equal(dq__wp_max_window(44, 2), 1024);    /* maze4x3 */
	assert_int_equal(dq__wp_max_window(64, 2), 1024);    /* 4x4 lake */
	assert_int_equal(dq__wp_max_window(192, 2), 4096);   /* cliff */
	assert_int_equal(dq__wp_max_window(256, 2), 4096);   /* 8x8 lake */
	assert_int_equal(dq__wp_max_window(1000, 2), 16384); /* 10^3 */
	assert_int_equal(dq__wp_max_window(3000, 2), 65536); /* taxi */
	assert_int_equal(dq__wp_max_window(5000, 2), DQ__WP_MAX_WINDOW);
	/* 10^5 entries: windows of 65536 steps ran at 1.81x direct's
	 * speed at two threads (docs/performance.md), so the probe may
	 * choose them there. */
	assert_int_equal(dq__wp_max_window(100000, 2), DQ__WP_MAX_WINDOW);
	for (uint64_t e = 16; e <= 4096; e += 37)
		assert_true(dq__wp_max_window(e, 2) >=
			    e * DQ__WP_WINDOW_PER_ENTRY);
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
}

/*
 * The small-table prior: which tables start windowed, and how long the
 * window is. Breaking the bound (taxi windowed, or P = 1 windowed) or the
 * length fails here.
 */
static void
test_prior_window(void **state)
{
	(void)state;
	/* One agent: never (bit-identical single-agent runs). */
	assert_int_equal(dq__wp_prior_window(192, 1, 4096), 0);
	/* 4 steps per entry, up to a power of two, at least 256. */
	assert_int_equal(dq__wp_prior_window(44, 2, 1024), 256);   /* maze */
	assert_int_equal(dq__wp_prior_window(64, 2, 1024), 256);   /* 4x4 */
	assert_int_equal(dq__wp_prior_window(192, 2, 4096), 1024); /* cliff */
	assert_int_equal(dq__wp_prior_window(256, 2, 4096), 1024); /* 8x8 */
	assert_int_equal(dq__wp_prior_window(1000, 2, 16384), 4096);
	assert_int_equal(dq__wp_prior_window(DQ__WP_PRIOR_ENTRIES, 16, 65536),
			 4 * DQ__WP_PRIOR_ENTRIES);
	/* Above the bound (taxi), or no window possible: direct. */
	assert_int_equal(
	    dq__wp_prior_window(DQ__WP_PRIOR_ENTRIES + 1, 2, 65536), 0);
	assert_int_equal(dq__wp_prior_window(3000, 2, 65536), 0);
	assert_int_equal(dq__wp_prior_window(192, 2, 0), 0);
	assert_int_equal(dq__wp_prior_window(0, 2, 4096), 0);
	/* Never past the buffers' cap. */
	assert_int_equal(dq__wp_prior_window(192, 2, 512), 512);
	for (uint64_t e = 1; e <= DQ__WP_PRIOR_ENTRIES; e += 13)
		assert_true(
		    dq__wp_prior_window(e, 2, dq__wp_max_window(e, 2)) <=
		    dq__wp_max_window(e, 2));
}

/*
 * The prior in the rule: the first period's probe runs windows first, at
 * least the prior's window whatever the staleness bound says (a young
 * run: 0 steps so far), then direct; from the probe's verdict on, and in
 * later periods, the rule is the plain one. Breakages caught: the probe
 * not reordered (slot 0 direct), the staleness bound not waived (window
 * 0 in slot 0), the prior held past the first probe.
 */
static void
test_decide_prior(void **state)
{
	const uint64_t ms = 1000000, slot = DQ__WP_SLOT_NS,
		       period = (uint64_t)DQ__WP_SLOT_NS * DQ__WP_PERIOD_SLOTS;
	dq__wp_probe p = {.prior = 1024};
	dq__wp_probe none = {0};
	dq__wp_sample m;

	(void)state;
	/* Slot 0, 300 steps into the run: windows of the prior's length
	 * (the bound alone allows none before 8192 steps); without the
	 * prior, direct. */
	m = (dq__wp_sample){0, ms, 300, 300, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 1024, 4096, &m), 1024);
	assert_int_equal(dq__wp_decide(&none, 0, 4096, &m), 0);
	/* Slot 1: direct; slot 2: windows again; slot 3: direct (each
	 * chunk passed with the path it ran). */
	m = (dq__wp_sample){slot, slot + ms, 100, 400, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 0, 4096, &m), 0);
	m = (dq__wp_sample){2 * slot, 2 * slot + ms, 300, 900, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 1024, 4096, &m), 1024);
	/* The bound, when it allows more, is taken. */
	m = (dq__wp_sample){2 * slot + ms, 3 * slot - 1, 300,
			    1u << 20,	   NULL,	 0};
	assert_int_equal(dq__wp_decide(&p, 1024, 4096, &m), 4096);
	m = (dq__wp_sample){3 * slot, 3 * slot + ms, 300, 1200, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 4096, 4096, &m), 0);
	/* Measured, each chunk for the path it ran (the one decided after
	 * the chunk before): windows 1200 steps in 4 ms (slots 0, 2, and 3's
	 * chunk, decided in slot 2), direct 100 in 1 ms. */
	assert_int_equal(p.steps[1], 1200);
	assert_int_equal(p.steps[0], 100);
	/* After the probe: the verdict (windows, faster here) with the
	 * staleness bound back: a young run gets none. */
	m = (dq__wp_sample){5 * slot, 5 * slot + ms, 300, 1500, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 0, 4096, &m), 0);
	assert_true(p.windows);
	m = (dq__wp_sample){6 * slot, 6 * slot + ms, 300, 1u << 20, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 0, 4096, &m), 4096);
	/* The next period probes as without the prior: direct first. */
	m = (dq__wp_sample){period, period + ms, 300, 1u << 20, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 4096, 4096, &m), 0);
	m = (dq__wp_sample){
	    period + slot, period + slot + ms, 300, 1u << 20, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 0, 4096, &m), 4096);
	/* No window possible (max_window 0): direct, prior or not. */
	p = (dq__wp_probe){.prior = 1024};
	m = (dq__wp_sample){0, ms, 300, 300, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 0, 0, &m), 0);
}

/*
 * A synthetic timeline for the rule, with no clock and no threads: an
 * agent whose chunks of 256 steps take 256 / rate[path] ns, direct at
 * rate[0] and windowed at rate[1] (steps per ns), fed to dq__wp_decide()
 * as the learner would, from t = 0 to `until` ns. Returns the share of
 * steps taken in windows; *win_at[k] is the path held in the hold part of
 * period k (1 windows, 0 direct) for k < 8.
 */
static double
timeline(double rate_d, double rate_w, uint32_t max_window, uint64_t until,
	 uint64_t run_steps0, int *held)
{
	dq__wp_probe p = {0};
	uint32_t window = 0;
	uint64_t t = 0, run = run_steps0, in_w = 0, all = 0;

	while (t < until) {
		const double rate = window ? rate_w : rate_d;
		const uint64_t dt = (uint64_t)(256.0 / rate);
		dq__wp_sample m = {t, t + dt, 256, run + 256, NULL, 0};
		uint64_t slot;

		t += dt;
		run += 256;
		all += 256;
		in_w += window ? 256 : 0;
		window = dq__wp_decide(&p, window, max_window, &m);
		slot = t / DQ__WP_SLOT_NS;
		if (held && slot / DQ__WP_PERIOD_SLOTS < 8 &&
		    slot % DQ__WP_PERIOD_SLOTS == DQ__WP_PERIOD_SLOTS - 1)
			held[slot / DQ__WP_PERIOD_SLOTS] = window != 0;
	}
	return (double)in_w / (double)all;
}

static void
test_decide(void **state)
{
	const uint64_t ms = 1000000,
		       period = (uint64_t)DQ__WP_SLOT_NS * DQ__WP_PERIOD_SLOTS;
	dq__wp_probe p = {0};
	dq__wp_sample m;
	int held[8];
	double share;

	(void)state;
	/* Windows twice as fast (a hot table): held in every period. The
	 * probe slots run direct half their time: 2 of 32 slots. */
	memset(held, -1, sizeof(held));
	share = timeline(0.02, 0.04, 4096, 4 * period, 1u << 20, held);
	for (int k = 0; k < 4; k++)
		assert_int_equal(held[k], 1);
	assert_true(share > 0.9 && share < 1.0);
	/* Direct faster (taxi-like, or a table whose windows cost more than
	 * they save): direct held; windows only in the probe slots. */
	memset(held, -1, sizeof(held));
	share = timeline(0.04, 0.03, 32768, 4 * period, 1u << 20, held);
	for (int k = 0; k < 4; k++)
		assert_int_equal(held[k], 0);
	assert_true(share > 0.01 && share < 0.05);
	/* Windows faster, but by less than the margin: direct (staleness
	 * is not paid for 4%). By more: windows. */
	memset(held, -1, sizeof(held));
	timeline(0.025, 0.025 * 1.04, 4096, 2 * period, 1u << 20, held);
	assert_int_equal(held[0], 0);
	assert_int_equal(held[1], 0);
	timeline(0.025, 0.025 * 1.07, 4096, 2 * period, 1u << 20, held);
	assert_int_equal(held[0], 1);
	assert_int_equal(held[1], 1);
	/* No window possible (one agent, or a large table): direct, in the
	 * probe's windows slots too. */
	assert_true(timeline(0.01, 0.04, 0, 2 * period, 1u << 20, NULL) == 0.0);
	/* A short run stays direct: windows start only when the staleness
	 * bound allows 256 steps (8192 steps of the agent); a run too slow
	 * to get there in its probe slots has no windows measured, and holds
	 * direct. */
	memset(held, -1, sizeof(held));
	share = timeline(0.0005, 0.05, 4096, period, 0, held);
	assert_int_equal(held[0], 0);
	assert_true(share == 0.0);

	/* The slots, chunk by chunk: direct in slot 0, windows (as long as
	 * the staleness bound allows) in slot 1, direct in slot 2, ... */
	m = (dq__wp_sample){0, ms, 1000, 1u << 20, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 0, 4096, &m), 0);
	m = (dq__wp_sample){ms, 2 * ms + 1, 1000, 1u << 20, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 0, 4096, &m), 4096);
	m = (dq__wp_sample){2 * ms + 1, 3 * ms + 1, 4000, 40000, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 4096, 4096, &m), 1024);
	/* Measured: direct 1000 steps in 1 ms (the chunk across slots 0-1
	 * is not counted), windows 4000 in 1 ms: the hold is windows. */
	assert_int_equal(p.steps[0], 1000);
	assert_int_equal(p.steps[1], 4000);
	assert_int_equal(p.ns[1], ms);
	m = (dq__wp_sample){8 * ms, 9 * ms, 100, 1u << 16, NULL, 0};
	assert_int_equal(dq__wp_decide(&p, 1024, 4096, &m), 2048);
	assert_true(p.windows);
	/* A period whose probe measured nothing (the agent was not running
	 * through its probe slots) holds direct: the last period's figures
	 * are not reused. */
	m = (dq__wp_sample){period + 5 * (uint64_t)DQ__WP_SLOT_NS,
			    period + 5 * (uint64_t)DQ__WP_SLOT_NS + ms,
			    100,
			    1u << 20,
			    NULL,
			    0};
	assert_int_equal(dq__wp_decide(&p, 2048, 4096, &m), 0);
	assert_false(p.windows);
	/* The next period probes afresh. */
	p.windows = true;
	m = (dq__wp_sample){2 * period, 2 * period + ms, 100, 1u << 20, NULL,
			    0};
	assert_int_equal(dq__wp_decide(&p, 4096, 4096, &m), 0);
	assert_int_equal(p.steps[1], 100);
	assert_int_equal(p.steps[0], 0);
}

/*
 * The pool, on a synthetic timeline of several agents: agent i's chunks
 * of 256 steps take 256 / rate ns (rate_d direct, rate_w windowed), the
 * agents' chunks interleaved in time order as threads would run them,
 * all deciding through one pool (or none: pool NULL). held[i][k] is the
 * path agent i held at the end of period k, grace[i][k] the one it held
 * in the slot after period k's probe (k < 4).
 */
typedef struct tl_agent {
	double rate_d, rate_w;
	dq__wp_probe p;
	uint32_t window;
	uint64_t t, run;
	int held[4], grace[4];
} tl_agent;

static void
timeline_pool(tl_agent *ag, uint32_t n, dq__wp_pool *pool, uint64_t until)
{
	for (uint32_t i = 0; i < n; i++) {
		memset(&ag[i].p, 0, sizeof(ag[i].p));
		ag[i].window = 0;
		/* not in step; a third agent starts after the probe */
		ag[i].t =
		    i < 2 ? i * 777
			  : (DQ__WP_PROBE_SLOTS + 1) * (uint64_t)DQ__WP_SLOT_NS;
		ag[i].run = 1u << 20;
		memset(ag[i].held, -1, sizeof(ag[i].held));
		memset(ag[i].grace, -1, sizeof(ag[i].grace));
	}
	if (pool)
		dq__wp_pool_reset(pool);
	for (;;) {
		tl_agent *a = NULL;
		uint32_t id = 0;

		for (uint32_t i = 0; i < n; i++)
			if (ag[i].t < until && (!a || ag[i].t < a->t)) {
				a = &ag[i];
				id = i;
			}
		if (!a)
			break;
		const double rate = a->window ? a->rate_w : a->rate_d;
		const uint64_t dt = (uint64_t)(256.0 / rate);
		dq__wp_sample m = {a->t,	 a->t + dt, 256,
				   a->run + 256, pool,	    id};
		const uint64_t slot = (a->t + dt) / DQ__WP_SLOT_NS;
		const uint64_t k = slot / DQ__WP_PERIOD_SLOTS,
			       pos = slot % DQ__WP_PERIOD_SLOTS;

		a->t += dt;
		a->run += 256;
		a->window = dq__wp_decide(&a->p, a->window, 4096, &m);
		if (k < 4 && pos == DQ__WP_PERIOD_SLOTS - 1)
			a->held[k] = a->window != 0;
		if (k < 4 && pos == DQ__WP_PROBE_SLOTS)
			a->grace[k] = a->window != 0;
	}
}

static void
test_pool(void **state)
{
	const uint64_t period = (uint64_t)DQ__WP_SLOT_NS * DQ__WP_PERIOD_SLOTS;
	static dq__wp_pub pub[3];
	dq__wp_pool pool = {pub, 2};
	tl_agent ag[3];

	(void)state;
	/* Windows 3% faster for one agent (under the margin), 8% for the
	 * other: alone, they split (the one direct, the other windowed, the
	 * state the retry rule fell into); pooled (5.5% for both together),
	 * both hold windows, after one slot of their own verdicts. */
	ag[0].rate_d = 0.025;
	ag[0].rate_w = 0.025 * 1.03;
	ag[1].rate_d = 0.025;
	ag[1].rate_w = 0.025 * 1.08;
	timeline_pool(ag, 2, NULL, 3 * period);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(ag[0].held[k], 0);
		assert_int_equal(ag[1].held[k], 1);
	}
	timeline_pool(ag, 2, &pool, 3 * period);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(ag[0].grace[k], 0);
		assert_int_equal(ag[1].grace[k], 1);
		assert_int_equal(ag[0].held[k], 1);
		assert_int_equal(ag[1].held[k], 1);
	}
	/* 1% and 8%: 4.5% together, under the margin: both direct. */
	ag[0].rate_w = 0.025 * 1.01;
	timeline_pool(ag, 2, &pool, 3 * period);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(ag[0].held[k], 0);
		assert_int_equal(ag[1].held[k], 0);
	}
	/* All steps against all time, not the mean of the agents' ratios:
	 * a fast agent 5% slower in windows and a slow one 35% faster make
	 * 1.03x the steps together with windows (0.038 + 0.0135 against
	 * 0.04 + 0.01 steps per ns): direct, where the ratios' mean (+15%)
	 * would pick windows... */
	ag[0].rate_d = 0.04;
	ag[0].rate_w = 0.038;
	ag[1].rate_d = 0.01;
	ag[1].rate_w = 0.0135;
	timeline_pool(ag, 2, &pool, 2 * period);
	assert_int_equal(ag[0].held[1], 0);
	assert_int_equal(ag[1].held[1], 0);
	/* ... and the fast one 10% faster, the slow one 5% slower: 1.07x
	 * together, windows, where the ratios' mean (+2.5%) is under the
	 * margin. */
	ag[0].rate_w = 0.044;
	ag[1].rate_w = 0.0095;
	timeline_pool(ag, 2, &pool, 2 * period);
	assert_int_equal(ag[0].held[1], 1);
	assert_int_equal(ag[1].held[1], 1);
	/* Three agents, the third starting after the first period's probe
	 * (it measured nothing): the pool decides for it from the other
	 * two, where alone it holds direct. */
	for (int i = 0; i < 3; i++) {
		ag[i].rate_d = 0.025;
		ag[i].rate_w = 0.025 * 1.2;
	}
	pool.n = 3;
	timeline_pool(ag, 3, &pool, period);
	assert_int_equal(ag[0].held[0], 1);
	assert_int_equal(ag[2].held[0], 1);
	timeline_pool(ag, 3, NULL, period);
	assert_int_equal(ag[2].held[0], 0);
	/* The pool's records of another period are not used: after the run
	 * above, an agent with nothing measured in period 2 holds direct. */
	{
		dq__wp_probe p = {0};
		dq__wp_sample m = {0, 0, 256, 1u << 20, &pool, 2};

		timeline_pool(ag, 3, &pool, period);
		m.t_start = 2 * period + 9 * (uint64_t)DQ__WP_SLOT_NS;
		m.t_end = m.t_start + 1000;
		assert_int_equal(dq__wp_decide(&p, 0, 4096, &m), 0);
		/* (in period 1, the records' own, it takes their verdict) */
		p = (dq__wp_probe){0};
		m.t_start -= 2 * period;
		m.t_end -= 2 * period;
		assert_int_equal(dq__wp_decide(&p, 0, 4096, &m), 4096);
	}
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

/* Every 4096 steps of the agent a different path: direct, 300, 4096,
 * 1000, direct, ... (windows that do not divide 4096, so that switches
 * fall inside open windows). forced_calls counts the changes. */
static _Atomic unsigned forced_calls;

static uint32_t
forced_decide(dq__wp_probe *p, uint32_t window, uint32_t max_window,
	      const dq__wp_sample *m)
{
	static const uint32_t cycle[] = {0, 300, 4096, 1000};
	const uint32_t w = cycle[(m->run_steps / 4096) % 4];

	(void)p;
	(void)max_window;
	/* Agents of one learner call it concurrently. */
	if (w != window)
		atomic_fetch_add(&forced_calls, 1);
	return w;
}

static double *
run_p1(const char *name, dq_write_path wp, uint64_t steps, size_t *n,
       dq_write_stats *ws)
{
	dq_test_lr x;
	dq_learner_config c;
	double *q;

	dq_test_lr_open(&x, name, 1, &c);
	c.pin = DQ_PIN_NONE;
	c.max_steps = steps;
	c.agent.seed = 99;
	c.write_path = wp;
	dq_test_lr_run(&x, &c, NULL);
	assert_int_equal(dq_learner_agent_write_path(x.l, 0, ws), 0);
	*n = (size_t)x.sp.n_states * x.sp.n_actions;
	q = malloc(*n * sizeof(double));
	dq_table_snapshot(x.t, q, *n);
	dq_test_lr_free(&x);
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
	dq_test_lr x;
	dq_learner_config c;
	dq_run_result r;
	uint64_t windowed = 0, merges = 0, moved = 0;

	(void)state;
	dq_test_lr_open(&x, "maze4x3", 1, &c);
	c.pin = DQ_PIN_NONE;
	c.n_threads = 2;
	c.max_steps = 400000;
	c.agent.gamma = 0.99;
	dq__wp_max_window_hook = forced_max;
	dq__wp_decide_hook = forced_decide;
	forced_calls = 0;
	dq_test_lr_run(&x, &c, &r);
	dq__wp_max_window_hook = dq__wp_max_window;
	dq__wp_decide_hook = dq__wp_decide;
	assert_int_equal(r.total.steps, 400000);
	for (uint32_t i = 0; i < 2; i++) {
		dq_write_stats ws;

		assert_int_equal(dq_learner_agent_write_path(x.l, i, &ws), 0);
		assert_true(ws.moved <= ws.merges);
		windowed += ws.window_steps;
		merges += ws.merges;
		moved += ws.moved;
	}
	assert_true(windowed > 200000 && windowed <= 400000);
	assert_true(merges > 0);
	(void)moved; /* > 0 only when the two threads overlapped */
	dq_test_lr_free(&x);
}

/* What the learner hands the rule, recorded per agent: the chunks' steps
 * and whether their times and step counts only move forward. */
static _Atomic uint64_t seen_steps[2], seen_ns;
static _Atomic int seen_bad;
static _Thread_local uint64_t last_end, last_run;

static uint32_t
recording_decide(dq__wp_probe *p, uint32_t window, uint32_t max_window,
		 const dq__wp_sample *m)
{
	/* Which agent: the probe is the slot's own, so its address tells
	 * the two apart; agent 0's slot is allocated first. */
	static _Atomic(dq__wp_probe *) first;
	dq__wp_probe *none = NULL;
	int i;

	atomic_compare_exchange_strong(&first, &none, p);
	i = atomic_load(&first) == p ? 0 : 1;
	if (m->t_start > m->t_end || m->t_end < last_end ||
	    m->run_steps < last_run + m->steps || m->steps == 0)
		atomic_fetch_add(&seen_bad, 1);
	last_end = m->t_end;
	last_run = m->run_steps;
	atomic_fetch_add(&seen_steps[i], m->steps);
	atomic_fetch_add(&seen_ns, m->t_end - m->t_start);
	return dq__wp_decide(p, window, max_window, m);
}

/*
 * The learner's measurements reach the rule whole: every step of a run is
 * in exactly one chunk handed to the rule (a chunk's steps counted twice,
 * or a partial last chunk counted as a full one, would not add up), with
 * times and run step counts that only move forward, and chunks that take
 * time.
 */
static void
test_probe_samples(void **state)
{
	dq_test_lr x;
	dq_learner_config c;
	dq_stats st[2];
	dq_run_result r;

	(void)state;
	dq_test_lr_open(&x, "frozenlake8x8", 1, &c);
	c.pin = DQ_PIN_NONE;
	c.n_threads = 2;
	c.max_steps = 300001; /* not a multiple of any chunk */
	dq__wp_decide_hook = recording_decide;
	dq_test_lr_run(&x, &c, &r);
	dq__wp_decide_hook = dq__wp_decide;
	assert_int_equal(r.total.steps, 300001);
	for (uint32_t i = 0; i < 2; i++)
		assert_int_equal(dq_learner_agent_stats(x.l, i, &st[i]), 0);
	assert_int_equal(atomic_load(&seen_bad), 0);
	assert_true(atomic_load(&seen_ns) > 0); /* chunks take time */
	assert_int_equal(atomic_load(&seen_steps[0]) +
			     atomic_load(&seen_steps[1]),
			 st[0].steps + st[1].steps);
	dq_test_lr_free(&x);
}

/*
 * The learner starts a P = 2 run on a small table windowed (the prior):
 * a run of one step per agent takes it in a window (the learner starting
 * the run direct fails here: the window is set before the first chunk,
 * whatever the clock says); in a run of 4,000 steps every chunk handed
 * to the rule carries the prior in the agent's probe (the probe not told
 * of the prior fails here; whether the chunks then run windowed depends
 * on the clock's slots, which a loaded machine moves, and is
 * test_decide_prior's); an explicit DQ_WRITE_DIRECT takes none.
 */
static _Atomic uint32_t prior_min = UINT32_MAX, prior_max;

static uint32_t
prior_decide(dq__wp_probe *p, uint32_t window, uint32_t max_window,
	     const dq__wp_sample *m)
{
	uint32_t v = atomic_load(&prior_min);

	while (p->prior < v &&
	       !atomic_compare_exchange_weak(&prior_min, &v, p->prior))
		;
	v = atomic_load(&prior_max);
	while (p->prior > v &&
	       !atomic_compare_exchange_weak(&prior_max, &v, p->prior))
		;
	return dq__wp_decide(p, window, max_window, m);
}

static void
test_prior_learner(void **state)
{
	(void)state;
	for (int k = 0; k < 3; k++) {
		uint64_t windowed = 0;
		dq_test_lr x;
		dq_learner_config c;
		dq_run_result r;

		dq_test_lr_open(&x, "cliffwalking", 1, &c);
		c.pin = DQ_PIN_NONE;
		c.n_threads = 2;
		c.max_steps = k == 2 ? 2 : 4000;
		c.write_path = k == 1 ? DQ_WRITE_DIRECT : DQ_WRITE_AUTO;
		assert_int_equal(dq_learner_create(&x.l, x.t, x.env, &c), 0);
		if (k == 0)
			dq__wp_decide_hook = prior_decide;
		assert_int_equal(dq_learner_run(x.l, &r), 0);
		dq__wp_decide_hook = dq__wp_decide;
		assert_int_equal(r.total.steps, c.max_steps);
		for (uint32_t i = 0; i < 2; i++) {
			dq_write_stats ws;

			assert_int_equal(
			    dq_learner_agent_write_path(x.l, i, &ws), 0);
			windowed += ws.window_steps;
			if (k == 1) {
				assert_int_equal(ws.window_steps, 0);
			} else if (k == 2) {
				assert_int_equal(ws.window_steps, 1);
			} else {
				/* the prior's 1024 (4 x 192 entries, up) */
				assert_true(ws.mean_window == 1024.0);
			}
		}
		if (k == 0) {
			assert_true(windowed > 0);
			assert_int_equal(atomic_load(&prior_min), 1024);
			assert_int_equal(atomic_load(&prior_max), 1024);
		}
		dq_test_lr_free(&x);
	}
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
	    cmocka_unit_test(test_prior_window),
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_decide_prior),
	    cmocka_unit_test(test_pool),
	    cmocka_unit_test(test_switching_is_exact),
	    cmocka_unit_test(test_switching_two_agents),
	    cmocka_unit_test(test_probe_samples),
	    cmocka_unit_test(test_prior_learner),
	    cmocka_unit_test(test_one_agent_direct),
	    cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests_name("writepath", tests, NULL, NULL);
}
