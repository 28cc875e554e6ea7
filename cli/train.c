/*
 * distq train: one shared table, one agent thread per core by default, a
 * live progress line while it runs and a summary when it stops.
 *
 * The program is a thin shell over dq_learner: every learning decision is
 * the library's. What is here is option handling, the progress line, the
 * Ctrl-C handling, the summary (including the exact solver's verdict on
 * the greedy policy for environments with a model) and the checkpoint.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Training stops here when no stop condition is given. */
#define TRAIN_DEFAULT_STEPS 10000000ull

enum {
	T_THREADS,
	T_STEPS,
	T_SECONDS,
	T_EPISODES,
	T_TARGET,
	T_ALPHA,
	T_GAMMA,
	T_EPSILON,
	T_Q0,
	T_SEED,
	T_MODE,
	T_PIN,
	T_STRICT_PIN,
	T_PAD,
	T_SYNC,
	T_SAVE,
	T_QUIET,
	T_NO_EXACT,
};

const struct cli_opt cli_train_opts[] = {
    {"threads", 't', "N|all", T_THREADS,
     "agent threads (default all: one per physical core)"},
    {"steps", 'n', "N", T_STEPS,
     "stop after N total steps (k/M/G suffixes; default 10M)"},
    {"seconds", 0, "S", T_SECONDS, "stop after S seconds"},
    {"episodes", 0, "N", T_EPISODES, "stop after N total episodes"},
    {"target", 0, "FRAC", T_TARGET,
     "stop when the greedy policy is optimal from FRAC of the start "
     "distribution (needs a model)"},
    {"alpha", 0, "A", T_ALPHA, "step size in (0, 1] (default 0.1)"},
    {"gamma", 0, "G", T_GAMMA, "discount in [0, 1] (default 0.95)"},
    {"epsilon", 0, "E", T_EPSILON, "exploration in [0, 1] (default 0.1)"},
    {"q0", 0, "V", T_Q0, "initial value of every entry (default 0)"},
    {"seed", 0, "N", T_SEED, "base seed (default 1)"},
    {"mode", 0, "MODE", T_MODE,
     "update discipline: cas (default), hogwild, locked"},
    {"pin", 0, "WHERE", T_PIN,
     "cores (default), none, or a PU list like 0,2,4-7"},
    {"strict-pin", 0, NULL, T_STRICT_PIN, "fail if a thread cannot be pinned"},
    {"pad", 0, NULL, T_PAD, "start each table row on its own cache line"},
    {"sync", 0, "K", T_SYNC,
     "replica mode: agents learn in private copies merged every K steps "
     "(default 0: update the shared table directly)"},
    {"save", 'o', "FILE", T_SAVE, "write a checkpoint when done"},
    {"quiet", 'q', NULL, T_QUIET, "no progress line"},
    {"no-exact", 0, NULL, T_NO_EXACT,
     "skip the exact evaluation of the greedy policy"},
    {NULL, 0, NULL, 0, NULL},
};

struct train_opts {
	const char *env_spec;
	uint32_t threads;
	uint64_t steps, episodes;
	double seconds, target;
	double alpha, gamma, epsilon, q0;
	uint64_t seed;
	dq_mode mode;
	dq_pin_policy pin;
	unsigned *pus;
	size_t n_pus;
	uint64_t sync;
	bool strict_pin, pad, quiet, exact;
	const char *save;
};

/* Defaults are the library's own, except the thread count (all cores). */
static void
train_defaults(struct train_opts *o)
{
	dq_agent_config ac;

	dq_agent_config_init(&ac);
	memset(o, 0, sizeof(*o));
	o->alpha = ac.alpha.start;
	o->gamma = ac.gamma;
	o->epsilon = ac.epsilon.start;
	o->seed = ac.seed;
	o->mode = DQ_MODE_CAS;
	o->pin = DQ_PIN_CORES;
	o->exact = true;
	o->threads = 0; /* "all", resolved after parsing */
}

/* One option with a value; 0 or CLI_USAGE after a message. */
static int
train_value(const struct cli_cmd *cmd, struct train_opts *o, int id,
	    const char *v)
{
	switch (id) {
	case T_THREADS:
		return cli_parse_threads(cmd, v, &o->threads);
	case T_STEPS:
		return cli_parse_u64(cmd, "--steps", v, 1, UINT64_MAX,
				     &o->steps);
	case T_EPISODES:
		return cli_parse_u64(cmd, "--episodes", v, 1, UINT64_MAX,
				     &o->episodes);
	case T_SECONDS:
		return cli_parse_double(cmd, "--seconds", v, 0.0, 1e9, true,
					&o->seconds);
	case T_TARGET:
		return cli_parse_double(cmd, "--target", v, 0.0, 1.0, true,
					&o->target);
	case T_ALPHA:
		return cli_parse_double(cmd, "--alpha", v, 0.0, 1.0, true,
					&o->alpha);
	case T_GAMMA:
		return cli_parse_double(cmd, "--gamma", v, 0.0, 1.0, false,
					&o->gamma);
	case T_EPSILON:
		return cli_parse_double(cmd, "--epsilon", v, 0.0, 1.0, false,
					&o->epsilon);
	case T_Q0:
		return cli_parse_double(cmd, "--q0", v, -1e300, 1e300, false,
					&o->q0);
	case T_SEED:
		return cli_parse_u64(cmd, "--seed", v, 0, UINT64_MAX, &o->seed);
	case T_MODE:
		return cli_parse_mode(cmd, v, &o->mode);
	case T_PIN:
		free(o->pus);
		return cli_parse_pin(cmd, v, &o->pin, &o->pus, &o->n_pus);
	case T_SYNC:
		return cli_parse_u64(cmd, "--sync", v, 0, 1u << 30, &o->sync);
	case T_SAVE:
		o->save = v;
		return 0;
	}
	return cli_usage_error(cmd, "internal: option %d", id);
}

static void
train_flag(struct train_opts *o, int id)
{
	if (id == T_STRICT_PIN)
		o->strict_pin = true;
	else if (id == T_PAD)
		o->pad = true;
	else if (id == T_QUIET)
		o->quiet = true;
	else if (id == T_NO_EXACT)
		o->exact = false;
}

static int
train_parse(const struct cli_cmd *cmd, int argc, char **argv,
	    struct train_opts *o)
{
	struct cli_args a;
	const char *val, *colon;
	int k;

	cli_args_init(&a, cmd, argc, argv);
	while ((k = cli_next(&a, &val)) >= 0) {
		if (!val)
			train_flag(o, k);
		else if (train_value(cmd, o, k, val))
			return CLI_USAGE;
	}
	if (k == CLI_ARGS_HELP)
		return CLI_ARGS_HELP;
	if (k == CLI_ARGS_ERR || cli_want_pos(&a, 1, 1))
		return CLI_USAGE;
	o->env_spec = a.pos[0];
	colon = strchr(o->env_spec, ':');
	if (o->save && colon && strlen(colon + 1) >= 256)
		return cli_usage_error(cmd, "environment parameters longer "
					    "than a checkpoint holds (255)");
	if (!o->steps && !o->episodes && !o->seconds && !o->target)
		o->steps = TRAIN_DEFAULT_STEPS;
	if (!o->threads)
		cli_parse_threads(cmd, "all", &o->threads);
	return CLI_OK;
}

/* ------------------------------------------------------------ running -- */

/*
 * Ctrl-C sets a flag that the learner's should_stop callback reads, so the
 * run ends through the normal path: threads joined, summary printed,
 * checkpoint saved. SA_RESETHAND makes a second Ctrl-C kill the program.
 * The flag is a lock-free atomic: the signal may land on an agent thread
 * while the monitor thread reads it.
 */
static atomic_int interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	/* Relaxed: the flag carries no data; the monitor polls it. */
	atomic_store_explicit(&interrupted, 1, memory_order_relaxed);
}

static int
should_stop(void *arg)
{
	(void)arg;
	/* Relaxed: see on_sigint(). */
	return atomic_load_explicit(&interrupted, memory_order_relaxed);
}

/* The progress line, rewritten in place on a terminal. */
static void
progress(const dq_progress *p, void *arg)
{
	char steps[16], rate[16], ret[32], opt[32];

	(void)arg;
	cli_si(steps, sizeof(steps), (double)p->total.steps);
	cli_si(rate, sizeof(rate), p->steps_per_second);
	if (isnan(p->total.mean_return))
		snprintf(ret, sizeof(ret), "-");
	else
		snprintf(ret, sizeof(ret), "%.3g", p->total.mean_return);
	opt[0] = '\0';
	if (!isnan(p->target_fraction))
		snprintf(opt, sizeof(opt), "  optimal %.1f%%",
			 100.0 * p->target_fraction);
	fprintf(stderr,
		"\r  %.1fs  %s steps  %s steps/s  eps %.2f  return %s%s\033[K",
		p->seconds, steps, rate, p->total.epsilon, ret, opt);
	fflush(stderr);
}

static void
train_config(const struct train_opts *o, dq_learner_config *c, bool live)
{
	dq_learner_config_init(c);
	c->n_threads = o->threads;
	c->agent.gamma = o->gamma;
	c->agent.alpha.kind = DQ_SCHEDULE_CONSTANT;
	c->agent.alpha.start = c->agent.alpha.end = o->alpha;
	c->agent.epsilon.kind = DQ_SCHEDULE_CONSTANT;
	c->agent.epsilon.start = c->agent.epsilon.end = o->epsilon;
	c->agent.seed = o->seed;
	c->agent.sync_every = (uint32_t)o->sync;
	c->max_steps = o->steps;
	c->max_episodes = o->episodes;
	c->max_seconds = o->seconds;
	c->target_fraction = o->target;
	c->pin = o->pin;
	c->pin_pus = o->pus;
	c->n_pin_pus = o->n_pus;
	c->pin_strict = o->strict_pin;
	c->should_stop = should_stop;
	if (live)
		c->progress = progress;
}

/* Run with Ctrl-C routed to should_stop(), and the old handler back after. */
static int
train_run(dq_learner *l, dq_run_result *res)
{
	struct sigaction sa, old;
	int err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	err = dq_learner_run(l, res);
	sigaction(SIGINT, &old, NULL);
	return err;
}

static int
train_failed(const dq_learner *l, int err)
{
	dq_run_error e;

	if (dq_learner_error(l, &e) == 0 && e.code) {
		fprintf(stderr,
			"distq: agent %u failed at step %llu in %s: %s\n",
			e.agent, (unsigned long long)e.step,
			e.what ? e.what : "?", cli_strerror(e.code));
		return CLI_FAIL;
	}
	return cli_fail(err, "training");
}

/* ------------------------------------------------------------ summary -- */

static const char *
stop_name(dq_stop_reason r)
{
	static const char *const names[] = {
	    [DQ_STOP_NONE] = "not stopped",
	    [DQ_STOP_STEPS] = "step limit",
	    [DQ_STOP_EPISODES] = "episode limit",
	    [DQ_STOP_TIME] = "time limit",
	    [DQ_STOP_CALLBACK] = "interrupted",
	    [DQ_STOP_REQUEST] = "stop request",
	    [DQ_STOP_TARGET] = "target reached",
	    [DQ_STOP_ERROR] = "agent error",
	};

	if ((unsigned)r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "unknown";
}

static const char *
pin_name(const struct train_opts *o)
{
	return o->pin == DQ_PIN_CORES  ? "cores"
	       : o->pin == DQ_PIN_NONE ? "none"
				       : "list";
}

static void
train_summary(const struct train_opts *o, const struct cli_env *e,
	      const dq_run_result *r)
{
	const dq_stats *t = &r->total;
	char rate[16];

	cli_si(rate, sizeof(rate),
	       r->seconds > 0 ? (double)t->steps / r->seconds : 0.0);
	cli_kv("environment", "%s%s%s\n", e->name, *e->params ? ":" : "",
	       e->params);
	cli_kv("agents", "%u (mode %s, pin %s)\n", o->threads,
	       cli_mode_name(o->mode), pin_name(o));
	cli_kv("steps", "%llu\n", (unsigned long long)t->steps);
	cli_kv("seconds", "%.3f\n", r->seconds);
	cli_kv("steps/s", "%s\n", rate);
	cli_kv("episodes", "%llu\n", (unsigned long long)t->episodes);
	if (isnan(t->mean_return))
		cli_kv("mean return", "- (no episode finished)\n");
	else
		cli_kv("mean return", "%.6g (last %llu episodes)\n",
		       t->mean_return, (unsigned long long)t->returns_n);
	cli_kv("cas retries/step", "%.3g\n",
	       t->steps ? (double)t->cas_retries / (double)t->steps : 0.0);
	cli_kv("stopped by", "%s\n", stop_name(r->reason));
	if (o->target > 0 && !isnan(r->target_seconds))
		cli_kv("target", "%.1f%% reached after %.3f s, %llu steps\n",
		       100.0 * o->target, r->target_seconds,
		       (unsigned long long)r->target_steps);
	else if (o->target > 0)
		cli_kv("target", "%.1f%% not reached (last %.1f%%)\n",
		       100.0 * o->target, 100.0 * r->target_fraction);
}

static void
train_exact(const struct train_opts *o, const struct cli_env *e,
	    const dq_table *t)
{
	struct cli_exact x;
	int err;

	if (!o->exact || !e->spec.max_outcomes)
		return;
	err = cli_exact(e->env, t, o->gamma, &x);
	if (err)
		cli_warn("exact evaluation skipped: %s", cli_strerror(err));
	else
		cli_exact_print(&x);
}

static int
train_save(const struct train_opts *o, const struct cli_env *e,
	   const dq_table *t, const dq_run_result *r)
{
	dq_checkpoint_meta m;
	int err;

	memset(&m, 0, sizeof(m));
	snprintf(m.env, sizeof(m.env), "%s", e->name);
	snprintf(m.params, sizeof(m.params), "%s", e->params);
	m.mode = o->mode;
	m.gamma = o->gamma;
	m.alpha = r->total.alpha;
	m.epsilon = r->total.epsilon;
	if (!isfinite(m.alpha) || !isfinite(m.epsilon)) {
		m.alpha = o->alpha; /* no agent published yet */
		m.epsilon = o->epsilon;
	}
	m.seed = o->seed;
	m.steps = r->total.steps;
	m.episodes = r->total.episodes;
	m.seconds = r->seconds;
	err = dq_checkpoint_save(o->save, t, &m);
	if (err)
		return cli_fail(err, "saving '%s'", o->save);
	cli_kv("saved", "%s\n", o->save);
	return CLI_OK;
}

/* --------------------------------------------------------------- main -- */

static int
train(const struct train_opts *o)
{
	dq_learner_config c;
	dq_learner *l = NULL;
	dq_table *t = NULL;
	dq_run_result r;
	struct cli_env e;
	bool live = !o->quiet && isatty(STDERR_FILENO);
	int status, err;

	if (cli_env_open(&e, o->env_spec))
		return CLI_FAIL;
	status = cli_table_create(&t, &e.spec, o->mode, o->q0, o->pad);
	if (status)
		goto out;
	train_config(o, &c, live);
	err = dq_learner_create(&l, t, e.env, &c);
	if (err) {
		status = cli_fail(err, "creating %u agents on '%s'", o->threads,
				  e.name);
		goto out;
	}
	err = train_run(l, &r);
	if (live)
		fputc('\n', stderr);
	if (err) {
		status = train_failed(l, err);
		goto out;
	}
	if (r.pin_failures)
		cli_warn("%u agents could not be pinned; running unpinned",
			 r.pin_failures);
	train_summary(o, &e, &r);
	train_exact(o, &e, t);
	if (o->save)
		status = train_save(o, &e, t, &r);
	/* A run cut short by Ctrl-C has done its duty (summary, checkpoint)
	 * but says so to the shell, as programs killed by SIGINT do. */
	if (status == CLI_OK && r.reason == DQ_STOP_CALLBACK)
		status = CLI_INTERRUPTED;
out:
	dq_learner_destroy(l);
	dq_table_destroy(t);
	cli_env_close(&e);
	return status;
}

int
cli_train(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct train_opts o;
	int status;

	train_defaults(&o);
	status = train_parse(cmd, argc, argv, &o);
	if (status == CLI_OK)
		status = train(&o);
	else if (status == CLI_ARGS_HELP)
		status = CLI_OK;
	free(o.pus);
	return status;
}
