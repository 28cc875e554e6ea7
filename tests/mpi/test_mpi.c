/*
 * libdistq-mpi under a real mpirun (scripts/mpi-test.sh runs it with 2 and
 * 3 ranks). One mode per run:
 *
 *   arith POLICY EXCHANGE  hand-computed sync arithmetic. The learners run
 *                          frozenlake4x4, whose terminal states (5, 7, 11,
 *                          12 holes, 15 goal) are never updated by an
 *                          agent; on its first should_stop call each rank
 *                          adds its own deltas there and asks to stop, and
 *                          the final sync combines them.
 *   lost                   no lost update: each rank adds 1 to Q(15,0)
 *                          from its monitor thread every millisecond while
 *                          delta syncs run every step round; at the end
 *                          every rank holds the sum of all the additions.
 *   stop                   rank 1 asks to stop after 0.2 s: all stop, for
 *                          that reason, soon.
 *   error                  rank 1 makes its table overflow an update: all
 *                          stop, naming rank 1 and the "update".
 *   steps                  a summed step limit: all stop on it, the total
 *                          past it by less than a few control rounds.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <distq.h>
#include <distq/mpi.h>

static dq_mpi *job;
static dq_table *table;
static int rank, size;
static int failures;

#define CHECK(cond, ...)                                               \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr, "rank %d: FAIL %s:%d: ", rank, \
				__FILE__, __LINE__);                   \
			fprintf(stderr, __VA_ARGS__);                  \
			fputc('\n', stderr);                           \
			failures++;                                    \
		}                                                      \
	} while (0)

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double
q(uint32_t s, uint32_t a)
{
	double v = NAN;

	dq_table_get(table, s, a, &v);
	return v;
}

/* ------------------------------------------------------------ modes -- */

static int calls;
static double t_start;
static atomic_int added;

/* arith: rank r adds r + 1 to Q(5, r % 2) and 10 to Q(15, 0), then asks
 * to stop once every rank has surely done so (its monitor calls this
 * every millisecond). */
static int
arith_stop(void *arg)
{
	(void)arg;
	if (calls++ == 0) {
		dq_table_add(table, 5, (uint32_t)(rank % 2), rank + 1.0);
		dq_table_add(table, 15, 0, 10.0);
	}
	return now_s() - t_start > 0.3;
}

/* lost: +1 per call for 0.3 s. */
static int
lost_stop(void *arg)
{
	(void)arg;
	if (now_s() - t_start > 0.3)
		return 1;
	if (dq_table_add(table, 15, 0, 1.0) == 0)
		/* Relaxed: a counter read after the run (joined). */
		atomic_fetch_add_explicit(&added, 1, memory_order_relaxed);
	return 0;
}

static int
stop_stop(void *arg)
{
	(void)arg;
	return rank == 1 && now_s() - t_start > 0.2;
}

/* error: rank 1 sets every entry of a row to +-DBL_MAX, so that the next
 * TD update there (target - Q overflows) is refused. */
static int
error_stop(void *arg)
{
	(void)arg;
	if (rank == 1 && calls++ == 0)
		for (uint32_t s = 0; s < 16; s++)
			for (uint32_t a = 0; a < 4; a++)
				dq_table_set(table, s, a,
					     a == 0 ? -1.7e308 : 1.7e308);
	return 0;
}

static int
never_stop(void *arg)
{
	(void)arg;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	dq_learner_config c;
	dq_mpi_config mc;
	dq_table_config tc;
	dq_run_result r;
	dq_learner *l;
	dq_env *env;
	double t0;
	int err;

	if (dq_mpi_init(&job, &argc, &argv)) {
		fprintf(stderr, "test_mpi: no MPI\n");
		return 1;
	}
	rank = dq_mpi_rank(job);
	size = dq_mpi_size(job);
	dq_mpi_config_init(&mc);
	mc.timeout = 5.0;
	mc.poll = 0.001;
	if (dq_env_open_name(&env, "frozenlake4x4")) {
		fprintf(stderr, "test_mpi: no frozenlake4x4\n");
		return 1;
	}
	dq_table_config_init(&tc);
	tc.n_states = 16;
	tc.n_actions = 4;
	if (dq_table_create(&table, &tc))
		return 1;
	dq_learner_config_init(&c);
	c.n_threads = 1;
	c.pin = DQ_PIN_NONE;
	c.progress_interval = 0.001;
	c.max_seconds = 20.0; /* a bound: every mode ends well before */

	if (!strcmp(mode, "arith")) {
		if (argc < 4 || dq_mpi_config_parse(&mc, argv[2])) {
			fprintf(stderr, "usage: arith SPEC EXCHANGE\n");
			return 2;
		}
		mc.exchange =
		    !strcmp(argv[3], "sparse")	? DQ_MPI_EXCHANGE_SPARSE
		    : !strcmp(argv[3], "dense") ? DQ_MPI_EXCHANGE_DENSE
						: DQ_MPI_EXCHANGE_AUTO;
		c.should_stop = arith_stop;
	} else if (!strcmp(mode, "lost")) {
		dq_mpi_config_parse(&mc, "delta:tau=1");
		c.should_stop = lost_stop;
	} else if (!strcmp(mode, "stop")) {
		c.should_stop = stop_stop;
	} else if (!strcmp(mode, "error")) {
		c.should_stop = error_stop;
	} else if (!strcmp(mode, "steps")) {
		c.max_steps = 200000;
		c.should_stop = never_stop;
	} else {
		fprintf(stderr, "test_mpi: unknown mode '%s'\n", mode);
		return 2;
	}
	err = dq_mpi_learner_create(job, &l, table, env, &c, &mc);
	if (err) {
		fprintf(stderr, "rank %d: create: %s\n", rank,
			dq_strerror(err));
		return 1;
	}
	if (!strcmp(mode, "steps")) {
		/* Rank r's agent 0 draws from stream r x P of the seed: its
		 * own block (the script checks that the ranks' differ). */
		dq_agent_state st;
		dq_rng want;

		dq_learner_agent_state(l, 0, &st);
		dq_rng_seed(&want, c.agent.seed, (uint64_t)rank * c.n_threads);
		CHECK(!memcmp(&st.rng, &want, sizeof(want)),
		      "agent 0 is not on stream %d", rank);
		printf("stream %d %016llx\n", rank,
		       (unsigned long long)st.rng.s[0]);
	}
	t_start = t0 = now_s();
	err = dq_mpi_run(job, &r);
	t0 = now_s() - t0;

	if (!strcmp(mode, "arith") && mc.policy == DQ_MPI_DISTQL) {
		/* The blend, in rank order, of what each rank pushed (one
		 * sync: tau is beyond the run), eta_i = alpha = 0.1. */
		double e[3], want[3];

		for (int k = 0; k < 3; k++) {
			double qc = 0.0, ec = mc.eta, eta_i = 0.1;

			for (int i = 0; i < size; i++) {
				double v = k == 2 ? 10.0 : i + 1.0, w;

				/* (5, k) is pushed by the ranks i, i % 2 == k */
				if (k < 2 && i % 2 != k)
					continue;
				ec = ec < eta_i ? ec : eta_i;
				w = ec * ec / eta_i;
				qc = (1.0 - w) * qc + w * v;
				ec *= mc.eta_decay;
			}
			e[k] = qc;
		}
		/* ALL: every entry from the centre; Partial: only those this
		 * rank pushed, (5, rank % 2) and (15, 0). */
		want[0] = !mc.partial || rank % 2 == 0 ? e[0] : 0.0;
		want[1] = !mc.partial || rank % 2 == 1 ? e[1] : 0.0;
		want[2] = e[2];
		CHECK(err == 0, "run: %s", dq_strerror(err));
		CHECK(fabs(q(5, 0) - want[0]) < 1e-12,
		      "Q(5,0) %.17g, want %.17g", q(5, 0), want[0]);
		CHECK(fabs(q(5, 1) - want[1]) < 1e-12,
		      "Q(5,1) %.17g, want %.17g", q(5, 1), want[1]);
		CHECK(fabs(q(15, 0) - want[2]) < 1e-12,
		      "Q(15,0) %.17g, want %.17g", q(15, 0), want[2]);
	} else if (!strcmp(mode, "arith")) {
		bool avg = mc.policy == DQ_MPI_AVERAGE;
		/* Rank r added r + 1 at (5, r % 2) and 10 at (15, 0). */
		double even = 0, odd = 0, e50, e51, e150;

		for (int i = 0; i < size; i++)
			*(i % 2 ? &odd : &even) += i + 1.0;
		e50 = avg ? even / size : even;
		e51 = avg ? odd / size : odd;
		e150 = avg ? 10.0 : 10.0 * size;
		CHECK(err == 0, "run: %s", dq_strerror(err));
		CHECK(fabs(q(5, 0) - e50) < 1e-12, "Q(5,0) %.17g, want %.17g",
		      q(5, 0), e50);
		CHECK(fabs(q(5, 1) - e51) < 1e-12, "Q(5,1) %.17g, want %.17g",
		      q(5, 1), e51);
		CHECK(fabs(q(15, 0) - e150) < 1e-12,
		      "Q(15,0) %.17g, want %.17g", q(15, 0), e150);
		CHECK(q(15, 1) == 0.0 && q(5, 2) == 0.0, "untouched entries");
		CHECK(r.reason == DQ_STOP_CALLBACK, "reason %d", r.reason);
	} else if (!strcmp(mode, "lost")) {
		/* Relaxed: the run is over and joined. */
		long mine = atomic_load_explicit(&added, memory_order_relaxed);

		CHECK(err == 0, "run: %s", dq_strerror(err));
		CHECK(mine > 10, "only %ld additions", mine);
		/* The script sums the counts of all ranks and compares the
		 * sum with every rank's final value. */
		printf("lost rank %d added %ld final %.17g\n", rank, mine,
		       q(15, 0));
	} else if (!strcmp(mode, "stop")) {
		CHECK(err == 0, "run: %s", dq_strerror(err));
		CHECK(r.reason == DQ_STOP_CALLBACK, "reason %d", r.reason);
		CHECK(t0 < 3.0, "stopped after %.2f s", t0);
	} else if (!strcmp(mode, "error")) {
		dq_mpi_error_info fi;

		dq_mpi_error(job, &fi);
		CHECK(r.reason == DQ_STOP_ERROR, "reason %d", r.reason);
		CHECK(fi.rank == 1, "failed rank %d", fi.rank);
		CHECK(fi.error.code == DQ_ENONFINITE, "code %d", fi.error.code);
		CHECK(fi.error.what && !strcmp(fi.error.what, "update"),
		      "what %s", fi.error.what ? fi.error.what : "NULL");
		CHECK(err == (rank == 1 ? DQ_ENONFINITE : DQ_EREMOTE),
		      "returned %d", err);
		CHECK(t0 < 3.0, "stopped after %.2f s", t0);
		if (rank == 0)
			printf("error: rank %d agent %u step %llu in %s: %s\n",
			       fi.rank, fi.error.agent,
			       (unsigned long long)fi.error.step, fi.error.what,
			       dq_strerror(fi.error.code));
	} else if (!strcmp(mode, "steps")) {
		CHECK(err == 0, "run: %s", dq_strerror(err));
		CHECK(r.reason == DQ_STOP_STEPS, "reason %d", r.reason);
		/* Each rank's share, ceil(200000 / R), exactly. */
		CHECK(r.total.steps == (200000 + (uint64_t)size - 1) /
					   (uint64_t)size * (uint64_t)size,
		      "steps %llu", (unsigned long long)r.total.steps);
	}
	dq_mpi_learner_destroy(job);
	dq_table_destroy(table);
	dq_env_close(env);
	dq_mpi_finalize(job);
	if (!failures)
		printf("test_mpi %s: rank %d/%d ok\n", mode, rank, size);
	return failures ? 1 : 0;
}
