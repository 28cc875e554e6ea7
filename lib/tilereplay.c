/*
 * Experience replay and the target table over tiles (issue 13, item 2, for
 * the tile-coded agents of lib/tiles.h): the ring of a tile-coded agent
 * and the step both add after a fresh tile-coded transition
 * (dq__ext_observe_tiles(), called by the learner's tile loop and by
 * dq_agent_observe_obs() only when either is on). replay.c's step over
 * states, with a state being its active tiles.
 *
 * What the ring stores: each transition's action, reward, terminated flag
 * and the T active tiles of s and of s' (s' zeros on termination), not
 * its observations. With a fixed coder the tiles are a function of the
 * observation, so a replay from the tiles is exactly a replay from the
 * observation, without recomputing 2 x T tiles (D quantisations and T
 * index sums, or T hashes) per replayed transition. The memory is
 * 16 + 8T bytes a transition (DQ_REPLAY_TILES_TRANSITION_BYTES(T)),
 * against 16 + 16D for the two observations: less for T < 2D; CartPole's
 * 8 tilings of 4 dimensions cost 80 bytes either way. Truncation is not
 * stored: a truncated transition bootstraps from s' as any other
 * non-terminated one, fresh or replayed.
 *
 * The target table is target.h's, over the coder's rows: the bootstrap
 * reads of s' (tilerule.h's dq__tiles_observe(), through ag->boot) sum
 * the target's weights of s''s tiles. Rules: q and expected-sarsa, the
 * off-policy rules a tile-coded agent takes (replay.c's allow-list).
 */
#include <errno.h>
#include <stdlib.h>

#include "agent.h"
#include "replay.h"

/* Bytes one stored transition of cfg's agent takes. */
uint32_t
dq__replay_bytes(const dq_agent_config *cfg)
{
	if (cfg->tiles)
		return DQ_REPLAY_TILES_TRANSITION_BYTES(cfg->tiles->T);
	return DQ_REPLAY_TRANSITION_BYTES;
}

/* A tile-coded ring of rp->cap transitions of T tiles each. Returns 0 or
 * -ENOMEM (dq__ext_fini() releases what was made). */
int
dq__replay_tiles_init(dq__replay *rp, uint32_t T)
{
	rp->T = T;
	rp->tbuf = malloc((size_t)rp->cap * sizeof(*rp->tbuf));
	rp->tiles = malloc((size_t)rp->cap * 2 * T * sizeof(*rp->tiles));
	return rp->tbuf && rp->tiles ? 0 : -ENOMEM;
}

void
dq__replay_push_tiles(dq__replay *rp, const uint32_t *f, uint32_t a, double r,
		      const uint32_t *f2, bool terminated)
{
	const uint32_t T = rp->T;
	uint32_t *dst = rp->tiles + (size_t)rp->head * 2 * T;

	rp->tbuf[rp->head] = (dq__tile_transition){a, terminated ? 1u : 0u, r};
	memcpy(dst, f, T * sizeof(*f));
	/* s''s tiles are not read on termination: stored as zeros */
	if (terminated)
		memset(dst + T, 0, T * sizeof(*dst));
	else
		memcpy(dst + T, f2, T * sizeof(*f2));
	rp->head = rp->head + 1 == rp->cap ? 0 : rp->head + 1;
	if (rp->count < rp->cap)
		rp->count++;
}

/*
 * The tile-coded step with replay or a target, replay.c's
 * dq__ext_observe() over tiles: the fresh transition's step
 * (dq__agent_observe_tiles()), then, once it is counted: store it and
 * replay minibatches when the ring holds a batch (each replayed
 * transition through dq__tiles_observe(), the rule's own writes, with the
 * draws from the agent's stream); refresh the target when due. The next
 * act's cached action (tg->next_valid) is dropped as the tabular cache
 * is: when the fresh write touched one of s''s tiles (the tabular s' == s),
 * when a target is on (the bootstrap scanned the target's weights), and
 * after replays. With one tiling whose tiles are the states this is the
 * tabular step draw for draw (tests/test_tilereplay.c). Returns 0, the
 * step's error (nothing else done when it was refused), or the first
 * error of a replayed write (DQ_ENONFINITE: nothing more replayed).
 */
int
dq__ext_observe_tiles(dq_agent *ag, const uint32_t *f, uint32_t a, double r,
		      const uint32_t *f2, bool terminated, dq_mode mode)
{
	dq__ext *x = ag->ext;
	dq__replay *rp = &x->rp;
	dq__tagent *tg = ag->tg;
	const uint32_t T = tg->T;
	const uint64_t steps = ag->steps;
	int err = dq__agent_observe_tiles(ag, f, a, r, f2, terminated, ag->rule,
					  mode);

	if (ag->steps == steps)
		return err; /* refused: not counted, nothing more */
	if (x->target)
		tg->next_valid = false;
	for (uint32_t k = 0; k < T && tg->next_valid; k++)
		if (f[k] == f2[k])
			tg->next_valid = false;
	if (rp->cap) {
		dq__replay_push_tiles(rp, f, a, r, f2, terminated);
		if (rp->count >= rp->batch) {
			const uint32_t n = rp->batch * rp->minibatches;

			for (uint32_t i = 0; i < n; i++) {
				const uint32_t j =
				    dq__replay_draw(rp, &ag->rng);
				const dq__tile_transition *tr = &rp->tbuf[j];
				const uint32_t *tf =
				    rp->tiles + (size_t)j * 2 * T;
				int ret = dq__tiles_observe(
				    ag, tf, tr->a, tr->r, tf + T,
				    tr->terminated != 0, ag->rule, mode);

				if (DQ__UNLIKELY(ret < 0)) {
					if (!err)
						err = ret;
					break;
				}
				ag->retries += (uint64_t)ret;
				x->replays++;
			}
			tg->next_valid = false;
		}
	}
	if (x->target)
		ag->boot = dq__ext_target_step(x, ag->table);
	return err;
}
