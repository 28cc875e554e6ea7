/*
 * The automatic write path's rule (writepath.h): pure functions, unit
 * tested on their own (tests/test_writepath.c).
 */
#include "writepath.h"

/* The largest power of two at most x (x >= 1). */
static uint64_t
pow2_floor(uint64_t x)
{
	uint64_t p = 1;

	while (p <= x / 2)
		p *= 2;
	return p;
}

/* The smallest power of two at least x (1 <= x <= 2^63). */
static uint64_t
pow2_ceil(uint64_t x)
{
	uint64_t p = pow2_floor(x);

	return p == x ? p : 2 * p;
}

uint32_t
dq__wp_max_window(uint64_t entries, uint32_t agents)
{
	uint64_t w;

	if (agents < 2 || entries == 0 || entries > DQ__WP_MAX_ENTRIES)
		return 0;
	w = entries * DQ__WP_WINDOW_PER_ENTRY;
	if (w < DQ__WP_MIN_WINDOW)
		return DQ__WP_MIN_WINDOW;
	/* Rounded up, not down: at least WINDOW_PER_ENTRY steps per entry.
	 * Rounded down, a 10^3-entry table got 8.2 and wrote back a cache
	 * line every 65 steps, the tables that scaled one every 88-154
	 * (docs/performance.md). */
	w = pow2_ceil(w);
	return w > DQ__WP_MAX_WINDOW ? DQ__WP_MAX_WINDOW : (uint32_t)w;
}

uint32_t
dq__wp_prior_window(uint64_t entries, uint32_t agents, uint32_t max_window)
{
	uint64_t w;

	if (agents < 2 || entries == 0 || entries > DQ__WP_PRIOR_ENTRIES ||
	    max_window < DQ__WP_MIN_WINDOW)
		return 0;
	w = pow2_ceil(entries * DQ__WP_PRIOR_PER_ENTRY);
	if (w < DQ__WP_MIN_WINDOW)
		w = DQ__WP_MIN_WINDOW;
	return w > max_window ? max_window : (uint32_t)w;
}

uint32_t
dq__wp_window_for(uint64_t run_steps, uint32_t max_window)
{
	uint64_t w = run_steps / DQ__WP_STALE;

	if (max_window < DQ__WP_MIN_WINDOW || w < DQ__WP_MIN_WINDOW)
		return 0;
	w = pow2_floor(w);
	return w > max_window ? max_window : (uint32_t)w;
}

/* Windows ran faster than direct updates in the probe, by the margin:
 * steps_w / ns_w > (1 + margin) steps_d / ns_d. Either path unmeasured
 * (windows not yet allowed by the staleness bound, or no whole chunk in
 * its slots): no. */
static bool
windows_faster(const uint64_t steps[2], const uint64_t ns[2])
{
	if (!steps[0] || !steps[1] || !ns[0] || !ns[1])
		return false;
	return (double)steps[1] * (double)ns[0] >
	       (1.0 + DQ__WP_MARGIN) * (double)steps[0] * (double)ns[1];
}

void
dq__wp_pool_reset(dq__wp_pool *pool)
{
	for (uint32_t i = 0; i < pool->n; i++) {
		/* relaxed (this and the words): no agent runs; their threads
		 * are started after */
		dq__store_u32(&pool->pub[i].lk.seq, 0, memory_order_relaxed);
		for (int k = 0; k < 5; k++)
			dq__store_u64(&pool->pub[i].w[k], 0,
				      memory_order_relaxed);
	}
}

/* The agent's probe of @period, to the others. */
static void
pool_publish(dq__wp_pool *pool, uint32_t agent, uint64_t period,
	     const dq__wp_probe *p)
{
	const uint64_t v[5] = {period, p->steps[0], p->steps[1], p->ns[0],
			       p->ns[1]};

	dq__seq_write(&pool->pub[agent].lk, pool->pub[agent].w, v, 5);
}

/* The pool's verdict on @period: windows faster for all agents together
 * (1), or not (0); -1 when no agent published both paths' figures. A
 * record being written, or of another period, is left out. */
static int
pool_decide(const dq__wp_pool *pool, uint64_t period)
{
	uint64_t steps[2] = {0, 0}, ns[2] = {0, 0};

	for (uint32_t i = 0; i < pool->n; i++) {
		const dq__wp_pub *r = &pool->pub[i];
		uint64_t v[5];
		uint32_t q = dq__seq_read_begin(&r->lk);

		for (int k = 0; k < 5; k++)
			v[k] = dq__seq_read_u64(&r->w[k]);
		if (dq__seq_read_retry(&r->lk, q) || v[0] != period || !v[1] ||
		    !v[2] || !v[3] || !v[4])
			continue;
		steps[0] += v[1];
		steps[1] += v[2];
		ns[0] += v[3];
		ns[1] += v[4];
	}
	if (!steps[0])
		return -1;
	return windows_faster(steps, ns);
}

uint32_t
dq__wp_decide(dq__wp_probe *p, uint32_t window, uint32_t max_window,
	      const dq__wp_sample *m)
{
	const uint64_t slot = m->t_end / DQ__WP_SLOT_NS;
	const uint64_t period = slot / DQ__WP_PERIOD_SLOTS + 1;
	const uint64_t pos = slot % DQ__WP_PERIOD_SLOTS;
	/* The small-table prior holds through the first period's probe:
	 * windows first, and at least its window. */
	const bool prior = p->prior && period == 1 && pos < DQ__WP_PROBE_SLOTS;
	uint32_t w;
	bool win;

	if (!max_window)
		return 0;
	/* A chunk wholly inside a probe slot is counted for the path it
	 * ran; one across a slot's edge, or run before the probe began,
	 * is not. */
	if (pos < DQ__WP_PROBE_SLOTS && m->t_start <= m->t_end &&
	    m->t_start / DQ__WP_SLOT_NS == slot) {
		if (p->period != period) {
			p->steps[0] = p->steps[1] = 0;
			p->ns[0] = p->ns[1] = 0;
			p->period = period;
		}
		p->steps[window != 0] += m->steps;
		p->ns[window != 0] += m->t_end - m->t_start;
	}
	if (pos < DQ__WP_PROBE_SLOTS) {
		win = (pos % 2 == 1) != prior;
	} else {
		if (p->decided != period) {
			p->decided = period;
			p->windows = p->period == period &&
				     windows_faster(p->steps, p->ns);
			if (m->pool && p->period == period)
				pool_publish(m->pool, m->agent, period, p);
		}
		/* From the slot after the probe's end, all agents having
		 * published: the pool's verdict, where it has one. */
		if (m->pool && pos > DQ__WP_PROBE_SLOTS &&
		    p->pooled != period) {
			const int v = pool_decide(m->pool, period);

			p->pooled = period;
			if (v >= 0)
				p->windows = v;
		}
		win = p->windows;
	}
	if (!win)
		return 0;
	w = dq__wp_window_for(m->run_steps, max_window);
	if (prior && w < p->prior)
		w = p->prior < max_window ? p->prior : max_window;
	return w;
}

dq__wp_max_window_fn dq__wp_max_window_hook = dq__wp_max_window;
dq__wp_decide_fn dq__wp_decide_hook = dq__wp_decide;
