/*
 * distq train: one shared table, one agent thread per core by default, a
 * live progress line while it runs and a summary when it stops.
 *
 * The program is a thin shell over dq_learner: every learning decision is
 * the library's. What is here is option handling, the progress line, the
 * Ctrl-C handling, the summary (including the exact solver's verdict on
 * the greedy policy for environments with a model), checkpoints (during
 * the run from the progress callback, and at the end) and resuming a run
 * from one.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* --sync auto (the default): the learner chooses the write path. */
#define TRAIN_SYNC_AUTO UINT64_MAX

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
	T_CHECKPOINT,
	T_EVERY,
	T_RESUME,
	T_QUIET,
	T_NO_EXACT,
	T_ALGO,
	T_SHARE,
	T_CURVE,
	T_PLOT,
	T_EVAL_EVERY,
	T_EVAL_EPISODES,
	T_TARGET_RETURN,
	T_TILES,
	T_REPLAY,
	T_TARGET_TABLE,
	T_SOFTMAX,
	T_NSTEP,
	T_LAMBDA,
	T_TRACE,
	T_TRACE_MAX,
	T_N
};

/* --eval-every when --curve, --plot or --target-return asks for an
 * evaluator without it: seconds. */
#define TRAIN_EVAL_EVERY 0.1

/* Which options the command line set, as bits by id. */
#define GIVEN(id) (UINT64_C(1) << (id))
_Static_assert(T_N <= 64, "option ids fit the bits of train_opts.given");

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
    {"alpha", 0, "A|SCHED", T_ALPHA,
     "step size in (0, 1] (default 0.1), or a schedule "
     "START:END:linear|exp:STEPS"},
    {"gamma", 0, "G", T_GAMMA, "discount in [0, 1] (default 0.95)"},
    {"epsilon", 0, "E|SCHED", T_EPSILON,
     "exploration in [0, 1] (default 0.1), or a schedule "
     "START:END:linear|exp:STEPS"},
    {"q0", 0, "V", T_Q0, "initial value of every entry (default 0)"},
    {"seed", 0, "N", T_SEED, "base seed (default 1)"},
    {"mode", 0, "MODE", T_MODE,
     "update discipline: cas (default), hogwild, locked"},
    {"pin", 0, "WHERE", T_PIN,
     "cores (default), none, or a PU list like 0,2,4-7"},
    {"strict-pin", 0, NULL, T_STRICT_PIN, "fail if a thread cannot be pinned"},
    {"pad", 0, NULL, T_PAD, "start each table row on its own cache line"},
    {"sync", 0, "K|auto", T_SYNC,
     "replica mode: agents write their updates back every K steps; 0: "
     "update the shared table directly; auto (default): the library "
     "chooses"},
    {"save", 'o', "FILE", T_SAVE,
     "write a checkpoint when done (the same as --checkpoint FILE)"},
    {"checkpoint", 0, "FILE", T_CHECKPOINT,
     "write resumable checkpoints to FILE: at the end, and during the run "
     "with --checkpoint-every"},
    {"checkpoint-every", 0, "S", T_EVERY,
     "also write the checkpoint every S seconds while training"},
    {"resume", 0, "FILE", T_RESUME,
     "continue the run saved in FILE: table, agents and counters; its "
     "hyperparameters unless given here (ENV may be left out); "
     "checkpoints go back to FILE unless --checkpoint names another"},
    {"quiet", 'q', NULL, T_QUIET, "no progress line"},
    {"algo", 0, "NAME", T_ALGO,
     "learning rule: q (default), sarsa, expected-sarsa, double-q, "
     "nstep-q, nstep-sarsa, q-lambda"},
    {"share", 0, "NAME[:P]", T_SHARE,
     "sync policy: none (default), distql[:tau=N][:all|partial][:eta=X]"
     "[:decay=X][:epsilon-decay=on|off] (agents learn on local tables; "
     "gamma 0.9 unless given), average[:steps=N|:seconds=S]; delta, "
     "exchange= and timeout=: distq-mpi only (docs/cli.md)"},
    {"tiles", 0, "SPEC|auto", T_TILES,
     "tile coding of the environment's observation: T tilings of "
     "B1,B2,... tiles per dimension, e.g. 8x4,4,8,8 (see distq(1)); auto: "
     "the tuned coder and settings of cartpole, mountaincar or acrobot"},
    {"replay", 0, "CAP[:B[:K]]", T_REPLAY,
     "experience replay: each agent keeps its last CAP transitions and "
     "replays K minibatches of B (defaults 4, 1) after each step "
     "(off-policy rules)"},
    {"target-table", 0, "C|polyak:TAU[:C]", T_TARGET_TABLE,
     "bootstrap from a target table refreshed every C total steps, by a "
     "copy or by Polyak averaging with TAU (C default 1) (off-policy "
     "rules)"},
    {"softmax", 0, "T|SCHED", T_SOFTMAX,
     "choose actions by softmax at temperature T in [0, 1e6] (0: "
     "greedy), or a schedule START:END:linear|exp:STEPS, instead of "
     "epsilon-greedy"},
    {"nstep", 0, "N", T_NSTEP,
     "n of nstep-q and nstep-sarsa, 1 to 1024 (default 3)"},
    {"lambda", 0, "L", T_LAMBDA, "lambda of q-lambda in [0, 1] (default 0.9)"},
    {"trace", 0, "KIND", T_TRACE,
     "q-lambda's traces: accumulating (default) or replacing"},
    {"trace-max", 0, "N", T_TRACE_MAX,
     "the most traces q-lambda keeps per agent, 1 to 65536 (default 64)"},
    {"no-exact", 0, NULL, T_NO_EXACT,
     "skip the exact evaluation of the greedy policy"},
    {"curve", 0, "FILE", T_CURVE,
     "write the learning curve to FILE as CSV, a row per evaluation of the "
     "greedy policy, flushed as the run goes"},
    {"plot", 0, "FILE", T_PLOT,
     "draw the learning curve into FILE (PNG, with gnuplot): return "
     "against wall time and against steps"},
    {"eval-every", 0, "N|Ss|Nep", T_EVAL_EVERY,
     "evaluate the greedy policy every N total steps (k/M/G suffixes), "
     "S seconds (0.5s) or N episodes (20ep); default 0.1s with --curve, "
     "--plot or --target-return"},
    {"eval-episodes", 0, "N", T_EVAL_EPISODES,
     "greedy episodes per evaluation (default 100)"},
    {"target-return", 0, "R", T_TARGET_RETURN,
     "stop when the greedy mean return of an evaluation reaches R"},
    {NULL, 0, NULL, 0, NULL},
};

struct train_opts {
	const char *env_spec; /* NULL when resuming without ENV */
	uint32_t threads;     /* 0: all cores, or the checkpoint's agents */
	uint64_t steps, episodes;
	double seconds, target;
	double alpha, gamma, epsilon, q0; /* alpha, epsilon: at the start */
	dq_schedule alpha_sched, epsilon_sched;
	uint64_t seed;
	dq_rule rule;	       /* --algo */
	dq_share_config share; /* --share */
	bool share_eps;	       /* --share named epsilon-decay */
	uint32_t replay_cap, replay_batch, replay_k; /* --replay */
	uint32_t target_every;			     /* --target-table */
	double target_tau;
	dq_policy policy; /* --softmax */
	uint64_t nstep;	  /* --nstep */
	double lambda;	  /* --lambda */
	dq_trace trace;	  /* --trace */
	/* --trace-max */
	uint64_t trace_max;
	dq_mode mode;
	dq_pin_policy pin;
	unsigned *pus;
	size_t n_pus;
	uint64_t sync; /* TRAIN_SYNC_AUTO: the library's choice */
	bool strict_pin, pad, quiet, exact;
	const char *save;	/* --save */
	const char *checkpoint; /* --checkpoint, or --save */
	double every;		/* --checkpoint-every; 0: only at the end */
	const char *resume;	/* --resume */
	const char *alpha_text, *epsilon_text; /* as given */
	const char *curve, *plot;	       /* --curve, --plot */
	double eval_every;		       /* 0: no evaluator */
	dq_eval_unit eval_unit;
	uint64_t eval_episodes;
	double target_return; /* NaN: none */
	const char *tiles;    /* --tiles */
	uint64_t given;	      /* GIVEN(id) of every option set */
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
	o->alpha_sched = ac.alpha;
	o->epsilon_sched = ac.epsilon;
	o->seed = ac.seed;
	o->nstep = ac.nstep;
	o->lambda = ac.lambda;
	o->trace_max = ac.trace_max;
	o->mode = DQ_MODE_CAS;
	o->sync = TRAIN_SYNC_AUTO;
	o->pin = DQ_PIN_CORES;
	o->exact = true;
	o->threads = 0; /* resolved when the run starts */
	o->eval_unit = DQ_EVAL_SECONDS;
	o->eval_episodes = 100;
	o->target_return = NAN;
}

/*
 * A step size or exploration rate: a number V (constant), or a schedule
 * START:END:SHAPE:STEPS, SHAPE "linear" (START to END over STEPS total
 * steps, then END) or "exp" (END + (START - END) exp(-t / STEPS)). STEPS
 * is a positive number and may end in k, M or G: 1M, 2.5e5.
 */
static int
parse_schedule(const struct cli_cmd *cmd, const char *opt, const char *v,
	       bool open_lo, double hi, dq_schedule *out)
{
	char part[4][64], *end, what[3][48];
	const char *p = v;
	double mul = 1;
	size_t len;
	int n = 0;

	for (;;) { /* at most four parts, each short */
		len = strcspn(p, ":");
		if (n == 4 || len >= sizeof(part[0]))
			goto bad;
		memcpy(part[n], p, len);
		part[n++][len] = '\0';
		if (!p[len])
			break;
		p += len + 1;
	}
	if (n == 1) {
		out->kind = DQ_SCHEDULE_CONSTANT;
		out->steps = 1;
		if (cli_parse_double(cmd, opt, part[0], 0.0, hi, open_lo,
				     &out->start))
			return CLI_USAGE;
		out->end = out->start;
		return 0;
	}
	if (n != 4)
		goto bad;
	if (!strcmp(part[2], "linear"))
		out->kind = DQ_SCHEDULE_LINEAR;
	else if (!strcmp(part[2], "exp"))
		out->kind = DQ_SCHEDULE_EXP;
	else
		goto bad;
	len = strlen(part[3]);
	end = len ? part[3] + len - 1 : part[3];
	if (*end == 'k' || *end == 'M' || *end == 'G') {
		mul = *end == 'k' ? 1e3 : *end == 'M' ? 1e6 : 1e9;
		*end = '\0';
	}
	/* each field named: "--epsilon steps: '0' is out of range" */
	snprintf(what[0], sizeof(what[0]), "%s start", opt);
	snprintf(what[1], sizeof(what[1]), "%s end", opt);
	snprintf(what[2], sizeof(what[2]), "%s steps", opt);
	if (cli_parse_double(cmd, what[0], part[0], 0.0, hi, open_lo,
			     &out->start) ||
	    cli_parse_double(cmd, what[1], part[1], 0.0, hi, open_lo,
			     &out->end) ||
	    cli_parse_double(cmd, what[2], part[3], 0.0, 1e18, true,
			     &out->steps))
		return CLI_USAGE;
	out->steps *= mul;
	return 0;
bad:
	return cli_usage_error(cmd,
			       "%s: '%s' is neither a number nor a schedule "
			       "START:END:linear|exp:STEPS",
			       opt, v);
}

/* A schedule's value at schedule time @t, as the agents compute it. */
static double
sched_at(const dq_schedule *d, double t)
{
	if (d->kind == DQ_SCHEDULE_LINEAR)
		return t >= d->steps
			   ? d->end
			   : d->start + (d->end - d->start) * t / d->steps;
	if (d->kind == DQ_SCHEDULE_EXP)
		return d->end + (d->start - d->end) * exp(-t / d->steps);
	return d->start;
}

/*
 * --eval-every: "0.5s" seconds, "20ep" episodes, else total steps with an
 * optional k, M or G.
 */
static int
parse_eval_every(const struct cli_cmd *cmd, const char *v, struct train_opts *o)
{
	size_t len = strlen(v);
	char num[64];
	uint64_t n;

	if (len >= sizeof(num))
		return cli_usage_error(cmd, "--eval-every %s: too long", v);
	memcpy(num, v, len + 1);
	if (len > 1 && num[len - 1] == 's') {
		num[len - 1] = '\0';
		o->eval_unit = DQ_EVAL_SECONDS;
		return cli_parse_double(cmd, "--eval-every", num, 0.0, 1e9,
					true, &o->eval_every);
	}
	o->eval_unit = DQ_EVAL_STEPS;
	if (len > 2 && !strcmp(num + len - 2, "ep")) {
		num[len - 2] = '\0';
		o->eval_unit = DQ_EVAL_EPISODES;
	}
	if (cli_parse_u64(cmd, "--eval-every", num, 1, UINT64_MAX, &n))
		return CLI_USAGE;
	o->eval_every = (double)n;
	return 0;
}

/*
 * Up to three unsigned fields A[:B[:C]] of @v into out[] (those not given
 * keep their values), each in [1, max[i]]. 0, or CLI_USAGE after a
 * message.
 */
static int
parse_fields(const struct cli_cmd *cmd, const char *opt, const char *v,
	     const uint64_t max[3], uint32_t out[3])
{
	char buf[96];
	char *f = buf, *colon;
	int i = 0;

	if (strlen(v) >= sizeof(buf))
		return cli_usage_error(cmd, "%s %s: too long", opt, v);
	strcpy(buf, v);
	for (;;) {
		uint64_t x;

		colon = strchr(f, ':');
		if (colon)
			*colon = '\0';
		if (i == 3)
			return cli_usage_error(cmd, "%s %s: at most 3 fields",
					       opt, v);
		if (cli_parse_u64(cmd, opt, f, 1, max[i], &x))
			return CLI_USAGE;
		out[i++] = (uint32_t)x;
		if (!colon)
			return 0;
		f = colon + 1;
	}
}

/* --target-table C or polyak:TAU[:C]. */
static int
parse_target_table(const struct cli_cmd *cmd, struct train_opts *o,
		   const char *v)
{
	const uint64_t max[3] = {UINT32_MAX, 0, 0};
	uint32_t c[3] = {1, 0, 0};
	char buf[64], *colon;

	if (strncmp(v, "polyak:", 7)) {
		o->target_tau = 0.0;
		if (parse_fields(cmd, "--target-table", v, max, c))
			return CLI_USAGE;
		o->target_every = c[0];
		return 0;
	}
	if (strlen(v + 7) >= sizeof(buf))
		return cli_usage_error(cmd, "--target-table %s: too long", v);
	strcpy(buf, v + 7);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (cli_parse_double(cmd, "--target-table polyak:TAU", buf, 0.0, 1.0,
			     true, &o->target_tau))
		return CLI_USAGE;
	if (colon && parse_fields(cmd, "--target-table", colon + 1, max, c))
		return CLI_USAGE;
	o->target_every = c[0];
	return 0;
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
		o->alpha_text = v;
		if (parse_schedule(cmd, "--alpha", v, true, 1.0,
				   &o->alpha_sched))
			return CLI_USAGE;
		o->alpha = o->alpha_sched.start;
		return 0;
	case T_GAMMA:
		return cli_parse_double(cmd, "--gamma", v, 0.0, 1.0, false,
					&o->gamma);
	case T_EPSILON:
		o->epsilon_text = v;
		if (parse_schedule(cmd, "--epsilon", v, false, 1.0,
				   &o->epsilon_sched))
			return CLI_USAGE;
		o->epsilon = o->epsilon_sched.start;
		return 0;
	case T_Q0:
		return cli_parse_double(cmd, "--q0", v, -1e300, 1e300, false,
					&o->q0);
	case T_SEED:
		return cli_parse_u64(cmd, "--seed", v, 0, UINT64_MAX, &o->seed);
	case T_MODE:
		return cli_parse_mode(cmd, v, &o->mode);
	case T_PIN:
		/* A second --pin replaces the first; a bad one must not leave
		 * the freed list behind for cli_train() to free again. */
		free(o->pus);
		o->pus = NULL;
		o->n_pus = 0;
		return cli_parse_pin(cmd, v, &o->pin, &o->pus, &o->n_pus);
	case T_SYNC:
		if (strcmp(v, "auto") == 0) {
			o->sync = TRAIN_SYNC_AUTO;
			return 0;
		}
		return cli_parse_u64(cmd, "--sync", v, 0, 1u << 30, &o->sync);
	case T_SAVE:
		return cli_parse_path(cmd, "--save", v, &o->save);
	case T_CHECKPOINT:
		return cli_parse_path(cmd, "--checkpoint", v, &o->checkpoint);
	case T_EVERY:
		return cli_parse_double(cmd, "--checkpoint-every", v, 0.0, 1e9,
					true, &o->every);
	case T_RESUME:
		return cli_parse_path(cmd, "--resume", v, &o->resume);
	case T_CURVE:
		return cli_parse_path(cmd, "--curve", v, &o->curve);
	case T_PLOT:
		return cli_parse_path(cmd, "--plot", v, &o->plot);
	case T_EVAL_EVERY:
		return parse_eval_every(cmd, v, o);
	case T_EVAL_EPISODES:
		return cli_parse_u64(cmd, "--eval-episodes", v, 1, 10000000,
				     &o->eval_episodes);
	case T_TARGET_RETURN:
		return cli_parse_double(cmd, "--target-return", v, -1e300,
					1e300, false, &o->target_return);
	case T_TILES: {
		dq_tiles_config tc;

		/* the form now (exit 2); the dimension once the env is open */
		memset(&tc, 0, sizeof(tc));
		if (strcmp(v, "auto") && dq_tiles_config_parse(&tc, v))
			return cli_usage_error(cmd, "--tiles '%s': %s", v,
					       dq_error_detail());
		o->tiles = v;
		return 0;
	}
	case T_ALGO:
		if (dq_rule_from_name(v, &o->rule))
			return cli_usage_error(
			    cmd,
			    "--algo %s: not a rule (q, sarsa, "
			    "expected-sarsa, double-q, nstep-q, "
			    "nstep-sarsa, q-lambda)",
			    v);
		return 0;
	case T_SHARE: {
		struct cli_share sh;
		char why[200];

		if (cli_share_parse(v, &sh, why, sizeof(why)))
			return cli_usage_error(cmd,
					       "--share %s: %s (expected "
					       "%s)",
					       v, why, cli_share_usage);
		if (cli_share_local(&sh, &o->share, why, sizeof(why)))
			return cli_usage_error(cmd, "--share %s: %s", v, why);
		o->share_eps = sh.epsilon_decay >= 0;
		return 0;
	}
	case T_REPLAY: {
		const uint64_t max[3] = {
		    DQ_REPLAY_MAX_BYTES / DQ_REPLAY_TRANSITION_BYTES,
		    DQ_REPLAY_MAX_PER_STEP, DQ_REPLAY_MAX_PER_STEP};
		uint32_t f[3] = {0, 4, 1};

		if (parse_fields(cmd, "--replay", v, max, f))
			return CLI_USAGE;
		if ((uint64_t)f[1] * f[2] > DQ_REPLAY_MAX_PER_STEP)
			return cli_usage_error(cmd,
					       "--replay %s: B x K above %u", v,
					       DQ_REPLAY_MAX_PER_STEP);
		o->replay_cap = f[0];
		o->replay_batch = f[1];
		o->replay_k = f[2];
		return 0;
	}
	case T_TARGET_TABLE:
		return parse_target_table(cmd, o, v);
	case T_SOFTMAX: /* the temperature is the epsilon schedule */
		o->epsilon_text = v;
		o->policy = DQ_POLICY_SOFTMAX;
		if (parse_schedule(cmd, "--softmax", v, false,
				   DQ_TEMPERATURE_MAX, &o->epsilon_sched))
			return CLI_USAGE;
		o->epsilon = o->epsilon_sched.start;
		return 0;
	case T_NSTEP:
		return cli_parse_u64(cmd, "--nstep", v, 1, DQ_NSTEP_MAX,
				     &o->nstep);
	case T_LAMBDA:
		return cli_parse_double(cmd, "--lambda", v, 0.0, 1.0, false,
					&o->lambda);
	case T_TRACE:
		if (!strcmp(v, "accumulating"))
			o->trace = DQ_TRACE_ACCUMULATING;
		else if (!strcmp(v, "replacing"))
			o->trace = DQ_TRACE_REPLACING;
		else
			return cli_usage_error(cmd,
					       "--trace %s: accumulating or "
					       "replacing",
					       v);
		return 0;
	case T_TRACE_MAX:
		return cli_parse_u64(cmd, "--trace-max", v, 1, DQ_TRACE_MAX_CAP,
				     &o->trace_max);
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

/*
 * The rule parameters given for a rule that has none of them (--nstep
 * without nstep-q or nstep-sarsa, --lambda, --trace or --trace-max without
 * q-lambda): the first one's name, or NULL. A parameter another rule
 * would silently ignore is a usage error, not a no-op.
 */
static const char *
rule_option_misplaced(const struct train_opts *o)
{
	static const struct {
		int id;
		const char *name;
		dq_rule r1, r2;
	} own[] = {
	    {T_NSTEP, "--nstep", DQ_RULE_NSTEP_Q, DQ_RULE_NSTEP_SARSA},
	    {T_LAMBDA, "--lambda", DQ_RULE_Q_LAMBDA, DQ_RULE_Q_LAMBDA},
	    {T_TRACE, "--trace", DQ_RULE_Q_LAMBDA, DQ_RULE_Q_LAMBDA},
	    {T_TRACE_MAX, "--trace-max", DQ_RULE_Q_LAMBDA, DQ_RULE_Q_LAMBDA},
	};

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if ((o->given & GIVEN(own[i].id)) && o->rule != own[i].r1 &&
		    o->rule != own[i].r2)
			return own[i].name;
	return NULL;
}

/*
 * Every usage error of train is found here, before anything is opened: the
 * checks that combine options as well as each option's own.
 */
static int
train_parse(const struct cli_cmd *cmd, int argc, char **argv,
	    struct train_opts *o)
{
	struct cli_args a;
	const char *val, *colon;
	int k;

	cli_args_init(&a, cmd, argc, argv);
	while ((k = cli_next(&a, &val)) >= 0) {
		o->given |= GIVEN(k);
		if (!val)
			train_flag(o, k);
		else if (train_value(cmd, o, k, val))
			return CLI_USAGE;
	}
	if (k == CLI_ARGS_HELP)
		return CLI_ARGS_HELP;
	if (k == CLI_ARGS_ERR || cli_want_pos(&a, o->resume ? 0 : 1, 1))
		return CLI_USAGE;
	o->env_spec = a.npos ? a.pos[0] : NULL;
	if (o->save && o->checkpoint && strcmp(o->save, o->checkpoint))
		return cli_usage_error(cmd, "--save and --checkpoint name "
					    "different files (--save FILE is "
					    "--checkpoint FILE)");
	if (!o->checkpoint)
		o->checkpoint = o->save;
	/* A resumed run's work goes back where it came from, unless told
	 * otherwise: without this, it would be thrown away at exit. */
	if (!o->checkpoint)
		o->checkpoint = o->resume;
	if (o->every > 0 && !o->checkpoint)
		return cli_usage_error(cmd, "--checkpoint-every needs "
					    "--checkpoint FILE");
	if (o->resume && (o->given & GIVEN(T_Q0)))
		return cli_usage_error(cmd, "--q0 cannot be used with "
					    "--resume: the table comes from "
					    "the checkpoint");
	if (o->share.kind == DQ_SHARE_DISTQL && o->rule == DQ_RULE_DOUBLE_Q)
		return cli_usage_error(cmd, "--share distql keeps eta_c in a "
					    "second table channel: no "
					    "--algo double-q");
	if (o->share.kind != DQ_SHARE_NONE && o->sync &&
	    o->sync != TRAIN_SYNC_AUTO)
		return cli_usage_error(cmd, "--share: agents learn on local "
					    "tables; no --sync K");
	/* The study's defaults for what the command line did not set:
	 * gamma 0.9, epsilon 0.1 decaying per episode (an --epsilon given
	 * is kept as given, without that decay unless the policy names
	 * epsilon-decay=on). */
	if (o->share.kind == DQ_SHARE_DISTQL) {
		if (!(o->given & GIVEN(T_GAMMA)))
			o->gamma = 0.9;
		if ((o->given & GIVEN(T_EPSILON)) && !o->share_eps)
			o->share.flags &= ~DQ_SHARE_EPSILON_DECAY;
		if (o->epsilon_sched.kind != DQ_SCHEDULE_CONSTANT &&
		    (o->share.flags & DQ_SHARE_EPSILON_DECAY))
			return cli_usage_error(
			    cmd, "--share distql:epsilon-decay=on needs a "
				 "constant --epsilon");
	}
	if (o->tiles && o->sync != TRAIN_SYNC_AUTO)
		return cli_usage_error(cmd, "--tiles updates the shared "
					    "weights directly: no --sync");
	if (o->tiles && o->share.kind != DQ_SHARE_NONE)
		return cli_usage_error(cmd, "--tiles updates the shared "
					    "weights directly: no --share");
	if (o->tiles && (o->rule == DQ_RULE_DOUBLE_Q || o->target))
		return cli_usage_error(cmd, "--tiles takes --algo q, sarsa, "
					    "expected-sarsa, nstep-q, "
					    "nstep-sarsa or q-lambda, and no "
					    "--target");
	if ((o->replay_cap || o->target_every) && (o->rule == DQ_RULE_SARSA))
		return cli_usage_error(cmd, "--replay and --target-table need "
					    "an off-policy rule (q, "
					    "expected-sarsa, double-q): sarsa "
					    "bootstraps from the action its "
					    "current policy takes next");
	if ((o->replay_cap || o->target_every) &&
	    o->share.kind != DQ_SHARE_NONE)
		return cli_usage_error(cmd, "--replay and --target-table "
					    "take no --share");
	if (o->rule == DQ_RULE_Q_LAMBDA && o->sync != TRAIN_SYNC_AUTO &&
	    o->sync)
		return cli_usage_error(cmd, "--algo q-lambda writes every "
					    "traced entry each step: it runs "
					    "with direct updates only (--sync "
					    "0 or auto)");
	/* (resumed without --algo: resume_read() checks the file's rule) */
	if (!o->resume || (o->given & GIVEN(T_ALGO))) {
		const char *opt = rule_option_misplaced(o);

		if (opt)
			return cli_usage_error(cmd,
					       "%s is not a parameter "
					       "of --algo %s",
					       opt, dq_rule_name(o->rule));
	}
	if ((o->given & GIVEN(T_SOFTMAX)) && (o->given & GIVEN(T_EPSILON)))
		return cli_usage_error(cmd, "--softmax and --epsilon: the "
					    "temperature replaces epsilon, "
					    "give one");
	colon = o->env_spec ? strchr(o->env_spec, ':') : NULL;
	if (o->checkpoint && colon && strlen(colon + 1) >= 256)
		return cli_usage_error(cmd, "environment parameters longer "
					    "than a checkpoint holds (255)");
	if (o->curve && o->plot && !strcmp(o->curve, o->plot))
		return cli_usage_error(cmd, "--curve and --plot name the same "
					    "file");
	if (!o->eval_every && (o->curve || o->plot || !isnan(o->target_return)))
		o->eval_every = TRAIN_EVAL_EVERY;
	if (!o->steps && !o->episodes && !o->seconds && !o->target &&
	    isnan(o->target_return))
		o->steps = TRAIN_DEFAULT_STEPS;
	return CLI_OK;
}

/* ------------------------------------------------------------ running -- */

/*
 * Ctrl-C sets a flag that the learner's should_stop callback reads, so the
 * run ends through the normal path: threads joined, summary printed,
 * checkpoint saved. SA_RESETHAND makes a second Ctrl-C kill the program
 * while it trains; while the final checkpoint is written, Ctrl-C only sets
 * the flag again, so that no temporary file is left half written, and
 * during the exact evaluation after it, the flag stops the evaluation.
 * The flag is a lock-free atomic: the signal may land on an agent thread
 * while the monitor thread reads it.
 */
static atomic_int interrupted;

const struct cli_train_hooks *cli_train_hooks;

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

/*
 * What one run of train carries around, shared with the progress callback.
 * The callback runs in the thread that called dq_learner_run(), which is
 * the learner's monitor while the agents learn, so nothing here is touched
 * by two threads at once.
 *
 * Counters: the learner's totals are the sum of its agents' counters, and
 * a resumed agent's counters go on from its checkpoint. The base_* fields
 * hold what earlier runs counted beyond the agents restored here (agents
 * of the checkpoint this run has no slot for, or a checkpoint without
 * agent states), so that base + the learner's totals is the whole run's.
 */
struct train_ctx {
	const struct train_opts *o;
	const struct cli_env *e;
	const dq_table *t;
	dq_learner *l;
	uint32_t n;		/* agents */
	dq_agent_state *agents; /* n slots, for checkpoints */
	uint64_t base_steps, base_episodes;
	double base_seconds;
	uint64_t start_steps; /* the learner's total when this run started */
	bool live;	      /* the progress line is on */
	/* Progress line: the rate since the previous line. */
	double last_seconds;
	uint64_t last_steps;
	/* Checkpoints during the run. */
	double next_checkpoint; /* run seconds */
	unsigned checkpoints, checkpoint_failures;
	/* The learning curve (--curve, --plot): its rows and last record. */
	struct cli_curve curve;
	char curve_tmp[64]; /* --plot without --curve: a temporary CSV */
};

/* a + b, or UINT64_MAX past it: counts restored near 2^64 never wrap. */
static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The progress line, rewritten in place on a terminal. */
static void
progress_line(struct train_ctx *x, const dq_progress *p)
{
	char steps[16], rate[16], ret[32], opt[32], greedy[40];
	double dt = p->seconds - x->last_seconds;
	uint64_t ds =
	    p->total.steps > x->last_steps ? p->total.steps - x->last_steps : 0;

	/* The rate is computed here rather than taken from the library's
	 * p->steps_per_second so that restored agents' counts are not
	 * mistaken for steps of this run. */
	x->last_seconds = p->seconds;
	x->last_steps = p->total.steps;
	cli_si(steps, sizeof(steps),
	       (double)sat_add(x->base_steps, p->total.steps));
	cli_si(rate, sizeof(rate), dt > 0 ? (double)ds / dt : 0.0);
	if (isnan(p->total.mean_return))
		snprintf(ret, sizeof(ret), "-");
	else
		snprintf(ret, sizeof(ret), "%.3g", p->total.mean_return);
	opt[0] = '\0';
	if (!isnan(p->target_fraction))
		snprintf(opt, sizeof(opt), "  optimal %.1f%%",
			 100.0 * p->target_fraction);
	/* The evaluator's last figure (its callback runs on this thread). */
	greedy[0] = '\0';
	if (x->curve.rows)
		snprintf(greedy, sizeof(greedy), "  greedy %.3g",
			 x->curve.last.mean_return);
	fprintf(
	    stderr,
	    "\r  %.1fs  %s steps  %s steps/s  eps %.2f  return %s%s%s\033[K",
	    p->seconds, steps, rate, p->total.epsilon, ret, opt, greedy);
	fflush(stderr);
}

/*
 * Agent @i's resumable state as last published. An agent publishes every
 * 1024 of its steps; before its first publication the learner reports an
 * all-zero state, and the state of that agent at its start is the right
 * stand-in: its stream (stream i of the seed, as the learner seeds it),
 * zero counters and clocks. A restored agent is published at once.
 */
static int
agent_state(struct train_ctx *x, uint32_t i, dq_agent_state *st)
{
	const uint64_t *r = st->rng.s;
	int err = dq_learner_agent_state(x->l, i, st);

	if (err || (r[0] | r[1] | r[2] | r[3]))
		return err;
	memset(st, 0, sizeof(*st));
	return dq_rng_seed(&st->rng, x->o->seed, i);
}

/*
 * Write the checkpoint: the table (read during the save), the rule and its
 * parameters, the run's description, and each agent's state. The step and
 * episode counts are the sums of the states read here, so that a resume
 * finds the file's totals equal to its agents' counts plus the base; the
 * library reads the states it writes again, just after (during a run they
 * may be up to one publication newer, which a resume's base absorbs).
 */
static int
train_checkpoint(struct train_ctx *x, double seconds, bool final)
{
	const struct train_opts *o = x->o;
	const dq_agent_state *st = x->agents;
	uint32_t n = x->n;
	uint64_t steps = 0, episodes = 0;
	dq_checkpoint_meta m;
	dq_checkpoint_world w;
	const bool world = cli_train_hooks && !cli_train_hooks->world(&w);

	/* Over MPI ranks, every checkpoint holds every rank's agents (during
	 * the run, as gathered last) and the world. */
	if (world) {
		int err = cli_train_hooks->states(&st, &n);

		if (err)
			return err;
	} else if (!final || !cli_train_hooks ||
		   cli_train_hooks->states(&st, &n)) {
		st = x->agents;
		n = x->n;
		for (uint32_t i = 0; i < x->n; i++) {
			int err = agent_state(x, i, &x->agents[i]);

			if (err)
				return err;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		steps = sat_add(steps, st[i].steps);
		episodes = sat_add(episodes, st[i].episodes);
	}
	memset(&m, 0, sizeof(m));
	snprintf(m.env, sizeof(m.env), "%s", x->e->name);
	snprintf(m.params, sizeof(m.params), "%s", x->e->params);
	m.mode = o->mode;
	m.gamma = o->gamma;
	/* The values reached (the schedules are not in the file): a resume
	 * without --alpha or --epsilon goes on from them, constant. */
	m.alpha = sched_at(&o->alpha_sched, n ? st[0].alpha_clock : 0);
	m.epsilon = sched_at(&o->epsilon_sched, n ? st[0].epsilon_clock : 0);
	m.seed = o->seed;
	m.steps = sat_add(x->base_steps, steps);
	m.episodes = sat_add(x->base_episodes, episodes);
	m.seconds = x->base_seconds + seconds;
	/* Over MPI, the final checkpoint holds every rank's agents (and
	 * no rule section: libdistq-mpi runs what the file's table says). */
	if (world)
		return dq_checkpoint_save_world(o->checkpoint, x->t, &m, st, n,
						&w);
	if (final && cli_train_hooks && st != x->agents)
		return dq_checkpoint_save_run(o->checkpoint, x->t, &m, st, n);
	return dq_checkpoint_save_learner(o->checkpoint, x->l, &m);
}

/*
 * The learner's progress callback. A checkpoint that fails during the run
 * is reported and training goes on: the next one may succeed, and the one
 * at the end decides the exit status.
 */
static void
progress(const dq_progress *p, void *arg)
{
	struct train_ctx *x = arg;
	int err;

	if (x->live)
		progress_line(x, p);
	if (x->o->every <= 0 || p->seconds < x->next_checkpoint)
		return;
	x->next_checkpoint = p->seconds + x->o->every;
	err = train_checkpoint(x, p->seconds, false);
	if (!err) {
		x->checkpoints++;
		return;
	}
	x->checkpoint_failures++;
	if (x->live)
		fputc('\n', stderr);
	cli_warn("checkpoint '%s' at %.1f s: %s (training goes on)",
		 x->o->checkpoint, p->seconds, cli_strerror(err));
}

/* The learner's evaluator callback (the monitor thread): a CSV row. */
static void
on_eval(const dq_eval_record *r, void *arg)
{
	struct train_ctx *x = arg;

	cli_curve_row(&x->curve, r);
}

/* @rule: the rule's parameters of a resumed checkpoint (its rule and
 * parameters: dq_checkpoint_read_rule()), or NULL. */
static void
train_config(const struct train_opts *o, dq_learner_config *c,
	     struct train_ctx *x, const dq_agent_config *rule)
{
	dq_learner_config_init(c);
	if (rule)
		c->agent = *rule;
	c->n_threads = o->threads;
	c->agent.gamma = o->gamma;
	c->agent.alpha = o->alpha_sched;
	c->agent.epsilon = o->epsilon_sched;
	c->agent.seed = o->seed;
	c->agent.rule = o->rule;
	c->share = o->share;
	c->agent.replay_capacity = o->replay_cap;
	c->agent.replay_batch = o->replay_cap ? o->replay_batch : 0;
	c->agent.replay_minibatches = o->replay_cap ? o->replay_k : 0;
	c->agent.target_every = o->target_every;
	c->agent.target_tau = o->target_tau;
	c->agent.policy = o->policy;
	c->agent.nstep = (uint32_t)o->nstep;
	c->agent.lambda = o->lambda;
	c->agent.trace = o->trace;
	c->agent.trace_max = (uint32_t)o->trace_max;
	if (o->sync == TRAIN_SYNC_AUTO) {
		c->write_path = DQ_WRITE_AUTO;
	} else {
		c->write_path = o->sync ? DQ_WRITE_AUTO : DQ_WRITE_DIRECT;
		c->agent.sync_every = (uint32_t)o->sync;
	}
	c->max_steps = o->steps;
	c->max_episodes = o->episodes;
	c->max_seconds = o->seconds;
	c->target_fraction = o->target;
	c->pin = o->pin;
	c->pin_pus = o->pus;
	c->n_pin_pus = o->n_pus;
	c->pin_strict = o->strict_pin;
	c->should_stop = should_stop;
	if (x->live || o->every > 0) {
		c->progress = progress;
		c->progress_arg = x;
	}
	c->eval_every = o->eval_every;
	c->eval_unit = o->eval_unit;
	c->eval_episodes = (uint32_t)o->eval_episodes;
	c->target_return = o->target_return;
	if (o->eval_every > 0) {
		c->eval_callback = on_eval;
		c->eval_arg = x;
	}
}

/* Route Ctrl-C to should_stop(); @once: a second one kills (as before
 * it was caught). The handler before the first call is kept in @old. */
static void
catch_sigint(bool once, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sa.sa_flags = once ? SA_RESETHAND : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, old);
}

/* Run with Ctrl-C routed to should_stop(); the caller restores @old once
 * the phases after the run (save, exact evaluation) are done. */
static int
train_run(dq_learner *l, dq_run_result *res, struct sigaction *old)
{
	catch_sigint(true, old);
	if (cli_train_hooks)
		return cli_train_hooks->run(l, res);
	return dq_learner_run(l, res);
}

static int
train_failed(const dq_learner *l, int err)
{
	dq_run_error e;

	if (cli_train_hooks)
		return cli_train_hooks->failed(err);
	if (dq_learner_error(l, &e) == 0 && e.code) {
		fprintf(stderr,
			"distq: agent %u failed at step %llu in %s: %s\n",
			e.agent, (unsigned long long)e.step,
			e.what ? e.what : "?", cli_strerror(e.code));
		return CLI_FAIL;
	}
	return cli_fail(err, "training");
}

/* ------------------------------------------------------------- resume -- */

/* A checkpoint being resumed: its header, its rule's parameters, and how
 * many agents' states it restored. */
struct train_resume {
	dq_checkpoint_meta m;
	dq_agent_config rule;	/* defaults, with the file's rule parameters */
	dq_tiles_config tiles;	/* the file's tile coder; dim 0: none */
	uint32_t n_agents;	/* states restored */
	dq_agent_state *agents; /* over MPI: every rank's states */
	dq_checkpoint_world world; /* over MPI: the file's, ranks 0: none */
	/* "env:params" when ENV was left out */
	char spec[sizeof(((dq_checkpoint_meta *)0)->env) + 1 +
		  sizeof(((dq_checkpoint_meta *)0)->params)];
};

/*
 * Read the checkpoint's header and take from it every hyperparameter the
 * command line did not set (precedence: command line, then checkpoint,
 * then defaults), and the environment when ENV was left out.
 */
static int
resume_read(struct train_opts *o, struct train_resume *rs)
{
	const dq_checkpoint_meta *m = &rs->m;
	int err = dq_checkpoint_read_meta(o->resume, &rs->m);

	dq_agent_config_init(&rs->rule);
	if (!err)
		err = dq_checkpoint_read_rule(o->resume, &rs->rule);
	if (!err)
		err = dq_checkpoint_read_tiles(o->resume, &rs->tiles);
	/* The file's sync policy unless --share names one (another one is
	 * refused when the file is loaded, both named). */
	if (!err && !(o->given & GIVEN(T_SHARE)))
		err = dq_checkpoint_read_share(o->resume, &o->share);
	if (err)
		return cli_fail_detail(err, "%s", o->resume);
	/* The file's rule unless --algo names one; another one is refused
	 * when the file is loaded, with both named. */
	if (!(o->given & GIVEN(T_ALGO)))
		o->rule = rs->rule.rule;
	/* ... and its parameters: the file's unless given here (a resume
	 * with others is refused when the file is loaded, naming them). */
	if (!(o->given & GIVEN(T_SOFTMAX)))
		o->policy = rs->rule.policy;
	if (!(o->given & GIVEN(T_NSTEP)))
		o->nstep = rs->rule.nstep;
	if (!(o->given & GIVEN(T_LAMBDA)))
		o->lambda = rs->rule.lambda;
	if (!(o->given & GIVEN(T_TRACE)))
		o->trace = rs->rule.trace;
	if (!(o->given & GIVEN(T_TRACE_MAX)))
		o->trace_max = rs->rule.trace_max;
	if (rule_option_misplaced(o))
		return cli_fail(-EINVAL,
				"%s is not a parameter of %s: '%s' "
				"holds a %s run",
				rule_option_misplaced(o), dq_rule_name(o->rule),
				o->resume, dq_rule_name(o->rule));
	if (!(o->given & GIVEN(T_ALPHA)))
		o->alpha = o->alpha_sched.start = o->alpha_sched.end = m->alpha;
	if (!(o->given & GIVEN(T_GAMMA)))
		o->gamma = m->gamma;
	if (!(o->given & GIVEN(T_EPSILON)))
		o->epsilon = o->epsilon_sched.start = o->epsilon_sched.end =
		    m->epsilon;
	if (!(o->given & GIVEN(T_SEED)))
		o->seed = m->seed;
	if (!(o->given & GIVEN(T_MODE)))
		o->mode = m->mode;
	if (!(o->alpha > 0.0 && o->alpha <= 1.0) ||
	    !(o->gamma >= 0.0 && o->gamma <= 1.0) ||
	    !(o->epsilon >= 0.0 && o->epsilon <= 1.0))
		return cli_fail(-EINVAL,
				"%s: hyperparameters out of range (alpha %g, "
				"gamma %g, epsilon %g)",
				o->resume, o->alpha, o->gamma, o->epsilon);
	if (!o->env_spec) {
		snprintf(rs->spec, sizeof(rs->spec), "%s%s%s", m->env,
			 *m->params ? ":" : "", m->params);
		o->env_spec = rs->spec;
	}
	return CLI_OK;
}

/* The environment given must be the checkpoint's, parameters included. */
static int
resume_check_env(const struct train_opts *o, const struct train_resume *rs,
		 const struct cli_env *e)
{
	if (strcmp(rs->m.env, e->name))
		return cli_fail(DQ_EMISMATCH, "%s: trained on '%s', not '%s'",
				o->resume, rs->m.env, e->name);
	if (strcmp(rs->m.params, e->params))
		return cli_fail(DQ_EMISMATCH,
				"%s: trained with parameters '%s', not '%s' "
				"(leave ENV out to use the checkpoint's)",
				o->resume, rs->m.params, e->params);
	/* Before the table is allocated: a small file may name parameters
	 * that make a huge environment. */
	if ((!o->tiles && !rs->tiles.dim &&
	     rs->m.n_states != e->spec.n_states) ||
	    rs->m.n_actions != e->spec.n_actions)
		return cli_fail(DQ_EMISMATCH,
				"%s: a %u x %u table, '%s' needs %u x %u",
				o->resume, rs->m.n_states, rs->m.n_actions,
				e->name, e->spec.n_states, e->spec.n_actions);
	return CLI_OK;
}

/*
 * Over MPI (cli_train_hooks): load the table and every rank's agents'
 * states, from one open of the file, before the learner exists; each rank
 * then restores its own (resume_agents()).
 */
static int
resume_load_run(const struct train_opts *o, const struct cli_env *e,
		dq_table *t, struct train_resume *rs)
{
	uint32_t cap = rs->m.n_agents ? rs->m.n_agents : 1;
	dq_checkpoint_meta m;
	int err;

	rs->agents = calloc(cap, sizeof(*rs->agents));
	if (!rs->agents)
		return cli_fail(-ENOMEM, "%s", o->resume);
	err = dq_checkpoint_load_run(o->resume, t, &m, rs->agents, cap);
	if (err == DQ_EMISMATCH)
		return cli_fail(err, "%s: a %u x %u table, '%s' needs %u x %u",
				o->resume, rs->m.n_states, rs->m.n_actions,
				e->name, e->spec.n_states, e->spec.n_actions);
	if (err)
		return cli_fail_detail(err, "%s", o->resume);
	rs->n_agents = m.n_agents < cap ? m.n_agents : cap;
	if (dq_checkpoint_read_world(o->resume, &rs->world))
		memset(&rs->world, 0, sizeof(rs->world));
	rs->m.steps = m.steps;
	rs->m.episodes = m.episodes;
	rs->m.seconds = m.seconds;
	return CLI_OK;
}

/*
 * Restore the learner from the checkpoint: its table (every channel), the
 * agents' states, after the library has checked that the file's rule and
 * parameters are the learner's (DQ_EMISMATCH names what differs). The
 * header is read again with them: the file may have been replaced since
 * resume_read() (another run checkpointing to it), and the counters must
 * belong with the states.
 */
static int
resume_load(const struct train_opts *o, struct train_ctx *x,
	    struct train_resume *rs)
{
	dq_checkpoint_meta m;
	int err = dq_checkpoint_load_learner(o->resume, x->l, &m);

	if (err == DQ_EMISMATCH && o->given & GIVEN(T_ALGO))
		return cli_fail_detail(err, "%s (--algo %s)", o->resume,
				       dq_rule_name(o->rule));
	if (err)
		return cli_fail_detail(err, "%s", o->resume);
	rs->n_agents = m.n_agents;
	rs->m.steps = m.steps;
	rs->m.episodes = m.episodes;
	rs->m.seconds = m.seconds;
	return CLI_OK;
}

/*
 * The first min(P, saved) agents were restored. An explicit --seed gives
 * them new streams (stream i of the new seed) but keeps their counters and
 * schedule clocks; agents beyond the saved ones start afresh.
 */
static int
resume_agents(const struct train_opts *o, const struct train_resume *rs,
	      struct train_ctx *x)
{
	uint32_t k = x->n < rs->n_agents ? x->n : rs->n_agents;
	uint64_t steps = 0, episodes = 0;
	int err;

	if (cli_train_hooks) {
		/* Each rank takes its own agents' states, if the job has the
		 * checkpoint's shape; the counts are the file's. */
		err = cli_train_hooks->restore(rs->agents, rs->n_agents,
					       rs->world.ranks ? &rs->world
							       : NULL);
		if (err < 0)
			return CLI_FAIL;
		for (uint32_t i = 0; i < rs->n_agents && !err; i++) {
			steps = sat_add(steps, rs->agents[i].steps);
			episodes = sat_add(episodes, rs->agents[i].episodes);
		}
		x->base_steps = rs->m.steps > steps ? rs->m.steps - steps : 0;
		x->base_episodes =
		    rs->m.episodes > episodes ? rs->m.episodes - episodes : 0;
		x->base_seconds = rs->m.seconds;
		return CLI_OK;
	}
	for (uint32_t i = 0; i < k; i++) {
		dq_agent_state st;

		err = dq_learner_agent_state(x->l, i, &st);
		if (!err && (o->given & GIVEN(T_SEED))) {
			dq_rng_seed(&st.rng, o->seed, i);
			err = dq_learner_set_agent_state(x->l, i, &st);
		}
		if (err)
			return cli_fail(err, "%s: restoring agent %u",
					o->resume, i);
		steps = sat_add(steps, st.steps);
		episodes = sat_add(episodes, st.episodes);
	}
	x->start_steps = steps;
	x->base_steps = rs->m.steps > steps ? rs->m.steps - steps : 0;
	x->base_episodes =
	    rs->m.episodes > episodes ? rs->m.episodes - episodes : 0;
	x->base_seconds = rs->m.seconds;
	if (!rs->n_agents)
		cli_warn("%s holds no agent states: the agents start afresh "
			 "(seed %llu)",
			 o->resume, (unsigned long long)o->seed);
	else if (rs->n_agents < x->n)
		cli_warn("%s holds %u agent states, running %u agents: "
			 "restored %u, the others start afresh",
			 o->resume, rs->n_agents, x->n, k);
	else if (rs->n_agents > x->n)
		cli_warn("%s holds %u agent states, running %u agents: "
			 "restored the first %u (the others' counts stay in "
			 "the totals)",
			 o->resume, rs->n_agents, x->n, k);
	return CLI_OK;
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
	    [DQ_STOP_RETURN] = "target return reached",
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

/*
 * The summary. Counts are the whole run's, earlier runs of a resumed one
 * included; the rate and the seconds are this run's.
 */
/*
 * Which write path the agents ran (--sync auto chooses it as it goes):
 * direct updates, or write-back windows for a share of the steps, their
 * mean length (an update waits about half of it) and how often a
 * write-back found the entry moved by another agent.
 */
static void
train_write_path(const struct train_ctx *x, uint64_t steps)
{
	const char *how = x->o->sync == TRAIN_SYNC_AUTO ? "auto" : "--sync";
	uint64_t in_windows = 0, merges = 0, moved = 0;
	double window_sum = 0.0;

	for (uint32_t i = 0; i < x->o->threads; i++) {
		dq_write_stats w;

		if (dq_learner_agent_write_path(x->l, i, &w))
			return;
		in_windows += w.window_steps;
		window_sum += w.mean_window * (double)w.window_steps;
		merges += w.merges;
		moved += w.moved;
	}
	if (x->o->share.kind != DQ_SHARE_NONE) {
		/* the agents' writes go to local tables, merged by the sync
		 * policy (its own line says which) */
		cli_kv("write path", "local tables, merged by the sync policy "
				     "(--share)\n");
		return;
	}
	if (!in_windows || !steps) {
		cli_kv("write path", "direct updates (%s)\n", how);
		return;
	}
	cli_kv("write path",
	       "write-back windows in %.1f%% of steps, mean %.0f step%s "
	       "(%s); %.3g%% of %llu write-backs found the entry moved\n",
	       100.0 * (double)in_windows / (double)steps,
	       window_sum / (double)in_windows,
	       window_sum / (double)in_windows < 1.5 ? "" : "s", how,
	       merges ? 100.0 * (double)moved / (double)merges : 0.0,
	       (unsigned long long)merges);
}

/* The evaluator's lines: how often, the final evaluation, the target. */
static void
train_eval_summary(const struct train_ctx *x, const dq_run_result *r)
{
	const struct train_opts *o = x->o;
	const dq_eval_record *l = &x->curve.last;
	static const char *const units[] = {"s", " steps", " episodes"};

	if (o->eval_every <= 0)
		return;
	cli_kv("evaluations", "%llu (every %g%s, %llu greedy episodes each)\n",
	       (unsigned long long)x->curve.rows, o->eval_every,
	       units[o->eval_unit], (unsigned long long)o->eval_episodes);
	if (x->curve.rows) {
		cli_kv("greedy return",
		       "%.6g +- %.2g (final evaluation, undiscounted)\n",
		       l->mean_return, l->return_se);
		if (!isnan(l->exact_value))
			cli_kv("greedy exact value",
			       "%.9g (V* %.9g, normalised gap %.3g)\n",
			       l->exact_value, l->optimal_value, l->gap);
	}
	if (!isnan(o->target_return) && !isnan(r->return_seconds))
		cli_kv("target return", "%g reached after %.6f s, %llu steps\n",
		       o->target_return, r->return_seconds,
		       (unsigned long long)r->return_steps);
	else if (!isnan(o->target_return))
		cli_kv("target return", "%g not reached\n", o->target_return);
	if (o->curve)
		cli_kv("curve", "%s\n", o->curve);
	if (o->plot)
		cli_kv("plot", "%s\n", o->plot);
}

static void
train_summary(const struct train_ctx *x, const dq_run_result *r)
{
	const struct train_opts *o = x->o;
	const struct cli_env *e = x->e;
	const dq_stats *t = &r->total;
	uint64_t now = r->run_steps; /* exact when the totals saturate */
	char rate[16];

	cli_si(rate, sizeof(rate),
	       r->seconds > 0 ? (double)now / r->seconds : 0.0);
	cli_kv("environment", "%s%s%s\n", e->name, *e->params ? ":" : "",
	       e->params);
	cli_kv("agents", "%u (mode %s, pin %s)\n", o->threads,
	       cli_mode_name(o->mode), pin_name(o));
	if (o->resume)
		cli_kv("steps", "%llu (%llu in this run)\n",
		       (unsigned long long)sat_add(x->base_steps, t->steps),
		       (unsigned long long)now);
	else
		cli_kv("steps", "%llu\n", (unsigned long long)t->steps);
	/* Microseconds for short runs, which take a few milliseconds. */
	cli_kv("seconds", r->seconds < 1.0 ? "%.6f\n" : "%.3f\n", r->seconds);
	cli_kv("steps/s", "%s\n", rate);
	cli_kv("episodes", "%llu\n",
	       (unsigned long long)sat_add(x->base_episodes, t->episodes));
	if (isnan(t->mean_return))
		cli_kv("mean return", "- (no episode finished)\n");
	else
		cli_kv("mean return",
		       "%.6g (undiscounted, while exploring; last %llu "
		       "episodes)\n",
		       t->mean_return, (unsigned long long)t->returns_n);
	if (o->alpha_sched.kind != DQ_SCHEDULE_CONSTANT)
		cli_kv("alpha", "%.6g now (%s)\n", t->alpha, o->alpha_text);
	if (o->epsilon_sched.kind != DQ_SCHEDULE_CONSTANT)
		cli_kv(o->policy == DQ_POLICY_SOFTMAX ? "temperature"
						      : "epsilon",
		       "%.6g now (%s)\n", t->epsilon, o->epsilon_text);
	cli_kv("cas retries/step", "%.3g\n",
	       t->steps ? (double)t->cas_retries / (double)t->steps : 0.0);
	train_write_path(x, t->steps);
	cli_share_summary(&x->o->share);
	if (x->o->replay_cap)
		cli_kv("replay",
		       "last %u transitions per agent, %u x %u replayed per "
		       "step\n",
		       x->o->replay_cap, x->o->replay_k, x->o->replay_batch);
	if (x->o->target_every && x->o->target_tau > 0.0 &&
	    x->o->target_tau < 1.0)
		cli_kv("target table", "Polyak tau %g every %u total steps\n",
		       x->o->target_tau, x->o->target_every);
	else if (x->o->target_every)
		cli_kv("target table", "a copy every %u total steps\n",
		       x->o->target_every);
	cli_kv("stopped by", "%s\n", stop_name(r->reason));
	if (o->target > 0 && !isnan(r->target_seconds))
		cli_kv("target", "%.1f%% reached after %.6f s, %llu steps\n",
		       100.0 * o->target, r->target_seconds,
		       (unsigned long long)r->target_steps);
	else if (o->target > 0)
		cli_kv("target", "%.1f%% not reached (last %.1f%%)\n",
		       100.0 * o->target, 100.0 * r->target_fraction);
	train_eval_summary(x, r);
}

/*
 * The exact evaluation after training runs after the save, is bounded in
 * time and stops on Ctrl-C (cli_exact_bounded()), and is skipped up front
 * when it could not finish in time or fit in memory. Its time is estimated
 * from the model's size and gamma: value iteration contracts by gamma per
 * sweep, so reaching the tolerance takes about log(tol (1 - gamma)) /
 * log(gamma) sweeps over all outcomes, twice (V* and the greedy policy's
 * value); at gamma 1 nothing bounds the sweeps in advance and the time
 * bound decides. TRAIN_EXACT_RATE is a cautious rate of outcome backups
 * per second for one core: scalable:states=50000,model=1 at gamma 0.99 is
 * estimated at 2.9 s and took 1.7 s on a loaded 2-core machine (the solver
 * stops before the estimate's sweeps), so an evaluation is skipped only
 * when it would take longer than the bound by a wide margin.
 */
#define TRAIN_EXACT_SECONDS 60.0
#define TRAIN_EXACT_RATE 5e8

/* CLI_OK, or CLI_INTERRUPTED when Ctrl-C stopped it. */
static int
train_exact(const struct train_opts *o, const struct cli_env *e,
	    const dq_table *t)
{
	const dq_env_spec *sp = &e->spec;
	double entries = (double)sp->n_states * sp->n_actions;
	double outcomes = entries * sp->max_outcomes;
	/* dq_model_create()'s arrays and the evaluation's own, at most. */
	double bytes = entries * (16.0 + 12.0 * sp->max_outcomes) +
		       (double)sp->n_states * 28.0;
	double have = cli_mem_available(), sweeps, est;
	struct cli_exact x;
	int err;

	if (!o->exact || !sp->max_outcomes)
		return CLI_OK;
	if (have >= 0 && bytes > have) {
		cli_warn("exact evaluation skipped: the model needs about %.3g "
			 "GiB, %.3g GiB available",
			 bytes / 1073741824.0, have / 1073741824.0);
		return CLI_OK;
	}
	if (o->gamma < 1.0) {
		sweeps =
		    o->gamma > 0.0
			? ceil(log(1e-6 * (1.0 - o->gamma)) / log(o->gamma))
			: 1.0;
		est = 2.0 * sweeps * outcomes / TRAIN_EXACT_RATE;
		if (est > TRAIN_EXACT_SECONDS) {
			cli_warn("exact evaluation skipped: about %.0f sweeps "
				 "over %.3g outcomes would take some %.0f s, "
				 "more than its %.0f s bound ('distq solve' "
				 "has none)",
				 sweeps, outcomes, est, TRAIN_EXACT_SECONDS);
			return CLI_OK;
		}
	}
	err = cli_exact_bounded(e->env, t, o->gamma, TRAIN_EXACT_SECONDS,
				should_stop, NULL, &x);
	if (err == CLI_EXACT_STOPPED) {
		cli_warn("exact evaluation interrupted");
		return CLI_INTERRUPTED;
	}
	if (err == CLI_EXACT_TIMEOUT)
		cli_warn("exact evaluation stopped at its %.0f s bound "
			 "(--no-exact skips it)",
			 TRAIN_EXACT_SECONDS);
	else if (err)
		cli_exact_warn(&x, err);
	else
		cli_exact_print(&x);
	return CLI_OK;
}

/*
 * A run stopped by its target leaves the shared table as the agents left it
 * (a chunk of steps past the check, at most, each): the program owns that
 * table alone, so it takes the values that passed and saves those.
 */
static int
train_target_table(const struct train_ctx *x, dq_table *t)
{
	size_t n = (size_t)x->e->spec.n_states * x->e->spec.n_actions;
	double *q = malloc(n * sizeof(double));
	int err = q ? dq_learner_target_table(x->l, q, n) : -ENOMEM;

	if (!err)
		err = dq_table_load(t, q, n);
	free(q);
	if (err)
		return cli_fail(err, "taking the table that passed the target");
	return CLI_OK;
}

/*
 * The checkpoint at the end: the agents have stopped, so it is exact.
 * Ctrl-C only sets the flag while it is written (see on_sigint()).
 */
static int
train_save(struct train_ctx *x, const dq_run_result *r)
{
	int err;

	catch_sigint(false, NULL);
	fflush(stdout); /* the summary is out before the save may take long */
	err = train_checkpoint(x, r->seconds, true);

	if (x->checkpoints || x->checkpoint_failures)
		cli_kv("checkpoints",
		       "%u during the run (every %g s), %u failed\n",
		       x->checkpoints, x->o->every, x->checkpoint_failures);
	if (err)
		return cli_fail_detail(err, "saving '%s'", x->o->checkpoint);
	cli_kv("saved", "%s\n", x->o->checkpoint);
	return CLI_OK;
}

/* -------------------------------------------------------------- tiles -- */

/*
 * --tiles auto: the coder and settings tuned for the built-in continuous
 * environments, dq_tiles_tuned()'s. Settings the command line gives win.
 */
static void
tiles_const(dq_schedule *s, double v)
{
	s->kind = DQ_SCHEDULE_CONSTANT;
	s->start = s->end = v;
}

/* Make the coder for --tiles (into *tc), or a resumed checkpoint's
 * (@file, when its dim is not 0 and --tiles is not given), and size the
 * table for it. A resumed run keeps the file's settings: auto does not
 * change them, and the coder must be the file's (the load says what
 * differs). */
static int
tiles_setup(struct train_opts *o, const struct cli_env *e, dq_tiles **tc,
	    dq_env_spec *spec, const dq_tiles_config *file)
{
	const char *text = o->tiles ? o->tiles : "(from the checkpoint)";
	dq_tiles_config c;
	char def[1024];
	uint32_t rows, dim = 0;
	int err;

	if (cli_train_hooks && (o->checkpoint || o->resume))
		return cli_fail(-ENOTSUP, "--tiles: checkpoints over MPI do "
					  "not carry the tile coder yet");

	if (dq_env_obs_dim(e->env, &dim) || !dim)
		return cli_fail(-EINVAL,
				"--tiles: '%s' gives no observation to code "
				"(cartpole, mountaincar and acrobot do)",
				e->name);
	if (!strcmp(text, "auto")) {
		double alpha, epsilon, gamma;

		if (dq_tiles_tuned(e->name, &text, &alpha, &epsilon, &gamma))
			return cli_fail(-EINVAL,
					"--tiles auto: no tuned coder for '%s' "
					"(give one, e.g. --tiles 8x6)",
					e->name);
		/* a resumed run keeps the file's, as resume_read() took them */
		if (!o->resume && !(o->given & GIVEN(T_ALPHA)))
			tiles_const(&o->alpha_sched, o->alpha = alpha);
		if (!o->resume && !(o->given & GIVEN(T_EPSILON)))
			tiles_const(&o->epsilon_sched, o->epsilon = epsilon);
		if (!o->resume && !(o->given & GIVEN(T_GAMMA)))
			o->gamma = gamma;
	}
	dq_tiles_config_init(&c);
	if (o->tiles)
		err = dq_tiles_config_from_env(&c, e->env, text);
	else
		c = *file, err = 0;
	if (!err)
		err = dq_tiles_create(tc, &c);
	if (!err)
		err = dq_tiles_features(*tc, &rows);
	if (err)
		return cli_fail_detail(err, "--tiles %s", text);
	dq_tiles_format(*tc, def, sizeof(def));
	cli_kv("tiles", "%s (%u rows)\n", def, rows);
	*spec = e->spec;
	spec->n_states = rows;
	/* Q(s, a) is the sum of T weights: each starts at q0 / T. */
	o->q0 /= c.n_tilings;
	return CLI_OK;
}

/* --------------------------------------------------------------- main -- */

/* The curve's CSV, opened (header written) before training: --curve FILE,
 * or for --plot alone a temporary file removed at the end. */
static int
train_curve_open(struct train_ctx *x)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (x->o->curve)
		return cli_curve_open(&x->curve, x->o->curve, "--curve");
	if (!x->o->plot)
		return CLI_OK;
	if (!dir || !*dir || strlen(dir) > sizeof(x->curve_tmp) - 20)
		dir = "/tmp";
	snprintf(x->curve_tmp, sizeof(x->curve_tmp), "%s/distq-curve-XXXXXX",
		 dir);
	fd = mkstemp(x->curve_tmp);
	if (fd < 0) {
		int err = -errno;

		*x->curve_tmp = '\0';
		return cli_fail(err, "--plot: a temporary file for the curve");
	}
	close(fd);
	return cli_curve_open(&x->curve, x->curve_tmp, "--plot");
}

static int
train(struct train_opts *o)
{
	struct train_resume rs;
	struct train_ctx x;
	dq_learner_config c;
	dq_learner *l = NULL;
	dq_table *t = NULL;
	dq_run_result r;
	struct cli_env e;
	struct sigaction old_sigint;
	dq_tiles *tc = NULL;
	dq_env_spec tspec;
	uint32_t channels = 1;
	bool caught = false;
	int status = CLI_OK, err;

	memset(&rs, 0, sizeof(rs));
	memset(&x, 0, sizeof(x));
	memset(&e, 0, sizeof(e));
	x.o = o;
	x.e = &e;
	x.live = !o->quiet && isatty(STDERR_FILENO);
	x.next_checkpoint = o->every;
	/* The file to write is judged before any work (and before the
	 * resumed file is read: the two may be the same path). */
	if (o->checkpoint &&
	    cli_check_target(o->checkpoint, o->save ? "--save"
					    : o->checkpoint == o->resume
						? "--resume"
						: "--checkpoint")) {
		struct stat st;

		/* a directory is no checkpoint to resume from either */
		if (o->checkpoint == o->resume &&
		    !(stat(o->resume, &st) == 0 && S_ISDIR(st.st_mode)))
			fprintf(stderr,
				"distq: --resume writes its checkpoints back "
				"to '%s'; give --checkpoint OTHER to write "
				"them elsewhere\n",
				o->resume);
		return CLI_FAIL;
	}
	if (o->plot && cli_plot_check(o->plot))
		return CLI_FAIL;
	if (o->curve && cli_check_target(o->curve, "--curve"))
		return CLI_FAIL;
	if (o->resume && resume_read(o, &rs))
		return CLI_FAIL;
	if (cli_env_open(&e, o->env_spec))
		return CLI_FAIL;
	if (o->resume && resume_check_env(o, &rs, &e)) {
		status = CLI_FAIL;
		goto out;
	}
	if (o->sync && o->sync != TRAIN_SYNC_AUTO &&
	    (uint64_t)e.spec.n_states * e.spec.n_actions >
		DQ_REPLICA_MAX_ENTRIES) {
		status = cli_fail(-ERANGE,
				  "--sync %llu: replica mode takes tables of "
				  "at most %u entries, '%s' has %u x %u",
				  (unsigned long long)o->sync,
				  DQ_REPLICA_MAX_ENTRIES, e.name,
				  e.spec.n_states, e.spec.n_actions);
		goto out;
	}
	if ((o->tiles || rs.tiles.dim) &&
	    tiles_setup(o, &e, &tc, &tspec, &rs.tiles)) {
		status = CLI_FAIL;
		goto out;
	}
	/* The channels the rule needs (and distql's eta_c); visit counts
	 * when a resumed run's rule takes its step sizes from them (omega,
	 * from the file). */
	dq_rule_channels(o->rule, &channels);
	channels += o->share.kind == DQ_SHARE_DISTQL;
	status =
	    cli_table_create(&t, tc ? &tspec : &e.spec, o->mode, o->q0, o->pad,
			     channels, o->resume && rs.rule.omega > 0.0);
	/* Over MPI, the table and every rank's agents load before the
	 * learner exists (each rank restores its own, resume_agents()). */
	if (!status && o->resume && cli_train_hooks)
		status = resume_load_run(o, &e, t, &rs);
	if (status)
		goto out;
	/* A resumed run keeps its agent count unless told otherwise. */
	if (!o->threads)
		o->threads = !(o->given & GIVEN(T_THREADS)) && rs.m.n_agents &&
				     rs.m.n_agents <= DQ_MAX_THREADS
				 ? rs.m.n_agents
				 : cli_threads_all();
	/* Over MPI, the checkpoint's agents are every rank's. */
	if (cli_train_hooks && !(o->given & GIVEN(T_THREADS)) && rs.n_agents)
		o->threads = cli_train_hooks->resume_threads(rs.n_agents);
	x.t = t;
	x.n = o->threads;
	x.agents = calloc(x.n, sizeof(*x.agents));
	if (!x.agents) {
		status = cli_fail(-ENOMEM, "agent states");
		goto out;
	}
	train_config(o, &c, &x, o->resume ? &rs.rule : NULL);
	if (train_curve_open(&x)) {
		status = CLI_FAIL;
		goto out;
	}
	c.agent.tiles = tc;
	err = cli_train_hooks ? cli_train_hooks->create(&l, t, e.env, &c)
			      : dq_learner_create(&l, t, e.env, &c);
	if (err == -EINVAL && o->pin == DQ_PIN_LIST &&
	    cli_pin_explain(o->pus, o->n_pus)) {
		status = CLI_FAIL;
		goto out;
	}
	if (err == -ENOTSUP && c.target_fraction > 0.0) {
		status = cli_fail(err,
				  "--target: '%s' has no model to check "
				  "a policy against",
				  e.name);
		goto out;
	}
	if (err) {
		status = cli_fail_detail(err, "creating %u agents on '%s'",
					 o->threads, e.name);
		goto out;
	}
	x.l = l;
	if (o->resume && ((!cli_train_hooks && resume_load(o, &x, &rs)) ||
			  resume_agents(o, &rs, &x))) {
		status = CLI_FAIL;
		goto out;
	}
	x.last_steps = x.start_steps;
	err = train_run(l, &r, &old_sigint);
	caught = true;
	if (x.live)
		fputc('\n', stderr);
	if (err) {
		if (err == DQ_EPIN && r.pin_error)
			fprintf(stderr, "distq: --strict-pin: %s\n",
				cli_strerror(r.pin_error));
		status = train_failed(l, err);
		goto out;
	}
	if (r.pin_failures)
		cli_warn("%u agents were not pinned and ran unbound: %s",
			 r.pin_failures, cli_strerror(r.pin_error));
	/* Over MPI, the other ranks have done their part: the leader
	 * reports and saves; the target table was handed to every rank. */
	if (cli_train_hooks && !cli_train_hooks->leader())
		goto out;
	if (o->resume)
		cli_kv("resumed", "%s (%llu steps, %llu episodes, %u agents)\n",
		       o->resume, (unsigned long long)rs.m.steps,
		       (unsigned long long)rs.m.episodes, rs.n_agents);
	if (r.reason == DQ_STOP_TARGET && !cli_train_hooks &&
	    train_target_table(&x, t)) {
		status = CLI_FAIL;
		goto out;
	}
	err = cli_curve_close(&x.curve);
	train_summary(&x, &r);
	/* Save first: what the run learned is on disk before anything that
	 * may take long or be interrupted. */
	if (o->checkpoint)
		status = train_save(&x, &r);
	/* A curve that could not be written fails the program, after the
	 * checkpoint: training went on and its table is kept. */
	if (err) {
		cli_fail(err, "--curve '%s': writing it (%llu evaluations)",
			 x.curve.path, (unsigned long long)x.curve.rows);
		status = CLI_FAIL;
	}
	if (o->plot && status == CLI_OK)
		status = cli_plot(x.curve.path, o->plot, e.name,
				  e.spec.max_outcomes > 0);
	fflush(stdout);
	if (status == CLI_OK && !should_stop(NULL))
		status = train_exact(o, &e, t);
	/* A run cut short by Ctrl-C has done its duty (summary, checkpoint)
	 * but says so to the shell, as programs killed by SIGINT do; so does
	 * one whose save or exact evaluation was interrupted. */
	if (status == CLI_OK &&
	    (r.reason == DQ_STOP_CALLBACK || should_stop(NULL)))
		status = CLI_INTERRUPTED;
out:
	if (caught)
		sigaction(SIGINT, &old_sigint, NULL);
	cli_curve_close(&x.curve);
	if (*x.curve_tmp)
		unlink(x.curve_tmp);
	if (cli_train_hooks)
		cli_train_hooks->destroy(l);
	else
		dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_tiles_destroy(tc);
	cli_env_close(&e);
	free(x.agents);
	free(rs.agents);
	return status;
}

int
cli_train_check(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct train_opts o;
	int status;

	train_defaults(&o);
	status = train_parse(cmd, argc, argv, &o);
	free(o.pus);
	return status == CLI_ARGS_HELP ? CLI_OK : status;
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
