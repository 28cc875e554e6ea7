/*
 * tests/stress/stress_table.c - minutes of contention on a tiny table,
 * counting every update (make stress; scripts/stress.sh).
 *
 *   stress_table add|halve SECONDS [cas|locked|hogwild]
 *
 * The run is cut into phases of 2, 3, ... 8 threads (more threads than
 * cores, so that threads are also preempted in the middle of an update),
 * each given an equal share of SECONDS. A phase repeats rounds: every
 * thread waits at a barrier, so that all start together, hammers the
 * table, and waits again; then the main thread checks that no update was
 * lost and resets the table.
 *
 *  add    each thread adds small integers (+1, -2, +3) to the four entries
 *         of a 2 x 2 table, most to one hot entry, and counts what it
 *         added. Integer sums in a double are exact below 2^53, so
 *         the table must equal the counts exactly.
 *  halve  the TD update itself: alpha 0.5 towards a target of 0 halves an
 *         entry exactly, whatever the order. N updates of one entry from
 *         1.0 must leave exactly 2^-N (N <= 1000, above the smallest normal
 *         double). A lost update leaves 2^-(N-1) or more.
 *
 * It prints one line of totals (updates, seconds, CAS retries, lost) and
 * exits 1 when any update was lost. Hogwild mode is allowed to lose
 * updates; scripts/stress.sh runs it briefly to show that the check does
 * see a loss when one happens.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "distq.h"

#define MIN_THREADS 2
#define MAX_THREADS 8
#define ADD_OPS 50000	 /* per thread and round */
#define HALVE_TOTAL 1000 /* updates per round, all threads together */

enum kind { KIND_ADD, KIND_HALVE };

struct pool {
	enum kind kind;
	dq_table *t;
	unsigned n; /* threads in this phase */
	pthread_barrier_t start, end;
	bool quit; /* written before `start`; read after it */
	struct worker {
		pthread_t th;
		unsigned id;
		struct pool *pool;
		int64_t sum[4]; /* add: what this thread added, per entry */
		uint64_t ops;	/* updates made, all rounds */
		uint64_t retries;
		int err; /* first library error */
	} w[MAX_THREADS];
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
note(struct worker *w, int r)
{
	if (r < 0 && !w->err)
		w->err = r;
	else if (r > 0)
		w->retries += (uint64_t)r;
}

/* One round of one thread. */
static void
work(struct worker *w)
{
	struct pool *p = w->pool;

	if (p->kind == KIND_ADD) {
		static const double delta[3] = {1.0, -2.0, 3.0};

		for (uint32_t i = 0; i < ADD_OPS; i++) {
			/* Three adds in four go to one hot entry, where the
			 * threads collide most; the rest are spread over the
			 * other three in an order that differs per thread. */
			uint32_t e = (i & 3) ? 0 : 1 + (i / 4 + w->id) % 3;
			int d = (int)((i + w->id) % 3);

			note(w, dq_table_add(p->t, e >> 1, e & 1, delta[d]));
			w->sum[e] += d == 0 ? 1 : d == 1 ? -2 : 3;
		}
		w->ops += ADD_OPS;
	} else {
		uint32_t n = HALVE_TOTAL / p->n;

		for (uint32_t i = 0; i < n; i++)
			note(w, dq_table_update(p->t, 0, 0, 0.5, 0.0));
		w->ops += n;
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;

	for (;;) {
		/* The barrier orders the main thread's reset of the table
		 * and its write of quit before this thread's reads. */
		pthread_barrier_wait(&p->start);
		if (p->quit)
			break;
		work(w);
		pthread_barrier_wait(&p->end);
	}
	return NULL;
}

/* After a round: the lost updates (0 when all arrived). */
static double
round_check(struct pool *p)
{
	double lost = 0, v;

	if (p->kind == KIND_ADD) {
		for (uint32_t e = 0; e < 4; e++) {
			int64_t want = 0;

			for (unsigned i = 0; i < p->n; i++) {
				want += p->w[i].sum[e];
				p->w[i].sum[e] = 0;
			}
			dq_table_get(p->t, e >> 1, e & 1, &v);
			if (v != (double)want) {
				fprintf(stderr,
					"stress_table: entry %u is %.17g, "
					"want %lld\n",
					e, v, (long long)want);
				lost += fabs(v - (double)want);
			}
		}
		dq_table_fill(p->t, 0.0);
	} else {
		int n = (int)(HALVE_TOTAL / p->n * p->n);

		dq_table_get(p->t, 0, 0, &v);
		if (v != ldexp(1.0, -n)) {
			fprintf(stderr, "stress_table: %d halvings left %a\n",
				n, v);
			lost += v > 0 ? n + log2(v) : 1;
		}
		dq_table_fill(p->t, 1.0);
	}
	return lost;
}

int
main(int argc, char **argv)
{
	struct pool p;
	dq_table_config tc;
	double seconds, t0, lost = 0;
	uint64_t ops = 0, retries = 0, rounds = 0;
	int err = 0;

	if (argc < 3 || argc > 4 ||
	    (strcmp(argv[1], "add") && strcmp(argv[1], "halve")) ||
	    (argc == 4 && strcmp(argv[3], "cas") && strcmp(argv[3], "locked") &&
	     strcmp(argv[3], "hogwild"))) {
		fprintf(stderr,
			"usage: %s add|halve SECONDS [cas|locked|hogwild]\n",
			argv[0]);
		return 2;
	}
	memset(&p, 0, sizeof(p));
	p.kind = strcmp(argv[1], "add") ? KIND_HALVE : KIND_ADD;
	seconds = atof(argv[2]);
	dq_table_config_init(&tc);
	tc.n_states = p.kind == KIND_ADD ? 2 : 1;
	tc.n_actions = p.kind == KIND_ADD ? 2 : 1;
	tc.mode = argc < 4			? DQ_MODE_CAS
		  : !strcmp(argv[3], "locked")	? DQ_MODE_LOCKED
		  : !strcmp(argv[3], "hogwild") ? DQ_MODE_HOGWILD
						: DQ_MODE_CAS;
	tc.q0 = p.kind == KIND_ADD ? 0.0 : 1.0;
	err = dq_table_create(&p.t, &tc);
	if (err) {
		fprintf(stderr, "stress_table: %s\n", dq_strerror(err));
		return 1;
	}

	t0 = now();
	for (unsigned n = MIN_THREADS; n <= MAX_THREADS; n++) {
		double end = t0 + seconds * (n - MIN_THREADS + 1) /
				      (MAX_THREADS - MIN_THREADS + 1);

		p.n = n;
		p.quit = false;
		pthread_barrier_init(&p.start, NULL, n + 1);
		pthread_barrier_init(&p.end, NULL, n + 1);
		for (unsigned i = 0; i < n; i++) {
			memset(&p.w[i], 0, sizeof(p.w[i]));
			p.w[i].id = i;
			p.w[i].pool = &p;
			if (pthread_create(&p.w[i].th, NULL, worker_main,
					   &p.w[i])) {
				fprintf(stderr, "stress_table: no threads\n");
				return 1;
			}
		}
		do {
			pthread_barrier_wait(&p.start);
			pthread_barrier_wait(&p.end);
			lost += round_check(&p);
			rounds++;
		} while (now() < end && lost == 0);
		p.quit = true;
		pthread_barrier_wait(&p.start);
		for (unsigned i = 0; i < n; i++) {
			pthread_join(p.w[i].th, NULL);
			ops += p.w[i].ops;
			retries += p.w[i].retries;
			if (p.w[i].err && !err)
				err = p.w[i].err;
		}
		pthread_barrier_destroy(&p.start);
		pthread_barrier_destroy(&p.end);
		if (lost || err)
			break;
	}
	dq_table_destroy(p.t);
	if (err)
		fprintf(stderr, "stress_table: %s\n", dq_strerror(err));
	printf("stress_table %s %s: threads %d..%d, %llu rounds, ops=%llu "
	       "secs=%.1f retries=%llu lost=%.0f\n",
	       argv[1], argc == 4 ? argv[3] : "cas", MIN_THREADS, MAX_THREADS,
	       (unsigned long long)rounds, (unsigned long long)ops, now() - t0,
	       (unsigned long long)retries, lost);
	return lost || err ? 1 : 0;
}
