/*
 * The cost of one sync between ranks as a function of the table's size
 * (10^3 .. 10^7 entries) and of the fraction of entries changed since the
 * last sync, for each exchange (sparse lists, dense all-reduce, and the
 * automatic choice). Built by `make bench-mpi`, run by bench/mpi.sh:
 *
 *   mpirun -np R build/bench/mpi/sync_cost [MAX_ENTRIES] > sync.csv
 *
 * Each rank adds a small delta to round(f x N) random entries (its own
 * random stream), then every rank calls dq_mpi_table_sync() (average);
 * the figure is rank 0's wall time of the sync (snapshot, exchange,
 * application as deltas), the median of several. CSV on rank 0's stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <distq.h>
#include <distq/mpi.h>

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static const double fractions[] = {0.001, 0.01, 0.1, 0.5, 1.0};
	static const char *const names[] = {"auto", "sparse", "dense"};
	double max_entries = argc > 1 ? atof(argv[1]) : 1e7;
	dq_mpi *m;
	int rank, size;

	if (dq_mpi_init(&m, &argc, &argv))
		return 1;
	rank = dq_mpi_rank(m);
	size = dq_mpi_size(m);
	if (rank == 0)
		printf("ranks,entries,fraction,exchange,sparse_used,"
		       "median_seconds,reps\n");
	for (double n = 1e3; n <= max_entries * 1.0001; n *= 10) {
		dq_table_config tc;
		dq_table *t;
		dq_rng rng;

		dq_table_config_init(&tc);
		tc.n_actions = 10;
		tc.n_states = (uint32_t)(n / 10);
		if (dq_table_create(&t, &tc))
			return 1;
		dq_rng_seed(&rng, 12345, (uint64_t)rank);
		for (int e = 0; e < 3; e++) {
			dq_mpi_config mc;

			dq_mpi_config_init(&mc);
			mc.exchange = (dq_mpi_exchange)e;
			mc.timeout = 600;
			if (dq_mpi_table_attach(m, t, &mc))
				return 1;
			for (size_t fi = 0;
			     fi < sizeof(fractions) / sizeof(*fractions);
			     fi++) {
				int reps = n >= 1e6 ? 3 : 15;
				double secs[15];
				uint64_t k = (uint64_t)(fractions[fi] * n +
							0.5),
					 sparse0;
				dq_mpi_sync_stats st;

				dq_mpi_sync_stats_get(m, &st);
				sparse0 = st.sparse;
				for (int r = 0; r < reps; r++) {
					for (uint64_t j = 0; j < k; j++) {
						uint32_t s = dq_rng_below_fn(
							     &rng, tc.n_states),
							 a = dq_rng_below_fn(
							     &rng, 10);

						dq_table_add(t, s, a, 1e-3);
					}
					if (dq_mpi_table_sync(m))
						return 1;
					dq_mpi_sync_stats_get(m, &st);
					secs[r] = st.last_seconds;
				}
				qsort(secs, (size_t)reps, sizeof(double),
				      cmp_double);
				if (rank == 0)
					printf("%d,%.0f,%g,%s,%llu,%.6g,%d\n",
					       size, n, fractions[fi], names[e],
					       (unsigned long long)(st.sparse -
								    sparse0),
					       secs[reps / 2], reps);
				fflush(stdout);
			}
		}
		dq_table_destroy(t);
	}
	dq_mpi_finalize(m);
	return 0;
}
