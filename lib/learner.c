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
#include "eval.h"
#include "jet.h"
#include "pin.h"
#include "replay.h"
#include "seqlock.h"
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
/* l->stop while no run is in progress (see struct dq_learner). */
#define STOP_IDLE (-1)
/* The monitor never sleeps longer than this (seconds): a far deadline (a
 * progress interval of 1e300 s) stays a number a timespec can hold. */
#define MAX_WAIT 3.2e7
/* With eval_unit steps or episodes the monitor wakes at least this often
 * (seconds) to see whether an evaluation is due. */
#define EVAL_POLL 0.001

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

struct watch;

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
	unsigned pu;	 /* planned PU, DQ__PIN_UNBOUND for none */
	uint64_t quota;	 /* steps allowed in this run */
	uint64_t steps0; /* its step count when this run started */
	int pin_err;	 /* this run: why pinning failed, 0 if it did not */
	/* The PU the agent is bound to (DQ__PIN_UNBOUND: none); the plan
	 * until the agent's first run. Written by the agent's thread, read
	 * by dq_learner_agent_cpus() at any time. */
	dq__atomic_u32 cpu;
	pthread_t thread; /* not agent 0's: it runs on the calling thread */
	/* Agent 0 during a run: the monitor's duties it makes between its
	 * chunks (caller_watch()); NULL otherwise. And why the calling
	 * thread must not be bound (its binding could not be kept to be
	 * restored), 0 when it may. */
	struct watch *watch;
	int no_bind;
	/* Where the hot loop is, kept across a switch of its instance. */
	struct loop_pos {
		uint32_t s, len, chunk;
		uint64_t done;
	} pos;
	/* The automatic write path (lib/writepath.h): the agent's probe,
	 * its step count at the last switch and at the run's start. */
	bool wp_auto;
	uint32_t wp_prior; /* the small-table prior's window; 0 none */
	dq__wp_probe wp_probe;
	uint64_t wp_steps, wp_run0;
	uint64_t wp_window_steps; /* steps taken in windows, all runs */
	double wp_window_sum;	  /* the same, each times its window */
	uint64_t share_pushes0, share_entries0; /* at this run's start */

	/* Seqlock-published counters (see slot_publish/slot_read). */
	_Alignas(DQ__CACHE_LINE) dq__seqlock seq;
	dq__atomic_u64 pub[PUB_N];
	/* The monitor's own copy of the last record it read whole: what it
	 * counts while the agent is preempted in the middle of a publish
	 * (see monitor_totals()). Only the monitoring thread touches it. */
	_Alignas(DQ__CACHE_LINE) uint64_t seen[PUB_N];
} slot;

struct dq_learner {
	dq_table *table;
	const dq_env *env;
	dq_learner_config cfg;
	uint32_t n;
	uint32_t episode_limit; /* per-episode step limit, 0 = none */
	slot **slots;
	dq__topo *topo;
	bool planned;	     /* pinning was planned from a topology */
	dq__target *target;  /* shared by the agents (lib/target.h), or NULL */
	dq__wp_pool wp_pool; /* the write path's probes (pub NULL: none) */

	/* Target check (only with cfg.target_fraction > 0): the model, Q*,
	 * and the check's buffers, so that a check allocates nothing. check_q
	 * is the table as the last check read it; after a check that found
	 * the target, the one that passed. */
	dq_model *model;
	double *qstar;
	double *check_q;
	uint32_t *policy;
	void *check_ws;

	/* Run state. The stop word is read by every agent every chunk and
	 * written twice per run: alone on its line, it stays shared-clean in
	 * every core's cache until a stop. It is also the run's state, so
	 * that a run's start, a stop request and the run's end are ordered
	 * by one atomic variable and no request falls between them:
	 * STOP_IDLE when no run is in progress; 0 while one runs and nobody
	 * asked it to stop; then the first request's dq_stop_reason, which
	 * later requests leave alone. */
	_Alignas(DQ__CACHE_LINE) dq__atomic_int stop;
	/* Target checks during a run are made by the agents, between chunks:
	 * the first to find the clock past next_check claims check_busy and
	 * checks (see check_target()). next_check is read by every agent
	 * every chunk and written once per check. */
	_Alignas(DQ__CACHE_LINE) dq__atomic_u64 next_check; /* ns */
	dq__atomic_int check_busy;
	dq__atomic_u64 last_fraction; /* bits of a double, for progress */
	uint64_t t0_ns, check_ns;     /* run start; target_interval */
	double target_seconds;	      /* written under check_busy */
	double target_frac;	      /* ditto: what that check measured */
	uint64_t target_steps;	      /* ditto */
	bool target_held; /* check_q passed in the last run (after joins) */
	/* The evaluator (cfg.eval_every > 0), used only by the thread that
	 * runs dq_learner_run() (the monitor), so unsynchronised. */
	dq__eval *eval;
	uint32_t eval_index;   /* the next record's index */
	double eval_next;      /* when due: seconds of the run, or count */
	uint64_t episodes0;    /* total episodes when the run began */
	double return_seconds; /* target_return reached; NaN */
	uint64_t return_steps;
	_Alignas(DQ__CACHE_LINE) dq__atomic_u64 tickets;
	_Alignas(DQ__CACHE_LINE) dq__atomic_int err_set;
	dq_run_error err;

	pthread_mutex_t mu; /* with cv: agents tell the monitor they ended */
	pthread_cond_t cv;
	uint32_t n_active;
	/* Under mu: agents wait at the gate until every thread of the run
	 * is created (or the run stopped), so that creating many threads
	 * never competes with the agents already running for the cores. */
	pthread_cond_t gate;
	bool gate_open;
	bool sync_ready;
	bool gate_ready;
};

/*
 * How agent threads are started. Tests replace it to make thread creation
 * fail at a chosen agent and check that nothing is left behind.
 */
dq__thread_create_fn dq__thread_create = pthread_create;

/* How an agent thread binds itself. Tests replace it to refuse bindings. */
dq__bind_thread_fn dq__bind_thread = dq__topo_bind_thread;

/* Agent 0 on the calling thread (caller_agent()); tests turn it off. */
bool dq__learner_caller_agent = true;

/* Where learners find the machine. Tests replace it with synthetic ones. */
dq__learner_topo_fn dq__learner_topo = dq__topo_system;

static void slot_publish(slot *s);
static void check_target(slot *sl, uint64_t now);
static void caller_watch(slot *sl, uint64_t now);

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
	cfg->eval_unit = DQ_EVAL_SECONDS;
	cfg->eval_episodes = 100;
	cfg->target_return = NAN;
	return 0;
}

static bool
nonneg_finite(double x)
{
	return x >= 0.0 && isfinite(x);
}

/* -EINVAL with a detail naming the field and its rule. */
#define LEARNER_BAD(...) (dq__detail(__VA_ARGS__), -EINVAL)

/* The evaluator's options (see dq_learner_config.eval_every). */
static int
eval_config_check(const dq_learner_config *c)
{
	if (!nonneg_finite(c->eval_every))
		return LEARNER_BAD("eval_every %g: must be >= 0 and finite",
				   c->eval_every);
	if (c->eval_unit != DQ_EVAL_SECONDS && c->eval_unit != DQ_EVAL_STEPS &&
	    c->eval_unit != DQ_EVAL_EPISODES)
		return LEARNER_BAD("eval_unit %d is no dq_eval_unit",
				   (int)c->eval_unit);
	if (isinf(c->target_return))
		return LEARNER_BAD("target_return %g: must be finite, or NaN "
				   "for none",
				   c->target_return);
	if (!isnan(c->target_return) && c->eval_every == 0.0)
		return LEARNER_BAD("target_return %g needs evaluations: "
				   "eval_every is 0",
				   c->target_return);
	if (c->eval_every > 0.0 &&
	    (c->eval_episodes < 1 || c->eval_episodes > DQ__EVAL_MAX_EPISODES))
		return LEARNER_BAD("eval_episodes %u is outside [1, %u]",
				   c->eval_episodes, DQ__EVAL_MAX_EPISODES);
	return 0;
}

static int
config_check(const dq_learner_config *c)
{
	int err;

	if (c->n_threads < 1 || c->n_threads > DQ_MAX_THREADS)
		return LEARNER_BAD("n_threads %u is outside [1, %u]",
				   c->n_threads, DQ_MAX_THREADS);
	if ((err = DQ__RESERVED_CHECK(c, "")) != 0)
		return err;
	err = dq_agent_config_check(&c->agent);
	if (err)
		dq__detail_prefix("agent.");
	if (!err) /* the replay rings of all P agents together */
		err = dq__replay_check(&c->agent, c->n_threads);
	if (err)
		return err;
	if (!nonneg_finite(c->max_seconds))
		return LEARNER_BAD("max_seconds %g: must be >= 0 and finite",
				   c->max_seconds);
	if (!(c->progress_interval > 0.0 && isfinite(c->progress_interval)))
		return LEARNER_BAD("progress_interval %g: must be > 0 and "
				   "finite",
				   c->progress_interval);
	if (!(c->target_fraction >= 0.0 && c->target_fraction <= 1.0))
		return LEARNER_BAD("target_fraction %g is outside [0, 1]",
				   c->target_fraction);
	if (!(c->target_interval > 0.0 && isfinite(c->target_interval)))
		return LEARNER_BAD("target_interval %g: must be > 0 and finite",
				   c->target_interval);
	if (!c->max_steps && !c->max_episodes && c->max_seconds == 0.0 &&
	    !c->should_stop && c->target_fraction == 0.0 &&
	    isnan(c->target_return))
		return LEARNER_BAD("no stop condition: set max_steps, "
				   "max_episodes, max_seconds, should_stop, "
				   "target_fraction or target_return");
	if (c->pin != DQ_PIN_CORES && c->pin != DQ_PIN_NONE &&
	    c->pin != DQ_PIN_LIST)
		return LEARNER_BAD("pin %d is no dq_pin_policy", (int)c->pin);
	if (c->pin == DQ_PIN_LIST && (!c->pin_pus || !c->n_pin_pus))
		return LEARNER_BAD("pin DQ_PIN_LIST needs pin_pus and "
				   "n_pin_pus >= 1");
	if (c->write_path != DQ_WRITE_AUTO && c->write_path != DQ_WRITE_DIRECT)
		return LEARNER_BAD("write_path %d is no dq_write_path",
				   (int)c->write_path);
	if (c->write_path == DQ_WRITE_DIRECT && c->agent.sync_every)
		return LEARNER_BAD("write_path DQ_WRITE_DIRECT and "
				   "agent.sync_every %u: direct updates have "
				   "no window",
				   c->agent.sync_every);
	/* A sync policy's agents write local tables: no replica window,
	 * and no target table (a copy of the shared one) */
	if (dq_share_config_check(&c->share)) {
		dq__detail_prefix("share.");
		return -EINVAL;
	}
	if (c->share.kind != DQ_SHARE_NONE &&
	    (c->agent.sync_every || c->agent.target_every))
		return LEARNER_BAD("a sync policy (share.kind %s) takes no "
				   "agent.sync_every (%u) and no "
				   "agent.target_every (%u)",
				   dq_share_name(c->share.kind),
				   c->agent.sync_every, c->agent.target_every);
	return eval_config_check(c);
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

	for (uint32_t i = 0; i < l->n; i++) {
		l->slots[i]->pu = DQ__PIN_UNBOUND;
		/* relaxed: no thread of this learner exists yet */
		dq__store_u32(&l->slots[i]->cpu, DQ__PIN_UNBOUND,
			      memory_order_relaxed);
	}
	if (l->cfg.pin == DQ_PIN_NONE)
		return 0;
	l->topo = dq__learner_topo();
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
	for (uint32_t i = 0; i < l->n; i++)
		/* relaxed: no thread of this learner exists yet */
		dq__store_u32(&l->slots[i]->cpu, l->slots[i]->pu,
			      memory_order_relaxed);
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
	return dq_model_solve(l->model, &sc, l->qstar, nq, NULL, 0, NULL, 0,
			      NULL);
}

int
dq_learner_create(dq_learner **out, dq_table *table, const dq_env *env,
		  const dq_learner_config *cfg)
{
	dq_learner *l;
	int err;

	dq__detail_clear();
	if (!out || !table || !env || !cfg)
		return LEARNER_BAD("out, table, env and cfg must not be NULL");
	err = config_check(cfg);
	if (err)
		return err;
	if (!cfg->agent.tiles && env->spec.n_states != table->n_states)
		return LEARNER_BAD("the env has %u states, the table %u",
				   env->spec.n_states, table->n_states);
	if (env->spec.n_actions != table->n_actions)
		return LEARNER_BAD("the env has %u actions, the table %u",
				   env->spec.n_actions, table->n_actions);
	if (cfg->agent.tiles) {
		dq_tiles_config tcfg;
		uint32_t d = 0;

		/* tile coding: observations of the coder's dimension */
		dq_tiles_config_get(cfg->agent.tiles, &tcfg);
		if (dq_env_obs_dim(env, &d) || d != tcfg.dim ||
		    cfg->target_fraction > 0.0 ||
		    cfg->share.kind != DQ_SHARE_NONE) {
			dq__detail("tiles: a coder of %u dimensions, an "
				   "observation of %u (no target_fraction, no "
				   "sync policy)",
				   tcfg.dim, d);
			return -EINVAL;
		}
	}
	if (cfg->target_fraction > 0.0 && !env->spec.max_outcomes)
		return -ENOTSUP;
	/* The P local tables' bound, the rule and channels, before any
	 * allocation (share.c) */
	if (cfg->share.kind != DQ_SHARE_NONE) {
		err = dq__share_check(table, &cfg->share, &cfg->agent,
				      cfg->n_threads);
		if (err)
			return err;
	}

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
	/* One target table for all the agents (lib/target.h). */
	if (cfg->agent.target_every) {
		err = dq__target_create(&l->target, table,
					cfg->agent.target_every,
					cfg->agent.target_tau);
		if (err)
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
		if (cfg->share.kind != DQ_SHARE_NONE) {
			/* a sync policy: the agent learns on its local
			 * table (share.h), which it then owns */
			dq__share *sh;

			err = dq__share_create(&sh, table, &cfg->share, l->n,
					       &ac);
			if (err)
				goto fail;
			err = dq__agent_init(&s->ag, sh->local, &ac);
			if (err) {
				dq__share_destroy(sh);
				goto fail;
			}
			dq__share_attach(&s->ag, sh);
		} else {
			err = dq__agent_init(&s->ag, table, &ac);
			if (err)
				goto fail;
		}
		err = dq__ext_init(&s->ag, &ac, l->target);
		if (err)
			goto fail;
		/* The automatic write path: buffers for the longest window
		 * the rule may pick, now, so that a run allocates nothing. */
		/* A rule whose writes per step are not bounded has no overlay
		 * (store.h): its updates stay direct. So do replaying agents:
		 * a window merges each agent's summed additions (double-q's
		 * writes), and replays make an entry's updates in one window
		 * many, so two agents' sums overshoot together (seen to
		 * diverge: test_replay's test_optimum, double-q, P = 2). */
		if (cfg->write_path == DQ_WRITE_AUTO && !ac.sync_every &&
		    dq__rule_writes(ac.rule, ac.nstep) && !s->ag.share &&
		    !ac.tiles && !ac.replay_capacity) {
			uint32_t w = dq__wp_max_window_hook(
			    (uint64_t)table->n_states * table->n_actions, l->n);

			err = dq__agent_reserve(&s->ag, w);
			if (err)
				goto fail;
			s->wp_auto = w != 0;
			s->wp_prior = dq__wp_prior_window(
			    (uint64_t)table->n_states * table->n_actions, l->n,
			    w);
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
	for (uint32_t i = 0; i < l->n && !l->wp_pool.pub; i++)
		if (l->slots[i]->wp_auto) {
			l->wp_pool.pub = aligned_alloc(
			    DQ__CACHE_LINE, l->n * sizeof(dq__wp_pub));
			if (!l->wp_pool.pub) {
				err = -ENOMEM;
				goto fail;
			}
			l->wp_pool.n = l->n;
		}
	err = learner_plan(l);
	if (err)
		goto fail;
	if (cfg->target_fraction > 0.0) {
		err = learner_target_init(l);
		if (err)
			goto fail;
	}
	if (cfg->eval_every > 0.0) {
		/* Its own stream: stream P, after the agents' 0..P-1, so that
		 * evaluating draws nothing from any agent's. */
		dq_rng stream = l->slots[l->n - 1]->ag.rng;

		dq__rng_jump(&stream);
		l->eval = calloc(1, sizeof(*l->eval));
		if (!l->eval) {
			err = -ENOMEM;
			goto fail;
		}
		err = dq__eval_init(l->eval, env, &stream, cfg->agent.gamma,
				    l->episode_limit, cfg->eval_episodes,
				    l->model, cfg->agent.tiles);
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
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		err = pthread_cond_init(&l->gate, &ca);
		pthread_condattr_destroy(&ca);
		if (err) {
			err = -err;
			goto fail;
		}
	}
	l->gate_ready = true;
	/* relaxed: the learner is published by the caller's own hand-off */
	dq__store_int(&l->stop, STOP_IDLE, memory_order_relaxed);
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
	free(l->wp_pool.pub);
	dq__target_destroy(l->target);
	dq_model_destroy(l->model);
	free(l->qstar);
	free(l->check_q);
	free(l->policy);
	free(l->check_ws);
	if (l->eval) {
		dq__eval_fini(l->eval);
		free(l->eval);
	}
	if (l->gate_ready)
		pthread_cond_destroy(&l->gate);
	if (l->sync_ready) {
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
	}
	free(l);
}

/*
 * Publish the agent's counters as one record (lib/seqlock.h): only the
 * owning agent writes its slot (or the caller between runs).
 */
static void
slot_publish(slot *s)
{
	dq_stats st;
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
	v[PUB_WINDOW] = s->ag.replica.sync_every;
	v[PUB_WSTEPS] = s->wp_window_steps;
	v[PUB_WSUM] = dq__d2u(s->wp_window_sum);
	v[PUB_MERGES] = s->ag.replica.merges;
	v[PUB_MOVED] = s->ag.replica.moved;

	dq__seq_write(&s->seq, s->pub, v, PUB_N);
}

/* The agent's last published record, all from one publication. */
static void
slot_read_raw(const slot *s, uint64_t v[PUB_N])
{
	dq__seq_read(&s->seq, s->pub, v, PUB_N);
}

static void
stats_of(const uint64_t v[PUB_N], dq_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->steps = v[PUB_STEPS];
	st->episodes = v[PUB_EPISODES];
	st->cas_retries = v[PUB_RETRIES];
	st->returns_n = v[PUB_RET_N];
	st->mean_return = dq__u2d(v[PUB_MEAN]);
	st->epsilon = dq__u2d(v[PUB_EPS]);
	st->alpha = dq__u2d(v[PUB_ALPHA]);
}

/* a + b, or UINT64_MAX when that does not fit: totals never wrap. */
static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void
slot_read(const slot *s, dq_stats *st)
{
	uint64_t v[PUB_N];

	slot_read_raw(s, v);
	stats_of(v, st);
}

/*
 * The monitor's read of a slot: the published record when it can be had
 * without waiting, else the last one it had. A reader that waited for an
 * agent preempted mid-publish would, with thousands of agents on a few
 * cores, hold up the time budget and Ctrl-C for seconds.
 */
static void
slot_read_monitor(slot *s, dq_stats *st)
{
	uint64_t v[PUB_N];

	if (dq__seq_try_read(&s->seq, s->pub, v, PUB_N, 32))
		memcpy(s->seen, v, sizeof(v));
	stats_of(s->seen, st);
}

/*
 * Sum the agents' published counters: each agent's are from one instant.
 * From the monitor (@monitor), an agent's may be its previous record.
 * A sum past 2^64 - 1 (restored counters near their limit) saturates.
 * Returns the steps of this run, summed per agent from its own start, so
 * that it stays exact when the totals saturate.
 */
static uint64_t
totals(const dq_learner *l, dq_stats *tot, bool monitor)
{
	double ret_sum = 0.0, eps = 0.0, alpha = 0.0;
	uint64_t run = 0;

	memset(tot, 0, sizeof(*tot));
	for (uint32_t i = 0; i < l->n; i++) {
		dq_stats st;

		if (monitor)
			slot_read_monitor(l->slots[i], &st);
		else
			slot_read(l->slots[i], &st);
		run = sat_add(run, st.steps - l->slots[i]->steps0);
		tot->steps = sat_add(tot->steps, st.steps);
		tot->episodes = sat_add(tot->episodes, st.episodes);
		tot->cas_retries = sat_add(tot->cas_retries, st.cas_retries);
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
	return run;
}

static uint64_t
learner_totals(const dq_learner *l, dq_stats *tot)
{
	return totals(l, tot, false);
}

/*
 * Stop the run in progress, if any, and if nobody asked before: the
 * first reason wins. A learner that is not running (STOP_IDLE) is left
 * alone, atomically with the check, so a request is never carried over
 * into a later run.
 */
static void
request_stop(dq_learner *l, dq_stop_reason why)
{
	/* relaxed/relaxed: the word guards no data (the reason is read after
	 * the agents are joined, which orders it); agents only need to see
	 * it soon, and coherence makes a store visible promptly */
	dq__cas_strong_int(&l->stop, 0, (int)why, memory_order_relaxed,
			   memory_order_relaxed);
}

/* Whether the run has been asked to stop (by anyone, for any reason). */
static bool
stopping(const dq_learner *l)
{
	/* relaxed: a poll, as the agents' */
	return dq__load_int(&l->stop, memory_order_relaxed) != 0;
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
		sl->wp_window_sum += (double)n * sl->ag.replica.sync_every;
	}
}

/* The automatic write path: steps from here on are counted for the path
 * the agent takes now. */
static void
wp_mark(slot *sl)
{
	sl->wp_steps = sl->ag.steps;
}

/*
 * The automatic write path, between chunks: the rule (lib/writepath.h)
 * picks the path for the next chunk from the chunk of @steps steps that
 * ran from @t_start to @t_end (now_ns()), and the agent switches (a
 * window is written back before direct updates resume). Returns whether a
 * window is open.
 */
static bool
wp_revise(slot *sl, uint64_t t_start, uint64_t t_end, uint64_t steps)
{
	dq_agent *ag = &sl->ag;
	const uint64_t t0 = sl->l->t0_ns;
	dq__wp_sample m;
	uint32_t w;
	int err;

	m.t_start = t_start > t0 ? t_start - t0 : 0;
	m.t_end = t_end > t0 ? t_end - t0 : 0;
	m.steps = steps;
	m.run_steps = ag->steps - sl->wp_run0;
	m.pool = &sl->l->wp_pool;
	m.agent = sl->id;
	w = dq__wp_decide_hook(&sl->wp_probe, ag->replica.sync_every,
			       ag->replica.max_window, &m);
	if (w == ag->replica.sync_every)
		return dq__agent_replica(ag);
	wp_count(sl);
	err = dq__agent_set_window(ag, w);
	if (err)
		record_error(sl, err, "sync"); /* the run stops */
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
 * CHUNK_NS, or one step, with a slow one). The loop is written once:
 * `rule`, `mode`, `replica` and `visits` are constants in each of its
 * instances (agent_loop_once()), so the step folds to one rule's code on
 * one store with one rate. `ext` (replay or a target table, lib/replay.h)
 * is a constant too: a plain agent's loop has no test of it per step, and
 * an agent with either runs one generic instance per rule (its step is
 * out of line anyway), the others being runtime values there.
 */
DQ__INLINE int
agent_loop_as(slot *sl, const char **what, dq_rule rule, dq_mode mode,
	      bool replica, bool visits, bool soft, bool ext)
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
		uint64_t end = quota - done > chunk ? done + chunk : quota;
		const uint64_t t_start = t_prev, start = done;
		uint64_t t, left; /* counted down: one op */

		/* A sync policy due in steps: the chunk ends there (a push
		 * already due was made at the previous chunk's end, so the
		 * room is never 0; tested all the same: an empty chunk would
		 * count `left` down from 0) */
		if (DQ__UNLIKELY(ag->share != NULL) &&
		    ag->share->next_step - ag->steps - 1 < end - done - 1)
			end = done + (ag->share->next_step - ag->steps);
		left = end - done;

		/* relaxed: a poll; the flag guards no data, and the stopping
		 * thread's store becomes visible within a chunk or two */
		if (DQ__UNLIKELY(dq__load_int(&l->stop, memory_order_relaxed)))
			break;
		do {
			uint32_t a = dq__agent_act(ag, s, rule, replica, soft);

			err = dq__env_hot_step(&env, a, &ag->rng, &st);
			if (DQ__UNLIKELY(err)) {
				*what = "step";
				return err;
			}
			/* replay or a target: their step (ext a constant) */
			if (ext)
				err = dq__ext_observe(
				    ag, s, a, st.reward, st.next_state,
				    st.terminated, mode, replica, visits);
			else
				err = dq__agent_observe_core(
				    ag, s, a, st.reward, st.next_state,
				    st.terminated, rule, mode, replica, visits,
				    soft);
			if (DQ__UNLIKELY(err)) {
				*what = "update";
				return err;
			}
			len++;
			if (st.terminated || st.truncated || len == limit) {
				/* The rules beyond one step: what a
				 * truncation leaves (rule a constant) */
				if (rule == DQ_RULE_NSTEP_Q ||
				    rule == DQ_RULE_NSTEP_SARSA ||
				    rule == DQ_RULE_Q_LAMBDA) {
					err = dq__agent_flush(ag);
					if (DQ__UNLIKELY(err)) {
						*what = "update";
						return err;
					}
				}
				dq__agent_episode_end(ag);
				len = 0;
				/* A sync policy due in episodes: the chunk
				 * ends with this episode (share.h). */
				if (DQ__UNLIKELY(ag->share != NULL) &&
				    ag->episodes >= ag->share->next_episode) {
					end -= left - 1;
					left = 1;
				}
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
		t = now_ns();
		if (t - t_prev > CHUNK_NS && chunk > 1)
			chunk /= 2;
		else if (t - t_prev < CHUNK_NS / 4 && chunk < PUBLISH_EVERY)
			chunk *= 2;
		t_prev = t;
		/* The sync policy's boundary: push and pull when due. A push
		 * (a pass over the table) is not the chunk's time: the next
		 * chunk is timed from its end. */
		if (DQ__UNLIKELY(ag->share != NULL)) {
			err = dq__share_sync(ag, t);
			if (DQ__UNLIKELY(err < 0)) {
				*what = "sync";
				return err;
			}
			if (err)
				t_prev = now_ns();
		}
		slot_publish(sl);
		if (target)
			check_target(sl, t);
		/* Agent 0, on the calling thread: the monitor's duties. */
		if (DQ__UNLIKELY(sl->watch != NULL))
			caller_watch(sl, t);
		/* The automatic write path: a change between direct updates
		 * and windows continues in the other instance of this loop. */
		if (sl->wp_auto &&
		    wp_revise(sl, t_start, t, end - start) != replica) {
			sl->pos = (struct loop_pos){s, len, chunk, done};
			return LOOP_SWITCH;
		}
	}
	return 0;
reset_failed:
	*what = "reset";
	return err;
}

/*
 * The loop's instances: per rule and rate, one per discipline with direct updates
 * and one with the overlay in front (its writes reach the table only at
 * the write-back, so the discipline is read there). Chosen once per
 * chunk of the automatic write path's switches, never per step.
 */
DQ__INLINE int
agent_loop_store(slot *sl, const char **what, dq_rule rule, bool visits,
		 bool soft)
{
	if (dq__agent_replica(&sl->ag))
		return agent_loop_as(sl, what, rule, sl->ag.table->mode, true,
				     visits, soft, false);
	switch (sl->ag.table->mode) {
	case DQ_MODE_CAS:
		return agent_loop_as(sl, what, rule, DQ_MODE_CAS, false, visits,
				     soft, false);
	case DQ_MODE_HOGWILD:
		return agent_loop_as(sl, what, rule, DQ_MODE_HOGWILD, false,
				     visits, soft, false);
	case DQ_MODE_LOCKED:
	default:
		return agent_loop_as(sl, what, rule, DQ_MODE_LOCKED, false,
				     visits, soft, false);
	}
}

/* ... per rate: the alpha schedule, or per entry from visit counts
 * (Q(lambda) takes none, dq_agent_config_check()) ... */
DQ__INLINE int
agent_loop_rate(slot *sl, const char **what, dq_rule rule, bool soft)
{
	if (sl->ag.omega > 0.0 && rule != DQ_RULE_Q_LAMBDA)
		return agent_loop_store(sl, what, rule, true, soft);
	return agent_loop_store(sl, what, rule, false, soft);
}

/*
 * ... and per policy, epsilon-greedy or softmax: one function each per
 * rule, its instances inside, so that the compiler allocates each one's
 * loops on their own, whatever the other rules and softmax cost.
 */
#define LOOP_RULE_FN(R)                                                       \
	static __attribute__((noinline)) int loop_##R##_eg(slot *sl,          \
							   const char **what) \
	{                                                                     \
		return agent_loop_rate(sl, what, R, false);                   \
	}                                                                     \
	static __attribute__((noinline)) int loop_##R##_soft(                 \
	    slot *sl, const char **what)                                      \
	{                                                                     \
		return agent_loop_rate(sl, what, R, true);                    \
	}                                                                     \
	static __attribute__((noinline)) int loop_##R##_rt(slot *sl,          \
							   const char **what) \
	{                                                                     \
		return agent_loop_as(sl, what, R, sl->ag.table->mode,         \
				     dq__agent_replica(&sl->ag),              \
				     sl->ag.omega > 0.0 &&                    \
					 R != DQ_RULE_Q_LAMBDA,               \
				     sl->ag.softmax, true);                   \
	}                                                                     \
	static int loop_##R(slot *sl, const char **what)                      \
	{                                                                     \
		if (sl->ag.ext) /* replay or a target (lib/replay.h) */       \
			return loop_##R##_rt(sl, what);                       \
		return sl->ag.softmax ? loop_##R##_soft(sl, what)             \
				      : loop_##R##_eg(sl, what);              \
	}
DQ__FOR_EACH_RULE(LOOP_RULE_FN)

#define LOOP_RULE_CASE(R) \
	case R:           \
		return loop_##R(sl, what);

static int
agent_loop_once(slot *sl, const char **what)
{
	switch (sl->ag.rule) {
		DQ__FOR_EACH_RULE(LOOP_RULE_CASE)
	default:
		return -EINVAL; /* dq_agent_config_check() refused it */
	}
}

/*
 * The hot loop of a tile-coded agent (lib/tiles.h): the same loop as
 * agent_loop_as() with the features layer in it, a state being the active
 * tiles of the environment's observation. Its chunks, stop polls and
 * publications are agent_loop_as()'s; it has no write path to switch (the
 * overlay holds whole states, tile-coded writes are spread over tiles) and
 * no target check (which needs a model), so it runs once per run. `rule`
 * and `mode` are constants in each instance (agent_loop_tiles()); `ext`
 * (replay or a target table, lib/tilereplay.c) too: the plain instances
 * have no test of it per step, and an agent with either runs one generic
 * instance, rule and discipline read at run time.
 */
DQ__INLINE int
agent_loop_tiles_as(slot *sl, const char **what, dq_rule rule, dq_mode mode,
		    bool ext)
{
	dq_learner *l = sl->l;
	dq_agent *ag = &sl->ag;
	dq__tagent *tg = ag->tg;
	const dq_tiles *tc = tg->tc;
	const dq__env_hot env = dq__env_hot_of(&sl->inst);
	void (*const observe)(const void *, double *) =
	    sl->inst.env->ops->ext->observe;
	const uint32_t limit = l->episode_limit;
	const bool tickets = l->cfg.max_episodes > 0;
	const uint64_t quota = sl->quota;
	uint64_t done = 0, t_prev = now_ns();
	uint32_t s = sl->pos.s, len = 0, chunk = 1;
	uint32_t *f = tg->f, *f2 = tg->f2, *tmp;
	double obs[DQ_OBS_MAX_DIM];
	bool cached = false; /* f is the s' of the last observe */
	dq_step st;
	int err = 0;

	observe(env.state, obs);
	dq__tiles_active(tc, obs, f);
	while (done < quota) {
		const uint64_t end =
		    quota - done > chunk ? done + chunk : quota;
		uint64_t t, left = end - done;

		/* relaxed: a poll, as agent_loop_as()'s */
		if (DQ__UNLIKELY(dq__load_int(&l->stop, memory_order_relaxed)))
			break;
		do {
			uint32_t a = dq__tiles_act(ag, f, cached, rule);

			err = dq__env_hot_step(&env, a, &ag->rng, &st);
			if (DQ__UNLIKELY(err)) {
				*what = "step";
				goto out;
			}
			if (!st.terminated) {
				observe(env.state, obs);
				dq__tiles_active(tc, obs, f2);
			}
			/* replay or a target: their step (ext a constant) */
			if (ext)
				err = dq__ext_observe_tiles(ag, f, a, st.reward,
							    f2, st.terminated,
							    mode);
			else
				err = dq__agent_observe_tiles(
				    ag, f, a, st.reward, f2, st.terminated,
				    rule, mode);
			if (DQ__UNLIKELY(err)) {
				*what = "update";
				goto out;
			}
			len++;
			if (st.terminated || st.truncated || len == limit) {
				/* as agent_loop_as(): what a truncation
				 * leaves (rule a constant) */
				if (rule == DQ_RULE_NSTEP_Q ||
				    rule == DQ_RULE_NSTEP_SARSA ||
				    rule == DQ_RULE_Q_LAMBDA) {
					err = dq__agent_flush(ag);
					if (DQ__UNLIKELY(err)) {
						*what = "update";
						goto out;
					}
				}
				dq__agent_episode_end(ag);
				len = 0;
				if (tickets && !claim_episode(l))
					goto out;
				err = dq__env_hot_reset(&env, &ag->rng, &s);
				if (DQ__UNLIKELY(err)) {
					*what = "reset";
					goto out;
				}
				observe(env.state, obs);
				dq__tiles_active(tc, obs, f);
				cached = false;
			} else {
				tmp = f;
				f = f2;
				f2 = tmp;
				cached = true;
			}
		} while (--left);
		done = end;
		slot_publish(sl);
		t = now_ns();
		if (t - t_prev > CHUNK_NS && chunk > 1)
			chunk /= 2;
		else if (t - t_prev < CHUNK_NS / 4 && chunk < PUBLISH_EVERY)
			chunk *= 2;
		t_prev = t;
		/* Agent 0, on the calling thread: the monitor's duties. */
		if (DQ__UNLIKELY(sl->watch != NULL))
			caller_watch(sl, t);
	}
out:
	tg->f = f;
	tg->f2 = f2;
	tg->next_valid = false;
	return err;
}

/* The tile-coded loop's instances: per rule, one per discipline. */
#define LOOP_TILES_CASE(R)                                                   \
	case R:                                                              \
		switch (sl->ag.table->mode) {                                \
		case DQ_MODE_CAS:                                            \
			return agent_loop_tiles_as(sl, what, R, DQ_MODE_CAS, \
						   false);                   \
		case DQ_MODE_HOGWILD:                                        \
			return agent_loop_tiles_as(sl, what, R,              \
						   DQ_MODE_HOGWILD, false);  \
		case DQ_MODE_LOCKED:                                         \
		default:                                                     \
			return agent_loop_tiles_as(sl, what, R,              \
						   DQ_MODE_LOCKED, false);   \
		}

/* The one instance of a tile-coded agent with replay or a target table:
 * its step is out of line (dq__ext_observe_tiles()), the rule and the
 * discipline runtime values. */
static __attribute__((noinline)) int
agent_loop_tiles_ext(slot *sl, const char **what)
{
	return agent_loop_tiles_as(sl, what, sl->ag.rule, sl->ag.table->mode,
				   true);
}

static int
agent_loop_tiles(slot *sl, const char **what)
{
	if (sl->ag.ext)
		return agent_loop_tiles_ext(sl, what);
	switch (sl->ag.rule) {
		DQ__FOR_EACH_TILE_RULE(LOOP_TILES_CASE)
	default:
		return -EINVAL; /* dq__tagent_init() refused it */
	}
}

/*
 * Bind the agent's thread as planned. Returns 0, or why it is not bound
 * (the binding's error; DQ_EPIN when pinning was asked and no topology
 * could be read to plan it). The agent's cpu says where it is bound.
 */
static int
agent_bind(slot *sl)
{
	dq_learner *l = sl->l;
	int err = 0;

	if (sl->pu != DQ__PIN_UNBOUND && sl->no_bind)
		err = sl->no_bind;
	else if (sl->pu != DQ__PIN_UNBOUND)
		err = dq__bind_thread(l->topo, sl->pu);
	else if (l->cfg.pin != DQ_PIN_NONE && !l->planned)
		err = DQ_EPIN;
	/* relaxed: one word for dq_learner_agent_cpus(), which orders
	 * nothing else by it */
	dq__store_u32(&sl->cpu,
		      sl->pu != DQ__PIN_UNBOUND && !err ? sl->pu
							: DQ__PIN_UNBOUND,
		      memory_order_relaxed);
	return err;
}

/* Wait until the run has created every agent (or stopped creating). */
static void
agent_wait_gate(dq_learner *l)
{
	pthread_mutex_lock(&l->mu);
	while (!l->gate_open)
		pthread_cond_wait(&l->gate, &l->mu);
	pthread_mutex_unlock(&l->mu);
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
	/* Nor is anything chosen in it carried over (SARSA's next action,
	 * the cached greedy action), and the schedules restart from their
	 * clocks in closed form, not from the values summed step by step
	 * (which differ in the last bits): a learner restored from a
	 * checkpoint (its clocks) starts the same way, and continues
	 * exactly as this one. */
	ag->next_state = DQ__NO_STATE;
	dq__sched_seek(&ag->alpha, ag->alpha.clock);
	dq__sched_seek(&ag->epsilon, ag->epsilon.clock);
	if (sl->l->cfg.max_episodes > 0 && !claim_episode(sl->l))
		return 0;
	err = dq__env_inst_reset(&sl->inst, &ag->rng, &sl->pos.s);
	if (err) {
		*what = "reset";
		return err;
	}
	if (ag->tg)
		return agent_loop_tiles(sl, what);
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

	sl->pin_err = agent_bind(sl);
	if (sl->pin_err && l->cfg.pin_strict) {
		record_error(sl, DQ_EPIN, "pin");
		goto out;
	}
	agent_wait_gate(l);
	/* An agent started after a stop leaves at once. */
	if (stopping(l))
		goto out;
	/* Replica mode: hold no row copied before this run (the previous
	 * run ended with a write-back, so this is normally a no-op). */
	err = dq__agent_sync(&sl->ag);
	if (!err) {
		/* The automatic write path starts each run direct, or
		 * windowed on a small table (the prior): the rule decides
		 * from this run's measurements (lib/writepath.h). */
		if (sl->wp_auto) /* written back just above: cannot fail */
			(void)dq__agent_set_window(&sl->ag, sl->wp_prior);
		wp_mark(sl);
		sl->wp_run0 = sl->ag.steps;
		sl->wp_probe = (dq__wp_probe){.prior = sl->wp_prior};
		if (sl->ag.share)
			dq__share_begin(&sl->ag, now_ns());
		err = agent_loop(sl, &what);
	} else {
		what = "sync";
	}
	/* The n-step rules: the episode the stop cut writes its pending
	 * updates as a truncation's (the next run starts a new one). */
	if (!err) {
		err = dq__agent_flush(&sl->ag);
		what = "update";
	}
	if (err)
		record_error(sl, err, what);
	/* Replica mode: what this agent learned reaches the shared table
	 * before the run returns (a no-op otherwise). */
	err = dq__agent_sync(&sl->ag);
	if (err)
		record_error(sl, err, "sync");
	/* A sync policy: what this agent learned reaches the shared table
	 * too (a push, no pull) */
	if (sl->ag.share && (err = dq__share_push(&sl->ag)) != 0)
		record_error(sl, err, "sync");
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

			/* Stop first, then count: the others then take at
			 * most the chunk they are in (and one they had not
			 * published) past the count, even when this thread is
			 * preempted in between (it was, under ASan on two
			 * cores: thousands of steps). The count may include
			 * a few steps made after the check, never miss one. */
			request_stop(l, DQ_STOP_TARGET);
			l->target_frac = frac;
			l->target_seconds =
			    (double)(now_ns() - l->t0_ns) * 1e-9;
			l->target_steps = learner_totals(l, &tot);
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

/*
 * Sleep until @deadline (CLOCK_MONOTONIC seconds) or until an agent ends.
 * A deadline further than MAX_WAIT away is cut to that (the caller wakes
 * and sleeps again), so that its seconds always fit a time_t.
 */
static void
wait_until(dq_learner *l, double deadline, double now)
{
	struct timespec ts;
	double whole;

	if (!(deadline < now + MAX_WAIT))
		deadline = now + MAX_WAIT;
	whole = floor(deadline);
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

/* What the monitor keeps between its wake-ups. */
struct watch {
	double t0;	      /* run start, seconds */
	double next_progress; /* when progress and should_stop are due */
	double last_t;	      /* the previous progress report */
	uint64_t last_steps;
	uint64_t due_ns; /* agent 0's next duty (caller_watch()), ns */
};

/*
 * One evaluation (dq_learner_config.eval_every), on the monitor's thread:
 * the totals first, then the snapshot, so that the snapshot holds at least
 * the steps the record names. Returns the environment's error, if any.
 */
static int
evaluate(dq_learner *l, double t0, bool final, dq_eval_record *r)
{
	dq_stats tot;
	double t1;
	int err;

	memset(r, 0, sizeof(*r));
	r->index = l->eval_index++;
	r->final = final;
	/* During the run, the monitor's read (never waits for an agent);
	 * after it, the exact one. */
	r->run_steps = totals(l, &tot, !final);
	r->steps = tot.steps;
	r->episodes = tot.episodes;
	r->epsilon = tot.epsilon;
	r->alpha = tot.alpha;
	t1 = now_seconds();
	r->seconds = t1 - t0;
	err = dq__eval_run(l->eval, l->table, r);
	r->eval_seconds = now_seconds() - t1;
	return err;
}

/*
 * The evaluator's turn at time @now (seconds since the run began: @run_t):
 * evaluate when due, hand the record over, stop at target_return. The next
 * evaluation in seconds is due eval_every after this one ends, so that
 * evaluations take at most C / (C + eval_every) of the monitor's core
 * however slow each one (C) is.
 */
static void
eval_poll(dq_learner *l, double t0, double now)
{
	const dq_learner_config *c = &l->cfg;
	dq_eval_record r;
	dq_stats tot;
	uint64_t run;
	double at;
	int err;

	if (c->eval_unit == DQ_EVAL_SECONDS && now - t0 < l->eval_next)
		return;
	run = totals(l, &tot, true);
	if (c->eval_unit != DQ_EVAL_SECONDS) {
		at = c->eval_unit == DQ_EVAL_STEPS
			 ? (double)run
			 : (double)(tot.episodes - l->episodes0);
		if (at < l->eval_next)
			return;
	}
	/* Every agent has taken its last step (each stops at its share of
	 * max_steps, or has ended): the final evaluation, always made, reads
	 * this same table, and a periodic one now would repeat its row. */
	if ((c->max_steps && run >= c->max_steps) || !active_agents(l))
		return;
	err = evaluate(l, t0, false, &r);
	if (err) {
		/* The evaluator is agent P in the error's report. */
		set_error(l, l->n, 0, err, "evaluate");
		return;
	}
	if (c->eval_unit == DQ_EVAL_SECONDS)
		l->eval_next = now_seconds() - t0 + c->eval_every;
	else
		l->eval_next = (c->eval_unit == DQ_EVAL_STEPS
				    ? (double)r.run_steps
				    : (double)(r.episodes - l->episodes0)) +
			       c->eval_every;
	if (!isnan(c->target_return) && r.mean_return >= c->target_return &&
	    isnan(l->return_seconds)) {
		request_stop(l, DQ_STOP_RETURN);
		l->return_seconds = r.seconds;
		l->return_steps = r.run_steps;
	}
	if (c->eval_callback)
		c->eval_callback(&r, c->eval_arg);
}

/*
 * The monitor's duties at time @now: the time budget, and progress and
 * should_stop when due. Cheap when nothing is due, so that the run can
 * make these checks between thread creations too: limits and Ctrl-C
 * (should_stop) hold from the moment a run starts.
 */
static void
watch_poll(dq_learner *l, struct watch *w, double now)
{
	const dq_learner_config *c = &l->cfg;

	if (c->max_seconds > 0.0 && now - w->t0 >= c->max_seconds)
		request_stop(l, DQ_STOP_TIME);
	if (now >= w->next_progress) {
		dq_progress p;

		/* First, as it reads no agent's record: a Ctrl-C is seen
		 * however busy the cores are. Not once a stop is under way
		 * (as documented): its answer could change nothing. */
		if (c->should_stop && !stopping(l) &&
		    c->should_stop(c->should_stop_arg))
			request_stop(l, DQ_STOP_CALLBACK);
		uint64_t run;

		memset(&p, 0, sizeof(p));
		run = totals(l, &p.total, true);
		p.seconds = now - w->t0;
		p.steps_per_second =
		    (double)(run - w->last_steps) / (now - w->last_t);
		/* relaxed: a number; see check_target() */
		p.target_fraction = dq__u2d(
		    dq__load_u64(&l->last_fraction, memory_order_relaxed));
		w->last_t = now;
		w->last_steps = run;
		if (c->progress)
			c->progress(&p, c->progress_arg);
		w->next_progress = now + c->progress_interval;
	}
	if (l->eval && !stopping(l))
		eval_poll(l, w->t0, now);
}

/* When the monitor's next duty is due (seconds): progress and
 * should_stop, the time budget, an evaluation. */
static double
watch_deadline(dq_learner *l, const struct watch *w, double now)
{
	const dq_learner_config *c = &l->cfg;
	double deadline = w->next_progress;

	if (c->max_seconds > 0.0 && !stopping(l) &&
	    w->t0 + c->max_seconds < deadline)
		deadline = w->t0 + c->max_seconds;
	if (l->eval && !stopping(l)) {
		double e = c->eval_unit == DQ_EVAL_SECONDS
			       ? w->t0 + l->eval_next
			       : now + EVAL_POLL;

		if (e < deadline)
			deadline = e;
	}
	return deadline;
}

/*
 * The monitor: wakes for progress and the time budget, or when an agent
 * ends; returns when every agent has ended. Once the run is stopping the
 * time budget no longer sets a wake-up (it has passed, and waking for it
 * again would be a busy loop while the agents finish their chunks).
 * (Target checks are the agents', see check_target().)
 */
static void
monitor(dq_learner *l, struct watch *w)
{
	while (active_agents(l)) {
		double now = now_seconds();

		wait_until(l, watch_deadline(l, w, now), now);
		watch_poll(l, w, now_seconds());
	}
}

/*
 * Agent 0's duties as the monitor, between its chunks (it runs on the
 * thread that called dq_learner_run(), which is the monitor's): the same
 * watch_poll() when due. @now: the chunk's end, ns.
 */
static void
caller_watch(slot *sl, uint64_t now)
{
	struct watch *w = sl->watch;
	double next;

	if (now < w->due_ns)
		return;
	watch_poll(sl->l, w, (double)now * 1e-9);
	next = watch_deadline(sl->l, w, now_seconds());
	/* past 2^63 ns (292 years) is never */
	w->due_ns = next < 9.2e9 ? (uint64_t)(next * 1e9) : UINT64_MAX;
}

/*
 * Agent 0, on the thread that called dq_learner_run(), once the others'
 * threads are created: it starts without a thread to create or a core to
 * wake, the fixed cost of a short run (bench/machine_probe: a pinned
 * thread's start and join about 60 us, a parked thread's wake-up about 75
 * us on the 2-core VM; cliffwalking reaches its target in 0.25-0.4 ms),
 * and a one-agent run creates no thread at all. Between its chunks it
 * makes the monitor's duties (caller_watch()); once it ends, the monitor()
 * loop waits for the others. Not with an evaluator (dq_learner_run()).
 * Bound to its PU like any agent, the calling thread gets its own binding
 * back afterwards; when that binding cannot be read (to restore it),
 * agent 0 runs unbound, reported as a pin failure of agent 0.
 */
static void
caller_agent(dq_learner *l, struct watch *w)
{
	slot *sl = l->slots[0];
	void *saved = NULL;
	int err = 0;

	if (sl->pu != DQ__PIN_UNBOUND)
		err = dq__topo_save_binding(l->topo, &saved);
	/* Not this machine (a synthetic topology): the binding has no effect
	 * either, so there is nothing to restore. */
	sl->no_bind = err == DQ_ENOTHISSYS ? 0 : err;
	/* What is due before agent 0's first step (should_stop, a time
	 * budget already spent): start_agents() polled only between thread
	 * creations, and a one-agent run creates none. */
	watch_poll(l, w, now_seconds());
	w->due_ns = 0; /* then at the first chunk's end */
	sl->watch = w;
	(void)agent_main(sl);
	sl->watch = NULL;
	sl->no_bind = 0;
	(void)dq__topo_restore_binding(l->topo, saved);
}

/*
 * Start the agents' threads (@first to P - 1), one by one, making the
 * monitor's checks between creations: with many more threads than cores,
 * or a slow pthread_create (sanitizers), creating them can take longer
 * than the time budget. Creation stops at the first stop request; the agents
 * created wait at the gate, which opens when creation ends, so that they
 * do not compete with the creating thread for the cores. Returns how many
 * agents will run, agent 0 included when @first is 1 (the calling
 * thread's, caller_agent()), and *err when a thread could not be
 * started.
 */
static uint32_t
start_agents(dq_learner *l, struct watch *w, uint32_t first, int *err)
{
	uint32_t started = first; /* 1: agent 0 is the caller's */

	pthread_mutex_lock(&l->mu);
	l->gate_open = false;
	pthread_mutex_unlock(&l->mu);
	for (; started < l->n; started++) {
		int e;

		watch_poll(l, w, now_seconds());
		if (stopping(l))
			break;
		e = dq__thread_create(&l->slots[started]->thread, NULL,
				      agent_main, l->slots[started]);
		if (e) {
			*err = -EAGAIN;
			set_error(l, started, 0, *err, "thread");
			break;
		}
	}
	pthread_mutex_lock(&l->mu);
	/* The agents never started will not end: the monitor counts only
	 * those that will. */
	l->n_active -= l->n - started;
	l->gate_open = true;
	pthread_cond_broadcast(&l->gate);
	pthread_mutex_unlock(&l->mu);
	return started;
}

int
dq_learner_run(dq_learner *l, dq_run_result *result)
{
	dq_run_result res;
	uint32_t started = 0;
	bool caller;
	struct watch w;
	double t0;
	int err = 0;

	if (!l)
		return -EINVAL;
	/* acquire: pairs with the release that ended the previous run. From
	 * here on a stop request is this run's (see request_stop()). */
	if (!dq__cas_strong_int(&l->stop, STOP_IDLE, 0, memory_order_acquire,
				memory_order_relaxed))
		return -EBUSY;
	memset(&res, 0, sizeof(res));
	res.target_fraction = NAN;
	res.target_seconds = NAN;
	memset(&l->err, 0, sizeof(l->err));
	/* relaxed (this and the next one): no agent thread exists yet,
	 * and pthread_create publishes these resets to the threads */
	dq__store_int(&l->err_set, 0, memory_order_relaxed);
	/* relaxed: as above */
	dq__store_u64(&l->tickets, 0, memory_order_relaxed);
	assign_quotas(l);
	l->n_active = l->n;
	/* The target starts each run as a copy of the table (a resumed run's
	 * too: checkpoints do not hold it), its clock at 0. */
	if (l->target)
		dq__target_reset(l->target, l->table);
	for (uint32_t i = 0; i < l->n; i++)
		dq__ext_run_start(&l->slots[i]->ag);
	if (l->wp_pool.pub) /* no agent runs */
		dq__wp_pool_reset(&l->wp_pool);

	/* Counters continue across runs (and from restored agents): this
	 * run's rates and step counts are measured from here, per agent. */
	for (uint32_t i = 0; i < l->n; i++) {
		l->slots[i]->steps0 = l->slots[i]->ag.steps;
		if (l->slots[i]->ag.share) {
			l->slots[i]->share_pushes0 =
			    l->slots[i]->ag.share->pushes;
			l->slots[i]->share_entries0 =
			    l->slots[i]->ag.share->entries;
		}
		/* no agent runs: a whole record at once */
		slot_read_raw(l->slots[i], l->slots[i]->seen);
	}
	l->target_seconds = NAN;
	l->target_steps = 0;
	l->target_held = false;
	/* The first evaluation is due at once: a curve starts from the table
	 * the run starts with. */
	l->eval_index = 0;
	l->eval_next = 0.0;
	l->return_seconds = NAN;
	l->return_steps = 0;
	{
		dq_stats tot;

		(void)learner_totals(l, &tot);
		l->episodes0 = tot.episodes;
	}
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
	w.t0 = t0;
	w.next_progress = t0 + l->cfg.progress_interval;
	w.last_t = t0;
	w.last_steps = 0; /* this run's steps */
	/* Agent 0 on the calling thread, unless an evaluator runs: its
	 * greedy episodes would pause agent 0, where a thread of their own
	 * overlaps them with the agents (on an idle core, for free). */
	caller = l->eval == NULL && dq__learner_caller_agent;
	started = start_agents(l, &w, caller ? 1 : 0, &err);
	if (caller)
		caller_agent(l, &w);
	monitor(l, &w);
	for (uint32_t i = caller ? 1 : 0; i < started; i++)
		pthread_join(l->slots[i]->thread, NULL);
	res.seconds = now_seconds() - t0;

	res.run_steps = learner_totals(l, &res.total);
	/* Every agent ended on its own when nobody asked it to stop: its
	 * step quota, or no episode left to claim (claims past the budget
	 * push the counter beyond it). The CAS also ends the run for stop
	 * requests: one made from here on finds the word non-zero and has
	 * no effect. relaxed: the joins above order what the agents wrote;
	 * the word's own order decides which request came first. */
	res.reason = l->cfg.max_episodes &&
			     /* relaxed: after the joins */
			     dq__load_u64(&l->tickets, memory_order_relaxed) >
				 l->cfg.max_episodes
			 ? DQ_STOP_EPISODES
			 : DQ_STOP_STEPS;
	/* relaxed/relaxed: ordered by the joins; see the comment above */
	if (!dq__cas_strong_int(&l->stop, 0, (int)res.reason,
				memory_order_relaxed, memory_order_relaxed))
		/* relaxed: only this thread changes a non-zero word */
		res.reason = (dq_stop_reason)dq__load_int(&l->stop,
							  memory_order_relaxed);
	for (uint32_t i = 0; i < started; i++) {
		const dq__share *sh = l->slots[i]->ag.share;

		if (sh) { /* ordered by the joins */
			res.share_pushes +=
			    sh->pushes - l->slots[i]->share_pushes0;
			res.share_entries +=
			    sh->entries - l->slots[i]->share_entries0;
		}
	}
	for (uint32_t i = 0; i < started; i++)
		if (l->slots[i]->pin_err) {
			if (!res.pin_failures)
				res.pin_error = l->slots[i]->pin_err;
			res.pin_failures++;
		}
	/* The agents' target fields: ordered by the joins above. A run that
	 * found the target keeps the values that check read in check_q, for
	 * dq_learner_target_table(); the shared table stays as its writers
	 * left it (other learners and the caller's own agents may write it
	 * too, and loading the copy back would erase their updates). */
	res.target_seconds = l->target_seconds;
	res.target_steps = l->target_steps;
	/* The final evaluation: no agent runs, so its snapshot is exact. It
	 * is made even after an error or a stop, and counts for no stop. */
	if (l->eval) {
		dq_eval_record r;
		int e = evaluate(l, t0, true, &r);

		if (e)
			set_error(l, l->n, 0, e, "evaluate");
		else if (l->cfg.eval_callback)
			l->cfg.eval_callback(&r, l->cfg.eval_arg);
	}
	res.return_seconds = l->return_seconds;
	res.return_steps = l->return_steps;
	if (l->cfg.target_fraction > 0.0 && !isnan(l->target_seconds)) {
		l->target_held = true;
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
	dq__store_int(&l->stop, STOP_IDLE, memory_order_release);
	return err;
}

int
dq_learner_target_table(const dq_learner *l, double *q, size_t n)
{
	size_t nq;

	if (!l || !q)
		return -EINVAL;
	nq = (size_t)l->table->n_states * l->table->n_actions;
	if (n < nq)
		return -EINVAL;
	/* acquire: pairs with the release store of STOP_IDLE ending the last
	 * run, after which check_q and target_held no longer change */
	if (dq__load_int(&l->stop, memory_order_acquire) != STOP_IDLE)
		return -EBUSY;
	if (!l->target_held)
		return -ENOENT;
	memcpy(q, l->check_q, nq * sizeof(double));
	return 0;
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
	unsigned cpu;

	if (!l || (!pus && cap))
		return -EINVAL;
	if (i >= l->n)
		return -ERANGE;
	/* relaxed: one word, written by the agent when it binds */
	cpu = dq__load_u32(&l->slots[i]->cpu, memory_order_relaxed);
	if (cpu == DQ__PIN_UNBOUND)
		return 0;
	if (cap)
		pus[0] = cpu;
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
	    !DQ__RESERVED_ZERO(st) ||
	    !(st->alpha_clock >= 0.0 && isfinite(st->alpha_clock)) ||
	    !(st->epsilon_clock >= 0.0 && isfinite(st->epsilon_clock)))
		return -EINVAL;
	/* A counter that a run could carry past 2^64 - 1 is refused: from
	 * below 2^63, 2^63 more steps (centuries) are needed to wrap. */
	if ((st->steps | st->episodes | st->cas_retries) >> 63)
		return -ERANGE;
	/* relaxed: a hint only; the caller promises no concurrent run */
	if (dq__load_int(&l->stop, memory_order_relaxed) != STOP_IDLE)
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

dq_table *
dq__learner_table(const dq_learner *l)
{
	return l->table;
}

const dq_agent_config *
dq__learner_agent_config(const dq_learner *l)
{
	return &l->cfg.agent;
}

uint32_t
dq__learner_size(const dq_learner *l)
{
	return l->n;
}

struct dq_agent *
dq__learner_agent(const dq_learner *l, uint32_t i)
{
	return &l->slots[i]->ag;
}

bool
dq__learner_idle(const dq_learner *l)
{
	/* relaxed: a hint, as in dq_learner_set_agent_state(); the caller
	 * promises no run starts meanwhile */
	return dq__load_int(&l->stop, memory_order_relaxed) == STOP_IDLE;
}
