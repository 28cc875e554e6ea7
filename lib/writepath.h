/*
 * The automatic write path (dq_learner_config.write_path = DQ_WRITE_AUTO):
 * whether an agent's updates go straight to the shared table or through a
 * write-back window (the replica overlay of agent.h), and how long that
 * window is. Pure functions of what the agents measure; they know nothing
 * of the overlay's mechanics or of threads, so either side can change
 * without the other. The rule, with its reasons, is in docs/performance.md
 * ("The automatic write path").
 *
 * In short:
 *  - one agent, or a table of more than DQ__WP_MAX_ENTRIES entries: direct
 *    updates, always (bit-identical single-agent runs; large tables spread
 *    the agents' writes over many cache lines, and their overlay would cost
 *    memory in proportion to the table);
 *  - otherwise the choice between direct updates and windows is made by
 *    measured speed, not guessed from conflicts: the run's time is cut into
 *    slots of DQ__WP_SLOT_NS; the first DQ__WP_PROBE_SLOTS of every
 *    DQ__WP_PERIOD_SLOTS run direct and windowed in turn (direct first),
 *    each agent counting its own steps per second in each; for the rest of
 *    the period each agent holds the path that was faster, windows only
 *    when they were faster by DQ__WP_MARGIN (they cost staleness): for
 *    one slot by its own measurement, then by the pool's (all agents'
 *    steps against all their time, dq__wp_pool), so that all agents
 *    hold the same path, the one that was faster for them together. The
 *    slots are read from the run's clock, so all agents probe the same
 *    path at the same time without talking to each other. Conflicts (CAS
 *    retries, write-backs that found the entry moved) do not cost by
 *    themselves: the line transfers do, and no counter sees those (on taxi
 *    one retry in 120,000 steps, about one transfer in 10-20);
 *  - the small-table prior: with P >= 2 agents on a table of at most
 *    DQ__WP_PRIOR_ENTRIES entries, the run starts windowed (window
 *    dq__wp_prior_window()) and its first period's probe runs windows
 *    first (windows, direct, windows, direct); until that probe's
 *    verdict its windows are at least the prior's, the staleness bound
 *    notwithstanding; from the verdict on, the rule is the one above.
 *    Such a table has at most 128 cache lines, and two agents' episodes
 *    keep all of them hot: measured, direct updates there are the slow
 *    path (cliffwalking, 24 lines: 76 ns per agent-step at P = 2 against
 *    17 at P = 1; frozenlake8x8, 32 lines: 1.06x at P = 2, windows of 256
 *    1.58x; the 10^3-entry table, 125 lines: windows about 2x direct's
 *    speed), while taxi (3,000 entries, 375 lines) scales direct
 *    (1.85-1.95x). Without it a run shorter than the first slot (2 ms;
 *    cliffwalking's, about 0.5 ms to target) is all direct, and the
 *    staleness bound forbids any window before 8,192 steps of an agent;
 *  - a window is as long as the staleness bound allows: at most
 *    1/DQ__WP_STALE of the agent's steps so far in the run (so an update is
 *    delayed by at most about 1/DQ__WP_STALE of the run's steps), a power
 *    of two, at least DQ__WP_MIN_WINDOW (shorter windows are not worth
 *    their sync: the agent stays direct until then), at most the cap
 *    dq__wp_max_window() sized the buffers for.
 */
#ifndef DQ_WRITEPATH_H
#define DQ_WRITEPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "seqlock.h"

/* Tables above this many entries are always updated directly (the
 * overlay's buffers grow with the table; 2^17 takes in the 10^5-entry
 * table, where windows of 65536 steps ran at 1.81x direct's speed at two
 * threads, docs/performance.md; at 10^7 entries direct scales, 1.8-2x). */
#define DQ__WP_MAX_ENTRIES (1u << 17)
/* Shortest and longest windows the rule picks. */
#define DQ__WP_MIN_WINDOW 256u
#define DQ__WP_MAX_WINDOW 65536u
/* Windows are at most this many times the table's entries, rounded up to
 * a power of two (so between 1x and 2x it): past it, the write-back of a
 * window costs under one merge per WINDOW_PER_ENTRY steps and under one
 * cache line per 8 x WINDOW_PER_ENTRY steps (8-byte entries), and longer
 * windows only add staleness. */
#define DQ__WP_WINDOW_PER_ENTRY 16u
/* The speed probe: slots of 2 ms; in every period of 64 slots (128 ms) the
 * first 4 alternate direct, windows, direct, windows; windows are held for
 * the other 60 only when they ran at least 5% faster. */
#define DQ__WP_SLOT_NS 2000000u
#define DQ__WP_PROBE_SLOTS 4u
#define DQ__WP_PERIOD_SLOTS 64u
#define DQ__WP_MARGIN 0.05
/* A window is at most 1/DQ__WP_STALE of the agent's steps so far. */
#define DQ__WP_STALE 32u
/* The small-table prior: P >= 2 agents on a table of at most this many
 * entries (128 cache lines of 8-byte entries, all of them hot) start a
 * run windowed, DQ__WP_PRIOR_PER_ENTRY steps per entry rounded up to a
 * power of two, at least DQ__WP_MIN_WINDOW, at most the cap (maze4x3 and
 * frozenlake4x4 256, cliffwalking and frozenlake8x8 1024, 10^3 entries
 * 4096). 4 per entry: a window's write-back merges at most entries /
 * window, under one entry per 4 steps (cliffwalking at 1024, counted: 0.066
 * merges and 0.014 lines per step, about 1 ns of an ~80 ns transfer per
 * step), and its staleness stays a quarter of the cap's. */
#define DQ__WP_PRIOR_ENTRIES 1024u
#define DQ__WP_PRIOR_PER_ENTRY 4u

/*
 * The pool: every agent's probe figures of a period, published once per
 * period by their agent (after its probe slots) and read by all of them
 * (once per period, from the slot after the probe on), so that every agent
 * holds the path that made all agents together faster: the sum of their
 * steps against the sum of their nanoseconds on each path. One record per
 * agent, each on its own cache line, written by its agent only.
 */
typedef struct dq__wp_pub {
	_Alignas(DQ__CACHE_LINE) dq__seqlock lk;
	dq__atomic_u64 w[5]; /* period + 1, steps[0], steps[1], ns[0], ns[1] */
} dq__wp_pub;

typedef struct dq__wp_pool {
	dq__wp_pub *pub; /* n records */
	uint32_t n;
} dq__wp_pool;

/* One chunk of an agent's steps, as the learner measured it between two
 * chunks. Times are on the run's clock (ns since the run started). */
typedef struct dq__wp_sample {
	uint64_t t_start;   /* when the chunk started */
	uint64_t t_end;	    /* when it ended */
	uint64_t steps;	    /* steps in the chunk */
	uint64_t run_steps; /* the agent's steps in this run so far */
	/* The agents' pool and this agent's record in it; NULL: the agent
	 * decides from its own probe alone. */
	dq__wp_pool *pool;
	uint32_t agent;
} dq__wp_sample;

/* One agent's probe: what it measured in the current period's probe slots
 * ([0] direct, [1] windows), and the path it holds. Zero at a run's
 * start. */
typedef struct dq__wp_probe {
	uint64_t steps[2];
	uint64_t ns[2];
	uint64_t period;  /* the period measured, plus one; 0 = none */
	uint64_t decided; /* the last period decided, plus one */
	uint64_t pooled;  /* the last period decided from the pool, plus 1 */
	bool windows;	  /* the path held until the next probe */
	/* The small-table prior's window (dq__wp_prior_window()), set by the
	 * learner at the run's start, when the run started windowed; 0 =
	 * none (the run started direct). */
	uint32_t prior;
} dq__wp_probe;

/*
 * The longest window the rule may pick for @entries (S x A) shared by
 * @agents agents, and so what the overlay's buffers must hold; 0 when the
 * table is always updated directly (one agent, or too large).
 */
uint32_t dq__wp_max_window(uint64_t entries, uint32_t agents);

/*
 * The small-table prior: the window a run of @agents agents on a table of
 * @entries (S x A) entries starts with, within @max_window
 * (dq__wp_max_window()); 0 when it starts direct (one agent, a table
 * above DQ__WP_PRIOR_ENTRIES, or no window possible).
 */
uint32_t dq__wp_prior_window(uint64_t entries, uint32_t agents,
			     uint32_t max_window);

/*
 * The window for the agent's next chunk (0 = direct updates), its current
 * one being @window, after the chunk @m, within @max_window
 * (dq__wp_max_window()); @p is the agent's probe, updated. A pure function
 * of its arguments (no clock is read): the tests drive it with synthetic
 * timelines.
 */
uint32_t dq__wp_decide(dq__wp_probe *p, uint32_t window, uint32_t max_window,
		       const dq__wp_sample *m);

/* Zero every record of @pool (no agent running). */
void dq__wp_pool_reset(dq__wp_pool *pool);

/* The staleness bound alone: the longest window allowed after @run_steps
 * steps of an agent, within @max_window (0 when below the minimum). */
uint32_t dq__wp_window_for(uint64_t run_steps, uint32_t max_window);

/*
 * What the learner calls: the two functions above, replaceable by tests
 * (e.g. to force switches at chosen epochs). Not changed during a run.
 */
typedef uint32_t (*dq__wp_max_window_fn)(uint64_t entries, uint32_t agents);
typedef uint32_t (*dq__wp_decide_fn)(dq__wp_probe *p, uint32_t window,
				     uint32_t max_window,
				     const dq__wp_sample *m);
extern dq__wp_max_window_fn dq__wp_max_window_hook;
extern dq__wp_decide_fn dq__wp_decide_hook;

#endif /* DQ_WRITEPATH_H */
