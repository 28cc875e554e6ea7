/*
 * libdistq-mpi: ranks x threads over Open MPI. Every MPI call of libdistq
 * is in this file (docs/distributed.md).
 *
 * It uses libdistq's public API only (compiled without -Ilib): a rank's
 * table is read with dq_table_snapshot() and changed with dq_table_add()
 * (a CAS per entry in cas mode, so the agents' updates made during a sync
 * are never lost), its learner stopped with dq_learner_stop(), its agents
 * counted with dq_learner_agent_stats() and seeded with
 * dq_learner_set_agent_state().
 *
 * Threads. dq_mpi_run() starts one communication thread and then runs the
 * learner on the calling thread (which thus runs the learner's callbacks,
 * in its monitor). The communication thread makes every MPI call of the
 * run; the calling thread makes MPI calls only outside runs (init,
 * finalize, abort), so MPI_THREAD_SERIALIZED is enough. Every wait is a
 * non-blocking operation polled with MPI_Test() and a sleep, so that a
 * waiting rank neither spins a core nor waits forever: after
 * dq_mpi_config.timeout seconds it gives up with DQ_EMPIPEER. (Open MPI
 * 4.1 as Debian builds it has no ULFM: a dead peer is not reported on the
 * shared-memory transport, and MPI_ERRORS_RETURN only turns the errors it
 * does report into return codes; the timeout is what ends the wait. When a
 * rank is killed, mpirun itself ends the others; the timeout covers a rank
 * that hangs or is stopped.)
 *
 * Rounds. Every dq_mpi_config.poll seconds each rank contributes its
 * counters and state to an MPI_Iallgather of a small record; every rank
 * derives the same decisions from the same records: stop (some learner
 * ended, or the summed limits were reached), and sync (tau elapsed).
 *
 * Sync (average, delta). All ranks start from rank 0's table, and keep a
 * base B, the same on every rank: the table as the syncs made it. A sync
 * snapshots the local table S and forms d = S - B (the changes since
 * the last sync); the ranks sum the d into D (dense all-reduce, or sparse
 * lists gathered); average applies D / R - d, delta D - d, to the live
 * table with dq_table_add(); B += D / R or D. Updates made while the sync
 * ran are in the table but not in B, so the next sync carries them.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpi.h>

#include <distq/error.h>
#include <distq/mpi.h>
#include <distq/share.h>
#include <distq/table.h>

/* One rank's record in a control round. */
enum {
	C_STEPS,
	C_EPISODES,
	C_DONE,	   /* its learner has returned */
	C_REASON,  /* its dq_stop_reason then */
	C_ERR,	   /* its run error code (negative), 0 */
	C_AGENT,   /* the failed agent */
	C_STEP,	   /* its step */
	C_WHAT,	   /* index into whats[] */
	C_SECONDS, /* rank 0: tau in seconds elapsed (1/0) */
	C_RSTEPS,  /* steps of this run (the limits count these) */
	C_REPS,	   /* episodes of this run */
	C_GATHER,  /* rank 0: gather every rank's agent states now (1/0) */
	C_N
};

static const char *const whats[] = {"?",    "reset", "step",  "update",
				    "sync", "pin",   "thread"};

struct dq_mpi {
	MPI_Comm comm;
	int rank, size;
	bool we_init;
	bool lost; /* a peer did not answer: no finalize */
	/* The learner and its options (dq_mpi_learner_create()). */
	dq_learner *l;
	dq_table *t;
	dq_learner_config cfg; /* the caller's */
	dq_mpi_config mc;
	size_t n;			      /* S x A */
	uint32_t na;			      /* A */
	uint32_t p;			      /* agents per rank */
	uint64_t start_steps, start_episodes; /* the agents' counts at start */
	/* The run. */
	pthread_t comm_thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int ready; /* 1: the start exchange is done, -1: it failed */
	atomic_int local_done;
	dq_run_result local; /* this rank's, set before local_done */
	dq_run_error local_err;
	int comm_err;	       /* the communication thread's error */
	dq_stop_reason agreed; /* DQ_STOP_NONE until decided */
	dq_mpi_error_info fail;
	dq_stats global; /* over ranks, last round (under mu) */
	uint64_t global_run_steps;
	double *base, *snap, *sum; /* n each */
	uint32_t *idx;		   /* n: a sparse list */
	double *val;		   /* n */
	/* distql: the central table and its eta_c on rank 0. */
	double *central, *eta_c;
	dq_agent_state *states; /* R x P, on rank 0 after a run */
	/* During a run, on rank 0: the last gather's R x P states (under
	 * mu), and whether a caller asked for a new one. */
	dq_agent_state *live;
	uint32_t n_live;
	bool running; /* dq_mpi_run() is in progress (its thread's) */
	atomic_int want_live;
	dq_mpi_sync_stats stats;
	uint32_t n_states;
	struct timespec t0;
	/* The user's progress callback, forwarded on rank 0. */
	void (*progress)(const dq_progress *p, void *arg);
	void *progress_arg;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void
sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL);
}

int
dq_mpi_config_init(dq_mpi_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->policy = DQ_MPI_AVERAGE;
	cfg->tau = 1.0;
	cfg->unit = DQ_MPI_SECONDS;
	cfg->exchange = DQ_MPI_EXCHANGE_AUTO;
	cfg->eta = 0.5;
	cfg->eta_decay = 0.999;
	cfg->timeout = 10.0;
	cfg->poll = 0.005;
	return 0;
}

/* A positive number with an optional unit suffix (s, ep). */
static int
parse_tau(const char *v, size_t len, dq_mpi_config *c, bool episodes)
{
	char sfx[4];
	double x;

	if (dq_share_number(v, len, 0.0, DBL_MAX, &x, sfx) || !(x > 0))
		return -EINVAL;
	if (!strcmp(sfx, "s"))
		c->unit = DQ_MPI_SECONDS;
	else if (!strcmp(sfx, "ep"))
		c->unit = DQ_MPI_EPISODES;
	else if (!*sfx)
		c->unit = episodes ? DQ_MPI_EPISODES : DQ_MPI_STEPS;
	else
		return -EINVAL;
	c->tau = x;
	return 0;
}

int
dq_mpi_config_parse(dq_mpi_config *cfg, const char *spec)
{
	dq_mpi_config c;
	const char *p, *colon;
	size_t nl;

	if (!cfg || !spec)
		return -EINVAL;
	c = *cfg;
	nl = strcspn(spec, ":,");
	colon = spec[nl] ? spec + nl : NULL;
	if (nl == 7 && !strncmp(spec, "average", 7))
		c.policy = DQ_MPI_AVERAGE;
	else if (nl == 5 && !strncmp(spec, "delta", 5))
		c.policy = DQ_MPI_DELTA;
	else if (nl == 6 && !strncmp(spec, "distql", 6)) {
		c.policy = DQ_MPI_DISTQL;
		c.unit = DQ_MPI_EPISODES;
		c.tau = 10;
	} else if (nl == 4 && !strncmp(spec, "none", 4))
		c.policy = DQ_MPI_NONE;
	else
		return -EINVAL;
	for (p = colon ? colon + 1 : NULL; p && *p;) {
		/* ',' or ':' between parameters, as distq's --share. */
		const char *comma = p + strcspn(p, ",:"), *eq;
		size_t len = (size_t)(comma - p), kl;
		int err = 0;

		eq = memchr(p, '=', len);
		kl = eq ? (size_t)(eq - p) : len;
#define KEY(k) (kl == strlen(k) && !strncmp(p, k, kl))
		if (!eq && KEY("all"))
			c.partial = false;
		else if (!eq && KEY("partial"))
			c.partial = true;
		else if (!eq)
			err = -EINVAL;
		else if (KEY("tau") || KEY("every"))
			err = parse_tau(eq + 1, len - kl - 1, &c,
					c.policy == DQ_MPI_DISTQL);
		else if (KEY("steps") || KEY("episodes") || KEY("seconds")) {
			/* distq's spellings: the unit named, no suffix. */
			double x = 0;

			err = dq_share_number(eq + 1, len - kl - 1, 1e-300,
					      1e18, &x, NULL);
			c.tau = err ? c.tau : x;
			c.unit = err		   ? c.unit
				 : KEY("steps")	   ? DQ_MPI_STEPS
				 : KEY("episodes") ? DQ_MPI_EPISODES
						   : DQ_MPI_SECONDS;
		} else if (KEY("exchange")) {
			const char *v = eq + 1;
			size_t vl = len - kl - 1;

			if (vl == 4 && !strncmp(v, "auto", 4))
				c.exchange = DQ_MPI_EXCHANGE_AUTO;
			else if (vl == 6 && !strncmp(v, "sparse", 6))
				c.exchange = DQ_MPI_EXCHANGE_SPARSE;
			else if (vl == 5 && !strncmp(v, "dense", 5))
				c.exchange = DQ_MPI_EXCHANGE_DENSE;
			else
				err = -EINVAL;
		} else if (KEY("eta"))
			err = dq_share_number(eq + 1, len - kl - 1, 1e-12, 1.0,
					      &c.eta, NULL);
		else if (KEY("decay"))
			err = dq_share_number(eq + 1, len - kl - 1, 1e-12, 1.0,
					      &c.eta_decay, NULL);
		else if (KEY("timeout"))
			err = dq_share_number(eq + 1, len - kl - 1, 0.01, 1e6,
					      &c.timeout, NULL);
		else
			err = -EINVAL;
#undef KEY
		if (err)
			return err;
		p = *comma ? comma + 1 : NULL;
	}
	*cfg = c;
	return 0;
}

/* --------------------------------------------------------------- job -- */

int
dq_mpi_init(dq_mpi **out, int *argc, char ***argv)
{
	int inited = 0, provided = 0;
	dq_mpi *m;

	if (!out)
		return -EINVAL;
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (MPI_Initialized(&inited) != MPI_SUCCESS)
		goto fail;
	if (!inited) {
		if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED,
				    &provided) != MPI_SUCCESS)
			goto fail;
		m->we_init = true;
	} else if (MPI_Query_thread(&provided) != MPI_SUCCESS) {
		goto fail;
	}
	if (provided < MPI_THREAD_SERIALIZED)
		goto fail;
	/* A private communicator: the library's traffic never meets the
	 * program's, and its errors return instead of aborting the job. */
	if (MPI_Comm_dup(MPI_COMM_WORLD, &m->comm) != MPI_SUCCESS)
		goto fail;
	MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN);
	MPI_Comm_rank(m->comm, &m->rank);
	MPI_Comm_size(m->comm, &m->size);
	if (pthread_mutex_init(&m->mu, NULL))
		goto fail;
	if (pthread_cond_init(&m->cv, NULL)) {
		pthread_mutex_destroy(&m->mu);
		goto fail;
	}
	m->fail.rank = -1;
	*out = m;
	return 0;
fail:
	free(m);
	return DQ_EMPI;
}

static void
free_run(dq_mpi *m)
{
	free(m->base);
	free(m->snap);
	free(m->sum);
	free(m->idx);
	free(m->val);
	free(m->central);
	free(m->eta_c);
	m->base = m->snap = m->sum = m->val = m->central = m->eta_c = NULL;
	m->idx = NULL;
}

int
dq_mpi_finalize(dq_mpi *m)
{
	int err = 0;

	if (!m)
		return 0;
	dq_mpi_learner_destroy(m);
	free_run(m);
	free(m->states);
	free(m->live);
	if (m->lost) {
		MPI_Abort(MPI_COMM_WORLD, 1);
	} else {
		MPI_Comm_free(&m->comm);
		if (m->we_init && MPI_Finalize() != MPI_SUCCESS)
			err = DQ_EMPI;
	}
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
	return err;
}

void
dq_mpi_abort(dq_mpi *m, int code)
{
	(void)m;
	MPI_Abort(MPI_COMM_WORLD, code);
}

int
dq_mpi_rank(const dq_mpi *m)
{
	return m ? m->rank : 0;
}

int
dq_mpi_size(const dq_mpi *m)
{
	return m ? m->size : 1;
}

dq_learner *
dq_mpi_learner(const dq_mpi *m)
{
	return m ? m->l : NULL;
}

void
dq_mpi_learner_destroy(dq_mpi *m)
{
	if (!m || !m->l)
		return;
	dq_learner_destroy(m->l);
	m->l = NULL;
}

/* The learner's should_stop: the caller's, if any. With a learner that has
 * no limit of its own left (the summed ones are the communication
 * thread's), it is its stop condition: dq_learner_stop() ends it. */
static int
mpi_should_stop(void *arg)
{
	dq_mpi *m = arg;

	return m->cfg.should_stop ? m->cfg.should_stop(m->cfg.should_stop_arg)
				  : 0;
}

/* The learner's progress callback: rank 0 forwards it with the totals of
 * the last round over all ranks (the steps of this rank since then are
 * not in them: the line lags by one control round at most). */
static void
mpi_progress(const dq_progress *p, void *arg)
{
	dq_mpi *m = arg;
	dq_progress q = *p;

	if (m->rank != 0 || !m->progress)
		return;
	pthread_mutex_lock(&m->mu);
	if (m->global.steps > q.total.steps)
		q.total.steps = m->global.steps;
	if (m->global.episodes > q.total.episodes)
		q.total.episodes = m->global.episodes;
	pthread_mutex_unlock(&m->mu);
	m->progress(&q, m->progress_arg);
}

int
dq_mpi_learner_create(dq_mpi *m, dq_learner **out, dq_table *t,
		      const dq_env *env, const dq_learner_config *cfg,
		      const dq_mpi_config *mc)
{
	dq_learner_config c;
	dq_table_info ti;
	int err;

	if (!m || !out || !t || !env || !cfg || !mc || !(mc->tau > 0) ||
	    !(mc->timeout > 0) || !(mc->poll > 0) ||
	    (unsigned)mc->policy > DQ_MPI_DISTQL ||
	    (unsigned)mc->unit > DQ_MPI_SECONDS ||
	    (unsigned)mc->exchange > DQ_MPI_EXCHANGE_DENSE)
		return -EINVAL;
	if (m->l)
		return -EBUSY;
	err = dq_table_info_get(t, &ti);
	if (err)
		return err;
	*out = NULL;
	m->cfg = *cfg;
	m->mc = *mc;
	m->t = t;
	m->n = (size_t)ti.n_states * ti.n_actions;
	m->na = ti.n_actions;
	m->p = cfg->n_threads;
	c = *cfg;
	if (m->size > 1) {
		/* The summed limits: each rank does its share, ceil(limit
		 * / R), and one that is done waits (syncing) for the others,
		 * so the sum is the limit (up to R - 1 more when R does not
		 * divide it) however unequal the ranks' speeds. */
		c.max_steps = (cfg->max_steps + (uint64_t)m->size - 1) /
			      (uint64_t)m->size;
		c.max_episodes = (cfg->max_episodes + (uint64_t)m->size - 1) /
				 (uint64_t)m->size;
		m->progress = cfg->progress;
		m->progress_arg = cfg->progress_arg;
		c.progress = cfg->progress ? mpi_progress : NULL;
		c.progress_arg = m;
		c.should_stop = mpi_should_stop;
		c.should_stop_arg = m;
	}
	err = dq_learner_create(&m->l, t, env, &c);
	if (err)
		return err;
	/* Rank r's agents take streams r P .. r P + P - 1: a block of its
	 * own (stream k is the seed's state jumped k x 2^128 draws). */
	for (uint32_t i = 0; m->size > 1 && i < m->p; i++) {
		dq_agent_state st;

		err = dq_learner_agent_state(m->l, i, &st);
		if (!err)
			err = dq_rng_seed(&st.rng, cfg->agent.seed,
					  (uint64_t)m->rank * m->p + i);
		if (!err)
			err = dq_learner_set_agent_state(m->l, i, &st);
		if (err) {
			dq_mpi_learner_destroy(m);
			return err;
		}
	}
	*out = m->l;
	return 0;
}

int
dq_mpi_restore_agents(dq_mpi *m, const dq_agent_state *states, uint32_t n,
		      uint32_t *dropped)
{
	uint64_t want;

	if (!m || !m->l || (n && !states))
		return -EINVAL;
	want = (uint64_t)m->size * m->p;
	if (dropped)
		*dropped = n;
	if (n != want)
		return 0;
	for (uint32_t i = 0; i < m->p; i++) {
		int err = dq_learner_set_agent_state(
		    m->l, i, &states[(size_t)m->rank * m->p + i]);

		if (err)
			return err;
	}
	if (dropped)
		*dropped = 0;
	return 0;
}

int
dq_mpi_error(const dq_mpi *m, dq_mpi_error_info *out)
{
	if (!m || !out)
		return -EINVAL;
	*out = m->fail;
	return 0;
}

/* During a run: the last gather's states, and ask for the next. */
static int
live_states(dq_mpi *m, dq_agent_state *out, uint32_t cap, uint32_t *n)
{
	int err = 0;

	/* Relaxed: a request flag; the gather's data is under mu. */
	atomic_store_explicit(&m->want_live, 1, memory_order_relaxed);
	pthread_mutex_lock(&m->mu);
	if (!m->live)
		err = -ENOENT;
	else if ((*n = m->n_live) > cap)
		err = -ERANGE;
	else
		memcpy(out, m->live, m->n_live * sizeof(*out));
	pthread_mutex_unlock(&m->mu);
	return err;
}

int
dq_mpi_agent_states(const dq_mpi *m, dq_agent_state *out, uint32_t cap,
		    uint32_t *n)
{
	if (!m || !n || (cap && !out))
		return -EINVAL;
	if (m->rank == 0 && m->running && m->size > 1)
		return live_states((dq_mpi *)m, out, cap, n);
	if (m->rank != 0 || !m->states)
		return -ENOENT;
	*n = m->n_states;
	if (cap < m->n_states)
		return -ERANGE;
	memcpy(out, m->states, m->n_states * sizeof(*out));
	return 0;
}

/* ------------------------------------------------- waits and rounds -- */

/*
 * Wait for @req, polling: DQ_EMPIPEER after the timeout, DQ_EMPI on an
 * error MPI reports. Open MPI progresses a non-blocking collective only
 * inside MPI calls (libnbc: one step per MPI_Test; the shared-memory
 * transport moves a large message fragment by fragment), so a wait that
 * slept between tests would stretch a 80 MB exchange to seconds. Data
 * exchanges (@spin) therefore test back to back, yielding the core to
 * the agents between tests (sched_yield() returns at once when no one
 * else is runnable); the control rounds, small and mostly waiting for the
 * other ranks' next round, sleep between tests, 20 us doubling to 1 ms,
 * so that a waiting rank costs no core.
 */
static int
wait_req_how(dq_mpi *m, MPI_Request *req, bool spin)
{
	double deadline = now_s() + m->mc.timeout, pause = 20e-6;

	for (;;) {
		int done = 0;

		if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
			return DQ_EMPI;
		if (done)
			return 0;
		if (now_s() > deadline) {
			m->lost = true;
			return DQ_EMPIPEER;
		}
		if (spin) {
			sched_yield();
			continue;
		}
		sleep_s(pause);
		if (pause < 1e-3)
			pause *= 2;
	}
}

/* A data exchange's wait. */
static int
wait_req(dq_mpi *m, MPI_Request *req)
{
	return wait_req_how(m, req, true);
}

#define MPI_TRY(call)                      \
	do {                               \
		if ((call) != MPI_SUCCESS) \
			return DQ_EMPI;    \
	} while (0)

static int
iallreduce(dq_mpi *m, const void *in, void *out, int count, MPI_Datatype dt,
	   MPI_Op op)
{
	MPI_Request r;

	MPI_TRY(MPI_Iallreduce(in, out, count, dt, op, m->comm, &r));
	return wait_req(m, &r);
}

static int
ibcast(dq_mpi *m, void *buf, int count, MPI_Datatype dt, int root)
{
	MPI_Request r;

	MPI_TRY(MPI_Ibcast(buf, count, dt, root, m->comm, &r));
	return wait_req(m, &r);
}

/* Dense arrays travel in pieces of at most 2^28 elements (an int count). */
#define CHUNK ((size_t)1 << 28)

/* Sum @buf over ranks, in place. */
static int
allreduce_sum(dq_mpi *m, double *buf, size_t n)
{
	for (size_t i = 0; i < n; i += CHUNK) {
		size_t k = n - i < CHUNK ? n - i : CHUNK;
		int err = iallreduce(m, MPI_IN_PLACE, buf + i, (int)k,
				     MPI_DOUBLE, MPI_SUM);

		if (err)
			return err;
	}
	return 0;
}

static int
bcast_doubles(dq_mpi *m, double *buf, size_t n, int root)
{
	for (size_t i = 0; i < n; i += CHUNK) {
		size_t k = n - i < CHUNK ? n - i : CHUNK;
		int err = ibcast(m, buf + i, (int)k, MPI_DOUBLE, root);

		if (err)
			return err;
	}
	return 0;
}

/* ---------------------------------------------------------------- sync -- */

/*
 * Sum every rank's d = S - B into m->sum, sparse or dense; *changed gets
 * the entries changed over all ranks (counted once per rank).
 */
static int
exchange(dq_mpi *m, uint64_t *changed)
{
	uint64_t mine = 0, all = 0;
	bool sparse;
	int err;

	for (size_t k = 0; k < m->n; k++) {
		double d = m->snap[k] - m->base[k];

		m->sum[k] = d; /* d, for now */
		if (d != 0.0) {
			m->idx[mine] = (uint32_t)k;
			m->val[mine++] = d;
		}
	}
	err = iallreduce(m, &mine, &all, 1, MPI_UINT64_T, MPI_SUM);
	if (err)
		return err;
	*changed = all;
	sparse = m->mc.exchange == DQ_MPI_EXCHANGE_SPARSE ||
		 (m->mc.exchange == DQ_MPI_EXCHANGE_AUTO && all <= m->n / 4);
	if (sparse && all > (uint64_t)INT32_MAX)
		sparse = false;
	m->stats.last_changed = all;
	m->stats.sparse += sparse;
	if (!sparse)
		return allreduce_sum(m, m->sum, m->n);
	{
		int *counts = malloc(2 * (size_t)m->size * sizeof(int));
		int c = (int)mine, *displs;
		uint32_t *ai = NULL;
		double *av = NULL;
		MPI_Request r[2];

		if (!counts)
			return -ENOMEM;
		displs = counts + m->size;
		MPI_Iallgather(&c, 1, MPI_INT, counts, 1, MPI_INT, m->comm,
			       &r[0]);
		err = wait_req(m, &r[0]);
		if (err)
			goto out;
		for (int i = 0, o = 0; i < m->size; i++) {
			displs[i] = o;
			o += counts[i];
		}
		ai = malloc((all ? all : 1) * sizeof(*ai));
		av = malloc((all ? all : 1) * sizeof(*av));
		err = -ENOMEM;
		if (!ai || !av)
			goto out;
		err = DQ_EMPI;
		if (MPI_Iallgatherv(m->idx, c, MPI_UINT32_T, ai, counts, displs,
				    MPI_UINT32_T, m->comm,
				    &r[0]) != MPI_SUCCESS ||
		    MPI_Iallgatherv(m->val, c, MPI_DOUBLE, av, counts, displs,
				    MPI_DOUBLE, m->comm, &r[1]) != MPI_SUCCESS)
			goto out;
		err = wait_req(m, &r[0]);
		if (!err)
			err = wait_req(m, &r[1]);
		if (err)
			goto out;
		memset(m->sum, 0, m->n * sizeof(double));
		for (uint64_t j = 0; j < all; j++)
			m->sum[ai[j]] += av[j];
	out:
		free(ai);
		free(av);
		free(counts);
		return err;
	}
}

/* Apply @target - S to the live table entry by entry, as deltas. */
static int
apply_to(dq_mpi *m, size_t k, double target)
{
	double d = target - m->snap[k];

	if (d == 0.0)
		return 0;
	return dq_table_add(m->t, (uint32_t)(k / m->na), (uint32_t)(k % m->na),
			    d);
}

static int
sync_sum(dq_mpi *m)
{
	uint64_t changed;
	int err = dq_table_snapshot(m->t, m->snap, m->n);

	if (!err)
		err = exchange(m, &changed);
	if (err)
		return err;
	for (size_t k = 0; k < m->n; k++) {
		double D = m->sum[k], d = m->snap[k] - m->base[k], add;

		if (D == 0.0 && d == 0.0)
			continue;
		add = m->mc.policy == DQ_MPI_AVERAGE ? D / m->size - d : D - d;
		m->base[k] += m->mc.policy == DQ_MPI_AVERAGE ? D / m->size : D;
		if (add != 0.0) {
			/* A delta that would make the entry non-finite is
			 * refused by the table: the entry keeps its value. */
			err = dq_table_add(m->t, (uint32_t)(k / m->na),
					   (uint32_t)(k % m->na), add);
			if (err && err != DQ_ENONFINITE)
				return err;
		}
	}
	return 0;
}

/*
 * DistQL: every rank pushes the entries it changed since the last sync,
 * with eta_i, to rank 0, which blends them into the central table in rank
 * order; then ALL: every rank takes the whole central table; Partial: each
 * rank takes the central values of the entries it pushed. eta_i is the
 * agents' alpha (the study's per-entry eta is the learner's step size).
 */
static int
sync_distql(dq_mpi *m)
{
	int err = dq_table_snapshot(m->t, m->snap, m->n), c, *counts = NULL,
	    *displs = NULL;
	uint32_t *ai = NULL, mine = 0;
	double *av = NULL, *ae = NULL, alpha = m->cfg.agent.alpha.start,
	       omega = m->cfg.agent.omega;
	MPI_Request r[3];

	if (err)
		return err;
	if (!(alpha > 0))
		alpha = 0.1;
	/* Each pushed entry goes with this rank's eta_i for it: its step
	 * size, 1 / N(s,a)^omega with per-entry rates, else alpha (in
	 * m->sum, free until the pull). */
	for (size_t k = 0; k < m->n; k++)
		if (m->snap[k] != m->base[k]) {
			uint64_t nv = 0;

			m->sum[mine] = alpha;
			if (omega > 0 &&
			    dq_table_visits_get(m->t, (uint32_t)(k / m->na),
						(uint32_t)(k % m->na),
						&nv) == 0 &&
			    nv > 0)
				m->sum[mine] = pow((double)nv, -omega);
			m->idx[mine] = (uint32_t)k;
			m->val[mine++] = m->snap[k];
		}
	c = (int)mine;
	counts = calloc(2 * (size_t)m->size, sizeof(int));
	if (!counts)
		return -ENOMEM;
	displs = counts + m->size;
	err = DQ_EMPI;
	if (MPI_Igather(&c, 1, MPI_INT, counts, 1, MPI_INT, 0, m->comm,
			&r[0]) != MPI_SUCCESS)
		goto out;
	err = wait_req(m, &r[0]);
	if (err)
		goto out;
	{
		size_t all = 0;

		for (int i = 0; i < m->size; i++) {
			displs[i] = (int)all;
			all += (size_t)counts[i];
		}
		ai = malloc((all ? all : 1) * sizeof(*ai));
		av = malloc((all ? all : 1) * sizeof(*av));
		ae = malloc((all ? all : 1) * sizeof(*ae));
		err = -ENOMEM;
		if (!ai || !av || !ae)
			goto out;
		err = DQ_EMPI;
		if (MPI_Igatherv(m->idx, c, MPI_UINT32_T, ai, counts, displs,
				 MPI_UINT32_T, 0, m->comm,
				 &r[0]) != MPI_SUCCESS ||
		    MPI_Igatherv(m->val, c, MPI_DOUBLE, av, counts, displs,
				 MPI_DOUBLE, 0, m->comm,
				 &r[1]) != MPI_SUCCESS ||
		    MPI_Igatherv(m->sum, c, MPI_DOUBLE, ae, counts, displs,
				 MPI_DOUBLE, 0, m->comm, &r[2]) != MPI_SUCCESS)
			goto out;
		err = wait_req(m, &r[0]);
		if (!err)
			err = wait_req(m, &r[1]);
		if (!err)
			err = wait_req(m, &r[2]);
		if (err)
			goto out;
		if (m->rank == 0)
			for (size_t j = 0; j < all; j++) {
				size_t k = ai[j];
				double eta_i = ae[j],
				       ec = m->eta_c[k] < eta_i ? m->eta_c[k]
								: eta_i,
				       w = ec * ec / eta_i;

				m->central[k] =
				    (1.0 - w) * m->central[k] + w * av[j];
				m->eta_c[k] = ec * m->mc.eta_decay;
			}
	}
	if (!m->mc.partial) {
		/* ALL: the whole central table to every rank. */
		if (m->rank == 0)
			memcpy(m->sum, m->central, m->n * sizeof(double));
		err = bcast_doubles(m, m->sum, m->n, 0);
		if (err)
			goto out;
		for (size_t k = 0; k < m->n; k++) {
			err = apply_to(m, k, m->sum[k]);
			if (err && err != DQ_ENONFINITE)
				goto out;
			m->base[k] = m->sum[k];
		}
		err = 0;
	} else {
		/* Partial: the central values of the pushed entries back. */
		if (m->rank == 0)
			for (size_t j = 0; j < (size_t)displs[m->size - 1] +
						   (size_t)counts[m->size - 1];
			     j++)
				av[j] = m->central[ai[j]];
		err = DQ_EMPI;
		if (MPI_Iscatterv(av, counts, displs, MPI_DOUBLE, m->val, c,
				  MPI_DOUBLE, 0, m->comm, &r[0]) != MPI_SUCCESS)
			goto out;
		err = wait_req(m, &r[0]);
		if (err)
			goto out;
		for (uint32_t j = 0; j < mine; j++) {
			err = apply_to(m, m->idx[j], m->val[j]);
			if (err && err != DQ_ENONFINITE)
				goto out;
			m->base[m->idx[j]] = m->val[j];
		}
		err = 0;
	}
out:
	free(ai);
	free(av);
	free(ae);
	free(counts);
	return err;
}

static int
sync_now(dq_mpi *m)
{
	double t0 = now_s();
	int err = 0;

	switch (m->mc.policy) {
	case DQ_MPI_AVERAGE:
	case DQ_MPI_DELTA:
		err = sync_sum(m);
		break;
	case DQ_MPI_DISTQL:
		err = sync_distql(m);
		break;
	default:
		return 0;
	}
	m->stats.syncs++;
	m->stats.last_seconds = now_s() - t0;
	m->stats.seconds += m->stats.last_seconds;
	return err;
}

/* ------------------------------------------------- the comm thread -- */

static void
local_counts(dq_mpi *m, int64_t *rec)
{
	uint64_t steps = 0, episodes = 0;

	for (uint32_t i = 0; i < m->p; i++) {
		dq_stats st;

		if (dq_learner_agent_stats(m->l, i, &st) == 0) {
			steps += st.steps;
			episodes += st.episodes;
		}
	}
	rec[C_STEPS] = (int64_t)steps;
	rec[C_EPISODES] = (int64_t)episodes;
	rec[C_RSTEPS] = (int64_t)(steps - m->start_steps);
	rec[C_REPS] = (int64_t)(episodes - m->start_episodes);
}

static int
what_index(const char *w)
{
	for (int i = 1; i < (int)(sizeof(whats) / sizeof(whats[0])); i++)
		if (w && !strcmp(w, whats[i]))
			return i;
	return 0;
}

/* The arrays of a run (or of an attached table): S x A each. */
static int
alloc_run(dq_mpi *m)
{
	free_run(m);
	memset(&m->stats, 0, sizeof(m->stats));
	m->base = malloc(m->n * sizeof(double));
	m->snap = malloc(m->n * sizeof(double));
	m->sum = malloc(m->n * sizeof(double));
	m->idx = malloc(m->n * sizeof(uint32_t));
	m->val = malloc(m->n * sizeof(double));
	if (m->mc.policy == DQ_MPI_DISTQL && m->rank == 0) {
		m->central = malloc(m->n * sizeof(double));
		m->eta_c = malloc(m->n * sizeof(double));
		if (!m->central || !m->eta_c) {
			free_run(m);
			return -ENOMEM;
		}
	}
	if (!m->base || !m->snap || !m->sum || !m->idx || !m->val) {
		free_run(m);
		return -ENOMEM;
	}
	return 0;
}

/* Every rank takes rank 0's table; the base starts there. */
static int
start_exchange(dq_mpi *m)
{
	int64_t rec[C_N];
	int err = dq_table_snapshot(m->t, m->base, m->n);

	m->start_steps = m->start_episodes = 0;
	if (m->l) {
		local_counts(m, rec);
		m->start_steps = (uint64_t)rec[C_STEPS];
		m->start_episodes = (uint64_t)rec[C_EPISODES];
	}
	if (!err)
		err = bcast_doubles(m, m->base, m->n, 0);
	if (!err && m->rank != 0)
		err = dq_table_load(m->t, m->base, m->n);
	if (!err && m->central) {
		memcpy(m->central, m->base, m->n * sizeof(double));
		for (size_t k = 0; k < m->n; k++)
			m->eta_c[k] = m->mc.eta;
	}
	return err;
}

int
dq_mpi_sync_stats_get(const dq_mpi *m, dq_mpi_sync_stats *out)
{
	if (!m || !out)
		return -EINVAL;
	*out = m->stats;
	return 0;
}

int
dq_mpi_table_attach(dq_mpi *m, dq_table *t, const dq_mpi_config *mc)
{
	dq_table_info ti;
	int err;

	if (!m || !t || !mc || !(mc->timeout > 0) ||
	    (unsigned)mc->policy > DQ_MPI_DISTQL ||
	    (unsigned)mc->exchange > DQ_MPI_EXCHANGE_DENSE)
		return -EINVAL;
	if (m->l)
		return -EBUSY;
	err = dq_table_info_get(t, &ti);
	if (err)
		return err;
	m->t = t;
	m->mc = *mc;
	m->n = (size_t)ti.n_states * ti.n_actions;
	m->na = ti.n_actions;
	err = alloc_run(m);
	if (!err)
		err = start_exchange(m);
	if (err)
		m->t = NULL;
	return err;
}

int
dq_mpi_table_sync(dq_mpi *m)
{
	if (!m || !m->t || !m->base || m->l)
		return -EINVAL;
	return sync_now(m);
}

/* If some rank stopped on its target, the lowest such rank's passing
 * table goes to all; @return 1 when done so. */
static int
target_handover(dq_mpi *m, const int64_t *recs, int *err)
{
	int who = -1;

	for (int i = 0; i < m->size; i++)
		if (recs[i * C_N + C_REASON] == DQ_STOP_TARGET &&
		    recs[i * C_N + C_DONE]) {
			who = i;
			break;
		}
	if (who < 0)
		return 0;
	if (m->rank == who)
		*err = dq_learner_target_table(m->l, m->snap, m->n);
	if (*err)
		return 1; /* the others time out: nothing else to send */
	*err = bcast_doubles(m, m->snap, m->n, who);
	if (!*err)
		*err = dq_table_load(m->t, m->snap, m->n);
	if (!*err) {
		/* Its target figures, for every rank's summary. */
		double tg[3] = {m->local.target_fraction,
				m->local.target_seconds,
				(double)m->local.target_steps};

		*err = bcast_doubles(m, tg, 3, who);
		m->local.target_fraction = tg[0];
		m->local.target_seconds = tg[1];
		m->local.target_steps = (uint64_t)tg[2];
	}
	return 1;
}

/*
 * Rank 0 gathers every rank's agent states, as bytes, into a new array
 * (*@out on rank 0, NULL elsewhere). Each rank reads its agents' states
 * by the learner's seqlock reads (dq_learner_agent_state()), so during a
 * run the agents go on: no agent waits for MPI. An agent that has not
 * published yet (all-zero state) is sent as its starting state.
 */
static int
gather_into(dq_mpi *m, dq_agent_state **out)
{
	size_t one = m->p * sizeof(dq_agent_state);
	dq_agent_state *mine = calloc(m->p ? m->p : 1, sizeof(*mine));
	MPI_Request r;
	int err = 0;

	*out = NULL;
	if (!mine)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->p && !err; i++) {
		const uint64_t *s = mine[i].rng.s;

		err = dq_learner_agent_state(m->l, i, &mine[i]);
		if (!err && !(s[0] | s[1] | s[2] | s[3]))
			err = dq_rng_seed(&mine[i].rng, m->cfg.agent.seed,
					  (uint64_t)m->rank * m->p + i);
	}
	if (!err && m->rank == 0) {
		*out = calloc((size_t)m->size * m->p, sizeof(**out));
		if (!*out)
			err = -ENOMEM;
	}
	/* Everyone goes through the gather (a failed rank sends zeros). */
	if (MPI_Igather(mine, (int)one, MPI_BYTE, *out, (int)one, MPI_BYTE, 0,
			m->comm, &r) != MPI_SUCCESS)
		err = DQ_EMPI;
	else if (!err)
		err = wait_req(m, &r);
	else
		wait_req(m, &r);
	free(mine);
	if (err) {
		free(*out);
		*out = NULL;
	}
	return err;
}

/* After the run: every rank's final states, for the last checkpoint. */
static int
gather_states(dq_mpi *m)
{
	free(m->states);
	m->n_states = (uint32_t)(m->size * m->p);
	return gather_into(m, &m->states);
}

/* During the run, when rank 0 asked (C_GATHER): the live states. */
static int
gather_live(dq_mpi *m)
{
	dq_agent_state *got;
	int err = gather_into(m, &got);

	if (err || m->rank != 0)
		return err;
	pthread_mutex_lock(&m->mu);
	free(m->live);
	m->live = got;
	m->n_live = (uint32_t)(m->size * m->p);
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static void
set_ready(dq_mpi *m, int v)
{
	pthread_mutex_lock(&m->mu);
	m->ready = v;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

/* Final over-rank totals: sums, and the mean return weighted. */
static int
final_totals(dq_mpi *m)
{
	double in[8], out[8];
	const dq_stats *s = &m->local.total;
	int err;

	in[0] = (double)s->steps;
	in[1] = (double)s->episodes;
	in[2] = (double)s->cas_retries;
	in[3] = (double)s->returns_n;
	in[4] = s->returns_n ? s->mean_return * (double)s->returns_n : 0.0;
	in[5] = s->epsilon;
	in[6] = s->alpha;
	in[7] = (double)m->local.run_steps;
	err = iallreduce(m, in, out, 8, MPI_DOUBLE, MPI_SUM);
	if (err)
		return err;
	pthread_mutex_lock(&m->mu);
	m->global = *s;
	m->global.steps = (uint64_t)out[0];
	m->global.episodes = (uint64_t)out[1];
	m->global.cas_retries = (uint64_t)out[2];
	m->global.returns_n = (uint64_t)out[3];
	m->global.mean_return = out[3] > 0 ? out[4] / out[3] : NAN;
	m->global.epsilon = out[5] / m->size;
	m->global.alpha = out[6] / m->size;
	m->global_run_steps = (uint64_t)out[7];
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static void *
comm_main(void *arg)
{
	dq_mpi *m = arg;
	const dq_learner_config *c = &m->cfg;
	int64_t mine[C_N],
	    *recs = calloc((size_t)m->size * C_N, sizeof(int64_t));
	uint64_t synced_steps = 0, synced_episodes = 0;
	double last_sync = now_s();
	bool stopping = false;
	int err;

	if (!recs) {
		m->comm_err = -ENOMEM;
		set_ready(m, -1);
		return NULL;
	}
	err = start_exchange(m);
	if (err) {
		m->comm_err = err;
		set_ready(m, -1);
		free(recs);
		return NULL;
	}
	set_ready(m, 1);
	for (;;) {
		uint64_t steps = 0, episodes = 0, rsteps = 0, reps = 0;
		int first_err = -1, first_done = -1, all_done = 1;
		MPI_Request r;

		sleep_s(m->mc.poll);
		memset(mine, 0, sizeof(mine));
		/* Acquire: pairs with the release in dq_mpi_run() after the
		 * learner returned, so the result and error are complete;
		 * read before the counters, so a done rank's are final. */
		mine[C_DONE] =
		    atomic_load_explicit(&m->local_done, memory_order_acquire);
		local_counts(m, mine);
		if (mine[C_DONE]) {
			mine[C_REASON] = m->local.reason;
			mine[C_ERR] = m->local_err.code;
			mine[C_AGENT] = m->local_err.agent;
			mine[C_STEP] = (int64_t)m->local_err.step;
			mine[C_WHAT] = what_index(m->local_err.what);
		}
		mine[C_SECONDS] = m->mc.unit == DQ_MPI_SECONDS &&
				  now_s() - last_sync >= m->mc.tau;
		/* Relaxed: a request flag (live_states()); taken here. */
		mine[C_GATHER] = m->rank == 0 &&
				 atomic_exchange_explicit(&m->want_live, 0,
							  memory_order_relaxed);
		if (MPI_Iallgather(mine, C_N, MPI_INT64_T, recs, C_N,
				   MPI_INT64_T, m->comm, &r) != MPI_SUCCESS) {
			err = DQ_EMPI;
			break;
		}
		err = wait_req_how(m, &r, false);
		if (err)
			break;
		for (int i = 0; i < m->size; i++) {
			const int64_t *x = recs + i * C_N;

			steps += (uint64_t)x[C_STEPS];
			episodes += (uint64_t)x[C_EPISODES];
			rsteps += (uint64_t)x[C_RSTEPS];
			reps += (uint64_t)x[C_REPS];
			/* A rank that did its share of the summed limits
			 * waits for the others (it still syncs). */
			if (x[C_DONE] && first_done < 0 &&
			    !((x[C_REASON] == DQ_STOP_STEPS ||
			       x[C_REASON] == DQ_STOP_EPISODES) &&
			      !x[C_ERR]))
				first_done = i;
			if (x[C_ERR] && first_err < 0)
				first_err = i;
			all_done &= x[C_DONE] != 0;
		}
		pthread_mutex_lock(&m->mu);
		m->global.steps = steps;
		m->global.episodes = episodes;
		if (!stopping) {
			if (first_err >= 0) {
				const int64_t *x = recs + first_err * C_N;

				m->agreed = DQ_STOP_ERROR;
				m->fail.rank = first_err;
				m->fail.error.code = (int)x[C_ERR];
				m->fail.error.agent = (uint32_t)x[C_AGENT];
				m->fail.error.step = (uint64_t)x[C_STEP];
				m->fail.error.what = whats[x[C_WHAT]];
			} else if (first_done >= 0) {
				m->agreed = (dq_stop_reason)
				    recs[first_done * C_N + C_REASON];
			} else if (all_done) {
				/* Every rank did its share. */
				m->agreed = (dq_stop_reason)recs[C_REASON];
			} else if (c->max_steps && rsteps >= c->max_steps) {
				m->agreed = DQ_STOP_STEPS;
			} else if (c->max_episodes && reps >= c->max_episodes) {
				m->agreed = DQ_STOP_EPISODES;
			}
			stopping = m->agreed != DQ_STOP_NONE;
		}
		pthread_mutex_unlock(&m->mu);
		if (stopping) {
			/* Harmless when the learner has returned. */
			dq_learner_stop(m->l);
			if (all_done)
				break;
			continue;
		}
		/* Every rank saw rank 0's request in the same round. */
		if (recs[C_GATHER]) {
			err = gather_live(m);
			if (err)
				break;
		}
		if ((m->mc.unit == DQ_MPI_SECONDS && recs[C_SECONDS]) ||
		    (m->mc.unit == DQ_MPI_STEPS &&
		     (double)(rsteps - synced_steps) >= m->mc.tau * m->size) ||
		    (m->mc.unit == DQ_MPI_EPISODES &&
		     (double)(reps - synced_episodes) >= m->mc.tau * m->size)) {
			err = sync_now(m);
			if (err)
				break;
			synced_steps = rsteps;
			synced_episodes = reps;
			last_sync = now_s();
		}
	}
	if (!err) {
		/* The end: every learner has returned. */
		if (!target_handover(m, recs, &err) &&
		    m->agreed != DQ_STOP_ERROR)
			err = sync_now(m);
		if (!err)
			err = final_totals(m);
		if (!err)
			err = gather_states(m);
	}
	if (err) {
		m->comm_err = err;
		dq_learner_stop(m->l);
	}
	free(recs);
	return NULL;
}

int
dq_mpi_run(dq_mpi *m, dq_run_result *res)
{
	int err, lerr;

	if (!m || !m->l || !res)
		return -EINVAL;
	if (m->size == 1)
		return dq_learner_run(m->l, res);
	err = alloc_run(m);
	if (err)
		return err;
	m->ready = 0;
	m->comm_err = 0;
	m->agreed = DQ_STOP_NONE;
	memset(&m->fail, 0, sizeof(m->fail));
	m->fail.rank = -1;
	memset(&m->local_err, 0, sizeof(m->local_err));
	memset(&m->global, 0, sizeof(m->global));
	/* Relaxed: no run is in progress; the thread start orders it. */
	atomic_store_explicit(&m->local_done, 0, memory_order_relaxed);
	/* A first gather at once, so a checkpoint early in the run finds
	 * every rank's states (relaxed: ordered by the thread start). */
	atomic_store_explicit(&m->want_live, 1, memory_order_relaxed);
	free(m->live);
	m->live = NULL;
	m->running = true;
	err = pthread_create(&m->comm_thread, NULL, comm_main, m);
	if (err)
		return -err;
	pthread_mutex_lock(&m->mu);
	while (!m->ready)
		pthread_cond_wait(&m->cv, &m->mu);
	pthread_mutex_unlock(&m->mu);
	if (m->ready < 0) {
		m->running = false;
		pthread_join(m->comm_thread, NULL);
		return m->comm_err;
	}
	lerr = dq_learner_run(m->l, &m->local);
	m->running = false;
	if (m->local.reason == DQ_STOP_ERROR)
		dq_learner_error(m->l, &m->local_err);
	else if (lerr)
		m->local_err.code = lerr;
	/* Release: pairs with the communication thread's acquire; it then
	 * sees the result and the error written above. */
	atomic_store_explicit(&m->local_done, 1, memory_order_release);
	pthread_join(m->comm_thread, NULL);
	*res = m->local;
	if (m->comm_err)
		return m->comm_err;
	res->reason = m->agreed;
	res->total = m->global;
	res->run_steps = m->global_run_steps;
	if (m->agreed == DQ_STOP_ERROR)
		return m->fail.rank == m->rank && m->fail.error.code
			   ? m->fail.error.code
			   : DQ_EREMOTE;
	return lerr;
}
