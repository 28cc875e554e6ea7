/* tests/test_seqlock.c - the sequence lock on its own (lib/seqlock.h). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "dq_test.h"
#include "seqlock.h"

#define WORDS 8

/* Single-threaded: a read sees the last write, whole. */
static void
test_sequential(void **state)
{
	dq__seqlock sl;
	dq__atomic_u64 rec[WORDS];
	uint64_t in[WORDS], out[WORDS];

	(void)state;
	memset(&sl, 0, sizeof(sl));
	memset(rec, 0, sizeof(rec));
	for (uint64_t k = 1; k <= 3; k++) {
		for (int i = 0; i < WORDS; i++)
			in[i] = k * 100 + (uint64_t)i;
		dq__seq_write(&sl, rec, in, WORDS);
		dq__seq_read(&sl, rec, out, WORDS);
		assert_memory_equal(in, out, sizeof(in));
	}
	/* Each write moves the sequence by two and leaves it even. */
	assert_int_equal(dq__load_u32(&sl.seq, memory_order_relaxed), 6);
	/* A read begun before a write must retry after it. */
	{
		uint32_t q = dq__seq_read_begin(&sl);

		assert_false(dq__seq_read_retry(&sl, q));
		dq__seq_write(&sl, rec, in, WORDS);
		assert_true(dq__seq_read_retry(&sl, q));
	}
}

/*
 * One writer rewrites a record whose words are all equal (k, k, ..., k)
 * for k = 1, 2, ...; readers must only ever see whole records, with k
 * never going back. The first HANDSHAKES writes stop half way until a
 * read that began after that point has ended, or until WAIT_NS passed:
 * with the lock, no such read can end before the write does (so each of
 * them waits the whole time), without it every one is torn; this holds on
 * a loaded machine and on one core. The writes after those run free for
 * `seconds`, dawdling half way, for readers on the other core to meet.
 */
#define HANDSHAKES 64
#define WAIT_NS 2000000L

struct shared {
	dq__seqlock sl;
	dq__atomic_u64 rec[WORDS];
	dq__atomic_int done;
	dq__atomic_u64 completed; /* reads ended, by every reader */
	double seconds;		  /* how long the free writes go on */
};

struct reader {
	struct shared *sh;
	uint64_t reads, torn, backwards;
};

static double
elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* A short busy wait that the compiler cannot remove. */
static void
spin_pause(void)
{
	static volatile unsigned sink;

	sink = sink + 1;
}

/* Half way through a write: wait for a read begun from here to end. */
static void
wait_for_a_read(struct shared *sh)
{
	/* relaxed: a count; only its growth matters */
	uint64_t from = dq__load_u64(&sh->completed, memory_order_relaxed);
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* relaxed: as above. A read in progress now may end first; the
	 * one after it began after the first half of the write. */
	while (dq__load_u64(&sh->completed, memory_order_relaxed) < from + 2 &&
	       elapsed(&t0) < WAIT_NS * 1e-9)
		sched_yield();
}

static void *
writer_main(void *arg)
{
	struct shared *sh = arg;
	struct timespec t0;
	uint64_t k = 1;

	for (; k <= HANDSHAKES; k++) {
		uint32_t q = dq__seq_write_begin(&sh->sl);

		for (int i = 0; i < WORDS; i++) {
			dq__seq_write_u64(&sh->rec[i], k);
			if (i == WORDS / 2)
				wait_for_a_read(sh);
		}
		dq__seq_write_end(&sh->sl, q);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;; k++) {
		uint32_t q = dq__seq_write_begin(&sh->sl);

		for (int i = 0; i < WORDS; i++) {
			dq__seq_write_u64(&sh->rec[i], k);
			if (i == WORDS / 2)
				for (int j = 0; j < 256; j++)
					spin_pause();
		}
		dq__seq_write_end(&sh->sl, q);
		if (k % 256 == 0 && elapsed(&t0) >= sh->seconds)
			break;
	}
	/* release: the readers' acquire poll sees every write before it */
	dq__store_int(&sh->done, 1, memory_order_release);
	return NULL;
}

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct shared *sh = r->sh;
	uint64_t v[WORDS], last = 0;

	/* acquire: pairs with the writer's release of done */
	while (!dq__load_int(&sh->done, memory_order_acquire)) {
		dq__seq_read(&sh->sl, sh->rec, v, WORDS);
		/* relaxed: a count the writer waits on, ordering nothing */
		dq__fetch_add_u64(&sh->completed, 1, memory_order_relaxed);
		r->reads++;
		for (int i = 1; i < WORDS; i++)
			if (v[i] != v[0]) {
				r->torn++;
				break;
			}
		r->backwards += v[0] < last;
		last = v[0];
	}
	return NULL;
}

static void
test_no_torn_reads(void **state)
{
	struct shared sh;
	struct reader r[2];
	pthread_t w, rt[2];
	uint64_t reads = 0, torn = 0, backwards = 0;

	(void)state;
	memset(&sh, 0, sizeof(sh));
	memset(r, 0, sizeof(r));
	sh.seconds = 0.2;
	for (int i = 0; i < 2; i++) {
		r[i].sh = &sh;
		assert_int_equal(
		    pthread_create(&rt[i], NULL, reader_main, &r[i]), 0);
	}
	assert_int_equal(pthread_create(&w, NULL, writer_main, &sh), 0);
	assert_int_equal(pthread_join(w, NULL), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(rt[i], NULL), 0);
		reads += r[i].reads;
		torn += r[i].torn;
		backwards += r[i].backwards;
	}
	print_message("  %llu reads, %llu torn\n", (unsigned long long)reads,
		      (unsigned long long)torn);
	assert_int_equal(torn, 0);
	assert_int_equal(backwards, 0);
	assert_true(reads > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sequential),
	    cmocka_unit_test(test_no_torn_reads),
	};

	return cmocka_run_group_tests_name("seqlock", tests, NULL, NULL);
}
