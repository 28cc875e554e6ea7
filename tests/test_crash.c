/*
 * tests/test_crash.c - checkpoints under faults: a writer killed at random
 * moments, and a file system that runs out of space.
 *
 * The kill test forks a child that saves checkpoints to one path in a loop
 * and SIGKILLs it after a random delay, many times over. After each kill
 * the file at the path must load and hold either the last checkpoint the
 * child reported complete or the one it was writing (renamed, but killed
 * before it could report), never a mix or a partial file; and the only
 * debris may be temporary files of killed writers, which the next save
 * removes. Checkpoint k holds k everywhere (every value, the step count,
 * every agent's step count), so a mix of two saves cannot pass for one.
 *
 * The child never starts a thread and the parent starts none either, so
 * fork() is safe under ASan and TSan alike. DQ_STRESS=N multiplies the
 * number of kills (default 50).
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dq_test.h"

#define S 32
#define A 32
#define NAG 2
#define KILLS 50
#define MAX_DELAY_US 5000.0 /* kills land from 1 us to 5 ms in */
#define READY UINT64_MAX    /* the child's first report */

static char dir[64];

static void
meta_for(dq_checkpoint_meta *m, uint64_t k)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->env, "crash");
	m->gamma = 0.9;
	m->alpha = 0.1;
	m->epsilon = 0.1;
	m->steps = k;
	m->episodes = k;
}

/* Checkpoint number @k: k in every value, counter and agent. */
static int
save_k(const char *path, dq_table *t, uint64_t k)
{
	dq_agent_state ag[NAG];
	dq_checkpoint_meta m;

	meta_for(&m, k);
	memset(ag, 0, sizeof(ag));
	for (int i = 0; i < NAG; i++) {
		ag[i].rng.s[0] = k + 1;
		ag[i].steps = k;
		ag[i].episodes = k;
	}
	dq_table_fill(t, (double)k);
	return dq_checkpoint_save_run(path, t, &m, ag, NAG);
}

/*
 * Load @path and return the k it holds, failing the test unless every part
 * of the file says the same k.
 */
static uint64_t
load_k(const char *path, dq_table *t)
{
	dq_agent_state ag[NAG];
	dq_checkpoint_meta m;
	double v[S * A];
	uint64_t k;

	assert_int_equal(dq_checkpoint_load_run(path, t, &m, ag, NAG), 0);
	assert_int_equal(m.n_agents, NAG);
	assert_int_equal(dq_table_snapshot(t, v, S * A), 0);
	k = m.steps;
	assert_true(m.episodes == k);
	for (int i = 0; i < S * A; i++)
		assert_true(v[i] == (double)k);
	for (int i = 0; i < NAG; i++)
		assert_true(ag[i].steps == k && ag[i].rng.s[0] == k + 1);
	return k;
}

/*
 * Count the temporary files in directory @in, failing on anything else
 * besides the checkpoint @name itself (and what @also names).
 */
static int
debris(const char *in, const char *name, const char *also)
{
	size_t len = strlen(name);
	DIR *d = opendir(in);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, name) ||
		    (also && !strcmp(e->d_name, also)))
			continue;
		if (strncmp(e->d_name, name, len) ||
		    strncmp(e->d_name + len, ".tmp.", 5) ||
		    strlen(e->d_name) != len + 5 + 6)
			fail_msg("unexpected file '%s'", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

/*
 * The child: save checkpoints k0, k0 + 1, ... until killed, reporting
 * each one on @out once dq_checkpoint_save_run() has returned. An alarm
 * bounds its life should the parent die first.
 */
static void
child(const char *path, uint64_t k, int out)
{
	uint64_t ready = READY;
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);

	alarm(30);
	if (write(out, &ready, sizeof(ready)) != sizeof(ready))
		_exit(2);
	for (;; k++) {
		if (save_k(path, t, k) != 0)
			_exit(3);
		if (write(out, &k, sizeof(k)) != sizeof(k))
			_exit(2);
	}
}

/* Read one report; false at end of file. */
static bool
report(int fd, uint64_t *k)
{
	size_t got = 0;

	while (got < sizeof(*k)) {
		ssize_t r = read(fd, (char *)k + got, sizeof(*k) - got);

		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r >= 0);
		if (r == 0) {
			assert_int_equal(got, 0); /* whole reports only */
			return false;
		}
		got += (size_t)r;
	}
	return true;
}

/* A delay from 1 us to MAX_DELAY_US, uniform in its logarithm. */
static void
random_sleep(dq_rng *rng)
{
	double us = exp(dq_rng_uniform(rng) * log(MAX_DELAY_US));
	struct timespec ts = {0, (long)(us * 1000.0)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
test_kill_during_saves(void **state)
{
	unsigned long kills = KILLS * dq_test_stress();
	unsigned long saves = 0, caught_new = 0, rounds_unclean = 0;
	unsigned long left = 0;
	int most_debris = 0;
	char path[128];
	uint64_t on_disk = 0, seed;
	dq_table *t = dq_test_table(S, A, DQ_MODE_CAS, 0.0, false);
	struct timespec now;
	dq_rng rng;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &now);
	seed = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	dq_rng_seed(&rng, seed, 0);
	dq_test_path_in(path, sizeof(path), dir, "crash.ckp");
	assert_int_equal(save_k(path, t, 0), 0);
	for (unsigned long round = 0; round < kills; round++) {
		uint64_t k, last = on_disk, first = on_disk + 1;
		bool saved = false;
		int p[2], status, n;
		pid_t pid;

		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			child(path, first, p[1]);
		}
		close(p[1]);
		assert_true(report(p[0], &k) && k == READY);
		random_sleep(&rng);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail_msg("seed %llu: child ended with status %d",
				 (unsigned long long)seed, status);
		while (report(p[0], &k)) {
			assert_true(k == last + 1 || (!saved && k == first));
			last = k;
			saved = true;
			saves++;
		}
		close(p[0]);

		/* The last reported checkpoint, or the next one if its
		 * rename happened before the kill. */
		on_disk = load_k(path, t);
		if (on_disk != last && on_disk != last + 1)
			fail_msg("seed %llu: file holds %llu, last saved %llu",
				 (unsigned long long)seed,
				 (unsigned long long)on_disk,
				 (unsigned long long)last);
		caught_new += on_disk == last + 1;
		/* A child that completed a save had cleaned up before it;
		 * each child since may have left one temporary file. */
		rounds_unclean = saved ? 1 : rounds_unclean + 1;
		n = debris(dir, "crash.ckp", NULL);
		assert_true(n >= 0 && (unsigned long)n <= rounds_unclean);
		most_debris = n > most_debris ? n : most_debris;
		left += n > 0;
	}
	/* The next save removes what the killed writers left. */
	assert_int_equal(save_k(path, t, on_disk + 1), 0);
	assert_int_equal(debris(dir, "crash.ckp", NULL), 0);
	assert_true(load_k(path, t) == on_disk + 1);
	print_message("crash: %lu kills, %lu saves completed, %lu times the "
		      "unreported checkpoint, %lu times temporary files left "
		      "(at most %d; seed %llu)\n",
		      kills, saves, caught_new, left, most_debris,
		      (unsigned long long)seed);
	dq_table_destroy(t);
	unlink(path);
}

/* ------------------------------------------------------ full file system -- */

static char mnt[96];
static bool mounted;

static int
unmount(void **state)
{
	(void)state;
	if (mounted)
		umount2(mnt, MNT_DETACH);
	mounted = false;
	rmdir(mnt);
	return 0;
}

/* Fill the file system at @path with a file until it refuses; its size. */
static off_t
fill(const char *path)
{
	static const char page[4096];
	FILE *f = fopen(path, "wb");
	off_t n = 0;

	assert_non_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	while (fwrite(page, 1, sizeof(page), f) == sizeof(page))
		n += (off_t)sizeof(page);
	fclose(f);
	return n;
}

/*
 * A 64 KiB tmpfs: a save that does not fit fails with -ENOSPC, leaves no
 * temporary file and keeps the previous checkpoint; with room for exactly
 * one more copy a save succeeds. Mounting needs privileges (root, and a
 * container that allows it); without them the test is skipped.
 */
static void
test_full_filesystem(void **state)
{
	char path[160], filler[160];
	dq_table *small =
	    dq_test_table(S, A, DQ_MODE_CAS, 0.0, false); /* 8 KiB of values */
	dq_table *big = dq_test_table(128, 128, DQ_MODE_CAS, 0.0, false);
	off_t filled;
	int err;

	(void)state;
	dq_test_path_in(mnt, sizeof(mnt), dir, "mnt");
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV,
		  "size=64k,mode=0700") != 0) {
		print_message("full file system: cannot mount a tmpfs (%s)\n",
			      strerror(errno));
		dq_table_destroy(small);
		dq_table_destroy(big);
		skip();
	}
	mounted = true;
	snprintf(path, sizeof(path), "%s/full.ckp", mnt);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);

	assert_int_equal(save_k(path, small, 1), 0);
	/* 128 KiB of values into 64 KiB. */
	dq_table_fill(big, 5.0);
	{
		dq_checkpoint_meta m;

		meta_for(&m, 5);
		assert_int_equal(dq_checkpoint_save(path, big, &m), -ENOSPC);
	}
	assert_true(load_k(path, small) == 1);
	assert_int_equal(debris(mnt, "full.ckp", NULL), 0);

	/* Completely full: not even a new checkpoint's first page fits. */
	filled = fill(filler);
	assert_true(filled > 0);
	err = save_k(path, small, 2);
	assert_int_equal(err, -ENOSPC);
	assert_true(load_k(path, small) == 1);
	assert_int_equal(debris(mnt, "full.ckp", "filler"), 0);

	/* Room for one more copy (the old one is freed by the rename). */
	assert_int_equal(truncate(filler, filled - 16 * 1024), 0);
	assert_int_equal(save_k(path, small, 3), 0);
	assert_true(load_k(path, small) == 3);
	assert_int_equal(save_k(path, small, 4), 0);
	assert_true(load_k(path, small) == 4);

	unlink(filler);
	unlink(path);
	dq_table_destroy(small);
	dq_table_destroy(big);
}

static int
setup(void **state)
{
	(void)state;
	return dq_test_scratch_dir(dir, sizeof(dir), "dq_crash");
}

static int
teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[160];

	(void)state;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		dq_test_path_in(path, sizeof(path), dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_during_saves),
	    cmocka_unit_test_teardown(test_full_filesystem, unmount),
	};

	return cmocka_run_group_tests_name("crash", tests, setup, teardown);
}
