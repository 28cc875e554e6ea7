/*
 * A sequence lock for one writer and any number of readers, in the manner
 * of Concurrency Kit's ck_sequence: the writer makes the sequence odd,
 * writes the record, makes it even again; a reader reads the sequence
 * (waiting while it is odd), the record, and the sequence again, and
 * retries when the two differ. Readers never block the writer.
 *
 * The record's words are atomics themselves, written with release stores
 * and read with acquire loads, so that no fence is needed (and
 * ThreadSanitizer, which does not model fences, sees every pairing); on
 * x86 all of these are plain moves. The argument, step by step:
 *
 *  - writer: seq = q + 1 (relaxed), each word (release), seq = q + 2
 *    (release);
 *  - reader: q1 = seq (acquire, retried while odd), each word (acquire),
 *    q2 = seq (relaxed), retry unless q1 == q2.
 *
 * A word the reader took from a write in progress was stored (release)
 * after that write's odd sequence, and the reader's acquire load of it
 * orders its later load of seq after that odd store: q2 is then odd or
 * later, never q1. A reader whose q1 is the even value a write ended with
 * acquired that write's final release, so it sees every word of it.
 *
 * Private (never installed); only one thread may write a given lock.
 */
#ifndef DQ_SEQLOCK_H
#define DQ_SEQLOCK_H

#include <sched.h>
#include <stddef.h>

#include "atomic.h"
#include "jet.h"

typedef struct dq__seqlock {
	dq__atomic_u32 seq; /* odd while a write is in progress */
} dq__seqlock;

/* Spins a reader makes with a CPU pause before it yields its core. */
#define DQ__SEQ_SPINS 64u

/*
 * One step of a reader's wait: a CPU pause (it tells the core a spin is
 * under way, saving power and the pipeline flush at the end of the spin,
 * and lets an SMT sibling run), and after DQ__SEQ_SPINS of them the core
 * itself, for the writer may be waiting for it: with more threads than
 * cores a writer can be preempted in the middle of a write.
 */
static inline void
dq__seq_pause(unsigned *spins)
{
	if (++*spins % DQ__SEQ_SPINS == 0) {
		sched_yield();
		return;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#elif defined(__powerpc__) || defined(__powerpc64__)
	__asm__ __volatile__("or 27,27,27" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Writer: start a write; returns the token for dq__seq_write_end(). */
static inline uint32_t
dq__seq_write_begin(dq__seqlock *sl)
{
	/* relaxed: only the writer writes seq */
	uint32_t q = dq__load_u32(&sl->seq, memory_order_relaxed);

	/* relaxed: ordered before the words by their release stores */
	dq__store_u32(&sl->seq, q + 1, memory_order_relaxed);
	return q;
}

/* Writer: one word of the record. */
static inline void
dq__seq_write_u64(dq__atomic_u64 *word, uint64_t v)
{
	/* release: pairs with the reader's acquire load of this word, which
	 * then sees the odd seq of dq__seq_write_begin() (or a later one) */
	dq__store_u64(word, v, memory_order_release);
}

/* Writer: end the write begun with token @q. */
static inline void
dq__seq_write_end(dq__seqlock *sl, uint32_t q)
{
	/* release: pairs with the acquire load in dq__seq_read_begin() */
	dq__store_u32(&sl->seq, q + 2, memory_order_release);
}

/* Reader: wait for no write in progress; returns the token to check. */
static inline uint32_t
dq__seq_read_begin(const dq__seqlock *sl)
{
	unsigned spins = 0;
	uint32_t q;

	/* acquire: pairs with dq__seq_write_end()'s release store */
	while ((q = dq__load_u32(&sl->seq, memory_order_acquire)) & 1)
		dq__seq_pause(&spins);
	return q;
}

/* Reader: one word of the record. */
static inline uint64_t
dq__seq_read_u64(const dq__atomic_u64 *word)
{
	/* acquire: pairs with dq__seq_write_u64()'s release store, ordering
	 * the re-check of seq in dq__seq_read_retry() after this load */
	return dq__load_u64(word, memory_order_acquire);
}

/* Reader: true when the words read since token @q may be torn. */
static inline bool
dq__seq_read_retry(const dq__seqlock *sl, uint32_t q)
{
	/* relaxed: after the acquire loads of the words in program order;
	 * if any word was from a newer write, this sees its odd seq or
	 * later */
	return dq__load_u32(&sl->seq, memory_order_relaxed) != q;
}

/* Writer: publish @n words of @src as one record in @dst. */
static inline void
dq__seq_write(dq__seqlock *sl, dq__atomic_u64 *dst, const uint64_t *src,
	      size_t n)
{
	uint32_t q = dq__seq_write_begin(sl);

	for (size_t i = 0; i < n; i++)
		dq__seq_write_u64(&dst[i], src[i]);
	dq__seq_write_end(sl, q);
}

/*
 * Reader: copy the @n words of @src, all from one write, into @dst. The
 * reader pauses between attempts so that a reader spinning on a record
 * under constant rewriting does not starve the writer's core.
 */
static inline void
dq__seq_read(const dq__seqlock *sl, const dq__atomic_u64 *src, uint64_t *dst,
	     size_t n)
{
	unsigned spins = 0;

	for (;;) {
		uint32_t q = dq__seq_read_begin(sl);

		for (size_t i = 0; i < n; i++) {
			dst[i] = dq__seq_read_u64(&src[i]);
			/* test builds: a write may land mid-read */
			if (i == 0)
				DQ__JET_RACE_WINDOW();
		}
		if (!dq__seq_read_retry(sl, q))
			return;
		dq__seq_pause(&spins);
	}
}

/*
 * Reader: as dq__seq_read(), but give up after @tries attempts that met a
 * write in progress; returns whether @dst holds one whole record. For a
 * reader that must not wait on a writer: with many more threads than
 * cores, a writer preempted in the middle of a write may not run again
 * for seconds.
 */
static inline bool
dq__seq_try_read(const dq__seqlock *sl, const dq__atomic_u64 *src,
		 uint64_t *dst, size_t n, unsigned tries)
{
	unsigned spins = 0;

	for (unsigned t = 0; t < tries; t++) {
		/* acquire: pairs with dq__seq_write_end()'s release store */
		uint32_t q = dq__load_u32(&sl->seq, memory_order_acquire);

		if (!(q & 1)) {
			for (size_t i = 0; i < n; i++)
				dst[i] = dq__seq_read_u64(&src[i]);
			if (!dq__seq_read_retry(sl, q))
				return true;
		}
		dq__seq_pause(&spins);
	}
	return false;
}

#endif /* DQ_SEQLOCK_H */
