/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command-line words: the options every command shares, option values,
 * and the caret line that points at the word a command did not accept.
 */
#ifndef TF_ARGS_H
#define TF_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "tcpfaultctl.h"

/**
 * struct argspan - a stretch of the command line to underline
 * @argi: first word (index into the command's argv)
 * @off: offset into that word
 * @end_argi: last word
 * @end_off: offset just past the stretch in that word; -1: its end
 * @at_end: underline the spot after the last word (something is missing)
 */
struct argspan {
	int argi;
	int off;
	int end_argi;
	int end_off;
	bool at_end;
};

void args_span_word(struct argspan *sp, int argi);
void args_caret(const struct ctl *ctl, int argc, char **argv,
		const struct argspan *sp);
__printf(5, 6) int args_word_error(const struct ctl *ctl, int argc, char **argv,
				   int argi, const char *fmt, ...);
__printf(4, 5) int args_end_error(const struct ctl *ctl, int argc, char **argv,
				  const char *fmt, ...);

bool args_is_help(const char *w);
bool args_read_opt(struct ctl *ctl, const char *w);
int args_opt_value(int argc, char **argv, int *i, const char *sname,
		   const char *lname, const char **val);
bool args_keyword(int argc, char **argv, int *i, const char *key, const char **val,
		  int *missing);
bool args_parse_seconds(const char *s, double *sec);
bool args_parse_count(const char *s, unsigned long *n);

#endif /* TF_ARGS_H */
