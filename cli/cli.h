/*
 * The distq program's own declarations: argument parsing, messages, and
 * the helpers its subcommands share. The program uses the public API only
 * (<distq.h>); nothing here is part of the library.
 */
#ifndef DISTQ_CLI_H
#define DISTQ_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include <distq.h>

/* Exit statuses: documented in docs/cli.md. */
#define CLI_OK 0
#define CLI_FAIL 1	    /* a runtime failure, after a message */
#define CLI_USAGE 2	    /* bad usage, after a message */
#define CLI_INTERRUPTED 130 /* stopped by Ctrl-C, as 128 + SIGINT */

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* ------------------------------------------------------------ commands -- */

/* One option of a subcommand; tables end with a NULL name. */
struct cli_opt {
	const char *name;    /* long name without "--" */
	char short_name;     /* '\0' for none */
	const char *metavar; /* NULL for a flag, else the value's name */
	int id;		     /* what cli_next() returns for it */
	const char *help;    /* one line for --help */
};

struct cli_cmd;
typedef int (*cli_run_fn)(const struct cli_cmd *cmd, int argc, char **argv);

/*
 * One subcommand: how it is called and what it says about itself. @run
 * parses its arguments and does the work; @check parses them exactly as
 * @run does and stops there (CLI_OK, also for --help, or CLI_USAGE).
 */
struct cli_cmd {
	const char *name;
	const char *synopsis; /* after "distq NAME", e.g. "[options] ENV" */
	const char *summary;  /* one line for the command list */
	const char *details;  /* more text for --help; may be NULL */
	const struct cli_opt *opts;
	cli_run_fn run;
	cli_run_fn check;
};

int cli_envs(const struct cli_cmd *cmd, int argc, char **argv);
int cli_envs_check(const struct cli_cmd *cmd, int argc, char **argv);
int cli_model(const struct cli_cmd *cmd, int argc, char **argv);
int cli_model_check(const struct cli_cmd *cmd, int argc, char **argv);
int cli_solve(const struct cli_cmd *cmd, int argc, char **argv);
int cli_solve_check(const struct cli_cmd *cmd, int argc, char **argv);
int cli_train(const struct cli_cmd *cmd, int argc, char **argv);
int cli_train_check(const struct cli_cmd *cmd, int argc, char **argv);
int cli_eval(const struct cli_cmd *cmd, int argc, char **argv);
int cli_eval_check(const struct cli_cmd *cmd, int argc, char **argv);
int cli_inspect(const struct cli_cmd *cmd, int argc, char **argv);
int cli_inspect_check(const struct cli_cmd *cmd, int argc, char **argv);
int cli_version(const struct cli_cmd *cmd, int argc, char **argv);
int cli_version_check(const struct cli_cmd *cmd, int argc, char **argv);

extern const struct cli_opt cli_envs_opts[], cli_model_opts[], cli_solve_opts[],
    cli_train_opts[], cli_eval_opts[], cli_inspect_opts[], cli_version_opts[];

/* ------------------------------------------------------------ program -- */

/* The whole program: what main() does, returning the exit status. */
int cli_main(int argc, char **argv);

/*
 * Parse a whole command line (argv[0] is the program's name) exactly as
 * cli_main() does, and stop there: return CLI_USAGE when the program would
 * exit with it for bad usage, CLI_OK otherwise. It opens no file, starts
 * no thread, probes no hardware and prints nothing on stdout (not even
 * --help); usage messages go to stderr only when @messages is true. For
 * fuzzing and for tests of the parser.
 */
int cli_check_args(int argc, char **argv, bool messages);

/* ----------------------------------------------------------- arguments -- */

#define CLI_MAX_POS 4

/* cli_next()'s results besides an option id (ids must be >= 0). */
#define CLI_ARGS_END (-1)  /* no more options */
#define CLI_ARGS_ERR (-2)  /* bad usage, message printed */
#define CLI_ARGS_HELP (-3) /* --help was given and printed */

/* The state of parsing one subcommand's arguments. */
struct cli_args {
	const struct cli_cmd *cmd;
	int argc;
	char **argv;
	int i;		   /* next argv index */
	bool no_more_opts; /* after "--" */
	const char *pos[CLI_MAX_POS];
	int npos; /* positional arguments seen */
};

void cli_args_init(struct cli_args *a, const struct cli_cmd *cmd, int argc,
		   char **argv);
int cli_next(struct cli_args *a, const char **val);
int cli_want_pos(const struct cli_args *a, int min, int max);

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
    CLI_PRINTF(2, 3);
int cli_fail(int err, const char *fmt, ...) CLI_PRINTF(2, 3);
int cli_fail_detail(int err, const char *fmt, ...) CLI_PRINTF(2, 3);
void cli_warn(const char *fmt, ...) CLI_PRINTF(1, 2);
void cli_help(const struct cli_cmd *cmd);
const char *cli_strerror(int err);
int cli_flush(void);

/* Strict number parsing: 0, or CLI_USAGE after a message naming @opt. */
int cli_parse_u64(const struct cli_cmd *cmd, const char *opt, const char *s,
		  uint64_t min, uint64_t max, uint64_t *out);
int cli_parse_double(const struct cli_cmd *cmd, const char *opt, const char *s,
		     double min, double max, bool min_open, double *out);
int cli_parse_mode(const struct cli_cmd *cmd, const char *s, dq_mode *out);
int cli_parse_path(const struct cli_cmd *cmd, const char *opt, const char *s,
		   const char **out);
int cli_parse_threads(const struct cli_cmd *cmd, const char *s, uint32_t *out);
uint32_t cli_threads_all(void);
int cli_parse_pin(const struct cli_cmd *cmd, const char *s,
		  dq_pin_policy *policy, unsigned **pus, size_t *n);

const char *cli_mode_name(dq_mode mode);
void cli_si(char *buf, size_t cap, double v);
const char *cli_real(char *buf, size_t cap, double v);

/* ------------------------------------------------------------- shared -- */

/* An environment opened from "name[:params]". */
struct cli_env {
	dq_env *env;
	dq_env_spec spec;
	const char *name;   /* the environment's own name */
	const char *params; /* what followed the colon, or "" */
};

int cli_env_open(struct cli_env *e, const char *spec);
const dq_env_ops *cli_env_find(const char *name, size_t len);
void cli_env_close(struct cli_env *e);
int cli_table_create(dq_table **t, const dq_env_spec *spec, dq_mode mode,
		     double q0, bool pad, uint32_t channels, bool visits);
int cli_mem_check(double bytes, const char *what);
double cli_mem_available(void);
int cli_check_target(const char *path, const char *opt);
int cli_pin_explain(const unsigned *pus, size_t n);

/* What the exact solver says about a table's greedy policy. */
struct cli_exact {
	double gamma;
	double pi_start;   /* start value of the greedy policy */
	double star_start; /* optimal start value */
	double fraction;   /* optimal fraction of the start distribution */
	double tol;
	double random_start; /* start value of the uniformly random policy */
	bool random_ok;	     /* random_start was computed */
	bool improper;	     /* on -EDOM: improper_state is one loop state */
	uint32_t improper_state;
};

int cli_exact(const dq_env *env, const dq_table *t, double gamma,
	      struct cli_exact *out);
/* cli_exact_bounded()'s results besides 0 and negative errors. */
#define CLI_EXACT_STOPPED 1
#define CLI_EXACT_TIMEOUT 2
int cli_exact_bounded(const dq_env *env, const dq_table *t, double gamma,
		      double seconds, int (*stop)(void *), void *arg,
		      struct cli_exact *out);
void cli_exact_print(const struct cli_exact *x);
void cli_exact_warn(const struct cli_exact *x, int err);

/* distq train --curve: the evaluator's records as CSV (cli/curve.c). */
struct cli_curve {
	FILE *f; /* NULL when no curve is written */
	const char *path;
	uint64_t rows;	     /* records handed over */
	int err;	     /* the first write error; rows stop there */
	dq_eval_record last; /* the last record (valid when rows > 0) */
};

int cli_curve_open(struct cli_curve *c, const char *path, const char *opt);
void cli_curve_row(struct cli_curve *c, const dq_eval_record *r);
int cli_curve_close(struct cli_curve *c);
int cli_plot_check(const char *png);
int cli_plot(const char *csv, const char *png, const char *title, bool exact);

/* Summary lines: a left-aligned key, then the value. */
void cli_kv(const char *key, const char *fmt, ...) CLI_PRINTF(2, 3);

/*
 * How train creates and runs its learner when a program routes it
 * elsewhere: distq-mpi (mpi/distq-mpi.c) sets these before cli_main() to
 * run over MPI ranks; distq leaves cli_train_hooks NULL and calls the
 * library directly. Every member is required.
 */
struct cli_train_hooks {
	int (*create)(dq_learner **l, dq_table *t, const dq_env *env,
		      const dq_learner_config *c);
	int (*run)(dq_learner *l, dq_run_result *r);
	void (*destroy)(dq_learner *l);
	/* This process prints the summary and writes checkpoints. */
	bool (*leader)(void);
	/* After a run: every agent's state to save (leader only). */
	int (*states)(const dq_agent_state **out, uint32_t *n);
	/* Resume: restore agents from a checkpoint's @n states: 0 all of
	 * them (their counts go on), 1 none (says so, naming the file's
	 * world @w, NULL when it records none), < 0 failed. */
	int (*restore)(const dq_agent_state *st, uint32_t n,
		       const dq_checkpoint_world *w);
	/* A failed run: say where (which rank, agent, step); CLI_FAIL. */
	int (*failed)(int err);
	/* Resume without --threads: the agents per process for a
	 * checkpoint of @n agents. */
	uint32_t (*resume_threads)(uint32_t n);
	/* The job's world for a checkpoint: 0 when it has more than one
	 * process (its checkpoints then hold every rank's agents, during
	 * the run too, from @states), else -ENOENT. */
	int (*world)(dq_checkpoint_world *w);
};
extern const struct cli_train_hooks *cli_train_hooks;

/* --share, one grammar for distq and distq-mpi (cli/share.c). */
enum cli_share_policy {
	CLI_SHARE_NONE,
	CLI_SHARE_AVERAGE,
	CLI_SHARE_DELTA,
	CLI_SHARE_DISTQL,
};
enum cli_share_unit {
	CLI_SHARE_DEFAULT, /* not given: the program's default */
	CLI_SHARE_STEPS,
	CLI_SHARE_EPISODES,
	CLI_SHARE_SECONDS,
};
struct cli_share {
	enum cli_share_policy policy;
	enum cli_share_unit unit;
	double interval;   /* tau in @unit, when given */
	int partial;	   /* -1 not given, 0 all, 1 partial */
	double eta, decay; /* NaN: not given */
	int epsilon_decay; /* -1 not given, 0 off, 1 on */
	int exchange;	   /* -1 not given, 0 auto, 1 sparse, 2 dense */
	double timeout;	   /* NaN: not given */
};
extern const char cli_share_usage[];
/* Parse @spec; -EINVAL with why in @why (@len bytes) when it cannot. */
int cli_share_parse(const char *spec, struct cli_share *out, char *why,
		    size_t len);
const char *cli_share_name(enum cli_share_policy p);
/* The in-process policy of @s (distq), or -EINVAL with why: delta,
 * exchange= and timeout= are between ranks only. */
int cli_share_local(const struct cli_share *s, dq_share_config *out, char *why,
		    size_t len);
/* The summary's "sync policy" line (none for DQ_SHARE_NONE). */
void cli_share_summary(const dq_share_config *c);

#endif /* DISTQ_CLI_H */
