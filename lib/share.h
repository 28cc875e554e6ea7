/*
 * Private side of the sync policies (include/distq/share.h): an agent's
 * local table, the bookkeeping of its pushes, and the central blend of
 * DistQL as a store operation on the shared table. Run at chunk
 * boundaries (the learner) or from dq_agent_share(), never per step.
 */
#ifndef DQ_SHARE_H
#define DQ_SHARE_H

#include <float.h>

#include "table.h"

struct dq_agent;

typedef struct dq__share {
	dq_share_config cfg;
	dq_table *shared; /* the central table */
	dq_table *local;  /* the agent's own (hogwild: one writer) */
	uint32_t n_agents;
	uint32_t eta_ch; /* DistQL: the central channel of eta_c */
	double log_decay;
	/* DistQL: each entry's local update count at its last push (an
	 * entry was updated since when its count differs); averaging: the
	 * shared values last pulled (S x width). */
	uint64_t *n_push;
	double *base;
	/* When the next push is due: the agent's episodes (DistQL), steps
	 * or clock (averaging, ns); UINT64_MAX when not counted so. The
	 * learner ends a chunk at next_episode / next_step exactly. */
	uint64_t next_episode;
	uint64_t next_step;
	uint64_t next_ns;
	uint64_t pushes;  /* pushes made */
	uint64_t entries; /* entries blended or added, over all pushes */
} dq__share;

size_t dq__share_bytes(const dq_table *shared, const dq_share_config *cfg);
int dq__share_create(dq__share **out, dq_table *shared,
		     const dq_share_config *cfg, uint32_t n_agents,
		     const dq_agent_config *acfg);
void dq__share_destroy(dq__share *sh);
int dq__share_check(const dq_table *shared, const dq_share_config *cfg,
		    const dq_agent_config *acfg, uint32_t n_agents);
void dq__share_attach(struct dq_agent *ag, dq__share *sh);
int dq__share_begin(struct dq_agent *ag, uint64_t now_ns);
int dq__share_sync(struct dq_agent *ag, uint64_t now_ns);
int dq__share_push(struct dq_agent *ag);

/*
 * The DistQL blend of one entry (s, a) of the central table, under
 * discipline `mode`: the received value q_i with the agent's rate eta_i
 * (both finite, eta_i in (0, 1]):
 *	e = min(eta_c, eta_i); w = e^2 / eta_i;
 *	Q_c <- Q_c + w (q_i - Q_c); eta_c <- max(e decay, DBL_MIN)
 * eta_c is entry a of channel `ch` (0 there: not yet received, = eta0).
 *
 * In cas mode it is two atomic steps on two words, in this order: a CAS
 * loop on eta_c claims this blend's e (the sequence of eta_c values is
 * exactly a serial server's: each received update clamps and decays it
 * once, none lost), then a CAS loop on Q_c lands the TD step with weight
 * w (none lost). Two blends racing on one entry may land their values in
 * the other order than their claims: the result is then a serial server
 * that weighed them in claim order and applied them in value order (when
 * their q_i are equal, as the stress test has them, the same value).
 * Locked mode holds the stripe mutex over both; hogwild may lose either.
 *
 * Returns the CAS retries (>= 0) or DQ_ENONFINITE (Q_c left, eta_c
 * already claimed: a lost blend counts once in eta_c).
 */
static inline int
dq__table_blend_as(dq_table *t, dq_mode mode, uint32_t s, uint32_t a,
		   uint32_t ch, double q_i, double eta_i, double eta0,
		   double decay)
{
	dq__atomic_u64 *pe =
	    dq__table_row(t, s) + (size_t)ch * t->n_actions + a;
	uint64_t old, nu;
	double e, ec;
	int retries = 0, r;

	if (mode == DQ_MODE_LOCKED) {
		pthread_mutex_t *mu = &t->stripes[s & t->stripe_mask].mu;

		pthread_mutex_lock(mu);
		/* relaxed: the stripe mutex orders the writers */
		old = dq__load_u64(pe, memory_order_relaxed);
		ec = old ? dq__u2d(old) : eta0;
		e = ec < eta_i ? ec : eta_i;
		/* relaxed: the stripe mutex orders the writers */
		dq__store_u64(pe, dq__d2u(fmax(e * decay, DBL_MIN)),
			      memory_order_relaxed);
		/* hogwild under the mutex: one writer at a time */
		r = dq__table_apply_as(
		    t, DQ_MODE_HOGWILD, s, a,
		    (dq__op){DQ__OP_TD, e * e / eta_i, q_i, 0.0});
		pthread_mutex_unlock(mu);
		return r;
	}
	/* relaxed: the CAS below re-checks it; eta_c orders no other data */
	old = dq__load_u64(pe, memory_order_relaxed);
	for (;;) {
		ec = old ? dq__u2d(old) : eta0;
		e = ec < eta_i ? ec : eta_i;
		nu = dq__d2u(fmax(e * decay, DBL_MIN));
		/* test builds: another writer may run here */
		DQ__JET_RACE_WINDOW();
		if (mode != DQ_MODE_CAS) {
			/* relaxed: hogwild accepts losing a racing claim */
			dq__store_u64(pe, nu, memory_order_relaxed);
			break;
		}
		/* relaxed/relaxed: one word's modification order makes each
		 * claim see the previous one; failure refreshes `old` */
		if (dq__cas_weak_u64(pe, &old, nu, memory_order_relaxed,
				     memory_order_relaxed))
			break;
		retries++;
	}
	r = dq__table_apply_as(t, mode, s, a,
			       (dq__op){DQ__OP_TD, e * e / eta_i, q_i, 0.0});
	return r < 0 ? r : r + retries;
}

#endif /* DQ_SHARE_H */
