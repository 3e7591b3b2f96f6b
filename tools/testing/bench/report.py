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
    """The issue's targets, judged on the worse of the two metrics."""
    out = ["## Targets", "",
           "Judged on the median ratio of the worse of the two metrics; \"on par\" means "
           "within 2%.", "",
           "| target | measured | met |", "|---|---|---|"]

    def worst(name):
        return min(statistics.median(ratios(cfg, name, m)) for m in ("tput_gbps", "rr_tps"))

    def row(what, measured, ok):
        out.append(f"| {what} | {measured} | {'yes' if ok else '**no**'} |")

    def size(name):
        return int(name.split()[0].replace(",", ""))

    loaded = find(cfg, "module, 0 faults")
    exact = [n for n in cfg if n.endswith("exact faults") and ": " not in n]
    ipt = find(cfg, "iptables, 10,000")
    nft = find(cfg, "nftables set")
    # Compared with nftables at the set's own size; the rest stand alone.
    nft_n = int(nft.split(", ")[1].split()[0].replace(",", "")) if nft else None
    big = max(exact, key=size) if exact else None
    if nft_n and any(size(n) == nft_n for n in exact):
        big = next(n for n in exact if size(n) == nft_n)
    huge = [n for n in exact if size(n) > size(big)] if big else []
    if loaded:
        w = worst(loaded)
        row("module loaded, no faults: within 2% of no module", f"{w:.3f}", w >= 0.98)
    for n in ([big] if big else []) + huge:
        w = worst(n)
        row(f"{n}: within 5% of no module", f"{w:.3f}", w >= 0.95)
    if big and ipt:
        for m, label in (("tput_gbps", "throughput"), ("rr_tps", "TCP_RR")):
            a = statistics.median(ratios(cfg, big, m))
            b = statistics.median(ratios(cfg, ipt, m))
            row(f"{big} vs iptables with 10,000 rules, {label}: beat by a wide margin",
                f"{a / b:.2f}x", a / b >= 1.5)
    if big and nft:
        for m, label in (("tput_gbps", "throughput"), ("rr_tps", "TCP_RR")):
            a = statistics.median(ratios(cfg, big, m))
            b = statistics.median(ratios(cfg, nft, m))
            row(f"{big} vs {nft}, {label}: at least on par", f"{a / b:.3f}x", a / b >= 0.98)
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


def scale(r):
    """Installing many faults: rate and memory, from the exact configurations' setup."""
    rows = r.get("extra", {}).get("scale", {})
    if not rows:
        return []
    clock = ("guest seconds of the instruction-counting clock"
             if r.get("clock") == "icount" else "seconds")
    out = ["", "## Installing many faults", "",
           "Each round's setup of the configurations above, measured: the faults go in through "
           "`add`, one write() each on one open file; the memory is the growth of the kernel's "
           "slab, vmalloc and per-CPU memory (the fault, its counters, its index entries and "
           "its sysfs directory); rmmod deletes them all. "
           f"Times are {clock}; median of the rounds.", "",
           "| configuration | install | faults/s | KiB per fault | rmmod |",
           "|---|---:|---:|---:|---:|"]
    for name, runs in rows.items():
        n = runs[0]["faults"]
        add = statistics.median(x["add_s"] for x in runs)
        kib = statistics.median(x["kib"] for x in runs) / n
        unl = [x["unload_s"] for x in runs if x.get("unload_s") is not None]
        out.append(f"| {name} | {add:.1f} s | {n / add:,.0f} | {kib:.2f} | "
                   f"{f'{statistics.median(unl):.1f} s' if unl else '–'} |")
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
        out.append(f"| {n:,} | {kind} | {fig(v.get(0))} | {fig(v.get(2))} | {fig(v.get(1))} |")
    bt, br = statistics.median(base["tput_gbps"]), statistics.median(base["rr_tps"])
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
