/*
 * tests/fuzz/fuzz_cli.c - libFuzzer target for the distq command line
 * (cli/args.c and each subcommand's option parsing).
 *
 * Each input is a command line: words separated by NUL or newline bytes
 * (an empty word is a real, empty argument), at most MAX_WORDS words of at
 * most MAX_WORD bytes each, after an argv[0] of "distq". It is handed to
 * cli_check_args(), which parses it exactly as the program does and stops
 * before doing anything, silently. Every word is a separate allocation of
 * exactly its size, so that reading past an argument's end is caught by
 * ASan rather than running into the next one. Beyond ASan and UBSan, the
 * harness checks that the answer is one the program can give for parsing
 * (0 or 2, never an internal code) and the same when asked twice, with
 * and without the usage messages. The messages (formatted from the
 * arguments, so worth fuzzing too) are printed for one input in 16, on
 * stderr; run with -close_fd_mask=2 to keep them off the terminal.
 *
 * Built with every cli/ source but cli/distq.c (the program's main()):
 *   clang -fsanitize=fuzzer,address,undefined ... cli/args.c cli/common.c
 *   cli/models.c cli/train.c cli/eval.c tests/fuzz/fuzz_cli.c ...
 * Seeds: tests/fuzz/corpus_cli/, one command line per file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/cli.h"

#define MAX_WORDS 40
#define MAX_WORD 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char prog[] = "distq";
	char *argv[MAX_WORDS + 2];
	size_t at = 0;
	int argc = 1, a, b;

	argv[0] = prog;
	while (argc <= MAX_WORDS && at < size) {
		size_t len = 0, take;

		while (at + len < size && data[at + len] != '\0' &&
		       data[at + len] != '\n')
			len++;
		take = len < MAX_WORD ? len : MAX_WORD;
		argv[argc] = malloc(take + 1);
		if (!argv[argc])
			abort();
		memcpy(argv[argc], data + at, take);
		argv[argc][take] = '\0';
		argc++;
		at += len + 1; /* past the separator */
	}
	argv[argc] = NULL;

	a = cli_check_args(argc, argv, false);
	b = cli_check_args(argc, argv, size % 16 == 0);
	if ((a != CLI_OK && a != CLI_USAGE) || a != b)
		abort();

	for (int i = 1; i < argc; i++)
		free(argv[i]);
	return 0;
}
