/*
 * The write-back overlay (store.h): an agent's private copy of the rows it
 * wrote in the current window, over the shared table. Its mechanics only;
 * when to open a window and how long it is is the caller's (the agent's
 * sync_every, or the learner's automatic write path, lib/writepath.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "store.h"

/*
 * Room for min(S, max_window x writes) pending rows of the table's width:
 * each step writes at most `writes` entries, and a sync empties them every
 * window of at most max_window steps. Returns 0, -ERANGE for a table too
 * large to replicate, or -ENOMEM (dq__overlay_fini() releases the rest).
 */
int
dq__overlay_init(dq__overlay *ov, const dq_table *t, uint32_t max_window,
		 uint32_t writes)
{
	const size_t w = t->width;
	size_t n = (size_t)t->n_states * w;
	uint64_t want = (uint64_t)max_window * writes;
	size_t rows = t->n_states < want ? t->n_states : (size_t)want;

	if (n > DQ_REPLICA_MAX_ENTRIES)
		return -ERANGE;
	ov->row_slot = calloc(t->n_states, sizeof(uint32_t));
	ov->pend_row = malloc(rows * sizeof(uint32_t));
	ov->pend_val = malloc(rows * w * sizeof(double));
	ov->pend_base = malloc(rows * w * sizeof(double));
	ov->pend_keep = malloc(rows * w * sizeof(double));
	if (!ov->row_slot || !ov->pend_row || !ov->pend_val || !ov->pend_base ||
	    !ov->pend_keep)
		return -ENOMEM;
	ov->cap_rows = (uint32_t)rows;
	ov->writes = writes;
	ov->max_window = max_window;
	return 0;
}

void
dq__overlay_fini(dq__overlay *ov)
{
	free(ov->row_slot);
	free(ov->pend_row);
	free(ov->pend_val);
	free(ov->pend_base);
	free(ov->pend_keep);
	ov->row_slot = NULL;
	ov->pend_row = NULL;
	ov->pend_val = NULL;
	ov->pend_base = NULL;
	ov->pend_keep = NULL;
	ov->n_pend = 0;
	ov->cap_rows = 0;
	ov->sync_every = 0;
	ov->max_window = 0;
}

/*
 * Switch the write path: window > 0 opens windows of that many steps (at
 * most max_window), 0 returns to direct updates after writing the open
 * window back. An open window keeps the steps it has run: one already
 * longer than the new length ends at the next write. Returns 0, or the
 * write-back's error (dq__overlay_sync()).
 */
int
dq__overlay_set_window(dq__overlay *ov, dq_table *t, uint32_t window,
		       uint64_t *retries)
{
	uint32_t ran;
	int err;

	if (window > ov->max_window)
		window = ov->max_window;
	if (window == ov->sync_every)
		return 0;
	if (!window) {
		err = dq__overlay_sync(ov, t, retries);
		ov->sync_every = 0;
		return err;
	}
	ran = ov->sync_every ? ov->sync_every - ov->sync_left : 0;
	ov->sync_every = window;
	ov->sync_left = window > ran ? window - ran : 1;
	return 0;
}

/* Row s becomes pending: copied from the table (relaxed loads: per-entry
 * values, section 3 of docs/memory-model.md). Returns where it starts in
 * pend_val, plus one. The caller checked that a row is free. */
uint32_t
dq__overlay_pend_row(dq__overlay *ov, const dq_table *t, uint32_t s)
{
	const uint32_t n = t->width;
	const uint32_t k = ov->n_pend++;
	const dq__atomic_u64 *row = dq__table_row(t, s);
	const size_t off = (size_t)k * n;

	for (uint32_t a = 0; a < n; a++) {
		/* relaxed: a per-entry value, as any agent read */
		double v = dq__u2d(dq__load_u64(row + a, memory_order_relaxed));

		ov->pend_val[off + a] = v;
		ov->pend_base[off + a] = v;
		ov->pend_keep[off + a] = 1.0;
	}
	ov->pend_row[k] = s;
	ov->row_slot[s] = (uint32_t)off + 1;
	return (uint32_t)off + 1;
}

/* Rows ahead of the one being written back whose lines are fetched for
 * writing while it is (see dq__overlay_sync()). */
#define WB_PREFETCH_ROWS 4u

/* Ask for the cache lines of row s, for writing: a hint, no effect on the
 * values. On x86-64, PREFETCHW (a NOP where it is not supported), which
 * fetches the line exclusive at once; the merge's read then CAS would
 * otherwise fetch it shared, then upgrade it: two transfers from the other
 * core instead of one, each waited for in turn. */
static inline void
prefetch_row_w(const dq_table *t, uint32_t s)
{
	const char *p = (const char *)dq__table_row(t, s);
	const char *end = p + (size_t)t->width * sizeof(double);

	for (p = (const char *)((uintptr_t)p &
				~(uintptr_t)(DQ__CACHE_LINE - 1));
	     p < end; p += DQ__CACHE_LINE) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
		__asm__ volatile("prefetchw %0" : : "m"(*p));
#else
		__builtin_prefetch(p, 1, 3);
#endif
	}
}

/*
 * Write the window back: every entry the agent updated goes to the table as
 * one DQ__OP_MERGE under the table's discipline (in cas mode none is lost),
 * and the rows are released, so the agent reads the table's values again,
 * others' updates included. The CAS retries are added to *retries. Returns
 * 0, or DQ_ENONFINITE when the merge of some entry would not be finite:
 * that entry is left as it is, the others are written back.
 */
int
dq__overlay_sync(dq__overlay *ov, dq_table *t, uint64_t *retries)
{
	const uint32_t n = t->width;
	int err = 0;

	if (!ov->row_slot)
		return 0;
	/* The lines of the first rows, then of one row WB_PREFETCH_ROWS
	 * ahead of each merged: the other core's lines arrive while the
	 * rows before them are merged, not one after another. */
	for (uint32_t k = 0; k < ov->n_pend && k < WB_PREFETCH_ROWS; k++)
		prefetch_row_w(t, ov->pend_row[k]);
	for (uint32_t k = 0; k < ov->n_pend; k++) {
		const uint32_t s = ov->pend_row[k];
		const size_t off = (size_t)k * n;

		if (k + WB_PREFETCH_ROWS < ov->n_pend)
			prefetch_row_w(t, ov->pend_row[k + WB_PREFETCH_ROWS]);

		for (uint32_t a = 0; a < n; a++) {
			const double b = ov->pend_base[off + a];
			const double l = ov->pend_val[off + a];
			const double keep = ov->pend_keep[off + a];
			uint64_t cur;
			int r;

			/* Not updated in the window: keep stays exactly 1 and
			 * the value on its bits. (So do updates with alphas
			 * below half an ulp of 1 that left the value; their
			 * merge would store nothing.) Every other entry is
			 * merged, also one whose value ended on the bits it
			 * started from: its updates still pull towards their
			 * targets, and when another agent moved the entry
			 * meanwhile that pull is replayed onto the other's
			 * value. When nobody did, the merge gives the stored
			 * bits and the table skips the write. */
			if (keep == 1.0 && dq__d2u(l) == dq__d2u(b))
				continue;
			/* relaxed: only counted (did another agent move
			 * it?); the merge below re-reads the entry under the
			 * discipline */
			cur = dq__load_u64(dq__table_row(t, s) + a,
					   memory_order_relaxed);
			ov->moved += cur != dq__d2u(b);
			ov->merges++;
			r = dq__table_apply(t, s, a,
					    (dq__op){DQ__OP_MERGE, b, l, keep});
			if (r < 0)
				err = r; /* the entry keeps its value */
			else
				*retries += (uint64_t)r;
		}
		ov->row_slot[s] = 0;
	}
	ov->n_pend = 0;
	ov->sync_left = ov->sync_every;
	return err;
}
