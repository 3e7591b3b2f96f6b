/* SPDX-License-Identifier: GPL-2.0 */
/*
 * "add" words to the one-line grammar of module/spec.h, remembering where
 * each byte of the line came from, so that the parser's complaint (an
 * offset into the line) can be shown under the word the user typed.
 */
#ifndef TF_ADDSPEC_H
#define TF_ADDSPEC_H

#include <stddef.h>

#include "../../module/spec.h"
#include "args.h"

/**
 * struct addspec - a specification line built from command-line words
 * @line: the line, NUL-terminated
 * @len: its length
 * @cap: allocated bytes of @line and @from
 * @from: for each byte of @line, the word it came from ...
 * @off: ... and the offset in that word; -1 for bytes tcpfaultctl added
 *       (a "mode=" or "enabled=0" of its own), which stand for the whole word
 */
struct addspec {
	char *line;
	size_t len;
	size_t cap;
	int *from;
	int *off;
};

/**
 * struct adderr - why a command line does not make a fault
 * @span: where, in the command's words
 * @msg: the reason
 */
struct adderr {
	struct argspan span;
	char msg[TCPFAULT_ERR_MAX + 64];
};

int addspec_build(int argc, char **argv, int first, struct addspec *as,
		  struct adderr *ae);
int addspec_check(const struct addspec *as, struct tcpfault_spec *spec,
		  struct adderr *ae);
void addspec_free(struct addspec *as);

#endif /* TF_ADDSPEC_H */
