/*
 * The ABI promise of the growable structs (distq.h, "Growing structs"):
 * each ends in reserved words that init functions and the library zero,
 * the library refuses non-zero reserved words in what it reads, and the
 * size and every field's offset are the recorded ones for the whole major
 * version. A field added later takes reserved words: update its line here
 * and shorten reserved_, and every other number stays.
 */
#include "dq_test.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Every growable struct ends in its reserved words, on every target. */
#define TAIL(T)                                                                \
	_Static_assert(offsetof(T, reserved_) + sizeof(((T *)0)->reserved_) == \
			   sizeof(T),                                          \
		       #T ": reserved_ is not the tail")
/* The last reserved word of a struct, whatever its count: a test that
 * sets it stays right when a field takes reserved words. */
#define DQ_TEST_NWORDS(v) (sizeof((v).reserved_) / sizeof((v).reserved_[0]))

TAIL(dq_table_config);
TAIL(dq_table_info);
TAIL(dq_env_spec);
TAIL(dq_schedule);
TAIL(dq_agent_config);
TAIL(dq_stats);
TAIL(dq_progress);
TAIL(dq_learner_config);
TAIL(dq_run_error);
TAIL(dq_run_result);
TAIL(dq_eval_record);
TAIL(dq_write_stats);
TAIL(dq_agent_state);
TAIL(dq_solve_config);
TAIL(dq_checkpoint_meta);
TAIL(dq_checkpoint_world);
TAIL(dq_tiles_config);

/* The recorded layout of LP64 targets (x86-64, AArch64 Linux): sizes and
 * offsets of every public struct (the non-growing ones too: they may not
 * change at all). */
#if UINTPTR_MAX == UINT64_MAX && defined(__LP64__)
#define S(T, n) _Static_assert(sizeof(T) == (n), #T ": size changed")
#define O(T, f, n) \
	_Static_assert(offsetof(T, f) == (n), #T "." #f ": offset changed")
S(dq_rng, 32);
O(dq_rng, s, 0);
S(dq_table_config, 64);
O(dq_table_config, n_states, 0);
O(dq_table_config, n_actions, 4);
O(dq_table_config, mode, 8);
O(dq_table_config, q0, 16);
O(dq_table_config, pad_rows, 24);
O(dq_table_config, n_stripes, 28);
O(dq_table_config, channels, 32);
O(dq_table_config, visit_counts, 36);
O(dq_table_config, reserved_, 40);
S(dq_table_info, 64);
O(dq_table_info, n_states, 0);
O(dq_table_info, n_actions, 4);
O(dq_table_info, mode, 8);
O(dq_table_info, row_stride, 16);
O(dq_table_info, bytes, 24);
O(dq_table_info, numa_interleaved, 32);
O(dq_table_info, channels, 36);
O(dq_table_info, visit_counts, 40);
O(dq_table_info, reserved_, 48);
S(dq_env_spec, 64);
O(dq_env_spec, n_states, 0);
O(dq_env_spec, n_actions, 4);
O(dq_env_spec, max_episode_steps, 8);
O(dq_env_spec, max_outcomes, 12);
O(dq_env_spec, reserved_, 16);
S(dq_step, 24);
O(dq_step, next_state, 0);
O(dq_step, reward, 8);
O(dq_step, terminated, 16);
O(dq_step, truncated, 17);
S(dq_outcome, 32);
O(dq_outcome, prob, 0);
O(dq_outcome, next_state, 8);
O(dq_outcome, reward, 16);
O(dq_outcome, terminated, 24);
S(dq_env_param, 48);
O(dq_env_param, key, 0);
O(dq_env_param, type, 8);
O(dq_env_param, def, 16);
O(dq_env_param, min, 24);
O(dq_env_param, max, 32);
O(dq_env_param, help, 40);
S(dq_env_ops, 112);
O(dq_env_ops, abi, 0);
O(dq_env_ops, name, 8);
O(dq_env_ops, open, 16);
O(dq_env_ops, close, 24);
O(dq_env_ops, create, 32);
O(dq_env_ops, destroy, 40);
O(dq_env_ops, reset, 48);
O(dq_env_ops, step, 56);
O(dq_env_ops, outcomes, 64);
O(dq_env_ops, start_probs, 72);
O(dq_env_ops, set_state, 80);
O(dq_env_ops, params, 88);
O(dq_env_ops, success, 96);
O(dq_env_ops, ext, 104);
S(dq_env_ext, 80);
O(dq_env_ext, size, 0);
O(dq_env_ext, obs_dim, 4);
O(dq_env_ext, obs_low, 8);
O(dq_env_ext, obs_high, 16);
O(dq_env_ext, span_low, 24);
O(dq_env_ext, span_high, 32);
O(dq_env_ext, observe, 40);
O(dq_env_ext, reserved, 48);
S(dq_schedule, 64);
O(dq_schedule, kind, 0);
O(dq_schedule, start, 8);
O(dq_schedule, end, 16);
O(dq_schedule, steps, 24);
O(dq_schedule, reserved_, 32);
S(dq_agent_config, 256);
O(dq_agent_config, gamma, 0);
O(dq_agent_config, alpha, 8);
O(dq_agent_config, epsilon, 72);
O(dq_agent_config, seed, 136);
O(dq_agent_config, stream, 144);
O(dq_agent_config, clock_step, 148);
O(dq_agent_config, return_window, 152);
O(dq_agent_config, random_ties, 156);
O(dq_agent_config, sync_every, 160);
O(dq_agent_config, rule, 164);
O(dq_agent_config, omega, 168);
O(dq_agent_config, replay_capacity, 176);
O(dq_agent_config, replay_batch, 180);
O(dq_agent_config, replay_minibatches, 184);
O(dq_agent_config, target_every, 188);
O(dq_agent_config, target_tau, 192);
O(dq_agent_config, tiles, 200);
O(dq_agent_config, policy, 208);
O(dq_agent_config, nstep, 212);
O(dq_agent_config, lambda, 216);
O(dq_agent_config, trace, 224);
O(dq_agent_config, trace_max, 228);
O(dq_agent_config, reserved_, 232);
S(dq_stats, 128);
O(dq_stats, steps, 0);
O(dq_stats, episodes, 8);
O(dq_stats, cas_retries, 16);
O(dq_stats, returns_n, 24);
O(dq_stats, mean_return, 32);
O(dq_stats, epsilon, 40);
O(dq_stats, alpha, 48);
O(dq_stats, reserved_, 56);
S(dq_progress, 256);
O(dq_progress, seconds, 0);
O(dq_progress, total, 8);
O(dq_progress, steps_per_second, 136);
O(dq_progress, target_fraction, 144);
O(dq_progress, final, 152);
O(dq_progress, reserved_, 160);
S(dq_learner_config, 512);
O(dq_learner_config, n_threads, 0);
O(dq_learner_config, agent, 8);
O(dq_learner_config, max_steps, 264);
O(dq_learner_config, max_episodes, 272);
O(dq_learner_config, max_seconds, 280);
O(dq_learner_config, max_episode_steps, 288);
O(dq_learner_config, should_stop, 296);
O(dq_learner_config, should_stop_arg, 304);
O(dq_learner_config, progress, 312);
O(dq_learner_config, progress_arg, 320);
O(dq_learner_config, progress_interval, 328);
O(dq_learner_config, pin, 336);
O(dq_learner_config, pin_pus, 344);
O(dq_learner_config, n_pin_pus, 352);
O(dq_learner_config, pin_strict, 360);
O(dq_learner_config, target_fraction, 368);
O(dq_learner_config, target_interval, 376);
O(dq_learner_config, write_path, 384);
O(dq_learner_config, share, 392);
S(dq_share_config, 32);
O(dq_share_config, kind, 0);
O(dq_share_config, flags, 4);
O(dq_share_config, interval, 8);
O(dq_share_config, eta, 16);
O(dq_share_config, decay, 24);
O(dq_learner_config, eval_every, 424);
O(dq_learner_config, eval_unit, 432);
O(dq_learner_config, eval_episodes, 436);
O(dq_learner_config, eval_callback, 440);
O(dq_learner_config, eval_arg, 448);
O(dq_learner_config, target_return, 456);
O(dq_learner_config, reserved_, 464);
S(dq_run_error, 64);
O(dq_run_error, code, 0);
O(dq_run_error, agent, 4);
O(dq_run_error, step, 8);
O(dq_run_error, what, 16);
O(dq_run_error, reserved_, 24);
S(dq_run_result, 256);
O(dq_run_result, reason, 0);
O(dq_run_result, seconds, 8);
O(dq_run_result, total, 16);
O(dq_run_result, run_steps, 144);
O(dq_run_result, target_fraction, 152);
O(dq_run_result, target_seconds, 160);
O(dq_run_result, target_steps, 168);
O(dq_run_result, pin_failures, 176);
O(dq_run_result, pin_error, 180);
O(dq_run_result, share_pushes, 184);
O(dq_run_result, share_entries, 192);
O(dq_run_result, return_seconds, 200);
O(dq_run_result, return_steps, 208);
O(dq_run_result, reserved_, 216);
S(dq_eval_record, 192);
O(dq_eval_record, index, 0);
O(dq_eval_record, n_episodes, 4);
O(dq_eval_record, seconds, 8);
O(dq_eval_record, steps, 16);
O(dq_eval_record, episodes, 24);
O(dq_eval_record, run_steps, 32);
O(dq_eval_record, mean_return, 40);
O(dq_eval_record, return_se, 48);
O(dq_eval_record, mean_discounted, 56);
O(dq_eval_record, discounted_se, 64);
O(dq_eval_record, exact_value, 72);
O(dq_eval_record, optimal_value, 80);
O(dq_eval_record, gap, 88);
O(dq_eval_record, epsilon, 96);
O(dq_eval_record, alpha, 104);
O(dq_eval_record, eval_seconds, 112);
O(dq_eval_record, final, 120);
O(dq_eval_record, reserved_, 128);
S(dq_write_stats, 64);
O(dq_write_stats, window, 0);
O(dq_write_stats, window_steps, 8);
O(dq_write_stats, mean_window, 16);
O(dq_write_stats, merges, 24);
O(dq_write_stats, moved, 32);
O(dq_write_stats, reserved_, 40);
S(dq_agent_state, 128);
O(dq_agent_state, rng, 0);
O(dq_agent_state, alpha_clock, 32);
O(dq_agent_state, epsilon_clock, 40);
O(dq_agent_state, steps, 48);
O(dq_agent_state, episodes, 56);
O(dq_agent_state, cas_retries, 64);
O(dq_agent_state, reserved_, 72);
S(dq_solve_config, 64);
O(dq_solve_config, gamma, 0);
O(dq_solve_config, tolerance, 8);
O(dq_solve_config, max_sweeps, 16);
O(dq_solve_config, n_threads, 24);
O(dq_solve_config, reserved_, 32);
S(dq_checkpoint_meta, 512);
O(dq_checkpoint_meta, env, 0);
O(dq_checkpoint_meta, params, 64);
O(dq_checkpoint_meta, n_states, 320);
O(dq_checkpoint_meta, n_actions, 324);
O(dq_checkpoint_meta, version, 328);
O(dq_checkpoint_meta, mode, 332);
O(dq_checkpoint_meta, gamma, 336);
O(dq_checkpoint_meta, alpha, 344);
O(dq_checkpoint_meta, epsilon, 352);
O(dq_checkpoint_meta, seed, 360);
O(dq_checkpoint_meta, steps, 368);
O(dq_checkpoint_meta, episodes, 376);
O(dq_checkpoint_meta, seconds, 384);
O(dq_checkpoint_meta, n_agents, 392);
O(dq_checkpoint_meta, channels, 396);
O(dq_checkpoint_meta, visit_counts, 400);
O(dq_checkpoint_meta, has_rule, 401);
O(dq_checkpoint_meta, rule, 404);
O(dq_checkpoint_meta, reserved_, 408);
S(dq_checkpoint_world, 104);
O(dq_checkpoint_world, ranks, 0);
O(dq_checkpoint_world, agents_per_rank, 4);
O(dq_checkpoint_world, policy, 8);
O(dq_checkpoint_world, reserved_, 72);
S(dq_tiles_config, 368);
O(dq_tiles_config, n_tilings, 0);
O(dq_tiles_config, dim, 4);
O(dq_tiles_config, bins, 8);
O(dq_tiles_config, low, 72);
O(dq_tiles_config, high, 200);
O(dq_tiles_config, hash_rows, 328);
O(dq_tiles_config, pad_, 332);
O(dq_tiles_config, reserved_, 336);
#undef S
#undef O
#endif

/* How many reserved words of a struct are non-zero. */
#define NONZERO_RESERVED(s)           \
	nonzero_words((s)->reserved_, \
		      sizeof((s)->reserved_) / sizeof((s)->reserved_[0]))

static size_t
nonzero_words(const uint64_t *w, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += w[i] != 0;
	return k;
}

/* The init functions zero the reserved words, whatever was there. */
static void
test_init_zeroes_reserved(void **state)
{
	dq_table_config tc;
	dq_agent_config ac;
	dq_learner_config lc;
	dq_solve_config sc;

	(void)state;
	memset(&tc, 0xa5, sizeof(tc));
	memset(&ac, 0xa5, sizeof(ac));
	memset(&lc, 0xa5, sizeof(lc));
	memset(&sc, 0xa5, sizeof(sc));
	assert_int_equal(dq_table_config_init(&tc), 0);
	assert_int_equal(dq_agent_config_init(&ac), 0);
	assert_int_equal(dq_learner_config_init(&lc), 0);
	assert_int_equal(dq_solve_config_init(&sc), 0);
	assert_int_equal(NONZERO_RESERVED(&tc), 0);
	assert_int_equal(NONZERO_RESERVED(&ac), 0);
	assert_int_equal(NONZERO_RESERVED(&ac.alpha), 0);
	assert_int_equal(NONZERO_RESERVED(&ac.epsilon), 0);
	assert_int_equal(NONZERO_RESERVED(&lc), 0);
	assert_int_equal(NONZERO_RESERVED(&lc.agent), 0);
	assert_int_equal(NONZERO_RESERVED(&lc.agent.alpha), 0);
	assert_int_equal(NONZERO_RESERVED(&lc.agent.epsilon), 0);
	assert_int_equal(NONZERO_RESERVED(&sc), 0);
}

/* A config whose last reserved word is set (a field of a later version
 * that this library does not know) is refused by everything that reads
 * one; the same config with it cleared is accepted. */
static void
test_nonzero_reserved_refused(void **state)
{
	dq_table_config tc;
	dq_agent_config ac;
	dq_learner_config lc;
	dq_solve_config sc;
	dq_table *t = NULL;
	dq_env *env = NULL;
	dq_learner *l = NULL;
	dq_model *m = NULL;
	double *q;
	uint32_t S, A;

	(void)state;
	assert_int_equal(dq_table_config_init(&tc), 0);
	tc.n_states = 4;
	tc.n_actions = 2;
	tc.reserved_[2] = 1;
	assert_int_equal(dq_table_create(&t, &tc), -EINVAL);
	tc.reserved_[2] = 0;
	assert_int_equal(dq_table_create(&t, &tc), 0);
	dq_table_destroy(t);

	assert_int_equal(dq_agent_config_init(&ac), 0);
	ac.reserved_[0] = 1;
	assert_int_equal(dq_agent_config_check(&ac), -EINVAL);
	ac.reserved_[0] = 0;
	ac.alpha.reserved_[3] = 1;
	assert_int_equal(dq_agent_config_check(&ac), -EINVAL);
	ac.alpha.reserved_[3] = 0;
	ac.epsilon.reserved_[0] = 1;
	assert_int_equal(dq_agent_config_check(&ac), -EINVAL);
	ac.epsilon.reserved_[0] = 0;
	assert_int_equal(dq_agent_config_check(&ac), 0);

	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	assert_int_equal(dq_model_create(&m, env), 0);
	assert_int_equal(dq_model_shape(m, &S, &A), 0);
	t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);
	assert_int_equal(dq_learner_config_init(&lc), 0);
	lc.max_steps = 10;
	lc.pin = DQ_PIN_NONE;
	lc.reserved_[DQ_TEST_NWORDS(lc) - 1] = 1;
	assert_int_equal(dq_learner_create(&l, t, env, &lc), -EINVAL);
	lc.reserved_[DQ_TEST_NWORDS(lc) - 1] = 0;
	lc.agent.alpha.reserved_[1] = 1;
	assert_int_equal(dq_learner_create(&l, t, env, &lc), -EINVAL);
	lc.agent.alpha.reserved_[1] = 0;
	assert_int_equal(dq_learner_create(&l, t, env, &lc), 0);

	q = calloc((size_t)S * A, sizeof(*q));
	assert_non_null(q);
	assert_int_equal(dq_solve_config_init(&sc), 0);
	sc.reserved_[2] = 7;
	assert_int_equal(
	    dq_model_solve(m, &sc, q, (size_t)S * A, NULL, 0, NULL, 0, NULL),
	    -EINVAL);
	sc.reserved_[2] = 0;
	assert_int_equal(
	    dq_model_solve(m, &sc, q, (size_t)S * A, NULL, 0, NULL, 0, NULL),
	    0);
	free(q);

	/* Agent states and checkpoint metadata come back zeroed, and are
	 * refused with a reserved word set. */
	{
		dq_agent_state st;
		dq_checkpoint_meta meta;
		char path[] = "/tmp/dq_test_abi_XXXXXX";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		close(fd);
		memset(&st, 0xa5, sizeof(st));
		assert_int_equal(dq_learner_agent_state(l, 0, &st), 0);
		assert_int_equal(NONZERO_RESERVED(&st), 0);
		st.reserved_[6] = 1;
		assert_int_equal(dq_learner_set_agent_state(l, 0, &st),
				 -EINVAL);
		st.reserved_[6] = 0;
		assert_int_equal(dq_learner_set_agent_state(l, 0, &st), 0);

		memset(&meta, 0, sizeof(meta));
		strcpy(meta.env, "maze4x3");
		meta.reserved_[12] = 1;
		assert_int_equal(dq_checkpoint_save(path, t, &meta), -EINVAL);
		meta.reserved_[12] = 0;
		assert_int_equal(dq_checkpoint_save(path, t, &meta), 0);
		memset(&meta, 0xa5, sizeof(meta));
		assert_int_equal(dq_checkpoint_read_meta(path, &meta), 0);
		assert_int_equal(NONZERO_RESERVED(&meta), 0);
		unlink(path);
	}

	dq_learner_destroy(l);
	dq_model_destroy(m);
	dq_table_destroy(t);
	dq_env_close(env);
}

/* What the library fills has zero reserved words, whatever the caller's
 * memory held before. */
static void
test_outputs_zero_reserved(void **state)
{
	dq_learner_config lc;
	dq_env *env = NULL;
	dq_learner *l = NULL;
	dq_table *t;
	dq_table_info ti;
	dq_env_spec es;
	dq_run_result rr;
	dq_run_error re;
	dq_stats ss;
	dq_write_stats ws;

	(void)state;
	assert_int_equal(dq_env_open_name(&env, "maze4x3"), 0);
	memset(&es, 0xa5, sizeof(es));
	assert_int_equal(dq_env_spec_get(env, &es), 0);
	assert_int_equal(NONZERO_RESERVED(&es), 0);
	t = dq_test_table(es.n_states, es.n_actions, DQ_MODE_CAS, 0.0, false);
	memset(&ti, 0xa5, sizeof(ti));
	assert_int_equal(dq_table_info_get(t, &ti), 0);
	assert_int_equal(NONZERO_RESERVED(&ti), 0);

	assert_int_equal(dq_learner_config_init(&lc), 0);
	lc.max_steps = 1000;
	lc.pin = DQ_PIN_NONE;
	assert_int_equal(dq_learner_create(&l, t, env, &lc), 0);
	memset(&rr, 0xa5, sizeof(rr));
	assert_int_equal(dq_learner_run(l, &rr), 0);
	assert_int_equal(NONZERO_RESERVED(&rr), 0);
	assert_int_equal(NONZERO_RESERVED(&rr.total), 0);
	memset(&re, 0xa5, sizeof(re));
	assert_int_equal(dq_learner_error(l, &re), 0);
	assert_int_equal(NONZERO_RESERVED(&re), 0);
	memset(&ss, 0xa5, sizeof(ss));
	assert_int_equal(dq_learner_agent_stats(l, 0, &ss), 0);
	assert_int_equal(NONZERO_RESERVED(&ss), 0);
	memset(&ws, 0xa5, sizeof(ws));
	assert_int_equal(dq_learner_agent_write_path(l, 0, &ws), 0);
	assert_int_equal(NONZERO_RESERVED(&ws), 0);

	dq_learner_destroy(l);
	dq_table_destroy(t);
	dq_env_close(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_zeroes_reserved),
	    cmocka_unit_test(test_nonzero_reserved_refused),
	    cmocka_unit_test(test_outputs_zero_reserved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
