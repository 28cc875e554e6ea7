/*
 * The rule layer: what an agent writes. A rule chooses the action
 * (epsilon-greedy, ties broken at random or by the lowest index, or
 * softmax) and turns each transition into typed writes (store.h):
 * Q-learning, SARSA, Expected SARSA, Double Q-learning, n-step Q and
 * n-step SARSA, Watkins's Q(lambda). Every rule bootstraps from s' on a
 * truncated transition (terminated false) and not on a terminated one. Included by agent.h, after
 * struct dq_agent.
 *
 * Every function here takes the rule, the discipline, `ovl` and the
 * policy (`soft`) as arguments the callers pass as constants (agent.h), so each
 * instantiation folds to one rule's straight-line code. A new rule: a
 * DQ_RULE_* value, its act and observe below, its case in the two
 * dispatchers and in dq__rule_writes(), and the learner's instance list
 * (DQ__FOR_EACH_RULE). Its bootstrap reads of s' go through
 * dq__rule_boot_*() (a target table then applies, lib/target.h); replay
 * and targets accept it once rule_off_policy() in lib/replay.c lists it.
 */
#ifndef DQ_RULE_H
#define DQ_RULE_H

/* The rules the learner instantiates its loop for: X(rule). */
#define DQ__FOR_EACH_RULE(X)      \
	X(DQ_RULE_Q)              \
	X(DQ_RULE_SARSA)          \
	X(DQ_RULE_EXPECTED_SARSA) \
	X(DQ_RULE_DOUBLE_Q)       \
	X(DQ_RULE_NSTEP_Q)        \
	X(DQ_RULE_NSTEP_SARSA)    \
	X(DQ_RULE_Q_LAMBDA)

/*
 * The most entries one step of `rule` writes: the overlay's buffers are
 * sized from it (store.h), and 0 means "not bounded", which no overlay
 * holds (such a rule runs with direct updates only).
 */
static inline uint32_t
dq__rule_writes(dq_rule rule, uint32_t nstep)
{
	switch (rule) {
	case DQ_RULE_DOUBLE_Q:
		return 2; /* two additions to row s (channels 0 and 1) */
	case DQ_RULE_NSTEP_Q:
	case DQ_RULE_NSTEP_SARSA:
		/* one per step, and up to n at a termination's flush; over a
		 * window of W steps at most W + n - 1 <= W n in all */
		return nstep;
	case DQ_RULE_Q_LAMBDA:
		return 0; /* one per active trace: up to trace_max */
	case DQ_RULE_Q:
	case DQ_RULE_SARSA:
	case DQ_RULE_EXPECTED_SARSA:
	default:
		return 1;
	}
}

/* The table channels `rule` needs (dq_table_config.channels). */
static inline uint32_t
dq__rule_channels(dq_rule rule)
{
	return rule == DQ_RULE_DOUBLE_Q ? 2 : 1;
}

/* Whether `rule` is one this library knows. */
static inline bool
dq__rule_valid(dq_rule rule)
{
	return rule == DQ_RULE_Q || rule == DQ_RULE_SARSA ||
	       rule == DQ_RULE_EXPECTED_SARSA || rule == DQ_RULE_DOUBLE_Q ||
	       rule == DQ_RULE_NSTEP_Q || rule == DQ_RULE_NSTEP_SARSA ||
	       rule == DQ_RULE_Q_LAMBDA;
}

/* dq_rng_uniform(), the same draw, always inlined: the compiler's
 * budget would otherwise call it once a loop holds many instances. */
DQ__INLINE double
dq__rule_uniform(dq_rng *rng)
{
	return (double)(dq_rng_next(rng) >> 11) *
	       (1.0 / 9007199254740992.0); /* 2^-53 */
}

/* The step size of an update of (s, a): the rate layer's (rate.h). */
DQ__INLINE double
dq__rule_alpha(dq_agent *ag, uint32_t s, uint32_t a, bool visits)
{
	if (visits)
		return DQ__UNLIKELY(ag->eta0 > 0.0)
			   ? dq__rate_eta_alpha(ag->table, s, a, ag->eta0,
						ag->eta_log_decay)
			   : dq__rate_visit_alpha(ag->table, s, a, ag->omega);
	return ag->alpha.value;
}

/*
 * Bootstrap reads of s': from ag->boot, the table (through the overlay
 * when one is in front) or a target table's current buffer (lib/target.h,
 * never through the overlay, which holds copies of live rows). Without a
 * target, boot is the table and these are the store's reads.
 */
DQ__INLINE uint32_t
dq__rule_boot_greedy_max(dq_agent *ag, uint32_t s2, double *max, bool ovl)
{
	const dq_table *b = ag->boot;

	return dq__store_greedy_max(b, &ag->replica, s2, ag->tie_rng, max,
				    ovl && b == ag->table);
}

/* Entry i of row s2 of `b` (ag->boot, read once by the caller). */
DQ__INLINE double
dq__rule_boot_get(const dq_agent *ag, const dq_table *b, uint32_t s2,
		  uint32_t i, bool ovl)
{
	return dq__store_get(b, &ag->replica, s2, i, ovl && b == ag->table);
}

/*
 * Epsilon-greedy choice on channel 0. The greedy action of the state the
 * last observe bootstrapped from was found then; it is reused when this is
 * that state (the row may have changed since by other agents' updates: a
 * few nanoseconds of staleness, which asynchronous learning already
 * allows).
 */
DQ__INLINE uint32_t
dq__rule_act_egreedy(dq_agent *ag, uint32_t s, bool ovl)
{
	double eps = ag->epsilon.value;
	bool cached = ag->next_state == s;

	ag->next_state = DQ__NO_STATE;
	if (eps > 0.0 && dq__rule_uniform(&ag->rng) < eps)
		return dq_rng_below(&ag->rng, ag->n_actions);
	if (cached)
		return ag->next_greedy;
	return dq__store_greedy_max(ag->table, &ag->replica, s, ag->tie_rng,
				    NULL, ovl);
}

/* Softmax keeps the weights of rows of at most this many actions on the
 * stack (one exp() per action instead of two). */
#define DQ__SOFT_KEEP 32

/* exp((q - max) / T) of entry b of row s: the softmax weight, up to the
 * normalisation (the shift by the max keeps it in (0, 1]). */
DQ__INLINE double
dq__rule_soft_w(dq_agent *ag, uint32_t s, uint32_t b, double max, double T,
		bool ovl)
{
	return exp((dq__store_get(ag->table, &ag->replica, s, b, ovl) - max) /
		   T);
}

/*
 * Softmax (Boltzmann) choice on channel 0 at the temperature
 * T = epsilon.value (Sutton & Barto, 2nd ed., section 13.1): a with
 * probability exp(Q(s,a)/T) / sum_b exp(Q(s,b)/T), one uniform draw
 * against the cumulative weights. T = 0 (or below what a double divides
 * by) is greedy, ties as random_ties says.
 */
DQ__INLINE uint32_t
dq__rule_act_softmax(dq_agent *ag, uint32_t s, bool ovl)
{
	const double T = ag->epsilon.value;
	const uint32_t n = ag->n_actions;
	double max, z = 0.0, u;
	uint32_t g;

	ag->next_state = DQ__NO_STATE;
	if (!(T > 0.0))
		return dq__store_greedy_max(ag->table, &ag->replica, s,
					    ag->tie_rng, NULL, ovl);
	g = dq__store_greedy_max(ag->table, &ag->replica, s, NULL, &max, ovl);
	if (n <= DQ__SOFT_KEEP) { /* the weights kept: one exp() each */
		double w[DQ__SOFT_KEEP];

		for (uint32_t b = 0; b < n; b++)
			z += w[b] = dq__rule_soft_w(ag, s, b, max, T, ovl);
		u = dq__rule_uniform(&ag->rng) * z;
		for (uint32_t b = 0; b < n; b++) {
			u -= w[b];
			if (u < 0.0)
				return b;
		}
		return g; /* rounding left u >= 0: the most probable one */
	}
	for (uint32_t b = 0; b < n; b++)
		z += dq__rule_soft_w(ag, s, b, max, T, ovl);
	u = dq__rule_uniform(&ag->rng) * z;
	for (uint32_t b = 0; b < n; b++) {
		u -= dq__rule_soft_w(ag, s, b, max, T, ovl);
		if (u < 0.0)
			return b;
	}
	return g; /* rounding left u >= 0: the most probable action */
}

/* The agent's policy, epsilon-greedy or softmax (`soft`, a constant). */
DQ__INLINE uint32_t
dq__rule_policy(dq_agent *ag, uint32_t s, bool ovl, bool soft)
{
	if (soft)
		return dq__rule_act_softmax(ag, s, ovl);
	return dq__rule_act_egreedy(ag, s, ovl);
}

/*
 * Q-learning: one TD step of Q(s,a) towards r + gamma max Q(s',.), no
 * bootstrap on termination. The scan of row s' yields both max Q(s',.)
 * and the greedy action the next act in s' will want; the latter is kept
 * unless the update changes row s' itself (s' == s).
 */
DQ__INLINE int
dq__rule_observe_q(dq_agent *ag, uint32_t s, uint32_t a, double r, uint32_t s2,
		   bool terminated, dq_mode mode, bool ovl, bool visits)
{
	const double alpha = dq__rule_alpha(ag, s, a, visits);
	double target = r, max;

	if (!terminated) {
		ag->next_greedy = dq__rule_boot_greedy_max(ag, s2, &max, ovl);
		ag->next_state = s2 != s ? s2 : DQ__NO_STATE;
		target += ag->gamma * max;
	}
	return dq__store_write(ag->table, &ag->replica, mode, ovl, s, a,
			       (dq__op){DQ__OP_TD, alpha, target, 0.0});
}

/*
 * SARSA's act: the action its last observe chose in s' when this is s'
 * (on-policy: the update bootstrapped from it), else a fresh
 * epsilon-greedy choice.
 */
DQ__INLINE uint32_t
dq__rule_act_sarsa(dq_agent *ag, uint32_t s, bool ovl, bool soft)
{
	if (ag->next_state == s) {
		ag->next_state = DQ__NO_STATE;
		return ag->next_greedy;
	}
	return dq__rule_policy(ag, s, ovl, soft);
}

/*
 * SARSA: one TD step of Q(s,a) towards r + gamma Q(s',a'), a' chosen now
 * by the epsilon-greedy policy (and taken by the next act in s'). No
 * bootstrap, and no a', on termination.
 */
DQ__INLINE int
dq__rule_observe_sarsa(dq_agent *ag, uint32_t s, uint32_t a, double r,
		       uint32_t s2, bool terminated, dq_mode mode, bool ovl,
		       bool visits, bool soft)
{
	const double alpha = dq__rule_alpha(ag, s, a, visits);
	double target = r;
	int ret;

	if (!terminated) {
		uint32_t a2 = dq__rule_policy(ag, s2, ovl, soft);

		target += ag->gamma *
			  dq__store_get(ag->table, &ag->replica, s2, a2, ovl);
		ret = dq__store_write(ag->table, &ag->replica, mode, ovl, s, a,
				      (dq__op){DQ__OP_TD, alpha, target, 0.0});
		if (ret >= 0) {
			ag->next_state = s2;
			ag->next_greedy = a2;
		}
		return ret;
	}
	return dq__store_write(ag->table, &ag->replica, mode, ovl, s, a,
			       (dq__op){DQ__OP_TD, alpha, target, 0.0});
}

/*
 * Expected SARSA: one TD step towards r + gamma E[Q(s',A')], A' drawn from
 * the current epsilon-greedy policy: (1 - eps) max Q(s',.) + eps
 * mean Q(s',.) (ties share the greedy mass, which leaves it the max); or
 * from the softmax policy (`soft`): sum_b p(b) Q(s',b), p as
 * dq__rule_act_softmax() draws (the max at T = 0). As Q-learning, the
 * scan of s' also finds the next act's greedy action.
 */
DQ__INLINE int
dq__rule_observe_esarsa(dq_agent *ag, uint32_t s, uint32_t a, double r,
			uint32_t s2, bool terminated, dq_mode mode, bool ovl,
			bool visits, bool soft)
{
	const double alpha = dq__rule_alpha(ag, s, a, visits);
	double target = r, max, sum = 0.0;
	const double eps = ag->epsilon.value;

	if (!terminated && soft) {
		/* The policy's weights from the live table, the values from
		 * the bootstrap table (the same table without a target) */
		const dq_table *bt = ag->boot;
		double z = 0.0, pmax;

		(void)dq__store_greedy_max(ag->table, &ag->replica, s2, NULL,
					   &pmax, ovl);
		if (eps > 0.0) {
			for (uint32_t b = 0; b < ag->n_actions; b++) {
				double w =
				    dq__rule_soft_w(ag, s2, b, pmax, eps, ovl);

				z += w;
				sum +=
				    w * dq__rule_boot_get(ag, bt, s2, b, ovl);
			}
			max = sum / z;
		} else {
			(void)dq__store_greedy_max(bt, &ag->replica, s2, NULL,
						   &max,
						   ovl && bt == ag->table);
		}
		target += ag->gamma * max;
	} else if (!terminated) {
		const dq_table *bt = ag->boot;

		ag->next_greedy = dq__rule_boot_greedy_max(ag, s2, &max, ovl);
		ag->next_state = s2 != s ? s2 : DQ__NO_STATE;
		for (uint32_t b = 0; b < ag->n_actions; b++)
			sum += dq__rule_boot_get(ag, bt, s2, b, ovl);
		target += ag->gamma *
			  ((1.0 - eps) * max + eps * (sum / ag->n_actions));
	}
	return dq__store_write(ag->table, &ag->replica, mode, ovl, s, a,
			       (dq__op){DQ__OP_TD, alpha, target, 0.0});
}

/*
 * Double Q-learning (van Hasselt 2010). The table holds M = (QA + QB) / 2
 * in channel 0 and D = (QA - QB) / 2 in channel 1, so QA = M + D and
 * QB = M - D; the agent acts epsilon-greedily on M (act_egreedy), i.e. on
 * QA + QB. A coin picks the estimate X to update (sign +1: QA, -1: QB);
 * its step delta = alpha (r + gamma Y(s', argmax X(s',.)) - X(s,a)), Y the
 * other, lands as two additions: M += delta / 2, D += sign delta / 2
 * (typed DQ__OP_ADD writes: in cas mode neither is lost to a race).
 * Returns the retries of both, or the first error (DQ_ENONFINITE for a
 * step that is not finite: nothing written).
 */
DQ__INLINE int
dq__rule_observe_double_q(dq_agent *ag, uint32_t s, uint32_t a, double r,
			  uint32_t s2, bool terminated, dq_mode mode, bool ovl,
			  bool visits)
{
	const double alpha = dq__rule_alpha(ag, s, a, visits);
	const dq_table *t = ag->table;
	const dq__overlay *ov = &ag->replica;
	const dq_table *bt = ag->boot; /* bootstrap reads (s') */
	const uint32_t n = ag->n_actions;
	const double sign = (dq_rng_next(&ag->rng) >> 63) ? 1.0 : -1.0;
	double target = r, delta;
	int r1, r2;

	if (!terminated) {
		double best = 0.0;
		uint32_t arg = 0, ties = 0;

		for (uint32_t b = 0; b < n; b++) {
			double x =
			    dq__rule_boot_get(ag, bt, s2, b, ovl) +
			    sign * dq__rule_boot_get(ag, bt, s2, n + b, ovl);

			if (ties && x < best)
				continue;
			if (!ties || x > best) {
				best = x;
				arg = b;
				ties = 1;
			} else if (ag->tie_rng &&
				   dq__rng_one_in(ag->tie_rng, ++ties)) {
				arg = b;
			}
		}
		target += ag->gamma *
			  (dq__rule_boot_get(ag, bt, s2, arg, ovl) -
			   sign * dq__rule_boot_get(ag, bt, s2, n + arg, ovl));
	}
	delta = alpha * (target - (dq__store_get(t, ov, s, a, ovl) +
				   sign * dq__store_get(t, ov, s, n + a, ovl)));
	if (DQ__UNLIKELY(!isfinite(delta)))
		return DQ_ENONFINITE;
	r1 = dq__store_write(ag->table, &ag->replica, mode, ovl, s, a,
			     (dq__op){DQ__OP_ADD, 0.5 * delta, 0.0, 0.0});
	if (DQ__UNLIKELY(r1 < 0))
		return r1;
	r2 =
	    dq__store_write(ag->table, &ag->replica, mode, ovl, s, n + a,
			    (dq__op){DQ__OP_ADD, sign * 0.5 * delta, 0.0, 0.0});
	if (DQ__UNLIKELY(r2 < 0))
		return r2;
	return r1 + r2;
}

/*
 * The return of the oldest pending transition through the newest one,
 * r_t + gamma r_{t+1} + ... + gamma^(m-1) r_{t+m-1} + gamma^m boot (m
 * pending; boot 0 after a termination), summed from the newest back: the
 * n-step rules' target, tabular and over tiles (tilerule.h).
 */
DQ__INLINE double
dq__nstep_return(const dq_agent *ag, double boot)
{
	const uint32_t cap = ag->pend_cap, h = ag->pend_head;
	double g = boot;

	for (uint32_t j = ag->pend_n; j-- > 0;) {
		uint32_t i = h + j;

		g = ag->pend[i >= cap ? i - cap : i].x + ag->gamma * g;
	}
	return g;
}

/* The oldest pending transition, written, leaves the ring. */
DQ__INLINE void
dq__nstep_drop(dq_agent *ag)
{
	ag->pend_head =
	    ag->pend_head + 1 == ag->pend_cap ? 0 : ag->pend_head + 1;
	ag->pend_n--;
}

/*
 * The n-step rules' write of the oldest pending transition (s_t, a_t):
 * one TD step towards its return (dq__nstep_return()). Popped when
 * written; kept (nothing written) on an error.
 */
DQ__INLINE int
dq__rule_nstep_pop(dq_agent *ag, double boot, dq_mode mode, bool ovl,
		   bool visits)
{
	const dq__sax p = ag->pend[ag->pend_head];
	const double g = dq__nstep_return(ag, boot);
	int ret;

	ret = dq__store_write(
	    ag->table, &ag->replica, mode, ovl, p.s, p.a,
	    (dq__op){DQ__OP_TD, dq__rule_alpha(ag, p.s, p.a, visits), g, 0.0});
	if (DQ__LIKELY(ret >= 0))
		dq__nstep_drop(ag);
	return ret;
}

/*
 * The n-step rules at an episode's end: every pending transition is
 * written, oldest first, with its shorter return; after a truncation
 * (`boot`) bootstrapping from the last s' (max Q(s_T,.), or Q(s_T, a_T)
 * for n-step SARSA), read afresh before each write; after a termination
 * not at all. Returns the CAS retries, or the first error (the writes
 * before it stay, the rest are dropped).
 */
DQ__INLINE int
dq__rule_nstep_flush(dq_agent *ag, bool boot, bool sarsa, dq_mode mode,
		     bool ovl, bool visits)
{
	int ret = 0;

	while (ag->pend_n) {
		double b = 0.0;
		int r;

		if (boot && sarsa)
			b = dq__store_get(ag->table, &ag->replica, ag->last_s2,
					  ag->last_a2, ovl);
		else if (boot)
			(void)dq__store_greedy_max(ag->table, &ag->replica,
						   ag->last_s2, NULL, &b, ovl);
		r = dq__rule_nstep_pop(ag, b, mode, ovl, visits);
		if (DQ__UNLIKELY(r < 0)) {
			ag->pend_n = 0;
			return r;
		}
		ret += r;
	}
	return ret;
}

/*
 * n-step Q (Mnih et al. 2016; `sarsa` false) and n-step SARSA (Sutton &
 * Barto, 2nd ed., section 7.2; `sarsa` true): the transition joins the
 * ring of pending ones; once n are pending the oldest is written
 * (dq__rule_nstep_pop()) bootstrapping from max Q(s',.) or from Q(s',a'),
 * a' the policy's next action in s' (taken by the next act there, as
 * SARSA). A termination writes all pending ones without bootstrap; a
 * truncation's are written by the episode's end (dq__agent_flush()).
 * With n = 1 these are Q-learning and SARSA, draw for draw.
 */
DQ__INLINE int
dq__rule_observe_nstep(dq_agent *ag, uint32_t s, uint32_t a, double r,
		       uint32_t s2, bool terminated, dq_mode mode, bool ovl,
		       bool visits, bool soft, bool sarsa)
{
	const uint32_t cap = ag->pend_cap;
	uint32_t i = ag->pend_head + ag->pend_n, a2 = 0;
	double boot;
	int ret;

	ag->pend[i >= cap ? i - cap : i] = (dq__sax){s, a, r};
	ag->pend_n++;
	if (terminated)
		return dq__rule_nstep_flush(ag, false, sarsa, mode, ovl,
					    visits);
	if (sarsa) {
		a2 = dq__rule_policy(ag, s2, ovl, soft);
		boot = dq__store_get(ag->table, &ag->replica, s2, a2, ovl);
	} else {
		a2 = dq__store_greedy_max(ag->table, &ag->replica, s2,
					  ag->tie_rng, &boot, ovl);
	}
	ag->last_s2 = s2;
	ag->last_a2 = a2;
	if (ag->pend_n < ag->nstep) {
		ret = 0;
	} else {
		const uint32_t w = ag->pend[ag->pend_head].s;

		ret = dq__rule_nstep_pop(ag, boot, mode, ovl, visits);
		if (DQ__UNLIKELY(ret < 0)) {
			ag->pend_n--; /* this transition was not observed */
			return ret;
		}
		/* Q's cached greedy action of s' is stale if row s' was
		 * written; SARSA's a' is taken regardless (on-policy). */
		if (!sarsa && w == s2) {
			ag->next_state = DQ__NO_STATE;
			return ret;
		}
	}
	ag->next_state = s2;
	ag->next_greedy = a2;
	return ret;
}

/*
 * Watkins's Q(lambda) (Watkins 1989; Sutton & Barto, 2nd ed., section
 * 12.10): a' is chosen in s' by the policy now (the next act there takes
 * it, as SARSA); delta = r + gamma max Q(s',.) - Q(s,a) (r - Q(s,a) on
 * termination); e(s,a) += 1 (accumulating) or = 1 (replacing); every
 * traced entry gets alpha delta e as an addition (a typed store op: in
 * cas mode none is lost); then all traces are cut when a' is not greedy
 * (Q(s',a') < max: exploratory) or the transition terminated, else they
 * decay by gamma lambda and those below DQ_TRACE_MIN are dropped. At most
 * trace_max are kept: a new one replaces the smallest. Returns the CAS
 * retries, or the first error (the writes before it stay, the traces are
 * cleared).
 */
DQ__INLINE int
dq__rule_observe_qlambda(dq_agent *ag, uint32_t s, uint32_t a, double r,
			 uint32_t s2, bool terminated, dq_mode mode, bool ovl,
			 bool soft)
{
	const double alpha = ag->alpha.value;
	dq__sax *e = ag->pend;
	uint32_t n = ag->pend_n, i, k = 0;
	double delta = r;
	bool cut = terminated;
	int ret = 0;

	if (!terminated) {
		const uint32_t a2 = dq__rule_policy(ag, s2, ovl, soft);
		double max;

		(void)dq__store_greedy_max(ag->table, &ag->replica, s2, NULL,
					   &max, ovl);
		cut = dq__store_get(ag->table, &ag->replica, s2, a2, ovl) < max;
		delta += ag->gamma * max;
		ag->next_state = s2;
		ag->next_greedy = a2;
	}
	delta -= dq__store_get(ag->table, &ag->replica, s, a, ovl);
	for (i = 0; i < n; i++)
		if (e[i].s == s && e[i].a == a)
			break;
	if (i < n) {
		e[i].x = ag->replacing ? 1.0 : e[i].x + 1.0;
	} else if (n < ag->pend_cap) {
		e[n] = (dq__sax){s, a, 1.0};
		ag->pend_n = ++n;
	} else {
		for (i = 1; i < n; i++) /* full: the smallest gives way */
			if (fabs(e[i].x) < fabs(e[k].x))
				k = i;
		e[k] = (dq__sax){s, a, 1.0};
	}
	for (i = 0; i < n; i++) {
		int w = dq__store_write(
		    ag->table, &ag->replica, mode, ovl, e[i].s, e[i].a,
		    (dq__op){DQ__OP_ADD, alpha * delta * e[i].x, 0.0, 0.0});

		if (DQ__UNLIKELY(w < 0)) {
			ag->pend_n = 0;
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

DQ__INLINE uint32_t
dq__rule_act(dq_agent *ag, uint32_t s, dq_rule rule, bool ovl, bool soft)
{
	switch (rule) {
	case DQ_RULE_SARSA:
	case DQ_RULE_NSTEP_SARSA:
	case DQ_RULE_Q_LAMBDA:
		return dq__rule_act_sarsa(ag, s, ovl, soft);
	case DQ_RULE_Q:
	case DQ_RULE_EXPECTED_SARSA:
	case DQ_RULE_DOUBLE_Q:
	case DQ_RULE_NSTEP_Q:
	default:
		return dq__rule_policy(ag, s, ovl, soft);
	}
}

/* The rule's writes for one transition: the CAS retries (>= 0), or a
 * negative error (nothing written, except as the multi-write rules say). */
DQ__INLINE int
dq__rule_observe(dq_agent *ag, uint32_t s, uint32_t a, double r, uint32_t s2,
		 bool terminated, dq_rule rule, dq_mode mode, bool ovl,
		 bool visits, bool soft)
{
	switch (rule) {
	case DQ_RULE_SARSA:
		return dq__rule_observe_sarsa(ag, s, a, r, s2, terminated, mode,
					      ovl, visits, soft);
	case DQ_RULE_EXPECTED_SARSA:
		return dq__rule_observe_esarsa(ag, s, a, r, s2, terminated,
					       mode, ovl, visits, soft);
	case DQ_RULE_DOUBLE_Q:
		return dq__rule_observe_double_q(ag, s, a, r, s2, terminated,
						 mode, ovl, visits);
	case DQ_RULE_NSTEP_Q:
		return dq__rule_observe_nstep(ag, s, a, r, s2, terminated, mode,
					      ovl, visits, soft, false);
	case DQ_RULE_NSTEP_SARSA:
		return dq__rule_observe_nstep(ag, s, a, r, s2, terminated, mode,
					      ovl, visits, soft, true);
	case DQ_RULE_Q_LAMBDA:
		return dq__rule_observe_qlambda(ag, s, a, r, s2, terminated,
						mode, ovl, soft);
	case DQ_RULE_Q:
	default:
		return dq__rule_observe_q(ag, s, a, r, s2, terminated, mode,
					  ovl, visits);
	}
}

#endif /* DQ_RULE_H */
