# SPDX-License-Identifier: GPL-2.0
"""Reliability: a fault's sysfs files read while the fault goes away.

A fault holds no reference on its namespace (f->net): its readers use
what was recorded when it was added (the namespace's cookie and inode).
Here readers hammer faults/NAME/{netns,spec,matched,state,...} while the
fault is deleted, while its namespace dies, and while both happen at once.
On the debug kernel any KASAN, lockdep or kmemleak report fails the run
(the harness checks). `make check` runs the short size (TCPFAULT_QUICK=1).

Four kinds of reader, each a process of its own. Sysfs is per namespace,
and a fault's files answer only a reader in the fault's namespace:
- an "inside" reader enters the fault's namespace, mounts a sysfs of its
  own there in a private mount namespace (as `ip netns exec` does), opens
  the fault's files and reads them with pread() until told to stop. It
  pins the namespace, so it runs only in the rounds where the fault is
  deleted; its reads must return the fault's own values;
- an "own" reader does the same, then goes back to the initial network
  namespace before reading: every read must fail with ENOENT, while the
  fault is deleted or its namespace dies under the open files;
- an "init" reader opens the files in the initial namespace's /sys and a
  "path" reader opens faults/NAME/FILE by name there, over and over: they
  find nothing (ENOENT).
A read may fail only with ENOENT or ENODEV.

While a namespace dies, other namespaces are created and die too: the
kernel frees a dead namespace's memory only when a later one is cleaned
up, so without them a reader of freed namespace memory could go unseen.
"""
import ctypes
import errno
import json
import os
import random
import threading
import time

import tfk
from tfk import check, check_eq, size

FILES = ("netns", "spec", "matched", "state", "mode", "time_left_ms", "id")
CLONE_NEWNS = 0x00020000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)


def _own_sysfs(ns):
    """Enter ns with a private mount namespace and a sysfs mounted there."""
    tfk._setns(ns.fd)
    if _libc.unshare(CLONE_NEWNS) != 0 or \
            _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "unshare/mount")
    _libc.umount2(b"/sys", tfk.MNT_DETACH)
    if _libc.mount(b"sysfs", b"/sys", b"sysfs", 0, None) != 0:
        raise OSError(ctypes.get_errno(), "mount sysfs")
    # The copy of `ip netns`'s bind mount would keep the namespace alive.
    if _libc.umount2(f"/run/netns/{ns.name}".encode(), tfk.MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), "umount the namespace's bind mount")


def _reader(kind, ns, names, ready_w, out_w, stop_r):
    """Child body: read until stop_r becomes readable; report counts."""
    res = {"ok": 0, "gone": 0, "other": [], "values": {}}
    keys = [(n, f) for n in names for f in FILES]
    fds = {}
    ready = False
    try:
        if kind in ("own", "inside"):
            _own_sysfs(ns)
        if kind in ("own", "inside", "init"):
            for n, f in keys:
                try:
                    fds[n, f] = os.open(f"{tfk.SYSFS}/faults/{n}/{f}", os.O_RDONLY)
                except FileNotFoundError:
                    if kind in ("own", "inside"):
                        raise
                    res["gone"] += 1
            keys = list(fds)
        # An "inside" reader stays in the namespace (it pins it: del
        # rounds only); an "own" reader leaves it and, sysfs being per
        # namespace, may then only ever get ENOENT from what it opened.
        if kind == "own":
            tfk._setns(tfk._host_ns_fd)
        # Nothing of the reader's may keep the namespace alive: not the
        # descriptor inherited from the parent, not (above) a bind mount.
        os.close(ns.fd)
        os.write(ready_w, b"r")
        ready = True
        os.set_blocking(stop_r, False)
        while True:
            try:
                os.read(stop_r, 1)
                break
            except BlockingIOError:
                pass
            for n, f in keys:
                try:
                    if kind != "path":
                        v = os.pread(fds[n, f], 4096, 0)
                    else:
                        with open(f"{tfk.SYSFS}/faults/{n}/{f}", "rb", buffering=0) as fh:
                            v = fh.read()
                    res["ok"] += 1
                    seen = res["values"].setdefault(f"{n}/{f}", [])
                    v = v.decode().strip()
                    if v not in seen and len(seen) < 8:
                        seen.append(v)
                except OSError as e:
                    if e.errno in (errno.ENOENT, errno.ENODEV):
                        res["gone"] += 1
                    elif len(res["other"]) < 5:
                        res["other"].append(f"{n}/{f}: {e}")
    except Exception as e:  # noqa: BLE001 - reported to the parent
        res["other"].append(f"{kind} reader failed: {e!r}")
        if not ready:
            os.write(ready_w, b"r")
    os.write(out_w, (json.dumps(res) + "\n").encode())


def _spawn(kind, ns, names):
    ready_r, ready_w = os.pipe()
    out_r, out_w = os.pipe()
    stop_r, stop_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (ready_r, out_r, stop_w):
                os.close(fd)
            _reader(kind, ns, names, ready_w, out_w, stop_r)
        finally:
            os._exit(0)
    for fd in (ready_w, out_w, stop_r):
        os.close(fd)
    check_eq(os.read(ready_r, 1), b"r", f"{kind} reader ready")
    os.close(ready_r)
    return pid, out_r, stop_w


def _collect(pid, out_r, stop_w):
    os.write(stop_w, b"s")
    os.close(stop_w)
    with os.fdopen(out_r) as f:
        line = f.readline()
    os.waitpid(pid, 0)
    check(line, f"reader {pid} reported nothing")
    return json.loads(line)


def _churn_namespaces(stop):
    """Namespaces born and dead one after the other. A dead namespace's
    memory is freed only when a later namespace's cleanup runs (net_free()
    defers it): without other deaths, a reader of the dead namespace could
    not touch freed memory however wide the window."""
    CLONE_NEWNET = 0x40000000
    while not stop.is_set():
        pid = os.fork()
        if pid == 0:
            _libc.unshare(CLONE_NEWNET)
            os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.02)


def _del_all(nsfd, delfd, names, errs):
    """Thread body: delete the faults from inside their namespace (names
    are per namespace) through descriptors taken before the race, so the
    namespace's death cannot pull them away; ENOENT when it won."""
    try:
        tfk._setns(nsfd)
        for n in names:
            try:
                os.write(delfd, n.encode())
            except OSError as e:
                if e.errno != errno.ENOENT:
                    errs.append(f"{n}: {e}")
    finally:
        tfk._setns(tfk._host_ns_fd)
        os.close(delfd)
        os.close(nsfd)


def test_fault_files_read_while_fault_and_netns_die(m):
    """Readers of a namespace's fault files race del and the namespace's
    death, round after round; nothing but ENOENT/ENODEV comes back, and
    what comes back is right."""
    rounds = size(12, 120)
    ways = ("del", "netns", "both")
    totals = {"ok": 0, "gone": 0}
    for i in range(rounds):
        way = ways[i % len(ways)]
        ns = tfk.Netns("race")
        ino = os.fstat(ns.fd).st_ino
        names = [f"nr{i}a", f"nr{i}b"]
        m.add(ns, f"{names[0]} mode=loss prob=50% dport=9 delay=1h")
        m.add(ns, f"{names[1]} mode=power-off host=10.99.{i % 250}.1")
        spec = {n: ns.read(f"{tfk.SYSFS}/faults/{n}/spec").strip() for n in names}
        del_errs = []
        # Per-namespace sysfs: only a reader in the namespace reads a
        # fault's files; readers that left it, or never entered it, must
        # meet nothing but ENOENT, however the fault goes.
        kinds = ("inside", "own", "path") if way == "del" else ("own", "own", "init")
        readers = [_spawn(k, ns, names) for k in kinds]
        time.sleep(random.uniform(0, 0.05))
        if way in ("del", "both"):
            with ns.enter():
                delfd = ns.open(f"{tfk.SYSFS}/del", os.O_WRONLY)
            t = threading.Thread(target=_del_all, args=(os.dup(ns.fd), delfd, names, del_errs))
            t.start()
        stop = threading.Event()
        churn = threading.Thread(target=_churn_namespaces, args=(stop,))
        if way in ("netns", "both"):
            ns.close()
            churn.start()
        if way in ("del", "both"):
            t.join(60)
            check(not t.is_alive(), "del hung")
            check(not del_errs, f"round {i} ({way}): del failed: {del_errs}")
        if way == "del":
            tfk.wait_until(lambda: not any(ns.exists(f"{tfk.SYSFS}/faults/{n}") for n in names),
                           30, f"round {i} ({way}): the faults to go", interval=0.05)
        # Let the readers meet the removed files for a moment.
        time.sleep(0.02)
        results = [_collect(*r) for r in readers]
        stop.set()
        if churn.is_alive():
            churn.join(30)
        if way == "del":
            ns.close()
        for kind, r in zip(kinds, results):
            check(not r["other"], f"round {i} ({way}) {kind} reader: {r['other']}")
            for key, vals in r["values"].items():
                name, f = key.split("/")
                if f == "netns":
                    check_eq(vals, [str(ino)], f"round {i} ({way}) {kind}: {key} values read")
                elif f == "spec":
                    check_eq(vals, [spec[name]], f"round {i} ({way}) {kind}: {key} values read")
            if kind != "inside":
                check_eq(r["ok"], 0, f"round {i} ({way}) {kind} reader: reads from outside")
            totals["ok"] += r["ok"]
            totals["gone"] += r["gone"]
    check(totals["ok"] > 0, f"no read ever succeeded: {totals}")
    check_eq(m.attr("faults_count"), "0", "faults left")
    print(f"# fault-file readers over {rounds} rounds: {totals['ok']} reads, "
          f"{totals['gone']} ENOENT/ENODEV", flush=True)
