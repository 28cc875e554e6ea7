/*
 * lib/topology.c: loading real and synthetic machines, the flat PU
 * description, thread binding, NUMA-aware memory and dq_cores().
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dq_test.h"
#include "pin.h"
#include "topology.h"

enum field { F_CORE, F_NUMA, F_PACKAGE, F_L3 };

static unsigned
field(const dq__pu *p, enum field f)
{
	return f == F_CORE	? p->core
	       : f == F_NUMA	? p->numa
	       : f == F_PACKAGE ? p->package
				: p->l3;
}

static unsigned
n_ids(const dq__pu *pus, size_t n, enum field f)
{
	unsigned max = 0;
	size_t i;

	for (i = 0; i < n; i++)
		max = field(&pus[i], f) > max ? field(&pus[i], f) : max;
	return max + 1;
}

/* Each id of field @f is below @ids, and every value below it is used. */
static void
assert_dense(const dq__pu *pus, size_t n, enum field f, unsigned ids)
{
	bool *seen = calloc(ids, sizeof(*seen));
	size_t i;

	assert_non_null(seen);
	for (i = 0; i < n; i++) {
		assert_true(field(&pus[i], f) < ids);
		seen[field(&pus[i], f)] = true;
	}
	for (i = 0; i < ids; i++)
		assert_true(seen[i]);
	free(seen);
}

/* What every topology must satisfy, real or synthetic. */
static void
assert_sane(const dq__topo *t)
{
	dq__pu *pus = NULL;
	size_t n = 0, i, j;
	int cores = dq__topo_n_cores(t), numa = dq__topo_n_numa(t);

	assert_int_equal(dq__topo_pus(t, &pus, &n), 0);
	assert_non_null(pus);
	assert_true(n >= 1);
	assert_true(cores >= 1 && (size_t)cores <= n);
	assert_true(numa >= 1 && (size_t)numa <= n);
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			assert_int_not_equal(pus[i].os_index, pus[j].os_index);
	assert_dense(pus, n, F_CORE, (unsigned)cores);
	assert_dense(pus, n, F_NUMA, (unsigned)numa);
	assert_dense(pus, n, F_PACKAGE, n_ids(pus, n, F_PACKAGE));
	assert_dense(pus, n, F_L3, n_ids(pus, n, F_L3));
	free(pus);
}

/*
 * Runs first, from several threads at once: the first use of the shared
 * system topology races, and pthread_once must make it load once.
 */
struct race {
	pthread_t tid;
	dq__topo *topo;
	int cores;
	bool alloc_ok;
};

static void *
race_main(void *arg)
{
	struct race *r = arg;
	bool il;
	char *p;

	r->topo = dq__topo_system();
	r->cores = dq_cores();
	p = dq__mem_alloc(1000, &il);
	r->alloc_ok = p && ((uintptr_t)p & 63) == 0;
	if (p)
		memset(p, 1, 1000);
	dq__mem_free(p, 1000);
	return NULL;
}

static void
test_system_first_use_races(void **state)
{
	struct race r[8];
	size_t i;

	(void)state;
	for (i = 0; i < 8; i++)
		assert_int_equal(
		    pthread_create(&r[i].tid, NULL, race_main, &r[i]), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_join(r[i].tid, NULL), 0);
	for (i = 0; i < 8; i++) {
		assert_non_null(r[i].topo);
		assert_ptr_equal(r[i].topo, dq__topo_system());
		assert_int_equal(r[i].cores, dq_cores());
		assert_true(r[i].alloc_ok);
	}
}

static void
test_load_real(void **state)
{
	dq__topo *t = NULL, *sys = dq__topo_system();

	(void)state;
	assert_int_equal(dq__topo_load(&t), 0);
	assert_non_null(t);
	assert_sane(t);
	assert_non_null(sys);
	assert_sane(sys);
	assert_int_equal(dq__topo_n_cores(t), dq__topo_n_cores(sys));
	assert_int_equal(dq__topo_n_numa(t), dq__topo_n_numa(sys));
	dq__topo_destroy(t);
}

/* The shape of "pack:2 numa:2 core:8 pu:2", PU by PU. */
static void
test_synthetic_numa(void **state)
{
	dq__topo *t = NULL;
	dq__pu *pus;
	size_t n, i;

	(void)state;
	assert_int_equal(
	    dq__topo_load_synthetic(&t, "pack:2 numa:2 core:8 pu:2"), 0);
	assert_sane(t);
	assert_int_equal(dq__topo_n_cores(t), 32);
	assert_int_equal(dq__topo_n_numa(t), 4);
	assert_int_equal(dq__topo_pus(t, &pus, &n), 0);
	assert_int_equal(n, 64);
	for (i = 0; i < n; i++) {
		assert_int_equal(pus[i].os_index, i);
		assert_int_equal(pus[i].core, i / 2);
		assert_int_equal(pus[i].numa, i / 16);
		assert_int_equal(pus[i].package, i / 32);
		/* No L3 in the description: the package is the domain. */
		assert_int_equal(pus[i].l3, i / 32);
	}
	free(pus);
	dq__topo_destroy(t);
}

static void
test_synthetic_shapes(void **state)
{
	dq__topo *t = NULL;
	dq__pu *pus;
	size_t n, i;

	(void)state;
	assert_int_equal(
	    dq__topo_load_synthetic(&t, "pack:2 numa:2 l3:2 core:2 pu:2"), 0);
	assert_sane(t);
	assert_int_equal(dq__topo_pus(t, &pus, &n), 0);
	assert_int_equal(n, 32);
	for (i = 0; i < n; i++) {
		assert_int_equal(pus[i].core, i / 2);
		assert_int_equal(pus[i].l3, i / 4);
		assert_int_equal(pus[i].numa, i / 8);
		assert_int_equal(pus[i].package, i / 16);
	}
	free(pus);
	dq__topo_destroy(t);

	/* NUMA nodes above packages. */
	assert_int_equal(
	    dq__topo_load_synthetic(&t, "numa:2 pack:2 core:2 pu:1"), 0);
	assert_sane(t);
	assert_int_equal(dq__topo_pus(t, &pus, &n), 0);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++) {
		assert_int_equal(pus[i].numa, i / 4);
		assert_int_equal(pus[i].package, i / 2);
	}
	free(pus);
	dq__topo_destroy(t);

	/* No cores, packages or caches at all: one PU is one core. */
	assert_int_equal(dq__topo_load_synthetic(&t, "pu:1"), 0);
	assert_sane(t);
	assert_int_equal(dq__topo_n_cores(t), 1);
	assert_int_equal(dq__topo_n_numa(t), 1);
	assert_int_equal(dq__topo_pus(t, &pus, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pus[0].os_index, 0);
	assert_int_equal(pus[0].core, 0);
	assert_int_equal(pus[0].numa, 0);
	assert_int_equal(pus[0].package, 0);
	assert_int_equal(pus[0].l3, 0);
	free(pus);
	dq__topo_destroy(t);

	assert_int_equal(dq__topo_load_synthetic(&t, "core:3 pu:4"), 0);
	assert_int_equal(dq__topo_n_cores(t), 3);
	assert_sane(t);
	dq__topo_destroy(t);
}

static void
test_load_invalid(void **state)
{
	dq__topo *t = (dq__topo *)&t;
	dq__pu *pus = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(dq__topo_load(NULL), -EINVAL);
	assert_int_equal(dq__topo_load_synthetic(NULL, "pu:1"), -EINVAL);
	assert_int_equal(dq__topo_load_synthetic(&t, NULL), -EINVAL);
	assert_int_equal(dq__topo_load_synthetic(&t, "nonsense:3"), -EINVAL);
	assert_int_equal(dq__topo_load_synthetic(&t, "pack:0"), -EINVAL);
	assert_int_equal(dq__topo_load_synthetic(&t, ""), -EINVAL);
	/* *out is untouched on failure. */
	assert_ptr_equal(t, (dq__topo *)&t);

	assert_int_equal(dq__topo_load_synthetic(&t, "pu:2"), 0);
	assert_int_equal(dq__topo_pus(NULL, &pus, &n), -EINVAL);
	assert_int_equal(dq__topo_pus(t, NULL, &n), -EINVAL);
	assert_int_equal(dq__topo_pus(t, &pus, NULL), -EINVAL);
	assert_int_equal(dq__topo_n_cores(NULL), -EINVAL);
	assert_int_equal(dq__topo_n_numa(NULL), -EINVAL);
	dq__topo_destroy(t);
	dq__topo_destroy(NULL);
}

/*
 * Bind a fresh thread to every PU of this machine in turn and read the
 * binding back from the OS; a fresh thread keeps the test runner's own
 * thread unbound.
 */
struct bind_run {
	dq__topo *t;
	dq__pu *pus;
	size_t n;
	int bind_err, read_n;
	unsigned read[4];
	size_t bad; /* first PU whose binding did not read back, or n */
};

static void *
bind_main(void *arg)
{
	struct bind_run *b = arg;
	size_t i;

	b->bad = b->n;
	for (i = 0; i < b->n; i++) {
		b->bind_err = dq__topo_bind_thread(b->t, b->pus[i].os_index);
		b->read_n = dq__topo_thread_binding(b->t, b->read, 4);
		if (b->bind_err || b->read_n != 1 ||
		    b->read[0] != b->pus[i].os_index) {
			b->bad = i;
			break;
		}
	}
	return NULL;
}

static void
test_bind_real(void **state)
{
	struct bind_run b = {0};
	pthread_t tid;

	(void)state;
	/* hwloc shows another machine instead: binding is not real then. */
	if (getenv("HWLOC_SYNTHETIC") || getenv("HWLOC_XMLFILE"))
		skip();
	b.t = dq__topo_system();
	assert_non_null(b.t);
	assert_int_equal(dq__topo_pus(b.t, &b.pus, &b.n), 0);
	assert_int_equal(pthread_create(&tid, NULL, bind_main, &b), 0);
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_equal(b.bind_err, 0);
	assert_int_equal(b.read_n, 1);
	assert_int_equal(b.bad, b.n);
	free(b.pus);
}

/* Without binding, a thread may run on every PU of the machine. */
static void
test_binding_unbound(void **state)
{
	dq__topo *t = dq__topo_system();
	unsigned pus[1];
	int n;

	(void)state;
	assert_non_null(t);
	n = dq__topo_thread_binding(t, NULL, 0);
	assert_true(n >= 1);
	/* More PUs than room: the count is still the whole binding. */
	assert_int_equal(dq__topo_thread_binding(t, pus, 1), n);
}

/*
 * A synthetic machine is not this one: binding to it is refused with a
 * reason, not accepted and ignored, and the thread's binding is untouched.
 */
static void
test_bind_synthetic(void **state)
{
	dq__topo *t = NULL, *sys = dq__topo_system();
	unsigned pus[64];
	int before;

	(void)state;
	assert_non_null(sys);
	before = dq__topo_thread_binding(sys, NULL, 0);
	assert_true(before >= 1);
	assert_int_equal(
	    dq__topo_load_synthetic(&t, "pack:2 numa:2 core:8 pu:2"), 0);
	assert_int_equal(dq__topo_is_this_system(t), 0);
	assert_int_equal(dq__topo_is_this_system(sys), 1);
	assert_int_equal(dq__topo_is_this_system(NULL), -EINVAL);
	assert_int_equal(dq__topo_bind_thread(t, 63), DQ_ENOTHISSYS);
	assert_int_equal(dq__topo_thread_binding(t, pus, 64), DQ_ENOTHISSYS);
	assert_int_equal(dq__topo_thread_binding(sys, NULL, 0), before);
	assert_int_equal(dq__topo_bind_thread(t, 64), -EINVAL);
	dq__topo_destroy(t);
}

static void
test_bind_invalid(void **state)
{
	dq__topo *t = dq__topo_system();
	unsigned pus[1];

	(void)state;
	assert_non_null(t);
	assert_int_equal(dq__topo_bind_thread(NULL, 0), -EINVAL);
	assert_int_equal(dq__topo_bind_thread(t, 100000), -EINVAL);
	assert_int_equal(dq__topo_bind_thread(t, UINT_MAX), -EINVAL);
	assert_int_equal(dq__topo_thread_binding(NULL, pus, 1), -EINVAL);
	assert_int_equal(dq__topo_thread_binding(t, NULL, 1), -EINVAL);
}

static void
check_block(char *p, size_t bytes)
{
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 64, 0);
	/* The whole block is ours (ASan checks the ends). */
	memset(p, 0x5a, bytes);
	assert_int_equal(p[0], 0x5a);
	assert_int_equal(p[bytes - 1], 0x5a);
}

static void
test_mem_sizes(void **state)
{
	static const size_t sizes[] = {1,    7,	    8,	     63,
				       64,   65,    4095,    4096,
				       4097, 65536, 1 << 20, (64u << 20) + 3};
	dq__topo *sys = dq__topo_system();
	size_t i;
	char *p;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		bool il = true;

		p = dq__mem_alloc(sizes[i], &il);
		check_block(p, sizes[i]);
		/* One node: nothing to interleave over. */
		if (dq__topo_n_numa(sys) == 1)
			assert_false(il);
		dq__mem_free(p, sizes[i]);
	}
	/* The flag is optional. */
	p = dq__mem_alloc(100, NULL);
	check_block(p, 100);
	dq__mem_free(p, 100);
	dq__mem_free(NULL, 0);
}

/* Many live blocks at once: each header frees its own block. */
static void
test_mem_many(void **state)
{
	char *p[64];
	size_t i;

	(void)state;
	for (i = 0; i < 64; i++) {
		p[i] = dq__mem_alloc(i * 97 + 1, NULL);
		check_block(p[i], i * 97 + 1);
	}
	for (i = 0; i < 64; i += 2)
		dq__mem_free(p[i], i * 97 + 1);
	for (i = 1; i < 64; i += 2)
		dq__mem_free(p[i], i * 97 + 1);
}

static void
test_mem_invalid(void **state)
{
	bool il = true;

	(void)state;
	assert_null(dq__mem_alloc(0, &il));
	assert_false(il);
	il = true;
	assert_null(dq__mem_alloc(SIZE_MAX, &il));
	assert_false(il);
	assert_null(dq__mem_alloc(SIZE_MAX - 64, NULL));
	assert_null(dq__mem_alloc_on(NULL, 0, NULL));
}

/*
 * The interleaved path, on synthetic machines: hwloc accepts the binding
 * there without doing it (its stand-in allocator is malloc(), which is
 * not even 64-byte aligned), and dq__mem_free() must still free through
 * hwloc.
 */
static void
test_mem_interleaved_synthetic(void **state)
{
	dq__topo *two = NULL, *one = NULL;
	bool il = false;
	char *p;

	(void)state;
	assert_int_equal(
	    dq__topo_load_synthetic(&two, "pack:2 numa:2 core:2 pu:1"), 0);
	assert_int_equal(dq__topo_load_synthetic(&one, "pack:2 core:2 pu:1"),
			 0);

	p = dq__mem_alloc_on(two, 1 << 20, &il);
	check_block(p, 1 << 20);
	assert_true(il);
	dq__mem_free(p, 1 << 20);

	il = true;
	p = dq__mem_alloc_on(one, 4096, &il);
	check_block(p, 4096);
	assert_false(il);
	dq__mem_free(p, 4096);

	il = true;
	p = dq__mem_alloc_on(NULL, 333, &il);
	check_block(p, 333);
	assert_false(il);
	dq__mem_free(p, 333);

	dq__topo_destroy(one);
	dq__topo_destroy(two);
}

static void
test_cores(void **state)
{
	dq__topo *sys = dq__topo_system();

	(void)state;
	assert_true(dq_cores() >= 1);
	if (sys)
		assert_int_equal(dq_cores(), dq__topo_n_cores(sys));
}

/* ---- the process's own CPU mask, checked in a child process --------- */

/* CPUs in the calling thread's affinity, per the OS; the highest in *hi. */
static int
os_cpus(int *hi)
{
	cpu_set_t set;
	int n = 0;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -1;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			n++;
			if (hi)
				*hi = c;
		}
	return n;
}

#define CHILD_CHECK(cond)                                               \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "child: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                       \
			return 1;                                       \
		}                                                       \
	} while (0)

/*
 * Run under "taskset -c @cpu": the topology holds that CPU alone, one core
 * is counted, every plan lands on it, and a CPU outside the mask cannot
 * be bound to.
 */
static int
child_mask(unsigned cpu)
{
	dq__topo *sys = dq__topo_system();
	dq__pu *pus = NULL;
	size_t n = 0;
	unsigned plan[3];

	CHILD_CHECK(sys);
	CHILD_CHECK(dq__topo_is_this_system(sys) == 1);
	CHILD_CHECK(dq__topo_pus(sys, &pus, &n) == 0);
	CHILD_CHECK(n == 1 && pus[0].os_index == cpu);
	CHILD_CHECK(dq__topo_n_cores(sys) == 1);
	CHILD_CHECK(dq_cores() == 1);
	CHILD_CHECK(dq__pin_plan(pus, n, DQ_PIN_CORES, 3, NULL, 0, plan) == 0);
	CHILD_CHECK(plan[0] == cpu && plan[1] == cpu && plan[2] == cpu);
	CHILD_CHECK(dq__topo_bind_thread(sys, cpu) == 0);
	CHILD_CHECK(dq__topo_bind_thread(sys, cpu ? 0 : 1) == -EINVAL);
	free(pus);
	return 0;
}

/*
 * Run with HWLOC_SYNTHETIC naming a 16-core machine: hwloc describes it,
 * but it is not this system. dq_cores() counts the CPUs this process may
 * use (the OS's mask), not the synthetic cores, and nothing is bound.
 */
static int
child_synthetic(void)
{
	dq__topo *sys = dq__topo_system();
	int os = os_cpus(NULL);

	CHILD_CHECK(sys);
	CHILD_CHECK(dq__topo_n_cores(sys) == 16);
	CHILD_CHECK(dq__topo_is_this_system(sys) == 0);
	CHILD_CHECK(os >= 1 && dq_cores() == os);
	CHILD_CHECK(dq__topo_bind_thread(sys, 0) == DQ_ENOTHISSYS);
	CHILD_CHECK(dq__topo_thread_binding(sys, NULL, 0) == DQ_ENOTHISSYS);
	return 0;
}

/* Run this program again as @argv (argv[0] found on PATH); its status. */
static int
run_child(char *const argv[], const char *env_name, const char *env_value)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (env_name)
			setenv(env_name, env_value, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static char self[4096];

static void
test_cpu_mask_honoured(void **state)
{
	char cpu[16];
	int hi = 0, code;

	(void)state;
	if (getenv("HWLOC_SYNTHETIC") || getenv("HWLOC_XMLFILE"))
		skip();
	assert_true(os_cpus(&hi) >= 1);
	/* The highest CPU we may use: under taskset -c 1 on two CPUs, the
	 * one a plan ignoring the mask would not pick first. */
	snprintf(cpu, sizeof(cpu), "%d", hi);
	{
		static char taskset[] = "taskset", c[] = "-c",
			    flag[] = "--child-mask";
		char *argv[] = {taskset, c, cpu, self, flag, cpu, NULL};

		code = run_child(argv, NULL, NULL);
	}
	if (code == 127) {
		print_message("  taskset not found (util-linux): the CPU mask "
			      "test did not run\n");
		skip();
	}
	assert_int_equal(code, 0);
}

static void
test_synthetic_env_not_this_system(void **state)
{
	static char flag[] = "--child-synthetic";
	char *argv[] = {self, flag, NULL};

	(void)state;
	assert_int_equal(
	    run_child(argv, "HWLOC_SYNTHETIC", "pack:1 core:16 pu:1"), 0);
}

int
main(int argc, char **argv)
{
	ssize_t len;
	const struct CMUnitTest tests[] = {
	    /* First: it must be the first use of the system topology. */
	    cmocka_unit_test(test_system_first_use_races),
	    cmocka_unit_test(test_load_real),
	    cmocka_unit_test(test_synthetic_numa),
	    cmocka_unit_test(test_synthetic_shapes),
	    cmocka_unit_test(test_load_invalid),
	    cmocka_unit_test(test_bind_real),
	    cmocka_unit_test(test_binding_unbound),
	    cmocka_unit_test(test_bind_synthetic),
	    cmocka_unit_test(test_bind_invalid),
	    cmocka_unit_test(test_mem_sizes),
	    cmocka_unit_test(test_mem_many),
	    cmocka_unit_test(test_mem_invalid),
	    cmocka_unit_test(test_mem_interleaved_synthetic),
	    cmocka_unit_test(test_cores),
	    cmocka_unit_test(test_cpu_mask_honoured),
	    cmocka_unit_test(test_synthetic_env_not_this_system),
	};

	if (argc == 3 && !strcmp(argv[1], "--child-mask"))
		return child_mask((unsigned)atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "--child-synthetic"))
		return child_synthetic();
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		snprintf(self, sizeof(self), "%s", argv[0]);
	else
		self[len] = '\0';
	return cmocka_run_group_tests(tests, NULL, NULL);
}
