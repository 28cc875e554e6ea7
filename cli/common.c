/*
 * What the distq subcommands share: opening an environment by its
 * command-line spelling, creating a table for it, and judging a table's
 * greedy policy with the exact solver.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/*
 * Policy evaluation of a greedy policy that never terminates diverges with
 * gamma = 1; the solver then runs until max_sweeps. A million sweeps is far
 * more than any convergent case here needs (gamma 0.999 takes ~30000) and
 * bounds the wait for the others to seconds.
 */
#define CLI_EXACT_SWEEPS 1000000u
#define CLI_EXACT_TOL 1e-6
#define CLI_RANDOM_TOL 1e-10

/* The built-in environment called @name (its first @len bytes), or NULL. */
const dq_env_ops *
cli_env_find(const char *name, size_t len)
{
	const dq_env_ops *ops[64];
	int n = dq_env_builtins(ops, sizeof(ops) / sizeof(ops[0]));

	for (int i = 0; i < n && i < (int)(sizeof(ops) / sizeof(ops[0])); i++)
		if (strlen(ops[i]->name) == len &&
		    !memcmp(ops[i]->name, name, len))
			return ops[i];
	return NULL;
}

/* The first key of @params that @p does not describe, as "key" in @buf. */
static bool
unknown_key(const char *params, const dq_env_param *p, char *buf, size_t cap)
{
	while (*params) {
		size_t len = strcspn(params, "=,");
		bool known = false;

		for (const dq_env_param *q = p; q->key; q++)
			if (strlen(q->key) == len &&
			    !memcmp(q->key, params, len))
				known = true;
		if (!known) {
			snprintf(buf, cap, "%.*s", (int)len, params);
			return true;
		}
		params += strcspn(params, ",");
		params += *params == ',';
	}
	return false;
}

/*
 * Why "name:params" did not open, in words: an unknown name lists the
 * known ones; with an environment that describes its parameters, an
 * unknown key is named and the accepted keys are listed (with their
 * ranges when a value was refused).
 */
static int
env_open_failed(const char *spec, const char *params, int err)
{
	const dq_env_ops *ops;
	const dq_env_param *p;
	char key[64], detail[256];

	/* What the library said, before any other call can clear it. */
	snprintf(detail, sizeof(detail), "%s", dq_error_detail());
	ops = cli_env_find(spec, strcspn(spec, ":"));
	p = ops ? ops->params : NULL;

	if (!ops && err == -ENOENT) {
		const dq_env_ops *all[64];
		int n = dq_env_builtins(all, sizeof(all) / sizeof(all[0]));

		fprintf(stderr, "distq: unknown environment '%.*s' (known:",
			(int)strcspn(spec, ":"), spec);
		for (int i = 0; i < n && i < 64; i++)
			fprintf(stderr, " %s", all[i]->name);
		fputs(")\n", stderr);
		return CLI_FAIL;
	}
	if (!p || (err != -EINVAL && err != -ERANGE))
		return cli_fail_detail(err, "environment '%s'", spec);
	/* The library's own detail first (it knows which key and why); the
	 * unknown-key guess only when it said nothing. */
	if (!detail[0] && unknown_key(params, p, key, sizeof(key)))
		fprintf(stderr,
			"distq: environment '%s': unknown parameter "
			"'%s' (accepted:",
			spec, key);
	else
		fprintf(stderr, "distq: environment '%s': %s (accepted:", spec,
			detail[0] ? detail : cli_strerror(err));
	for (; p->key; p++) {
		fprintf(stderr, " %s", p->key);
		if (p->type == DQ_PARAM_BOOL)
			fputs(" 0|1", stderr);
		else
			fprintf(stderr, " in [%.10g, %.10g]", p->min, p->max);
		fputc(p[1].key ? ',' : ')', stderr);
	}
	fprintf(stderr, "; see 'distq envs %s'\n", ops->name);
	return CLI_FAIL;
}

/*
 * "name[:params]" as dq_env_open_name() takes it. Prints the error itself
 * so that every subcommand words a bad environment the same way.
 */
int
cli_env_open(struct cli_env *e, const char *spec)
{
	const char *colon = strchr(spec, ':');
	int err;

	memset(e, 0, sizeof(*e));
	e->params = colon ? colon + 1 : "";
	err = dq_env_open_name(&e->env, spec);
	if (err)
		return env_open_failed(spec, e->params, err);
	err = dq_env_spec_get(e->env, &e->spec);
	if (!err)
		err = dq_env_name(e->env, &e->name);
	if (err) {
		dq_env_close(e->env);
		e->env = NULL;
		return cli_fail(err, "environment '%s'", spec);
	}
	return CLI_OK;
}

void
cli_env_close(struct cli_env *e)
{
	dq_env_close(e->env);
	e->env = NULL;
}

int
cli_table_create(dq_table **t, const dq_env_spec *spec, dq_mode mode, double q0,
		 bool pad, uint32_t channels, bool visits)
{
	dq_table_config c;
	int err;

	/* The values alone (of every channel, and the counts); padding adds
	 * at most a cache line per row. */
	if (cli_mem_check((double)spec->n_states * spec->n_actions *
				  sizeof(double) * (channels + visits) +
			      (pad ? (double)spec->n_states * 64.0 : 0.0),
			  "the table"))
		return CLI_FAIL;
	dq_table_config_init(&c);
	c.n_states = spec->n_states;
	c.n_actions = spec->n_actions;
	c.mode = mode;
	c.q0 = q0;
	c.pad_rows = pad;
	c.channels = channels;
	c.visit_counts = visits;
	err = dq_table_create(t, &c);
	if (err)
		return cli_fail(err, "creating a %u x %u table", c.n_states,
				c.n_actions);
	return CLI_OK;
}

/* 1536 -> "1.5 KiB": sizes for people. */
static void
bytes_str(char *buf, size_t cap, double b)
{
	static const char *const units[] = {"bytes", "KiB", "MiB",
					    "GiB",   "TiB", "PiB"};
	int u = 0;

	while (b >= 1024.0 && u < 5) {
		b /= 1024.0;
		u++;
	}
	snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

/* A "Key:   N kB" line of /proc/meminfo, in bytes; -1 when absent. */
static double
meminfo(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	unsigned long long kb;

	if (!p || sscanf(p + strlen(key), " %llu", &kb) != 1)
		return -1.0;
	return (double)kb * 1024.0;
}

/* The limit of this process's memory cgroup (v2) less its use; -1 when
 * there is none. */
static double
cgroup_room(void)
{
	unsigned long long max, cur;
	FILE *f = fopen("/sys/fs/cgroup/memory.max", "r");
	int ok;

	if (!f)
		return -1.0;
	ok = fscanf(f, "%llu", &max) == 1; /* "max": no limit */
	fclose(f);
	f = ok ? fopen("/sys/fs/cgroup/memory.current", "r") : NULL;
	if (!f)
		return -1.0;
	ok = fscanf(f, "%llu", &cur) == 1;
	fclose(f);
	return ok ? (max > cur ? (double)(max - cur) : 0.0) : -1.0;
}

/*
 * Memory this process can still have: MemAvailable plus free swap (or the
 * free physical pages where there is no /proc/meminfo), bounded by the
 * memory cgroup's limit; -1 when nothing can tell.
 */
double
cli_mem_available(void)
{
	char text[4096];
	double have = -1.0, swap, room = cgroup_room();
	FILE *f = fopen("/proc/meminfo", "r");

	if (f) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);

		fclose(f);
		text[n] = '\0';
		have = meminfo(text, "MemAvailable:");
		swap = meminfo(text, "SwapFree:");
		if (have >= 0 && swap > 0)
			have += swap;
	}
	if (have < 0) {
		long pages = sysconf(_SC_AVPHYS_PAGES);
		long page = sysconf(_SC_PAGESIZE);

		if (pages > 0 && page > 0)
			have = (double)pages * (double)page;
	}
	if (room >= 0 && (have < 0 || room < have))
		have = room;
	return have;
}

/*
 * Refuse, before allocating, what cannot fit: with overcommit a big
 * allocation succeeds and touching it ends the process at the hands of
 * the OOM killer, with no message. CLI_OK or CLI_FAIL after a message
 * saying how much @what needs and how much there is.
 */
int
cli_mem_check(double bytes, const char *what)
{
	double have = cli_mem_available();
	char need_s[32], have_s[32];

	if (have < 0 || bytes <= have)
		return CLI_OK;
	bytes_str(need_s, sizeof(need_s), bytes);
	bytes_str(have_s, sizeof(have_s), have);
	return cli_fail(-ENOMEM, "%s needs %s of memory, %s available", what,
			need_s, have_s);
}

static const char *
file_type(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISSOCK(m) ? "a socket"
			     : "not a regular file";
}

/*
 * Whether a file can be created in @p dir: access() says yes to root for
 * any directory, /proc included, where no file can be made. Creates and
 * removes an empty file of a name no run uses, as the save's own
 * temporary file would be.
 */
static int
probe_dir(const char *path, const char *opt, const char *dir)
{
	char probe[4096 + 32];
	int fd;

	if (snprintf(probe, sizeof(probe), "%s/.distq-probe-XXXXXX", dir) >=
	    (int)sizeof(probe))
		return cli_fail(-ENAMETOOLONG, "%s '%s'", opt, path);
	fd = mkstemp(probe);
	if (fd < 0)
		return cli_fail(-errno,
				"%s '%s': cannot create a file in directory "
				"'%s'",
				opt, path, dir);
	close(fd);
	unlink(probe);
	return CLI_OK;
}

/*
 * The file that @opt will write, checked before any work starts, so that
 * a run is not trained for an hour and then lost to a typo: the file must
 * be a regular file or absent (a FIFO or a device is never replaced), and
 * its directory must exist and be writable. The save itself checks again
 * (the file system may change meanwhile). CLI_OK, or CLI_FAIL after a
 * message naming the path and what is wrong.
 */
int
cli_check_target(const char *path, const char *opt)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	struct stat st;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return cli_fail(-EISDIR, "%s '%s'", opt, path);
		if (!S_ISREG(st.st_mode))
			return cli_fail(DQ_ENOTREG,
					"%s '%s' is %s: refusing to replace "
					"it",
					opt, path, file_type(st.st_mode));
	} else if (errno != ENOENT) {
		return cli_fail(-errno, "%s '%s'", opt, path);
	}
	if (slash && !slash[1]) /* "dir/": only a directory has that name */
		return cli_fail(-EISDIR, "%s '%s'", opt, path);
	if (slash && (size_t)(slash - path) >= sizeof(dir))
		return cli_fail(-ENAMETOOLONG, "%s '%s'", opt, path);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) != 0)
		return cli_fail(-errno, "%s '%s': directory '%s'", opt, path,
				dir);
	if (!S_ISDIR(st.st_mode))
		return cli_fail(-ENOTDIR, "%s '%s': '%s'", opt, path, dir);
	if (access(dir, W_OK | X_OK) != 0)
		return cli_fail(-errno,
				"%s '%s': cannot write in directory "
				"'%s'",
				opt, path, dir);
	return probe_dir(path, opt, dir);
}

/*
 * Say which PU of a --pin list this machine does not have, after the
 * learner refused the list (-EINVAL). PUs are numbered by the OS from 0;
 * sysconf() counts those configured. CLI_FAIL after a message, or CLI_OK
 * when every PU exists (the caller then reports the error itself).
 */
int
cli_pin_explain(const unsigned *pus, size_t n)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);

	for (size_t i = 0; conf > 0 && i < n; i++)
		if (pus[i] >= (unsigned long)conf)
			return cli_fail(-EINVAL,
					"--pin: PU %u is not on this machine "
					"(it has PUs 0-%ld)",
					pus[i], conf - 1);
	return CLI_OK;
}

/*
 * The exact figures printed after training and evaluation: the start value
 * of the table's greedy policy (lowest index on ties, as the solver's own
 * policies), the optimal start value, and the fraction of the start
 * distribution from which the greedy policy is optimal. Returns a negative
 * error (-ENOTSUP for an environment without a model) and prints nothing;
 * the caller decides whether that matters.
 */
int
cli_exact(const dq_env *env, const dq_table *t, double gamma,
	  struct cli_exact *out)
{
	double *v_star = NULL, *v_pi = NULL;
	uint32_t *policy = NULL;
	dq_solve_config c;
	dq_model *m = NULL;
	uint32_t s, a;
	int err;

	err = dq_model_create(&m, env);
	if (err)
		return err;
	dq_model_shape(m, &s, &a);
	v_star = malloc(s * sizeof(*v_star));
	v_pi = malloc(s * sizeof(*v_pi));
	policy = malloc(s * sizeof(*policy));
	if (!v_star || !v_pi || !policy) {
		err = -ENOMEM;
		goto out;
	}
	dq_solve_config_init(&c);
	c.gamma = gamma;
	c.max_sweeps = CLI_EXACT_SWEEPS;
	out->gamma = gamma;
	out->tol = CLI_EXACT_TOL;
	out->improper = false;
	out->random_ok = false;
	err = dq_model_solve(m, &c, NULL, 0, v_star, s, NULL, 0, NULL);
	if (err >= 0)
		err = dq_model_start_value(m, v_star, s, &out->star_start);
	if (err >= 0)
		err = dq_table_policy(t, policy, s);
	if (err >= 0)
		err = dq_model_evaluate(m, &c, policy, s, v_pi, s,
					&out->pi_start, NULL);
	if (err == -EDOM)
		out->improper =
		    dq_model_find_improper(m, policy, s,
					   &out->improper_state) == -EDOM;
	if (err >= 0)
		err = dq_model_optimal_fraction(m, v_star, v_pi, s,
						CLI_EXACT_TOL, &out->fraction);
	/* The baseline is optional: a random walk that never ends (at
	 * gamma 1) or converges too slowly only drops the progress line.
	 * A percentage needs far less than the solver's 1e-12: 1e-10 per
	 * sweep saves a third of the sweeps on slow-mixing models. */
	c.tolerance = CLI_RANDOM_TOL;
	if (err >= 0)
		out->random_ok =
		    dq_model_evaluate_random(m, &c, v_pi, s, &out->random_start,
					     NULL) == 0;
out:
	free(policy);
	free(v_pi);
	free(v_star);
	dq_model_destroy(m);
	return err < 0 ? err : 0;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/*
 * cli_exact() bounded in time and interruptible: it runs in a child
 * process (a copy of this one, table included), which is killed when
 * @stop(@arg) says so or @seconds have passed. The solver has no way to be
 * stopped half way, and a process can always be. Returns 0 with @out
 * filled, CLI_EXACT_STOPPED or CLI_EXACT_TIMEOUT, or a negative error
 * (cli_exact()'s own, or fork()'s or pipe()'s).
 */
int
cli_exact_bounded(const dq_env *env, const dq_table *t, double gamma,
		  double seconds, int (*stop)(void *), void *arg,
		  struct cli_exact *out)
{
	struct {
		int err;
		struct cli_exact x;
	} msg;
	double deadline = now_seconds() + seconds;
	size_t got = 0;
	int fds[2], status = 0;
	pid_t pid;

	if (pipe(fds) != 0)
		return -errno;
	fflush(NULL); /* nothing buffered is written twice */
	pid = fork();
	if (pid < 0) {
		status = -errno;
		close(fds[0]);
		close(fds[1]);
		return status;
	}
	if (pid == 0) {
		/* The terminal's Ctrl-C reaches the whole process group;
		 * the parent decides for the child. */
		signal(SIGINT, SIG_IGN);
		close(fds[0]);
		memset(&msg, 0, sizeof(msg));
		msg.err = cli_exact(env, t, gamma, &msg.x);
		_exit(write(fds[1], &msg, sizeof(msg)) == (ssize_t)sizeof(msg)
			  ? 0
			  : 1);
	}
	close(fds[1]);
	while (got < sizeof(msg)) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		ssize_t n;

		if (stop && stop(arg)) {
			status = CLI_EXACT_STOPPED;
			break;
		}
		if (now_seconds() > deadline) {
			status = CLI_EXACT_TIMEOUT;
			break;
		}
		if (poll(&p, 1, 50) <= 0)
			continue; /* a timeout, or EINTR from Ctrl-C */
		n = read(fds[0], (char *)&msg + got, sizeof(msg) - got);
		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0 || errno != EINTR) {
			status = -EIO; /* the child died without a result */
			break;
		}
	}
	if (status)
		kill(pid, SIGKILL);
	close(fds[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (status)
		return status;
	*out = msg.x; /* with an error, what cli_exact() found (a state) */
	return msg.err;
}

/*
 * How far the greedy policy has come, as a share of the way from the
 * uniformly random policy's start value to the optimum's: 100% is
 * optimal, 0% no better than random, below 0 worse. "optimal fraction"
 * is all or nothing per start state; this moves with every improvement.
 */
void
cli_exact_print(const struct cli_exact *x)
{
	double span = x->star_start - x->random_start, pct;
	int prec = 1;

	cli_kv("greedy start value", "%.9g (exact, gamma %g)\n", x->pi_start,
	       x->gamma);
	cli_kv("optimal start value", "%.9g\n", x->star_start);
	if (x->random_ok) {
		cli_kv("random start value", "%.9g (uniformly random policy)\n",
		       x->random_start);
		pct = 100.0 * (x->pi_start - x->random_start) / span;
		/* A policy not optimal everywhere never reads 100.0%: as
		 * many digits as it takes, up to 6, then "(rounded)". */
		while (x->fraction < 1.0 && prec < 6 &&
		       round(pct * pow(10, prec)) >= 100.0 * pow(10, prec))
			prec++;
		if (span > 1e-12 * (fabs(x->star_start) + 1))
			cli_kv("greedy progress",
			       "%.*f%% (of the way from random to "
			       "optimal%s)\n",
			       prec, pct,
			       x->fraction < 1.0 && round(pct * 1e6) >= 1e8
				   ? "; rounded, not optimal"
				   : "");
		else
			cli_kv("greedy progress",
			       "- (random is already optimal)\n");
	}
	cli_kv("optimal fraction", "%.1f%% (tol %g)\n", 100.0 * x->fraction,
	       x->tol);
}

/* The warning when cli_exact() failed with @err. */
void
cli_exact_warn(const struct cli_exact *x, int err)
{
	if (err == -EDOM && x->improper)
		cli_warn("exact evaluation skipped: from state %u the greedy "
			 "policy never ends and collects reward, so at gamma "
			 "%g it has no finite value",
			 x->improper_state, x->gamma);
	else
		cli_warn("exact evaluation skipped: %s", cli_strerror(err));
}

/* @v in the fewest significant digits (up to 17) that read back exactly. */
const char *
cli_real(char *buf, size_t cap, double v)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

void
cli_kv(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("%-20s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
