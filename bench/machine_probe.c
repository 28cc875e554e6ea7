/*
 * machine_probe: the three costs of this machine that bound what a second
 * core can add to a shared-table learner, measured in the same session as
 * the scaling benchmark (bench/scaling.sh runs it first), so that a target
 * missed is explained by a figure of the same run, not by a guess:
 *
 *  line_ns    a cache line handed from one core to the other and back,
 *             halved: what an agent waits when it writes an entry the
 *             other agent wrote last (ping-pong of one 64-byte line, two
 *             threads bound to two different cores, median of REPS
 *             bursts of 20,000 round trips);
 *  create_us  pthread_create() of a thread that binds itself to the other
 *             core, and its pthread_join(): the fixed cost a run pays per
 *             agent thread (median of 200);
 *  wake_us    a thread parked (pthread_cond_wait) on the other core, after
 *             the machine idled 1 ms, woken by pthread_cond_signal until it
 *             has answered (the caller spins for the answer, so only the
 *             parked side sleeps): what a pool of threads kept between
 *             runs would pay instead of create_us (median of 200);
 *  wake_busy_us  the same without the idle millisecond before each wake.
 *
 * On a virtual machine an idle virtual CPU is halted, and waking it is
 * the hypervisor's business: wake_us against wake_busy_us shows how much.
 *
 *   machine_probe [--reps N]      (prints key=value lines)
 *
 * It uses hwloc directly (the library's placement is not what is
 * measured): the first PU of the first two cores, or the first two PUs
 * when the machine has a single core. Exit status 0, or 1 with a message
 * when fewer than two PUs are there or binding fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define ROUND_TRIPS 20000L
#define THREAD_REPS 200

static hwloc_topology_t topo;
static hwloc_cpuset_t cpus[2];

static int
bind_self(int which)
{
	return hwloc_set_cpubind(topo, cpus[which], HWLOC_CPUBIND_THREAD);
}

static void
sleep_s(double s)
{
	struct timespec t = {0, (long)(s * 1e9)};

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* -------------------------------------------------------- ping-pong -- */

/* The line handed back and forth; alone on its cache line. */
static struct {
	_Alignas(64) _Atomic long v;
	char pad[64 - sizeof(long)];
} ball_line;
#define ball (ball_line.v)

static void *
pong(void *arg)
{
	long n = *(long *)arg;

	if (bind_self(1))
		return (void *)1;
	for (long i = 1; i < 2 * n; i += 2) {
		/* acquire/release: the hand-over itself is what is timed */
		while (atomic_load_explicit(&ball, memory_order_acquire) != i)
			;
		atomic_store_explicit(&ball, i + 1, memory_order_release);
	}
	return NULL;
}

/* One burst: the mean one-way time of ROUND_TRIPS round trips, in ns. */
static double
ping_burst(void)
{
	long n = ROUND_TRIPS;
	pthread_t t;
	void *ret;
	double t0, t1;

	/* relaxed: before the other thread exists (pthread_create orders) */
	atomic_store_explicit(&ball, -1, memory_order_relaxed);
	if (pthread_create(&t, NULL, pong, &n))
		return -1.0;
	/* Wait until the other side runs (it spins on 1 after the start). */
	sleep_s(0.002);
	t0 = bench_now();
	/* relaxed: the start; the loop's release stores hand the line on */
	atomic_store_explicit(&ball, 0, memory_order_relaxed);
	for (long i = 0; i < 2 * n; i += 2) {
		/* acquire/release: as in pong() */
		while (atomic_load_explicit(&ball, memory_order_acquire) != i)
			;
		atomic_store_explicit(&ball, i + 1, memory_order_release);
	}
	/* acquire: the last answer */
	while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * n)
		;
	t1 = bench_now();
	pthread_join(t, &ret);
	if (ret)
		return -1.0;
	return (t1 - t0) / (double)n / 2.0 * 1e9;
}

/* ------------------------------------------------- thread start cost -- */

static void *
bound_nothing(void *arg)
{
	(void)arg;
	return bind_self(1) ? (void *)1 : NULL;
}

static double
create_once(void)
{
	pthread_t t;
	void *ret;
	double t0 = bench_now(), t1;

	if (pthread_create(&t, NULL, bound_nothing, NULL))
		return -1.0;
	pthread_join(t, &ret);
	t1 = bench_now();
	return ret ? -1.0 : (t1 - t0) * 1e6;
}

/* ------------------------------------------------- parked thread wake -- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long gen;	      /* under mu: wake number */
static _Atomic long answered; /* the parked thread's last answered gen */
static int park_err;

static void *
parked(void *arg)
{
	long seen = 0;

	(void)arg;
	if (bind_self(1)) {
		park_err = 1;
		/* release: the caller stops waiting for answers */
		atomic_store_explicit(&answered, -1, memory_order_release);
		return NULL;
	}
	pthread_mutex_lock(&mu);
	for (;;) {
		while (gen == seen)
			pthread_cond_wait(&cv, &mu);
		seen = gen;
		if (seen < 0)
			break;
		/* release: the answer the caller spins for */
		atomic_store_explicit(&answered, seen, memory_order_release);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* Median wake-to-answer time in µs over THREAD_REPS wakes, each after
 * `idle` seconds of sleep of the caller too. */
static double
wake_median(double idle, double *samples)
{
	pthread_t t;
	int n = 0;

	gen = 0;
	/* relaxed: before the parked thread exists (pthread_create orders) */
	atomic_store_explicit(&answered, 0, memory_order_relaxed);
	if (pthread_create(&t, NULL, parked, NULL))
		return -1.0;
	sleep_s(0.005);
	for (int i = 1; i <= THREAD_REPS; i++) {
		double t0;
		long a;

		if (idle > 0.0)
			sleep_s(idle);
		t0 = bench_now();
		pthread_mutex_lock(&mu);
		gen = i;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mu);
		/* acquire: pairs with the parked thread's answer, or its -1
		 * when it could not bind (park_err is read after the join) */
		while ((a = atomic_load_explicit(&answered,
						 memory_order_acquire)) != i &&
		       a != -1)
			;
		if (a == -1)
			break;
		samples[n++] = (bench_now() - t0) * 1e6;
		/* Let it park again before the next wake. */
		if (idle <= 0.0)
			sleep_s(0.00002);
	}
	pthread_mutex_lock(&mu);
	gen = -1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(t, NULL);
	return park_err ? -1.0 : bench_median(samples, (size_t)n);
}

/* ------------------------------------------------------------- main -- */

static int
pick_cpus(void)
{
	int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	hwloc_obj_type_t ty = cores >= 2 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;

	if (hwloc_get_nbobjs_by_type(topo, ty) < 2)
		return -1;
	for (int i = 0; i < 2; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(topo, ty, (unsigned)i);

		cpus[i] = hwloc_bitmap_dup(o->cpuset);
		if (!cpus[i])
			return -1;
		hwloc_bitmap_singlify(cpus[i]);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int reps = 7;
	double *s;
	double line, create, wake, busy;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			reps = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: machine_probe [--reps N]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > 1000) {
		fprintf(stderr, "machine_probe: --reps must be 1-1000\n");
		return 2;
	}
	if (hwloc_topology_init(&topo) || hwloc_topology_load(topo)) {
		fprintf(stderr, "machine_probe: cannot read the topology\n");
		return 1;
	}
	if (pick_cpus()) {
		fprintf(stderr, "machine_probe: needs two PUs\n");
		return 1;
	}
	s = malloc(sizeof(double) *
		   (size_t)(reps > THREAD_REPS ? reps : THREAD_REPS));
	if (!s || bind_self(0)) {
		fprintf(stderr, "machine_probe: cannot bind to the first PU\n");
		return 1;
	}
	for (int i = 0; i < reps; i++)
		if ((s[i] = ping_burst()) < 0.0) {
			fprintf(stderr, "machine_probe: ping-pong failed\n");
			return 1;
		}
	line = bench_median(s, (size_t)reps);
	for (int i = 0; i < THREAD_REPS; i++)
		if ((s[i] = create_once()) < 0.0) {
			fprintf(stderr, "machine_probe: thread start failed\n");
			return 1;
		}
	create = bench_median(s, THREAD_REPS);
	wake = wake_median(0.001, s);
	busy = wake_median(0.0, s);
	if (wake < 0.0 || busy < 0.0) {
		fprintf(stderr, "machine_probe: parked-thread wake failed\n");
		return 1;
	}
	printf(
	    "line_ns=%.1f\ncreate_us=%.1f\nwake_us=%.1f\nwake_busy_us=%.1f\n",
	    line, create, wake, busy);
	free(s);
	hwloc_bitmap_free(cpus[0]);
	hwloc_bitmap_free(cpus[1]);
	hwloc_topology_destroy(topo);
	return 0;
}
