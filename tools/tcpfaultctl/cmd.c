// SPDX-License-Identifier: GPL-2.0
/*
 * Global options and the command table. Commands are looked up by name or
 * by an unambiguous prefix ("tcpfaultctl c" is "conns"), as in iproute2.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "files.h"
#include "lists.h"
#include "tcpfaultctl.h"

/* Help paragraphs that list names from names.h are wrapped at run time. */
#define HELP_WIDTH	70

struct command {
	const char *name;
	int (*fn)(struct ctl *ctl, int argc, char **argv);
	const char *args;
	const char *wrapped;	/* optional, filled to HELP_WIDTH columns */
	const char *help;
};

/* The entry of command NAME of commands.h: synopsis, wrapped help, help. */
#define COMMAND(n, ...)	[CMD_##n] = { #n, cmd_##n, __VA_ARGS__ }
#define CMD_INDEX(n)	CMD_##n,
enum { TCPFAULTCTL_COMMANDS(CMD_INDEX) NCOMMANDS };

/* Indexed by the list: a command without an entry here has no name. */
static const struct command commands[NCOMMANDS] = {
	COMMAND(add,
	  "NAME MODE [src ADDR[/LEN]] [sport PORT|LO-HI] [dst ADDR[/LEN]]\n"
	  "        [dport PORT|LO-HI] [host ADDR[/LEN]] [prob PCT%] [delay DUR]\n"
	  "        [duration DUR] [after BYTES] [nflog GROUP] [timeout DUR]\n"
	  "        [action drop|rst] [latency DUR] [jitter DUR] [reorder 0|1]\n"
	  "        [disabled]\n"
	  "   or: tcpfaultctl [OPTIONS] add -f FILE",
	  "Create a fault in this network namespace. MODE is one of "
	  TCPFAULT_NAMES_LIST(TCPFAULT_MODES) ". KEY=VALUE words are accepted "
	  "too. DUR is N(ms|s|m|h); BYTES is N[K|M|G]; nflog GROUP copies what the fault drops and sends to that NFLOG group (tcpdump -i nflog:GROUP). idle-timeout forgets a connection idle for timeout DUR, then drops its segments (action drop) or answers them with RSTs both ways (action rst). delay holds each segment for latency DUR, plus or minus jitter DUR, in order unless reorder 1. With -f, FILE (- for "
	  "stdin) holds one module spec per line (NAME mode=MODE KEY=VALUE...; "
	  "blank lines and # comments skipped), added all or none, a page per write.",
	  "Example: tcpfaultctl add cut link-down dst 10.0.1.2 dport 5001 duration 30s"),
	COMMAND(list, "",
	  NULL,
	  "List the faults of this network namespace with their state and counters."),
	COMMAND(show, "NAME",
	  NULL,
	  "Show every file of /sys/kernel/tcpfault/faults/NAME/."),
	COMMAND(enable, "NAME",
	  NULL,
	  "Switch a fault on (again); delay= and duration= start over."),
	COMMAND(disable, "NAME",
	  NULL,
	  "Switch a fault off; for power-off this reboots the host."),
	COMMAND(delete, "NAME",
	  NULL,
	  "Delete a fault."),
	COMMAND(flush, "",
	  NULL,
	  "Delete every fault of this network namespace."),
	COMMAND(conns,
	  "[src ADDR[/LEN]] [dst ADDR[/LEN]] [port PORT] [state STATE]\n"
	  "        [sort COLUMN] [-r]",
	  NULL,
	  "List the tracked connections of this network namespace with their\n"
	  "counters. src is the originator (the side that sent the SYN), dst the\n"
	  "other end; port matches either end. sort takes any column name of\n"
	  "/proc/net/tcpfault/conns, e.g. o_retrans; -r reverses the order."),
	COMMAND(watch, "[-i SECONDS] [-c COUNT] [src ADDR[/LEN]] [dst ADDR[/LEN]]\n"
	  "        [port PORT] [state STATE] [sort COLUMN] [-r]",
	  NULL,
	  "Show faults and connections every SECONDS (default 1) until\n"
	  "interrupted, or COUNT times. The connections are filtered and sorted\n"
	  "as by conns."),
	COMMAND(timeline, "CONN [--svg FILE]",
	  NULL,
	  "Show the events of one connection: CONN is its id or an ADDR:PORT of\n"
	  "either end. Retransmissions and keepalive probes show the gap since\n"
	  "the previous one in the same direction. --svg FILE also writes the\n"
	  "timeline as an SVG image."),
	COMMAND(stats, "",
	  NULL,
	  "Show the module's global figures (every readable file of\n"
	  "/sys/kernel/tcpfault)."),
};

void ctl_init(struct ctl *ctl, FILE *out, FILE *err)
{
	memset(ctl, 0, sizeof(*ctl));
	ctl->prog = "tcpfaultctl";
	ctl->sysfs = TF_SYSFS;
	ctl->procfs = TF_PROCFS;
	ctl->netns_dir = TF_NETNS_DIR;
	ctl->out = out;
	ctl->err = err;
}

static void say(const struct ctl *ctl, const char *fmt, va_list ap)
{
	fprintf(ctl->err, "%s: ", ctl->prog);
	vfprintf(ctl->err, fmt, ap);
	fputc('\n', ctl->err);
}

void ctl_error(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(ctl, fmt, ap);
	va_end(ap);
}

static const struct command *find_exact(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_synopsis(const struct ctl *ctl, FILE *f, const struct command *c)
{
	fprintf(f, "Usage: %s [OPTIONS] %s%s%s\n", ctl->prog, c->name,
		*c->args ? " " : "", c->args);
}

/**
 * ctl_usage_error() - a command-line mistake: say what, then the synopsis
 * @ctl: options
 * @cmd: the command, or NULL
 * @fmt: what is wrong
 *
 * Return: EXIT_USAGE.
 */
int ctl_usage_error(const struct ctl *ctl, const char *cmd, const char *fmt, ...)
{
	const struct command *c = cmd ? find_exact(cmd) : NULL;
	va_list ap;

	va_start(ap, fmt);
	say(ctl, fmt, ap);
	va_end(ap);
	if (c)
		print_synopsis(ctl, ctl->err, c);
	fprintf(ctl->err, "Try '%s %s%s--help' for more information.\n", ctl->prog,
		c ? c->name : "", c ? " " : "");
	return EXIT_USAGE;
}

/** ctl_now_ns() - CLOCK_MONOTONIC now, the clock of the module's *_ns fields */
uint64_t ctl_now_ns(const struct ctl *ctl)
{
	struct timespec ts;

	if (ctl->now_ns)
		return ctl->now_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void usage(const struct ctl *ctl, FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s [OPTIONS] COMMAND [ARGS]\n\n", ctl->prog);
	fputs("Inject TCP faults with the tcpfault module and watch what TCP does about them.\n\n",
	      f);
	fputs("Options:\n"
	      "  -j, --json          print JSON (every read command)\n"
	      "  -p, --pretty        print indented JSON (implies -j)\n"
	      "  -n, --netns NAME    act in network namespace NAME (/run/netns/NAME)\n"
	      "  -h, --help          show this help, or a command's with COMMAND --help\n"
	      "  -V, --version       show the versions of tcpfaultctl and the module\n\n"
	      "Commands:\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s%s%s\n", commands[i].name, *commands[i].args ? " " : "",
			commands[i].args);
	fprintf(f, "\nCommands may be abbreviated (%s c = conns). See tcpfaultctl(8).\n",
		ctl->prog);
}

/* Print @s in lines of at most @width columns, breaking at spaces. */
static void put_wrapped(FILE *f, const char *s, size_t width)
{
	size_t col = 0;

	while (*s) {
		size_t n = strcspn(s, " ");

		if (col && col + 1 + n > width) {
			fputc('\n', f);
			col = 0;
		} else if (col) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)n, s);
		col += n;
		s += n;
		s += strspn(s, " ");
	}
	if (col)
		fputc('\n', f);
}

static int command_help(const struct ctl *ctl, const struct command *c)
{
	print_synopsis(ctl, ctl->out, c);
	fputc('\n', ctl->out);
	if (c->wrapped)
		put_wrapped(ctl->out, c->wrapped, HELP_WIDTH);
	fprintf(ctl->out, "%s\n", c->help);
	return EXIT_OK;
}

static int version(const struct ctl *ctl)
{
	char *v;

	fprintf(ctl->out, "%s %s\n", ctl->prog, TCPFAULTCTL_VERSION);
	if (!tf_read_attr(ctl, "version", &v)) {
		fprintf(ctl->out, "tcpfault module %s\n", v);
		free(v);
	} else {
		fprintf(ctl->out, "tcpfault module not loaded\n");
	}
	return EXIT_OK;
}

/* By exact name, else by unambiguous prefix; NULL after saying why not. */
static const struct command *lookup(const struct ctl *ctl, const char *name)
{
	const struct command *c = find_exact(name), *hit = NULL;
	size_t i, n = 0, len = strlen(name);

	if (c)
		return c;
	for (i = 0; len && i < NCOMMANDS; i++) {
		if (!strncmp(commands[i].name, name, len)) {
			hit = &commands[i];
			n++;
		}
	}
	if (n == 1)
		return hit;
	if (!n) {
		ctl_usage_error(ctl, NULL, "unknown command '%s'", name);
		return NULL;
	}
	fprintf(ctl->err, "%s: '%s' is ambiguous:", ctl->prog, name);
	for (i = 0; i < NCOMMANDS; i++)
		if (!strncmp(commands[i].name, name, len))
			fprintf(ctl->err, " %s", commands[i].name);
	fputc('\n', ctl->err);
	return NULL;
}

/* Global options; returns the index of the command word, or -(exit code + 1). */
static int global_options(struct ctl *ctl, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *w = argv[i], *val;
		int r;

		if (!strcmp(w, "--"))
			return i + 1;
		if (args_read_opt(ctl, w))
			continue;
		if (args_is_help(w)) {
			usage(ctl, ctl->out);
			return -EXIT_OK - 1;
		}
		if (!strcmp(w, "-V") || !strcmp(w, "--version"))
			return -version(ctl) - 1;
		r = args_opt_value(argc, argv, &i, "-n", "--netns", &val);
		if (r < 0)
			return -ctl_usage_error(ctl, NULL, "%s needs a namespace name", w) - 1;
		if (r > 0 && !*val)
			return -ctl_usage_error(ctl, NULL, "%s needs a namespace name", w) - 1;
		if (r > 0) {
			ctl->netns = val;
			continue;
		}
		return -ctl_usage_error(ctl, NULL, "unknown option '%s'", w) - 1;
	}
	return i;
}

/**
 * ctl_run() - run one command line
 * @ctl: options, filled in further from the command line
 * @argc: words, argv[0] being the program
 * @argv: the words
 *
 * Return: the exit code.
 */
int ctl_run(struct ctl *ctl, int argc, char **argv)
{
	const struct command *c;
	int i, ret;

	i = global_options(ctl, argc, argv);
	if (i < 0)
		return -i - 1;
	if (i >= argc) {
		usage(ctl, ctl->err);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(ctl, ctl->out);
			return EXIT_OK;
		}
		c = lookup(ctl, argv[i + 1]);
		return c ? command_help(ctl, c) : EXIT_USAGE;
	}
	c = lookup(ctl, argv[i]);
	if (!c)
		return EXIT_USAGE;
	for (int j = i + 1; j < argc; j++)
		if (args_is_help(argv[j]))
			return command_help(ctl, c);
	/*
	 * Commands check their words before touching the module's files, and
	 * a missing module is reported where a file is missing, so that a
	 * mistake on the command line is reported as such even without it.
	 */
	ret = tf_enter_netns(ctl);
	if (ret)
		return ret;
	argv[i] = (char *)c->name;	/* "c" shows as "conns" in messages */
	return c->fn(ctl, argc - i, argv + i);
}
