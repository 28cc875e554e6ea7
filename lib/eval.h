/*
 * The evaluator (private): greedy episodes of a table's policy on an
 * environment instance of its own, with a random stream of its own, and,
 * where the environment has a model, the policy's exact value and its gap
 * to the optimum. The learner calls it from its monitoring thread
 * (dq_learner_config.eval_every); nothing here knows about threads.
 */
#ifndef DQ_EVAL_H
#define DQ_EVAL_H

#include <stdbool.h>

#include "env.h"
#include "internal.h"

/* Episodes without a step limit of their own are cut here, so that a
 * greedy policy that never ends an episode cannot hold the evaluator. */
#define DQ__EVAL_MAX_EPISODE_STEPS 100000u
/* The most greedy episodes one evaluation may play. */
#define DQ__EVAL_MAX_EPISODES 10000000u

typedef struct dq__eval {
	dq__env_inst inst; /* the evaluator's own instance */
	dq_rng rng;	   /* its own stream: never an agent's */
	uint32_t S, A;
	uint32_t limit;	   /* steps per episode */
	uint32_t episodes; /* per evaluation */
	double gamma;
	double *q;	  /* S x A: the snapshot */
	uint32_t *policy; /* S: its greedy policy */
	/* With a model: */
	const dq_model *model; /* the learner's, or own_model */
	dq_model *own_model;
	double *v;     /* S: V^pi scratch */
	double v_star; /* V* from the start distribution */
	double v_rand; /* V^random from it; NaN when it has none */
	bool ready;    /* inst initialised */
	/* Tile coding: the coder (the snapshot's S rows are its tiles),
	 * its active tiles (T) and the action values (A) of one step. */
	const dq_tiles *tc;
	uint32_t *f;
	double *qa;
} dq__eval;

/*
 * Set @e up for @env: @stream is the evaluator's random stream (the caller
 * derives one no agent uses), @gamma the agents' discount, @limit the
 * learner's episode step limit (0: none), @model the learner's model of
 * @env or NULL (one is made when @env has a model). Solves for V* and
 * evaluates the random policy once. With a tile coder @tc the table's rows
 * are its tiles, the greedy action of each step is taken from the
 * observation's tile values in the snapshot, and there is no exact value
 * (the model's states are not the table's rows). Returns 0, -ENOMEM, an environment's
 * create error, or the solver's error. dq__eval_fini() undoes a failed
 * init too.
 */
int dq__eval_init(dq__eval *e, const dq_env *env, const dq_rng *stream,
		  double gamma, uint32_t limit, uint32_t episodes,
		  const dq_model *model, const dq_tiles *tc);
void dq__eval_fini(dq__eval *e);

/*
 * Snapshot @t and evaluate its greedy policy into @r's policy fields
 * (n_episodes, the returns and their standard errors, exact_value,
 * optimal_value, gap); the caller fills the rest. Returns 0, or the
 * environment's error (its reset or step failed its contract).
 */
int dq__eval_run(dq__eval *e, const dq_table *t, dq_eval_record *r);

#endif /* DQ_EVAL_H */
