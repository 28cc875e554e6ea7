/*
 * own_loop: a simulator that keeps its main loop. Two simulator threads
 * each step their own copy of a tiny world (written here, not a built-in)
 * and call dq_agent_act()/dq_agent_observe() on one shared Q-table. This is
 * the shape for embedding libdistq in an existing simulator.
 *
 * The world: a corridor of 16 cells; moving right from cell 15 pays 1 and
 * ends the episode (back to cell 0); moving left from cell 0 stays; every
 * other move costs 0.01.
 */
#include <pthread.h>
#include <stdio.h>

#include <distq.h>

#define CELLS 16u
#define STEPS 400000

struct sim {
	dq_table *table;
	uint32_t id;
	int err;
	double last_return;
};

static void *
simulate(void *arg)
{
	struct sim *sim = arg;
	dq_agent_config ac;
	dq_agent *agent;
	uint32_t cell = 0;
	double ret = 0;

	dq_agent_config_init(&ac);
	ac.stream = sim->id; /* independent random streams */
	ac.gamma = 0.95;
	sim->err = dq_agent_create(&agent, sim->table, &ac);
	if (sim->err)
		return NULL;
	for (int i = 0; i < STEPS; i++) {
		uint32_t a, next;
		double r;
		bool done;

		sim->err = dq_agent_act(agent, cell, &a);
		if (sim->err)
			break;
		/* The simulator's own dynamics. */
		next = a ? (cell + 1) % CELLS : (cell ? cell - 1 : 0);
		done = a && cell == CELLS - 1;
		r = done ? 1.0 : -0.01;
		ret += r;
		sim->err = dq_agent_observe(agent, cell, a, r, next, done);
		if (sim->err)
			break;
		if (done) {
			sim->last_return = ret;
			ret = 0;
			next = 0;
		}
		cell = next;
	}
	dq_agent_destroy(agent);
	return NULL;
}

int
main(void)
{
	dq_table_config tc;
	dq_table *table;
	pthread_t th[2];
	struct sim sims[2];
	uint32_t a, wrong = 0;
	int err;

	dq_table_config_init(&tc);
	tc.n_states = CELLS;
	tc.n_actions = 2;
	err = dq_table_create(&table, &tc);
	if (err) {
		fprintf(stderr, "own_loop: %s\n", dq_strerror(err));
		return 1;
	}
	for (uint32_t i = 0; i < 2; i++) {
		sims[i] = (struct sim){table, i, 0, 0};
		pthread_create(&th[i], NULL, simulate, &sims[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++)
		if (sims[i].err) {
			fprintf(stderr, "own_loop: simulator %d: %s\n", i,
				dq_strerror(sims[i].err));
			return 1;
		}
	/* Moving right is optimal everywhere. */
	for (uint32_t c = 0; c < CELLS; c++) {
		dq_table_greedy(table, c, NULL, &a);
		wrong += a != 1;
	}
	printf("own_loop: greedy policy moves right in %u of %u cells; "
	       "last returns %.2f %.2f\n",
	       CELLS - wrong, CELLS, sims[0].last_return, sims[1].last_return);
	dq_table_destroy(table);
	return wrong ? 1 : 0;
}
