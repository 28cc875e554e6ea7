/*
 * The tile coders and settings tuned for the built-in continuous
 * environments (docs/seeds.md, "Continuous control (tile coding)"): the
 * one table that `distq train --tiles auto`, Python's train(tiles="auto")
 * and bench/tiles_solve.c read.
 */
#include <errno.h>
#include <string.h>

#include "distq.h"

static const struct tiles_tuned {
	const char *env, *tiles;
	double alpha, epsilon, gamma;
} tuned[] = {
    {"cartpole", "8x4,4,8,8", 0.1, 0.05, 1.0},
    {"mountaincar", "8x8,8", 0.5, 0.0, 1.0},
    {"acrobot", "8x6,6,6,6,8,8/65536", 0.3, 0.0, 1.0},
};

int
dq_tiles_tuned(const char *env, const char **spec, double *alpha,
	       double *epsilon, double *gamma)
{
	if (!env)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(tuned) / sizeof(*tuned); i++) {
		if (strcmp(env, tuned[i].env))
			continue;
		if (spec)
			*spec = tuned[i].tiles;
		if (alpha)
			*alpha = tuned[i].alpha;
		if (epsilon)
			*epsilon = tuned[i].epsilon;
		if (gamma)
			*gamma = tuned[i].gamma;
		return 0;
	}
	return -ENOENT;
}
