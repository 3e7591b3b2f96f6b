// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the control grammar (module/spec.c, the same source
 * the module builds). Beyond "no crash, no sanitizer report", it checks the
 * parser's own promises:
 *   - a rejected input leaves a reason and an offset inside the input;
 *   - an accepted input prints canonically, and the canonical text parses
 *     back to the same specification;
 *   - the other entry points (name, switch) agree with the grammar.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

static void fail(const char *what, const uint8_t *data, size_t size)
{
	fprintf(stderr, "spec_fuzz: %s on input '%.*s'\n", what, (int)size, (const char *)data);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct tcpfault_spec a, b;
	struct tcpfault_perr err;
	char out[1024], name[TCPFAULT_NAME_MAX + 1];
	bool on;
	int n;

	memset(&err, 0, sizeof(err));
	if (tcpfault_spec_parse(in, size, &a, &err)) {
		if (!err.msg[0])
			fail("rejection without a reason", data, size);
		if (err.pos < 0 || (size_t)err.pos > size || err.len < 0 ||
		    (size_t)(err.pos + err.len) > size)
			fail("blamed word outside the input", data, size);
	} else {
		n = tcpfault_spec_format(&a, out, sizeof(out));
		if (n <= 0 || (size_t)n >= sizeof(out))
			fail("canonical form does not fit", data, size);
		if (tcpfault_spec_parse(out, (size_t)n, &b, &err))
			fail("canonical form rejected", (const uint8_t *)out, (size_t)n);
		a.keys = 0;
		b.keys = 0;
		a.enabled = true;
		b.enabled = true;
		if (memcmp(&a, &b, sizeof(a)))
			fail("canonical form parses differently", (const uint8_t *)out, (size_t)n);
		if (tcpfault_spec_parse_name(a.name, strlen(a.name), name, &err) ||
		    strcmp(name, a.name))
			fail("accepted name rejected by parse_name", data, size);
	}
	tcpfault_spec_parse_name(in, size, name, &err);
	if (!tcpfault_spec_parse_switch(in, size, &on, &err) && size > 2)
		fail("switch accepted more than one character and a newline", data, size);
	/* A batch's lines tile the input: each ends at a newline or the end. */
	{
		size_t pos = 0, start, llen, covered = 0;

		while (tcpfault_spec_next_line(in, size, &pos, &start, &llen)) {
			if (start != covered || start + llen > size || memchr(in + start, '\n', llen) ||
			    (start + llen < size && in[start + llen] != '\n'))
				fail("a batch line is not a line", data, size);
			tcpfault_spec_parse(in + start, llen, &a, &err);
			covered = pos;
		}
		if (covered != size)
			fail("batch lines do not cover the input", data, size);
	}
	return 0;
}
