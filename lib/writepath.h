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
 *  - otherwise each agent starts direct and, every DQ__WP_EPOCH of its
 *    steps, looks at its conflict rate over the epoch: CAS retries per step
 *    while direct, write-back merges that found the entry moved per step
 *    while windowed. Hot (retries at least DQ__WP_HOT per step) -> windows;
 *    cool again (moved merges below DQ__WP_COOL per step) -> direct;
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

/* Tables above this many entries are always updated directly. */
#define DQ__WP_MAX_ENTRIES (1u << 14)
/* Steps of one agent between two decisions. */
#define DQ__WP_EPOCH 4096u
/* Shortest and longest windows the rule picks. */
#define DQ__WP_MIN_WINDOW 256u
#define DQ__WP_MAX_WINDOW 65536u
/* Windows are at most this many times the table's entries: past it, the
 * write-back of a window costs under one merge per WINDOW_PER_ENTRY steps
 * and longer windows only add staleness. */
#define DQ__WP_WINDOW_PER_ENTRY 16u
/* Conflict thresholds, per step (see above). */
#define DQ__WP_HOT 1e-3
#define DQ__WP_COOL 2.5e-4
/* A window is at most 1/DQ__WP_STALE of the agent's steps so far. */
#define DQ__WP_STALE 32u

/* What one agent measured over an epoch. */
typedef struct dq__wp_sample {
	uint64_t steps;	    /* steps in the epoch */
	uint64_t retries;   /* CAS retries of its updates in the epoch */
	uint64_t merges;    /* write-back merges in the epoch */
	uint64_t moved;	    /* of those, merges that found the entry moved */
	uint64_t run_steps; /* the agent's steps in this run so far */
} dq__wp_sample;

/*
 * The longest window the rule may pick for @entries (S x A) shared by
 * @agents agents, and so what the overlay's buffers must hold; 0 when the
 * table is always updated directly (one agent, or too large).
 */
uint32_t dq__wp_max_window(uint64_t entries, uint32_t agents);

/* Steps of an agent with window @window between two decisions: an epoch,
 * and at least one whole window, so that a windowed agent has written back
 * (and measured its merges) before it decides. */
uint32_t dq__wp_epoch(uint32_t window);

/*
 * The window for the next epoch (0 = direct updates) of an agent whose
 * current one is @window, from its epoch's measurements @m, within
 * @max_window (dq__wp_max_window()).
 */
uint32_t dq__wp_decide(uint32_t window, uint32_t max_window,
		       const dq__wp_sample *m);

/* The staleness bound alone: the longest window allowed after @run_steps
 * steps of an agent, within @max_window (0 when below the minimum). */
uint32_t dq__wp_window_for(uint64_t run_steps, uint32_t max_window);

/*
 * What the learner calls: the two functions above, replaceable by tests
 * (e.g. to force switches at chosen epochs). Not changed during a run.
 */
typedef uint32_t (*dq__wp_max_window_fn)(uint64_t entries, uint32_t agents);
typedef uint32_t (*dq__wp_decide_fn)(uint32_t window, uint32_t max_window,
				     const dq__wp_sample *m);
extern dq__wp_max_window_fn dq__wp_max_window_hook;
extern dq__wp_decide_fn dq__wp_decide_hook;

#endif /* DQ_WRITEPATH_H */
