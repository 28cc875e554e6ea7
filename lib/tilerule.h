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
 *
 * The rules beyond one step over tiles: n-step semi-gradient Q and SARSA
 * (Sutton & Barto, 2nd ed., section 10.2, the n-step return of 7.1-7.2),
 * whose pending transitions keep their s's tiles (dq__tagent.pf), and
 * Watkins's Q(lambda) with traces over features (sections 12.7 and
 * 12.10: z <- gamma lambda z + grad Q(s, a), grad the indicator of s's
 * tiles in column a), traces kept sparse per (tile, action) in ag->pend
 * (s: the tile). With one tiling whose tiles are the states, each is the
 * tabular rule of rule.h, draw for draw (tests/test_tilerules.c).
 */
#ifndef DQ_TILERULE_H
#define DQ_TILERULE_H

/* The rules a tile-coded agent takes. */
#define DQ__FOR_EACH_TILE_RULE(X) \
	X(DQ_RULE_Q)              \
	X(DQ_RULE_SARSA)          \
	X(DQ_RULE_EXPECTED_SARSA) \
	X(DQ_RULE_NSTEP_Q)        \
	X(DQ_RULE_NSTEP_SARSA)    \
	X(DQ_RULE_Q_LAMBDA)

static inline bool
dq__tile_rule_valid(dq_rule rule)
{
	return rule == DQ_RULE_Q || rule == DQ_RULE_SARSA ||
	       rule == DQ_RULE_EXPECTED_SARSA || rule == DQ_RULE_NSTEP_Q ||
	       rule == DQ_RULE_NSTEP_SARSA || rule == DQ_RULE_Q_LAMBDA;
}

/* The rules whose next act takes the action their observe chose in s'
 * (on-policy bootstraps, and Q(lambda)'s trace cut). */
static inline bool
dq__tile_rule_takes_next(dq_rule rule)
{
	return rule == DQ_RULE_SARSA || rule == DQ_RULE_NSTEP_SARSA ||
	       rule == DQ_RULE_Q_LAMBDA;
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
	if (dq__tile_rule_takes_next(rule) && cached)
		return tg->next_a;
	if (eps > 0.0 && dq_rng_uniform(&ag->rng) < eps)
		return dq_rng_below(&ag->rng, ag->n_actions);
	if (cached)
		return tg->next_a;
	dq__tiles_q(ag->table, f, tg->T, tg->q);
	return dq__tiles_greedy(tg->q, ag->n_actions, ag->tie_rng, NULL);
}

/*
 * One transition's writes: T additions of alpha / T times the TD error
 * (for q and expected-sarsa bootstrapping from ag->boot: a target table
 * when one is on; a fresh or a replayed transition, lib/tilereplay.c).
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

		/* s' from the bootstrap table: the table, or a target table's
		 * current buffer (lib/tilereplay.c) */
		dq__tiles_q(ag->boot, f2, T, tg->q);
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

/* The epsilon-greedy action in the state whose values are tg->q: the
 * draws of dq__rule_act_egreedy() (no cached action). */
DQ__INLINE uint32_t
dq__tiles_policy_q(dq_agent *ag)
{
	const double eps = ag->epsilon.value;

	if (eps > 0.0 && dq_rng_uniform(&ag->rng) < eps)
		return dq_rng_below(&ag->rng, ag->n_actions);
	return dq__tiles_greedy(ag->tg->q, ag->n_actions, ag->tie_rng, NULL);
}

/*
 * The n-step rules' write of the oldest pending transition (tiles f_t,
 * a_t): alpha / T times (G - Q(s_t, a_t)) added to each of its T tiles,
 * G = r_t + gamma r_{t+1} + ... + gamma^(m-1) r_{t+m-1} + gamma^m boot
 * (m pending): dq__nstep_return().
 * Popped when written; kept on an error (DQ_ENONFINITE: nothing written
 * for an error that is not finite, the earlier tiles for a weight made
 * non-finite).
 */
DQ__INLINE int
dq__tiles_nstep_pop(dq_agent *ag, double boot, dq_mode mode)
{
	dq__tagent *tg = ag->tg;
	const uint32_t T = tg->T, h = ag->pend_head;
	const uint32_t *f = tg->pf + (size_t)h * T, a = ag->pend[h].a;
	const double g = dq__nstep_return(ag, boot);
	double step;
	int retries = 0;

	step = ag->alpha.value / T * (g - dq__tiles_q1(ag->table, f, T, a));
	if (DQ__UNLIKELY(!isfinite(step)))
		return DQ_ENONFINITE;
	for (uint32_t k = 0; k < T; k++) {
		int ret = dq__table_apply_as(ag->table, mode, f[k], a,
					     (dq__op){DQ__OP_ADD, step, 0, 0});

		if (DQ__UNLIKELY(ret < 0))
			return ret;
		retries += ret;
	}
	dq__nstep_drop(ag);
	return retries;
}

/*
 * The n-step rules over tiles at an episode's end (dq__rule_nstep_flush()
 * over tiles): every pending transition written, oldest first; after a
 * truncation (`boot`) bootstrapping from the last s' (tg->lf: max Q, or
 * Q(s', a') for n-step SARSA), read afresh before each write; after a
 * termination not at all. Returns the CAS retries, or the first error
 * (the rest are dropped).
 */
DQ__INLINE int
dq__tiles_nstep_flush(dq_agent *ag, bool boot, bool sarsa, dq_mode mode)
{
	dq__tagent *tg = ag->tg;
	int ret = 0;

	while (ag->pend_n) {
		double b = 0.0;
		int r;

		if (boot && sarsa) {
			b = dq__tiles_q1(ag->table, tg->lf, tg->T, ag->last_a2);
		} else if (boot) {
			dq__tiles_q(ag->table, tg->lf, tg->T, tg->q);
			(void)dq__tiles_greedy(tg->q, ag->n_actions, NULL, &b);
		}
		r = dq__tiles_nstep_pop(ag, b, mode);
		if (DQ__UNLIKELY(r < 0)) {
			ag->pend_n = 0;
			return r;
		}
		ret += r;
	}
	return ret;
}

/*
 * n-step semi-gradient Q (`sarsa` false) and SARSA (Sutton & Barto, 2nd
 * ed., section 10.2) over tiles: dq__rule_observe_nstep() with s's tiles
 * stored beside the pending transition. Q's cached greedy action in s' is
 * dropped when the written transition shares a tile with s' (tiling k's
 * tile k: the tabular rule's "row s' written").
 */
DQ__INLINE int
dq__tiles_observe_nstep(dq_agent *ag, const uint32_t *f, uint32_t a, double r,
			const uint32_t *f2, bool terminated, bool sarsa,
			dq_mode mode)
{
	dq__tagent *tg = ag->tg;
	const uint32_t T = tg->T, cap = ag->pend_cap;
	uint32_t i = ag->pend_head + ag->pend_n, a2;
	bool stale = false;
	double boot;
	int ret = 0;

	if (i >= cap)
		i -= cap;
	ag->pend[i] = (dq__sax){0, a, r};
	memcpy(tg->pf + (size_t)i * T, f, T * sizeof(*f));
	ag->pend_n++;
	tg->next_valid = false;
	if (terminated)
		return dq__tiles_nstep_flush(ag, false, sarsa, mode);
	dq__tiles_q(ag->table, f2, T, tg->q);
	if (sarsa) {
		a2 = dq__tiles_policy_q(ag);
		boot = tg->q[a2];
	} else {
		a2 = dq__tiles_greedy(tg->q, ag->n_actions, ag->tie_rng, &boot);
	}
	memcpy(tg->lf, f2, T * sizeof(*f2));
	ag->last_a2 = a2;
	if (ag->pend_n >= ag->nstep) {
		const uint32_t *w = tg->pf + (size_t)ag->pend_head * T;

		for (uint32_t k = 0; k < T && !sarsa; k++)
			stale |= w[k] == f2[k];
		ret = dq__tiles_nstep_pop(ag, boot, mode);
		if (DQ__UNLIKELY(ret < 0)) {
			ag->pend_n--; /* this transition was not observed */
			return ret;
		}
	}
	tg->next_a = a2;
	tg->next_valid = !stale;
	return ret;
}

/*
 * Watkins's Q(lambda) over tiles (Sutton & Barto, 2nd ed., sections 12.7
 * and 12.10; dq__rule_observe_qlambda() over features): a' chosen in s'
 * now (the next act takes it); delta = r + gamma max Q(s',.) - Q(s,a)
 * (r - Q(s,a) on termination); for each of s's T tiles f_k the trace
 * e(f_k, a) += 1 (accumulating) or = 1 (replacing: binary features);
 * every traced weight gets alpha / T x delta x e as an addition (typed:
 * in cas mode none is lost); then the traces are cut when a' is not
 * greedy or the transition terminated, else decay by gamma lambda, those
 * below DQ_TRACE_MIN dropped. At most trace_max kept: a new one replaces
 * the smallest. Returns the CAS retries, or the first error (the writes
 * before it stay, the traces are cleared).
 */
DQ__INLINE int
dq__tiles_observe_qlambda(dq_agent *ag, const uint32_t *f, uint32_t a, double r,
			  const uint32_t *f2, bool terminated, dq_mode mode)
{
	dq__tagent *tg = ag->tg;
	const uint32_t T = tg->T;
	const double step = ag->alpha.value / T;
	dq__sax *e = ag->pend;
	uint32_t n = ag->pend_n, i, k;
	double delta = r;
	bool cut = terminated;
	int ret = 0;

	tg->next_valid = false;
	if (!terminated) {
		double max;
		uint32_t a2;

		dq__tiles_q(ag->table, f2, T, tg->q);
		a2 = dq__tiles_policy_q(ag);
		(void)dq__tiles_greedy(tg->q, ag->n_actions, NULL, &max);
		cut = tg->q[a2] < max;
		delta += ag->gamma * max;
		tg->next_a = a2;
		tg->next_valid = true;
	}
	delta -= dq__tiles_q1(ag->table, f, T, a);
	for (uint32_t t = 0; t < T; t++) {
		for (i = 0; i < n; i++)
			if (e[i].s == f[t] && e[i].a == a)
				break;
		if (i < n) {
			e[i].x = ag->replacing ? 1.0 : e[i].x + 1.0;
		} else if (n < ag->pend_cap) {
			e[n++] = (dq__sax){f[t], a, 1.0};
		} else {
			k = 0;
			for (i = 1; i < n; i++) /* full: the smallest goes */
				if (fabs(e[i].x) < fabs(e[k].x))
					k = i;
			e[k] = (dq__sax){f[t], a, 1.0};
		}
	}
	ag->pend_n = n;
	for (i = 0; i < n; i++) {
		int w = dq__table_apply_as(
		    ag->table, mode, e[i].s, e[i].a,
		    (dq__op){DQ__OP_ADD, step * delta * e[i].x, 0, 0});

		if (DQ__UNLIKELY(w < 0)) {
			ag->pend_n = 0;
			tg->next_valid = false;
			return w;
		}
		ret += w;
	}
	if (cut) {
		ag->pend_n = 0;
		return ret;
	}
	for (i = 0, k = 0; i < n; i++) {
		e[i].x *= ag->gl;
		if (fabs(e[i].x) >= DQ_TRACE_MIN)
			e[k++] = e[i];
	}
	ag->pend_n = k;
	return ret;
}

/* The bookkeeping of dq__agent_observe() after a tile-coded step. */
DQ__INLINE int
dq__agent_observe_tiles(dq_agent *ag, const uint32_t *f, uint32_t a, double r,
			const uint32_t *f2, bool terminated, dq_rule rule,
			dq_mode mode)
{
	int retries;

	switch (rule) {
	case DQ_RULE_NSTEP_Q:
	case DQ_RULE_NSTEP_SARSA:
		retries =
		    dq__tiles_observe_nstep(ag, f, a, r, f2, terminated,
					    rule == DQ_RULE_NSTEP_SARSA, mode);
		break;
	case DQ_RULE_Q_LAMBDA:
		retries = dq__tiles_observe_qlambda(ag, f, a, r, f2, terminated,
						    mode);
		break;
	default:
		retries =
		    dq__tiles_observe(ag, f, a, r, f2, terminated, rule, mode);
		break;
	}

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
