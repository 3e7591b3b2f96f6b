// SPDX-License-Identifier: GPL-2.0
/*
 * A connection's timeline as a standalone SVG, to attach to a bug report:
 * a time axis, one lane per direction, a marker per event (hollow when a
 * fault dropped the segment), the gap since the previous retransmission or
 * probe above its marker, and dashed lines where faults started or stopped.
 * Every marker carries a <title> with the event's details (a tooltip).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "lists.h"
#include "tcpfaultctl.h"
#include "text.h"
#include "timeline.h"

#define W		960.0
#define LEFT		190.0
#define RIGHT		40.0
#define TOP		92.0
#define LANE_H		90.0
#define AXIS_H		50.0
#define H		(TOP + 2 * LANE_H + AXIS_H)
#define PLOT_W		(W - LEFT - RIGHT)
#define LABEL_LEVELS	3
#define CHAR_W		6.6	/* average width of an 11px sans-serif glyph, rounded up */

struct kind {
	unsigned int event;	/* enum tcpfault_event_type */
	const char *color;
	const char *label;
};

static const struct kind kinds[] = {
	{ TCPFAULT_EV_SYN,		"#2b8a3e", "SYN" },
	{ TCPFAULT_EV_SYN_RETRY,	"#66a80f", "SYN retry" },
	{ TCPFAULT_EV_RETRANS,		"#c92a2a", "retransmission" },
	{ TCPFAULT_EV_KEEPALIVE,	"#1c7ed6", "keepalive probe" },
	{ TCPFAULT_EV_KEEPALIVE_ACK,	"#74c0fc", "keepalive ACK" },
	{ TCPFAULT_EV_ZWP,		"#e67700", "zero-window probe" },
	{ TCPFAULT_EV_FIN,		"#495057", "FIN" },
	{ TCPFAULT_EV_RST,		"#000000", "RST" },
	{ TCPFAULT_EV_RST_SENT,		"#5f3dc4", "RST injected" },
	{ TCPFAULT_EV_ABORT,		"#862e9c", "socket aborted" },
};
#define NKINDS (ARRAY_SIZE(kinds))

static const struct kind other = { TCPFAULT_EV_MAX, "#868e96", "other" };

static const struct kind *kind_of(const char *event)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (ctl_is_event(event, kinds[i].event))
			return &kinds[i];
	return &other;
}

static bool is_fault_event(const char *event)
{
	return ctl_is_event(event, TCPFAULT_EV_FAULT_START) ||
	       ctl_is_event(event, TCPFAULT_EV_FAULT_STOP);
}

/* Text content or attribute value, XML-escaped; non-ASCII becomes '?'. */
static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			fputc(*s >= 0x20 && *s < 0x7f ? *s : '?', f);
		}
	}
}

static double lane_y(char dir)
{
	return TOP + (dir == 'r' ? 1.5 : 0.5) * LANE_H;
}

/* A tick step of 1, 2 or 5 times a power of ten, for about 8 ticks. */
static double tick_step(double span)
{
	double raw = span / 8, p = pow(10, floor(log10(raw))), m = raw / p;

	return p * (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10);
}

static void axis(FILE *f, double span)
{
	double step = tick_step(span), t, y0 = TOP, y1 = TOP + 2 * LANE_H;
	int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

	fprintf(f, "<g class=\"axis\" font-size=\"11\" fill=\"#495057\">\n");
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#495057\"/>\n",
		LEFT, y1, LEFT + PLOT_W, y1);
	for (t = 0; t <= span * 1.000001; t += step) {
		double x = LEFT + t / span * PLOT_W;

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e9ecef\"/>\n",
			x, y0, x, y1);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*fs</text>\n",
			x, y1 + 16, dec, t);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">time since the first event</text>\n",
		LEFT + PLOT_W / 2, y1 + 36);
	fprintf(f, "</g>\n");
}

static void lanes(FILE *f, const struct tl_labels *lb)
{
	static const char dirs[] = { 'o', 'r' };
	int i;

	fprintf(f, "<g class=\"lanes\" font-size=\"12\">\n");
	for (i = 0; i < 2; i++) {
		double y = lane_y(dirs[i]);

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ced4da\"/>\n",
			LEFT, y, LEFT + PLOT_W, y);
		fprintf(f, "<text x=\"10\" y=\"%.1f\">%c: sent by</text>\n", y - 4, dirs[i]);
		fprintf(f, "<text x=\"10\" y=\"%.1f\" font-family=\"monospace\">", y + 12);
		esc(f, i ? lb->r : lb->o);
		fprintf(f, "</text>\n");
	}
	fprintf(f, "</g>\n");
}

static void legend(FILE *f, const struct tl *tl)
{
	double x = 10, y = 58;
	size_t k, i;

	fprintf(f, "<g class=\"legend\" font-size=\"11\">\n");
	for (k = 0; k < NKINDS; k++) {
		for (i = 0; i < tl->n && !ctl_is_event(tl->ev[i].event, kinds[k].event); i++)
			;
		if (i == tl->n)
			continue;
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>\n", x + 5, y - 4,
			kinds[k].color);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 14, y, kinds[k].label);
		x += 24 + CHAR_W * (double)strlen(kinds[k].label);
	}
	fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#ffffff\" stroke=\"#495057\" stroke-width=\"2\"/>\n",
		x + 5, y - 4);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">hollow: dropped by a fault</text>\n", x + 14, y);
	fprintf(f, "</g>\n");
}

static void tooltip(FILE *f, const struct tl *tl, const struct tl_event *e,
		    const struct tl_labels *lb)
{
	char gap[48], info[128];

	tl_fmt_gap(e, gap, sizeof(gap));
	tl_fault_label(lb, e->info, info, sizeof(info));
	fprintf(f, "<title>%.6fs %c ", (double)e->rel_ns / 1e9, e->dir);
	esc(f, e->event);
	if (!e->info) {
		fputs(" seq ", f);
		esc(f, str_or(table_get(tl->t, e->row, "seq"), "?"));
		fputs(" len ", f);
		esc(f, str_or(table_get(tl->t, e->row, "len"), "?"));
	} else {
		fputc(' ', f);
		esc(f, info);
	}
	if (e->dropped)
		fputs(" dropped", f);
	if (*gap) {
		fputs(" gap ", f);
		esc(f, gap);
	}
	fputs("</title>", f);
}

static void fault_line(FILE *f, const struct tl *tl, const struct tl_event *e, double x,
		       const struct tl_labels *lb)
{
	const char *name = tl_fault_name(lb, e->info);
	bool start = ctl_is_event(e->event, TCPFAULT_EV_FAULT_START);

	fprintf(f, "<g class=\"fault\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"4 3\"/>",
		x, TOP - 6, x, TOP + 2 * LANE_H, start ? "#c92a2a" : "#2b8a3e");
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"%s\" fill=\"%s\">%s ",
		x + (start ? 3 : -3), TOP - 8, start ? "start" : "end",
		start ? "#c92a2a" : "#2b8a3e", start ? "fault on" : "fault off");
	esc(f, name ? name : e->info ? e->info : "");
	fputs("</text>", f);
	tooltip(f, tl, e, lb);
	fputs("</g>\n", f);
}

/* Gap labels go above their marker, on the lowest level where they fit. */
static void gap_label(FILE *f, const struct tl_event *e, double x, double *ends)
{
	char gap[48];
	double w, y = lane_y(e->dir);
	int lvl;

	tl_fmt_gap(e, gap, sizeof(gap));
	w = CHAR_W * (double)strlen(gap);
	/* Centred over the marker, but kept inside the picture. */
	if (x + w / 2 > W - 4)
		x = W - 4 - w / 2;
	if (x - w / 2 < LEFT)
		x = LEFT + w / 2;
	for (lvl = 0; lvl < LABEL_LEVELS; lvl++)
		if (x - w / 2 > ends[lvl] + 4)
			break;
	if (lvl == LABEL_LEVELS)
		return;		/* crowded: the tooltip still has it */
	ends[lvl] = x + w / 2;
	fprintf(f, "<text class=\"gap\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"%s\">",
		x, y - 12 - 13 * lvl, kind_of(e->event)->color);
	esc(f, gap);
	fputs("</text>\n", f);
}

/* A label below the lane, on the first of two rows where it fits, else none. */
static void state_label(FILE *f, const char *text, double x, double y, double *ends)
{
	double w = 5.6 * (double)strlen(text);
	int lvl;

	for (lvl = 0; lvl < 2; lvl++)
		if (x - 3 > ends[lvl] + 4)
			break;
	if (lvl == 2)
		return;		/* crowded: the tooltip still has it */
	ends[lvl] = x - 3 + w;
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" fill=\"%s\">", x - 3,
		y + 30 + 11 * lvl, other.color);
	esc(f, text);
	fputs("</text>", f);
}

static void marker(FILE *f, const struct tl *tl, const struct tl_event *e, double x,
		   const struct tl_labels *lb, double *state_ends)
{
	const struct kind *k = kind_of(e->event);
	double y = lane_y(e->dir);

	if (ctl_is_event(e->event, TCPFAULT_EV_STATE)) {
		fprintf(f, "<g class=\"state\"><rect x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"6\" fill=\"%s\" transform=\"rotate(45 %.1f %.1f)\"/>",
			x - 3, y + 14, other.color, x, y + 17);
		state_label(f, e->info ? e->info : "?", x, y, state_ends);
	} else {
		fprintf(f, "<g class=\"event\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" ", x, y);
		if (e->dropped)
			fprintf(f, "fill=\"#ffffff\" stroke=\"%s\" stroke-width=\"2\"/>", k->color);
		else
			fprintf(f, "fill=\"%s\"/>", k->color);
	}
	tooltip(f, tl, e, lb);
	fputs("</g>\n", f);
}

/**
 * tl_svg() - write a timeline as a standalone SVG document
 * @f: where to
 * @tl: the events
 * @lb: labels
 *
 * Return: 0 or a negative errno.
 */
int tl_svg(FILE *f, const struct tl *tl, const struct tl_labels *lb)
{
	double span = tl->n ? (double)tl->ev[tl->n - 1].rel_ns / 1e9 : 0;
	double ends[2][LABEL_LEVELS], state_ends[2][2];
	size_t i;
	int l;

	for (l = 0; l < LABEL_LEVELS; l++)
		ends[0][l] = ends[1][l] = -1e9;
	for (l = 0; l < 2; l++)
		state_ends[0][l] = state_ends[1][l] = -1e9;
	if (span < 0.001)
		span = 0.001;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n",
		W, H, W, H);
	fputs("<title>tcpfault timeline: ", f);
	esc(f, lb->title);
	fputs("</title>\n", f);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
	fputs("<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">", f);
	esc(f, lb->title);
	fputs("</text>\n", f);
	fprintf(f, "<text x=\"10\" y=\"40\" font-size=\"11\" fill=\"#495057\">%zu event%s; gaps: time since the previous event of the same kind in the same direction</text>\n",
		tl->n, tl->n == 1 ? "" : "s");
	legend(f, tl);
	lanes(f, lb);
	axis(f, span);
	for (i = 0; i < tl->n; i++) {
		const struct tl_event *e = &tl->ev[i];
		double x = LEFT + (double)e->rel_ns / 1e9 / span * PLOT_W;

		if (is_fault_event(e->event))
			fault_line(f, tl, e, x, lb);
		else
			marker(f, tl, e, x, lb, state_ends[e->dir == 'r']);
		if (e->has_gap && !is_fault_event(e->event))
			gap_label(f, e, x, ends[e->dir == 'r']);
	}
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}
