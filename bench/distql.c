/*
 * distql: the seed study's DistQL experiment on taxi (docs/seeds.md).
 *
 * For each policy (DistQL-ALL, DistQL-Partial, and libdistq's default:
 * direct cas updates of one table with its own hyperparameters), tau and
 * P, over seeds: the episodes per agent and the total episodes until the
 * 50-episode moving average of reward reaches 0, the steps (samples) that
 * took, and the mean reward of the last 100 episodes.
 *
 * Deterministic part (the default): the P agents are the library's
 * simulator-owned agents (dq_agent_share_create() / dq_agent_create()),
 * stepped by one thread in turn, one episode each per round; each calls
 * dq_agent_share() at its episode ends. So every figure is a function of
 * the seed alone, on any machine and under any load: P agents whose
 * episodes interleave one by one. The moving average is over the last 50
 * episodes finished, all agents together, in the order they finished.
 *
 * --wall: also each configuration's cost per sample with the learner's P
 * threads (over-subscribed beyond the cores), run for --seconds: steps per
 * second, and the estimated wall time to the criterion, the deterministic
 * steps over that rate. (Stopping a threaded run at the criterion itself
 * was tried: the runs last a few tens of milliseconds, which thread
 * start-up and the progress callback's resolution decide, not the
 * policy.) Only meaningful on a quiet machine.
 *
 * usage: distql [--seeds N] [--episodes E] [--wall [--seconds S]] [--quick]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MA 50
#define LAST 100
#define MAX_SEEDS 64
#define TAXI_LIMIT 200

enum pol { POL_ALL, POL_PARTIAL, POL_DIRECT };
static const char *const pol_names[] = {"distql-all", "distql-partial",
					"direct-cas"};

struct result {
	double ep_agent; /* episodes per agent to MA >= 0; INFINITY: never */
	double ep_total;
	double steps; /* steps to MA >= 0 */
	double last100;
	double seconds; /* --wall */
};

static int
die(const char *what, int err)
{
	fprintf(stderr, "distql: %s: %s\n", what, dq_strerror(err));
	exit(1);
}

static void
agent_config(enum pol pol, uint64_t seed, uint32_t i, dq_agent_config *ac,
	     dq_share_config *sc)
{
	dq_agent_config_init(ac);
	ac->seed = seed;
	ac->stream = i;
	if (pol == POL_DIRECT) {
		dq_share_config_init(sc, DQ_SHARE_NONE);
		return; /* libdistq's defaults: gamma 0.95, alpha 0.1, eps 0.1 */
	}
	ac->gamma = 0.9; /* the study's; eta replaces alpha */
	dq_share_config_init(sc, DQ_SHARE_DISTQL);
	if (pol == POL_PARTIAL)
		sc->flags |= DQ_SHARE_PARTIAL;
}

static dq_table *
central(const dq_env_spec *sp, enum pol pol)
{
	dq_table_config tc;
	dq_table *t;
	int err;

	dq_table_config_init(&tc);
	tc.n_states = sp->n_states;
	tc.n_actions = sp->n_actions;
	tc.channels = pol == POL_DIRECT ? 1 : 2;
	err = dq_table_create(&t, &tc);
	if (err)
		die("table", err);
	return t;
}

/* One seed, P agents in turn, one episode each per round. */
static void
run_sim(const dq_env *env, enum pol pol, double tau, uint32_t p, uint64_t seed,
	uint32_t episodes, struct result *out)
{
	dq_env_spec sp;
	dq_table *t;
	dq_agent *ag[64];
	dq_env_instance *in[64];
	double ring[LAST] = {0}, ma = 0.0;
	uint64_t total = 0, steps = 0;
	int err;

	dq_env_spec_get(env, &sp);
	t = central(&sp, pol);
	out->ep_agent = out->ep_total = out->steps = INFINITY;
	out->seconds = NAN;
	for (uint32_t i = 0; i < p; i++) {
		dq_agent_config ac;
		dq_share_config sc;

		agent_config(pol, seed, i, &ac, &sc);
		sc.interval = tau;
		err = pol == POL_DIRECT
			  ? dq_agent_create(&ag[i], t, &ac)
			  : dq_agent_share_create(&ag[i], t, &ac, &sc, p);
		if (err)
			die("agent", err);
		err = dq_env_instance_create(env, &in[i]);
		if (err)
			die("instance", err);
	}
	for (uint32_t round = 0; round < episodes; round++)
		for (uint32_t i = 0; i < p; i++) {
			dq_rng *rng;
			uint32_t s, a, len = 0;
			double ret = 0.0;
			dq_step st;

			dq_agent_rng(ag[i], &rng);
			if ((err = dq_env_instance_reset(in[i], rng, &s)))
				die("reset", err);
			for (;;) {
				dq_agent_act(ag[i], s, &a);
				if ((err = dq_env_instance_step(in[i], a, rng,
								&st)))
					die("step", err);
				err = dq_agent_observe(ag[i], s, a, st.reward,
						       st.next_state,
						       st.terminated);
				if (err)
					die("observe", err);
				ret += st.reward;
				steps++;
				len++;
				if (st.terminated)
					break;
				if (st.truncated || len == TAXI_LIMIT) {
					dq_agent_episode_end(ag[i]);
					break;
				}
				s = st.next_state;
			}
			/* the moving average of the last MA episodes */
			ma += ret -
			      (total >= MA ? ring[(total - MA) % LAST] : 0.0);
			ring[total % LAST] = ret;
			total++;
			if (total >= MA && ma / MA >= 0.0 &&
			    isinf(out->ep_total)) {
				out->ep_total = (double)total;
				out->ep_agent = (double)total / p;
				out->steps = (double)steps;
			}
			if (pol != POL_DIRECT &&
			    (err = dq_agent_share(ag[i], false)) < 0)
				die("share", err);
		}
	out->last100 = 0.0;
	for (int k = 0; k < LAST; k++)
		out->last100 += ring[k] / LAST;
	for (uint32_t i = 0; i < p; i++) {
		dq_agent_destroy(ag[i]);
		dq_env_instance_destroy(in[i]);
	}
	dq_table_destroy(t);
}

/* --wall: the learner's P threads for `seconds` (pinning off, so that P
 * above the cores over-subscribes them): steps per second of this policy
 * on this machine, and the agents' mean return over their last 50
 * episodes at the end. */
static void
run_wall(const dq_env *env, enum pol pol, double tau, uint32_t p, uint64_t seed,
	 double seconds, struct result *out)
{
	dq_env_spec sp;
	dq_table *t;
	dq_learner *l;
	dq_learner_config c;
	dq_share_config sc;
	dq_run_result r;
	int err;

	dq_env_spec_get(env, &sp);
	t = central(&sp, pol);
	dq_learner_config_init(&c);
	agent_config(pol, seed, 0, &c.agent, &sc);
	sc.interval = tau;
	c.share = sc;
	c.agent.return_window = MA;
	c.n_threads = p;
	c.pin = DQ_PIN_NONE;
	c.max_seconds = seconds;
	if ((err = dq_learner_create(&l, t, env, &c)))
		die("learner", err);
	if ((err = dq_learner_run(l, &r)))
		die("run", err);
	out->seconds = (double)r.run_steps / r.seconds; /* steps/s */
	out->last100 = r.total.mean_return;
	dq_learner_destroy(l);
	dq_table_destroy(t);
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int
main(int argc, char **argv)
{
	uint32_t seeds = 10, episodes = 2000;
	bool wall = false, quick = false;
	double seconds = 0.3;
	const uint32_t ps[] = {1, 2, 4, 8};
	const double taus[] = {10, 50, 100};
	const char *const tau_names[] = {"10", "50", "100"};
	dq_env *env;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			seeds = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--episodes") && i + 1 < argc)
			episodes = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--wall"))
			wall = true;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--quick"))
			quick = true;
		else {
			fprintf(stderr, "usage: distql [--seeds N] "
					"[--episodes E] [--wall [--seconds S]] "
					"[--quick]\n");
			return 2;
		}
	}
	if (seeds < 1 || seeds > MAX_SEEDS || episodes < LAST)
		return 2;
	if ((err = dq_env_open_name(&env, "taxi")))
		die("taxi", err);
	printf("# taxi, %u seeds, %u episodes per agent, %s\n", seeds, episodes,
	       wall ? "learner threads (wall time)"
		    : "agents in turn, one episode each (deterministic)");
	if (wall)
		printf("| policy | tau | P | steps to MA50>=0 (agents in "
		       "turn) | steps/s, P threads | seconds to MA50>=0 "
		       "(estimate) | mean return, last 50 per agent, after "
		       "%.2f s |\n|---|---|---|---|---|---|---|\n",
		       seconds);
	else
		printf("| policy | tau | P | episodes/agent to MA50>=0 | "
		       "total episodes | steps to MA50>=0 | mean of last "
		       "100 | not reached |\n|---|---|---|---|---|---|---|"
		       "---|\n");
	for (int pol = 0; pol < 3; pol++)
		for (size_t ti = 0; ti < 3; ti++) {
			if ((pol == POL_DIRECT || quick) && ti > 0)
				break;
			for (size_t pi = 0; pi < 4; pi++) {
				double a[MAX_SEEDS], tot[MAX_SEEDS],
				    st[MAX_SEEDS], x[MAX_SEEDS];
				uint32_t fails = 0;

				double rate[MAX_SEEDS], ret[MAX_SEEDS];

				for (uint32_t k = 0; k < seeds; k++) {
					struct result r, w;

					run_sim(env, pol, taus[ti], ps[pi],
						k + 1, episodes, &r);
					fails += isinf(r.steps);
					a[k] = r.ep_agent;
					tot[k] = r.ep_total;
					st[k] = r.steps;
					x[k] = r.last100;
					if (!wall)
						continue;
					run_wall(env, pol, taus[ti], ps[pi],
						 k + 1, seconds, &w);
					rate[k] = w.seconds;
					ret[k] = w.last100;
				}
				if (wall) {
					double steps = median(st, seeds),
					       sps = median(rate, seeds);

					printf("| %s | %s | %u | %.0f | %.3g | "
					       "%.4f | %.2f |\n",
					       pol_names[pol],
					       pol == POL_DIRECT
						   ? "-"
						   : tau_names[ti],
					       ps[pi], steps, sps, steps / sps,
					       median(ret, seeds));
				} else {
					printf("| %s | %s | %u | %.0f | %.0f | "
					       "%.0f | %.2f | %u |\n",
					       pol_names[pol],
					       pol == POL_DIRECT
						   ? "-"
						   : tau_names[ti],
					       ps[pi], median(a, seeds),
					       median(tot, seeds),
					       median(st, seeds),
					       median(x, seeds), fails);
				}
				fflush(stdout);
			}
		}
	dq_env_close(env);
	return 0;
}
