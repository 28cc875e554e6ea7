/*
 * Experience replay and the target table as options of an off-policy rule
 * (dq_agent_config.replay_*, target_*): the per-agent replay ring, and the
 * one hook the agent's step calls after a fresh transition when either is
 * on (agent.h: one test per step when neither is). The target table
 * itself is target.h.
 *
 * Replay (Lin 1992, "Self-improving reactive agents based on
 * reinforcement learning, planning and teaching"; Mnih et al. 2015): the
 * agent keeps its last `cap` transitions in a ring, and after each fresh
 * step draws `batch` x `minibatches` of them uniformly, with replacement,
 * from its own RNG stream, and learns from each through the same rule code
 * and typed store writes as from a fresh one (dq__rule_observe()), so that
 * cas loses none of them and the overlay buffers them as any other write.
 */
#ifndef DQ_REPLAY_H
#define DQ_REPLAY_H

#include "target.h"

/* One stored transition: DQ_REPLAY_TRANSITION_BYTES bytes. */
typedef struct dq__transition {
	uint32_t s, a, s2;
	uint32_t terminated; /* s2 is not read when non-zero */
	double r;
} dq__transition;

_Static_assert(sizeof(dq__transition) == DQ_REPLAY_TRANSITION_BYTES,
	       "DQ_REPLAY_TRANSITION_BYTES is the size of a transition");

/* One stored transition of a tile-coded agent (lib/tilereplay.c): this
 * record, and beside it in dq__replay.tiles the 2T active tiles of s and
 * s' (s' zeros on termination): DQ_REPLAY_TILES_TRANSITION_BYTES(T). */
typedef struct dq__tile_transition {
	uint32_t a;
	uint32_t terminated; /* s''s tiles are not read when non-zero */
	double r;
} dq__tile_transition;

_Static_assert(sizeof(dq__tile_transition) + 8 ==
		   DQ_REPLAY_TILES_TRANSITION_BYTES(1),
	       "DQ_REPLAY_TILES_TRANSITION_BYTES is the record and 2T tiles");

typedef struct dq__replay {
	dq__transition *buf; /* cap transitions (NULL: tile-coded) */
	/* A tile-coded agent's ring instead (NULL otherwise): cap records,
	 * and cap x 2T tiles, transition i's s at tiles + 2T i, its s' T
	 * further (lib/tilereplay.c). */
	dq__tile_transition *tbuf;
	uint32_t *tiles;
	uint32_t T;
	uint32_t cap;	/* 0: no replay */
	uint32_t count; /* stored, <= cap */
	uint32_t head;	/* where the next one goes */
	uint32_t batch;
	uint32_t minibatches;
} dq__replay;

/* An agent's replay and target state (dq_agent.ext, NULL when neither is
 * configured). */
typedef struct dq__ext {
	dq__replay rp;
	dq__target *target; /* NULL: bootstrap from the live table */
	bool own_target;    /* created by this agent (not a learner's) */
	uint32_t clock_step;
	uint64_t clock; /* steps x clock_step since the target's reset */
	uint64_t replays;
} dq__ext;

/* One step of the agent's clock on the target table, after the step's
 * fresh and replayed updates (lib/replay.c, lib/tilereplay.c): advance the
 * clock, let dq__target_tick() refresh the target from @live when due, and
 * return the buffer the next step's bootstraps read (the agent's boot).
 * Only with x->target set. Always inlined: the hot step's code is the same
 * as when both files wrote these lines out (make check-ir, and
 * bench/replay-ir.sh for the replay and target paths). */
DQ__INLINE const dq_table *
dq__ext_target_step(dq__ext *x, const dq_table *live)
{
	x->clock += x->clock_step;
	dq__target_tick(x->target, live, x->clock);
	return dq__target_view(x->target);
}

int dq__replay_check(const dq_agent_config *cfg, uint32_t n_agents);
int dq__ext_init(dq_agent *ag, const dq_agent_config *cfg, dq__target *shared);
void dq__ext_fini(dq_agent *ag);
void dq__ext_run_start(dq_agent *ag);
uint32_t dq__replay_writes_factor(const dq_agent_config *cfg);

void dq__replay_push(dq__replay *rp, uint32_t s, uint32_t a, double r,
		     uint32_t s2, bool terminated);
uint32_t dq__replay_draw(const dq__replay *rp, dq_rng *rng);

/* Over tiles (lib/tilereplay.c). */
uint32_t dq__replay_bytes(const dq_agent_config *cfg);
int dq__replay_tiles_init(dq__replay *rp, uint32_t T);
void dq__replay_push_tiles(dq__replay *rp, const uint32_t *f, uint32_t a,
			   double r, const uint32_t *f2, bool terminated);

#endif /* DQ_REPLAY_H */
