/*
 * Where agent threads run: the placement policy, as a pure function over
 * the flat PU description of lib/topology.h. It knows nothing of hwloc or
 * threads, so it is tested on synthetic machines; the learner binds each
 * agent to what the plan says with dq__topo_bind_thread().
 */
#ifndef DQ_PIN_H
#define DQ_PIN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "topology.h"

/* A plan entry for an agent that is not to be bound (DQ_PIN_NONE). */
#define DQ__PIN_UNBOUND UINT_MAX

/*
 * Plan where each of @n_agents agents runs: out[i] receives the OS index
 * of agent i's PU, or DQ__PIN_UNBOUND.
 *
 *  - DQ_PIN_CORES: one agent per physical core, spread round-robin over
 *    packages, then NUMA nodes, then L3 domains (coarsest level first) so
 *    that consecutive agents land as far apart as the machine allows; once
 *    every core has one agent, the second PU of each core in the same
 *    order, and so on; past the last PU the plan wraps around.
 *  - DQ_PIN_LIST: agent i on list[i % n_list].
 *  - DQ_PIN_NONE: every agent DQ__PIN_UNBOUND (@pus may be NULL, @n_pus 0).
 *
 * @pus is what dq__topo_pus() returns (ids below @n_pus). @out is written
 * only on success.
 *
 * Returns 0; -EINVAL for NULL pointers, @n_agents 0 or above
 * DQ_MAX_THREADS, an unknown policy, a malformed @pus, no PUs for CORES or
 * LIST, an empty list, or a listed PU that is not in @pus; -ENOMEM.
 */
int dq__pin_plan(const dq__pu *pus, size_t n_pus, dq_pin_policy policy,
		 uint32_t n_agents, const unsigned *list, size_t n_list,
		 unsigned *out);

#endif /* DQ_PIN_H */
