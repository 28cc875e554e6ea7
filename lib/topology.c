/*
 * The machine, through hwloc. This is the only file that includes
 * <hwloc.h>: it turns hwloc's tree into the flat dq__pu array the
 * placement policy works on, binds threads, and allocates NUMA-interleaved
 * memory. hwloc's -1/errno results are converted to negative errno here,
 * at the boundary.
 *
 * A loaded topology is never modified again, which is what makes it safe
 * to share: hwloc allows concurrent queries and binding calls on a
 * topology that nobody modifies.
 */
/* sched_getaffinity() and CPU_COUNT(): the OS's own view of a binding. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hwloc.h>

#include "topology.h"

struct dq__topo {
	hwloc_topology_t hw;
	dq__pu *pus; /* every PU, hwloc logical order */
	size_t n_pus;
	unsigned n_cores;
	unsigned n_numa;
	hwloc_nodeset_t local_nodes; /* NUMA nodes local to some PU */
	bool thissystem; /* describes this machine: binding is real */
};

/*
 * hwloc reports failure as -1 with errno set, mostly. Clear errno before
 * the call and use this after it, so that a failure that forgot errno
 * still comes back as an error and never as 0.
 */
static int
neg_errno(int fallback)
{
	return errno > 0 ? -errno : fallback;
}

/*
 * The NUMA node whose memory is closest to @pu. In hwloc 2 NUMA nodes are
 * not in the normal tree: they hang as memory children off the object
 * whose CPUs they are local to (a package, a group, the machine), possibly
 * behind memory-side caches. Walking up from the PU, the first object with
 * memory children holds the PU's local node; nodes met further up (or
 * later in the same list, such as HBM next to DDR) are farther or special,
 * and interleaving the table over them would be wrong.
 */
static hwloc_obj_t
local_numa(hwloc_obj_t pu)
{
	hwloc_obj_t obj, mem;

	for (obj = pu; obj; obj = obj->parent) {
		for (mem = obj->memory_first_child; mem;
		     mem = mem->memory_first_child)
			if (mem->type == HWLOC_OBJ_NUMANODE)
				return mem;
	}
	return NULL;
}

/* Number of objects of @type, 0 when none or spread over several depths. */
static unsigned
count_type(hwloc_topology_t hw, hwloc_obj_type_t type)
{
	int n = hwloc_get_nbobjs_by_type(hw, type);

	return n > 0 ? (unsigned)n : 0;
}

/* hwloc's logical index of the @type ancestor of @pu, or @none. */
static unsigned
ancestor_index(hwloc_topology_t hw, hwloc_obj_type_t type, hwloc_obj_t pu,
	       unsigned none)
{
	hwloc_obj_t obj = hwloc_get_ancestor_obj_by_type(hw, type, pu);

	return obj ? obj->logical_index : none;
}

enum pu_field { PU_CORE, PU_NUMA, PU_PACKAGE, PU_L3 };

static unsigned *
pu_field(dq__pu *pu, enum pu_field f)
{
	switch (f) {
	case PU_CORE:
		return &pu->core;
	case PU_NUMA:
		return &pu->numa;
	case PU_PACKAGE:
		return &pu->package;
	case PU_L3:
	default:
		return &pu->l3;
	}
}

/*
 * Renumber field @f of every PU, whose raw keys are below @space, to
 * dense ids in order of first appearance. hwloc's logical indexes are
 * nearly that already, but not quite: memory-only NUMA nodes (CXL, HBM)
 * leave holes, and the stand-ins for missing objects lie past the end.
 * Dense ids let the policy size its arrays by the number of PUs.
 */
static int
densify(dq__pu *pus, size_t n, enum pu_field f, size_t space)
{
	unsigned *map, next = 0;
	size_t i;

	map = malloc(space * sizeof(*map));
	if (!map)
		return -ENOMEM;
	for (i = 0; i < space; i++)
		map[i] = UINT_MAX;
	for (i = 0; i < n; i++) {
		unsigned *v = pu_field(&pus[i], f);

		if (map[*v] == UINT_MAX)
			map[*v] = next++;
		*v = map[*v];
	}
	free(map);
	return 0;
}

/* 1 + the largest value of field @f: the number of distinct dense ids. */
static unsigned
n_distinct(dq__pu *pus, size_t n, enum pu_field f)
{
	unsigned max = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (*pu_field(&pus[i], f) > max)
			max = *pu_field(&pus[i], f);
	return max + 1;
}

/*
 * Build the flat description of a freshly loaded topology: each PU's
 * core, local NUMA node, package and L3 as dense ids, and the set of NUMA
 * nodes that are some PU's local memory. An object hwloc does not report
 * gets a stand-in key: a PU without a core is a core of its own, a PU
 * without an L3 shares its package's domain.
 */
static int
describe(dq__topo *t)
{
	hwloc_topology_t hw = t->hw;
	unsigned nb_core = count_type(hw, HWLOC_OBJ_CORE);
	unsigned nb_numa = count_type(hw, HWLOC_OBJ_NUMANODE);
	unsigned nb_pkg = count_type(hw, HWLOC_OBJ_PACKAGE);
	unsigned nb_l3 = count_type(hw, HWLOC_OBJ_L3CACHE);
	int nb_pu = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PU);
	size_t i, n;
	int err;

	if (nb_pu <= 0)
		return -ENODEV;
	n = (size_t)nb_pu;
	t->local_nodes = hwloc_bitmap_alloc();
	t->pus = calloc(n, sizeof(*t->pus));
	if (!t->local_nodes || !t->pus)
		return -ENOMEM;

	for (i = 0; i < n; i++) {
		hwloc_obj_t pu =
		    hwloc_get_obj_by_type(hw, HWLOC_OBJ_PU, (unsigned)i);
		hwloc_obj_t numa;
		dq__pu *p = &t->pus[i];

		if (!pu)
			return -ENODEV;
		numa = local_numa(pu);
		p->os_index = pu->os_index;
		p->core = ancestor_index(hw, HWLOC_OBJ_CORE, pu,
					 nb_core + (unsigned)i);
		p->numa = numa ? numa->logical_index : nb_numa;
		p->package = ancestor_index(hw, HWLOC_OBJ_PACKAGE, pu, nb_pkg);
		/* An L3 only counts when all L3s sit at one depth. */
		p->l3 =
		    nb_l3 ? ancestor_index(hw, HWLOC_OBJ_L3CACHE, pu, UINT_MAX)
			  : UINT_MAX;
		if (numa && hwloc_bitmap_set(t->local_nodes, numa->os_index))
			return -ENOMEM;
	}

	err = densify(t->pus, n, PU_CORE, (size_t)nb_core + n);
	if (!err)
		err = densify(t->pus, n, PU_NUMA, (size_t)nb_numa + 1);
	if (!err)
		err = densify(t->pus, n, PU_PACKAGE, (size_t)nb_pkg + 1);
	if (err)
		return err;
	/* Now that packages are dense, give L3-less PUs their package's. */
	for (i = 0; i < n; i++)
		if (t->pus[i].l3 == UINT_MAX || t->pus[i].l3 >= nb_l3)
			t->pus[i].l3 = nb_l3 + t->pus[i].package;
	err = densify(t->pus, n, PU_L3, (size_t)nb_l3 + nb_pkg + 1);
	if (err)
		return err;

	t->n_pus = n;
	t->n_cores = n_distinct(t->pus, n, PU_CORE);
	t->n_numa = n_distinct(t->pus, n, PU_NUMA);
	return 0;
}

/*
 * Keep only the PUs the process may run on. hwloc already leaves out what
 * the cgroup cpuset forbids; the CPU affinity (taskset, a batch scheduler's
 * binding, numactl) is the process's own and hwloc keeps the whole machine
 * unless told: restrict the topology to it, so that dq_cores() and every
 * plan count only usable cores. A binding hwloc cannot read leaves the
 * topology whole (there is nothing to honour then).
 */
static int
restrict_to_binding(hwloc_topology_t hw)
{
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	int err = 0;

	if (!set)
		return -ENOMEM;
	if (hwloc_get_cpubind(hw, set, HWLOC_CPUBIND_PROCESS) == 0 &&
	    !hwloc_bitmap_iszero(set) &&
	    hwloc_bitmap_intersects(set,
				    hwloc_topology_get_topology_cpuset(hw)) &&
	    !hwloc_bitmap_isincluded(hwloc_topology_get_topology_cpuset(hw),
				     set)) {
		errno = 0;
		if (hwloc_topology_restrict(hw, set, 0) < 0)
			err = neg_errno(-ENOMEM);
	}
	hwloc_bitmap_free(set);
	return err;
}

/* Load this machine (@synthetic NULL) or a synthetic one, and describe it. */
static int
topo_new(dq__topo **out, const char *synthetic)
{
	dq__topo *t;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	errno = 0;
	if (hwloc_topology_init(&t->hw) < 0) {
		err = neg_errno(-ENOMEM);
		free(t);
		return err;
	}
	/* hwloc only fails this for a description it cannot parse. */
	if (synthetic && hwloc_topology_set_synthetic(t->hw, synthetic) < 0) {
		err = -EINVAL;
		goto fail;
	}
	errno = 0;
	if (hwloc_topology_load(t->hw) < 0) {
		err = neg_errno(-EIO);
		goto fail;
	}
	/* HWLOC_SYNTHETIC or HWLOC_XMLFILE in the environment show hwloc
	 * another machine, as a synthetic description does: binding on it
	 * would "succeed" without effect. */
	t->thissystem = !synthetic && hwloc_topology_is_thissystem(t->hw);
	if (t->thissystem) {
		err = restrict_to_binding(t->hw);
		if (err)
			goto fail;
	}
	err = describe(t);
	if (err)
		goto fail;
	*out = t;
	return 0;
fail:
	dq__topo_destroy(t);
	return err;
}

int
dq__topo_load(dq__topo **out)
{
	if (!out)
		return -EINVAL;
	return topo_new(out, NULL);
}

int
dq__topo_load_synthetic(dq__topo **out, const char *desc)
{
	if (!out || !desc)
		return -EINVAL;
	return topo_new(out, desc);
}

void
dq__topo_destroy(dq__topo *t)
{
	if (!t)
		return;
	hwloc_bitmap_free(t->local_nodes);
	free(t->pus);
	hwloc_topology_destroy(t->hw);
	free(t);
}

/*
 * The machine's topology, read on first use and kept until exit (it stays
 * reachable, so leak checkers do not report it). A read that fails (an
 * allocation inside it, say) is tried again by the next caller instead of
 * leaving the process unpinned for life; the mutex makes the reads one at
 * a time and orders the pointer's publication.
 */
static pthread_mutex_t system_mu = PTHREAD_MUTEX_INITIALIZER;
static dq__topo *system_topo;

dq__topo *
dq__topo_system(void)
{
	dq__topo *t;

	pthread_mutex_lock(&system_mu);
	if (!system_topo && dq__topo_load(&t) == 0)
		system_topo = t;
	t = system_topo;
	pthread_mutex_unlock(&system_mu);
	return t;
}

int
dq__topo_pus(const dq__topo *t, dq__pu **pus, size_t *n)
{
	dq__pu *copy;

	if (!t || !pus || !n)
		return -EINVAL;
	copy = malloc(t->n_pus * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, t->pus, t->n_pus * sizeof(*copy));
	*pus = copy;
	*n = t->n_pus;
	return 0;
}

int
dq__topo_n_cores(const dq__topo *t)
{
	return t ? (int)t->n_cores : -EINVAL;
}

int
dq__topo_n_numa(const dq__topo *t)
{
	return t ? (int)t->n_numa : -EINVAL;
}

/*
 * The calling thread's affinity as the OS reports it (not hwloc's model
 * of it): true when it is exactly the one CPU @pu. A mask too small for
 * the kernel's is grown until it fits.
 */
static int
os_bound_to(unsigned pu)
{
	size_t ncpu = pu < 1024 ? 1024 : (size_t)pu + 1;

	for (;;) {
		cpu_set_t *set = CPU_ALLOC(ncpu);
		size_t size = CPU_ALLOC_SIZE(ncpu);
		int ok;

		if (!set)
			return -ENOMEM;
		CPU_ZERO_S(size, set);
		if (sched_getaffinity(0, size, set) < 0) {
			int err = errno;

			CPU_FREE(set);
			if (err == EINVAL && ncpu < (1u << 20)) {
				ncpu *= 2;
				continue;
			}
			return err > 0 ? -err : -EIO;
		}
		ok = CPU_COUNT_S(size, set) == 1 && pu < ncpu &&
		     CPU_ISSET_S(pu, size, set);
		CPU_FREE(set);
		return ok;
	}
}

/*
 * Bind the calling thread to one PU. The PU must belong to the topology:
 * that rejects typos in a pin list and PUs the process may not use
 * (left out at load) with -EINVAL before the kernel is asked. A topology
 * that is not this machine cannot bind anything, and says so rather than
 * let hwloc accept the call and do nothing. After the call the OS is
 * asked what it did: a binding that did not take effect is an error too.
 */
int
dq__topo_bind_thread(dq__topo *t, unsigned pu_os_index)
{
	hwloc_bitmap_t set;
	int err = 0;

	if (!t || !hwloc_bitmap_isset(hwloc_topology_get_topology_cpuset(t->hw),
				      pu_os_index))
		return -EINVAL;
	if (!t->thissystem)
		return DQ_ENOTHISSYS;
	set = hwloc_bitmap_alloc();
	if (!set)
		return -ENOMEM;
	if (hwloc_bitmap_only(set, pu_os_index) < 0) {
		err = -ENOMEM;
	} else {
		errno = 0;
		if (hwloc_set_cpubind(t->hw, set, HWLOC_CPUBIND_THREAD) < 0)
			err = neg_errno(-EIO);
	}
	hwloc_bitmap_free(set);
	if (!err) {
		err = os_bound_to(pu_os_index);
		err = err < 0 ? err : err ? 0 : DQ_EAFFINITY;
	}
	return err;
}

/*
 * Read the calling thread's binding back from the OS (not from what we
 * asked for), so that a caller can report the placement that really took
 * effect.
 */
int
dq__topo_thread_binding(dq__topo *t, unsigned *pus, size_t cap)
{
	hwloc_bitmap_t set;
	void *saved;
	size_t i = 0;
	int id, ret;

	if (!t || (!pus && cap))
		return -EINVAL;
	ret = dq__topo_save_binding(t, &saved);
	if (ret)
		return ret;
	set = saved;
	/* -1 is an infinite set, which no OS binding produces. */
	ret = hwloc_bitmap_weight(set);
	if (ret < 0)
		ret = -ERANGE;
	id = ret > 0 ? hwloc_bitmap_first(set) : -1;
	for (; id >= 0 && i < cap; id = hwloc_bitmap_next(set, id))
		pus[i++] = (unsigned)id;
	hwloc_bitmap_free(set);
	return ret;
}

int
dq__topo_save_binding(dq__topo *t, void **saved)
{
	hwloc_bitmap_t set;

	if (!t || !saved)
		return -EINVAL;
	*saved = NULL;
	if (!t->thissystem)
		return DQ_ENOTHISSYS;
	set = hwloc_bitmap_alloc();
	if (!set)
		return -ENOMEM;
	errno = 0;
	if (hwloc_get_cpubind(t->hw, set, HWLOC_CPUBIND_THREAD) < 0) {
		int err = neg_errno(-EIO);

		hwloc_bitmap_free(set);
		return err;
	}
	*saved = set;
	return 0;
}

int
dq__topo_restore_binding(dq__topo *t, void *saved)
{
	int err = 0;

	if (!saved)
		return 0;
	errno = 0;
	if (!t || hwloc_set_cpubind(t->hw, (hwloc_const_bitmap_t)saved,
				    HWLOC_CPUBIND_THREAD) < 0)
		err = t ? neg_errno(-EIO) : -EINVAL;
	hwloc_bitmap_free((hwloc_bitmap_t)saved);
	return err;
}

/*
 * Every block starts MEM_ALIGN bytes after a header that says how to free
 * it, so dq__mem_free() needs nothing but the pointer. The header goes in
 * and out with memcpy rather than through a cast: the block start is
 * aligned, but keeping the code free of alignment casts keeps
 * -Wcast-align quiet on every target. The allocator's own base need not
 * be aligned (hwloc's stand-in for synthetic topologies is malloc()),
 * hence the padding.
 */
#define MEM_ALIGN 64

struct mem_header {
	void *base;	     /* what the allocator returned */
	size_t total;	     /* bytes asked of the allocator */
	hwloc_topology_t hw; /* hwloc allocated it; NULL: posix_memalign */
};

_Static_assert(sizeof(struct mem_header) <= MEM_ALIGN,
	       "the header must fit in front of the block");

/*
 * Allocate @bytes aligned to MEM_ALIGN, interleaved over the local NUMA
 * nodes of @t when it has several. Interleaving spreads the table's pages
 * so that agents on every node share the memory bandwidth evenly instead
 * of all hammering the node of whoever touched the page first. STRICT
 * makes hwloc fail rather than silently hand back unbound memory, so that
 * *interleaved never claims what did not happen (an mbind() refused in a
 * container, say); we then fall back to plain memory.
 */
void *
dq__mem_alloc_on(dq__topo *t, size_t bytes, bool *interleaved)
{
	struct mem_header h = {NULL, 0, NULL};
	uintptr_t base, user;

	if (interleaved)
		*interleaved = false;
	if (bytes == 0 || bytes > SIZE_MAX - 2 * MEM_ALIGN)
		return NULL;
	/* Room for the header and, for an unaligned base, the padding. */
	h.total = bytes + 2 * MEM_ALIGN;

	if (t && hwloc_bitmap_weight(t->local_nodes) > 1) {
		h.base = hwloc_alloc_membind(
		    t->hw, h.total, t->local_nodes, HWLOC_MEMBIND_INTERLEAVE,
		    HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_STRICT);
		if (h.base)
			h.hw = t->hw;
	}
	if (!h.base && posix_memalign(&h.base, MEM_ALIGN, h.total) != 0)
		return NULL;

	base = (uintptr_t)h.base;
	user = (base + 2 * MEM_ALIGN - 1) & ~(uintptr_t)(MEM_ALIGN - 1);
	memcpy((char *)h.base + (user - base) - MEM_ALIGN, &h, sizeof(h));
	if (interleaved)
		*interleaved = h.hw != NULL;
	return (char *)h.base + (user - base);
}

void *
dq__mem_alloc(size_t bytes, bool *interleaved)
{
	return dq__mem_alloc_on(dq__topo_system(), bytes, interleaved);
}

void
dq__mem_free(void *p, size_t bytes)
{
	struct mem_header h;

	DQ__UNUSED(bytes);
	if (!p)
		return;
	memcpy(&h, (char *)p - MEM_ALIGN, sizeof(h));
	if (h.hw)
		hwloc_free(h.hw, h.base, h.total);
	else
		free(h.base);
}

int
dq__topo_is_this_system(const dq__topo *t)
{
	return t ? t->thissystem : -EINVAL;
}

/* CPUs the calling thread may run on, as the OS says; 0 if it cannot. */
static int
os_cpus(void)
{
	size_t ncpu = 1024;

	for (;;) {
		cpu_set_t *set = CPU_ALLOC(ncpu);
		size_t size = CPU_ALLOC_SIZE(ncpu);
		int n = 0;

		if (!set)
			return 0;
		CPU_ZERO_S(size, set);
		if (sched_getaffinity(0, size, set) == 0)
			n = CPU_COUNT_S(size, set);
		else if (errno == EINVAL && ncpu < (1u << 20)) {
			CPU_FREE(set);
			ncpu *= 2;
			continue;
		}
		CPU_FREE(set);
		return n;
	}
}

/*
 * Physical cores the process may use, for "--threads all" and the like.
 * SMT siblings are not counted: agents sharing a core mostly share its
 * execution units too. A topology that is not this machine's (hwloc shown
 * another one through HWLOC_SYNTHETIC or HWLOC_XMLFILE) says nothing about
 * this machine's cores, so the count is then the OS's: the CPUs in the
 * affinity mask, SMT siblings included. So it is when hwloc fails.
 */
int
dq_cores(void)
{
	dq__topo *t = dq__topo_system();
	long n;

	if (t && t->thissystem)
		return (int)t->n_cores;
	n = os_cpus();
	if (n < 1)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > INT_MAX ? INT_MAX : (int)n;
}
