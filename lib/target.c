/*
 * The target table: creation, the refresh (a copy or Polyak averaging into
 * the spare buffer, then an epoch flip) and its claim between agents.
 * The ordering argument is in target.h.
 */
#include <errno.h>
#include <stdlib.h>

#include "target.h"

int
dq__target_create(dq__target **out, const dq_table *t, uint64_t every,
		  double tau)
{
	const size_t n = (size_t)t->n_states * t->width;
	dq__target *tg;

	tg = aligned_alloc(DQ__CACHE_LINE, sizeof(*tg));
	if (!tg)
		return -ENOMEM;
	memset(tg, 0, sizeof(*tg));
	for (int i = 0; i < 2; i++) {
		tg->buf[i] = calloc(n ? n : 1, sizeof(dq__atomic_u64));
		if (!tg->buf[i]) {
			dq__target_destroy(tg);
			return -ENOMEM;
		}
		/* A table over the buffer: rows of `width` values, the
		 * layout dq__table_get() and dq__table_greedy_max() read. */
		tg->view[i] = (dq_table){.q = tg->buf[i],
					 .stride = t->width,
					 .n_states = t->n_states,
					 .n_actions = t->n_actions,
					 .channels = t->channels,
					 .width = t->width,
					 .mode = t->mode};
	}
	tg->every = every;
	tg->tau = tau > 0.0 && tau < 1.0 ? tau : 0.0;
	dq__target_reset(tg, t);
	*out = tg;
	return 0;
}

void
dq__target_destroy(dq__target *tg)
{
	if (!tg)
		return;
	free(tg->buf[0]);
	free(tg->buf[1]);
	free(tg);
}

/*
 * Copy the table into the current buffer and restart the clock (the next
 * refresh at C): at an agent's creation and at a learner run's start,
 * while no agent steps.
 */
void
dq__target_reset(dq__target *tg, const dq_table *t)
{
	/* relaxed: no agent runs; the run's thread creation publishes it */
	dq__atomic_u64 *dst =
	    tg->buf[dq__load_u32(&tg->epoch, memory_order_relaxed) & 1];

	for (uint32_t s = 0; s < t->n_states; s++) {
		const dq__atomic_u64 *row = dq__table_row(t, s);

		for (uint32_t i = 0; i < t->width; i++)
			/* relaxed (both): no agent runs, see above */
			dq__store_u64(
			    dst + (size_t)s * t->width + i,
			    dq__load_u64(row + i, memory_order_relaxed),
			    memory_order_relaxed);
	}
	/* relaxed: as above */
	dq__store_u64(&tg->next_due, tg->every, memory_order_relaxed);
}

/*
 * One refresh, by its single claimant (busy held): the spare buffer gets
 * the table (or tau x the table + (1 - tau) x the current buffer), then
 * becomes current.
 */
void
dq__target_refresh(dq__target *tg, const dq_table *t)
{
	/* relaxed: only a refresher writes the epoch, and the busy claim
	 * (acquire) ordered the previous refresher's store before this */
	const uint32_t e = dq__load_u32(&tg->epoch, memory_order_relaxed);
	const dq__atomic_u64 *cur = tg->buf[e & 1];
	dq__atomic_u64 *nxt = tg->buf[(e + 1) & 1];
	const double tau = tg->tau;

	for (uint32_t s = 0; s < t->n_states; s++) {
		const dq__atomic_u64 *row = dq__table_row(t, s);
		const size_t base = (size_t)s * t->width;

		for (uint32_t i = 0; i < t->width; i++) {
			/* relaxed: one entry of the live table, a value some
			 * agent wrote; nothing else is published by it */
			uint64_t v =
			    dq__load_u64(row + i, memory_order_relaxed);

			if (tau > 0.0)
				v = dq__d2u(
				    tau * dq__u2d(v) +
				    (1.0 - tau) *
					dq__u2d(dq__load_u64(
					    /* relaxed: the current buffer
					     * changes only under busy */
					    cur + base + i,
					    memory_order_relaxed)));
			/* relaxed: published by the epoch's release below */
			dq__store_u64(nxt + base + i, v, memory_order_relaxed);
		}
	}
	/* release: pairs with the acquire in dq__target_view(): a reader
	 * of the new epoch sees every value stored above */
	dq__store_u32(&tg->epoch, e + 1, memory_order_release);
	/* relaxed: a statistic */
	dq__fetch_add_u64(&tg->refreshes, 1, memory_order_relaxed);
}

/*
 * An agent whose clock (steps x clock_step) reached the due time claims the
 * period and refreshes, unless another refresh is still copying (then this
 * one is skipped: nobody waits). Returns whether it refreshed.
 */
bool
dq__target_tick(dq__target *tg, const dq_table *t, uint64_t clock)
{
	/* relaxed: a hint; the CAS below decides who claims the period */
	uint64_t due = dq__load_u64(&tg->next_due, memory_order_relaxed);
	uint64_t next;

	for (;;) {
		if (clock < due)
			return false;
		/* the first multiple of C after the clock: a clock that
		 * jumped several periods (a preempted agent) claims them as
		 * one */
		next = clock - clock % tg->every + tg->every;
		/* relaxed/relaxed: one location's modification order makes
		 * one claimant per period; the claim publishes no data.
		 * Failure refreshes `due` (another claimant, or a spurious
		 * failure: then the loop tries again) */
		if (dq__cas_weak_u64(&tg->next_due, &due, next,
				     memory_order_relaxed,
				     memory_order_relaxed))
			break;
	}
	/* acquire: pairs with the release that ended the previous refresh,
	 * ordering its buffer and epoch writes before this one's */
	if (!dq__cas_strong_int(&tg->busy, 0, 1, memory_order_acquire,
				memory_order_relaxed)) {
		/* relaxed: a statistic */
		dq__fetch_add_u64(&tg->skipped, 1, memory_order_relaxed);
		return false;
	}
	dq__target_refresh(tg, t);
	/* release: pairs with the next claimant's acquire above */
	dq__store_int(&tg->busy, 0, memory_order_release);
	return true;
}
