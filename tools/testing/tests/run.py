#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run the tcpfault integration tests inside a guest.

  run.py [--ko PATH] [--quick] [--no-reports] [--no-variants] [-k SUBSTRING]
         [--json FILE] [--label NAME]

Each test_* function in tests/test_*.py gets a freshly loaded module (from
--ko, else modprobe) and must leave it unloadable: the module is removed
after every test, and a failing rmmod fails the test. Output is TAP; the
summary goes to --json for the host-side check.sh.
"""
import argparse
import importlib.util
import json
import os
import sys
import time
import traceback

here = os.path.dirname(os.path.abspath(__file__))
# The kit is the demo's (tools/demo/tfk.py): the tests use it, not the reverse.
sys.path.insert(0, os.path.join(here, "..", "..", "demo"))
import tfk  # noqa: E402


def is_report(fn, mod):
    """A test of a userspace report: marked with tfk.report, or in a file
    whose REPORTS is true."""
    return getattr(fn, "report", getattr(mod, "REPORTS", False))


def discover(pattern, reports=True, variants=True):
    tests = []
    for fn in sorted(os.listdir(here)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fn[:-3], os.path.join(here, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(vars(mod)):
            if name.startswith("test_") and callable(getattr(mod, name)):
                full, test = f"{fn[5:-3]}.{name[5:]}", getattr(mod, name)
                if not reports and is_report(test, mod):
                    continue
                if not variants and getattr(test, "variant", False):
                    continue
                if not pattern or any(p in full for p in pattern):
                    tests.append((full, test, mod))
    return tests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ko")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-k", action="append", default=[])
    ap.add_argument("--json")
    ap.add_argument("--label", default="integration")
    ap.add_argument("--no-reports", action="store_true",
                    help="leave out the tests of userspace reports (tfk.report)")
    ap.add_argument("--no-variants", action="store_true",
                    help="leave out the tests that repeat their family's paths (tfk.variant)")
    args = ap.parse_args()
    if args.ko:
        os.environ["TCPFAULT_KO"] = os.path.abspath(args.ko)
    os.environ["TCPFAULT_QUICK"] = "1" if args.quick else ""

    tests = discover(args.k, reports=not args.no_reports, variants=not args.no_variants)
    print("TAP version 13")
    print(f"1..{len(tests)}")
    results = []
    for i, (name, fn, mod) in enumerate(tests, 1):
        m = tfk.Module()
        t0 = time.monotonic()
        status, detail = "ok", ""
        try:
            for need in getattr(fn, "needs", ()):
                need()
            if not getattr(fn, "no_load", False):
                m.load(*getattr(fn, "params", ()))
            fn(m)
        except tfk.Skip as e:
            status, detail = "skip", str(e)
        except tfk.Fail as e:
            status, detail = "fail", str(e)
        except Exception:  # a crash in the test is a failure, with its trace
            status, detail = "fail", traceback.format_exc()
        try:
            m.unload()
        except tfk.Fail as e:
            if status == "ok":
                status, detail = "fail", f"unload: {e}"
        dt = time.monotonic() - t0
        if status == "ok":
            print(f"ok {i} {name} # {dt:.1f}s", flush=True)
        elif status == "skip":
            print(f"ok {i} {name} # SKIP {detail}", flush=True)
        else:
            print(f"not ok {i} {name} # {dt:.1f}s", flush=True)
            for line in detail.rstrip().splitlines():
                print(f"#   {line}", flush=True)
        results.append({"name": name, "status": status, "seconds": round(dt, 2), "detail": detail})
    passed = sum(r["status"] == "ok" for r in results)
    failed = sum(r["status"] == "fail" for r in results)
    skipped = sum(r["status"] == "skip" for r in results)
    print(f"# {args.label}: {passed} passed, {failed} failed, {skipped} skipped")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"label": args.label, "passed": passed, "failed": failed,
                       "skipped": skipped, "tests": results}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
