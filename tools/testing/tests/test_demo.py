# SPDX-License-Identifier: GPL-2.0
"""The demo's scenarios as tests: each must show what the kernel's rules predict.

Every expected-versus-observed figure the demo prints is asserted here.
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "demo"))
import scenarios  # noqa: E402
import tfk  # noqa: E402


def _run(m, key):
    fn = dict(scenarios.SCENARIOS)[key]
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
