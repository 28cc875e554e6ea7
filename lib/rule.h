/*
 * The rule layer: what an agent writes. A rule chooses the action
 * (epsilon-greedy, ties broken at random or by the lowest index) and turns
 * each transition into typed writes (store.h). Included by agent.h, after
 * struct dq_agent.
 *
 * Every function here takes the rule, the discipline and `ovl` as
 * arguments the callers pass as constants (see agent.h), so each
 * instantiation folds to one rule's straight-line code. A new rule: a
 * DQ_RULE_* value, its act and observe below, its case in the two
 * dispatchers and in dq__rule_writes(), and the learner's instance list
 * (DQ__FOR_EACH_RULE).
 */
#ifndef DQ_RULE_H
#define DQ_RULE_H

/* The rules the learner instantiates its loop for: X(rule). */
#define DQ__FOR_EACH_RULE(X) X(DQ_RULE_Q)

/*
 * The most entries one step of `rule` writes: the overlay's buffers are
 * sized from it (store.h), and 0 means "not bounded", which no overlay
 * holds (such a rule runs with direct updates only).
 */
static inline uint32_t
dq__rule_writes(dq_rule rule)
{
	switch (rule) {
	case DQ_RULE_Q:
	default:
		return 1;
	}
}

/* Whether `rule` is one this library knows. */
static inline bool
dq__rule_valid(dq_rule rule)
{
	return rule == DQ_RULE_Q;
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
		   bool terminated, dq_mode mode, bool ovl)
{
	double target = r, max;

	if (!terminated) {
		ag->next_greedy = dq__store_greedy_max(
		    ag->table, &ag->replica, s2, ag->tie_rng, &max, ovl);
		ag->next_state = s2 != s ? s2 : DQ__NO_STATE;
		target += ag->gamma * max;
	}
	return dq__store_write(
	    ag->table, &ag->replica, mode, ovl, s, a,
	    (dq__op){DQ__OP_TD, ag->alpha.value, target, 0.0});
}

DQ__INLINE uint32_t
dq__rule_act(dq_agent *ag, uint32_t s, dq_rule rule, bool ovl)
{
	switch (rule) {
	case DQ_RULE_Q:
	default:
		return dq__rule_act_egreedy(ag, s, ovl);
	}
}

/* The rule's writes for one transition: the CAS retries (>= 0), or a
 * negative error with nothing written. */
DQ__INLINE int
dq__rule_observe(dq_agent *ag, uint32_t s, uint32_t a, double r, uint32_t s2,
		 bool terminated, dq_rule rule, dq_mode mode, bool ovl)
{
	switch (rule) {
	case DQ_RULE_Q:
	default:
		return dq__rule_observe_q(ag, s, a, r, s2, terminated, mode,
					  ovl);
	}
}

#endif /* DQ_RULE_H */
