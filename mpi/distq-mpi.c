/*
 * distq-mpi - distq's command line with `train` run over MPI ranks.
 *
 *   mpirun -np R distq-mpi train ENV --share average:tau=1s [distq options]
 *
 * The program is distq's (cli/, linked here without its main()) with the
 * train command's learner routed through libdistq-mpi (cli_train_hooks):
 * one learner per rank, the sync policy of --share between ranks, the
 * stop agreed by all, the summary, progress line and checkpoints written
 * by rank 0 only (the other ranks' standard output is discarded). With one
 * rank it is distq. --share is this program's: it is taken out of the
 * arguments before distq's parser sees them. docs/distributed.md.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <distq/mpi.h>

#include "cli.h"

static dq_mpi *job;
static dq_mpi_config share;

static uint32_t per_rank; /* P, the learner's agents */

static int
hook_create(dq_learner **l, dq_table *t, const dq_env *env,
	    const dq_learner_config *c)
{
	per_rank = c->n_threads;
	return dq_mpi_learner_create(job, l, t, env, c, &share);
}

static const char *const policy_names[] = {"none", "average", "delta",
					   "distql"};
static const char *const unit_names[] = {"steps", "episodes", "s"};

static int
hook_run(dq_learner *l, dq_run_result *r)
{
	dq_mpi_sync_stats ss = {0};
	int err;

	(void)l;
	err = dq_mpi_run(job, r);
	if (dq_mpi_rank(job) == 0 && dq_mpi_size(job) > 1 &&
	    dq_mpi_sync_stats_get(job, &ss) == 0 && ss.syncs)
		cli_kv("syncs",
		       "%llu (%llu sparse) on rank 0, %.3g ms each on "
		       "average, the last found %llu entries changed\n",
		       (unsigned long long)ss.syncs,
		       (unsigned long long)ss.sparse,
		       1e3 * ss.seconds / (double)ss.syncs,
		       (unsigned long long)ss.last_changed);
	if (dq_mpi_rank(job) == 0 && dq_mpi_size(job) > 1)
		cli_kv("ranks",
		       "%d, %s every %g %s%s (the counts below are "
		       "summed over ranks, agents are per rank)\n",
		       dq_mpi_size(job), policy_names[share.policy], share.tau,
		       unit_names[share.unit],
		       share.policy == DQ_MPI_DISTQL
			   ? (share.partial ? ", partial" : ", all")
			   : "");
	/* tau is a lower bound: one sync per round at most (a round is
	 * the poll interval plus the exchange), so say what happened. */
	if (dq_mpi_rank(job) == 0 && dq_mpi_size(job) > 1 && ss.syncs &&
	    r->seconds > 0)
		cli_kv("sync interval",
		       "%.3g steps, %.3g s on average (tau is a lower bound: "
		       "at most one sync per %g ms round)\n",
		       (double)r->total.steps / (double)ss.syncs,
		       r->seconds / (double)ss.syncs, 1e3 * share.poll);
	return err;
}

static void
hook_destroy(dq_learner *l)
{
	if (l && l == dq_mpi_learner(job))
		dq_mpi_learner_destroy(job);
	else
		dq_learner_destroy(l);
}

static bool
hook_leader(void)
{
	return dq_mpi_rank(job) == 0;
}

static dq_agent_state *all_states;

static int
hook_states(const dq_agent_state **out, uint32_t *n)
{
	uint32_t k = 0;
	int err = dq_mpi_agent_states(job, NULL, 0, &k);

	if (err != -ERANGE && err)
		return err;
	free(all_states);
	all_states = calloc(k ? k : 1, sizeof(*all_states));
	if (!all_states)
		return -ENOMEM;
	err = dq_mpi_agent_states(job, all_states, k, &k);
	if (err)
		return err;
	*out = all_states;
	*n = k;
	return 0;
}

static int
hook_restore(const dq_agent_state *st, uint32_t n, const dq_checkpoint_world *w)
{
	uint32_t dropped = 0;
	int err = dq_mpi_restore_agents(job, st, n, &dropped);

	if (err) {
		fprintf(stderr, "distq-mpi: restoring agents: %s\n",
			dq_strerror(err));
		return err;
	}
	if (dropped && dq_mpi_rank(job) == 0 && w &&
	    (uint64_t)w->ranks * w->agents_per_rank == n)
		fprintf(stderr,
			"distq-mpi: warning: the checkpoint was written by "
			"%u ranks x %u agents (%s), this job runs %d ranks x "
			"%u agents: the table is resumed, the %u agents' "
			"states (random streams, schedule clocks) are dropped "
			"and every agent starts afresh\n",
			w->ranks, w->agents_per_rank,
			*w->policy ? w->policy : "no policy recorded",
			dq_mpi_size(job), per_rank, dropped);
	else if (dropped && dq_mpi_rank(job) == 0)
		fprintf(stderr,
			"distq-mpi: warning: the checkpoint holds %u agent "
			"states, this job runs %d ranks: the table is "
			"resumed, the %u agents' states (random streams, "
			"schedule clocks) are dropped and every agent starts "
			"afresh\n",
			n, dq_mpi_size(job), dropped);
	return dropped ? 1 : 0;
}

/* The job's shape and policy, as --share would spell it again. */
static int
hook_world(dq_checkpoint_world *w)
{
	static const char *const units[] = {"steps", "episodes", "seconds"};
	static const char *const ex[] = {"", ":exchange=sparse",
					 ":exchange=dense"};
	char buf[160];

	if (dq_mpi_size(job) < 2 || !dq_mpi_learner(job) || !per_rank)
		return -ENOENT;
	memset(w, 0, sizeof(*w));
	w->ranks = (uint32_t)dq_mpi_size(job);
	w->agents_per_rank = per_rank;
	if (share.policy == DQ_MPI_DISTQL)
		snprintf(buf, sizeof(buf), "distql:%s=%g:%s:eta=%g:decay=%g",
			 units[share.unit], share.tau,
			 share.partial ? "partial" : "all", share.eta,
			 share.eta_decay);
	else if (share.policy != DQ_MPI_NONE)
		snprintf(buf, sizeof(buf), "%s:%s=%g%s",
			 policy_names[share.policy], units[share.unit],
			 share.tau, ex[share.exchange]);
	else
		snprintf(buf, sizeof(buf), "none");
	/* Cut to the field (never, for %g's at most 12 characters). */
	snprintf(w->policy, sizeof(w->policy), "%.*s",
		 (int)sizeof(w->policy) - 1, buf);
	return 0;
}

static int
hook_failed(int err)
{
	dq_mpi_error_info fi;

	if (dq_mpi_error(job, &fi) == 0 && fi.rank >= 0 && fi.error.code) {
		if (dq_mpi_rank(job) == 0)
			fprintf(stderr,
				"distq-mpi: rank %d: agent %u failed at step "
				"%llu in %s: %s\n",
				fi.rank, fi.error.agent,
				(unsigned long long)fi.error.step,
				fi.error.what ? fi.error.what : "?",
				dq_strerror(fi.error.code));
		return CLI_FAIL;
	}
	fprintf(stderr, "distq-mpi: rank %d: %s\n", dq_mpi_rank(job),
		dq_strerror(err));
	return CLI_FAIL;
}

/* A checkpoint of R x P agents resumes with P per rank on R ranks. */
static uint32_t
hook_resume_threads(uint32_t n)
{
	uint32_t r = (uint32_t)dq_mpi_size(job);

	return n % r == 0 ? n / r : cli_threads_all();
}

static const struct cli_train_hooks hooks = {
    .create = hook_create,
    .run = hook_run,
    .destroy = hook_destroy,
    .leader = hook_leader,
    .states = hook_states,
    .restore = hook_restore,
    .failed = hook_failed,
    .resume_threads = hook_resume_threads,
    .world = hook_world,
};

/* mpirun ends a job it is asked to end (Ctrl-C) with SIGTERM to every
 * rank: take it as the Ctrl-C that train already handles. */
static void
on_term(int sig)
{
	(void)sig;
	raise(SIGINT);
}

/*
 * The policy between ranks of a --share spec (cli/share.c's grammar, the
 * one distq takes), or -EINVAL with why: epsilon-decay= is the
 * in-process DistQL's decay of its agents' epsilon, which ranks do not
 * make (each rank's agents keep --epsilon's schedule).
 */
static int
share_ranks(const struct cli_share *s, dq_mpi_config *c, char *why, size_t len)
{
	static const dq_mpi_policy pol[] = {DQ_MPI_NONE, DQ_MPI_AVERAGE,
					    DQ_MPI_DELTA, DQ_MPI_DISTQL};
	static const dq_mpi_unit unit[] = {DQ_MPI_SECONDS, DQ_MPI_STEPS,
					   DQ_MPI_EPISODES, DQ_MPI_SECONDS};
	static const dq_mpi_exchange ex[] = {DQ_MPI_EXCHANGE_AUTO,
					     DQ_MPI_EXCHANGE_SPARSE,
					     DQ_MPI_EXCHANGE_DENSE};

	if (s->epsilon_decay >= 0) {
		snprintf(why, len,
			 "epsilon-decay= is the in-process distql's decay of "
			 "its agents' epsilon (distq): between ranks each "
			 "rank's agents keep --epsilon's schedule");
		return -EINVAL;
	}
	dq_mpi_config_init(c);
	c->policy = pol[s->policy];
	if (s->policy == CLI_SHARE_DISTQL) {
		/* The study's: every 10 episodes. */
		c->unit = DQ_MPI_EPISODES;
		c->tau = 10;
	}
	if (s->unit != CLI_SHARE_DEFAULT) {
		c->unit = unit[s->unit];
		c->tau = s->interval;
	}
	if (s->exchange >= 0)
		c->exchange = ex[s->exchange];
	if (s->partial >= 0)
		c->partial = s->partial == 1;
	if (!isnan(s->eta))
		c->eta = s->eta;
	if (!isnan(s->decay))
		c->eta_decay = s->decay;
	if (!isnan(s->timeout))
		c->timeout = s->timeout;
	return 0;
}

/* Take --share SPEC and --share=SPEC out of argv. */
static int
take_share(int *argc, char **argv)
{
	int j = 0;

	for (int i = 0; i < *argc; i++) {
		const char *spec = NULL;
		struct cli_share sh;
		char why[200];

		if (!strcmp(argv[i], "--share") && i + 1 < *argc)
			spec = argv[++i];
		else if (!strncmp(argv[i], "--share=", 8))
			spec = argv[i] + 8;
		else {
			argv[j++] = argv[i];
			continue;
		}
		if (cli_share_parse(spec, &sh, why, sizeof(why))) {
			if (dq_mpi_rank(job) == 0)
				fprintf(stderr,
					"distq-mpi: --share %s: %s (expected "
					"%s)\n",
					spec, why, cli_share_usage);
			return CLI_USAGE;
		}
		if (share_ranks(&sh, &share, why, sizeof(why))) {
			if (dq_mpi_rank(job) == 0)
				fprintf(stderr, "distq-mpi: --share %s: %s\n",
					spec, why);
			return CLI_USAGE;
		}
	}
	*argc = j;
	argv[j] = NULL;
	return CLI_OK;
}

int
main(int argc, char **argv)
{
	int status, err;

	signal(SIGXFSZ, SIG_IGN);
	signal(SIGTERM, on_term);
	err = dq_mpi_init(&job, &argc, &argv);
	if (err) {
		fprintf(stderr, "distq-mpi: %s\n", dq_strerror(err));
		return CLI_FAIL;
	}
	dq_mpi_config_init(&share);
	status = take_share(&argc, argv);
	/* Bad usage is said once, by rank 0 (below); the other ranks see it
	 * silently and exit with the same status. */
	if (status == CLI_OK && dq_mpi_rank(job) != 0)
		status = cli_check_args(argc, argv, false);
	if (status == CLI_OK) {
		if (dq_mpi_rank(job) != 0 && !freopen("/dev/null", "w", stdout))
			fprintf(stderr, "distq-mpi: rank %d prints as well\n",
				dq_mpi_rank(job));
		cli_train_hooks = &hooks;
		status = cli_main(argc, argv);
	}
	fflush(stdout);
	free(all_states);
	dq_mpi_finalize(job);
	return status;
}
