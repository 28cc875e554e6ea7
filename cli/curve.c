/*
 * distq train --curve / --plot: the learning curve of a run, from the
 * learner's evaluator (dq_learner_config.eval_every), as CSV and as a
 * gnuplot drawing.
 *
 * The CSV is written as the run goes: the header when the file is opened
 * (before training), then one row per evaluation, each flushed with one
 * write(2) once it is complete, so that a run killed at any point leaves a
 * file whose every line is a whole row. It is not written atomically
 * (temporary file and rename): a reader may watch it grow, and a killed
 * run keeps what it had.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* The columns, in order (docs/cli.md describes each). */
static const char curve_header[] =
    "index,seconds,steps,episodes,run_steps,mean_return,return_se,"
    "mean_discounted,discounted_se,exact_value,optimal_value,gap,epsilon,"
    "alpha,eval_seconds,final\n";

int
cli_curve_open(struct cli_curve *c, const char *path, const char *opt)
{
	memset(c, 0, sizeof(*c));
	if (cli_check_target(path, opt))
		return CLI_FAIL;
	c->f = fopen(path, "w");
	if (!c->f)
		return cli_fail(-errno, "%s '%s'", opt, path);
	/* Rows are flushed one by one: a buffer that holds a whole row
	 * makes each one write(2). */
	setvbuf(c->f, NULL, _IOFBF, 4096);
	c->path = path;
	if (fputs(curve_header, c->f) == EOF || fflush(c->f) == EOF) {
		int err = -errno;

		fclose(c->f);
		c->f = NULL;
		return cli_fail(err, "%s '%s'", opt, path);
	}
	return CLI_OK;
}

/* A number as the CSV holds it: "nan" for NaN (gnuplot and csv readers
 * take it), else the shortest decimal that reads back as the same
 * double. */
static const char *
csv_real(char *buf, size_t cap, double v)
{
	if (isnan(v)) {
		snprintf(buf, cap, "nan");
		return buf;
	}
	return cli_real(buf, cap, v);
}

void
cli_curve_row(struct cli_curve *c, const dq_eval_record *r)
{
	char b[11][32];
	int n;

	c->rows++;
	c->last = *r;
	if (!c->f || c->err)
		return;
	n = fprintf(
	    c->f, "%u,%s,%llu,%llu,%llu,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d\n",
	    r->index, csv_real(b[0], 32, r->seconds),
	    (unsigned long long)r->steps, (unsigned long long)r->episodes,
	    (unsigned long long)r->run_steps,
	    csv_real(b[1], 32, r->mean_return),
	    csv_real(b[2], 32, r->return_se),
	    csv_real(b[3], 32, r->mean_discounted),
	    csv_real(b[4], 32, r->discounted_se),
	    csv_real(b[5], 32, r->exact_value),
	    csv_real(b[6], 32, r->optimal_value), csv_real(b[7], 32, r->gap),
	    csv_real(b[8], 32, r->epsilon), csv_real(b[9], 32, r->alpha),
	    csv_real(b[10], 32, r->eval_seconds), r->final);
	if (n < 0 || fflush(c->f) == EOF)
		c->err = errno ? -errno : -EIO;
}

int
cli_curve_close(struct cli_curve *c)
{
	int err = c->err;

	if (c->f && fclose(c->f) == EOF && !err)
		err = errno ? -errno : -EIO;
	c->f = NULL;
	return err;
}

/* Whether @name is an executable file in a directory of $PATH. */
static bool
on_path(const char *name)
{
	const char *p = getenv("PATH");
	char buf[4096];

	if (!p || !*p)
		return false;
	while (*p) {
		size_t len = strcspn(p, ":");

		if (len + 1 + strlen(name) < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)len,
				 len ? p : ".", name);
			if (!len)
				snprintf(buf, sizeof(buf), "./%s", name);
			if (access(buf, X_OK) == 0)
				return true;
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return false;
}

int
cli_plot_check(const char *png)
{
	if (!on_path("gnuplot")) {
		/* no errno text: the message says all there is */
		fprintf(stderr,
			"distq: --plot '%s': gnuplot is not installed "
			"(Debian: gnuplot-nox; 'sh scripts/deps.sh --install "
			"bench' installs it); --curve FILE.csv needs no "
			"gnuplot\n",
			png);
		return CLI_FAIL;
	}
	/* gnuplot's strings cannot hold a newline; everything else is
	 * quoted (see put_quoted()). */
	if (strchr(png, '\n'))
		return cli_fail(-EINVAL, "--plot: a file name with a newline");
	return cli_check_target(png, "--plot");
}

/* @s as a gnuplot single-quoted string: '' is one quote inside. */
static void
put_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

/* One panel: the greedy mean return with its standard error against column
 * @x, and the exact value when there is one (a column of nothing but
 * "nan" would make gnuplot fail). */
static void
plot_panel(FILE *g, const char *csv, int x, bool exact)
{
	fputs("plot ", g);
	put_quoted(g, csv);
	fprintf(g, " using %d:6:7 with yerrorlines title 'greedy mean return'",
		x);
	if (exact)
		fprintf(g,
			", '' using %d:10 with lines title 'exact value "
			"(discounted)'",
			x);
	fputc('\n', g);
}

int
cli_plot(const char *csv, const char *png, const char *title, bool exact)
{

	FILE *g;
	int st;

	if (strchr(csv, '\n'))
		return cli_fail(-EINVAL, "--plot: a file name with a newline");
	fflush(stdout);
	g = popen("gnuplot", "w");
	if (!g)
		return cli_fail(-errno, "--plot: starting gnuplot");
	fputs("set terminal pngcairo size 1200,480 noenhanced\nset output ", g);
	put_quoted(g, png);
	fputs("\nset datafile separator comma\n"
	      "set datafile missing 'nan'\n"
	      "set key autotitle columnhead bottom right\n"
	      "set grid\nset multiplot layout 1,2 title ",
	      g);
	put_quoted(g, title);
	fputs("\nset xlabel 'wall time (s)'\nset ylabel 'return'\n", g);
	/* Column 1 is the index; 2 seconds, 3 steps, 6 mean return, 7 its
	 * standard error, 8 the discounted mean, 10 the exact value. */
	plot_panel(g, csv, 2, exact);
	fputs("set xlabel 'total steps'\nset format x '%.1s%c'\n", g);
	plot_panel(g, csv, 3, exact);
	fputs("unset multiplot\n", g);
	st = pclose(g);
	if (st == -1)
		return cli_fail(-errno, "--plot: gnuplot");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return cli_fail(-EIO,
				"--plot '%s': gnuplot failed (its "
				"message is above)",
				png);
	return CLI_OK;
}
