/*
 * The rules over tiles (lib/tiles.h): act and observe of q, sarsa and
 * expected-sarsa when a state is its active tiles. Included by agent.h
 * after rule.h. As there, the rule and the discipline are arguments the
 * callers pass as constants, so each instance folds to one rule's code.
 *
 * Semi-gradient one-step TD with linear features (Sutton & Barto, 2nd
 * ed., section 10.1 for SARSA; Q-learning and Expected SARSA differ only
 * in the target): w[f_k][a] += alpha / T (target - Q(s, a)) for each of
 * s's T active tiles f_k. Termination cuts the bootstrap, truncation does
 * not.
 */
#ifndef DQ_TILERULE_H
#define DQ_TILERULE_H

/* The rules a tile-coded agent takes. */
#define DQ__FOR_EACH_TILE_RULE(X) \
	X(DQ_RULE_Q)              \
	X(DQ_RULE_SARSA)          \
	X(DQ_RULE_EXPECTED_SARSA)

static inline bool
dq__tile_rule_valid(dq_rule rule)
{
	return rule == DQ_RULE_Q || rule == DQ_RULE_SARSA ||
	       rule == DQ_RULE_EXPECTED_SARSA;
}

/* Greedy action of q[A] and its value: random ties through rng, else the
 * lowest index (dq__row_greedy_max()). */
DQ__INLINE uint32_t
dq__tiles_greedy(const double *q, uint32_t A, dq_rng *rng, double *max)
{
	return dq__row_greedy_max(q, A, rng, max);
}

/*
 * Epsilon-greedy (or, for sarsa, the action its last observe chose) in the
 * state whose tiles are f. `cached`: f is the s' of the last observe, whose
 * next_a then stands (learner: always so after a non-terminal step).
 */
DQ__INLINE uint32_t
dq__tiles_act(dq_agent *ag, const uint32_t *f, bool cached, dq_rule rule)
{
	dq__tagent *tg = ag->tg;
	const double eps = ag->epsilon.value;

	cached = cached && tg->next_valid;
	tg->next_valid = false;
	if (rule == DQ_RULE_SARSA && cached)
		return tg->next_a;
	if (eps > 0.0 && dq_rng_uniform(&ag->rng) < eps)
		return dq_rng_below(&ag->rng, ag->n_actions);
	if (cached)
		return tg->next_a;
	dq__tiles_q(ag->table, f, tg->T, tg->q);
	return dq__tiles_greedy(tg->q, ag->n_actions, ag->tie_rng, NULL);
}

/*
 * One transition's writes: T additions of alpha / T times the TD error.
 * Returns the CAS retries (>= 0), or a negative error: DQ_ENONFINITE for
 * an error that is not finite (nothing written) or for a weight it would
 * make non-finite (the earlier tiles written).
 */
DQ__INLINE int
dq__tiles_observe(dq_agent *ag, const uint32_t *f, uint32_t a, double r,
		  const uint32_t *f2, bool terminated, dq_rule rule,
		  dq_mode mode)
{
	dq__tagent *tg = ag->tg;
	const uint32_t T = tg->T, A = ag->n_actions;
	double target = r, step;
	int retries = 0;

	tg->next_valid = false;
	if (!terminated) {
		double max, eps = ag->epsilon.value;
		uint32_t a2;

		dq__tiles_q(ag->table, f2, T, tg->q);
		switch (rule) {
		case DQ_RULE_SARSA:
			/* a' is chosen now and taken by the next act */
			if (eps > 0.0 && dq_rng_uniform(&ag->rng) < eps)
				a2 = dq_rng_below(&ag->rng, A);
			else
				a2 = dq__tiles_greedy(tg->q, A, ag->tie_rng,
						      NULL);
			target += ag->gamma * tg->q[a2];
			break;
		case DQ_RULE_EXPECTED_SARSA: {
			double sum = 0.0;

			a2 = dq__tiles_greedy(tg->q, A, ag->tie_rng, &max);
			for (uint32_t b = 0; b < A; b++)
				sum += tg->q[b];
			target +=
			    ag->gamma * ((1.0 - eps) * max + eps * (sum / A));
			break;
		}
		case DQ_RULE_Q:
		default:
			a2 = dq__tiles_greedy(tg->q, A, ag->tie_rng, &max);
			target += ag->gamma * max;
			break;
		}
		tg->next_a = a2;
		tg->next_valid = true;
	}
	step =
	    ag->alpha.value / T * (target - dq__tiles_q1(ag->table, f, T, a));
	if (DQ__UNLIKELY(!isfinite(step)))
		return DQ_ENONFINITE;
	for (uint32_t k = 0; k < T; k++) {
		int ret = dq__table_apply_as(ag->table, mode, f[k], a,
					     (dq__op){DQ__OP_ADD, step, 0, 0});

		if (DQ__UNLIKELY(ret < 0))
			return ret;
		retries += ret;
	}
	return retries;
}

/* The bookkeeping of dq__agent_observe() after a tile-coded step. */
DQ__INLINE int
dq__agent_observe_tiles(dq_agent *ag, const uint32_t *f, uint32_t a, double r,
			const uint32_t *f2, bool terminated, dq_rule rule,
			dq_mode mode)
{
	int retries =
	    dq__tiles_observe(ag, f, a, r, f2, terminated, rule, mode);

	if (DQ__UNLIKELY(retries < 0))
		return retries;
	ag->retries += (uint64_t)retries;
	ag->steps++;
	ag->ep_return += r;
	if (ag->scheduled) {
		dq__sched_step(&ag->alpha);
		dq__sched_step(&ag->epsilon);
	}
	return 0;
}

#endif /* DQ_TILERULE_H */
