/*
 * A target table (Mnih et al. 2015, "Human-level control through deep
 * reinforcement learning", Methods: the target network): a frozen copy of
 * the Q-table that the rules' bootstrap reads of s' come from (rule.h,
 * dq__rule_boot_*), refreshed every C steps by a copy, or softly by Polyak
 * averaging, target <- tau Q + (1 - tau) target (Lillicrap et al. 2016).
 *
 * One target may be shared by the P agents of a learner. It is double
 * buffered: the agents read buffer (epoch & 1); a refresh writes the other
 * buffer and then publishes it by incrementing the epoch. No agent ever
 * waits for a refresh: the agent that claims one pays for the copy
 * (S x width words, once every C total steps) while the others go on
 * bootstrapping from the current buffer. The ordering argument:
 *
 *  - a refresh is claimed in two steps: a CAS on next_due (one claimant per
 *    period), then a CAS on busy (one refresh writing at a time: a refresh
 *    that finds the previous one still copying is skipped, counted in
 *    `skipped`, so that nobody waits);
 *  - the refresher writes the spare buffer with relaxed stores, then stores
 *    epoch + 1 with release; an agent loads the epoch with acquire (once per
 *    step, dq__target_view()) before reading the buffer it names, so it sees
 *    every value of the refresh that published it;
 *  - an agent that loaded the epoch before a flip goes on reading the old
 *    buffer until its next step. A refresh writes that buffer again only
 *    two refreshes later, i.e. after at least C more total steps; an agent
 *    stalled across them mid-step may read some entries of the newer copy.
 *    Every word is an atomic, so this is no data race, and every value read
 *    is one the live table held, which is what bootstrapping from the live
 *    table tolerates already (docs/memory-model.md).
 *
 * A seqlock (seqlock.h) would make readers retry a whole row while the
 * writer copies; double buffering gives them a stable buffer instead.
 *
 * Memory: 2 x S x width x 8 bytes (width = A x channels); visit counts are
 * not copied.
 */
#ifndef DQ_TARGET_H
#define DQ_TARGET_H

#include "table.h"

typedef struct dq__target {
	/* Read-only after creation (reset rewrites the current buffer only
	 * while no agent runs). */
	dq__atomic_u64 *buf[2]; /* S x width values each */
	dq_table view[2];	/* tables over buf[0], buf[1]: what the
				 * rules' bootstrap reads take */
	uint64_t every;		/* C, in clock steps */
	double tau;		/* Polyak tau in (0, 1), or 0: a copy */

	/* Written once per refresh, read by every agent every step. */
	_Alignas(DQ__CACHE_LINE) dq__atomic_u32 epoch; /* current: & 1 */
	dq__atomic_u64 next_due; /* clock at which a refresh is due */

	/* Refreshers only. */
	_Alignas(DQ__CACHE_LINE) dq__atomic_int busy;
	dq__atomic_u64 refreshes; /* done */
	dq__atomic_u64 skipped;	  /* claimed while another was copying */
} dq__target;

int dq__target_create(dq__target **out, const dq_table *t, uint64_t every,
		      double tau);
void dq__target_destroy(dq__target *tg);
void dq__target_reset(dq__target *tg, const dq_table *t);
bool dq__target_tick(dq__target *tg, const dq_table *t, uint64_t clock);
void dq__target_refresh(dq__target *tg, const dq_table *t);

/* The buffer bootstrap reads come from now. */
static inline const dq_table *
dq__target_view(const dq__target *tg)
{
	/* acquire: pairs with the release store of the epoch in
	 * dq__target_refresh(), so the buffer it names is complete */
	return &tg->view[dq__load_u32(&tg->epoch, memory_order_acquire) & 1];
}

#endif /* DQ_TARGET_H */
