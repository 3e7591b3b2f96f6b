#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tcpfault benchmark, run inside the guest by tools/testing/bench.sh.

Bulk TCP throughput (iperf3) and request/response rate (rr) over a veth
pair between two namespaces, in several configurations measured side by
side in one run, interleaved round by round, so that the ratios to the
"no module" baseline are what the machine's noise leaves comparable. Then
the in-kernel micro-benchmark (tcpfault_bench.ko). Writes JSON.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "demo"))
import tfk  # noqa: E402

PORT_IPERF = 5201
PORT_RR = 5301


def sh(cmd, **kw):
    return tfk.run(cmd, **kw)


class Bench:
    def __init__(self, args):
        self.args = args
        self.topo = tfk.Topology()
        self.c, self.s = self.topo.client, self.topo.server
        self.servers = [
            subprocess.Popen(["ip", "netns", "exec", self.s.name, "iperf3", "-s", "-B",
                              self.topo.saddr, "-p", str(PORT_IPERF)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen(["ip", "netns", "exec", self.s.name, args.rr, "server",
                              self.topo.saddr, str(PORT_RR)], stdout=subprocess.PIPE, text=True),
        ]
        self.servers[1].stdout.readline()
        tfk.wait_until(lambda: f":{PORT_IPERF}" in self.s.sh("ss -ltn"), 10, "iperf3 server")

    def close(self):
        for p in self.servers:
            p.kill()
        self.topo.close()

    def iperf(self):
        out = self.c.sh(f"iperf3 -c {self.topo.saddr} -p {PORT_IPERF} -t {self.args.seconds} -J")
        return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e9

    def rr(self):
        out = self.c.sh(f"{self.args.rr} client {self.topo.saddr} {PORT_RR} {self.args.seconds}")
        return float(out.split()[1])


# ---- configurations ----------------------------------------------------------
# Each is (name, setup(bench, module), teardown(bench, module)). Faults never
# match the benchmark's traffic: the point is the cost of looking.

def _bench_kv(line):
    """The KEY=VALUE words of a tcpfault_bench.ko line in dmesg."""
    return dict(w.split("=", 1) for w in line.split("tcpfault_bench:", 1)[1].split() if "=" in w)


def _faults(b, m, n, fmt, batch=False):
    """n faults through add: one write each, or (batch) a page of lines per
    write, as tcpfaultctl add -f does (add takes whole lines, returning short)."""
    with b.c.enter():
        if batch:
            tfk.add_batch(fmt(i) for i in range(n))
            return
        fd = os.open(f"{tfk.SYSFS}/add", os.O_WRONLY)
        try:
            for i in range(n):
                os.write(fd, fmt(i).encode())
        finally:
            os.close(fd)


def _kernel_kib():
    """Kernel memory that faults take: slab, vmalloc and per-CPU, in KiB.
    (MemAvailable moved with the configurations' order within a round.)"""
    got = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, val = line.split(":", 1)
            got[key] = int(val.split()[0])
    return got["Slab"] + got["VmallocUsed"] + got["Percpu"]


def exact(n, batch=False):
    """n exact 4-tuple faults. From 10,000 on, the install is measured too:
    its time through add (one write per fault, one open file) and the
    kernel memory it took (slab, vmalloc and per-CPU, before and after)."""
    def setup(b, m):
        m.load()
        before, t0 = _kernel_kib(), time.monotonic()
        _faults(b, m, n, lambda i: f"x{i} mode=link-down src=10.9.{i >> 8 & 255}.{i & 255} "
                                   f"sport={1024 + (i >> 16)} dst=10.8.0.1 dport=80", batch)
        if n >= 10000:
            b.scale = {"faults": n, "add_s": time.monotonic() - t0,
                       "kib": _kernel_kib() - before, "batch": batch}
    return setup


def timed_unload(b, m):
    """rmmod, timed: with the faults still there, it deletes them all."""
    t0 = time.monotonic()
    m.unload()
    b.scale_unload_s = time.monotonic() - t0


def ranges(n):
    def setup(b, m):
        m.load()
        _faults(b, m, n, lambda i: f"r{i} mode=link-down src=10.9.{i >> 8 & 255}.{i & 255} "
                                   f"dport={3000 + i % 1000}-{3001 + i % 1000}")
    return setup


def delay_elsewhere(b, m):
    """A delay fault on a port the measured traffic does not use: what
    holding segments costs the connections it does not select."""
    m.load()
    m.add(b.c, "d mode=delay dport=9 latency=100ms jitter=10ms")


def loaded(b, m):
    m.load()


def hooks_both(b, m):
    """tcpfault's hooks in both namespaces, as track_all has them, with
    nothing to track: one exact fault in each, on a port the measured
    traffic does not use. Each segment pays netfilter's call and the port
    filter twice (leaving one namespace, entering the other): the least
    that any tracking of every segment in both costs."""
    m.load()
    for ns in (b.c, b.s):
        m.add(ns, "x mode=link-down src=10.9.0.1 sport=1024 dst=10.8.0.1 dport=80")


def unloaded(b, m):
    m.unload()


def tracked(n):
    """n idle entries in the connection table, for the whole measurement.

    A SYN sweep from distinct sources (raw socket) to a closed port: the
    server's stack answers each SYN with an RST, and both namespaces track
    the tuple, so n // 2 SYNs make n closed entries. closed_timeout keeps
    them past the run and conns_max leaves room, so neither the GC's expiry
    nor its pressure eviction changes the table while the traffic runs: the
    GC's once-a-second sweep over n entries is part of what is measured."""
    def setup(b, m):
        m.load(f"conns_max={n * 2}", "closed_timeout=86400", "idle_timeout=86400")
        m.write(None, "track_all", "1")
        sys.path.insert(0, os.path.join(here, "..", "tests"))
        from test_reliability import _syn_flood, _veth
        b.c.ip_batch([f"addr replace 10.7.0.1/16 dev {_veth(b.c)}"])
        b.s.ip_batch([f"route replace 10.7.0.0/16 via {b.topo.caddr}"])
        _syn_flood(b.c, "10.7.0.1", b.topo.saddr, 9, n // 2)
        # The last RSTs may still be on their way: wait for the count to settle.
        last = [-1]

        def settled():
            now = int(m.attr("conns"))
            done, last[0] = now == last[0], now
            return done
        tfk.wait_until(settled, 30, "the connection table to settle", interval=0.5)
        b.tracked = last[0]
    return setup


def iptables(n):
    def setup(b, m):
        m.unload()
        rules = ["*raw", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
        for chain in ("PREROUTING", "OUTPUT"):
            rules += [f"-A {chain} -s 10.9.{i >> 8 & 255}.{i & 255}/32 -p tcp --dport 80 -j DROP"
                      for i in range(n)]
        rules.append("COMMIT")
        sh(["ip", "netns", "exec", b.c.name, "iptables-legacy-restore"], input="\n".join(rules) + "\n")
    return setup


def iptables_down(b, m):
    sh(["ip", "netns", "exec", b.c.name, "iptables-legacy", "-t", "raw", "-F"])
    # Flushed, the raw table keeps its netfilter hooks in the namespace
    # until its module goes: every configuration measured after it (no
    # module included) would pass through them, and a hook added beside
    # them costs less than the first one. The next iptables setup loads
    # the module again.
    sh(["rmmod", "iptable_raw"])


def nft_set(n):
    def setup(b, m):
        m.unload()
        elems = ", ".join(f"10.9.{i >> 8 & 255}.{i & 255} . {80 + (i >> 16)}" for i in range(n))
        ruleset = f"""table inet tf {{
  set s {{ type ipv4_addr . inet_service; elements = {{ {elems} }} }}
  chain pre {{ type filter hook prerouting priority raw; ip saddr . tcp dport @s drop; }}
  chain out {{ type filter hook output priority raw; ip saddr . tcp dport @s drop; }}
}}
"""
        sh(["ip", "netns", "exec", b.c.name, "nft", "-f", "-"], input=ruleset)
    return setup


def nft_empty(b, m):
    """The floor of any netfilter tool: base chains at the hooks tcpfault
    uses (prerouting and output, at raw priority), with no rule in them."""
    m.unload()
    ruleset = """table inet tf {
  chain pre { type filter hook prerouting priority raw; }
  chain out { type filter hook output priority raw; }
}
"""
    sh(["ip", "netns", "exec", b.c.name, "nft", "-f", "-"], input=ruleset)


def nft_down(b, m):
    sh(["ip", "netns", "exec", b.c.name, "nft", "flush", "ruleset"])


def on(module, setup):
    """setup, with another build of tcpfault in place of the one measured."""
    return lambda b, m: setup(b, module)


HOOKS_BOTH = "hooks in both namespaces, 1 exact fault in each"


def configs(quick, base=None):
    """The configurations, in the order each round runs them. With base
    (label, Module), the tcpfault ones are measured again with that build,
    in the same rounds, as "label: configuration"."""
    big = 10000 if quick else 100000
    ours = [
        ("module, 0 faults", loaded, unloaded),
        ("1 exact fault", exact(1), unloaded),
        ("1 delay fault, on other connections", delay_elsewhere, unloaded),
        ("1,000 exact faults", exact(1000), unloaded),
        (f"{big:,} exact faults", exact(big), timed_unload),
        ("1,000 wildcard (port-range) faults", ranges(1000), unloaded),
        (f"tracking {big:,} idle entries", tracked(big), unloaded),
        (HOOKS_BOTH, hooks_both, unloaded),
    ]
    # A million faults: measured with this build only (it takes minutes).
    # Installed a page of lines per write (the batch form); the others one write each.
    huge = [] if quick else [("1,000,000 exact faults", exact(1000000, batch=True), timed_unload)]
    out = [("no module", unloaded, None)] + ours + huge + [
        ("iptables, 1,000 rules", iptables(1000), iptables_down),
        ("iptables, 10,000 rules", iptables(10000), iptables_down),
        (f"nftables set, {big:,} elements", nft_set(big), nft_down),
        ("nftables, empty chains at the same hooks", nft_empty, nft_down),
    ]
    if base:
        label, module = base
        out += [(f"{label}: {name}", on(module, setup), down) for name, setup, down in ours]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ko", required=True)
    ap.add_argument("--bench-ko", required=True)
    ap.add_argument("--rr", required=True)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--clock", choices=("icount", "real"), default="real",
                    help="how the guest's clock runs (recorded in the result)")
    ap.add_argument("--base-ko", help="another build of tcpfault.ko, measured beside this one")
    ap.add_argument("--base-label", default="base", help="what the other build is (recorded)")
    ap.add_argument("--only", help="configuration names separated by ';': just those, and "
                    "no micro-benchmark (the wall-clock pass)")
    ap.add_argument("--json", required=True)
    ap.add_argument("--commit", default="unknown", help="the tree measured (recorded)")
    ap.add_argument("--qemu", default="unknown", help="the emulator's version (recorded)")
    args = ap.parse_args()
    m = tfk.Module(args.ko)
    base = (args.base_label, tfk.Module(args.base_ko)) if args.base_ko else None
    b = Bench(args)
    chosen = configs(args.quick, base)
    if args.only:
        want = args.only.split(";")
        unknown = set(want) - {name for name, _, _ in chosen}
        if unknown:
            raise SystemExit(f"bench: no configuration {sorted(unknown)}")
        chosen = [c for c in chosen if c[0] in want]
    results = {name: {"tput_gbps": [], "rr_tps": []} for name, _, _ in chosen}
    extra = {"tracked_entries": {}}
    try:
        for rnd in range(args.rounds):
            for name, setup, teardown in chosen:
                t0 = time.monotonic()
                setup(b, m)
                if getattr(b, "tracked", None) is not None:
                    extra["tracked_entries"].setdefault(name, []).append(b.tracked)
                    b.tracked = None
                scale = getattr(b, "scale", None)
                b.scale = None
                results[name]["tput_gbps"].append(b.iperf())
                results[name]["rr_tps"].append(b.rr())
                if teardown:
                    teardown(b, m)
                if scale:
                    scale["unload_s"] = getattr(b, "scale_unload_s", None)
                    extra.setdefault("scale", {}).setdefault(name, []).append(scale)
                print(f"round {rnd + 1} {name}: {results[name]['tput_gbps'][-1]:.3f} Gbit/s, "
                      f"{results[name]['rr_tps'][-1]:.0f} trans/s ({time.monotonic() - t0:.0f} s)",
                      flush=True)
    finally:
        b.close()
        m.unload()
    # The in-kernel micro-benchmark.
    counts = "1,100,1000,10000" if args.quick else "1,10,100,1000,10000,100000,1000000"
    micro = []
    if not args.only:
        sh(["dmesg", "-C"])
        sh(["insmod", args.bench_ko, f"counts={counts}", "stages=1",
            "iters=" + ("50000" if args.quick else "200000")])
        sh(["rmmod", "tcpfault_bench"])
    stages = []
    for line in sh(["dmesg"]).splitlines() if not args.only else []:
        if "tcpfault_bench:" in line and "upto=" in line:
            # A selected segment's path cut short after one step (stages=1).
            kv = _bench_kv(line)
            stages.append({"kind": kv["kind"], "faults": int(kv["faults"]), "upto": kv["upto"],
                           "ns": float(kv["ns"])})
        elif "tcpfault_bench:" in line and "clock_ns=" in line:
            # One clock read, for scale beside the tracked segment's counting.
            extra["clock_ns"] = float(_bench_kv(line)["clock_ns"])
        elif "tcpfault_bench:" in line and "add_ns_per_fault=" in line:
            # The fault table's own cost of an add, no sysfs directory.
            kv = _bench_kv(line)
            extra.setdefault("core_add", []).append({"kind": kv["kind"], "faults": int(kv["faults"]),
                                                     "ns": int(kv["add_ns_per_fault"])})
        elif "tcpfault_bench:" in line and "ns_per_packet=" in line:
            kv = _bench_kv(line)
            # match: 0 other ports (the port filter), 1 selected, 2 a named port, not selected
            micro.append({"kind": kv["kind"], "faults": int(kv["faults"]), "match": int(kv["match"]),
                          "ns_per_packet": float(kv["ns_per_packet"])})
    with open(args.json, "w") as f:
        json.dump({"configs": results, "micro": micro, "stages": stages, "extra": extra,
                   "base": args.base_label if args.base_ko else None,
                   "seconds": args.seconds, "rounds": args.rounds, "clock": args.clock,
                   "cpus": os.cpu_count(), "commit": args.commit,
                   "qemu": args.qemu,
                   "kernel": os.uname().release, "quick": args.quick}, f, indent=1)


if __name__ == "__main__":
    main()
