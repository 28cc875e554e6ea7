/*
 * Helpers shared by the benchmark programs: clocks, option parsing,
 * medians, thread lists, CSV labels and a start barrier for groups of
 * threads. Benchmarks use the public API only (<distq.h>), never lib/.
 *
 * Everything here is static inline: each benchmark is one translation unit
 * that includes this header once and uses only some of it.
 */
#ifndef DQ_BENCH_H
#define DQ_BENCH_H

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <distq.h>

#define BENCH_MAX_LIST 64

static inline double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * CPU time used by the whole process so far (all threads, those already
 * joined included). Over a timed run of P threads it should be close to
 * P x the wall time; much less means other programs took the cores for a
 * while, and the repetition measured the machine's load rather than the
 * code (see bench_share()).
 */
static inline double
bench_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return NAN;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/*
 * The share of its P cores a timed run actually got: CPU seconds over
 * P x wall seconds. The benchmarks repeat a run whose share is below a
 * threshold (--min-share), because on a shared machine a build or a test
 * suite starting in the background otherwise decides the result.
 */
static inline double
bench_share(double cpu, double wall, uint32_t p)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	/* More threads than CPUs can only ever get all the CPUs. */
	if (online > 0 && p > (uint32_t)online)
		p = (uint32_t)online;
	return wall > 0 ? cpu / (wall * (double)p) : NAN;
}

/* A whole decimal number in [min, max] (k/M/G suffixes as powers of 1000,
 * so "20M" reads like the distq program's options); false otherwise. */
static inline bool
bench_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	if (*end == 'k')
		mul = 1000;
	else if (*end == 'M')
		mul = 1000000;
	else if (*end == 'G')
		mul = 1000000000;
	if (mul != 1)
		end++;
	if (*end || (v && mul > UINT64_MAX / v))
		return false;
	v *= mul;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A finite number in [min, max]; false otherwise. */
static inline bool
bench_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/*
 * A comma-separated list of thread counts, each in [1, DQ_MAX_THREADS].
 * Returns how many were read, or -1 for a malformed list.
 */
static inline int
bench_parse_threads(const char *s, uint32_t *out, int cap)
{
	char buf[512], *tok, *save = NULL;
	int n = 0;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (n == cap || !bench_parse_u64(tok, 1, DQ_MAX_THREADS, &v))
			return -1;
		out[n++] = (uint32_t)v;
	}
	return n ? n : -1;
}

/*
 * A comma-separated list of names out of names[0..n), each setting
 * chosen[i]. False for an unknown name or an empty list.
 */
static inline bool
bench_parse_names(const char *s, const char *const *names, int n, bool *chosen)
{
	char buf[256], *tok, *save = NULL;
	bool any = false;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	memset(chosen, 0, (size_t)n * sizeof(*chosen));
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int k;

		for (k = 0; k < n; k++)
			if (strcmp(tok, names[k]) == 0)
				break;
		if (k == n)
			return false;
		chosen[k] = any = true;
	}
	return any;
}

/* --pin cores|none. */
static inline bool
bench_parse_pin(const char *s, dq_pin_policy *pin)
{
	if (strcmp(s, "cores") == 0)
		*pin = DQ_PIN_CORES;
	else if (strcmp(s, "none") == 0)
		*pin = DQ_PIN_NONE;
	else
		return false;
	return true;
}

/* A ratio for a table cell: "-" when it could not be measured. */
static inline void
bench_fmt_ratio(char *buf, size_t n, double v, const char *suffix)
{
	if (isnan(v))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.2f%s", v, suffix);
}

/*
 * The default thread counts: 1, 2, 4, ... below the core count, then the
 * core count itself, so that every machine gets its full width measured
 * even when it is not a power of two.
 */
static inline int
bench_default_threads(uint32_t *out, int cap)
{
	uint32_t cores = (uint32_t)dq_cores();
	int n = 0;

	for (uint32_t p = 1; p < cores && n < cap - 1; p *= 2)
		out[n++] = p;
	out[n++] = cores;
	return n;
}

/*
 * The environments to measure: the n operands the caller checked against
 * its capacity, or the NULL-terminated defaults when there are none.
 * Returns how many.
 */
static inline int
bench_env_list(const char **out, char *const *operands, int n,
	       const char *const *defaults)
{
	int k = 0;

	for (; k < n; k++)
		out[k] = operands[k];
	if (!k)
		for (; defaults[k]; k++)
			out[k] = defaults[k];
	return k;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The median of n values (the mean of the middle two for even n); NaN for
 * none. Sorts a copy so the caller's order (the repetition order) stays.
 * Infinite values sort last, which is how failed runs are counted.
 */
static inline double
bench_median(const double *v, size_t n)
{
	double tmp[BENCH_MAX_LIST * 4];
	double m;

	if (n == 0 || n > sizeof(tmp) / sizeof(tmp[0]))
		return NAN;
	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), bench_cmp_double);
	m = n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
	return m;
}

static inline double
bench_min(const double *v, size_t n)
{
	double m = INFINITY;

	for (size_t i = 0; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static inline double
bench_max(const double *v, size_t n)
{
	double m = -INFINITY;

	for (size_t i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/*
 * An environment string as one CSV and gnuplot field: parameters are
 * separated by commas ("scalable:states=2500000,actions=4"), which would
 * split the field, so they are written with ';' instead. No quoting is
 * then needed by any reader, awk and gnuplot included.
 */
static inline void
bench_label(const char *env, char *buf, size_t n)
{
	size_t i;

	for (i = 0; env[i] && i + 1 < n; i++)
		buf[i] = env[i] == ',' || env[i] == ' ' ? ';' : env[i];
	buf[i] = '\0';
}

/* Open a file for writing, or stdout for "-"; NULL with a message. */
static inline FILE *
bench_fopen(const char *path)
{
	FILE *f;

	if (strcmp(path, "-") == 0)
		return stdout;
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
	return f;
}

/* Close what bench_fopen() opened; false when buffered data failed. */
static inline bool
bench_fclose(FILE *f, const char *path)
{
	if (!f || f == stdout)
		return f ? fflush(f) == 0 : true;
	if (fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------------ */

/*
 * A group of P threads that start their timed work together. Each thread
 * prepares (allocates, creates) before the barrier, so only the work
 * itself lies between the first start and the last end: the group's wall
 * time, which is what an aggregate throughput must be divided by.
 */
typedef struct bench_group {
	pthread_barrier_t barrier;
	uint32_t n;
} bench_group;

typedef struct bench_member {
	bench_group *group;
	uint32_t id;
	int (*work)(void *arg); /* the timed work; 0 or a negative code */
	void *arg;
	double t0, t1;
	int err;
} bench_member;

static inline void *
bench_member_main(void *p)
{
	bench_member *m = p;

	pthread_barrier_wait(&m->group->barrier);
	m->t0 = bench_now();
	m->err = m->work(m->arg);
	m->t1 = bench_now();
	return NULL;
}

/*
 * Run m[0..n) concurrently, each after a common barrier. Returns the wall
 * time from the earliest start to the latest end, or a negative error
 * (the first member error, or -EAGAIN when a thread could not start).
 */
static inline double
bench_group_run(bench_member *m, uint32_t n, int *err)
{
	bench_group g;
	pthread_t *th = calloc(n, sizeof(*th));
	uint32_t started = 0;
	double t0 = INFINITY, t1 = -INFINITY;

	*err = 0;
	if (!th) {
		*err = -ENOMEM;
		return NAN;
	}
	g.n = n;
	if (pthread_barrier_init(&g.barrier, NULL, n)) {
		free(th);
		*err = -EAGAIN;
		return NAN;
	}
	for (; started < n; started++) {
		m[started].group = &g;
		if (pthread_create(&th[started], NULL, bench_member_main,
				   &m[started]))
			break;
	}
	if (started < n) {
		/* The barrier would never open: nothing can be measured.
		 * Exiting is the only safe way out of the started threads. */
		fprintf(stderr, "could not start %u threads\n", n);
		exit(1);
	}
	for (uint32_t i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (m[i].err && !*err)
			*err = m[i].err;
		if (m[i].t0 < t0)
			t0 = m[i].t0;
		if (m[i].t1 > t1)
			t1 = m[i].t1;
	}
	pthread_barrier_destroy(&g.barrier);
	free(th);
	return t1 - t0;
}

/*
 * The PU that the library's default placement (DQ_PIN_CORES) plans for
 * each of P agents, read back from a learner that is created and never
 * run. Benchmarks that run P separate one-thread learners pin learner i
 * there, so that they sit exactly where the P agents of one learner
 * would. A tiny built-in environment is used: only the plan matters.
 * Returns false when the plan has no binding (pin none, or no topology).
 */
static inline bool
bench_plan_pus(uint32_t p, dq_pin_policy pin, unsigned *pus)
{
	dq_env *env = NULL;
	dq_table *t = NULL;
	dq_learner *l = NULL;
	dq_table_config tc;
	dq_learner_config lc;
	dq_env_spec spec;
	bool ok = false;

	if (pin == DQ_PIN_NONE || dq_env_open_name(&env, "maze4x3"))
		goto out;
	dq_env_spec_get(env, &spec);
	dq_table_config_init(&tc);
	tc.n_states = spec.n_states;
	tc.n_actions = spec.n_actions;
	if (dq_table_create(&t, &tc))
		goto out;
	dq_learner_config_init(&lc);
	lc.n_threads = p;
	lc.max_steps = 1;
	lc.pin = pin;
	if (dq_learner_create(&l, t, env, &lc))
		goto out;
	ok = true;
	for (uint32_t i = 0; i < p && ok; i++)
		ok = dq_learner_agent_cpus(l, i, &pus[i], 1) >= 1;
out:
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
	return ok;
}

/* The machine, for the head of every report. */
static inline void
bench_print_header(FILE *f, const char *what)
{
	fprintf(f, "# %s: libdistq %s, %d cores (hwloc)\n", what,
		dq_version_string(), dq_cores());
}

/*
 * What write path the agents of a finished run took: the share of all
 * steps taken in write-back windows (*windowed, 0 to 1) and the mean
 * window length (*window, steps, rounded; 0 when none).
 */
static inline void
bench_write_path(const dq_learner *l, uint32_t p, uint64_t steps,
		 double *windowed, uint32_t *window)
{
	double in_windows = 0.0, wsum = 0.0;

	for (uint32_t i = 0; i < p; i++) {
		dq_write_stats ws;

		if (dq_learner_agent_write_path(l, i, &ws) == 0) {
			in_windows += (double)ws.window_steps;
			wsum += ws.mean_window * (double)ws.window_steps;
		}
	}
	*window = in_windows > 0 ? (uint32_t)(wsum / in_windows + 0.5) : 0;
	*windowed = in_windows / (double)(steps ? steps : 1);
}

#endif /* DQ_BENCH_H */
