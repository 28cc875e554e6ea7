/*
 * Argument parsing and messages for the distq program: the table of
 * subcommands and the dispatch to them, each subcommand's options, and the
 * messages.
 *
 * Options are parsed by hand from each subcommand's table rather than with
 * getopt_long(): the tables also produce --help, the messages can name the
 * subcommand, and there is no global state to reset. Accepted forms are
 * "--name VALUE", "--name=VALUE", "-x VALUE" and "--" to end options;
 * options and positional arguments may be mixed.
 *
 * Numbers are parsed strictly: the whole string must be the number (no
 * sign where none is meaningful, no leading blanks, no trailing junk), and
 * it must lie in the option's range. A bad value is a usage error.
 *
 * Every usage error is found while parsing, before anything is opened or
 * started, so that cli_check_args() can say what the program would say
 * without doing anything.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ------------------------------------------------------------ messages -- */

/*
 * Output that cli_check_args() turns off while it parses: stdout always
 * (--help), stderr on request. Per thread, so that a fuzzer or a test may
 * parse in one thread while another runs the program.
 */
static _Thread_local bool no_stdout, no_stderr;

/*
 * dq_strerror() knows the errors the library itself produces; a system
 * errno it has no entry for (ENOTDIR from a checkpoint path, say) is still
 * worth a real description, so fall back to strerror() for those.
 */
const char *
cli_strerror(int err)
{
	const char *s = dq_strerror(err);

	if (err < 0 && err > DQ_ERRNO_BASE && !strcmp(s, "unknown error"))
		return strerror(-err);
	return s;
}

int
cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	if (no_stderr)
		return CLI_USAGE;
	fprintf(stderr, "distq%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'distq%s%s --help'.\n", cmd ? " " : "",
		cmd ? cmd->name : "");
	return CLI_USAGE;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 0)))
#endif
static int
cli_vfail(int err, const char *detail, const char *fmt, va_list ap)
{
	if (no_stderr)
		return CLI_FAIL;
	fputs("distq: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (detail)
		fprintf(stderr, ": %s (%s)\n", cli_strerror(err), detail);
	else
		fprintf(stderr, ": %s\n", cli_strerror(err));
	return CLI_FAIL;
}

/* "distq: <what>: <error>" on stderr; returns the exit status to use. */
int
cli_fail(int err, const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	status = cli_vfail(err, NULL, fmt, ap);
	va_end(ap);
	return status;
}

/*
 * cli_fail() for an error just returned by a library function that
 * records details (dq_error_detail()): the message ends with what exactly
 * was wrong, the parameter key or the file's trouble, when the library
 * knows it.
 */
int
cli_fail_detail(int err, const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	status = cli_vfail(err, dq_error_detail(), fmt, ap);
	va_end(ap);
	return status;
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	if (no_stderr)
		return;
	fputs("distq: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Output goes through stdio; a full disk or a closed pipe shows up only
 * when the buffer is flushed, and a program whose output was lost must not
 * exit 0.
 */
int
cli_flush(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_fail(-errno, "writing output");
	return CLI_OK;
}

/* Print @text from column @col, wrapping at word boundaries before 80. */
static void
print_wrapped(const char *text, int col)
{
	int at = col;

	while (*text) {
		int len = (int)strcspn(text, " ");

		if (at > col && at + 1 + len > 79) {
			printf("\n%*s", col, "");
			at = col;
		} else if (at > col) {
			putchar(' ');
			at++;
		}
		printf("%.*s", len, text);
		at += len;
		text += len;
		text += strspn(text, " ");
	}
	putchar('\n');
}

#define HELP_COL 28

void
cli_help(const struct cli_cmd *cmd)
{
	if (no_stdout)
		return;
	printf("usage: distq %s %s\n\n%s\n", cmd->name, cmd->synopsis,
	       cmd->summary);
	if (cmd->details)
		printf("\n%s", cmd->details);
	printf("\noptions:\n");
	for (const struct cli_opt *o = cmd->opts; o && o->name; o++) {
		char left[64];

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
				 o->short_name, o->name, o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
				 o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
		printf("  %-*s", HELP_COL - 2, left);
		if ((int)strlen(left) > HELP_COL - 3)
			printf("\n%*s", HELP_COL, "");
		print_wrapped(o->help, HELP_COL);
	}
	printf("  %-*s", HELP_COL - 2, "-h, --help");
	print_wrapped("show this help", HELP_COL);
}

/* ----------------------------------------------------------- arguments -- */

void
cli_args_init(struct cli_args *a, const struct cli_cmd *cmd, int argc,
	      char **argv)
{
	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->argc = argc;
	a->argv = argv;
	a->i = 1; /* argv[0] is the subcommand's name */
}

static const struct cli_opt *
find_long(const struct cli_opt *opts, const char *name, size_t len)
{
	for (const struct cli_opt *o = opts; o && o->name; o++)
		if (strlen(o->name) == len && !memcmp(o->name, name, len))
			return o;
	return NULL;
}

static const struct cli_opt *
find_short(const struct cli_opt *opts, char c)
{
	for (const struct cli_opt *o = opts; o && o->name; o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

/* Record a positional argument; too many is a usage error. */
static int
add_pos(struct cli_args *a, const char *arg)
{
	if (a->npos == CLI_MAX_POS)
		return cli_usage_error(a->cmd, "too many arguments");
	a->pos[a->npos++] = arg;
	return 0;
}

/*
 * The next option of a->cmd: its id, with *val set to its value (NULL for
 * a flag); CLI_ARGS_END when none is left; CLI_ARGS_ERR after a usage
 * message; CLI_ARGS_HELP after printing --help. Positional arguments are
 * collected into a->pos on the way.
 */
int
cli_next(struct cli_args *a, const char **val)
{
	while (a->i < a->argc) {
		const char *arg = a->argv[a->i++];
		const struct cli_opt *o;
		const char *eq = NULL;

		if (a->no_more_opts || arg[0] != '-' || arg[1] == '\0') {
			if (add_pos(a, arg))
				return CLI_ARGS_ERR;
			continue;
		}
		if (!strcmp(arg, "--")) {
			a->no_more_opts = true;
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			cli_help(a->cmd);
			return CLI_ARGS_HELP;
		}
		if (arg[1] == '-') {
			eq = strchr(arg + 2, '=');
			o = find_long(a->cmd->opts, arg + 2,
				      eq ? (size_t)(eq - arg - 2)
					 : strlen(arg + 2));
		} else {
			o = arg[2] ? NULL : find_short(a->cmd->opts, arg[1]);
		}
		if (!o) {
			cli_usage_error(a->cmd, "unknown option '%s'", arg);
			return CLI_ARGS_ERR;
		}
		if (!o->metavar) {
			if (eq) {
				cli_usage_error(a->cmd,
						"option '--%s' takes no value",
						o->name);
				return CLI_ARGS_ERR;
			}
			*val = NULL;
			return o->id;
		}
		if (eq) {
			*val = eq + 1;
		} else if (a->i < a->argc) {
			*val = a->argv[a->i++];
		} else {
			cli_usage_error(a->cmd,
					"option '--%s' needs a value (%s)",
					o->name, o->metavar);
			return CLI_ARGS_ERR;
		}
		return o->id;
	}
	return CLI_ARGS_END;
}

/* Check the number of positional arguments once the options are parsed. */
int
cli_want_pos(const struct cli_args *a, int min, int max)
{
	if (a->npos < min)
		return cli_usage_error(a->cmd,
				       "missing argument (usage: "
				       "distq %s %s)",
				       a->cmd->name, a->cmd->synopsis);
	if (a->npos > max)
		return cli_usage_error(a->cmd, "unexpected argument '%s'",
				       a->pos[max]);
	return 0;
}

/* ------------------------------------------------------------- numbers -- */

/*
 * An unsigned integer: decimal digits, optionally followed by one of
 * k, M, G (powers of 1000, as the environments' parameters accept), and
 * nothing else.
 */
int
cli_parse_u64(const struct cli_cmd *cmd, const char *opt, const char *s,
	      uint64_t min, uint64_t max, uint64_t *out)
{
	static const struct {
		char c;
		uint64_t mul;
	} suffixes[] = {
	    {'k', 1000ull}, {'M', 1000000ull}, {'G', 1000000000ull}};
	unsigned long long v;
	uint64_t mul = 1;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		goto range;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (end[0] == suffixes[i].c && end[1] == '\0') {
			mul = suffixes[i].mul;
			end++;
			break;
		}
	}
	if (*end)
		goto bad;
	if (v > UINT64_MAX / mul)
		goto range;
	v *= mul;
	if (v < min || v > max)
		goto range;
	*out = v;
	return 0;
bad:
	return cli_usage_error(cmd, "%s: '%s' is not an unsigned integer", opt,
			       s);
range:
	return cli_usage_error(cmd, "%s: '%s' is out of range [%llu, %llu]",
			       opt, s, (unsigned long long)min,
			       (unsigned long long)max);
}

/* A finite decimal or hexadecimal floating-point number in a range. */
int
cli_parse_double(const struct cli_cmd *cmd, const char *opt, const char *s,
		 double min, double max, bool min_open, double *out)
{
	double v;
	char *end;

	if (!*s || !(s[0] == '-' || s[0] == '+' || s[0] == '.' ||
		     (s[0] >= '0' && s[0] <= '9')))
		goto bad;
	errno = 0;
	v = strtod(s, &end);
	if (*end || end == s || !isfinite(v))
		goto bad;
	if (v < min || v > max || (min_open && v == min))
		return cli_usage_error(cmd,
				       "%s: '%s' is out of range %c%g, %g]",
				       opt, s, min_open ? '(' : '[', min, max);
	*out = v;
	return 0;
bad:
	return cli_usage_error(cmd, "%s: '%s' is not a finite number", opt, s);
}

/*
 * A file name given to @opt: any non-empty string (the file system judges
 * the rest when the command runs, before it starts any work).
 */
int
cli_parse_path(const struct cli_cmd *cmd, const char *opt, const char *s,
	       const char **out)
{
	if (!*s)
		return cli_usage_error(cmd, "%s: the file name is empty", opt);
	*out = s;
	return 0;
}

static const char *const mode_names[] = {
    [DQ_MODE_CAS] = "cas",
    [DQ_MODE_HOGWILD] = "hogwild",
    [DQ_MODE_LOCKED] = "locked",
};

#define N_MODES (sizeof(mode_names) / sizeof(mode_names[0]))

const char *
cli_mode_name(dq_mode mode)
{
	return (unsigned)mode < N_MODES ? mode_names[mode] : "unknown";
}

int
cli_parse_mode(const struct cli_cmd *cmd, const char *s, dq_mode *out)
{
	for (unsigned i = 0; i < N_MODES; i++) {
		if (!strcmp(s, mode_names[i])) {
			*out = (dq_mode)i;
			return 0;
		}
	}
	return cli_usage_error(cmd,
			       "--mode: '%s' is not one of cas, hogwild, "
			       "locked",
			       s);
}

/* One thread per physical core, within the learner's limits. */
uint32_t
cli_threads_all(void)
{
	int n = dq_cores();

	return n < 1			      ? 1
	       : (unsigned)n > DQ_MAX_THREADS ? DQ_MAX_THREADS
					      : (uint32_t)n;
}

/*
 * A thread count, or "all", which gives 0 here: counting the cores probes
 * the hardware, which parsing must not do (see cli_check_args()); the
 * caller resolves 0 with cli_threads_all() when it runs.
 */
int
cli_parse_threads(const struct cli_cmd *cmd, const char *s, uint32_t *out)
{
	uint64_t v;
	int err;

	if (!strcmp(s, "all")) {
		*out = 0;
		return 0;
	}
	err = cli_parse_u64(cmd, "--threads", s, 1, DQ_MAX_THREADS, &v);
	if (!err)
		*out = (uint32_t)v;
	return err;
}

/* One element of a PU list: N or N-M. */
static int
parse_pu_range(const struct cli_cmd *cmd, const char *s, size_t len,
	       unsigned *lo, unsigned *hi)
{
	char item[32];
	char *dash;
	uint64_t a, b;

	if (len == 0 || len >= sizeof(item))
		return cli_usage_error(cmd, "--pin: bad PU list element '%.*s'",
				       (int)len, s);
	memcpy(item, s, len);
	item[len] = '\0';
	dash = strchr(item, '-');
	if (dash && (dash == item || !dash[1]))
		return cli_usage_error(cmd,
				       "--pin: the range '%s' lacks its %s "
				       "bound (N-M)",
				       item, dash == item ? "lower" : "upper");
	if (dash)
		*dash = '\0';
	if (cli_parse_u64(cmd, "--pin", item, 0, 1u << 20, &a))
		return CLI_USAGE;
	b = a;
	if (dash && cli_parse_u64(cmd, "--pin", dash + 1, a, 1u << 20, &b))
		return CLI_USAGE;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

/*
 * "cores", "none", or a list of PU OS indexes as taskset takes them:
 * "0,2,4-7". The list is allocated; the caller frees it.
 */
int
cli_parse_pin(const struct cli_cmd *cmd, const char *s, dq_pin_policy *policy,
	      unsigned **pus, size_t *n)
{
	unsigned *list = NULL;
	size_t count = 0;

	if (!strcmp(s, "cores") || !strcmp(s, "none")) {
		*policy = s[0] == 'c' ? DQ_PIN_CORES : DQ_PIN_NONE;
		*pus = NULL;
		*n = 0;
		return 0;
	}
	for (const char *p = s;;) {
		size_t len = strcspn(p, ",");
		unsigned lo = 0, hi = 0;

		if (parse_pu_range(cmd, p, len, &lo, &hi))
			goto fail;
		for (unsigned pu = lo; pu <= hi; pu++) {
			unsigned *bigger;

			if (count == DQ_MAX_THREADS) {
				cli_usage_error(cmd, "--pin: more than %u PUs",
						DQ_MAX_THREADS);
				goto fail;
			}
			bigger = realloc(list, (count + 1) * sizeof(*list));
			if (!bigger) {
				cli_fail(-ENOMEM, "--pin");
				goto fail;
			}
			list = bigger;
			list[count++] = pu;
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	*policy = DQ_PIN_LIST;
	*pus = list;
	*n = count;
	return 0;
fail:
	free(list);
	return CLI_USAGE;
}

/* 45600000 -> "45.6M": counts and rates for people. */
void
cli_si(char *buf, size_t cap, double v)
{
	static const char units[] = " kMGTP";
	int u = 0;

	while (fabs(v) >= 999.95 && units[u + 1]) {
		v /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%.0f", v);
	else
		snprintf(buf, cap, "%.1f%c", v, units[u]);
}

/* ------------------------------------------------------------ program -- */

static const struct cli_cmd commands[] = {
    {"envs", "[ENV]", "List the built-in environments, or one's parameters.",
     "With ENV, its parameters as the environment describes them: key,\n"
     "type, default, min, max and help, tab separated.\n",
     cli_envs_opts, cli_envs, cli_envs_check},
    {"model", "[--start] ENV",
     "Print an environment's model (or start distribution) as TSV.",
     "ENV is a built-in name, optionally with parameters after a colon,\n"
     "e.g. maze4x3:slip=0.1,living_reward=-0.04.\n",
     cli_model_opts, cli_model, cli_model_check},
    {"solve", "[--gamma G] [--values | --policy] ENV",
     "Solve a model exactly: print Q* (or V*) as TSV.", NULL, cli_solve_opts,
     cli_solve, cli_solve_check},
    {"train", "[options] ENV | --resume FILE [options] [ENV]",
     "Train a shared Q-table with one agent thread per core.",
     "Without --steps, --seconds, --episodes or --target, training stops\n"
     "after 10M steps (counted from the start of this run, also when\n"
     "resuming). Ctrl-C stops early and still prints the summary (and\n"
     "saves); a second Ctrl-C kills the program. --resume continues a run\n"
     "from its checkpoint: the table, the agents' states and the counters;\n"
     "hyperparameters come from the file unless given here.\n",
     cli_train_opts, cli_train, cli_train_check},
    {"eval", "--load FILE [options] [ENV]",
     "Run greedy episodes from a saved checkpoint.",
     "ENV defaults to the checkpoint's environment and parameters.\n",
     cli_eval_opts, cli_eval, cli_eval_check},
    {"inspect", "[--q | --policy | --values] FILE",
     "Print a checkpoint's header, or its table as TSV.", NULL,
     cli_inspect_opts, cli_inspect, cli_inspect_check},
    {"version", "", "Print the program's and the library's versions.", NULL,
     cli_version_opts, cli_version, cli_version_check},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	if (f == stdout ? no_stdout : no_stderr)
		return;
	fprintf(f, "usage: distq COMMAND [options] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\n'distq COMMAND --help' describes one command.\n");
}

static const struct cli_cmd *
find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/*
 * The program's top level, for cli_main() (@run) and cli_check_args()
 * (!@run): one path through the arguments, so that the two cannot
 * disagree about what is bad usage.
 */
static int
dispatch(int argc, char **argv, bool run)
{
	const struct cli_cmd *cmd;
	int status;

	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		if (argc > 2 && !strcmp(argv[1], "help")) {
			cmd = find_command(argv[2]);
			if (!cmd)
				return cli_usage_error(
				    NULL, "unknown command '%s'", argv[2]);
			cli_help(cmd);
		} else {
			usage(stdout);
		}
		return run ? cli_flush() : CLI_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		cmd = find_command("version");
		return run ? cmd->run(cmd, 1, argv + 1)
			   : cmd->check(cmd, 1, argv + 1);
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		if (argv[1][0] == '-')
			return cli_usage_error(NULL, "unknown option '%s'",
					       argv[1]);
		return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
	}
	if (!run)
		return cmd->check(cmd, argc - 1, argv + 1);
	status = cmd->run(cmd, argc - 1, argv + 1);
	if (status == CLI_OK)
		status = cli_flush();
	return status;
}

int
cli_main(int argc, char **argv)
{
	return dispatch(argc, argv, true);
}

int
cli_check_args(int argc, char **argv, bool messages)
{
	bool out = no_stdout, err = no_stderr;
	int status;

	no_stdout = true;
	no_stderr = !messages;
	status = dispatch(argc, argv, false);
	no_stdout = out;
	no_stderr = err;
	return status == CLI_USAGE ? CLI_USAGE : CLI_OK;
}
