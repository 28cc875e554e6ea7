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

uint32_t
dq__wp_max_window(uint64_t entries, uint32_t agents)
{
	uint64_t w;

	if (agents < 2 || entries == 0 || entries > DQ__WP_MAX_ENTRIES)
		return 0;
	w = entries * DQ__WP_WINDOW_PER_ENTRY;
	if (w < DQ__WP_MIN_WINDOW)
		return DQ__WP_MIN_WINDOW;
	w = pow2_floor(w);
	return w > DQ__WP_MAX_WINDOW ? DQ__WP_MAX_WINDOW : (uint32_t)w;
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

uint32_t
dq__wp_epoch(uint32_t window)
{
	return window > DQ__WP_EPOCH ? window : DQ__WP_EPOCH;
}

uint32_t
dq__wp_decide(uint32_t window, uint32_t max_window, const dq__wp_sample *m)
{
	bool hot;

	if (!max_window || !m->steps)
		return max_window ? window : 0;
	if (window)
		hot = (double)m->moved >= DQ__WP_COOL * (double)m->steps;
	else
		hot = (double)m->retries >= DQ__WP_HOT * (double)m->steps;
	return hot ? dq__wp_window_for(m->run_steps, max_window) : 0;
}

dq__wp_max_window_fn dq__wp_max_window_hook = dq__wp_max_window;
dq__wp_decide_fn dq__wp_decide_hook = dq__wp_decide;
