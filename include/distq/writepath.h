/*
 * libdistq: how a learner's updates reach the table.
 *
 * Part of <distq.h>, which includes every part; this one may also be
 * included alone. The conventions are at the top of <distq.h>.
 */
#ifndef DISTQ_WRITEPATH_H
#define DISTQ_WRITEPATH_H

#include <stdint.h>

/* ------------------------------------------------------------------------ */
/** @defgroup writepath The write path
 * How a learner's agents' updates reach the shared table: straight
 * away, or in write-back windows (docs/performance.md).
 * @{ */

/**
 * How a learner's agents write to the shared table
 * (dq_learner_config.write_path). A sync_every > 0 in the agent config
 * always wins: write-back windows of exactly that many steps.
 */
typedef enum dq_write_path {
	/** The default. With agent.sync_every 0 the learner chooses for each
	 *  agent, and revises between chunks of steps, between direct updates
	 *  and write-back windows (and their length), from the table's size
	 *  and the speed the agents measure on each path in short probes
	 *  (docs/performance.md, "The automatic write path"). One agent, or
	 *  a table above 2^17 entries, always updates
	 *  directly (the overlay buffers of a smaller table take at most
	 *  about 24 bytes per entry per agent), so single-agent runs are exactly as with
	 *  DQ_WRITE_DIRECT. */
	DQ_WRITE_AUTO = 0,
	/** Every update goes straight to the shared table (agent.sync_every
	 *  must be 0). */
	DQ_WRITE_DIRECT = 1,
} dq_write_path;

/** How one agent of a learner writes (dq_learner_agent_write_path()). */
typedef struct dq_write_stats {
	uint32_t window;       /**< Its write-back window now, in steps;
				*   0 = direct updates. */
	uint64_t window_steps; /**< Steps it took in windows, all runs
				*   (counted at each decision of the
				*   automatic write path and at the end of
				*   a run). */
	double mean_window;    /**< Their mean window, in steps: an update
				*   made in a window reaches the table
				*   (mean_window - 1) / 2 of the agent's
				*   steps later on average; 0 if none. */
	uint64_t merges;       /**< Entries it wrote back from windows. */
	uint64_t moved;	       /**< Of those, entries another agent had
				*   changed during the window. */
	uint64_t reserved_[3]; /**< Zero (see "Growing structs"). */
} dq_write_stats;

/** @} */
#endif /* DISTQ_WRITEPATH_H */
