/*
 * The learner: P agent threads on one shared table, and the calling thread
 * as their monitor. It owns no learning logic: each thread runs the same
 * agent step (agent.h) a simulator would call itself. What lives here is
 * threads, pinning, stop conditions, statistics and error propagation.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "agent.h"
#include "env.h"
#include "pin.h"
#include "topology.h"
#include "writepath.h"

/* Agents run in chunks of at most this many steps, and publish their
 * counters, poll the stop flag and make due target checks between chunks. */
#define PUBLISH_EVERY 256u
/* A chunk that took longer than this is halved (down to one step), one
 * that took under a quarter of it doubled (up to PUBLISH_EVERY): with a
 * slow environment an agent still sees a stop within about this long or
 * one step. The built-in environments take a few microseconds per chunk of
 * PUBLISH_EVERY steps, and still well under this under valgrind. */
#define CHUNK_NS 1000000u
#define MAX_BOUND_PUS 8

enum {
	PUB_STEPS,
	PUB_EPISODES,
	PUB_RETRIES,
	PUB_RET_N,
	PUB_MEAN,
	PUB_EPS,
	PUB_ALPHA,
	PUB_RNG, /* four words */
	PUB_ALPHA_CLOCK = PUB_RNG + 4,
	PUB_EPS_CLOCK,
	PUB_WINDOW, /* the write path (dq_learner_agent_write_path()) */
	PUB_WSTEPS,
	PUB_WSUM,
	PUB_MERGES,
	PUB_MOVED,
	PUB_N
};

/*
 * One agent thread's slot. The agent (hot, written every step) and the
 * published counters (written after each chunk of steps, read by the
 * monitor) sit on separate cache lines so the monitor's reads never pull the
 * agent's working line away from its core.
 */
typedef struct slot {
	dq_agent ag;
	dq__env_inst inst;
	dq_learner *l;
	uint32_t id;
	unsigned pu;	/* planned PU, DQ__PIN_UNBOUND for none */
	uint64_t quota; /* steps allowed in this run */
	bool pin_failed;
	int n_bound;
	unsigned bound[MAX_BOUND_PUS];
	pthread_t thread;
	/* Where the hot loop is, kept across a switch of its instance. */
	struct loop_pos {
		uint32_t s, len, chunk;
		uint64_t done;
	} pos;
	/* The automatic write path (lib/writepath.h): this agent's counters
	 * at the start of its current epoch. */
	bool wp_auto;
	uint64_t wp_steps, wp_retries, wp_merges, wp_moved, wp_run0;
	uint64_t wp_window_steps; /* steps taken in windows, all runs */
	double wp_window_sum;	  /* the same, each times its window */

	/* Seqlock-published counters (see slot_publish/slot_read). */
	_Alignas(DQ__CACHE_LINE) dq__atomic_u32 seq;
	dq__atomic_u64 pub[PUB_N];
} slot;

struct dq_learner {
	dq_table *table;
	const dq_env *env;
	dq_learner_config cfg;
	uint32_t n;
	uint32_t episode_limit; /* per-episode step limit, 0 = none */
	slot **slots;
	dq__topo *topo;
	bool planned; /* pinning was planned from a topology */

	/* Target check (only with cfg.target_fraction > 0): the model, Q*,
	 * and the check's buffers, so that a check allocates nothing. check_q
	 * is the table as the last check read it; after a check that found
	 * the target, the one that passed. */
	dq_model *model;
	double *qstar;
	double *check_q;
	uint32_t *policy;
	void *check_ws;

	/* Run state. The stop flag is read by every agent every chunk and
	 * written once per run: alone on its line, it stays shared-clean in
	 * every core's cache until the write. */
	_Alignas(DQ__CACHE_LINE) dq__atomic_int stop;
	/* Target checks during a run are made by the agents, between chunks:
	 * the first to find the clock past next_check claims check_busy and
	 * checks (see check_target()). next_check is read by every agent
	 * every chunk and written once per check. */
	_Alignas(DQ__CACHE_LINE) dq__atomic_u64 next_check; /* ns */
	dq__atomic_int check_busy;
	dq__atomic_u64 last_fraction; /* bits of a double, for progress */
	uint64_t t0_ns, check_ns;     /* run start; target_interval */
	uint64_t start_steps;	      /* steps before this run */
	double target_seconds;	      /* written under check_busy */
	double target_frac;	      /* ditto: what that check measured */
	uint64_t target_steps;	      /* ditto */
	_Alignas(DQ__CACHE_LINE) dq__atomic_u64 tickets;
	_Alignas(DQ__CACHE_LINE) dq__atomic_int running;
	dq__atomic_int reason;
	dq__atomic_int err_set;
	dq_run_error err;

	pthread_mutex_t mu; /* with cv: agents tell the monitor they ended */
	pthread_cond_t cv;
	uint32_t n_active;
	bool sync_ready;
};

/*
 * How agent threads are started. Tests replace it to make thread creation
 * fail at a chosen agent and check that nothing is left behind.
 */
dq__thread_create_fn dq__thread_create = pthread_create;

/* How an agent thread binds itself. Tests replace it to refuse bindings. */
dq__bind_thread_fn dq__bind_thread = dq__topo_bind_thread;

static void slot_publish(slot *s);
static void check_target(slot *sl, uint64_t now);

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double
now_seconds(void)
{
	return (double)now_ns() * 1e-9;
}

int
dq_learner_config_init(dq_learner_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->n_threads = 1;
	dq_agent_config_init(&cfg->agent);
	cfg->progress_interval = 0.1;
	cfg->pin = DQ_PIN_CORES;
	cfg->target_interval = 0.002;
	return 0;
}

static bool
nonneg_finite(double x)
{
	return x >= 0.0 && isfinite(x);
}

static int
config_check(const dq_learner_config *c)
{
	int err;

	if (c->n_threads < 1 || c->n_threads > DQ_MAX_THREADS)
		return -EINVAL;
	err = dq_agent_config_check(&c->agent);
	if (err)
		return err;
	if (!nonneg_finite(c->max_seconds) ||
	    !(c->progress_interval > 0.0 && isfinite(c->progress_interval)) ||
	    !(c->target_fraction >= 0.0 && c->target_fraction <= 1.0) ||
	    !(c->target_interval > 0.0 && isfinite(c->target_interval)))
		return -EINVAL;
	if (!c->max_steps && !c->max_episodes && c->max_seconds == 0.0 &&
	    !c->should_stop && c->target_fraction == 0.0)
		return -EINVAL;
	if (c->pin != DQ_PIN_CORES && c->pin != DQ_PIN_NONE &&
	    c->pin != DQ_PIN_LIST)
		return -EINVAL;
	if (c->pin == DQ_PIN_LIST && (!c->pin_pus || !c->n_pin_pus))
		return -EINVAL;
	if ((c->write_path != DQ_WRITE_AUTO &&
	     c->write_path != DQ_WRITE_DIRECT) ||
	    (c->write_path == DQ_WRITE_DIRECT && c->agent.sync_every))
		return -EINVAL;
	return 0;
}

/*
 * Plan each agent's PU from the machine's topology. Without a topology
 * (hwloc failed to load) agents run unbound; a list naming PUs that do not
 * exist is an error the caller must hear about at creation.
 */
static int
learner_plan(dq_learner *l)
{
	unsigned *plan;
	dq__pu *pus = NULL;
	size_t n_pus = 0;
	int err;

	for (uint32_t i = 0; i < l->n; i++)
		l->slots[i]->pu = DQ__PIN_UNBOUND;
	if (l->cfg.pin == DQ_PIN_NONE)
		return 0;
	l->topo = dq__topo_system();
	if (!l->topo)
		return 0;
	err = dq__topo_pus(l->topo, &pus, &n_pus);
	if (err)
		return err == -ENOMEM ? err : 0;
	plan = malloc(l->n * sizeof(*plan));
	if (!plan) {
		free(pus);
		return -ENOMEM;
	}
	err = dq__pin_plan(pus, n_pus, l->cfg.pin, l->n, l->cfg.pin_pus,
			   l->cfg.n_pin_pus, plan);
	if (!err) {
		for (uint32_t i = 0; i < l->n; i++)
			l->slots[i]->pu = plan[i];
		l->planned = true;
	}
	free(plan);
	free(pus);
	return err;
}

static void
slot_free(slot *s)
{
	if (!s)
		return;
	dq__env_inst_fini(&s->inst);
	dq__agent_fini(&s->ag);
	free(s);
}

/* Solve the model once so that each check is a linear pass. */
static int
learner_target_init(dq_learner *l)
{
	dq_solve_config sc;
	size_t nq = (size_t)l->table->n_states * l->table->n_actions;
	int err;

	err = dq_model_create(&l->model, l->env);
	if (err)
		return err;
	l->qstar = malloc(nq * sizeof(double));
	l->check_q = malloc(nq * sizeof(double));
	l->policy = malloc(l->table->n_states * sizeof(uint32_t));
	l->check_ws = malloc(dq__model_check_ws_bytes(l->model));
	if (!l->qstar || !l->check_q || !l->policy || !l->check_ws)
		return -ENOMEM;
	dq_solve_config_init(&sc);
	sc.gamma = l->cfg.agent.gamma;
	err = dq_model_solve(l->model, &sc, l->qstar, nq, NULL, 0, NULL, 0);
	return err < 0 ? err : 0;
}

int
dq_learner_create(dq_learner **out, dq_table *table, const dq_env *env,
		  const dq_learner_config *cfg)
{
	dq_learner *l;
	int err;

	if (!out || !table || !env || !cfg)
		return -EINVAL;
	err = config_check(cfg);
	if (err)
		return err;
	if (env->spec.n_states != table->n_states ||
	    env->spec.n_actions != table->n_actions)
		return -EINVAL;
	if (cfg->target_fraction > 0.0 && !env->spec.max_outcomes)
		return -ENOTSUP;

	l = aligned_alloc(DQ__CACHE_LINE, sizeof(*l));
	if (!l)
		return -ENOMEM;
	memset(l, 0, sizeof(*l));
	l->table = table;
	l->env = env;
	l->cfg = *cfg;
	l->n = cfg->n_threads;
	l->episode_limit = cfg->max_episode_steps ? cfg->max_episode_steps
						  : env->spec.max_episode_steps;
	l->slots = calloc(l->n, sizeof(*l->slots));
	if (!l->slots) {
		err = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < l->n; i++) {
		dq_agent_config ac = cfg->agent;
		slot *s = aligned_alloc(DQ__CACHE_LINE, sizeof(*s));

		if (!s) {
			err = -ENOMEM;
			goto fail;
		}
		memset(s, 0, sizeof(*s));
		l->slots[i] = s;
		s->l = l;
		s->id = i;
		/* Schedules run on total steps: each agent step is P. */
		ac.stream = 0;
		ac.clock_step = l->n;
		err = dq__agent_init(&s->ag, table, &ac);
		if (err)
			goto fail;
		/* The automatic write path: buffers for the longest window
		 * the rule may pick, now, so that a run allocates nothing. */
		if (cfg->write_path == DQ_WRITE_AUTO && !ac.sync_every) {
			uint32_t w = dq__wp_max_window_hook(
			    (uint64_t)table->n_states * table->n_actions, l->n);

			err = dq__agent_reserve(&s->ag, w);
			if (err)
				goto fail;
			s->wp_auto = w != 0;
		}
		/* Stream i = stream i-1 jumped once: O(P) jumps in all. */
		if (i > 0) {
			s->ag.rng = l->slots[i - 1]->ag.rng;
			dq__rng_jump(&s->ag.rng);
		}
		err = dq__env_inst_init(env, &s->inst);
		if (err)
			goto fail;
	}
	err = learner_plan(l);
	if (err)
		goto fail;
	if (cfg->target_fraction > 0.0) {
		err = learner_target_init(l);
		if (err)
			goto fail;
	}
	err = pthread_mutex_init(&l->mu, NULL);
	if (err) {
		err = -err;
		goto fail;
	}
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		err = pthread_cond_init(&l->cv, &ca);
		pthread_condattr_destroy(&ca);
		if (err) {
			pthread_mutex_destroy(&l->mu);
			err = -err;
			goto fail;
		}
	}
	l->sync_ready = true;
	/* Readers see each agent's starting state before any run. */
	for (uint32_t i = 0; i < l->n; i++)
		slot_publish(l->slots[i]);
	*out = l;
	return 0;
fail:
	dq_learner_destroy(l);
	return err;
}

void
dq_learner_destroy(dq_learner *l)
{
	if (!l)
		return;
	if (l->slots)
		for (uint32_t i = 0; i < l->n; i++)
			slot_free(l->slots[i]);
	free(l->slots);
	dq_model_destroy(l->model);
	free(l->qstar);
	free(l->check_q);
	free(l->policy);
	free(l->check_ws);
	if (l->sync_ready) {
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
	}
	free(l);
}

/*
 * Seqlock writer (only the owning agent writes its slot). Each datum is a
 * release store, so the odd sequence number stored before it is visible to
 * any reader that acquires the datum; the final even number is a release
 * store ordering the data before it. No fence is needed (and ThreadSanitizer
 * does not model fences), and on x86 all of these are plain moves.
 */
static void
slot_publish(slot *s)
{
	dq_stats st;
	/* relaxed: only this thread writes seq */
	uint32_t q = dq__load_u32(&s->seq, memory_order_relaxed);
	uint64_t v[PUB_N];

	dq__agent_stats(&s->ag, &st);
	v[PUB_STEPS] = st.steps;
	v[PUB_EPISODES] = st.episodes;
	v[PUB_RETRIES] = st.cas_retries;
	v[PUB_RET_N] = st.returns_n;
	v[PUB_MEAN] = dq__d2u(st.mean_return);
	v[PUB_EPS] = dq__d2u(st.epsilon);
	v[PUB_ALPHA] = dq__d2u(st.alpha);
	for (int i = 0; i < 4; i++)
		v[PUB_RNG + i] = s->ag.rng.s[i];
	v[PUB_ALPHA_CLOCK] = dq__d2u(s->ag.alpha.clock);
	v[PUB_EPS_CLOCK] = dq__d2u(s->ag.epsilon.clock);
	v[PUB_WINDOW] = s->ag.sync_every;
	v[PUB_WSTEPS] = s->wp_window_steps;
	v[PUB_WSUM] = dq__d2u(s->wp_window_sum);
	v[PUB_MERGES] = s->ag.merges;
	v[PUB_MOVED] = s->ag.moved;

	/* relaxed: ordered before the data by their release stores */
	dq__store_u32(&s->seq, q + 1, memory_order_relaxed);
	for (int i = 0; i < PUB_N; i++)
		/* release: pairs with the reader's acquire load of this datum,
		 * which then sees the odd seq above (or a later value) */
		dq__store_u64(&s->pub[i], v[i], memory_order_release);
	/* release: pairs with the reader's first acquire load of seq */
	dq__store_u32(&s->seq, q + 2, memory_order_release);
}

/* Seqlock reader: retries until it saw one even, unchanged sequence. */
static void
slot_read_raw(const slot *s, uint64_t v[PUB_N])
{
	uint32_t q1, q2;

	for (;;) {
		/* acquire: pairs with the writer's final release store */
		q1 = dq__load_u32(&s->seq, memory_order_acquire);
		if (q1 & 1)
			continue;
		for (int i = 0; i < PUB_N; i++)
			/* acquire: pairs with the writer's release store of
			 * the datum, ordering the seq re-check after it */
			v[i] = dq__load_u64(&s->pub[i], memory_order_acquire);
		/* relaxed: after the acquire loads in program order; if any
		 * datum was new, this sees the writer's odd (or later) seq */
		q2 = dq__load_u32(&s->seq, memory_order_relaxed);
		if (q1 == q2)
			break;
	}
}

static void
slot_read(const slot *s, dq_stats *st)
{
	uint64_t v[PUB_N];

	slot_read_raw(s, v);
	memset(st, 0, sizeof(*st));
	st->steps = v[PUB_STEPS];
	st->episodes = v[PUB_EPISODES];
	st->cas_retries = v[PUB_RETRIES];
	st->returns_n = v[PUB_RET_N];
	st->mean_return = dq__u2d(v[PUB_MEAN]);
	st->epsilon = dq__u2d(v[PUB_EPS]);
	st->alpha = dq__u2d(v[PUB_ALPHA]);
}

/* Sum the agents' published counters: each agent's are from one instant. */
static void
learner_totals(const dq_learner *l, dq_stats *tot)
{
	double ret_sum = 0.0, eps = 0.0, alpha = 0.0;

	memset(tot, 0, sizeof(*tot));
	for (uint32_t i = 0; i < l->n; i++) {
		dq_stats st;

		slot_read(l->slots[i], &st);
		tot->steps += st.steps;
		tot->episodes += st.episodes;
		tot->cas_retries += st.cas_retries;
		tot->returns_n += st.returns_n;
		if (st.returns_n)
			ret_sum += st.mean_return * (double)st.returns_n;
		eps += st.epsilon;
		alpha += st.alpha;
	}
	tot->mean_return =
	    tot->returns_n ? ret_sum / (double)tot->returns_n : NAN;
	tot->epsilon = eps / l->n;
	tot->alpha = alpha / l->n;
}

static void
request_stop(dq_learner *l, dq_stop_reason why)
{
	/* relaxed/relaxed: the first reason wins; the value is read after
	 * the threads are joined, which orders it */
	dq__cas_strong_int(&l->reason, DQ_STOP_NONE, (int)why,
			   memory_order_relaxed, memory_order_relaxed);
	/* relaxed: the flag guards no data, agents only need to see it
	 * soon, and coherence makes a store visible promptly */
	dq__store_int(&l->stop, 1, memory_order_relaxed);
}

/* The first failure of a run is recorded; the agents are stopped. */
static void
set_error(dq_learner *l, uint32_t agent, uint64_t step, int code,
	  const char *what)
{
	/* relaxed: exactly one caller wins the right to fill l->err; it is
	 * read only after the threads are joined, which orders it */
	if (dq__cas_strong_int(&l->err_set, 0, 1, memory_order_relaxed,
			       memory_order_relaxed)) {
		l->err.code = code;
		l->err.agent = agent;
		l->err.step = step;
		l->err.what = what;
	}
	request_stop(l, DQ_STOP_ERROR);
}

static void
record_error(slot *s, int code, const char *what)
{
	set_error(s->l, s->id, s->ag.steps, code, what);
}

/* Claim one episode from the run's budget (only with max_episodes). */
static bool
claim_episode(dq_learner *l)
{
	/* relaxed: a counter; tickets order nothing else */
	return dq__fetch_add_u64(&l->tickets, 1, memory_order_relaxed) <
	       l->cfg.max_episodes;
}

/* agent_loop_as() stopped to continue in another instance. */
#define LOOP_SWITCH 1

/* Steps since the last mark taken in a window are counted as such. */
static void
wp_count(slot *sl)
{
	uint64_t n = sl->ag.steps - sl->wp_steps;

	if (dq__agent_replica(&sl->ag)) {
		sl->wp_window_steps += n;
		sl->wp_window_sum += (double)n * sl->ag.sync_every;
	}
}

/* The automatic write path: the agent's counters start an epoch. */
static void
wp_mark(slot *sl)
{
	sl->wp_steps = sl->ag.steps;
	sl->wp_retries = sl->ag.retries;
	sl->wp_merges = sl->ag.merges;
	sl->wp_moved = sl->ag.moved;
}

/*
 * The automatic write path, between chunks: at the end of an epoch the
 * rule (lib/writepath.h) picks the next window from what the agent
 * measured, and the agent switches (a window is written back before
 * direct updates resume). Returns whether a window is open.
 */
static bool
wp_revise(slot *sl)
{
	dq_agent *ag = &sl->ag;
	dq__wp_sample m;

	m.steps = ag->steps - sl->wp_steps;
	if (m.steps < dq__wp_epoch(ag->sync_every))
		return dq__agent_replica(ag);
	m.retries = ag->retries - sl->wp_retries;
	m.merges = ag->merges - sl->wp_merges;
	m.moved = ag->moved - sl->wp_moved;
	m.run_steps = ag->steps - sl->wp_run0;
	wp_count(sl);
	dq__agent_set_window(
	    ag, dq__wp_decide_hook(ag->sync_every, ag->max_window, &m));
	wp_mark(sl);
	return dq__agent_replica(ag);
}

/*
 * The hot loop: act, step the own environment, learn, repeat. No
 * allocation, lock (outside locked mode) or system call per step. It runs
 * in chunks of up to PUBLISH_EVERY steps, sized so that a chunk takes
 * about CHUNK_NS or less; between chunks the agent publishes its counters,
 * polls the stop flag and makes a due target check, so it stops within a
 * chunk of a request (microseconds with the built-in environments; about
 * CHUNK_NS, or one step, with a slow one). `mode` and
 * `replica` are constants in each of agent_loop()'s instances.
 */
DQ__INLINE int
agent_loop_as(slot *sl, const char **what, dq_mode mode, bool replica)
{
	dq_learner *l = sl->l;
	dq_agent *ag = &sl->ag;
	const dq__env_hot env = dq__env_hot_of(&sl->inst);
	const uint32_t limit = l->episode_limit;
	const bool tickets = l->cfg.max_episodes > 0;
	const uint64_t quota = sl->quota;
	const bool target = l->cfg.target_fraction > 0.0;
	uint64_t done = sl->pos.done, t_prev = now_ns();
	uint32_t s = sl->pos.s, len = sl->pos.len;
	uint32_t chunk = sl->pos.chunk; /* doubled while chunks are quick */
	dq_step st;
	int err;

	while (done < quota) {
		const uint64_t end =
		    quota - done > chunk ? done + chunk : quota;
		uint64_t t, left = end - done; /* counted down: one op */

		/* relaxed: a poll; the flag guards no data, and the stopping
		 * thread's store becomes visible within a chunk or two */
		if (DQ__UNLIKELY(dq__load_int(&l->stop, memory_order_relaxed)))
			break;
		do {
			uint32_t a = dq__agent_act(ag, s, replica);

			err = dq__env_hot_step(&env, a, &ag->rng, &st);
			if (DQ__UNLIKELY(err)) {
				*what = "step";
				return err;
			}
			dq__agent_observe(ag, s, a, st.reward, st.next_state,
					  st.terminated, mode, replica);
			len++;
			if (st.terminated || st.truncated || len == limit) {
				dq__agent_episode_end(ag);
				len = 0;
				if (tickets && !claim_episode(l))
					return 0;
				err = dq__env_hot_reset(&env, &ag->rng, &s);
				if (DQ__UNLIKELY(err))
					goto reset_failed;
			} else {
				s = st.next_state;
			}
		} while (--left);
		done = end;
		slot_publish(sl);
		t = now_ns();
		if (target)
			check_target(sl, t);
		if (t - t_prev > CHUNK_NS && chunk > 1)
			chunk /= 2;
		else if (t - t_prev < CHUNK_NS / 4 && chunk < PUBLISH_EVERY)
			chunk *= 2;
		t_prev = t;
		/* The automatic write path: a change between direct updates
		 * and windows continues in the other instance of this loop. */
		if (sl->wp_auto && wp_revise(sl) != replica) {
			sl->pos = (struct loop_pos){s, len, chunk, done};
			return LOOP_SWITCH;
		}
	}
	return 0;
reset_failed:
	*what = "reset";
	return err;
}

/* One instance of the hot loop per discipline, and one for replicas. */
static int
agent_loop_once(slot *sl, const char **what)
{
	if (dq__agent_replica(&sl->ag))
		return agent_loop_as(sl, what, sl->ag.table->mode, true);
	switch (sl->ag.table->mode) {
	case DQ_MODE_CAS:
		return agent_loop_as(sl, what, DQ_MODE_CAS, false);
	case DQ_MODE_HOGWILD:
		return agent_loop_as(sl, what, DQ_MODE_HOGWILD, false);
	case DQ_MODE_LOCKED:
	default:
		return agent_loop_as(sl, what, DQ_MODE_LOCKED, false);
	}
}

/* A run's loop: the first episode, then the loop's instances, switching
 * when the automatic write path changes between direct and windows. */
static int
agent_loop(slot *sl, const char **what)
{
	dq_agent *ag = &sl->ag;
	int err;

	sl->pos = (struct loop_pos){0, 0, 1, 0};
	/* An episode cut by the previous run's stop is not counted. */
	ag->ep_start = ag->steps;
	ag->ep_return = 0.0;
	if (sl->l->cfg.max_episodes > 0 && !claim_episode(sl->l))
		return 0;
	err = dq__env_inst_reset(&sl->inst, &ag->rng, &sl->pos.s);
	if (err) {
		*what = "reset";
		return err;
	}
	do
		err = agent_loop_once(sl, what);
	while (err == LOOP_SWITCH);
	return err;
}

static void *
agent_main(void *arg)
{
	slot *sl = arg;
	dq_learner *l = sl->l;
	const char *what = "step";
	int err;

	sl->pin_failed = false;
	sl->n_bound = 0;
	if (sl->pu != DQ__PIN_UNBOUND) {
		err = dq__bind_thread(l->topo, sl->pu);
		if (err) {
			sl->pin_failed = true;
			if (l->cfg.pin_strict) {
				record_error(sl, DQ_EPIN, "pin");
				goto out;
			}
		}
	} else if (l->cfg.pin != DQ_PIN_NONE && !l->planned) {
		/* Pinning was asked but the topology could not be read. */
		sl->pin_failed = true;
		if (l->cfg.pin_strict) {
			record_error(sl, DQ_EPIN, "pin");
			goto out;
		}
	}
	if (l->topo && sl->pu != DQ__PIN_UNBOUND && !sl->pin_failed) {
		err =
		    dq__topo_thread_binding(l->topo, sl->bound, MAX_BOUND_PUS);
		sl->n_bound = err > 0 ? err : 0;
	}
	/* Replica mode: hold no row copied before this run (the previous
	 * run ended with a write-back, so this is normally a no-op). */
	sl->ag.retries += (uint64_t)dq__agent_sync(&sl->ag);
	/* The automatic write path starts each run direct: the rule
	 * decides from this run's measurements (lib/writepath.h). */
	if (sl->wp_auto)
		dq__agent_set_window(&sl->ag, 0);
	wp_mark(sl);
	sl->wp_run0 = sl->ag.steps;
	err = agent_loop(sl, &what);
	if (err)
		record_error(sl, err, what);
	/* Replica mode: what this agent learned reaches the shared table
	 * before the run returns (a no-op otherwise). */
	sl->ag.retries += (uint64_t)dq__agent_sync(&sl->ag);
	wp_count(sl);
	wp_mark(sl);
out:
	slot_publish(sl);
	pthread_mutex_lock(&l->mu);
	l->n_active--;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* Share max_steps out exactly: the first (max % P) agents get one more. */
static void
assign_quotas(dq_learner *l)
{
	for (uint32_t i = 0; i < l->n; i++) {
		uint64_t q = UINT64_MAX;

		if (l->cfg.max_steps)
			q = l->cfg.max_steps / l->n +
			    (i < l->cfg.max_steps % l->n ? 1 : 0);
		l->slots[i]->quota = q;
	}
}

/*
 * The greedy policy's conservative optimal fraction (dq_model_check_policy),
 * measured on a copy of the table taken first (check_q), so that the values
 * checked are known exactly: a run stopped by the target gives them back.
 * Greedy ties go to the lowest index, as in dq_table_policy().
 */
static double
target_check(dq_learner *l)
{
	const uint32_t S = l->table->n_states, A = l->table->n_actions;
	double frac = NAN;

	dq_table_snapshot(l->table, l->check_q, (size_t)S * A);
	for (uint32_t s = 0; s < S; s++)
		l->policy[s] = dq__row_greedy_max(l->check_q + (size_t)s * A, A,
						  NULL, NULL);
	if (dq__model_check_policy_ws(l->model, l->qstar, l->policy, 1e-9,
				      l->check_ws, &frac))
		return NAN;
	return frac;
}

/*
 * An agent's target check, between chunks: when the check is due and no
 * other agent is making one, measure the greedy policy and stop the run
 * once it is good enough. Checks run on the agents' threads, not the
 * monitor's: with as many agents as cores the monitor has no core of its
 * own, and waits for one for up to a scheduler slice (milliseconds,
 * measured) after each wake-up, which delays the detection by as much.
 */
static void
check_target(slot *sl, uint64_t now)
{
	dq_learner *l = sl->l;
	double frac;

	/* relaxed: a hint; the claim below decides who checks */
	if (now < dq__load_u64(&l->next_check, memory_order_relaxed))
		return;
	/* acquire: pairs with the release ending the previous check, whose
	 * writes to the buffers and the target fields this one reuses */
	if (!dq__cas_strong_int(&l->check_busy, 0, 1, memory_order_acquire,
				memory_order_relaxed))
		return;
	/* relaxed: written only under check_busy, which orders it. Once a
	 * check has found the target, check_q holds the table that passed
	 * and no later check may overwrite it. */
	if (now >= dq__load_u64(&l->next_check, memory_order_relaxed) &&
	    isnan(l->target_seconds)) {
		frac = target_check(l);
		/* relaxed: a number for progress reports, orders nothing */
		dq__store_u64(&l->last_fraction, dq__d2u(frac),
			      memory_order_relaxed);
		if (frac >= l->cfg.target_fraction) {
			dq_stats tot;

			l->target_frac = frac;
			learner_totals(l, &tot);
			l->target_seconds =
			    (double)(now_ns() - l->t0_ns) * 1e-9;
			l->target_steps = tot.steps - l->start_steps;
			request_stop(l, DQ_STOP_TARGET);
		}
		/* relaxed: as above; the interval runs from the check's end,
		 * so a check of C seconds takes at most C / (C + interval)
		 * of the agents' time, however slow it is */
		dq__store_u64(&l->next_check, now_ns() + l->check_ns,
			      memory_order_relaxed);
	}
	/* release: hands the buffers and target fields to the next check */
	dq__store_int(&l->check_busy, 0, memory_order_release);
}

static void
wait_until(dq_learner *l, double deadline)
{
	struct timespec ts;
	double whole = floor(deadline);

	ts.tv_sec = (time_t)whole;
	ts.tv_nsec = (long)((deadline - whole) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	pthread_mutex_lock(&l->mu);
	if (l->n_active)
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
	pthread_mutex_unlock(&l->mu);
}

static uint32_t
active_agents(dq_learner *l)
{
	uint32_t n;

	pthread_mutex_lock(&l->mu);
	n = l->n_active;
	pthread_mutex_unlock(&l->mu);
	return n;
}

/*
 * The monitor: wakes for progress and the time budget, or when an agent
 * ends; returns when every agent has ended. (Target checks are the
 * agents', see check_target().)
 */
static void
monitor(dq_learner *l, double t0, uint64_t start_steps)
{
	const dq_learner_config *c = &l->cfg;
	double next_progress = t0 + c->progress_interval;
	double last_t = t0;
	uint64_t last_steps = start_steps;

	while (active_agents(l)) {
		double deadline = next_progress, now;

		if (c->max_seconds > 0.0 && t0 + c->max_seconds < deadline)
			deadline = t0 + c->max_seconds;
		wait_until(l, deadline);
		now = now_seconds();
		if (c->max_seconds > 0.0 && now - t0 >= c->max_seconds)
			request_stop(l, DQ_STOP_TIME);
		if (now >= next_progress) {
			dq_progress p;

			memset(&p, 0, sizeof(p));
			learner_totals(l, &p.total);
			p.seconds = now - t0;
			p.steps_per_second =
			    (double)(p.total.steps - last_steps) /
			    (now - last_t);
			/* relaxed: a number; see check_target() */
			p.target_fraction = dq__u2d(dq__load_u64(
			    &l->last_fraction, memory_order_relaxed));
			last_t = now;
			last_steps = p.total.steps;
			if (c->progress)
				c->progress(&p, c->progress_arg);
			if (c->should_stop &&
			    c->should_stop(c->should_stop_arg))
				request_stop(l, DQ_STOP_CALLBACK);
			next_progress = now + c->progress_interval;
		}
	}
}

int
dq_learner_run(dq_learner *l, dq_run_result *result)
{
	dq_run_result res;
	dq_stats start;
	uint32_t started = 0;
	double t0;
	int err = 0;

	if (!l)
		return -EINVAL;
	/* acquire: pairs with the release that ended the previous run */
	if (!dq__cas_strong_int(&l->running, 0, 1, memory_order_acquire,
				memory_order_relaxed))
		return -EBUSY;
	memset(&res, 0, sizeof(res));
	res.target_fraction = NAN;
	res.target_seconds = NAN;
	memset(&l->err, 0, sizeof(l->err));
	/* relaxed (this and the next three): no agent thread exists yet,
	 * and pthread_create publishes these resets to the threads */
	dq__store_int(&l->err_set, 0, memory_order_relaxed);
	/* relaxed: as above */
	dq__store_int(&l->reason, DQ_STOP_NONE, memory_order_relaxed);
	/* relaxed: as above */
	dq__store_int(&l->stop, 0, memory_order_relaxed);
	/* relaxed: as above */
	dq__store_u64(&l->tickets, 0, memory_order_relaxed);
	assign_quotas(l);
	l->n_active = l->n;

	/* Counters continue across runs (and from restored agents): this
	 * run's rates and step counts are measured from here. */
	learner_totals(l, &start);
	l->start_steps = start.steps;
	l->target_seconds = NAN;
	l->target_steps = 0;
	/* Validated positive and finite; anything past a year is "never". */
	l->check_ns = l->cfg.target_interval < 3.2e7
			  ? (uint64_t)(l->cfg.target_interval * 1e9)
			  : (uint64_t)3.2e16;
	l->t0_ns = now_ns();
	t0 = (double)l->t0_ns * 1e-9;
	/* relaxed (this and the next two): as above */
	dq__store_u64(&l->next_check, l->t0_ns + l->check_ns,
		      memory_order_relaxed);
	/* relaxed: as above */
	dq__store_int(&l->check_busy, 0, memory_order_relaxed);
	/* relaxed: as above */
	dq__store_u64(&l->last_fraction, dq__d2u(NAN), memory_order_relaxed);
	for (; started < l->n; started++) {
		int e = dq__thread_create(&l->slots[started]->thread, NULL,
					  agent_main, l->slots[started]);

		if (e) {
			err = -EAGAIN;
			set_error(l, started, 0, err, "thread");
			pthread_mutex_lock(&l->mu);
			l->n_active -= l->n - started;
			pthread_mutex_unlock(&l->mu);
			break;
		}
	}
	if (!err)
		monitor(l, t0, start.steps);
	for (uint32_t i = 0; i < started; i++)
		pthread_join(l->slots[i]->thread, NULL);
	res.seconds = now_seconds() - t0;

	learner_totals(l, &res.total);
	res.run_steps = res.total.steps - start.steps;
	/* relaxed: the joins above order everything the agents wrote */
	res.reason =
	    (dq_stop_reason)dq__load_int(&l->reason, memory_order_relaxed);
	/* Every agent ended on its own: its step quota, or no episode left
	 * to claim (claims past the budget push the counter beyond it). */
	if (res.reason == DQ_STOP_NONE)
		res.reason =
		    l->cfg.max_episodes &&
			    /* relaxed: after the joins */
			    dq__load_u64(&l->tickets, memory_order_relaxed) >
				l->cfg.max_episodes
			? DQ_STOP_EPISODES
			: DQ_STOP_STEPS;
	for (uint32_t i = 0; i < started; i++)
		res.pin_failures += l->slots[i]->pin_failed;
	/* The agents' target fields: ordered by the joins above. A run that
	 * found the target leaves the table as the check that found it read
	 * it: the steps the agents took before they saw the stop (at most a
	 * chunk each) are undone, so the policy handed back is the one that
	 * passed. */
	res.target_seconds = l->target_seconds;
	res.target_steps = l->target_steps;
	if (l->cfg.target_fraction > 0.0 && !isnan(l->target_seconds)) {
		dq_table_load(l->table, l->check_q,
			      (size_t)l->table->n_states * l->table->n_actions);
		res.target_fraction = l->target_frac;
	} else if (l->cfg.target_fraction > 0.0) {
		res.target_fraction = target_check(l);
	}
	if (l->cfg.progress) {
		dq_progress p;

		memset(&p, 0, sizeof(p));
		p.seconds = res.seconds;
		p.total = res.total;
		p.steps_per_second = res.seconds > 0.0
					 ? (double)res.run_steps / res.seconds
					 : 0.0;
		p.target_fraction = res.target_fraction;
		p.final = true;
		l->cfg.progress(&p, l->cfg.progress_arg);
	}
	/* relaxed: after the joins */
	if (!err && dq__load_int(&l->err_set, memory_order_relaxed))
		err = l->err.code;
	if (result)
		*result = res;
	/* release: pairs with the acquire CAS of the next run */
	dq__store_int(&l->running, 0, memory_order_release);
	return err;
}

int
dq_learner_stop(dq_learner *l)
{
	if (!l)
		return -EINVAL;
	request_stop(l, DQ_STOP_REQUEST);
	return 0;
}

int
dq_learner_error(const dq_learner *l, dq_run_error *err)
{
	if (!l || !err)
		return -EINVAL;
	*err = l->err;
	return 0;
}

int
dq_learner_agent_stats(const dq_learner *l, uint32_t i, dq_stats *out)
{
	if (!l || !out)
		return -EINVAL;
	if (i >= l->n)
		return -ERANGE;
	slot_read(l->slots[i], out);
	return 0;
}

int
dq_learner_agent_cpus(const dq_learner *l, uint32_t i, unsigned *pus,
		      size_t cap)
{
	const slot *s;

	if (!l || (!pus && cap))
		return -EINVAL;
	if (i >= l->n)
		return -ERANGE;
	s = l->slots[i];
	if (s->n_bound > 0) {
		for (int k = 0; k < s->n_bound && (size_t)k < cap; k++)
			pus[k] = s->bound[k];
		return s->n_bound;
	}
	if (s->pu == DQ__PIN_UNBOUND || s->pin_failed)
		return 0;
	if (cap)
		pus[0] = s->pu;
	return 1;
}

int
dq_learner_agent_write_path(const dq_learner *l, uint32_t i,
			    dq_write_stats *out)
{
	uint64_t v[PUB_N];

	if (!l || !out)
		return -EINVAL;
	if (i >= l->n)
		return -ERANGE;
	slot_read_raw(l->slots[i], v);
	memset(out, 0, sizeof(*out));
	out->window = (uint32_t)v[PUB_WINDOW];
	out->window_steps = v[PUB_WSTEPS];
	out->mean_window =
	    v[PUB_WSTEPS] ? dq__u2d(v[PUB_WSUM]) / (double)v[PUB_WSTEPS] : 0.0;
	out->merges = v[PUB_MERGES];
	out->moved = v[PUB_MOVED];
	return 0;
}

int
dq_learner_agent_state(const dq_learner *l, uint32_t i, dq_agent_state *out)
{
	uint64_t v[PUB_N];

	if (!l || !out)
		return -EINVAL;
	if (i >= l->n)
		return -ERANGE;
	slot_read_raw(l->slots[i], v);
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < 4; k++)
		out->rng.s[k] = v[PUB_RNG + k];
	out->alpha_clock = dq__u2d(v[PUB_ALPHA_CLOCK]);
	out->epsilon_clock = dq__u2d(v[PUB_EPS_CLOCK]);
	out->steps = v[PUB_STEPS];
	out->episodes = v[PUB_EPISODES];
	out->cas_retries = v[PUB_RETRIES];
	return 0;
}

int
dq_learner_set_agent_state(dq_learner *l, uint32_t i, const dq_agent_state *st)
{
	dq_agent *ag;

	if (!l || !st)
		return -EINVAL;
	if (i >= l->n)
		return -ERANGE;
	if (!(st->rng.s[0] | st->rng.s[1] | st->rng.s[2] | st->rng.s[3]) ||
	    !(st->alpha_clock >= 0.0 && isfinite(st->alpha_clock)) ||
	    !(st->epsilon_clock >= 0.0 && isfinite(st->epsilon_clock)))
		return -EINVAL;
	/* relaxed: a hint only; the caller promises no concurrent run */
	if (dq__load_int(&l->running, memory_order_relaxed))
		return -EBUSY;
	ag = &l->slots[i]->ag;
	ag->rng = st->rng;
	dq__sched_seek(&ag->alpha, st->alpha_clock);
	dq__sched_seek(&ag->epsilon, st->epsilon_clock);
	ag->steps = st->steps;
	ag->episodes = st->episodes;
	ag->retries = st->cas_retries;
	ag->ep_start = ag->steps;
	ag->ep_return = 0.0;
	/* The published view follows at once, not at the next run. */
	slot_publish(l->slots[i]);
	return 0;
}
