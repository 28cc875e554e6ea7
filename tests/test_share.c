/*
 * Sync policies (lib/share.c): the DistQL blend and its eta bookkeeping on
 * hand-computed values, ALL against Partial adoption, the average, no
 * lost blend under contention in cas mode, and the learner's use of them.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "dq_test.h"
#include "agent.h"
#include "jet.h"
#include "share.h"

/* |x - y| <= tol, saying both when not (cmocka 1.1 has no double
 * assertion). */
#define assert_double_equal(x, y, tol) near_at((x), (y), (tol), __LINE__)

static void
near_at(double x, double y, double tol, int line)
{
	if (!(fabs(x - y) <= tol))
		fail_msg("line %d: %.17g is not %.17g (tolerance %g)", line, x,
			 y, tol);
}

static double
chan(const dq_table *t, uint32_t s, uint32_t a, uint32_t ch)
{
	double v;

	assert_int_equal(dq_table_channel_get(t, ch, s, a, &v), 0);
	return v;
}

/* The blend, three times on one entry, in each discipline:
 *  1. Q_c 0, eta_c fresh (0.5); q_i 1, eta_i 0.5: e 0.5, w 0.5:
 *     Q_c 0.5, eta_c 0.4995.
 *  2. q_i 2, eta_i 0.25: e = min(0.4995, 0.25) = 0.25, w = 0.25:
 *     Q_c = 0.5 + 0.25 x 1.5 = 0.875, eta_c = 0.24975.
 *  3. q_i -1, eta_i 0.5: e = 0.24975, w = 0.24975^2 / 0.5 = 0.124750125:
 *     Q_c = 0.875 - 0.124750125 x 1.875 = 0.641093515625,
 *     eta_c = 0.24975 x 0.999 = 0.24950025. */
static void
test_blend_equation(void **state)
{
	const dq_mode modes[] = {DQ_MODE_CAS, DQ_MODE_HOGWILD, DQ_MODE_LOCKED};

	(void)state;
	for (size_t m = 0; m < 3; m++) {
		dq_table *t = dq_test_table_ch(1, 2, modes[m], 2, false);

		assert_true(dq__table_blend_as(t, modes[m], 0, 1, 1, 1.0, 0.5,
					       0.5, 0.999) >= 0);
		assert_double_equal(chan(t, 0, 1, 0), 0.5, 1e-15);
		assert_double_equal(chan(t, 0, 1, 1), 0.4995, 1e-15);
		assert_true(dq__table_blend_as(t, modes[m], 0, 1, 1, 2.0, 0.25,
					       0.5, 0.999) >= 0);
		assert_double_equal(chan(t, 0, 1, 0), 0.875, 1e-15);
		assert_double_equal(chan(t, 0, 1, 1), 0.24975, 1e-15);
		assert_true(dq__table_blend_as(t, modes[m], 0, 1, 1, -1.0, 0.5,
					       0.5, 0.999) >= 0);
		assert_double_equal(chan(t, 0, 1, 0), 0.641093515625, 1e-14);
		assert_double_equal(chan(t, 0, 1, 1), 0.24950025, 1e-15);
		/* the other entry untouched: value 0, eta_c fresh (0) */
		assert_double_equal(chan(t, 0, 0, 0), 0.0, 0.0);
		assert_double_equal(chan(t, 0, 0, 1), 0.0, 0.0);
		dq_table_destroy(t);
	}
}

static dq_agent_config
study_agent(void)
{
	dq_agent_config c;

	dq_agent_config_init(&c);
	c.gamma = 0.9;
	c.epsilon.start = c.epsilon.end = 0.1;
	return c;
}

/* Local learning with eta, then a push: the hand-computed values. */
static void
test_distql_eta(void **state)
{
	dq_table *c = dq_test_table_ch(2, 2, DQ_MODE_CAS, 2, false);
	dq_agent_config ac = study_agent();
	dq_share_config sc;
	dq_agent *ag;
	double e2 = 0.5 * 0.999 * 0.999, q, e, w;

	(void)state;
	assert_int_equal(dq_share_config_init(&sc, DQ_SHARE_DISTQL), 0);
	sc.interval = 2;
	assert_int_equal(dq_agent_share_create(&ag, c, &ac, &sc, 1), 0);
	/* eta 0.5, then 0.4995: Q 0.5, then 0.5 + 0.4995 x 0.5 */
	assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, 0, true), 0);
	assert_double_equal(dq__table_get(ag->table, 0, 0), 0.5, 1e-15);
	assert_int_equal(dq_agent_share(ag, false), 0); /* 1 episode of 2 */
	assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, 0, true), 0);
	q = 0.5 + 0.4995 * 0.5;
	assert_double_equal(dq__table_get(ag->table, 0, 0), q, 1e-15);
	/* epsilon decays per episode: 0.1 x 0.999^2 */
	assert_double_equal(ag->epsilon.value, 0.1 * 0.999 * 0.999, 1e-15);
	/* the central table has seen nothing yet */
	assert_double_equal(chan(c, 0, 0, 0), 0.0, 0.0);
	assert_int_equal(dq_agent_share(ag, false), 1); /* due: 2 episodes */
	/* e = min(0.5 fresh, eta_i = 0.5 x 0.999^2) = eta_i, w = e */
	e = e2;
	w = e * e / e2;
	assert_double_equal(chan(c, 0, 0, 0), w * q, 1e-15);
	assert_double_equal(chan(c, 0, 0, 1), e * 0.999, 1e-15);
	/* only the entry it updated was pushed */
	assert_int_equal(ag->share->entries, 1);
	assert_double_equal(chan(c, 1, 1, 1), 0.0, 0.0);
	/* ALL: its local value is the central one now; its eta is its own:
	 * the next update of (0,0) steps by 0.5 x 0.999^2 */
	assert_double_equal(dq__table_get(ag->table, 0, 0), w * q, 1e-15);
	assert_int_equal(dq_agent_observe(ag, 0, 0, 1.0, 0, true), 0);
	assert_double_equal(dq__table_get(ag->table, 0, 0),
			    w * q + e2 * (1.0 - w * q), 1e-15);
	/* nothing new: a forced push blends that one entry again */
	assert_int_equal(dq_agent_share(ag, true), 1);
	assert_int_equal(ag->share->entries, 2);
	dq_agent_destroy(ag);
	dq_table_destroy(c);
}

/* Two agents, A updates (0,0), B (1,1); B pushes, then A. ALL: A adopts
 * B's (1,1) too; Partial: A adopts only its own (0,0). Both keep their
 * local counts (eta). */
static void
adoption(bool partial)
{
	dq_table *c = dq_test_table_ch(2, 2, DQ_MODE_CAS, 2, false);
	dq_agent_config ac = study_agent();
	dq_share_config sc;
	dq_agent *a, *b;

	dq_share_config_init(&sc, DQ_SHARE_DISTQL);
	if (partial)
		sc.flags |= DQ_SHARE_PARTIAL;
	assert_int_equal(dq_agent_share_create(&a, c, &ac, &sc, 2), 0);
	assert_int_equal(dq_agent_share_create(&b, c, &ac, &sc, 2), 0);
	assert_int_equal(dq_agent_observe(a, 0, 0, 1.0, 0, true), 0);
	assert_int_equal(dq_agent_observe(b, 1, 1, 4.0, 0, true), 0);
	assert_int_equal(dq_agent_share(b, true), 1);
	/* B: eta_i 0.4995 after one update, Q_i 2: w = 0.4995 */
	assert_double_equal(chan(c, 1, 1, 0), 0.4995 * 2.0, 1e-15);
	assert_int_equal(dq_agent_share(a, true), 1);
	assert_double_equal(chan(c, 0, 0, 0), 0.4995 * 0.5, 1e-15);
	assert_double_equal(dq__table_get(a->table, 0, 0), 0.4995 * 0.5, 1e-15);
	assert_double_equal(dq__table_get(a->table, 1, 1),
			    partial ? 0.0 : 0.4995 * 2.0, 1e-15);
	/* B pulled before A pushed: it has not seen (0,0) */
	assert_double_equal(dq__table_get(b->table, 0, 0), 0.0, 0.0);
	/* eta is local: A's counts are its own updates only */
	{
		uint64_t n;

		assert_int_equal(dq_table_visits_get(a->table, 0, 0, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(dq_table_visits_get(a->table, 1, 1, &n), 0);
		assert_int_equal(n, 0);
	}
	dq_agent_destroy(a);
	dq_agent_destroy(b);
	dq_table_destroy(c);
}

static void
test_distql_all(void **state)
{
	(void)state;
	adoption(false);
}

static void
test_distql_partial(void **state)
{
	(void)state;
	adoption(true);
}

/* Averaging, P = 2: A's local (0,0) 0.1, B's 0.3 (alpha 0.1, rewards 1
 * and 3). A pushes: 0.05; a direct addition of 1 meanwhile; B pushes:
 * 1.05 + 0.15 = 1.2: the mean of the two, and the other write kept. */
static void
test_average(void **state)
{
	dq_table *c = dq_test_table_ch(2, 2, DQ_MODE_CAS, 1, false);
	dq_agent_config ac;
	dq_share_config sc;
	dq_agent *a, *b;

	(void)state;
	dq_agent_config_init(&ac);
	dq_share_config_init(&sc, DQ_SHARE_AVERAGE);
	sc.interval = 2;
	assert_int_equal(dq_agent_share_create(&a, c, &ac, &sc, 2), 0);
	assert_int_equal(dq_agent_share_create(&b, c, &ac, &sc, 2), 0);
	assert_int_equal(dq_agent_observe(a, 0, 0, 1.0, 0, true), 0);
	assert_int_equal(dq_agent_share(a, false), 0); /* 1 step of 2 */
	assert_int_equal(dq_agent_observe(b, 0, 0, 3.0, 0, true), 0);
	assert_int_equal(dq_agent_observe(a, 1, 1, 0.0, 0, true), 0);
	assert_int_equal(dq_agent_share(a, false), 1); /* 2 steps */
	assert_double_equal(chan(c, 0, 0, 0), 0.05, 1e-15);
	assert_int_equal(dq__table_apply_as(c, DQ_MODE_CAS, 0, 0,
					    (dq__op){DQ__OP_ADD, 1.0, 0, 0}),
			 0);
	assert_int_equal(dq_agent_share(b, true), 1);
	assert_double_equal(chan(c, 0, 0, 0), 1.2, 1e-15);
	/* each pulled the whole table at its push */
	assert_double_equal(dq__table_get(a->table, 0, 0), 0.05, 1e-15);
	assert_double_equal(dq__table_get(b->table, 0, 0), 1.2, 1e-15);
	/* A's next push adds only what it learned since its pull */
	assert_int_equal(dq_agent_share(a, true), 1);
	assert_double_equal(chan(c, 0, 0, 0), 1.2, 1e-15);
	assert_int_equal(a->share->entries, 1);
	dq_agent_destroy(a);
	dq_agent_destroy(b);
	/* A new agent (a resume: local tables are not in checkpoints)
	 * starts from the shared table, and its first push adds only what
	 * it learns after that. */
	assert_int_equal(dq_agent_share_create(&a, c, &ac, &sc, 2), 0);
	assert_double_equal(dq__table_get(a->table, 0, 0), chan(c, 0, 0, 0),
			    0.0);
	assert_int_equal(dq_agent_share(a, true), 1);
	assert_double_equal(chan(c, 0, 0, 0), 1.2, 1e-15);
	assert_int_equal(a->share->entries, 0);
	dq_agent_destroy(a);
	dq_table_destroy(c);
}

/* No lost blend: threads released together blend q_i = 1 with eta_i = 1
 * into two entries at once. eta_c's claims form one chain,
 * eta_c = eta0 decay^n (the same multiplications in any interleaving:
 * compared exactly), and 1 - Q_c = prod over the claims k of
 * (1 - (eta0 decay^k)^2) (Q_c starts at 0; each blend keeps 1 - w_k of
 * the distance to 1), whatever order the values landed in. A lost claim
 * shows in eta_c; a lost value changes 1 - Q_c by w_k >= 1e-7 relative,
 * far above the rounding of 2 x 10^5 steps (1e-11). */
#define STRESS_THREADS 4
#define STRESS_ENTRIES 2
#define STRESS_ETA 1e-3
#define STRESS_DECAY 0.999995

struct stress {
	dq_table *t;
	unsigned long n;
	pthread_barrier_t go;
};

static void *
stress_main(void *arg)
{
	struct stress *st = arg;

	pthread_barrier_wait(&st->go);
	for (unsigned long i = 0; i < st->n; i++)
		if (dq__table_blend_as(st->t, DQ_MODE_CAS, 0,
				       (uint32_t)(i % STRESS_ENTRIES), 1, 1.0,
				       1.0, STRESS_ETA, STRESS_DECAY) < 0)
			return (void *)1;
	return NULL;
}

/* One round of the stress; test_no_lost_blend runs several, since a lost
 * blend needs two threads inside one race window on one entry: on a busy
 * machine (make mutants runs two at a time) one round once saw none. */
static void
no_lost_blend_round(void)
{
	struct stress st;
	pthread_t th[STRESS_THREADS];
	unsigned long per = 20000 * dq_test_stress(), n;
	double eta = STRESS_ETA, keep = 1.0;

	st.t = dq_test_table_ch(1, STRESS_ENTRIES, DQ_MODE_CAS, 2, false);
	st.n = per * STRESS_ENTRIES;
	assert_int_equal(pthread_barrier_init(&st.go, NULL, STRESS_THREADS), 0);
	/* every 7th pass through a race window yields (lib/jet.h) */
	dq__store_u32(&dq__jet_race_period, 7, memory_order_relaxed);
	for (int i = 0; i < STRESS_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, stress_main, &st),
				 0);
	for (int i = 0; i < STRESS_THREADS; i++) {
		void *r;

		pthread_join(th[i], &r);
		assert_null(r);
	}
	dq__store_u32(&dq__jet_race_period, 0, memory_order_relaxed);
	pthread_barrier_destroy(&st.go);
	n = per * STRESS_THREADS; /* blends per entry */
	for (unsigned long k = 0; k < n; k++) {
		keep *= 1.0 - eta * eta; /* w_k = e_k^2 / eta_i, eta_i = 1 */
		eta *= STRESS_DECAY;
	}
	for (uint32_t a = 0; a < STRESS_ENTRIES; a++) {
		assert_true(chan(st.t, 0, a, 1) == eta);
		assert_double_equal(1.0 - chan(st.t, 0, a, 0), keep,
				    1e-9 * keep);
	}
	dq_table_destroy(st.t);
}

static void
test_no_lost_blend(void **state)
{
	(void)state;
	for (int round = 0; round < 5; round++)
		no_lost_blend_round();
}

/* The learner: DistQL with P = 1 pushes every tau episodes exactly (and
 * once at the end), and a policy of two agents learns maze4x3. */
static void
learner_run(dq_share_kind kind, uint32_t flags, double interval, uint32_t p,
	    uint64_t episodes, double target, dq_run_result *res)
{
	dq_env *env;
	dq_table *t;
	dq_learner *l;
	dq_learner_config c;

	dq_env_spec sp;

	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	assert_int_equal(dq_env_spec_get(env, &sp), 0);
	t = dq_test_table_ch(sp.n_states, sp.n_actions, DQ_MODE_CAS,
			     kind == DQ_SHARE_DISTQL ? 2 : 1, false);
	dq_learner_config_init(&c);
	c.n_threads = p;
	c.pin = DQ_PIN_NONE;
	c.max_episodes = episodes;
	c.max_steps = 4000000;
	c.target_fraction = target;
	dq_share_config_init(&c.share, kind);
	c.share.flags = flags;
	c.share.interval = interval;
	if (kind == DQ_SHARE_DISTQL)
		c.agent.gamma = 0.9;
	assert_int_equal(dq_learner_create(&l, t, env, &c), 0);
	assert_int_equal(dq_learner_run(l, res), 0);
	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

static void
test_learner_pushes(void **state)
{
	dq_run_result r;

	(void)state;
	learner_run(DQ_SHARE_DISTQL, 0, 10, 1, 200, 0.0, &r);
	assert_int_equal(r.reason, DQ_STOP_EPISODES);
	assert_int_equal(r.total.episodes, 200);
	/* at episodes 10, 20, ..., 190 (the 200th ends the run), and the
	 * run's final push */
	assert_int_equal(r.share_pushes, 20);
	/* averaging every 100 steps exactly: steps / 100 and the final */
	learner_run(DQ_SHARE_AVERAGE, 0, 100, 1, 200, 0.0, &r);
	assert_int_equal(r.share_pushes, r.run_steps / 100 + 1);
}

static void
test_learner_learns(void **state)
{
	dq_run_result r;

	(void)state;
	learner_run(DQ_SHARE_AVERAGE, 0, 50, 2, 0, 1.0, &r);
	assert_int_equal(r.reason, DQ_STOP_TARGET);
	learner_run(DQ_SHARE_DISTQL, DQ_SHARE_PARTIAL, 10, 2, 0, 0.9, &r);
	assert_int_equal(r.reason, DQ_STOP_TARGET);
}

/* Refusals: the memory bound (-ERANGE, before any allocation), the eta
 * channel, a replica window, bad parameters. */
static void
test_refusals(void **state)
{
	dq_env *env;
	dq_table *t;
	dq_learner *l = NULL;
	dq_learner_config c;
	dq_share_config sc;
	dq_agent *ag = NULL;
	dq_agent_config ac;
	dq_env_spec sp;
	size_t bytes;

	(void)state;
	/* 4096 x 64 entries x 24 bytes x 4096 agents: 24 GiB */
	t = dq_test_table_ch(4096, 64, DQ_MODE_CAS, 2, false);
	dq_share_config_init(&sc, DQ_SHARE_DISTQL);
	assert_int_equal(dq_share_local_bytes(t, &sc, 4096, &bytes), 0);
	assert_true(bytes == (size_t)24 << 30);
	dq_agent_config_init(&ac);
	assert_int_equal(dq_agent_share_create(&ag, t, &ac, &sc, 4096),
			 -ERANGE);
	assert_non_null(strstr(dq_error_detail(), "DQ_SHARE_MAX_BYTES"));
	assert_null(ag);
	dq_table_destroy(t);

	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	assert_int_equal(dq_env_spec_get(env, &sp), 0);
	t = dq_test_table_ch(sp.n_states, sp.n_actions, DQ_MODE_CAS, 1, false);
	dq_learner_config_init(&c);
	c.max_steps = 10;
	dq_share_config_init(&c.share, DQ_SHARE_DISTQL);
	assert_int_equal(dq_learner_create(&l, t, env, &c), DQ_ERULE);
	c.share.kind = DQ_SHARE_AVERAGE;
	c.share.flags = 0;
	c.agent.sync_every = 8;
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	c.agent.sync_every = 0;
	c.share.interval = 0.5; /* steps: whole */
	assert_int_equal(dq_learner_create(&l, t, env, &c), -EINVAL);
	assert_null(l);
	dq_table_destroy(t);
	dq_env_close(env);

	assert_int_equal(dq_share_parse("distql:tau=50:partial", &sc), 0);
	assert_int_equal(sc.kind, DQ_SHARE_DISTQL);
	assert_true(sc.interval == 50 && (sc.flags & DQ_SHARE_PARTIAL));
	assert_true(sc.eta == 0.5 && sc.decay == 0.999);
	assert_int_equal(dq_share_parse("average:seconds=0.5", &sc), 0);
	assert_true((sc.flags & DQ_SHARE_SECONDS) && sc.interval == 0.5);
	assert_int_equal(dq_share_parse("distql:eta=2", &sc), -EINVAL);
	assert_int_equal(dq_share_parse("average:partial", &sc), -EINVAL);
	assert_int_equal(dq_share_parse("gossip", &sc), -ENOENT);
	assert_string_equal(dq_share_name(DQ_SHARE_AVERAGE), "average");
}

/* dq_share_number(): the values of --share and dq_mpi_config_parse(). */
static void
test_share_number(void **state)
{
	char sfx[4] = "?";
	double x = -1.0;

	(void)state;
	assert_int_equal(dq_share_number("2.5s", 4, 0, 10, &x, sfx), 0);
	assert_true(x == 2.5 && !strcmp(sfx, "s"));
	assert_int_equal(dq_share_number("10ep,x", 4, 0, 10, &x, sfx), 0);
	assert_true(x == 10.0 && !strcmp(sfx, "ep"));
	assert_int_equal(dq_share_number("0.01", 4, 0.01, 1e6, &x, NULL), 0);
	assert_true(x == 0.01);
	assert_int_equal(dq_share_number("7", 1, 0, 10, &x, sfx), 0);
	assert_true(x == 7.0 && !strcmp(sfx, ""));
	x = -1.0;
	/* Each refused, *out unchanged. */
	assert_int_equal(dq_share_number("2s", 2, 0, 10, &x, NULL), -EINVAL);
	assert_int_equal(dq_share_number("2abcd", 5, 0, 10, &x, sfx), -EINVAL);
	assert_int_equal(dq_share_number("11", 2, 0, 10, &x, NULL), -EINVAL);
	assert_int_equal(dq_share_number("0.001", 5, 0.01, 1, &x, NULL),
			 -EINVAL);
	assert_int_equal(dq_share_number("inf", 3, 0, INFINITY, &x, NULL),
			 -EINVAL);
	assert_int_equal(dq_share_number("nan", 3, 0, 10, &x, NULL), -EINVAL);
	assert_int_equal(dq_share_number("s", 1, 0, 10, &x, sfx), -EINVAL);
	assert_int_equal(dq_share_number("0,5", 3, 0, 10, &x, NULL), -EINVAL);
	assert_int_equal(dq_share_number("", 0, 0, 10, &x, NULL), -EINVAL);
	assert_int_equal(dq_share_number("1", 64, 0, 10, &x, NULL), -EINVAL);
	assert_int_equal(dq_share_number(NULL, 1, 0, 10, &x, NULL), -EINVAL);
	assert_int_equal(dq_share_number("1", 1, 0, 10, NULL, NULL), -EINVAL);
	assert_true(x == -1.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_share_number),
	    cmocka_unit_test(test_blend_equation),
	    cmocka_unit_test(test_distql_eta),
	    cmocka_unit_test(test_distql_all),
	    cmocka_unit_test(test_distql_partial),
	    cmocka_unit_test(test_average),
	    cmocka_unit_test(test_no_lost_blend),
	    cmocka_unit_test(test_learner_pushes),
	    cmocka_unit_test(test_learner_learns),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
