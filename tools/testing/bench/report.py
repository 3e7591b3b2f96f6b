#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Render a bench.py JSON result as BENCHMARKS.md (every number from the JSON).

  report.py ICOUNT.json [WALLCLOCK.json]
"""
import json
import os
import platform
import statistics
import sys
import time

BASE = "no module"


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def ratios(cfg, name, metric):
    """Per-round ratios of a configuration to the baseline of the same round."""
    return [v / b for v, b in zip(cfg[name][metric], cfg[BASE][metric])]


def spread(r):
    """Per-round ratios as a table cell: the median, and the lowest and highest round."""
    med = statistics.median(r)
    if len(r) == 1:
        return f"{med:.3f}"
    return f"{med:.3f} ({min(r):.3f}–{max(r):.3f})"


def cell(cfg, name, metric):
    return spread(ratios(cfg, name, metric))


def find(cfg, prefix):
    for name in cfg:
        if name.startswith(prefix):
            return name
    return None


def targets(cfg):
    """The performance targets, each judged on the median ratio of the run."""
    out = ["## Targets", "",
           "Each target with what this run measured (median ratio to no module in the same "
           "rounds, unless said otherwise) and whether it is met.", "",
           "| target | measured | met |", "|---|---|---|"]

    def med(name, m):
        return statistics.median(ratios(cfg, name, m))

    def row(what, measured, ok):
        out.append(f"| {what} | {measured} | {'yes' if ok else '**no**'} |")

    def size(name):
        return int(name.split()[0].replace(",", ""))

    loaded = find(cfg, "module, 0 faults")
    exact = [n for n in cfg if n.endswith("exact faults") and ": " not in n]
    ipt = find(cfg, "iptables, 10,000")
    nft = find(cfg, "nftables set")
    track = next((n for n in cfg if n.startswith("tracking") and ": " not in n), None)
    # Compared with nftables at the set's own size; the rest stand alone.
    nft_n = int(nft.split(", ")[1].split()[0].replace(",", "")) if nft else None
    big = max(exact, key=size) if exact else None
    if nft_n and any(size(n) == nft_n for n in exact):
        big = next(n for n in exact if size(n) == nft_n)
    if loaded:
        # "1.000 within the run's noise": the rounds' own spread, at least 0.2%.
        for m, label in (("tput_gbps", "throughput"), ("rr_tps", "TCP_RR")):
            r = ratios(cfg, loaded, m)
            noise = max(0.002, max(r) - min(r))
            row(f"free when idle: module loaded, no faults, {label} 1.000 within the noise "
                f"(±{noise:.3f})", f"{statistics.median(r):.3f}",
                abs(1 - statistics.median(r)) <= noise)
    for n in exact:
        if size(n) >= 100000:
            row(f"{n}: TCP_RR at least 0.99", f"{med(n, 'rr_tps'):.3f}", med(n, "rr_tps") >= 0.99)
            row(f"{n}: throughput at least 0.995", f"{med(n, 'tput_gbps'):.3f}",
                med(n, "tput_gbps") >= 0.995)
    if big and nft:
        # TCP_RR "clearly ahead": by more than the 2% that counts as on par.
        # Throughput, where both sit within 1% of no module, at least on par.
        a, b = med(big, "rr_tps"), med(nft, "rr_tps")
        row(f"{big} vs {nft}, TCP_RR: clearly ahead (by more than 2%)",
            f"{a / b:.3f}x", a / b > 1.02)
        a, b = med(big, "tput_gbps"), med(nft, "tput_gbps")
        row(f"{big} vs {nft}, throughput: at least on par (within 2%)",
            f"{a / b:.3f}x", a / b >= 0.98)
    if big and ipt:
        a, b = med(big, "rr_tps"), med(ipt, "rr_tps")
        row(f"{big} vs iptables with 10,000 rules, TCP_RR: beat by a wide margin (1.5x)",
            f"{a / b:.2f}x", a / b >= 1.5)
    one, delay = find(cfg, "1 exact fault"), find(cfg, "1 delay fault")
    if one and delay:
        # A fault is a fault to the segments it does not select: the rounds'
        # own spread is the noise, as for the idle module.
        for m, label in (("tput_gbps", "throughput"), ("rr_tps", "TCP_RR")):
            r = [a / b for a, b in zip(ratios(cfg, delay, m), ratios(cfg, one, m))]
            noise = max(0.002, max(r) - min(r))
            row(f"{delay} vs {one}: {label} the same within the noise (±{noise:.3f})",
                f"{statistics.median(r):.3f}x", abs(1 - statistics.median(r)) <= noise)
    if track:
        row(f"{track} (track_all): at most 3% off TCP_RR", f"{med(track, 'rr_tps'):.3f}",
            med(track, "rr_tps") >= 0.97)
    return out


def micro_targets(r):
    """Instruction budgets per segment, from the micro-benchmark's exact rows."""
    if r.get("clock") != "icount":
        return []
    rows = [m for m in r["micro"] if m["kind"] == "exact"]
    out = []
    for match, what, budget in ((0, "not selected, ports no fault names", 150),
                                (2, "not selected, a port a fault names", 150),
                                (1, "selected", 500)):
        v = [m["ns_per_packet"] / 4 for m in rows if int(m["match"]) == match]
        if not v:
            continue
        n = [m["faults"] for m in rows if int(m["match"]) == match]
        worst = max(v)
        out.append(f"| {what}: at most {budget} instructions after parsing, "
                   f"{min(n):,} to {max(n):,} exact faults | {worst:.0f} (worst) | "
                   f"{'yes' if worst <= budget else '**no**'} |")
    return out


def stages(r, unit):
    """Where a selected segment's cost goes: its path cut short after each step."""
    got = [s for s in r.get("stages", []) if s["kind"] == "exact"]
    if not got:
        return []
    n = max(s["faults"] for s in got)
    at = {s["upto"]: s["ns"] for s in got if s["faults"] == n}
    whole = {int(m["match"]): m["ns_per_packet"] for m in r["micro"]
             if m["kind"] == "exact" and m["faults"] == n}.get(1)
    steps = [("filters", "the port and key filters (and the loop)"),
             ("lookup", "the connection's entry, the faults it remembers (else looked up) and, "
                        "for a segment in order, what the segment is"),
             ("track", "the classification of a segment out of order (one in order: "
                       "the call alone)"),
             ("verdict", "the faults' verdict"),
             ("whole", "the counting and timeline (a segment in order that goes on: "
                       "the short way)")]
    at["whole"] = whole
    out = ["", f"Where a selected segment's cost goes ({n:,} exact faults; the path cut short "
           f"after each step, each step's share the difference):", ""]
    return out + step_table(at, steps, unit)[0]


def step_table(at, steps, unit, less=0.0):
    """The table of a path cut short after each step (at: step -> ns), less
    the benchmark loop's own cost; and the whole path's figure."""
    out = [f"| step | cumulative, {unit} | this step |", "|---|---:|---:|"]
    prev = 0.0
    for key, what in steps:
        v = at.get(key)
        if v is None:
            continue
        out.append(f"| {what} | {v - less:.1f} | {v - less - prev:.1f} |")
        prev = v - less
    return out, prev


def tracked(r, unit, rr_tps, floor=None):
    """Where a tracked segment's cost goes (track_all, no fault), and what
    the 3% budget leaves a pass once `floor` (TCP_RR's ratio with the hooks
    in both namespaces and nothing to track) is paid."""
    at = {s["upto"]: s["ns"] for s in r.get("stages", []) if s["kind"] == "track"}
    hook = next((m["ns_per_packet"] for m in r["micro"] if m["kind"] == "track"), None)
    if hook is None or "loop" not in at:
        return []
    loop = at["loop"]
    whole = hook - loop
    steps = [("parse", "the headers parsed"),
             ("lookup", "the connection's entry (no fault looked up: the key filter says none can select it)"),
             ("track", "the classification"),
             ("account", "the counting (one clock read)")]
    out = ["", "Where a tracked segment's cost goes (`track_all` on, no fault; the benchmark "
           f"loop's own cost, {loop:.1f}, subtracted). Through the hook, an in-order segment "
           "of a known connection (IPv4, at LOCAL_OUT) takes header prediction: "
           f"{whole:.1f} in all ({whole / 4:,.0f} instructions), the hook's own checks and "
           "its per-CPU count included. A segment that prediction declines (a SYN, FIN or "
           "RST, one out of order, one with a port a fault names, an IPv6 one with an "
           "extension header) takes the whole "
           "way, step by step:", ""]
    table, prev = step_table(at, steps, unit, loop)
    out += table
    clock = r.get("extra", {}).get("clock_ns")
    if clock is not None:
        out += ["", f"One read of the clock the counting reads (ktime_get_ns()) costs {clock:.1f}."]
    if r.get("clock") == "icount" and rr_tps:
        # With track_all every namespace's hooks see the segment: the request
        # leaving the client and arriving at the server, the response back.
        budget = 0.03 * 1e9 / rr_tps / 4
        out += ["", f"With `track_all`, every namespace's hooks see each segment, so a TCP_RR "
                f"transaction is four passes: 3% of it (the target) is {budget:,.0f} ns, "
                f"{budget / 4:,.0f} instructions, a pass; a tracked pass (header prediction) "
                f"costs {whole:,.0f} ns ({whole / 4:,.0f}). Netfilter's own cost of calling a "
                f"hook at all comes out of the same 3%, so a pass must in fact cost less."]
        if floor:
            # A transaction of T ns runs at floor with the hooks alone; at
            # 0.97 it may take T / 0.97: what is left, a quarter a pass.
            t = 1e9 / rr_tps
            left = max(0.0, t / 0.97 - t / floor) / 4
            out += ["", f"How much less, measured: with tcpfault's hooks in both namespaces "
                    f"and nothing to track (\"hooks in both namespaces\" above: netfilter's "
                    f"call and the port filter, four passes a transaction), TCP_RR runs at "
                    f"{floor:.3f}. What 0.97 leaves for the tracking itself is {left:,.0f} ns "
                    f"({left / 4:,.0f} instructions) a pass, against the {whole:,.0f} "
                    f"({whole / 4:,.0f}) a tracked pass costs (its checks and port filter, which "
                    f"the floor already holds, included)."]
    return out


def scale(r):
    """Installing many faults: rate and memory, from the exact configurations' setup."""
    rows = r.get("extra", {}).get("scale", {})
    if not rows:
        return []
    clock = ("guest seconds of the instruction-counting clock"
             if r.get("clock") == "icount" else "seconds")
    out = ["", "## Installing many faults", "",
           "Each round's setup of the configurations above, measured: the faults go in through "
           "`add` on one open file, one write() each, or a page of lines per write() (the "
           "batch form, `tcpfaultctl add -f`); the memory is the growth of the kernel's "
           "slab, vmalloc and per-CPU memory (the fault, its counters, its index entries and "
           "its sysfs directory); rmmod deletes them all. "
           f"Times are {clock}; median of the rounds.", "",
           "| configuration | through add | install | faults/s | KiB per fault | rmmod |",
           "|---|---|---:|---:|---:|---:|"]
    for name, runs in rows.items():
        n = runs[0]["faults"]
        add = statistics.median(x["add_s"] for x in runs)
        kib = statistics.median(x["kib"] for x in runs) / n
        unl = [x["unload_s"] for x in runs if x.get("unload_s") is not None]
        how = "a page per write" if runs[0].get("batch") else "one write per fault"
        out.append(f"| {name} | {how} | {add:.1f} s | {n / add:,.0f} | {kib:.2f} | "
                   f"{f'{statistics.median(unl):.1f} s' if unl else '–'} |")
    core = [c for c in r.get("extra", {}).get("core_add", []) if c["kind"] == "exact"]
    if core:
        c = max(core, key=lambda c: c["faults"])
        out += ["", f"For comparison, tcpfault_bench.ko adds its {c['faults']:,} faults straight "
                f"into the fault table, with no sysfs directory and no system call: "
                f"{c['ns'] / 1000:,.1f} µs a fault ({1e9 / c['ns']:,.0f}/s, the same clock). "
                "The rest of an add's time through `add` is the fault's sysfs directory "
                "(thirteen files) and the write itself."]
    return out


def wall_clock(r, w):
    """The headline configurations on the wall clock, beside the icount figures."""
    if not w:
        return []
    cfg, wc = r["configs"], w["configs"]
    out = ["", "## Wall clock", "",
           f"The headline configurations measured again in a second guest on the wall clock "
           f"(2 vCPUs, no instruction counting), {w['rounds']} rounds of {w['seconds']:g} s, "
           "interleaved the same way. Here a cache miss costs what it costs, and so does the "
           "load of this shared host, so the spread is wider. Each cell: median ratio to no "
           "module (lowest–highest round); icount: the median above, for comparison.", "",
           "| configuration | iperf3 | icount | TCP_RR | icount |", "|---|---:|---:|---:|---:|"]
    disagree = []
    for name in wc:
        if name == BASE:
            continue
        cells = []
        for m in ("tput_gbps", "rr_tps"):
            v = ratios(wc, name, m)
            ic = statistics.median(ratios(cfg, name, m)) if name in cfg else None
            cells += [spread(v), "–" if ic is None else f"{ic:.3f}"]
            if ic is not None and not min(v) <= ic <= max(v):
                disagree.append(f"{name} ({'iperf3' if m == 'tput_gbps' else 'TCP_RR'}: "
                                f"wall clock {statistics.median(v):.3f}, icount {ic:.3f})")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out.append("")
    if disagree:
        out.append("Where the icount median falls outside the wall-clock rounds: "
                   + "; ".join(disagree) + ". The icount clock charges every instruction the "
                   "same and a memory access nothing beyond its instruction, so a wall-clock "
                   "ratio below the icount one is time spent waiting on memory (a large "
                   "table's cache misses) or on the host; one above it is the host's noise "
                   "favouring that configuration's rounds. Read the spread before the "
                   "difference.")
    else:
        out.append("Every icount median falls within the wall-clock rounds of the same "
                   "configuration: the two clocks agree.")
    return out


def against(r):
    """This build against the other one measured in the same rounds."""
    label, cfg = r.get("base"), r["configs"]
    if not label:
        return []
    out = ["", f"## Against {label}", "",
           f"The same configurations with the build of tcpfault at {label}, measured in the "
           "same rounds, interleaved with the others. A ratio is this build's figure over "
           f"{label}'s in the same round: above 1 is faster. Median, and in brackets the "
           "lowest and highest round.", "",
           f"| configuration | iperf3, this / {label} | TCP_RR, this / {label} |",
           "|---|---:|---:|"]
    for name in cfg:
        if not name.startswith(f"{label}: "):
            continue
        ours = name[len(label) + 2:]
        cells = [spread([a / b for a, b in zip(cfg[ours][m], cfg[name][m])])
                 for m in ("tput_gbps", "rr_tps")]
        out.append(f"| {ours} | {cells[0]} | {cells[1]} |")
    return out


def main():
    r = json.load(open(sys.argv[1]))
    w = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else None
    # The host's clock: the guest's runs on instruction counts.
    finished = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(os.stat(sys.argv[1]).st_mtime))
    cfg = r["configs"]
    icount = r.get("clock") == "icount"
    base = cfg[BASE]
    out = ["# tcpfault benchmarks", "",
           "Generated by `make bench` (tools/testing/bench.sh) from its own measurements; "
           "do not edit by hand.", "",
           "## Machine and method", "",
           f"- host: {cpu_model()}, {os.cpu_count()} CPUs, "
           f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB, shared",
           f"- guest: QEMU {r.get('qemu', 'unknown')} TCG (no KVM on this "
           f"machine), {r.get('cpus', '?')} vCPU(s), "
           f"kernel {r['kernel']}",
           f"- measured: tcpfault {r.get('commit', 'unknown')}, run finished {finished}"]
    if icount:
        out += ["- clock: instruction counting (`-icount shift=2`): each instruction "
                "executed advances the guest's clock by 2^2 = 4 ns (so a figure in "
                "icount-ns divided by 4 is an instruction count). Rates and times inside the guest measure the "
                "instructions the guest runs, so they do not move with the load of this "
                "shared host: the spread across rounds below is the whole noise. What it "
                "cannot show is memory latency: a cache miss costs nothing here, so a big "
                "table's cache footprint is not in these figures (`make bench "
                "BENCH_ARGS='--clock real'` measures wall-clock time, with about ±30% noise "
                "on this host)."]
    else:
        out += ["- clock: wall-clock time under TCG; on a shared host expect about ±30% "
                "between identical configurations, so read the spread before the ratio."]
    out += [f"- each figure: {r['rounds']} rounds of {r['seconds']:g} s per configuration and "
            "metric, the configurations interleaved round by round; a ratio is taken "
            "against the no-module baseline of the same round. Tables show the median "
            "ratio and, in brackets, the lowest and highest round.",
            "- traffic: one TCP connection over a veth pair between two namespaces, bulk "
            "(iperf3) and request/response (1-byte TCP_RR, `bench/rr.c`); every fault and "
            "rule lives in the sender's namespace and never matches the traffic, so what "
            "is measured is the cost of looking", ""]
    out += targets(cfg) + micro_targets(r)
    out += ["", "## Throughput and request/response rate", "",
            "| configuration | iperf3 Gbit/s | ratio | TCP_RR trans/s | ratio |",
            "|---|---:|---:|---:|---:|"]
    for name, v in cfg.items():
        t, q = statistics.median(v["tput_gbps"]), statistics.median(v["rr_tps"])
        out.append(f"| {name} | {t:.3f} | {cell(cfg, name, 'tput_gbps')} | {q:.0f} | "
                   f"{cell(cfg, name, 'rr_tps')} |")
    for name, counts in r.get("extra", {}).get("tracked_entries", {}).items():
        out += ["", f"(\"{name}\" had {', '.join(f'{n:,}' for n in counts)} entries in the "
                "connection table while the traffic ran, round by round.)"]
    out += against(r) + wall_clock(r, w) + scale(r)
    unit = "ns/segment (÷4 = instructions)" if icount else "ns/segment"
    out += ["", "## In-kernel micro-benchmark: the per-segment path", "",
            "tcpfault_bench.ko runs the hook's path once the headers are parsed (the "
            "namespace check, the port filter, the fault lookup, and for a selected segment "
            "the connection lookup, verdict and counting) on a synthetic segment, in a loop, "
            "with bottom halves off. *exact*: N exact 4-tuple faults; *range*: N port-range "
            "faults on distinct hosts; *none*: no fault in the namespace, which is the loop "
            "itself and the port filter of an empty namespace. Three segments: one whose ports "
            "no fault names, which the port filter turns away; one from a port a fault "
            "names but another host, which is looked up and not selected; and one that a "
            "watch fault selects, with the N others present.", "",
            f"| faults | kind | other ports, {unit} | a named port, not selected, {unit} | "
            f"selected, {unit} |",
            "|---:|---|---:|---:|---:|"]
    rows = {}
    for m in r["micro"]:
        rows.setdefault((m["kind"], m["faults"]), {})[int(m["match"])] = m["ns_per_packet"]
    order = {"none": 0, "exact": 1, "range": 2}

    def fig(v):
        return "–" if v is None else f"{v:.1f}"
    for (kind, n), v in sorted(rows.items(), key=lambda kv: (order.get(kv[0][0], 3), kv[0][1])):
        if kind not in order:
            continue
        out.append(f"| {n:,} | {kind} | {fig(v.get(0))} | {fig(v.get(2))} | {fig(v.get(1))} |")
    out += stages(r, unit)
    bt, br = statistics.median(base["tput_gbps"]), statistics.median(base["rr_tps"])
    both = find(cfg, "hooks in both namespaces")
    out += tracked(r, unit, br, statistics.median(ratios(cfg, both, "rr_tps")) if both else None)
    out += ["", f"For scale: with no module, one TCP_RR transaction (a request and a "
            f"response, each seen once by the hooks in the client's namespace) takes {1e9 / br:,.0f} ns, "
            f"and bulk traffic moves {bt:.3f} Gbit/s.",
            "", "## Reproduce", "", "```sh",
            "make bench                              # about an hour; rewrites this file",
            "make bench BENCH_ARGS='--clock real'    # wall-clock instead of instruction count",
            "make bench BENCH_ARGS='--base REV'      # also commit REV's module, in the same rounds",
            "```", ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
