/*
 * The rule layer: what an agent writes. A rule chooses the action
 * (epsilon-greedy, ties broken at random or by the lowest index) and turns
 * each transition into typed writes (store.h): Q-learning, SARSA,
 * Expected SARSA, Double Q-learning. Every rule bootstraps from s' on a
 * truncated transition (terminated false) and not on a terminated one. Included by agent.h, after
 * struct dq_agent.
 *
 * Every function here takes the rule, the discipline and `ovl` as
 * arguments the callers pass as constants (see agent.h), so each
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
	X(DQ_RULE_DOUBLE_Q)

/*
 * The most entries one step of `rule` writes: the overlay's buffers are
 * sized from it (store.h), and 0 means "not bounded", which no overlay
 * holds (such a rule runs with direct updates only).
 */
static inline uint32_t
dq__rule_writes(dq_rule rule)
{
	switch (rule) {
	case DQ_RULE_DOUBLE_Q:
		return 2; /* two additions to row s (channels 0 and 1) */
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
	       rule == DQ_RULE_EXPECTED_SARSA || rule == DQ_RULE_DOUBLE_Q;
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
	if (eps > 0.0 && dq_rng_uniform(&ag->rng) < eps)
		return dq_rng_below(&ag->rng, ag->n_actions);
	if (cached)
		return ag->next_greedy;
	return dq__store_greedy_max(ag->table, &ag->replica, s, ag->tie_rng,
				    NULL, ovl);
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
dq__rule_act_sarsa(dq_agent *ag, uint32_t s, bool ovl)
{
	if (ag->next_state == s) {
		ag->next_state = DQ__NO_STATE;
		return ag->next_greedy;
	}
	return dq__rule_act_egreedy(ag, s, ovl);
}

/*
 * SARSA: one TD step of Q(s,a) towards r + gamma Q(s',a'), a' chosen now
 * by the epsilon-greedy policy (and taken by the next act in s'). No
 * bootstrap, and no a', on termination.
 */
DQ__INLINE int
dq__rule_observe_sarsa(dq_agent *ag, uint32_t s, uint32_t a, double r,
		       uint32_t s2, bool terminated, dq_mode mode, bool ovl,
		       bool visits)
{
	const double alpha = dq__rule_alpha(ag, s, a, visits);
	double target = r;
	int ret;

	if (!terminated) {
		uint32_t a2 = dq__rule_act_egreedy(ag, s2, ovl);

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
 * mean Q(s',.) (ties share the greedy mass, which leaves it the max). As
 * Q-learning, the scan of s' also finds the next act's greedy action.
 */
DQ__INLINE int
dq__rule_observe_esarsa(dq_agent *ag, uint32_t s, uint32_t a, double r,
			uint32_t s2, bool terminated, dq_mode mode, bool ovl,
			bool visits)
{
	const double alpha = dq__rule_alpha(ag, s, a, visits);
	double target = r, max, sum = 0.0;
	const double eps = ag->epsilon.value;

	if (!terminated) {
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

DQ__INLINE uint32_t
dq__rule_act(dq_agent *ag, uint32_t s, dq_rule rule, bool ovl)
{
	switch (rule) {
	case DQ_RULE_SARSA:
		return dq__rule_act_sarsa(ag, s, ovl);
	case DQ_RULE_Q:
	case DQ_RULE_EXPECTED_SARSA:
	case DQ_RULE_DOUBLE_Q:
	default:
		return dq__rule_act_egreedy(ag, s, ovl);
	}
}

/* The rule's writes for one transition: the CAS retries (>= 0), or a
 * negative error with nothing written. */
DQ__INLINE int
dq__rule_observe(dq_agent *ag, uint32_t s, uint32_t a, double r, uint32_t s2,
		 bool terminated, dq_rule rule, dq_mode mode, bool ovl,
		 bool visits)
{
	switch (rule) {
	case DQ_RULE_SARSA:
		return dq__rule_observe_sarsa(ag, s, a, r, s2, terminated, mode,
					      ovl, visits);
	case DQ_RULE_EXPECTED_SARSA:
		return dq__rule_observe_esarsa(ag, s, a, r, s2, terminated,
					       mode, ovl, visits);
	case DQ_RULE_DOUBLE_Q:
		return dq__rule_observe_double_q(ag, s, a, r, s2, terminated,
						 mode, ovl, visits);
	case DQ_RULE_Q:
	default:
		return dq__rule_observe_q(ag, s, a, r, s2, terminated, mode,
					  ovl, visits);
	}
}

#endif /* DQ_RULE_H */
