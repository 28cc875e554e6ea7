/*
 * The placement policy: which PU each agent thread runs on. Pure functions
 * over the dq__pu array (no hwloc, no threads), so that the plans for
 * machines we do not have are tested on synthetic topologies.
 *
 * Agents of one learner all hammer one shared table, so what limits them
 * is per-core execution resources, cache and memory bandwidth. The core
 * policy therefore fills one core per agent before any SMT sibling, and
 * spreads consecutive agents over packages, NUMA nodes and L3 domains so
 * that a run with fewer agents than cores still uses every memory
 * controller and every L3.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin.h"

/* The grouping levels above a core: package, NUMA node, L3 domain. */
#define N_LEVELS 3

struct core {
	unsigned key[N_LEVELS]; /* group ids, coarsest level first */
	unsigned id;		/* dense core id */
};

/* Scratch for spread(): everything sized by the number of cores. */
struct spreader {
	struct core *c;	  /* the cores, reordered in place */
	struct core *tmp; /* dealing buffer */
	size_t *cur;	  /* N_LEVELS * n: run cursors, per level */
	size_t *end;	  /* N_LEVELS * n: run ends, per level */
	size_t n;
};

static int
core_cmp(const void *pa, const void *pb)
{
	const struct core *a = pa, *b = pb;
	unsigned l;

	for (l = 0; l < N_LEVELS; l++)
		if (a->key[l] != b->key[l])
			return a->key[l] < b->key[l] ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/*
 * Reorder cores [lo, hi) into spread order. They are sorted by key and
 * share every key above @level, so the runs of equal key[level] are the
 * children of this node of the package -> NUMA -> L3 tree. Each child is
 * spread on its own, then the children are dealt out round-robin, one
 * core from each in turn, dropping a child once it runs out: so any prefix
 * of the result has as even a share of every child as the counts allow.
 *
 * The runs of a range lie inside the range, so each level keeps its
 * cursors in the matching slice of its own scratch row; siblings use
 * disjoint slices and the recursion needs no allocation.
 */
static void
spread(struct spreader *s, size_t lo, size_t hi, unsigned level)
{
	size_t *cur = s->cur + level * s->n + lo;
	size_t *end = s->end + level * s->n + lo;
	size_t runs = 0, i, out = lo;

	if (level == N_LEVELS || hi - lo < 2)
		return;
	for (i = lo; i < hi; i++) {
		if (i > lo && s->c[i].key[level] == s->c[i - 1].key[level])
			continue;
		if (runs)
			end[runs - 1] = i;
		cur[runs++] = i;
	}
	end[runs - 1] = hi;
	for (i = 0; i < runs; i++)
		spread(s, cur[i], end[i], level + 1);

	while (runs) {
		size_t kept = 0;

		for (i = 0; i < runs; i++) {
			s->tmp[out++] = s->c[cur[i]++];
			if (cur[i] < end[i]) {
				cur[kept] = cur[i];
				end[kept] = end[i];
				kept++;
			}
		}
		runs = kept;
	}
	memcpy(s->c + lo, s->tmp + lo, (hi - lo) * sizeof(*s->c));
}

/* The value of grouping level @l (0 package, 1 NUMA, 2 L3) of @pu. */
static unsigned
level_key(const dq__pu *pu, unsigned l)
{
	return l == 0 ? pu->package : l == 1 ? pu->numa : pu->l3;
}

/*
 * Decide which grouping level is the coarsest: normally packages contain
 * NUMA nodes which contain L3 domains, but some machines nest NUMA nodes
 * above packages. Fewer groups means coarser, so order the levels by
 * their number of distinct ids, keeping package, NUMA, L3 on ties. Spread
 * over the coarsest first, consecutive agents then differ in the level
 * where being apart matters most.
 */
static int
level_order(const dq__pu *pus, size_t n_pus, unsigned order[N_LEVELS])
{
	size_t count[N_LEVELS] = {0}, i;
	unsigned l, j;
	unsigned char *seen;

	seen = malloc(n_pus);
	if (!seen)
		return -ENOMEM;
	for (l = 0; l < N_LEVELS; l++) {
		memset(seen, 0, n_pus);
		for (i = 0; i < n_pus; i++) {
			unsigned k = level_key(&pus[i], l);

			count[l] += !seen[k];
			seen[k] = 1;
		}
	}
	free(seen);

	for (l = 0; l < N_LEVELS; l++) {
		for (j = l; j > 0 && count[order[j - 1]] > count[l]; j--)
			order[j] = order[j - 1];
		order[j] = l;
	}
	return 0;
}

/*
 * The core policy: fill @seq with all n_pus PUs in the order agents get
 * them. Cores go into spread order; then the sequence takes the first PU
 * of every core in that order, then the second PU of every core that has
 * one, and so on, so no SMT sibling is used before every core is.
 */
static int
plan_cores(const dq__pu *pus, size_t n_pus, unsigned *seq)
{
	unsigned order[N_LEVELS];
	unsigned *start = NULL, *by_core = NULL;
	struct spreader s = {NULL, NULL, NULL, NULL, 0};
	size_t i, c, n_cores = 0, round, k = 0;
	int err;

	err = level_order(pus, n_pus, order);
	if (err)
		return err;

	/* Group the PUs by core (counting sort, keeping their order). */
	start = calloc(n_pus + 1, sizeof(*start));
	by_core = malloc(n_pus * sizeof(*by_core));
	if (!start || !by_core) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n_pus; i++)
		start[pus[i].core + 1]++;
	for (c = 0; c < n_pus; c++) {
		n_cores += start[c + 1] != 0;
		start[c + 1] += start[c];
	}
	for (i = 0; i < n_pus; i++)
		by_core[start[pus[i].core]++] = (unsigned)i;
	/* The fill advanced each start to the next core's: shift back. */
	memmove(start + 1, start, n_pus * sizeof(*start));
	start[0] = 0;

	s.n = n_cores;
	s.c = malloc(n_cores * sizeof(*s.c));
	s.tmp = malloc(n_cores * sizeof(*s.tmp));
	s.cur = malloc(N_LEVELS * n_cores * sizeof(*s.cur));
	s.end = malloc(N_LEVELS * n_cores * sizeof(*s.end));
	if (!s.c || !s.tmp || !s.cur || !s.end) {
		err = -ENOMEM;
		goto out;
	}
	/* Ids need not be gapless: a core with no PU is skipped. */
	for (c = 0, i = 0; c < n_pus; c++) {
		const dq__pu *first;
		unsigned l;

		if (start[c] == start[c + 1])
			continue;
		first = &pus[by_core[start[c]]];
		for (l = 0; l < N_LEVELS; l++)
			s.c[i].key[l] = level_key(first, order[l]);
		s.c[i++].id = (unsigned)c;
	}
	qsort(s.c, n_cores, sizeof(*s.c), core_cmp);
	spread(&s, 0, n_cores, 0);

	for (round = 0; k < n_pus; round++) {
		for (i = 0; i < n_cores; i++) {
			unsigned id = s.c[i].id;

			if (start[id] + round < start[id + 1])
				seq[k++] =
				    pus[by_core[start[id] + round]].os_index;
		}
	}
out:
	free(s.end);
	free(s.cur);
	free(s.tmp);
	free(s.c);
	free(by_core);
	free(start);
	return err;
}

/* The PUs' OS indices as ranges ("0-3,8"), cut short with "..." when
 * @p cap is too small. Assumes nothing of their order. */
static void
pus_text(const dq__pu *pus, size_t n_pus, char *buf, size_t cap)
{
	size_t len = 0;
	unsigned lo = 0;
	bool any = false;

	buf[0] = '\0';
	/* each index from the smallest up: n_pus is small (a machine) */
	for (unsigned next = 0;;) {
		unsigned best = UINT_MAX, hi;
		bool found = false;

		for (size_t j = 0; j < n_pus; j++)
			if (pus[j].os_index >= next &&
			    (!found || pus[j].os_index < best)) {
				best = pus[j].os_index;
				found = true;
			}
		if (!found)
			break;
		lo = hi = best;
		for (bool more = true; more && hi < UINT_MAX;) {
			more = false;
			for (size_t j = 0; j < n_pus; j++)
				if (pus[j].os_index == hi + 1) {
					hi++;
					more = true;
					break;
				}
		}
		if (len + 32 >= cap) {
			snprintf(buf + len, cap - len, "%s...", any ? "," : "");
			return;
		}
		len += (size_t)snprintf(buf + len, cap - len,
					lo == hi ? "%s%u" : "%s%u-%u",
					any ? "," : "", lo, hi);
		any = true;
		if (hi == UINT_MAX)
			break;
		next = hi + 1;
	}
}

/* Every listed PU must exist: a typo should fail at create, not bind. */
static int
check_list(const dq__pu *pus, size_t n_pus, const unsigned *list, size_t n_list)
{
	size_t i, j;
	char have[160];

	for (i = 0; i < n_list; i++) {
		for (j = 0; j < n_pus; j++)
			if (pus[j].os_index == list[i])
				break;
		if (j == n_pus) {
			pus_text(pus, n_pus, have, sizeof(have));
			dq__detail("pin_pus[%zu]: PU %u is not one this "
				   "process may run on (its CPU mask: PUs "
				   "%s)",
				   i, list[i], have);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Reject a PU array the policy could index out of bounds with: the dense
 * ids dq__topo_pus() produces are all below the number of PUs, and no PU
 * may look like the unbound marker.
 */
static int
check_pus(const dq__pu *pus, size_t n_pus)
{
	size_t i;

	for (i = 0; i < n_pus; i++) {
		const dq__pu *p = &pus[i];

		if (p->os_index == DQ__PIN_UNBOUND || p->core >= n_pus ||
		    p->numa >= n_pus || p->package >= n_pus || p->l3 >= n_pus)
			return -EINVAL;
	}
	return 0;
}

int
dq__pin_plan(const dq__pu *pus, size_t n_pus, dq_pin_policy policy,
	     uint32_t n_agents, const unsigned *list, size_t n_list,
	     unsigned *out)
{
	unsigned *seq;
	uint32_t i;
	int err;

	if (!out || n_agents == 0 || n_agents > DQ_MAX_THREADS ||
	    (!pus && n_pus))
		return -EINVAL;
	err = check_pus(pus, n_pus);
	if (err)
		return err;

	switch (policy) {
	case DQ_PIN_NONE:
		for (i = 0; i < n_agents; i++)
			out[i] = DQ__PIN_UNBOUND;
		return 0;
	case DQ_PIN_LIST:
		if (!n_pus || !list || !n_list)
			return -EINVAL;
		err = check_list(pus, n_pus, list, n_list);
		if (err)
			return err;
		for (i = 0; i < n_agents; i++)
			out[i] = list[i % n_list];
		return 0;
	case DQ_PIN_CORES:
		if (!n_pus)
			return -EINVAL;
		seq = malloc(n_pus * sizeof(*seq));
		if (!seq)
			return -ENOMEM;
		err = plan_cores(pus, n_pus, seq);
		for (i = 0; !err && i < n_agents; i++)
			out[i] = seq[i % n_pus];
		free(seq);
		return err;
	default:
		return -EINVAL;
	}
}
