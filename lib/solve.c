/*
 * Models and exact solutions.
 *
 * dq_model_create() copies an environment's exported model once into
 * compact arrays; everything else here reads only those arrays, never the
 * environment, the table or the learner. A model is immutable after
 * creation, so any number of threads may solve, evaluate and check against
 * one model at once; each call allocates its own scratch.
 *
 * Layout. Each (s,a) is an "entry" e = s * A + a. Outcomes that end the
 * episode contribute only their reward, so they are folded into the
 * entry's expected immediate reward and dropped; what is kept per entry is
 * the list of continuing outcomes (next state, probability) in CSR form:
 *
 *	Q(s,a) = reward[e] + gamma * sum_{k in [off[e], off[e+1])}
 *					prob[k] * V(next[k])
 *
 * which is the textbook sum_k p_k * (r_k + (terminated_k ? 0 :
 * gamma * V(s'_k))) with the rewards summed first. That costs 8 bytes per
 * entry for off, 8 for reward, 1 for whether some outcome ends the episode
 * (what the improper-policy check of gamma 1 needs), and 12 per continuing
 * outcome.
 *
 * Solving. Value iteration from V = 0. One thread sweeps in place
 * (Gauss-Seidel), which needs about half the sweeps of Jacobi. Large models
 * (at least DQ__SOLVE_PAR_ENTRIES entries) are split into contiguous state
 * ranges of equal work over several threads that sweep Jacobi-style from
 * one buffer into the other, with one barrier per sweep; the stopping
 * decision is computed by every thread from the same published numbers, so
 * all agree without a second barrier.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "distq.h"
#include "internal.h"

/* Probabilities of one (s,a), and the start distribution, sum to 1 +- this. */
#define DQ__PROB_SUM_TOL 1e-9
/* Actions within this (relative, at least absolute) of the best are ties. */
#define DQ__TIE_TOL 1e-9
/*
 * A sweep's change also counts as converged when it is within this many
 * units of DBL_EPSILON of the value: below a few ulps a floating-point
 * iteration may settle into a rounding cycle instead of a fixed point,
 * and a tolerance smaller than the value's ulp could then never be met.
 */
#define DQ__ULP_SLACK 16.0
/* Models with fewer entries are solved by one thread. */
#define DQ__SOLVE_PAR_ENTRIES ((size_t)1 << 20)
/* Each solver thread gets at least this much work (entries + outcomes). */
#define DQ__SOLVE_PAR_CHUNK ((size_t)1 << 18)

struct dq_model {
	uint32_t n_states;
	uint32_t n_actions;
	size_t n_entries; /* S * A */
	size_t n_cont;	  /* continuing outcomes kept */
	size_t *off;	  /* n_entries + 1 */
	uint32_t *next;	  /* n_cont */
	double *prob;	  /* n_cont */
	double *reward;	  /* n_entries: expected immediate reward */
	double *start;	  /* n_states */

	/* n_entries: 1 when some outcome of the entry terminates */
	unsigned char *ends;
};

int
dq_solve_config_init(dq_solve_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->gamma = 0.95;
	cfg->tolerance = 1e-12;
	cfg->max_sweeps = 10000000;
	cfg->n_threads = 0;
	return 0;
}

void
dq_model_destroy(dq_model *m)
{
	if (!m)
		return;
	free(m->off);
	free(m->next);
	free(m->prob);
	free(m->reward);
	free(m->start);
	free(m->ends);
	free(m);
}

/*
 * Make room for one more continuing outcome. The count is not known before
 * the environment is asked, so the arrays grow geometrically (amortised
 * O(1) per outcome); on failure the old arrays stay owned by the model and
 * are freed with it.
 */
static int
model_reserve(dq_model *m, size_t *cap)
{
	size_t ncap, bytes;
	uint32_t *next;
	double *prob;

	if (m->n_cont < *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	if (ncap > SIZE_MAX / 2)
		return -ENOMEM;
	ncap *= 2;
	if (dq__mul_overflows(ncap, sizeof(double), &bytes))
		return -ENOMEM;
	next = realloc(m->next, ncap * sizeof(uint32_t));
	if (!next)
		return -ENOMEM;
	m->next = next;
	prob = realloc(m->prob, bytes);
	if (!prob)
		return -ENOMEM;
	m->prob = prob;
	*cap = ncap;
	return 0;
}

/*
 * Copy and check the outcomes of every (s,a). Checking here, once, lets the
 * solver's inner loops trust the arrays: every next state is in range and
 * every number finite.
 */
static int
model_fill(dq_model *m, const dq_env *env, dq_outcome *buf, uint32_t cap_out)
{
	size_t cap = m->n_entries, e = 0;
	int n, err;

	m->next = malloc(cap * sizeof(uint32_t));
	m->prob = malloc(cap * sizeof(double));
	m->ends = calloc(m->n_entries, 1);
	if (!m->next || !m->prob || !m->ends)
		return -ENOMEM;
	m->off[0] = 0;
	for (uint32_t s = 0; s < m->n_states; s++) {
		for (uint32_t a = 0; a < m->n_actions; a++, e++) {
			double sum = 0, r = 0;

			n = dq_env_outcomes(env, s, a, buf, cap_out);
			if (n < 0)
				return n;
			if (n == 0 || (uint32_t)n > cap_out)
				return DQ_EENV;
			for (int k = 0; k < n; k++) {
				const dq_outcome *o = &buf[k];

				if (!(o->prob > 0) || !isfinite(o->prob) ||
				    !isfinite(o->reward) ||
				    o->next_state >= m->n_states)
					return DQ_EENV;
				sum += o->prob;
				r += o->prob * o->reward;
				if (o->terminated) {
					m->ends[e] = 1;
					continue;
				}
				err = model_reserve(m, &cap);
				if (err)
					return err;
				m->next[m->n_cont] = o->next_state;
				m->prob[m->n_cont] = o->prob;
				m->n_cont++;
			}
			if (fabs(sum - 1.0) > DQ__PROB_SUM_TOL || !isfinite(r))
				return DQ_EENV;
			m->reward[e] = r;
			m->off[e + 1] = m->n_cont;
		}
	}
	return 0;
}

static int
model_fill_start(dq_model *m, const dq_env *env)
{
	double sum = 0;
	int err;

	err = dq_env_start_probs(env, m->start, m->n_states);
	if (err < 0)
		return err;
	for (uint32_t s = 0; s < m->n_states; s++) {
		if (!(m->start[s] >= 0) || !isfinite(m->start[s]))
			return DQ_EENV;
		sum += m->start[s];
	}
	if (fabs(sum - 1.0) > DQ__PROB_SUM_TOL)
		return DQ_EENV;
	return 0;
}

/* Give back what geometric growth over-allocated; failure is harmless. */
static void
model_shrink(dq_model *m)
{
	uint32_t *next;
	double *prob;

	if (m->n_cont == 0)
		return;
	next = realloc(m->next, m->n_cont * sizeof(uint32_t));
	if (next)
		m->next = next;
	prob = realloc(m->prob, m->n_cont * sizeof(double));
	if (prob)
		m->prob = prob;
}

/*
 * Ask the environment for every outcome of every (s,a), once: S x A calls
 * of its outcomes callback, O(S x A + outcomes) time and memory. Nothing
 * else in this file ever calls the environment again.
 */
/*
 * A model larger than the machine's memory fails here, before it is
 * allocated: with overcommit the allocation itself would succeed, and
 * filling it would end the process at the hands of the OOM killer. The
 * bytes counted are those dq_model_create() allocates before it reads an
 * outcome (offsets, rewards, and one continuing outcome per entry); a
 * model may need more, never less.
 */
static int
model_fits(const dq_env_spec *spec)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	double need = ((double)spec->n_states * spec->n_actions) *
			  (sizeof(size_t) + sizeof(double) + sizeof(uint32_t) +
			   sizeof(double)) +
		      (double)spec->n_states * sizeof(double);
	double have = (double)pages * (double)page;

	if (pages <= 0 || page <= 0 || need <= have)
		return 0;
	dq__detail("a model of %u x %u entries needs at least %llu MiB, the "
		   "machine has %llu MiB",
		   spec->n_states, spec->n_actions,
		   (unsigned long long)(need / 1048576.0),
		   (unsigned long long)(have / 1048576.0));
	return -ENOMEM;
}

int
dq_model_create(dq_model **out, const dq_env *env)
{
	dq_env_spec spec;
	dq_outcome *buf = NULL;
	dq_model *m;
	size_t n_off, bytes;
	int err;

	dq__detail_clear();
	if (!out || !env)
		return -EINVAL;
	err = dq_env_spec_get(env, &spec);
	if (err < 0)
		return err;
	if (spec.max_outcomes == 0)
		return -ENOTSUP;
	if (spec.n_states == 0 || spec.n_actions == 0)
		return DQ_EENV;

	err = model_fits(&spec);
	if (err)
		return err;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->n_states = spec.n_states;
	m->n_actions = spec.n_actions;
	err = -ENOMEM;
	if (dq__mul_overflows(spec.n_states, spec.n_actions, &m->n_entries))
		goto fail;
	n_off = m->n_entries + 1;
	if (n_off == 0 || dq__mul_overflows(n_off, sizeof(size_t), &bytes))
		goto fail;
	m->off = malloc(bytes);
	if (dq__mul_overflows(m->n_entries, sizeof(double), &bytes))
		goto fail;
	m->reward = malloc(bytes);
	m->start = malloc((size_t)spec.n_states * sizeof(double));
	if (dq__mul_overflows(spec.max_outcomes, sizeof(*buf), &bytes))
		goto fail;
	buf = malloc(bytes);
	if (!m->off || !m->reward || !m->start || !buf)
		goto fail;

	err = model_fill(m, env, buf, spec.max_outcomes);
	if (err)
		goto fail;
	err = model_fill_start(m, env);
	if (err)
		goto fail;
	model_shrink(m);
	free(buf);
	*out = m;
	return 0;
fail:
	free(buf);
	dq_model_destroy(m);
	return err;
}

int
dq_model_shape(const dq_model *m, uint32_t *n_states, uint32_t *n_actions)
{
	if (!m || !n_states || !n_actions)
		return -EINVAL;
	*n_states = m->n_states;
	*n_actions = m->n_actions;
	return 0;
}

/* ------------------------------------------------------------------ */

/* The Bellman backup of entry @e against the values @v. */
static inline double
backup(const dq_model *m, size_t e, double gamma, const double *v)
{
	const size_t end = m->off[e + 1];
	double acc = 0;

	for (size_t k = m->off[e]; k < end; k++)
		acc += m->prob[k] * v[m->next[k]];
	return m->reward[e] + gamma * acc;
}

/*
 * One sweep over states [lo, hi): the optimality backup (policy NULL) or
 * the policy's backup, from @vin into @vout. With vin == vout it is a
 * Gauss-Seidel sweep, later states seeing earlier states' new values.
 *
 * Returns 0 when no value moved by more than its slack (tolerance, or a
 * few ulps of the value), else the largest such move; +inf when a value
 * left the finite range, which the caller reports as -ERANGE.
 */
static double
sweep(const dq_model *m, double gamma, double tol, const uint32_t *policy,
      const double *vin, double *vout, uint32_t lo, uint32_t hi)
{
	const uint32_t A = m->n_actions;
	double excess = 0;

	for (uint32_t s = lo; s < hi; s++) {
		size_t e = (size_t)s * A;
		double best, d;

		if (policy) {
			best = backup(m, e + policy[s], gamma, vin);
		} else {
			best = backup(m, e, gamma, vin);
			for (uint32_t a = 1; a < A; a++) {
				double q = backup(m, e + a, gamma, vin);

				if (q > best)
					best = q;
			}
		}
		if (!isfinite(best))
			return INFINITY;
		d = fabs(best - vin[s]);
		vout[s] = best;
		if (d > tol && d > DQ__ULP_SLACK * DBL_EPSILON * fabs(best) &&
		    d > excess)
			excess = d;
	}
	return excess;
}

/*
 * Outputs of value iteration for states [lo, hi) from the converged @v:
 * each Q row, V as its maximum (so that v and q agree exactly), and the
 * lowest action within DQ__TIE_TOL (relative to |V|, at least absolute) of
 * the maximum, so that rounding noise between near-equal actions never
 * decides the policy. Without q the row is computed twice rather than
 * stored, which keeps this free of per-thread scratch.
 */
static void
solve_outputs(const dq_model *m, double gamma, const double *v, double *q,
	      double *v_out, uint32_t *policy, uint32_t lo, uint32_t hi)
{
	const uint32_t A = m->n_actions;

	for (uint32_t s = lo; s < hi; s++) {
		size_t e = (size_t)s * A;
		double best = -INFINITY, slack;

		for (uint32_t a = 0; a < A; a++) {
			double qa = backup(m, e + a, gamma, v);

			if (q)
				q[e + a] = qa;
			if (qa > best)
				best = qa;
		}
		if (v_out)
			v_out[s] = best;
		if (!policy)
			continue;
		slack = DQ__TIE_TOL * fmax(1.0, fabs(best));
		for (uint32_t a = 0; a < A; a++) {
			double qa = q ? q[e + a] : backup(m, e + a, gamma, v);

			if (qa >= best - slack) {
				policy[s] = a;
				break;
			}
		}
	}
}

/* What one run of the iteration needs, shared by its threads. */
struct vi_run {
	const dq_model *m;
	double gamma;
	double tol;
	uint64_t max_sweeps;
	const uint32_t *policy; /* NULL: optimality; else evaluation */
	double *buf[2];		/* V, and V's next copy for Jacobi */
	double *excess[2];	/* per thread, by sweep parity */
	uint32_t *bounds;	/* n_active + 1 state boundaries */
	unsigned n_active;
	/* outputs */
	double *q;
	double *v_out;
	uint32_t *pol_out;
	/* written by thread 0 only, read after the joins */
	int status;
	uint64_t sweeps;
	/* start gate */
	pthread_barrier_t barrier;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool go;
};

struct vi_thread {
	struct vi_run *run;
	unsigned id;
	pthread_t tid;
};

/*
 * The iteration as seen by thread @id of run->n_active. Alone, it sweeps
 * in place. Otherwise thread t sweeps its range from buf[cur] into
 * buf[cur ^ 1], publishes its excess in the slot of this sweep's parity and
 * waits at the barrier. The barrier orders every thread's writes of the
 * sweep before every thread's reads after it; after it each thread reads
 * all slots and takes the same decision. A slot is rewritten only two
 * sweeps later, after a barrier that the slow readers of the previous
 * sweep must also have passed, so one barrier per sweep is enough. The
 * excess slots are not padded: each is written once per sweep.
 */
static void
vi_work(struct vi_run *r, unsigned id)
{
	const bool jacobi = r->n_active > 1;
	const uint32_t lo = r->bounds[id], hi = r->bounds[id + 1];
	unsigned cur = 0;
	uint64_t k;
	int status = 0;

	for (k = 1;; k++) {
		double *vin = r->buf[cur];
		double *vout = jacobi ? r->buf[cur ^ 1] : vin;
		double ex =
		    sweep(r->m, r->gamma, r->tol, r->policy, vin, vout, lo, hi);

		if (jacobi) {
			double *slot = r->excess[k & 1];

			slot[id] = ex;
			pthread_barrier_wait(&r->barrier);
			ex = 0;
			for (unsigned t = 0; t < r->n_active; t++)
				ex = fmax(ex, slot[t]);
			cur ^= 1;
		}
		if (isinf(ex)) {
			status = -ERANGE;
			break;
		}
		if (!(ex > 0))
			break;
		if (k >= r->max_sweeps) {
			status = -ETIMEDOUT;
			break;
		}
	}
	if (status == 0) {
		const double *v = r->buf[cur];

		if (r->policy) {
			if (r->v_out)
				memcpy(r->v_out + lo, v + lo,
				       (size_t)(hi - lo) * sizeof(double));
		} else {
			solve_outputs(r->m, r->gamma, v, r->q, r->v_out,
				      r->pol_out, lo, hi);
		}
	}
	if (id == 0) {
		r->status = status;
		r->sweeps = k;
	}
}

/*
 * Helper threads first wait at the gate until the starting thread knows how
 * many of them exist (creating one may fail): the mutex orders the fields
 * set before the gate opened before everything the helper reads after.
 */
static void *
vi_thread_main(void *arg)
{
	struct vi_thread *t = arg;
	struct vi_run *r = t->run;
	bool active;

	pthread_mutex_lock(&r->lock);
	while (!r->go)
		pthread_cond_wait(&r->cond, &r->lock);
	active = t->id < r->n_active;
	pthread_mutex_unlock(&r->lock);
	if (active)
		vi_work(r, t->id);
	return NULL;
}

/*
 * Split states into n contiguous ranges of about equal work, the work
 * before state s being its entries plus their outcomes: s * A + off[s * A].
 * A binary search per boundary, so O(n log S).
 */
static void
vi_partition(const dq_model *m, unsigned n, uint32_t *bounds)
{
	const size_t total = m->n_entries + m->n_cont;

	bounds[0] = 0;
	bounds[n] = m->n_states;
	for (unsigned t = 1; t < n; t++) {
		/* total < 2^64 / n in practice; long double avoids overflow. */
		size_t target = (size_t)((long double)total * t / n);
		uint32_t lo = bounds[t - 1], hi = m->n_states;

		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			size_t e = (size_t)mid * m->n_actions;

			if (e + m->off[e] < target)
				lo = mid + 1;
			else
				hi = mid;
		}
		bounds[t] = lo;
	}
}

/* How many threads to use: one unless the model is large. */
static unsigned
vi_threads(const dq_model *m, const dq_solve_config *cfg)
{
	size_t work = m->n_entries + m->n_cont, cap;
	unsigned n = cfg->n_threads;

	if (n == 1 || m->n_entries < DQ__SOLVE_PAR_ENTRIES)
		return 1;
	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		n = c > 0 ? (unsigned)(c > DQ_MAX_THREADS ? DQ_MAX_THREADS : c)
			  : 1;
	}
	cap = work / DQ__SOLVE_PAR_CHUNK;
	if (cap < n)
		n = cap ? (unsigned)cap : 1;
	if (n > m->n_states)
		n = m->n_states;
	return n;
}

/*
 * Start helper threads (as many as can be created, at most n - 1), open
 * the gate, work as thread 0, and join. Falls back to fewer threads, down
 * to a single in-place sweeper, when threads or the barrier cannot be had.
 */
static void
vi_run_threads(struct vi_run *r, unsigned n, struct vi_thread *th)
{
	unsigned created = 0;

	if (n > 1 && pthread_mutex_init(&r->lock, NULL) == 0) {
		if (pthread_cond_init(&r->cond, NULL) == 0) {
			r->go = false;
			for (unsigned i = 1; i < n; i++) {
				th[i].run = r;
				th[i].id = i;
				if (pthread_create(&th[i].tid, NULL,
						   vi_thread_main, &th[i]))
					break;
				created++;
			}
			r->n_active = created + 1;
			if (r->n_active > 1 &&
			    pthread_barrier_init(&r->barrier, NULL,
						 r->n_active) != 0)
				r->n_active = 1;
			vi_partition(r->m, r->n_active, r->bounds);
			pthread_mutex_lock(&r->lock);
			r->go = true;
			pthread_cond_broadcast(&r->cond);
			pthread_mutex_unlock(&r->lock);
			vi_work(r, 0);
			for (unsigned i = 1; i <= created; i++)
				pthread_join(th[i].tid, NULL);
			if (r->n_active > 1)
				pthread_barrier_destroy(&r->barrier);
			pthread_cond_destroy(&r->cond);
			pthread_mutex_destroy(&r->lock);
			return;
		}
		pthread_mutex_destroy(&r->lock);
	}
	r->n_active = 1;
	vi_partition(r->m, 1, r->bounds);
	vi_work(r, 0);
}

static int
check_config(const dq_solve_config *cfg)
{
	if (!cfg || !(cfg->gamma >= 0 && cfg->gamma <= 1) ||
	    !(cfg->tolerance > 0) || !isfinite(cfg->tolerance) ||
	    cfg->max_sweeps == 0 || cfg->n_threads > DQ_MAX_THREADS ||
	    !DQ__RESERVED_ZERO(cfg))
		return -EINVAL;
	return 0;
}

/*
 * Run value iteration (policy NULL) or policy evaluation with its outputs,
 * allocating V (twice for Jacobi), the excess slots, the boundaries and the
 * thread records in one block: O(S + threads) memory per call. Each sweep
 * costs O(S x A + outcomes) for optimality, O(S + the policy's outcomes)
 * for evaluation.
 */
static int
vi_iterate(const dq_model *m, const dq_solve_config *cfg,
	   const uint32_t *policy, double *q, double *v_out, uint32_t *pol_out,
	   uint64_t *sweeps)
{
	struct vi_run r;
	struct vi_thread *th;
	unsigned n = vi_threads(m, cfg);
	/* n <= DQ_MAX_THREADS: the per-thread part cannot overflow. */
	size_t nbuf, bytes,
	    extra = 2 * (size_t)n * sizeof(double) +
		    (size_t)n * sizeof(struct vi_thread) +
		    ((size_t)n + 1) * sizeof(uint32_t);
	unsigned char *block;

	if (dq__mul_overflows(n > 1 ? 2 : 1, m->n_states, &nbuf) ||
	    dq__mul_overflows(nbuf, sizeof(double), &bytes) ||
	    bytes > SIZE_MAX - extra)
		return -ENOMEM;
	block = calloc(1, bytes + extra);
	if (!block)
		return -ENOMEM;
	memset(&r, 0, sizeof(r));
	r.m = m;
	r.gamma = cfg->gamma;
	r.tol = cfg->tolerance;
	r.max_sweeps = cfg->max_sweeps;
	r.policy = policy;
	r.q = q;
	r.v_out = v_out;
	r.pol_out = pol_out;
	/* doubles first, then the records, then uint32s: all aligned. */
	r.buf[0] = (double *)(void *)block;
	r.buf[1] = n > 1 ? r.buf[0] + m->n_states : r.buf[0];
	r.excess[0] = r.buf[0] + nbuf;
	r.excess[1] = r.excess[0] + n;
	th = (struct vi_thread *)(void *)(r.excess[1] + n);
	r.bounds = (uint32_t *)(void *)(th + n);

	vi_run_threads(&r, n, th);
	free(block);
	if (r.status)
		return r.status;
	if (sweeps)
		*sweeps = r.sweeps;
	return 0;
}

/*
 * Value iteration to the optimum. -ERANGE when values overflow to infinity
 * (gamma 1 with huge rewards on a cycle).
 */
int
dq_model_solve(const dq_model *m, const dq_solve_config *cfg, double *q,
	       size_t nq, double *v, size_t nv, uint32_t *policy, size_t np,
	       uint64_t *sweeps)
{
	int err;

	if (!m)
		return -EINVAL;
	err = check_config(cfg);
	if (err)
		return err;
	if ((q && nq < m->n_entries) || (v && nv < m->n_states) ||
	    (policy && np < m->n_states))
		return -EINVAL;
	return vi_iterate(m, cfg, NULL, q, v, policy, sweeps);
}

static int
check_policy_actions(const dq_model *m, const uint32_t *policy)
{
	for (uint32_t s = 0; s < m->n_states; s++)
		if (policy[s] >= m->n_actions)
			return -ERANGE;
	return 0;
}

/*
 * Improper policies. At gamma 1 a policy's value is the expected total
 * reward, finite only if the reward stops. Under the policy, the states
 * from which no terminating outcome can be reached form a closed set C;
 * the chain started in C stays there and ends in a bottom strongly
 * connected component of C (one no edge leaves), whose states it visits
 * infinitely often. Exactly when such a component holds a state of
 * nonzero expected reward does some value diverge (a loop of zero reward,
 * walking into a wall in frozenlake, say, is worth exactly 0, and a
 * transient state of C is visited a finite expected number of times).
 * Iteration would only give up after max_sweeps; this finds it in
 * O(S + the policy's outcomes):
 *
 * 1. Backwards from the states whose action can terminate, over the
 *    reverse of the policy's graph (positive-probability continuing
 *    outcomes, as CSR by counting sort), mark what can reach termination.
 * 2. Tarjan's algorithm, iterative, over the unmarked states C (closed:
 *    their successors are in C too).
 * 3. A component is bottom when no edge leaves it; the first state of a
 *    bottom component with nonzero reward is reported.
 *
 * Returns 0, -EDOM with *state set, or -ENOMEM. Policy already checked.
 */
static size_t policy_outcomes(const dq_model *m, const uint32_t *policy);

/* The entries state @s uses: its policy's one, or all A (policy NULL, the
 * uniformly random policy); in the CSR they are contiguous either way. */
static inline size_t
entry_lo(const dq_model *m, const uint32_t *policy, uint32_t s)
{
	return (size_t)s * m->n_actions + (policy ? policy[s] : 0);
}

static inline size_t
entry_hi(const dq_model *m, const uint32_t *policy, uint32_t s)
{
	return policy ? entry_lo(m, policy, s) + 1
		      : ((size_t)s + 1) * m->n_actions;
}

/* Whether some entry of @s can end the episode, and its reward's sum. */
static bool
state_ends(const dq_model *m, const uint32_t *policy, uint32_t s)
{
	for (size_t e = entry_lo(m, policy, s); e < entry_hi(m, policy, s); e++)
		if (m->ends[e])
			return true;
	return false;
}

static double
state_reward(const dq_model *m, const uint32_t *policy, uint32_t s)
{
	double r = 0;

	for (size_t e = entry_lo(m, policy, s); e < entry_hi(m, policy, s); e++)
		r += m->reward[e];
	return r;
}

static int
improper_find(const dq_model *m, const uint32_t *policy, uint32_t *state)
{
	const uint32_t S = m->n_states;
	const size_t E = policy ? policy_outcomes(m, policy) : m->n_cont;
	size_t *roff, *cursor, bytes;
	uint32_t *rsrc, *queue, *index, *low, *comp, *stack, *calls;
	uint32_t head = 0, tail = 0, next_index = 1, sp = 0, n_comp = 0;
	unsigned char *flags; /* 1: reaches an end; 2: on Tarjan's stack */
	int err = 0;

	/* (2S + 2) size_t and (E + 6S) uint32 and S bytes: each term is
	 * bounded by the model's own arrays, already in memory. */
	bytes = (2 * (size_t)S + 2) * sizeof(size_t) +
		(E + 6 * (size_t)S) * sizeof(uint32_t) + S;
	roff = malloc(bytes);
	if (!roff)
		return -ENOMEM;
	cursor = roff + S + 1;
	rsrc = (uint32_t *)(void *)(cursor + S + 1);
	queue = rsrc + E;
	index = queue + S;
	low = index + S;
	comp = low + S;
	stack = comp + S;
	calls = stack + S;
	flags = (unsigned char *)(calls + S);

	/* 1. Reverse graph and backward search from the ending states. */
	memset(roff, 0, ((size_t)S + 1) * sizeof(size_t));
	memset(flags, 0, S);
	for (uint32_t s = 0; s < S; s++) {
		size_t lo = m->off[entry_lo(m, policy, s)],
		       hi = m->off[entry_hi(m, policy, s)];

		for (size_t k = lo; k < hi; k++)
			roff[m->next[k] + 1]++;
		if (state_ends(m, policy, s)) {
			flags[s] = 1;
			queue[tail++] = s;
		}
	}
	for (uint32_t t = 0; t < S; t++)
		roff[t + 1] += roff[t];
	memcpy(cursor, roff, ((size_t)S + 1) * sizeof(size_t));
	for (uint32_t s = 0; s < S; s++) {
		size_t lo = m->off[entry_lo(m, policy, s)],
		       hi = m->off[entry_hi(m, policy, s)];

		for (size_t k = lo; k < hi; k++)
			rsrc[cursor[m->next[k]]++] = s;
	}
	while (head < tail) {
		uint32_t t = queue[head++];

		for (size_t k = roff[t]; k < roff[t + 1]; k++) {
			uint32_t src = rsrc[k];

			if (!(flags[src] & 1)) {
				flags[src] |= 1;
				queue[tail++] = src;
			}
		}
	}
	if (tail == S)
		goto out; /* every state can end: the common case */

	/* 2. Tarjan over C. index 0 = unvisited; cursor[s] walks s's
	 * outcomes; calls[] is the DFS path. */
	memset(index, 0, (size_t)S * sizeof(uint32_t));
	for (uint32_t root = 0; root < S; root++) {
		uint32_t depth = 0;

		if ((flags[root] & 1) || index[root])
			continue;
		calls[depth++] = root;
		index[root] = low[root] = next_index++;
		cursor[root] = m->off[entry_lo(m, policy, root)];
		stack[sp++] = root;
		flags[root] |= 2;
		while (depth) {
			uint32_t s = calls[depth - 1];
			size_t end = m->off[entry_hi(m, policy, s)];

			if (cursor[s] < end) {
				uint32_t t = m->next[cursor[s]++];

				if (!index[t]) {
					index[t] = low[t] = next_index++;
					cursor[t] =
					    m->off[entry_lo(m, policy, t)];
					stack[sp++] = t;
					flags[t] |= 2;
					calls[depth++] = t;
				} else if ((flags[t] & 2) &&
					   index[t] < low[s]) {
					low[s] = index[t];
				}
				continue;
			}
			depth--;
			if (depth && low[s] < low[calls[depth - 1]])
				low[calls[depth - 1]] = low[s];
			if (low[s] != index[s])
				continue;
			do { /* s roots a component: pop it */
				uint32_t t = stack[--sp];

				flags[t] &= (unsigned char)~2;
				comp[t] = n_comp;
			} while (stack[sp] != s);
			n_comp++;
		}
	}

	/* 3. Components with an edge out are not bottom: queue[c] = 1. */
	for (uint32_t c = 0; c < n_comp; c++)
		queue[c] = 0;
	for (uint32_t s = 0; s < S; s++) {
		size_t lo = m->off[entry_lo(m, policy, s)],
		       hi = m->off[entry_hi(m, policy, s)];

		if (flags[s] & 1)
			continue;
		for (size_t k = lo; k < hi; k++)
			if (comp[m->next[k]] != comp[s])
				queue[comp[s]] = 1;
	}
	for (uint32_t s = 0; s < S; s++) {
		if ((flags[s] & 1) || queue[comp[s]] ||
		    state_reward(m, policy, s) == 0)
			continue;
		if (state)
			*state = s;
		err = -EDOM;
		break;
	}
out:
	free(roff);
	return err;
}

int
dq_model_find_improper(const dq_model *m, const uint32_t *policy, size_t np,
		       uint32_t *state)
{
	int err;

	if (!m || !policy || np < m->n_states)
		return -EINVAL;
	err = check_policy_actions(m, policy);
	if (err)
		return err;
	return improper_find(m, policy, state);
}

/*
 * Iterative evaluation (from V = 0, in place by one thread, Jacobi by
 * several on large models) rather than a linear solve: O(S + outcomes) per
 * sweep and no dense matrix.
 */
int
dq_model_evaluate(const dq_model *m, const dq_solve_config *cfg,
		  const uint32_t *policy, size_t np, double *v, size_t nv,
		  double *start_value, uint64_t *sweeps)
{
	int err;

	if (!m || !policy || !v)
		return -EINVAL;
	err = check_config(cfg);
	if (err)
		return err;
	if (np < m->n_states || nv < m->n_states)
		return -EINVAL;
	err = check_policy_actions(m, policy);
	if (err)
		return err;
	/* At gamma 1 an improper policy would iterate until max_sweeps. */
	if (cfg->gamma == 1) {
		err = improper_find(m, policy, NULL);
		if (err)
			return err;
	}
	err = vi_iterate(m, cfg, policy, NULL, v, NULL, sweeps);
	if (err)
		return err;
	if (start_value)
		dq_model_start_value(m, v, nv, start_value);
	return 0;
}

/*
 * The uniformly random policy's value, the baseline against which a learnt
 * policy's progress is measured: Gauss-Seidel sweeps of V(s) = the mean
 * over actions of the Bellman backup, by one thread (the figure is for
 * reports, on models a summary can afford). O(S x A + outcomes) per sweep,
 * S doubles of scratch so that @p v is untouched on failure.
 */
int
dq_model_evaluate_random(const dq_model *m, const dq_solve_config *cfg,
			 double *v, size_t nv, double *start_value,
			 uint64_t *n_sweeps)
{
	const uint32_t S = m ? m->n_states : 0, A = m ? m->n_actions : 0;
	uint64_t sweeps = 0;
	double *w, excess;
	int err;

	if (!m || !v)
		return -EINVAL;
	err = check_config(cfg);
	if (err)
		return err;
	if (nv < S)
		return -EINVAL;
	if (cfg->gamma == 1) {
		err = improper_find(m, NULL, NULL);
		if (err)
			return err;
	}
	w = calloc(S, sizeof(*w));
	if (!w)
		return -ENOMEM;
	do {
		if (sweeps++ == cfg->max_sweeps) {
			free(w);
			return -ETIMEDOUT;
		}
		excess = 0;
		for (uint32_t s = 0; s < S; s++) {
			double acc = 0, d;

			for (uint32_t a = 0; a < A; a++)
				acc +=
				    backup(m, (size_t)s * A + a, cfg->gamma, w);
			acc /= A;
			if (!isfinite(acc)) {
				free(w);
				return -ERANGE;
			}
			d = fabs(acc - w[s]);
			w[s] = acc;
			if (d > cfg->tolerance &&
			    d > DQ__ULP_SLACK * DBL_EPSILON * fabs(acc) &&
			    d > excess)
				excess = d;
		}
	} while (excess > 0);
	memcpy(v, w, (size_t)S * sizeof(*w));
	free(w);
	if (start_value)
		dq_model_start_value(m, v, nv, start_value);
	if (n_sweeps)
		*n_sweeps = sweeps;
	return 0;
}

/* States of zero start probability are skipped: 0 * inf must not count. */
int
dq_model_start_value(const dq_model *m, const double *v, size_t nv, double *out)
{
	double sum = 0;

	if (!m || !v || !out || nv < m->n_states)
		return -EINVAL;
	for (uint32_t s = 0; s < m->n_states; s++)
		if (m->start[s] > 0)
			sum += m->start[s] * v[s];
	*out = sum;
	return 0;
}

/*
 * The fraction is the part over the total summed in the same loop, so a
 * policy good everywhere gives exactly 1 even though the start
 * probabilities only sum to 1 within 1e-9. A NaN in either array counts
 * as not optimal.
 */
int
dq_model_optimal_fraction(const dq_model *m, const double *v_star,
			  const double *v_pi, size_t n, double tol,
			  double *frac)
{
	double part = 0, total = 0;

	if (!m || !v_star || !v_pi || !frac || n < m->n_states || !(tol >= 0))
		return -EINVAL;
	for (uint32_t s = 0; s < m->n_states; s++) {
		double p = m->start[s];

		if (!(p > 0))
			continue;
		total += p;
		if (v_pi[s] >= v_star[s] - tol)
			part += p;
	}
	*frac = total > 0 ? part / total : 0;
	return 0;
}

/* The policy's continuing outcomes (E below). */
static size_t
policy_outcomes(const dq_model *m, const uint32_t *policy)
{
	size_t E = 0;

	for (uint32_t s = 0; s < m->n_states; s++) {
		size_t e = (size_t)s * m->n_actions + policy[s];

		E += m->off[e + 1] - m->off[e];
	}
	return E;
}

/* Workspace of the check for a policy with E continuing outcomes. E is at
 * most n_cont, already held in memory: these sums cannot overflow. */
static size_t
check_ws_bytes(const dq_model *m, size_t E)
{
	return ((size_t)m->n_states + 1) * sizeof(size_t) +
	       (E + m->n_states) * sizeof(uint32_t) + m->n_states;
}

size_t
dq__model_check_ws_bytes(const dq_model *m)
{
	return check_ws_bytes(m, m->n_cont);
}

/*
 * Conservative check in O(S x A + S + the policy's outcomes) time, in a
 * workspace of (S + 1) size_t + (E + S) uint32 + S bytes, E being the
 * policy's continuing outcomes; allocates nothing (the learner's agents run
 * it between chunks of their hot loop). Arguments already checked.
 *
 * 1. A state is bad when its action is more than tol below the best of
 *    its Q* row (NaN counts as bad).
 * 2. Build the reverse of the policy's transition graph (continuing
 *    outcomes only: a terminated outcome ends the episode, its next state
 *    is never continued from) as CSR, by counting sort.
 * 3. Breadth-first search from the bad states backwards marks every state
 *    from which a bad one is reachable with positive probability.
 * 4. The fraction is the start probability of the unmarked states.
 */
int
dq__model_check_policy_ws(const dq_model *m, const double *q_star,
			  const uint32_t *policy, double tol, void *ws,
			  double *frac)
{
	const uint32_t S = m->n_states, A = m->n_actions;
	size_t E, *roff;
	uint32_t *rsrc, *queue, head = 0, tail = 0;
	unsigned char *bad;
	double part = 0, total = 0;
	int err;

	err = check_policy_actions(m, policy);
	if (err)
		return err;
	E = policy_outcomes(m, policy);
	roff = ws;
	rsrc = (uint32_t *)(void *)(roff + S + 1);
	queue = rsrc + E;
	bad = (unsigned char *)(queue + S);

	memset(roff, 0, ((size_t)S + 1) * sizeof(size_t));
	for (uint32_t s = 0; s < S; s++) {
		size_t e = (size_t)s * A;
		const double *row = q_star + e;
		double best = row[0];

		for (uint32_t a = 1; a < A; a++)
			if (row[a] > best)
				best = row[a];
		bad[s] = !(row[policy[s]] >= best - tol);
		if (bad[s])
			queue[tail++] = s;
		e += policy[s];
		for (size_t k = m->off[e]; k < m->off[e + 1]; k++)
			roff[m->next[k] + 1]++;
	}
	for (uint32_t t = 0; t < S; t++)
		roff[t + 1] += roff[t];
	/* roff[t] serves as t's fill cursor, ending at t + 1's start... */
	for (uint32_t s = 0; s < S; s++) {
		size_t e = (size_t)s * A + policy[s];

		for (size_t k = m->off[e]; k < m->off[e + 1]; k++)
			rsrc[roff[m->next[k]]++] = s;
	}
	/* ...so shifting by one restores the starts. */
	for (uint32_t t = S; t > 0; t--)
		roff[t] = roff[t - 1];
	roff[0] = 0;

	while (head < tail) {
		uint32_t t = queue[head++];

		for (size_t k = roff[t]; k < roff[t + 1]; k++) {
			uint32_t src = rsrc[k];

			if (!bad[src]) {
				bad[src] = 1;
				queue[tail++] = src;
			}
		}
	}
	for (uint32_t s = 0; s < S; s++) {
		double p = m->start[s];

		if (!(p > 0))
			continue;
		total += p;
		if (!bad[s])
			part += p;
	}
	*frac = total > 0 ? part / total : 0;
	return 0;
}

int
dq_model_check_policy(const dq_model *m, const double *q_star, size_t nq,
		      const uint32_t *policy, size_t np, double tol,
		      double *frac)
{
	void *ws;
	int err;

	if (!m || !q_star || !policy || !frac || nq < m->n_entries ||
	    np < m->n_states || !(tol >= 0))
		return -EINVAL;
	err = check_policy_actions(m, policy);
	if (err)
		return err;
	ws = malloc(check_ws_bytes(m, policy_outcomes(m, policy)));
	if (!ws)
		return -ENOMEM;
	err = dq__model_check_policy_ws(m, q_star, policy, tol, ws, frac);
	free(ws);
	return err;
}
