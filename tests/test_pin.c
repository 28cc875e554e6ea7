/*
 * The placement policy (lib/pin.c) on synthetic machines: the plans must
 * spread agents over packages, NUMA nodes and L3 domains, use every core
 * before any SMT sibling, wrap past the last PU, and reject every bad
 * argument without touching the output.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "dq_test.h"
#include "pin.h"
#include "topology.h"

struct machine {
	dq__pu *pus;
	size_t n;
};

static void
load(struct machine *m, const char *desc)
{
	dq__topo *t = NULL;

	assert_int_equal(dq__topo_load_synthetic(&t, desc), 0);
	assert_int_equal(dq__topo_pus(t, &m->pus, &m->n), 0);
	dq__topo_destroy(t);
}

static const dq__pu *
find_pu(const struct machine *m, unsigned os_index)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->pus[i].os_index == os_index)
			return &m->pus[i];
	fail_msg("PU %u is not in the machine", os_index);
	return NULL;
}

/* Position of a PU among its core's PUs: 0 for the first, 1 for the
 * second SMT sibling... */
static unsigned
smt_rank(const struct machine *m, unsigned os_index)
{
	const dq__pu *p = find_pu(m, os_index);
	unsigned rank = 0;
	size_t i;

	for (i = 0; &m->pus[i] != p; i++)
		rank += m->pus[i].core == p->core;
	return rank;
}

static unsigned
n_cores(const struct machine *m)
{
	unsigned max = 0;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->pus[i].core > max)
			max = m->pus[i].core;
	return max + 1;
}

static unsigned
key(const dq__pu *p, int level)
{
	return level == 0 ? p->package : level == 1 ? p->numa : p->l3;
}

/*
 * Every prefix of the first @k agents must give each group of @level
 * (package, NUMA, L3) as even a share as possible: counts differ by at
 * most one. That is what round-robin spreading promises on a machine whose
 * groups are all the same size.
 */
static void
assert_balanced(const struct machine *m, const unsigned *plan, size_t k,
		int level)
{
	unsigned count[256];
	size_t len, i;

	assert_true(m->n <= 256);
	for (len = 1; len <= k; len++) {
		unsigned lo = UINT_MAX, hi = 0, n_groups = 0;

		memset(count, 0, sizeof(count));
		for (i = 0; i < m->n; i++)
			if (key(&m->pus[i], level) + 1 > n_groups)
				n_groups = key(&m->pus[i], level) + 1;
		for (i = 0; i < len; i++)
			count[key(find_pu(m, plan[i]), level)]++;
		for (i = 0; i < n_groups; i++) {
			lo = count[i] < lo ? count[i] : lo;
			hi = count[i] > hi ? count[i] : hi;
		}
		assert_true(hi - lo <= 1);
	}
}

/* The properties every core plan has, whatever the machine. */
static void
assert_core_plan(const struct machine *m, const unsigned *plan, size_t n_agents)
{
	unsigned cores = n_cores(m);
	bool *core_used = calloc(cores, sizeof(*core_used));
	size_t i, j;

	assert_non_null(core_used);
	for (i = 0; i < n_agents; i++) {
		/* Every core before any sibling: the first agents take
		 * distinct cores and each core's first PU. */
		if (i < cores) {
			unsigned c = find_pu(m, plan[i])->core;

			assert_false(core_used[c]);
			core_used[c] = true;
			assert_int_equal(smt_rank(m, plan[i]), 0);
		} else if (i < m->n) {
			assert_true(smt_rank(m, plan[i]) >= 1);
		} else {
			assert_int_equal(plan[i], plan[i % m->n]);
		}
		/* No PU twice before all have been used. */
		for (j = i < m->n ? 0 : i; j < i; j++)
			assert_int_not_equal(plan[i], plan[j]);
	}
	free(core_used);
}

static void
test_two_packages_two_numa_smt(void **state)
{
	struct machine m;
	unsigned plan[65];
	size_t i, j;

	(void)state;
	load(&m, "pack:2 numa:2 core:8 pu:2");
	assert_int_equal(m.n, 64);
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_CORES, 65, NULL, 0, plan), 0);

	/* Package 0, package 1, then the other NUMA node of each. */
	assert_int_equal(plan[0], 0);
	assert_int_equal(plan[1], 32);
	assert_int_equal(plan[2], 16);
	assert_int_equal(plan[3], 48);
	for (i = 0; i < 4; i++)
		for (j = 0; j < i; j++)
			assert_true(find_pu(&m, plan[i])->numa !=
				    find_pu(&m, plan[j])->numa);

	assert_balanced(&m, plan, 32, 0);
	assert_balanced(&m, plan, 32, 1);
	assert_core_plan(&m, plan, 65);
	/* Agents 32..63 are the second PUs, in the same core order. */
	for (i = 32; i < 64; i++)
		assert_int_equal(plan[i], plan[i - 32] + 1);
	assert_int_equal(plan[64], plan[0]);
	free(m.pus);
}

static void
test_one_package_smt(void **state)
{
	static const unsigned want[9] = {0, 2, 4, 6, 1, 3, 5, 7, 0};
	struct machine m;
	unsigned plan[9];

	(void)state;
	load(&m, "pack:1 core:4 pu:2");
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_CORES, 9, NULL, 0, plan), 0);
	assert_memory_equal(plan, want, sizeof(want));
	free(m.pus);
}

static void
test_two_packages_no_smt(void **state)
{
	static const unsigned want[5] = {0, 2, 1, 3, 0};
	struct machine m;
	unsigned plan[5];

	(void)state;
	load(&m, "pack:2 core:2 pu:1");
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_CORES, 5, NULL, 0, plan), 0);
	assert_memory_equal(plan, want, sizeof(want));
	free(m.pus);
}

static void
test_single_pu(void **state)
{
	struct machine m;
	unsigned plan[3] = {7, 7, 7};

	(void)state;
	load(&m, "pu:1");
	assert_int_equal(m.n, 1);
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_CORES, 3, NULL, 0, plan), 0);
	assert_int_equal(plan[0], 0);
	assert_int_equal(plan[1], 0);
	assert_int_equal(plan[2], 0);
	free(m.pus);
}

/* L3 domains inside a package are spread like packages. */
static void
test_l3_domains(void **state)
{
	static const unsigned want[4] = {0, 2, 1, 3};
	struct machine m;
	unsigned plan[32];

	(void)state;
	load(&m, "pack:1 l3:2 core:2 pu:1");
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_CORES, 4, NULL, 0, plan), 0);
	assert_memory_equal(plan, want, sizeof(want));
	free(m.pus);

	load(&m, "pack:2 numa:2 l3:2 core:2 pu:2");
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_CORES, 32, NULL, 0, plan), 0);
	assert_balanced(&m, plan, 16, 0);
	assert_balanced(&m, plan, 16, 1);
	assert_balanced(&m, plan, 16, 2);
	assert_core_plan(&m, plan, 32);
	free(m.pus);
}

/* NUMA nodes holding several packages: the coarser level goes first. */
static void
test_numa_above_packages(void **state)
{
	static const unsigned want[8] = {0, 4, 2, 6, 1, 5, 3, 7};
	struct machine m;
	unsigned plan[8];

	(void)state;
	load(&m, "numa:2 pack:2 core:2 pu:1");
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_CORES, 8, NULL, 0, plan), 0);
	assert_memory_equal(plan, want, sizeof(want));
	free(m.pus);
}

/* The general properties on assorted balanced machines. */
static void
test_assorted_machines(void **state)
{
	static const char *const descs[] = {
	    "pack:4 core:3 pu:2",
	    "pack:3 numa:3 core:5 pu:4",
	    "core:6 pu:3",
	    "pack:2 l3:4 core:4 pu:1",
	    "pack:2 numa:4 l3:2 core:2 pu:2",
	};
	size_t d;

	(void)state;
	for (d = 0; d < sizeof(descs) / sizeof(descs[0]); d++) {
		struct machine m;
		unsigned *plan;
		size_t n;

		load(&m, descs[d]);
		n = 2 * m.n + 1;
		plan = malloc(n * sizeof(*plan));
		assert_non_null(plan);
		assert_int_equal(dq__pin_plan(m.pus, m.n, DQ_PIN_CORES,
					      (uint32_t)n, NULL, 0, plan),
				 0);
		assert_core_plan(&m, plan, n);
		assert_balanced(&m, plan, n_cores(&m), 0);
		assert_balanced(&m, plan, n_cores(&m), 1);
		assert_balanced(&m, plan, n_cores(&m), 2);
		free(plan);
		free(m.pus);
	}
}

/*
 * Hand-made machines the synthetic syntax cannot describe: cores with
 * different SMT widths (hybrid CPUs), uneven packages, core ids with
 * gaps. The policy is a pure function of the array, so it must cope.
 */
static void
test_uneven_machines(void **state)
{
	/* Cores 0 and 1 have two PUs, cores 2 and 3 one. */
	static const dq__pu hybrid[6] = {
	    {0, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {2, 1, 0, 0, 0},
	    {3, 1, 0, 0, 0}, {4, 2, 0, 0, 0}, {5, 3, 0, 0, 0},
	};
	static const unsigned hybrid_want[7] = {0, 2, 4, 5, 1, 3, 0};
	/* Package 0 has three cores, package 1 one. */
	static const dq__pu uneven[4] = {
	    {10, 0, 0, 0, 0},
	    {11, 1, 0, 0, 0},
	    {12, 2, 0, 0, 0},
	    {13, 3, 1, 1, 1},
	};
	static const unsigned uneven_want[4] = {10, 13, 11, 12};
	/* Core ids 0 and 2: no core 1. */
	static const dq__pu gaps[3] = {
	    {7, 0, 0, 0, 0},
	    {8, 0, 0, 0, 0},
	    {9, 2, 0, 0, 0},
	};
	static const unsigned gaps_want[3] = {7, 9, 8};
	unsigned plan[7];

	(void)state;
	assert_int_equal(
	    dq__pin_plan(hybrid, 6, DQ_PIN_CORES, 7, NULL, 0, plan), 0);
	assert_memory_equal(plan, hybrid_want, sizeof(hybrid_want));
	assert_int_equal(
	    dq__pin_plan(uneven, 4, DQ_PIN_CORES, 4, NULL, 0, plan), 0);
	assert_memory_equal(plan, uneven_want, sizeof(uneven_want));
	assert_int_equal(dq__pin_plan(gaps, 3, DQ_PIN_CORES, 3, NULL, 0, plan),
			 0);
	assert_memory_equal(plan, gaps_want, sizeof(gaps_want));
}

/* As many agents as the learner accepts: the plan wraps, all valid. */
static void
test_max_agents(void **state)
{
	struct machine m;
	unsigned *plan = malloc(DQ_MAX_THREADS * sizeof(*plan));
	size_t i;

	(void)state;
	assert_non_null(plan);
	load(&m, "pack:2 numa:2 core:8 pu:2");
	assert_int_equal(dq__pin_plan(m.pus, m.n, DQ_PIN_CORES, DQ_MAX_THREADS,
				      NULL, 0, plan),
			 0);
	for (i = m.n; i < DQ_MAX_THREADS; i++)
		assert_int_equal(plan[i], plan[i % m.n]);
	free(plan);
	free(m.pus);
}

static void
test_list(void **state)
{
	static const unsigned list[2] = {1, 3};
	static const unsigned want[5] = {1, 3, 1, 3, 1};
	static const unsigned dup[3] = {5, 5, 0};
	struct machine m;
	unsigned plan[5];

	(void)state;
	load(&m, "pack:1 core:4 pu:2");
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_LIST, 5, list, 2, plan), 0);
	assert_memory_equal(plan, want, sizeof(want));
	/* A list longer than the agents: only its head is used. */
	assert_int_equal(dq__pin_plan(m.pus, m.n, DQ_PIN_LIST, 1, dup, 3, plan),
			 0);
	assert_int_equal(plan[0], 5);
	free(m.pus);
}

/* Invalid lists fail as a whole and leave the output alone. */
static void
test_list_invalid(void **state)
{
	static const unsigned missing[2] = {1, 99};
	static const unsigned unbound[1] = {DQ__PIN_UNBOUND};
	static const unsigned late[4] = {0, 1, 2, 8};
	unsigned plan[4], untouched[4];
	struct machine m;

	(void)state;
	load(&m, "pack:1 core:4 pu:2");
	memset(plan, 0xab, sizeof(plan));
	memcpy(untouched, plan, sizeof(plan));
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_LIST, 4, missing, 2, plan),
	    -EINVAL);
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_LIST, 4, unbound, 1, plan),
	    -EINVAL);
	/* Past the agents the list is still checked. */
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_LIST, 1, late, 4, plan), -EINVAL);
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_LIST, 4, NULL, 2, plan), -EINVAL);
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_LIST, 4, missing, 0, plan),
	    -EINVAL);
	assert_int_equal(
	    dq__pin_plan(NULL, 0, DQ_PIN_LIST, 4, missing, 1, plan), -EINVAL);
	assert_memory_equal(plan, untouched, sizeof(plan));
	free(m.pus);
}

static void
test_none(void **state)
{
	struct machine m;
	unsigned plan[3] = {0, 0, 0};
	int i;

	(void)state;
	load(&m, "pack:1 core:4 pu:2");
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_NONE, 3, NULL, 0, plan), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(plan[i], DQ__PIN_UNBOUND);
	/* No topology needed to run unbound. */
	memset(plan, 0, sizeof(plan));
	assert_int_equal(dq__pin_plan(NULL, 0, DQ_PIN_NONE, 3, NULL, 0, plan),
			 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(plan[i], DQ__PIN_UNBOUND);
	free(m.pus);
}

static void
test_invalid_args(void **state)
{
	static const dq__pu bad_core[2] = {{0, 2, 0, 0, 0}, {1, 0, 0, 0, 0}};
	static const dq__pu bad_l3[1] = {{0, 0, 0, 0, 1}};
	static const dq__pu bad_os[1] = {{DQ__PIN_UNBOUND, 0, 0, 0, 0}};
	static const unsigned list[1] = {0};
	struct machine m;
	unsigned plan[4] = {42, 42, 42, 42};
	int p;

	(void)state;
	load(&m, "pack:1 core:4 pu:1");
	for (p = DQ_PIN_CORES; p <= DQ_PIN_LIST; p++) {
		dq_pin_policy pol = (dq_pin_policy)p;

		assert_int_equal(
		    dq__pin_plan(m.pus, m.n, pol, 4, list, 1, NULL), -EINVAL);
		assert_int_equal(
		    dq__pin_plan(m.pus, m.n, pol, 0, list, 1, plan), -EINVAL);
		assert_int_equal(dq__pin_plan(m.pus, m.n, pol,
					      DQ_MAX_THREADS + 1, list, 1,
					      plan),
				 -EINVAL);
		assert_int_equal(
		    dq__pin_plan(m.pus, m.n, pol, UINT32_MAX, list, 1, plan),
		    -EINVAL);
		assert_int_equal(dq__pin_plan(NULL, m.n, pol, 4, list, 1, plan),
				 -EINVAL);
		assert_int_equal(
		    dq__pin_plan(bad_core, 2, pol, 4, list, 1, plan), -EINVAL);
		assert_int_equal(dq__pin_plan(bad_l3, 1, pol, 4, list, 1, plan),
				 -EINVAL);
		assert_int_equal(dq__pin_plan(bad_os, 1, pol, 4, list, 1, plan),
				 -EINVAL);
	}
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, (dq_pin_policy)3, 4, NULL, 0, plan),
	    -EINVAL);
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, (dq_pin_policy)-1, 4, NULL, 0, plan),
	    -EINVAL);
	/* The core policy needs PUs to place agents on. */
	assert_int_equal(dq__pin_plan(m.pus, 0, DQ_PIN_CORES, 4, NULL, 0, plan),
			 -EINVAL);
	assert_int_equal(dq__pin_plan(NULL, 0, DQ_PIN_CORES, 4, NULL, 0, plan),
			 -EINVAL);
	assert_int_equal(plan[0], 42);
	assert_int_equal(plan[3], 42);
	free(m.pus);
}

/* Plans for this machine name only PUs that exist, cores first. */
static void
test_this_machine(void **state)
{
	dq__topo *t = dq__topo_system();
	struct machine m;
	unsigned *plan;
	size_t n;

	(void)state;
	if (!t)
		skip();
	assert_int_equal(dq__topo_pus(t, &m.pus, &m.n), 0);
	n = 2 * m.n + 1;
	plan = malloc(n * sizeof(*plan));
	assert_non_null(plan);
	assert_int_equal(
	    dq__pin_plan(m.pus, m.n, DQ_PIN_CORES, (uint32_t)n, NULL, 0, plan),
	    0);
	assert_core_plan(&m, plan, n);
	assert_int_equal(n_cores(&m), dq__topo_n_cores(t));
	free(plan);
	free(m.pus);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_packages_two_numa_smt),
	    cmocka_unit_test(test_one_package_smt),
	    cmocka_unit_test(test_two_packages_no_smt),
	    cmocka_unit_test(test_single_pu),
	    cmocka_unit_test(test_l3_domains),
	    cmocka_unit_test(test_numa_above_packages),
	    cmocka_unit_test(test_assorted_machines),
	    cmocka_unit_test(test_uneven_machines),
	    cmocka_unit_test(test_max_agents),
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_list_invalid),
	    cmocka_unit_test(test_none),
	    cmocka_unit_test(test_invalid_args),
	    cmocka_unit_test(test_this_machine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
