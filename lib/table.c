/*
 * The shared Q-table: creation, placement, and the checked public
 * operations. The update disciplines themselves are in table.h, inline, so
 * the agents' loop pays no call for them.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "table.h"
#include "topology.h"

#define TABLE_MAX_STRIPES (1u << 16)
#define TABLE_AUTO_STRIPES 1024u

/* -EINVAL with a detail naming the field and its rule. */
#define TABLE_BAD(...) (dq__detail(__VA_ARGS__), -EINVAL)

int
dq_table_config_init(dq_table_config *cfg)
{
	if (!cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = DQ_MODE_CAS;
	cfg->q0 = 0.0;
	cfg->pad_rows = false;
	cfg->n_stripes = 0;
	cfg->channels = 1;
	return 0;
}

static uint32_t
round_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v && p < TABLE_MAX_STRIPES)
		p <<= 1;
	return p;
}

/* Striped mutexes for DQ_MODE_LOCKED: one per row modulo a power of two. */
static int
table_stripes_init(dq_table *t, uint32_t want)
{
	uint32_t n = want ? want : TABLE_AUTO_STRIPES;

	if (n > t->n_states)
		n = t->n_states;
	n = round_pow2(n);
	t->stripes = aligned_alloc(DQ__CACHE_LINE, n * sizeof(dq__stripe));
	if (!t->stripes)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		int err = pthread_mutex_init(&t->stripes[i].mu, NULL);

		if (err) {
			while (i--)
				pthread_mutex_destroy(&t->stripes[i].mu);
			free(t->stripes);
			t->stripes = NULL;
			return -err;
		}
	}
	t->stripe_mask = n - 1;
	return 0;
}

int
dq_table_create(dq_table **out, const dq_table_config *cfg)
{
	dq_table *t;
	size_t stride, entries, bytes;
	uint32_t channels;
	int err;

	dq__detail_clear();
	if (!out || !cfg)
		return TABLE_BAD("out and cfg must not be NULL");
	if (cfg->n_states == 0 || cfg->n_actions == 0)
		return TABLE_BAD("n_states %u, n_actions %u: both must be >= 1",
				 cfg->n_states, cfg->n_actions);
	if (cfg->mode != DQ_MODE_CAS && cfg->mode != DQ_MODE_HOGWILD &&
	    cfg->mode != DQ_MODE_LOCKED)
		return TABLE_BAD("mode %d is no dq_mode", (int)cfg->mode);
	if (!isfinite(cfg->q0))
		return TABLE_BAD("q0 %g is not finite", cfg->q0);
	if (cfg->n_stripes > TABLE_MAX_STRIPES)
		return TABLE_BAD("n_stripes %u is over %u", cfg->n_stripes,
				 TABLE_MAX_STRIPES);
	if ((err = DQ__RESERVED_CHECK(cfg, "")) != 0)
		return err;

	channels = cfg->channels ? cfg->channels : 1;
	if (channels > DQ_TABLE_MAX_CHANNELS)
		return TABLE_BAD("channels %u is over %u", channels,
				 DQ_TABLE_MAX_CHANNELS);
	/* Padding rounds each row up to whole cache lines. */
	stride = (size_t)cfg->n_actions * (channels + cfg->visit_counts);
	if (cfg->pad_rows) {
		size_t per_line = DQ__CACHE_LINE / sizeof(uint64_t);

		stride = (stride + per_line - 1) / per_line * per_line;
	}
	if (dq__mul_overflows(stride, cfg->n_states, &entries) ||
	    dq__mul_overflows(entries, sizeof(uint64_t), &bytes))
		return -ERANGE;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->stride = stride;
	t->n_states = cfg->n_states;
	t->n_actions = cfg->n_actions;
	t->channels = channels;
	t->width = cfg->n_actions * channels;
	t->visit_counts = cfg->visit_counts;
	t->mode = cfg->mode;
	t->bytes = bytes;
	t->q = dq__mem_alloc(bytes, &t->interleaved);
	if (!t->q) {
		free(t);
		return -ENOMEM;
	}
	if (t->mode == DQ_MODE_LOCKED) {
		err = table_stripes_init(t, cfg->n_stripes);
		if (err) {
			dq__mem_free(t->q, t->bytes);
			free(t);
			return err;
		}
	}
	/* Padding entries are set too, so the whole block is initialised;
	 * channels past 0 start at 0. */
	for (size_t i = 0; i < entries; i++)
		/* relaxed: not yet shared; publication is the caller's */
		dq__store_u64(
		    &t->q[i],
		    dq__d2u(i % stride < cfg->n_actions ? cfg->q0 : 0.0),
		    memory_order_relaxed);
	*out = t;
	return 0;
}

void
dq_table_destroy(dq_table *t)
{
	if (!t)
		return;
	if (t->stripes) {
		for (uint32_t i = 0; i <= t->stripe_mask; i++)
			pthread_mutex_destroy(&t->stripes[i].mu);
		free(t->stripes);
	}
	dq__mem_free(t->q, t->bytes);
	free(t);
}

int
dq_table_info_get(const dq_table *t, dq_table_info *info)
{
	if (!t || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->n_states = t->n_states;
	info->n_actions = t->n_actions;
	info->mode = t->mode;
	info->row_stride = t->stride;
	info->bytes = t->bytes;
	info->numa_interleaved = t->interleaved;
	info->channels = t->channels;
	info->visit_counts = t->visit_counts;
	return 0;
}

static int
table_check(const dq_table *t, uint32_t s, uint32_t a)
{
	if (!t)
		return -EINVAL;
	if (s >= t->n_states || a >= t->n_actions)
		return -ERANGE;
	return 0;
}

int
dq_table_get(const dq_table *t, uint32_t s, uint32_t a, double *out)
{
	int err = table_check(t, s, a);

	if (err)
		return err;
	if (!out)
		return -EINVAL;
	*out = dq__table_get(t, s, a);
	return 0;
}

int
dq_table_set(dq_table *t, uint32_t s, uint32_t a, double value)
{
	int err = table_check(t, s, a);

	if (err)
		return err;
	if (!dq__finite_or_refuse(dq__d2u(value)))
		return -EINVAL;
	/* relaxed: a plain overwrite; racing updates may win either way */
	dq__store_u64(dq__table_row(t, s) + a, dq__d2u(value),
		      memory_order_relaxed);
	return 0;
}

int
dq_table_channel_get(const dq_table *t, uint32_t channel, uint32_t s,
		     uint32_t a, double *out)
{
	int err = table_check(t, s, a);

	if (err)
		return err;
	if (!out)
		return -EINVAL;
	if (channel >= t->channels)
		return -ERANGE;
	*out = dq__table_get(t, s, channel * t->n_actions + a);
	return 0;
}

int
dq_table_visits_get(const dq_table *t, uint32_t s, uint32_t a, uint64_t *out)
{
	int err = table_check(t, s, a);

	if (err)
		return err;
	if (!out)
		return -EINVAL;
	if (!t->visit_counts)
		return -ENOTSUP;
	/* relaxed: a counter, publishing nothing */
	*out = dq__load_u64(dq__table_row(t, s) + t->width + a,
			    memory_order_relaxed);
	return 0;
}

int
dq_table_row(const dq_table *t, uint32_t s, double *out, size_t n)
{
	int err = table_check(t, s, 0);

	if (err)
		return err;
	if (!out || n < t->n_actions)
		return -EINVAL;
	for (uint32_t a = 0; a < t->n_actions; a++)
		out[a] = dq__table_get(t, s, a);
	return 0;
}

int
dq_table_max(const dq_table *t, uint32_t s, double *out)
{
	int err = table_check(t, s, 0);

	if (err)
		return err;
	if (!out)
		return -EINVAL;
	*out = dq__table_max(t, s);
	return 0;
}

int
dq_table_greedy(const dq_table *t, uint32_t s, dq_rng *rng, uint32_t *action)
{
	int err = table_check(t, s, 0);

	if (err)
		return err;
	if (!action)
		return -EINVAL;
	*action = dq__table_greedy(t, s, rng);
	return 0;
}

int
dq_table_update(dq_table *t, uint32_t s, uint32_t a, double alpha,
		double target)
{
	int err = table_check(t, s, a);

	if (err)
		return err;
	if (!(alpha > 0.0 && alpha <= 1.0) || !isfinite(target))
		return -EINVAL;
	err = dq__table_apply(t, s, a, (dq__op){DQ__OP_TD, alpha, target, 0.0});
	return err < 0 ? err : 0;
}

int
dq_table_add(dq_table *t, uint32_t s, uint32_t a, double delta)
{
	int err = table_check(t, s, a);

	if (err)
		return err;
	if (!isfinite(delta))
		return -EINVAL;
	err = dq__table_apply(t, s, a, (dq__op){DQ__OP_ADD, delta, 0.0, 0.0});
	return err < 0 ? err : 0;
}

int
dq_table_fill(dq_table *t, double value)
{
	if (!t || !dq__finite_or_refuse(dq__d2u(value)))
		return -EINVAL;
	for (uint32_t s = 0; s < t->n_states; s++)
		for (uint32_t a = 0; a < t->n_actions; a++)
			/* relaxed: documented as racing with updates */
			dq__store_u64(dq__table_row(t, s) + a, dq__d2u(value),
				      memory_order_relaxed);
	return 0;
}

int
dq_table_snapshot(const dq_table *t, double *out, size_t n)
{
	if (!t || !out || n / t->n_actions < t->n_states)
		return -EINVAL;
	for (uint32_t s = 0; s < t->n_states; s++)
		for (uint32_t a = 0; a < t->n_actions; a++)
			out[(size_t)s * t->n_actions + a] =
			    dq__table_get(t, s, a);
	return 0;
}

int
dq_table_load(dq_table *t, const double *in, size_t n)
{
	size_t total;

	if (!t || !in || n / t->n_actions < t->n_states)
		return -EINVAL;
	total = (size_t)t->n_states * t->n_actions;
	/* Validate everything first so that a bad array changes nothing. */
	for (size_t i = 0; i < total; i++)
		if (!dq__finite_or_refuse(dq__d2u(in[i])))
			return -EINVAL;
	for (uint32_t s = 0; s < t->n_states; s++)
		for (uint32_t a = 0; a < t->n_actions; a++)
			/* relaxed: documented as racing with updates */
			dq__store_u64(dq__table_row(t, s) + a,
				      dq__d2u(in[(size_t)s * t->n_actions + a]),
				      memory_order_relaxed);
	return 0;
}

int
dq_table_policy(const dq_table *t, uint32_t *policy, size_t n)
{
	if (!t || !policy || n < t->n_states)
		return -EINVAL;
	for (uint32_t s = 0; s < t->n_states; s++)
		policy[s] = dq__table_greedy(t, s, NULL);
	return 0;
}

void
dq__table_export(const dq_table *t, double *vals, uint64_t *visits)
{
	const size_t a_n = t->n_actions, sa = (size_t)t->n_states * a_n;

	for (uint32_t s = 0; s < t->n_states; s++) {
		const dq__atomic_u64 *row = dq__table_row(t, s);

		for (uint32_t c = 0; c < t->channels; c++)
			for (size_t a = 0; a < a_n; a++)
				/* relaxed: a snapshot, consistent per entry */
				vals[c * sa + s * a_n + a] =
				    dq__u2d(dq__load_u64(row + c * a_n + a,
							 memory_order_relaxed));
		if (t->visit_counts)
			for (size_t a = 0; a < a_n; a++)
				/* relaxed: a counter, publishing nothing */
				visits[s * a_n + a] = dq__load_u64(
				    row + t->width + a, memory_order_relaxed);
	}
}

int
dq__table_import(dq_table *t, const double *vals, const uint64_t *visits)
{
	const size_t a_n = t->n_actions, sa = (size_t)t->n_states * a_n;

	for (size_t i = 0; i < sa * t->channels; i++)
		if (!dq__finite_or_refuse(dq__d2u(vals[i])))
			return -EINVAL;
	for (uint32_t s = 0; s < t->n_states; s++) {
		dq__atomic_u64 *row = dq__table_row(t, s);

		for (uint32_t c = 0; c < t->channels; c++)
			for (size_t a = 0; a < a_n; a++)
				/* relaxed: documented as racing with updates */
				dq__store_u64(
				    row + c * a_n + a,
				    dq__d2u(vals[c * sa + s * a_n + a]),
				    memory_order_relaxed);
		if (t->visit_counts)
			for (size_t a = 0; a < a_n; a++)
				/* relaxed: as above */
				dq__store_u64(row + t->width + a,
					      visits[s * a_n + a],
					      memory_order_relaxed);
	}
	return 0;
}
