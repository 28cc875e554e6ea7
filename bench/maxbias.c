/*
 * maxbias: Sutton & Barto's Figure 6.5 as CSV. For each rule (q and
 * double-q), the fraction of episodes that go left from A, per episode,
 * over SEEDS independent runs (epsilon 0.1, alpha 0.1, gamma 1, the
 * maxbias environment's default 10 actions, B's rewards N(-0.1, 1)).
 * Public interface only: an agent handle per run, the simulator's loop
 * here.
 *
 *   build/bench/maxbias [SEEDS [EPISODES]] > maxbias.csv   (2000 300)
 *
 * CSV columns: episode, left_q, left_double_q. tests/test_rules.c asserts
 * the same curves' shape (test_maxbias).
 */
#include <stdio.h>
#include <stdlib.h>

#include "distq.h"

static int
curve(dq_env *env, dq_rule rule, unsigned seeds, unsigned episodes,
      double *left)
{
	dq_env_spec sp;
	int err = 0;

	dq_env_spec_get(env, &sp);
	for (unsigned seed = 1; seed <= seeds && !err; seed++) {
		dq_table_config tc;
		dq_agent_config ac;
		dq_table *t = NULL;
		dq_agent *ag = NULL;
		dq_env_instance *inst = NULL;
		dq_rng *rng;

		dq_table_config_init(&tc);
		tc.n_states = sp.n_states;
		tc.n_actions = sp.n_actions;
		dq_agent_config_init(&ac);
		ac.rule = rule;
		ac.gamma = 1.0;
		ac.seed = seed;
		if ((err = dq_rule_channels(rule, &tc.channels)) ||
		    (err = dq_table_create(&t, &tc)) ||
		    (err = dq_agent_create(&ag, t, &ac)) ||
		    (err = dq_agent_rng(ag, &rng)) ||
		    (err = dq_env_instance_create(env, &inst)))
			goto next;
		for (unsigned ep = 0; ep < episodes && !err; ep++) {
			uint32_t s, a;
			dq_step st;

			if ((err = dq_env_instance_reset(inst, rng, &s)))
				break;
			do {
				if ((err = dq_agent_act(ag, s, &a)))
					break;
				if (s == 0 && (a & 1u))
					left[ep] += 1.0 / seeds;
				if ((err = dq_env_instance_step(inst, a, rng,
								&st)) ||
				    (err = dq_agent_observe(ag, s, a, st.reward,
							    st.next_state,
							    st.terminated)))
					break;
				s = st.next_state;
			} while (!st.terminated);
		}
	next:
		dq_env_instance_destroy(inst);
		dq_agent_destroy(ag);
		dq_table_destroy(t);
	}
	return err;
}

int
main(int argc, char **argv)
{
	unsigned seeds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000;
	unsigned episodes =
	    argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 300;
	double *lq, *ld;
	dq_env *env;
	int err;

	if (!seeds || !episodes || episodes > 1000000) {
		fprintf(stderr, "usage: maxbias [SEEDS [EPISODES]]\n");
		return 2;
	}
	lq = calloc(episodes, sizeof(*lq));
	ld = calloc(episodes, sizeof(*ld));
	if (!lq || !ld)
		return 1;
	err = dq_env_open_name(&env, "maxbias");
	if (!err)
		err = curve(env, DQ_RULE_Q, seeds, episodes, lq);
	if (!err)
		err = curve(env, DQ_RULE_DOUBLE_Q, seeds, episodes, ld);
	if (err) {
		fprintf(stderr, "maxbias: %s\n", dq_strerror(err));
		return 1;
	}
	printf("episode,left_q,left_double_q\n");
	for (unsigned ep = 0; ep < episodes; ep++)
		printf("%u,%.4f,%.4f\n", ep + 1, lq[ep], ld[ep]);
	dq_env_close(env);
	free(lq);
	free(ld);
	return 0;
}
