/*
 * distq - train, evaluate and inspect tabular Q-learning from the shell.
 *
 * main() alone: the program itself is cli_main() (cli/args.c dispatches to
 * the subcommands in models.c, train.c and eval.c), so that everything but
 * this file can also be linked into a test or a fuzzer that has a main()
 * of its own. docs/cli.md is the manual.
 */
#include <signal.h>

#include "cli.h"

int
main(int argc, char **argv)
{
	/* A write past the file-size limit (ulimit -f) then fails with
	 * EFBIG, which the program reports, instead of ending it. The
	 * library never changes signal dispositions; a program may. */
	signal(SIGXFSZ, SIG_IGN);
	return cli_main(argc, argv);
}
