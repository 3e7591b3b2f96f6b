# SPDX-License-Identifier: GPL-2.0
"""The demo's scenarios as tests: each must show what the kernel's rules predict.

Every expected-versus-observed figure the demo prints is asserted here.
"""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "demo"))
import scenarios  # noqa: E402
import tfk  # noqa: E402


DEMO = os.path.join(here, "..", "..", "tcpfault-demo")
# Every test here checks the demo's report (run.py --no-reports): the modes
# it stages are the faults and delay suites' subject.
REPORTS = True


def _run(m, key):
    [(_, _, fn)] = scenarios.find([key])
    r = fn(m, False)
    bad = [f"{w}: expected {e}, observed {o}" for w, e, o, ok in r.checks if not ok]
    tfk.check(r.checks, f"{key}: no figures checked")
    tfk.check(not bad, f"{key}: " + "; ".join(bad))


def test_peer_killed(m):
    _run(m, "peer-killed")


def test_peer_killed_unread(m):
    _run(m, "peer-killed-unread")


def test_cut_transfer(m):
    _run(m, "cut-transfer")


def test_cut_transfer_healed(m):
    _run(m, "cut-transfer-healed")


def test_cut_idle_keepalive(m):
    _run(m, "cut-idle-keepalive")


def test_cut_idle_no_keepalive(m):
    _run(m, "cut-idle-no-keepalive")


def test_power_off_reboot(m):
    _run(m, "power-off-reboot")


def test_connect_timeout(m):
    _run(m, "connect-timeout")


def test_connect_refused(m):
    _run(m, "connect-refused")


def test_zero_window(m):
    _run(m, "zero-window")


def test_user_timeout(m):
    _run(m, "user-timeout")


def test_power_off_keepalive(m):
    _run(m, "power-off-keepalive")


def test_oneway_partition(m):
    _run(m, "oneway-partition")


def test_nat_idle_drop(m):
    _run(m, "nat-idle-drop")


def test_lb_idle_rst(m):
    _run(m, "lb-idle-rst")


def test_nat_idle_keepalive(m):
    _run(m, "nat-idle-keepalive")


def test_latency_spike(m):
    _run(m, "latency-spike")


def test_list(m):
    p = subprocess.run([DEMO, "--list"], capture_output=True, text=True)
    tfk.check_eq(p.returncode, 0, "tcpfault-demo --list: exit status")
    listed = [line.split(None, 1) for line in p.stdout.splitlines()]
    tfk.check_eq([k for k, _ in listed], [k for k, _, _ in scenarios.SCENARIOS],
                 "tcpfault-demo --list: names")
    tfk.check(all(t.strip() for _, t in listed), f"a scenario without a title: {p.stdout}")


test_list.no_load = True


def test_bad_name(m):
    p = subprocess.run([DEMO, "connect-refused", "no-such-scenario"], capture_output=True,
                       text=True)
    tfk.check_eq(p.returncode, 2, "tcpfault-demo with an unknown name: exit status")
    tfk.check("unknown scenario 'no-such-scenario'" in p.stderr and
              all(k in p.stderr for k, _, _ in scenarios.SCENARIOS),
              f"the error names the bad one and lists the valid ones: {p.stderr!r}")
    tfk.check_eq(p.stdout, "", "tcpfault-demo with an unknown name: ran nothing")


test_bad_name.no_load = True
