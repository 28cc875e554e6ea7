/*
 * The list of built-in environments and opening one by name. The order of
 * the list is part of what users see (the distq program prints it), so it
 * only ever grows at the end.
 */
#include <errno.h>
#include <string.h>

#include "envs.h"

static const dq_env_ops *const builtins[] = {
    &dq__env_maze4x3,	    &dq__env_taxi,
    &dq__env_frozenlake4x4, &dq__env_frozenlake4x4_det,
    &dq__env_frozenlake8x8, &dq__env_frozenlake8x8_det,
    &dq__env_cliffwalking,  &dq__env_cartpole,
    &dq__env_scalable,	    &dq__env_maxbias,
    &dq__env_mountaincar,   &dq__env_acrobot,
    &dq__env_snake,
};

#define N_BUILTINS (sizeof(builtins) / sizeof(builtins[0]))

int
dq_env_builtins(const dq_env_ops **ops, size_t cap)
{
	if (!ops && cap)
		return -EINVAL;
	for (size_t i = 0; i < cap && i < N_BUILTINS; i++)
		ops[i] = builtins[i];
	return (int)N_BUILTINS;
}

/*
 * "name" or "name:params". The name is everything before the first colon,
 * compared in full, so "taxi2" or "tax" never match "taxi"; the parameters
 * are handed to the environment untouched (it validates them).
 */
int
dq_env_open_name(dq_env **out, const char *spec)
{
	const char *colon;
	size_t len;

	if (!out || !spec)
		return dq_env_fail(-EINVAL, NULL, NULL);
	colon = strchr(spec, ':');
	len = colon ? (size_t)(colon - spec) : strlen(spec);
	for (size_t i = 0; i < N_BUILTINS; i++) {
		const char *name = builtins[i]->name;

		if (strlen(name) == len && memcmp(name, spec, len) == 0)
			return dq_env_open(out, builtins[i],
					   colon ? colon + 1 : NULL, NULL);
	}
	return dq_env_fail(-ENOENT, "unknown environment", NULL);
}
