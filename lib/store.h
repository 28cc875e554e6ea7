/*
 * The store layer: where a value lives and how a write lands.
 *
 * The shared store is the table (table.h) under its discipline (cas,
 * hogwild, locked): dq__table_apply_as() lands one typed operation
 * (dq__op: TD step, add, merge) on one entry. The write-back overlay is a
 * store over the shared store: an agent's private copy of the rows it
 * wrote in the current window, written back as one merge per changed entry
 * every window (dq__overlay_sync()). Rules read and write through the
 * functions below with two constants, the discipline `mode` and `ovl`
 * (whether the overlay is in front), so neither is tested per step.
 *
 * A row here is all of a state's entries, every channel of it (the
 * table's `width`): the overlay copies and writes back whole rows.
 *
 * The overlay's buffers hold min(S, window x writes) rows, `writes` being
 * the most entries a step may write (the rule declares it, rule.h). The
 * store checks it: a write that would need a row past the buffers is
 * refused with DQ_ERULE, nothing written.
 */
#ifndef DQ_STORE_H
#define DQ_STORE_H

#include "table.h"

typedef struct dq__overlay {
	/* The first write to a row in a window copies the row into pend_val
	 * (and pend_base, the values it copied); from then on the agent
	 * reads and updates the row in its copy, and pend_keep[] multiplies
	 * up (1 - alpha) over each entry's TD updates. Other rows are read
	 * from the shared table. row_slot[s] is where row s starts in
	 * pend_val plus one, 0 when it is not pending. */
	uint32_t *row_slot; /* S */
	uint32_t *pend_row; /* the pending rows' states */
	double *pend_val;   /* pending rows x width: the agent's values */
	double *pend_base;  /* pending rows x width: as copied */
	double *pend_keep;  /* pending rows x width: product of (1 - alpha) */
	uint32_t n_pend;
	uint32_t cap_rows;   /* rows the buffers hold */
	uint32_t writes;     /* entries a step may write (the rule's) */
	uint32_t sync_every; /* the window now; 0 = direct updates */
	uint32_t sync_left;  /* steps until the window's write-back */
	uint32_t max_window; /* what the buffers hold; 0 = none */
	uint64_t merges;     /* write-back merges, and of those the ones */
	uint64_t moved;	     /* that found the entry moved by another */
} dq__overlay;

int dq__overlay_init(dq__overlay *ov, const dq_table *t, uint32_t max_window,
		     uint32_t writes);
void dq__overlay_fini(dq__overlay *ov);
uint32_t dq__overlay_pend_row(dq__overlay *ov, const dq_table *t, uint32_t s);
int dq__overlay_sync(dq__overlay *ov, dq_table *t, uint64_t *retries);
int dq__overlay_set_window(dq__overlay *ov, dq_table *t, uint32_t window,
			   uint64_t *retries);

/* A window is open (the buffers may be held while updates are direct). */
static inline bool
dq__overlay_on(const dq__overlay *ov)
{
	return ov->sync_every != 0;
}

/* Greedy action (and maximum) of a private row: the same rules as
 * dq__table_greedy_max() on plain doubles. */
static inline uint32_t
dq__row_greedy_max(const double *row, uint32_t n, dq_rng *rng, double *max)
{
	double best = row[0];
	uint32_t arg = 0, ties = 1;

	for (uint32_t a = 1; a < n; a++) {
		if (row[a] < best) /* finite: see dq__table_greedy_max() */
			continue;
		if (row[a] > best) {
			best = row[a];
			arg = a;
			ties = 1;
		} else if (rng && dq__rng_one_in(rng, ++ties)) {
			arg = a;
		}
	}
	if (max)
		*max = best;
	return arg;
}

/* Greedy action of channel 0 of row s and its value, as the agent sees the
 * row: its own copy when it wrote the row in this window, else the table. */
DQ__INLINE uint32_t
dq__store_greedy_max(const dq_table *t, const dq__overlay *ov, uint32_t s,
		     dq_rng *rng, double *max, bool ovl)
{
	uint32_t k;

	if (ovl && (k = ov->row_slot[s]) != 0)
		return dq__row_greedy_max(ov->pend_val + (k - 1), t->n_actions,
					  rng, max);
	return dq__table_greedy_max(t, s, rng, max);
}

/* Entry i of row s (i = channel x A + action), as the agent sees it. */
DQ__INLINE double
dq__store_get(const dq_table *t, const dq__overlay *ov, uint32_t s, uint32_t i,
	      bool ovl)
{
	uint32_t k;

	if (ovl && (k = ov->row_slot[s]) != 0)
		return ov->pend_val[(size_t)(k - 1) + i];
	return dq__table_get(t, s, i);
}

/*
 * The overlay's write: into the agent's copy of row s, made at the row's
 * first write in this window. Returns 0, DQ_ENONFINITE (the copy
 * unchanged) for a result that is not finite, as dq__table_apply_as(), or
 * DQ_ERULE when the row does not fit (a rule wrote more than it
 * declared).
 */
DQ__INLINE int
dq__overlay_write(dq__overlay *ov, const dq_table *t, uint32_t s, uint32_t i,
		  dq__op op)
{
	uint32_t k = ov->row_slot[s];
	size_t j;
	double nq;

	if (!k) {
		if (DQ__UNLIKELY(ov->n_pend == ov->cap_rows))
			return DQ_ERULE;
		k = dq__overlay_pend_row(ov, t, s);
	}
	j = (size_t)(k - 1) + i;
	nq = dq__op_eval(&op, ov->pend_val[j]);
	if (DQ__UNLIKELY(!dq__finite_or_refuse(dq__d2u(nq))))
		return DQ_ENONFINITE;
	ov->pend_val[j] = nq;
	/* A TD step contracts the copied value by (1 - x); an add does not
	 * (dq__merge_value() replays it as the difference). */
	if (op.kind == DQ__OP_TD)
		ov->pend_keep[j] *= 1.0 - op.x;
	return 0;
}

/*
 * Land one typed write on entry i of row s: through the overlay when `ovl`,
 * else on the table under discipline `mode`. Returns the CAS retries
 * (>= 0) or a negative error, as dq__table_apply_as().
 */
DQ__INLINE int
dq__store_write(dq_table *t, dq__overlay *ov, dq_mode mode, bool ovl,
		uint32_t s, uint32_t i, dq__op op)
{
	if (ovl)
		return dq__overlay_write(ov, t, s, i, op);
	return dq__table_apply_as(t, mode, s, i, op);
}

#endif /* DQ_STORE_H */
