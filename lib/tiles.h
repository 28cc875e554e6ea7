/*
 * The features layer's tile coder (docs/architecture.md: identity | tile
 * coder, between the agent and the store): the coder itself, and the
 * rules q, sarsa and expected-sarsa over tiles (and, in tilerule.h, the
 * n-step rules and Q(lambda)), for linear function
 * approximation (Sutton & Barto, 2nd ed., sections 9.5.4 and 10.1:
 * episodic semi-gradient one-step SARSA, and its Q-learning and Expected
 * SARSA variants, whose gradient is the indicator of the active tiles).
 * Included by agent.h after rule.h: the step functions need struct
 * dq_agent.
 *
 * A state is its T active tiles (rows of the table); Q(s, a) is the sum of
 * those rows' column a. A transition makes T writes, DQ__OP_ADD of
 * alpha / T times the TD error to column a of each active row of s,
 * through the table's discipline: in cas mode each is a CAS loop, so no
 * weight loses an update to a race (the sum Q(s, a) may still mix two
 * agents' moments, as any asynchronous read does). The write-back overlay
 * is not used: its rows are whole states, and a tile-coded step writes T
 * rows that other states share.
 */
#ifndef DQ_TILES_H
#define DQ_TILES_H

#include "table.h"

/* The revision of the mapping below (the offsets, the hash): a
 * checkpoint's coder section records it (lib/ckptiles.c); change it with
 * any change to which row an observation's tile lands in. */
#define DQ__TILES_REVISION 1u

struct dq_tiles {
	dq_tiles_config cfg;
	uint32_t T, D;
	uint32_t rows;	     /* the table's rows */
	uint32_t per_tiling; /* prod(bins[i] + 1), unhashed */
	bool hashed;
	uint32_t tshift; /* log2(T) when T is a power of two, else 32 */
	uint32_t qmax[DQ_TILES_MAX_DIM];   /* bins[i] x T - 1 */
	uint32_t stride[DQ_TILES_MAX_DIM]; /* mixed radix, unhashed */
	double scale[DQ_TILES_MAX_DIM];	   /* bins[i] x T / span */
	uint32_t *disp; /* T x D: (t (2i + 1)) mod T, Sutton's offsets */
};

/*
 * The active tiles of obs, one per tiling (tiles3's algorithm): each value
 * is quantised to 1/T of a tile, q_i = floor((x_i - low_i) / width_i x T),
 * clamped to the span; tiling t's coordinate in dimension i is then
 * (q_i + disp[t][i]) / T, its tile one of bins[i] + 1. The displacement
 * (2i + 1) t is taken modulo T, which only relabels whole tiles.
 */
DQ__INLINE void
dq__tiles_active(const dq_tiles *tc, const double *obs, uint32_t *out)
{
	const uint32_t T = tc->T, D = tc->D;
	uint32_t q[DQ_TILES_MAX_DIM];

	for (uint32_t i = 0; i < D; i++) {
		double u = (obs[i] - tc->cfg.low[i]) * tc->scale[i];

		if (!(u > 0.0)) /* NaN too */
			q[i] = 0;
		else if (u >= (double)tc->qmax[i])
			q[i] = tc->qmax[i];
		else
			q[i] = (uint32_t)u;
	}
	if (tc->hashed) {
		for (uint32_t t = 0; t < T; t++) {
			const uint32_t *d = tc->disp + (size_t)t * D;
			uint64_t h = (uint64_t)t * 0x9e3779b97f4a7c15ull;

			for (uint32_t i = 0; i < D; i++) {
				h ^= (q[i] + d[i]) / T;
				h *= 0xbf58476d1ce4e5b9ull;
				h ^= h >> 31;
			}
			out[t] = (uint32_t)(h % tc->rows);
		}
	} else if (tc->tshift < 32) { /* T a power of two: shifts */
		const uint32_t sh = tc->tshift;

		for (uint32_t t = 0; t < T; t++) {
			const uint32_t *d = tc->disp + (size_t)t * D;
			uint32_t idx = t * tc->per_tiling;

			for (uint32_t i = 0; i < D; i++)
				idx += ((q[i] + d[i]) >> sh) * tc->stride[i];
			out[t] = idx;
		}
	} else {
		for (uint32_t t = 0; t < T; t++) {
			const uint32_t *d = tc->disp + (size_t)t * D;
			uint32_t idx = t * tc->per_tiling;

			for (uint32_t i = 0; i < D; i++)
				idx += (q[i] + d[i]) / T * tc->stride[i];
			out[t] = idx;
		}
	}
}

/* Q(s, .) of the tiles f into q[A]: sums in tiling order. */
DQ__INLINE void
dq__tiles_q(const dq_table *t, const uint32_t *f, uint32_t T, double *q)
{
	const uint32_t A = t->n_actions;

	for (uint32_t a = 0; a < A; a++)
		q[a] = 0.0;
	for (uint32_t k = 0; k < T; k++) {
		const dq__atomic_u64 *row = dq__table_row(t, f[k]);

		for (uint32_t a = 0; a < A; a++)
			/* relaxed: each weight is read whole; the sum mixes
			 * moments, as any asynchronous read does */
			q[a] += dq__u2d(
			    dq__load_u64(row + a, memory_order_relaxed));
	}
}

/* Q(s, a) of the tiles f. */
DQ__INLINE double
dq__tiles_q1(const dq_table *t, const uint32_t *f, uint32_t T, uint32_t a)
{
	double sum = 0.0;

	for (uint32_t k = 0; k < T; k++)
		/* relaxed: as dq__tiles_q() */
		sum += dq__u2d(dq__load_u64(dq__table_row(t, f[k]) + a,
					    memory_order_relaxed));
	return sum;
}

/* An agent's tile-coding state (dq_agent.tg): buffers of one step. */
typedef struct dq__tagent {
	const dq_tiles *tc;
	uint32_t T, D;
	uint32_t *f;  /* s's tiles (public calls) */
	uint32_t *f2; /* s''s tiles */
	double *q;    /* A: scratch */
	double *obs2; /* D: s' of the last observe (public calls) */
	/* The n-step rules (tilerule.h): the tiles of each pending
	 * transition's s, pend_cap x T beside ag->pend, and of the last
	 * observed s' (a truncation's bootstrap). NULL for other rules. */
	uint32_t *pf;
	uint32_t *lf;
	/* The action the next act in s' takes (after the epsilon draw, for
	 * q and expected-sarsa; the one chosen, for sarsa), found while
	 * bootstrapping from s': valid until then. */
	bool next_valid;
	uint32_t next_a;
} dq__tagent;

int dq__tagent_init(dq_agent *ag, const dq_agent_config *cfg);
void dq__tagent_fini(dq_agent *ag);
/* The n-step rules' pending transitions at a truncation (their writes
 * bootstrap from the last s', tilerule.h), in the table's discipline:
 * the CAS retries, or the first error. */
int dq__tagent_flush(dq_agent *ag);
/* A real number as dq_tiles_format() writes it: the shortest %.Ng
 * (N = 15..17) that reads back to the same double, with a '.' whatever
 * LC_NUMERIC says (',' separates the text's fields). b holds size bytes
 * (32 fit any double). Used by the checkpoint's mismatch details too. */
void dq__tiles_fmt_real(char *b, size_t size, double x);

#endif /* DQ_TILES_H */
