/*
 * The machine as libdistq sees it: PUs, cores, NUMA nodes, thread binding
 * and NUMA-aware memory. lib/topology.c is the only file that includes
 * <hwloc.h>; everything here is hwloc-free so that the placement policy
 * (lib/pin.c) can be a pure function over a flat array and be tested on
 * synthetic machines.
 *
 * All functions return 0 (or a documented count) or a negative errno; none
 * prints or aborts.
 */
#ifndef DQ_TOPOLOGY_H
#define DQ_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/*
 * One processing unit (hardware thread). The ids other than os_index are
 * small, dense, 0-based and numbered in order of first appearance in the
 * hwloc logical PU order, so every id is below the number of PUs and can
 * index an array.
 */
typedef struct dq__pu {
	unsigned os_index; /* as the OS numbers CPUs (taskset, sched) */
	unsigned core;	   /* physical core; a PU without one is its own */
	unsigned numa;	   /* closest NUMA node (the PU's local memory) */
	unsigned package;  /* socket; 0 when hwloc reports none */
	unsigned l3;	   /* L3 domain; the package's when there is no L3 */
} dq__pu;

/* A loaded topology (opaque). Read-only once loaded, so shareable. */
typedef struct dq__topo dq__topo;

/*
 * Load this machine's topology. hwloc's own environment variables apply
 * (HWLOC_SYNTHETIC, HWLOC_XMLFILE), which is how a run can be shown a
 * different machine; such a topology is not this system (see
 * dq__topo_is_this_system()). PUs the process may not use are left out:
 * those its cgroup cpuset forbids, and those outside its CPU affinity at
 * load (taskset, numactl, a batch scheduler's binding).
 *
 * Returns 0, -EINVAL for a NULL @out, -ENOMEM, or hwloc's errno.
 */
int dq__topo_load(dq__topo **out);

/*
 * Load a synthetic topology described as hwloc_topology_set_synthetic()
 * takes it, e.g. "pack:2 numa:2 core:8 pu:2", for computing plans on
 * machines we do not have. Binding on it fails with DQ_ENOTHISSYS.
 *
 * Returns 0, -EINVAL for NULL arguments or a description hwloc rejects,
 * -ENOMEM.
 */
int dq__topo_load_synthetic(dq__topo **out, const char *desc);

/* Free a topology loaded by the two functions above. NULL is a no-op. */
void dq__topo_destroy(dq__topo *t);

/*
 * This machine's topology, loaded on first use and kept for the life of
 * the process (never destroy it). Safe from any thread.
 *
 * Returns NULL when hwloc cannot load it; callers then fall back to the
 * OS (unbound threads, plain memory, sysconf), and the next call tries
 * again.
 */
dq__topo *dq__topo_system(void);

/*
 * A copy of the PUs of @t in hwloc logical order, in a malloc'd array the
 * caller frees.
 *
 * Returns 0 (*n >= 1), -EINVAL for NULL arguments, -ENOMEM.
 */
int dq__topo_pus(const dq__topo *t, dq__pu **pus, size_t *n);

/* Physical cores of @t (>= 1), or -EINVAL for NULL. */
int dq__topo_n_cores(const dq__topo *t);

/* NUMA nodes local to some PU of @t (>= 1), or -EINVAL for NULL. */
int dq__topo_n_numa(const dq__topo *t);

/*
 * 1 when @t describes this machine (binding on it is real), 0 when it is
 * synthetic or read from XML (HWLOC_SYNTHETIC, HWLOC_XMLFILE), -EINVAL
 * for NULL.
 */
int dq__topo_is_this_system(const dq__topo *t);

/*
 * Bind the calling thread to the one PU with OS index @pu_os_index, and
 * check with the OS (sched_getaffinity) that the thread's affinity is now
 * that PU alone.
 *
 * Returns 0; -EINVAL for NULL @t or a PU that is not in @t; DQ_ENOTHISSYS
 * when @t is not this machine; DQ_EAFFINITY when the OS reports another
 * affinity after the call; or the OS's refusal (-EPERM, -ENOSYS,
 * -EXDEV...).
 * Thread-safety: any thread, concurrently with other bindings.
 */
int dq__topo_bind_thread(dq__topo *t, unsigned pu_os_index);

/*
 * The PUs the calling thread may run on, as OS indexes: up to @cap of them
 * are written to @pus (which may be NULL when @cap is 0).
 *
 * Returns how many PUs are in the binding (which may exceed @cap);
 * -EINVAL for NULL arguments; DQ_ENOTHISSYS when @t is not this machine
 * (it cannot tell); or the OS's errno.
 */
int dq__topo_thread_binding(dq__topo *t, unsigned *pus, size_t cap);

/*
 * The calling thread's binding, kept in *@saved (opaque, NULL when
 * nothing was kept), so that dq__topo_restore_binding() can put it back
 * after the thread was bound elsewhere: the learner binds the thread that
 * calls dq_learner_run() to agent 0's PU for the run.
 *
 * Returns 0; -EINVAL for NULL arguments; DQ_ENOTHISSYS when @t is not
 * this machine; -ENOMEM; or the OS's errno (*@saved is then NULL).
 * Thread-safety: any thread, about itself.
 */
int dq__topo_save_binding(dq__topo *t, void **saved);

/*
 * Bind the calling thread as dq__topo_save_binding() found it, and free
 * @saved (NULL: nothing to do). Returns 0, or the OS's errno.
 */
int dq__topo_restore_binding(dq__topo *t, void *saved);

/*
 * Memory for the Q-table, aligned to at least 64 bytes, not zeroed.
 * Interleaved page by page over the NUMA nodes of the system topology when
 * there are several and the OS lets us (*interleaved is then true), a
 * plain aligned allocation otherwise. @interleaved may be NULL.
 *
 * Returns NULL for @bytes 0, on overflow, or when memory runs out.
 */
void *dq__mem_alloc(size_t bytes, bool *interleaved);

/*
 * As dq__mem_alloc(), over the NUMA nodes of @t (NULL: plain memory).
 * For tests, which can hand it a synthetic multi-node machine; @t must
 * outlive the block.
 */
void *dq__mem_alloc_on(dq__topo *t, size_t bytes, bool *interleaved);

/*
 * Free a block from dq__mem_alloc() or dq__mem_alloc_on() with whatever
 * method allocated it (a header in front of the block remembers). @bytes
 * is the size that was asked for; the header is authoritative. NULL is a
 * no-op.
 */
void dq__mem_free(void *p, size_t bytes);

#endif /* DQ_TOPOLOGY_H */
