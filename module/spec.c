// SPDX-License-Identifier: GPL-2.0
/*
 * tcpfault control grammar: the one place where user-written strings are
 * parsed. Strict by design: every malformed input is rejected with a reason
 * and the position of the offending word, nothing is guessed or skipped.
 *
 * Builds in the kernel and in userspace; see spec.h for the grammar.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <stdio.h>
#include <string.h>
#endif

#include "spec.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static const char * const mode_names[TCPFAULT_MODE_MAX] = {
	TCPFAULT_MODES(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};

static const char * const action_names[TCPFAULT_IDLE_MAX] = {
	TCPFAULT_IDLE_ACTIONS(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};

static const char * const key_names[TCPFAULT_KEY_MAX] = {
	TCPFAULT_SPEC_KEYS(TCPFAULT_NAMES_STRING, TCPFAULT_NAMES_STRING)
};

#define BIT_KEY(k)	(1U << (k))
#define SELECTOR_KEYS	(BIT_KEY(TCPFAULT_KEY_SRC) | BIT_KEY(TCPFAULT_KEY_DST) | \
			 BIT_KEY(TCPFAULT_KEY_SPORT) | BIT_KEY(TCPFAULT_KEY_DPORT))

/**
 * tcpfault_spec_mode_name() - the grammar's name for a mode
 * @mode: enum tcpfault_mode
 *
 * Return: a static string, "?" for an unknown mode.
 */
const char *tcpfault_spec_mode_name(unsigned int mode)
{
	return mode < TCPFAULT_MODE_MAX ? mode_names[mode] : "?";
}

/**
 * tcpfault_spec_action_name() - the grammar's name for an idle-timeout action
 * @action: enum tcpfault_idle_action
 *
 * Return: a static string, "?" for an unknown action.
 */
const char *tcpfault_spec_action_name(unsigned int action)
{
	return action < TCPFAULT_IDLE_MAX ? action_names[action] : "?";
}

static bool word_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && !memcmp(s, word, len);
}

/**
 * tcpfault_spec_mode_from_name() - look a mode up by name
 * @s: the name, not necessarily NUL-terminated
 * @len: its length
 *
 * Return: the enum tcpfault_mode value, or -EINVAL.
 */
int tcpfault_spec_mode_from_name(const char *s, size_t len)
{
	int i;

	for (i = 0; i < TCPFAULT_MODE_MAX; i++)
		if (word_is(s, len, mode_names[i]))
			return i;
	return -EINVAL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decimal digits only, no sign, no leading zeros ("0" itself is fine). */
static int parse_u64(const char *s, size_t len, u64 *out)
{
	u64 v = 0;
	size_t i;

	if (!len || len > 20 || (len > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -EINVAL;
		if (v > (~0ULL - (u64)(s[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (u64)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_ipv4(const char *s, size_t len, u8 *addr)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		u64 v;

		while (i < len && is_digit(s[i]))
			i++;
		if (i - start > 3 || parse_u64(s + start, i - start, &v) || v > 255)
			return -EINVAL;
		addr[part] = (u8)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return -EINVAL;
			i++;
		}
	}
	return i == len ? 0 : -EINVAL;
}

static int parse_ipv6(const char *s, size_t len, u8 *addr)
{
	u16 words[8];
	int n = 0, gap = -1, k;
	size_t i = 0;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	} else if (len && s[0] == ':') {
		return -EINVAL;
	}
	while (i < len) {
		size_t j = i;
		bool dotted = false;
		u16 w = 0;

		while (j < len && s[j] != ':') {
			if (s[j] == '.')
				dotted = true;
			j++;
		}
		if (dotted) {
			/* An embedded IPv4 address ends the text. */
			if (j != len || n > 6 || parse_ipv4(s + i, j - i, addr))
				return -EINVAL;
			words[n++] = (u16)(addr[0] << 8 | addr[1]);
			words[n++] = (u16)(addr[2] << 8 | addr[3]);
			i = j;
			break;
		}
		if (n == 8 || j == i || j - i > 4)
			return -EINVAL;
		for (k = 0; k < (int)(j - i); k++) {
			int h = hex_val(s[i + k]);

			if (h < 0)
				return -EINVAL;
			w = (u16)(w << 4 | h);
		}
		words[n++] = w;
		i = j;
		if (i == len)
			break;
		i++;			/* the ':' */
		if (i == len)
			return -EINVAL;	/* a single trailing ':' */
		if (s[i] == ':') {
			if (gap >= 0)
				return -EINVAL;
			gap = n;
			i++;
		}
	}
	if (gap < 0 && n != 8)
		return -EINVAL;
	if (gap >= 0 && n > 7)
		return -EINVAL;
	memset(addr, 0, 16);
	for (k = 0; k < n; k++) {
		int slot = (gap >= 0 && k >= gap) ? k + (8 - n) : k;

		addr[2 * slot] = (u8)(words[k] >> 8);
		addr[2 * slot + 1] = (u8)words[k];
	}
	return 0;
}

static bool host_bits_clear(const u8 *addr, unsigned int plen, unsigned int bytes)
{
	unsigned int i;

	for (i = plen; i < bytes * 8; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

/**
 * tcpfault_spec_parse_addr() - parse "any", ADDR or ADDR/LEN
 * @s: the text, not necessarily NUL-terminated
 * @len: its length
 * @p: the result
 *
 * Bits past the prefix length must be zero, as "ip route" requires.
 *
 * Return: 0 or -EINVAL.
 */
int tcpfault_spec_parse_addr(const char *s, size_t len, struct tcpfault_prefix *p)
{
	size_t alen = len;
	unsigned int maxlen;
	const char *slash;
	u64 plen;

	memset(p, 0, sizeof(*p));
	if (word_is(s, len, "any"))
		return 0;
	slash = memchr(s, '/', len);
	if (slash)
		alen = (size_t)(slash - s);
	if (memchr(s, ':', alen)) {
		if (parse_ipv6(s, alen, p->addr))
			return -EINVAL;
		p->family = TCPFAULT_FAM_INET6;
		maxlen = 128;
	} else {
		if (parse_ipv4(s, alen, p->addr))
			return -EINVAL;
		p->family = TCPFAULT_FAM_INET;
		maxlen = 32;
	}
	plen = maxlen;
	if (slash && (parse_u64(slash + 1, len - alen - 1, &plen) || plen > maxlen))
		return -EINVAL;
	p->plen = (u8)plen;
	if (!host_bits_clear(p->addr, p->plen, maxlen / 8))
		return -ERANGE;
	return 0;
}

static int parse_port(const char *s, size_t len, u16 *port)
{
	u64 v;

	if (len > 5 || parse_u64(s, len, &v) || v > 65535)
		return -EINVAL;
	*port = (u16)v;
	return 0;
}

static int parse_ports(const char *s, size_t len, struct tcpfault_portrange *r)
{
	const char *dash;

	if (word_is(s, len, "any")) {
		r->lo = 0;
		r->hi = 65535;
		return 0;
	}
	dash = memchr(s, '-', len);
	if (!dash) {
		if (parse_port(s, len, &r->lo))
			return -EINVAL;
		r->hi = r->lo;
		return 0;
	}
	if (parse_port(s, (size_t)(dash - s), &r->lo) ||
	    parse_port(dash + 1, len - (size_t)(dash - s) - 1, &r->hi))
		return -EINVAL;
	return r->lo <= r->hi ? 0 : -ERANGE;
}

static int parse_duration(const char *s, size_t len, u64 *ms)
{
	static const struct { const char *unit; u64 mul; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	size_t digits = 0, i;
	u64 v;

	while (digits < len && is_digit(s[digits]))
		digits++;
	if (parse_u64(s, digits, &v))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (!word_is(s + digits, len - digits, units[i].unit))
			continue;
		if (v > TCPFAULT_MAX_MS / units[i].mul)
			return -ERANGE;
		*ms = v * units[i].mul;
		return 0;
	}
	return -EINVAL;
}

static int parse_bytes(const char *s, size_t len, u64 *bytes)
{
	size_t digits = 0;
	unsigned int shift = 0;
	u64 v;

	while (digits < len && is_digit(s[digits]))
		digits++;
	if (parse_u64(s, digits, &v))
		return -EINVAL;
	if (len - digits == 1) {
		switch (s[digits]) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		default:
			return -EINVAL;
		}
	} else if (len != digits) {
		return -EINVAL;
	}
	if (!v)
		return -ERANGE;
	if (v > (~0ULL >> shift))
		return -ERANGE;
	*bytes = v << shift;
	return 0;
}

/* "12.5%" -> 125000 parts per million. */
static int parse_prob(const char *s, size_t len, u32 *ppm)
{
	size_t i = 0, start;
	u64 whole, frac = 0;
	int fdigits = 0;

	if (!len || s[len - 1] != '%')
		return -EINVAL;
	len--;
	while (i < len && is_digit(s[i]))
		i++;
	if (parse_u64(s, i, &whole) || whole > 100)
		return -EINVAL;
	if (i < len) {
		if (s[i] != '.')
			return -EINVAL;
		start = ++i;
		while (i < len && is_digit(s[i]))
			i++;
		fdigits = (int)(i - start);
		if (i != len || fdigits < 1 || fdigits > 4)
			return -EINVAL;
		for (i = start; i < len; i++)
			frac = frac * 10 + (u64)(s[i] - '0');
		for (; fdigits < 4; fdigits++)
			frac *= 10;
	}
	whole = whole * 10000 + frac;
	if (!whole || whole > TCPFAULT_PROB_ONE)
		return -ERANGE;
	*ppm = (u32)whole;
	return 0;
}

static int perr(struct tcpfault_perr *err, const char *buf, const char *word,
		size_t wlen, int ret, const char *fmt, const char *what)
{
	if (err) {
		err->pos = word ? (int)(word - buf) : 0;
		err->len = (int)wlen;
		snprintf(err->msg, sizeof(err->msg), fmt, what, (int)wlen,
			 word ? word : "");
	}
	return ret;
}

static bool name_char(char c, bool first)
{
	if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

static int check_name(const char *buf, const char *s, size_t len,
		      struct tcpfault_perr *err)
{
	size_t i;

	if (!len || len > TCPFAULT_NAME_MAX)
		return perr(err, buf, s, len, -EINVAL,
			    "%s: '%.*s' must be 1 to 32 characters", "name");
	for (i = 0; i < len; i++)
		if (!name_char(s[i], i == 0))
			return perr(err, buf, s, len, -EINVAL,
				    "%s: '%.*s' must start with a letter or digit and contain only letters, digits, '_', '.' and '-'",
				    "name");
	return 0;
}

/*
 * Check the raw buffer: printable ASCII and tabs only, at most one trailing
 * newline. Returns the length without that newline, or a negative errno.
 */
static int check_line(const char *buf, size_t len, struct tcpfault_perr *err)
{
	size_t i;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len > TCPFAULT_SPEC_MAX)
		return perr(err, buf, NULL, 0, -EINVAL,
			    "%s: longer than 511 bytes%.*s", "input");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c != '\t' && (c < 0x20 || c > 0x7e)) {
			if (err) {
				err->pos = (int)i;
				err->len = 1;
				snprintf(err->msg, sizeof(err->msg),
					 "input: control or non-ASCII byte 0x%02x at offset %d",
					 c, (int)i);
			}
			return -EINVAL;
		}
	}
	return (int)len;
}

static bool next_word(const char *buf, size_t len, size_t *pos,
		      const char **w, size_t *wlen)
{
	size_t i = *pos, start;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	if (i == len)
		return false;
	start = i;
	while (i < len && buf[i] != ' ' && buf[i] != '\t')
		i++;
	*w = buf + start;
	*wlen = i - start;
	*pos = i;
	return true;
}

/**
 * tcpfault_spec_next_line() - the next line of a batch of specifications
 * @buf: the input, not necessarily NUL-terminated
 * @len: its length
 * @pos: where to look from; moved past the line and its newline
 * @start: set to the line's offset in @buf
 * @llen: set to its length, without the newline (0 for an empty line)
 *
 * Every line is returned, empty ones too, so that callers can number them;
 * text after the last newline is a line if it is not empty.
 *
 * Return: true if there was a line.
 */
bool tcpfault_spec_next_line(const char *buf, size_t len, size_t *pos, size_t *start,
			     size_t *llen)
{
	size_t i = *pos;

	if (i >= len)
		return false;
	*start = i;
	while (i < len && buf[i] != '\n')
		i++;
	*llen = i - *start;
	*pos = i < len ? i + 1 : i;
	return true;
}

/**
 * tcpfault_spec_parse_name() - parse a line that holds only a fault name
 * @buf: the input, not necessarily NUL-terminated
 * @len: its length
 * @name: TCPFAULT_NAME_MAX + 1 bytes for the NUL-terminated result
 * @err: where to explain a failure, or NULL
 *
 * Return: 0, or -EINVAL with @err filled in.
 */
int tcpfault_spec_parse_name(const char *buf, size_t len, char *name,
			     struct tcpfault_perr *err)
{
	const char *w, *extra;
	size_t pos = 0, wlen, xlen;
	int ret, n;

	n = check_line(buf, len, err);
	if (n < 0)
		return n;
	if (!next_word(buf, (size_t)n, &pos, &w, &wlen))
		return perr(err, buf, NULL, 0, -EINVAL, "%s: missing%.*s", "name");
	ret = check_name(buf, w, wlen, err);
	if (ret)
		return ret;
	if (next_word(buf, (size_t)n, &pos, &extra, &xlen))
		return perr(err, buf, extra, xlen, -EINVAL,
			    "%s: unexpected '%.*s' after the name", "input");
	memcpy(name, w, wlen);
	name[wlen] = '\0';
	return 0;
}

/**
 * tcpfault_spec_parse_switch() - parse "0" or "1", for on/off knobs
 * @buf: the input, not necessarily NUL-terminated
 * @len: its length
 * @on: the result
 * @err: where to explain a failure, or NULL
 *
 * Return: 0, or -EINVAL with @err filled in.
 */
int tcpfault_spec_parse_switch(const char *buf, size_t len, bool *on,
			       struct tcpfault_perr *err)
{
	int n = check_line(buf, len, err);

	if (n < 0)
		return n;
	if (n != 1 || (buf[0] != '0' && buf[0] != '1'))
		return perr(err, buf, buf, (size_t)n, -EINVAL,
			    "%s: '%.*s' must be 0 or 1", "value");
	*on = buf[0] == '1';
	return 0;
}

static int set_family(struct tcpfault_spec *spec, u8 family)
{
	if (family == TCPFAULT_FAM_ANY)
		return 0;
	if (spec->family != TCPFAULT_FAM_ANY && spec->family != family)
		return -EINVAL;
	spec->family = family;
	return 0;
}

static int parse_value(const char *buf, struct tcpfault_spec *spec, int key,
		       const char *v, size_t vlen, struct tcpfault_perr *err)
{
	struct tcpfault_prefix *pfx;
	const char *what = key_names[key];
	u64 n, *ms;
	int ret;

	switch (key) {
	case TCPFAULT_KEY_MODE:
		ret = tcpfault_spec_mode_from_name(v, vlen);
		if (ret < 0)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: unknown mode '%.*s' (" TCPFAULT_NAMES_LIST(TCPFAULT_MODES) ")",
				    what);
		spec->mode = (u8)ret;
		return 0;
	case TCPFAULT_KEY_SRC:
	case TCPFAULT_KEY_DST:
	case TCPFAULT_KEY_HOST:
		pfx = key == TCPFAULT_KEY_DST ? &spec->dst : &spec->src;
		ret = tcpfault_spec_parse_addr(v, vlen, pfx);
		if (ret == -ERANGE)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: '%.*s' has bits set past the prefix length",
				    what);
		if (ret)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: bad address '%.*s' (expected any, IPv4 or IPv6, optionally /prefix)",
				    what);
		if (set_family(spec, pfx->family))
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: '%.*s' mixes IPv4 and IPv6 in one selector",
				    what);
		return 0;
	case TCPFAULT_KEY_SPORT:
	case TCPFAULT_KEY_DPORT:
		ret = parse_ports(v, vlen, key == TCPFAULT_KEY_SPORT ?
				  &spec->sport : &spec->dport);
		if (ret == -ERANGE)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: range '%.*s' is reversed", what);
		if (ret)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: bad port '%.*s' (expected any, 0-65535 or LO-HI)",
				    what);
		return 0;
	case TCPFAULT_KEY_PROB:
		ret = parse_prob(v, vlen, &spec->prob);
		if (ret)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: bad probability '%.*s' (expected a percentage above 0 and at most 100, like 12.5%%)",
				    what);
		return 0;
	case TCPFAULT_KEY_DELAY:
	case TCPFAULT_KEY_DURATION:
	case TCPFAULT_KEY_TIMEOUT:
	case TCPFAULT_KEY_LATENCY:
	case TCPFAULT_KEY_JITTER:
		ms = key == TCPFAULT_KEY_DELAY ? &spec->delay_ms :
		     key == TCPFAULT_KEY_DURATION ? &spec->duration_ms :
		     key == TCPFAULT_KEY_TIMEOUT ? &spec->timeout_ms :
		     key == TCPFAULT_KEY_LATENCY ? &spec->latency_ms : &spec->jitter_ms;
		ret = parse_duration(v, vlen, ms);
		if (ret == -ERANGE)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: '%.*s' is longer than 30 days", what);
		if (ret)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: bad duration '%.*s' (expected N followed by ms, s, m or h)",
				    what);
		if (key != TCPFAULT_KEY_DELAY && key != TCPFAULT_KEY_JITTER && !*ms)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: '%.*s' must be longer than zero", what);
		return 0;
	case TCPFAULT_KEY_REORDER:
		if (parse_u64(v, vlen, &n) || n > 1)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: '%.*s' must be 0 or 1", what);
		spec->reorder = n;
		return 0;
	case TCPFAULT_KEY_ACTION:
		for (n = 0; n < TCPFAULT_IDLE_MAX; n++)
			if (word_is(v, vlen, action_names[n]))
				break;
		if (n == TCPFAULT_IDLE_MAX)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: unknown action '%.*s' (" TCPFAULT_NAMES_LIST(TCPFAULT_IDLE_ACTIONS) ")",
				    what);
		spec->action = (u8)n;
		return 0;
	case TCPFAULT_KEY_AFTER:
		ret = parse_bytes(v, vlen, &spec->after_bytes);
		if (ret)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: bad byte count '%.*s' (expected N>0, optionally followed by K, M or G)",
				    what);
		return 0;
	case TCPFAULT_KEY_NFLOG:
		if (parse_u64(v, vlen, &n) || n > 65535)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: bad NFLOG group '%.*s' (expected 0-65535)", what);
		spec->nflog = true;
		spec->nflog_group = (u16)n;
		return 0;
	case TCPFAULT_KEY_ENABLED:
		if (parse_u64(v, vlen, &n) || n > 1)
			return perr(err, buf, v, vlen, -EINVAL,
				    "%s: '%.*s' must be 0 or 1", what);
		spec->enabled = n;
		return 0;
	}
	return -EINVAL;
}

struct word {
	const char *w;
	size_t len;
};

/*
 * The keys of one mode alone, a run of TCPFAULT_SPEC_OPTION_KEYS: the
 * first is required there, and none is taken elsewhere.
 */
static const struct own_keys {
	u8 mode, first, last;
	const char *needs, *only;
} own_keys[] = {
	{ TCPFAULT_MODE_DELAY, TCPFAULT_KEY_LATENCY, TCPFAULT_KEY_REORDER,
	  "%s: delay needs latency=DUR%.*s", "%s: only delay takes '%.*s'" },
	{ TCPFAULT_MODE_IDLE_TIMEOUT, TCPFAULT_KEY_TIMEOUT, TCPFAULT_KEY_ACTION,
	  "%s: idle-timeout needs timeout=DUR%.*s", "%s: only idle-timeout takes '%.*s'" },
};

/* Cross-key rules, checked once every key is in; @kw locates each key. */
static int check_spec(const char *buf, size_t len, struct tcpfault_spec *spec,
		      const struct word *kw, struct tcpfault_perr *err)
{
	static const int selector[] = {
		TCPFAULT_KEY_SRC, TCPFAULT_KEY_DST, TCPFAULT_KEY_SPORT, TCPFAULT_KEY_DPORT,
	};
	const struct word *k;
	unsigned int i;

	if (!(spec->keys & BIT_KEY(TCPFAULT_KEY_MODE)))
		return perr(err, buf, buf + len, 0, -EINVAL,
			    "%s: missing (mode=...)%.*s", "mode");
	if (spec->mode == TCPFAULT_MODE_POWER_OFF) {
		for (i = 0; i < ARRAY_SIZE(selector); i++) {
			k = &kw[selector[i]];
			if (k->w)
				return perr(err, buf, k->w, k->len, -EINVAL,
					    "%s: power-off selects a host with host=, not '%.*s'",
					    "host");
		}
		if (!kw[TCPFAULT_KEY_HOST].w)
			return perr(err, buf, buf + len, 0, -EINVAL,
				    "%s: power-off needs host=ADDR[/LEN]%.*s", "host");
		if (spec->src.family == TCPFAULT_FAM_ANY)
			return perr(err, buf, kw[TCPFAULT_KEY_HOST].w,
				    kw[TCPFAULT_KEY_HOST].len, -EINVAL,
				    "%s: power-off needs an address, not '%.*s'", "host");
	} else if (kw[TCPFAULT_KEY_HOST].w) {
		k = &kw[TCPFAULT_KEY_HOST];
		return perr(err, buf, k->w, k->len, -EINVAL,
			    "%s: only power-off takes '%.*s'; use src= and dst=", "host");
	}
	k = &kw[TCPFAULT_KEY_PROB];
	if (spec->mode == TCPFAULT_MODE_LOSS && !k->w)
		return perr(err, buf, buf + len, 0, -EINVAL,
			    "%s: loss needs prob=PCT%%%.*s", "prob");
	if (spec->mode != TCPFAULT_MODE_LOSS && k->w)
		return perr(err, buf, k->w, k->len, -EINVAL,
			    "%s: only loss takes '%.*s'", "prob");
	k = &kw[TCPFAULT_KEY_AFTER];
	if (k->w && spec->mode != TCPFAULT_MODE_LINK_DOWN &&
	    spec->mode != TCPFAULT_MODE_ONEWAY && spec->mode != TCPFAULT_MODE_LOSS &&
	    spec->mode != TCPFAULT_MODE_RESET && spec->mode != TCPFAULT_MODE_DELAY)
		return perr(err, buf, k->w, k->len, -EINVAL,
			    "%s: '%.*s' applies to link-down, oneway, loss, reset and delay only",
			    "after");
	for (i = 0; i < ARRAY_SIZE(own_keys); i++) {
		const struct own_keys *o = &own_keys[i];
		int key;

		if (spec->mode == o->mode && !kw[o->first].w)
			return perr(err, buf, buf + len, 0, -EINVAL, o->needs, key_names[o->first]);
		for (key = o->first; key <= o->last; key++) {
			k = &kw[key];
			if (k->w && spec->mode != o->mode)
				return perr(err, buf, k->w, k->len, -EINVAL, o->only, key_names[key]);
		}
	}
	k = &kw[TCPFAULT_KEY_JITTER];
	if (k->w && spec->jitter_ms > spec->latency_ms)
		return perr(err, buf, k->w, k->len, -EINVAL,
			    "%s: '%.*s' is more than latency=: a segment cannot leave before it came",
			    "jitter");
	k = &kw[TCPFAULT_KEY_NFLOG];
	if (k->w && spec->mode == TCPFAULT_MODE_WATCH)
		return perr(err, buf, k->w, k->len, -EINVAL,
			    "%s: watch drops and sends nothing, so '%.*s' would log nothing",
			    "nflog");
	return 0;
}

/**
 * tcpfault_spec_parse() - parse one fault specification
 * @buf: the input, not necessarily NUL-terminated
 * @len: its length
 * @spec: the result; untouched fields are zero, ports default to any
 * @err: where to explain a failure, or NULL
 *
 * Return: 0, or -EINVAL with @err saying what was wrong and where.
 */
int tcpfault_spec_parse(const char *buf, size_t len, struct tcpfault_spec *spec,
			struct tcpfault_perr *err)
{
	struct word kw[TCPFAULT_KEY_MAX];
	size_t pos = 0, wlen;
	const char *w;
	int n, ret;

	memset(kw, 0, sizeof(kw));
	memset(spec, 0, sizeof(*spec));
	spec->sport.hi = 65535;
	spec->dport.hi = 65535;
	spec->enabled = true;

	n = check_line(buf, len, err);
	if (n < 0)
		return n;
	len = (size_t)n;
	if (!next_word(buf, len, &pos, &w, &wlen))
		return perr(err, buf, NULL, 0, -EINVAL, "%s: empty specification%.*s",
			    "input");
	if (memchr(w, '=', wlen))
		return perr(err, buf, w, wlen, -EINVAL,
			    "%s: the specification must start with a fault name, not '%.*s'",
			    "name");
	ret = check_name(buf, w, wlen, err);
	if (ret)
		return ret;
	memcpy(spec->name, w, wlen);
	spec->name[wlen] = '\0';

	while (next_word(buf, len, &pos, &w, &wlen)) {
		const char *eq = memchr(w, '=', wlen);
		size_t klen;
		int key;

		if (!eq)
			return perr(err, buf, w, wlen, -EINVAL,
				    "%s: expected key=value, got '%.*s'", "input");
		klen = (size_t)(eq - w);
		for (key = 0; key < TCPFAULT_KEY_MAX; key++)
			if (word_is(w, klen, key_names[key]))
				break;
		if (key == TCPFAULT_KEY_MAX)
			return perr(err, buf, w, klen, -EINVAL,
				    "%s: unknown key '%.*s' (" TCPFAULT_NAMES_LIST(TCPFAULT_SPEC_KEYS) ")",
				    "input");
		if (spec->keys & BIT_KEY(key))
			return perr(err, buf, w, wlen, -EINVAL,
				    "%s: given twice ('%.*s')", key_names[key]);
		spec->keys |= BIT_KEY(key);
		kw[key].w = w;
		kw[key].len = wlen;
		if (wlen == klen + 1)
			return perr(err, buf, w, wlen, -EINVAL,
				    "%s: empty value in '%.*s'", key_names[key]);
		ret = parse_value(buf, spec, key, eq + 1, wlen - klen - 1, err);
		if (ret)
			return ret;
	}
	return check_spec(buf, len, spec, kw, err);
}

/*
 * snprintf() into a buffer that may already be full: the length keeps
 * counting, as snprintf's own return value does.
 */
struct out {
	char *buf;
	size_t len;
	size_t n;
};

static char *out_pos(struct out *o)
{
	return o->buf + (o->n < o->len ? o->n : (o->len ? o->len - 1 : 0));
}

static size_t out_room(struct out *o)
{
	return o->n < o->len ? o->len - o->n : 0;
}

static void out_printf_addr(struct out *o, const char *sep, unsigned int w)
{
	o->n += (size_t)snprintf(out_pos(o), out_room(o), "%s%x", sep, w);
}

/**
 * tcpfault_spec_format_addr() - print an address, IPv6 in RFC 5952 form
 * @family: TCPFAULT_FAM_INET or _INET6
 * @addr: network-order address
 * @buf: output buffer
 * @len: its size
 *
 * Return: the snprintf()-style length.
 */
int tcpfault_spec_format_addr(u8 family, const u8 *addr, char *buf, size_t len)
{
	int best = -1, bestlen = 1, run = -1, i;
	struct out o = { buf, len, 0 };
	u16 w[8];

	if (family == TCPFAULT_FAM_INET)
		return snprintf(buf, len, "%u.%u.%u.%u", addr[0], addr[1],
				addr[2], addr[3]);
	if (len)
		buf[0] = '\0';
	for (i = 0; i < 8; i++)
		w[i] = (u16)(addr[2 * i] << 8 | addr[2 * i + 1]);
	/* The longest run of two or more zero words becomes "::". */
	for (i = 0; i <= 8; i++) {
		if (i < 8 && !w[i]) {
			if (run < 0)
				run = i;
			continue;
		}
		if (run >= 0 && i - run > bestlen) {
			best = run;
			bestlen = i - run;
		}
		run = -1;
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			o.n += (size_t)snprintf(out_pos(&o), out_room(&o), "::");
			i += bestlen - 1;
			continue;
		}
		if (i == 6 && best == 0 && bestlen == 5 && w[5] == 0xffff) {
			/* IPv4-mapped: ::ffff:a.b.c.d */
			o.n += (size_t)snprintf(out_pos(&o), out_room(&o),
						":%u.%u.%u.%u", addr[12], addr[13],
						addr[14], addr[15]);
			break;
		}
		out_printf_addr(&o, (i && i != best + bestlen) ? ":" : "", w[i]);
	}
	return (int)o.n;
}

/**
 * tcpfault_spec_format_prefix() - print "any" or ADDR/LEN
 * @p: the prefix
 * @buf: output buffer
 * @len: its size
 *
 * Return: the snprintf()-style length.
 */
int tcpfault_spec_format_prefix(const struct tcpfault_prefix *p, char *buf,
				size_t len)
{
	int n;

	if (p->family == TCPFAULT_FAM_ANY)
		return snprintf(buf, len, "any");
	n = tcpfault_spec_format_addr(p->family, p->addr, buf, len);
	return n + snprintf(buf + ((size_t)n < len ? (size_t)n : len),
			    (size_t)n < len ? len - (size_t)n : 0, "/%u", p->plen);
}

static int format_ports(const struct tcpfault_portrange *r, char *buf, size_t len)
{
	if (r->lo == 0 && r->hi == 65535)
		return snprintf(buf, len, "any");
	if (r->lo == r->hi)
		return snprintf(buf, len, "%u", r->lo);
	return snprintf(buf, len, "%u-%u", r->lo, r->hi);
}

static void out_prefix(struct out *o, const char *key, const struct tcpfault_prefix *p)
{
	char tmp[64];

	tcpfault_spec_format_prefix(p, tmp, sizeof(tmp));
	o->n += (size_t)snprintf(out_pos(o), out_room(o), "%s%s=%s",
				 o->n ? " " : "", key, tmp);
}

static void out_ports(struct out *o, const char *key, const struct tcpfault_portrange *r)
{
	char tmp[16];

	format_ports(r, tmp, sizeof(tmp));
	o->n += (size_t)snprintf(out_pos(o), out_room(o), " %s=%s", key, tmp);
}

static void out_ms(struct out *o, const char *key, u64 ms)
{
	static const struct { const char *unit; u64 div; } units[] = {
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
	};
	unsigned int i;

	for (i = 0; i < 3 && (!ms || ms % units[i].div); i++)
		;
	if (!ms)
		i = 2;
	o->n += (size_t)snprintf(out_pos(o), out_room(o), " %s=%llu%s", key,
				 (unsigned long long)(ms / units[i].div), units[i].unit);
}

/**
 * tcpfault_spec_format_selector() - print the selector part of a spec
 * @spec: the spec
 * @buf: output buffer
 * @len: its size
 *
 * "host=ADDR/LEN" for power-off, else "src=.. sport=.. dst=.. dport=..".
 *
 * Return: the snprintf()-style length.
 */
int tcpfault_spec_format_selector(const struct tcpfault_spec *spec, char *buf,
				  size_t len)
{
	struct out o = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	if (spec->mode == TCPFAULT_MODE_POWER_OFF) {
		out_prefix(&o, "host", &spec->src);
		return (int)o.n;
	}
	out_prefix(&o, "src", &spec->src);
	out_ports(&o, "sport", &spec->sport);
	out_prefix(&o, "dst", &spec->dst);
	out_ports(&o, "dport", &spec->dport);
	return (int)o.n;
}

/**
 * tcpfault_spec_format() - print a spec in canonical form
 * @spec: the spec
 * @buf: output buffer
 * @len: its size
 *
 * The output parses back to the same spec (enabled= aside, which is state).
 *
 * Return: the snprintf()-style length.
 */
int tcpfault_spec_format(const struct tcpfault_spec *spec, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	o.n += (size_t)snprintf(buf, len, "%s mode=%s ", spec->name,
				tcpfault_spec_mode_name(spec->mode));
	o.n += (size_t)tcpfault_spec_format_selector(spec, out_pos(&o), out_room(&o));
	if (spec->mode == TCPFAULT_MODE_LOSS) {
		u32 whole = spec->prob / 10000, frac = spec->prob % 10000;
		int digits = 4;

		while (frac && !(frac % 10)) {
			frac /= 10;
			digits--;
		}
		if (frac)
			o.n += (size_t)snprintf(out_pos(&o), out_room(&o),
						" prob=%u.%0*u%%", whole, digits, frac);
		else
			o.n += (size_t)snprintf(out_pos(&o), out_room(&o),
						" prob=%u%%", whole);
	}
	if (spec->mode == TCPFAULT_MODE_IDLE_TIMEOUT) {
		out_ms(&o, "timeout", spec->timeout_ms);
		o.n += (size_t)snprintf(out_pos(&o), out_room(&o), " action=%s",
					tcpfault_spec_action_name(spec->action));
	}
	if (spec->mode == TCPFAULT_MODE_DELAY) {
		out_ms(&o, "latency", spec->latency_ms);
		if (spec->jitter_ms)
			out_ms(&o, "jitter", spec->jitter_ms);
		if (spec->reorder)
			o.n += (size_t)snprintf(out_pos(&o), out_room(&o), " reorder=1");
	}
	if (spec->delay_ms)
		out_ms(&o, "delay", spec->delay_ms);
	if (spec->duration_ms)
		out_ms(&o, "duration", spec->duration_ms);
	if (spec->after_bytes) {
		static const char units[] = { 'G', 'M', 'K' };
		u64 b = spec->after_bytes;
		unsigned int i;
		int shift = 30;

		for (i = 0; i < 3; i++, shift -= 10)
			if (!(b & ((1ULL << shift) - 1)))
				break;
		if (i < 3)
			o.n += (size_t)snprintf(out_pos(&o), out_room(&o), " after=%llu%c",
						(unsigned long long)(b >> shift), units[i]);
		else
			o.n += (size_t)snprintf(out_pos(&o), out_room(&o), " after=%llu",
						(unsigned long long)b);
	}
	if (spec->nflog)
		o.n += (size_t)snprintf(out_pos(&o), out_room(&o), " nflog=%u", spec->nflog_group);
	return (int)o.n;
}

/**
 * tcpfault_spec_prefix_match() - does an address fall inside a prefix
 * @p: the prefix; "any" matches every address of every family
 * @family: the address's family
 * @addr: the address, network order
 *
 * Return: true on a match.
 */
bool tcpfault_spec_prefix_match(const struct tcpfault_prefix *p, u8 family,
				const u8 *addr)
{
	unsigned int full, rest;

	if (p->family == TCPFAULT_FAM_ANY)
		return true;
	if (p->family != family)
		return false;
	full = p->plen / 8;
	rest = p->plen % 8;
	if (memcmp(p->addr, addr, full))
		return false;
	return !rest || !((p->addr[full] ^ addr[full]) & (u8)(0xff << (8 - rest)));
}

/**
 * tcpfault_spec_match() - does a segment match a spec's selector
 * @spec: the spec
 * @t: the segment's tuple
 * @reverse: match the tuple with source and destination swapped
 *
 * A symmetric fault matches a segment if either orientation matches. This is
 * the reference matcher: the module's hashed lookup must agree with it.
 *
 * Return: true on a match.
 */
bool tcpfault_spec_match(const struct tcpfault_spec *spec,
			 const struct tcpfault_tuple *t, bool reverse)
{
	const u8 *s = reverse ? t->daddr : t->saddr;
	const u8 *d = reverse ? t->saddr : t->daddr;
	u16 sp = reverse ? t->dport : t->sport;
	u16 dp = reverse ? t->sport : t->dport;

	if (spec->family != TCPFAULT_FAM_ANY && spec->family != t->family)
		return false;
	return tcpfault_spec_prefix_match(&spec->src, t->family, s) &&
	       tcpfault_spec_prefix_match(&spec->dst, t->family, d) &&
	       sp >= spec->sport.lo && sp <= spec->sport.hi &&
	       dp >= spec->dport.lo && dp <= spec->dport.hi;
}
