/*
 * distq - train, evaluate and inspect tabular Q-learning from the shell.
 *
 * This file is the dispatcher: the table of subcommands, the top-level
 * usage and --version. Each subcommand lives in its own file (models.c,
 * train.c, eval.c) and uses the public API only. docs/cli.md is the manual.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define STR2(x) #x
#define STR(x) STR2(x)

static const struct cli_cmd commands[] = {
    {"envs", "", "List the built-in environments.", NULL, cli_envs_opts,
     cli_envs},
    {"model", "[--start] ENV",
     "Print an environment's model (or start distribution) as TSV.",
     "ENV is a built-in name, optionally with parameters after a colon,\n"
     "e.g. maze4x3:slip=0.1,living_reward=-0.04.\n",
     cli_model_opts, cli_model},
    {"solve", "[--gamma G] [--values] ENV",
     "Solve a model exactly: print Q* (or V*) as TSV.", NULL, cli_solve_opts,
     cli_solve},
    {"train", "[options] ENV",
     "Train a shared Q-table with one agent thread per core.",
     "Without --steps, --seconds, --episodes or --target, training stops\n"
     "after 10M steps. Ctrl-C stops early and still prints the summary\n"
     "(and saves); a second Ctrl-C kills the program.\n",
     cli_train_opts, cli_train},
    {"eval", "--load FILE [options] ENV",
     "Run greedy episodes from a saved checkpoint.", NULL, cli_eval_opts,
     cli_eval},
    {"version", "", "Print the program's and the library's versions.", NULL,
     cli_version_opts, cli_version},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	fprintf(f, "usage: distq COMMAND [options] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\n'distq COMMAND --help' describes one command.\n");
}

static const struct cli_cmd *
find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

const struct cli_opt cli_version_opts[] = {{NULL, 0, NULL, 0, NULL}};

/*
 * The header the program was built with and the library it runs with can
 * differ when the shared library is upgraded underneath; print both.
 */
int
cli_version(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct cli_args a;
	const char *val;
	int k;

	cli_args_init(&a, cmd, argc, argv);
	while ((k = cli_next(&a, &val)) >= 0)
		;
	if (k == CLI_ARGS_HELP)
		return CLI_OK;
	if (k == CLI_ARGS_ERR || cli_want_pos(&a, 0, 0))
		return CLI_USAGE;
	printf("distq %s (libdistq %s, checkpoint format %u, env ABI %u)\n",
	       STR(DQ_VERSION_MAJOR) "." STR(DQ_VERSION_MINOR) "." STR(
		   DQ_VERSION_PATCH),
	       dq_version_string(), DQ_CHECKPOINT_VERSION, DQ_ENV_ABI);
	return cli_flush();
}

int
main(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	int status;

	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		if (argc > 2 && !strcmp(argv[1], "help")) {
			cmd = find_command(argv[2]);
			if (!cmd)
				return cli_usage_error(
				    NULL, "unknown command '%s'", argv[2]);
			cli_help(cmd);
		} else {
			usage(stdout);
		}
		return cli_flush();
	}
	if (!strcmp(argv[1], "--version"))
		return cli_version(find_command("version"), 1, argv + 1);
	cmd = find_command(argv[1]);
	if (!cmd) {
		if (argv[1][0] == '-')
			return cli_usage_error(NULL, "unknown option '%s'",
					       argv[1]);
		return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
	}
	status = cmd->run(cmd, argc - 1, argv + 1);
	if (status == CLI_OK)
		status = cli_flush();
	return status;
}
