# SPDX-License-Identifier: GPL-2.0
"""The netfilter hooks exist in a namespace only while something needs its
segments: a fault there, or track_all. The witness is the kernel's own: a
kprobe on tcpfault_hook counts the calls the netfilter core makes, and the
module's hooks file must agree with it."""
import errno
import os
import threading

import tfk
from tfk import check, check_eq, size

PORT = 6301
TR = "/sys/kernel/tracing"


class HookCalls:
    """Calls of tcpfault_hook, counted by a kprobe in a tracing instance of
    its own.

    A kernel built without ftrace has no entry call before the hook's first
    instruction, the test of a static key, and kprobes refuse a jump label's
    site (EINVAL). There the calls are counted where tcpfault_hook hands
    them on, hook_ports() and hook_on(): that counts every call only while
    the module is armed (a fault or track_all somewhere: a test that needs
    it keeps a fault in a namespace of its own), and a segment counts twice if it passes the port filter (none does in
    these tests: their faults never name the traffic's ports)."""

    def __init__(self):
        self.event = f"tf_hook_{os.getpid()}"
        self.inst = f"{TR}/instances/{self.event}"
        self.events = []
        if not os.path.isdir(TR):
            tfk.run(["mount", "-t", "tracefs", "nodev", TR])
        # Recording comms would live-patch the scheduler (see test_tracepoints).
        for opt in ("record-cmd", "record-tgid"):
            self._write(f"{TR}/options/{opt}", "0")
        try:
            self._probe(self.event, "tcpfault_hook")
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
            for fn in ("hook_ports", "hook_on"):
                self._probe(f"{self.event}_{fn}", fn)
        os.mkdir(self.inst)
        self._write(f"{self.inst}/buffer_size_kb", "4096")
        for ev in self.events:
            self._write(f"{self.inst}/events/kprobes/{ev}/enable", "1")

    def _probe(self, event, fn):
        self._write(f"{TR}/kprobe_events", f"p:kprobes/{event} tcpfault:{fn}\n", append=True)
        self.events.append(event)

    @staticmethod
    def _write(path, text, append=False):
        # os.open: Python's "a" mode seeks to the end, which tracefs refuses.
        fd = os.open(path, os.O_WRONLY | (os.O_APPEND if append else os.O_TRUNC))
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def take(self):
        """Calls since the last take()."""
        with open(f"{self.inst}/trace") as f:
            n = sum(1 for line in f if self.event in line and not line.startswith("#"))
        self._write(f"{self.inst}/trace", "")
        return n

    def close(self):
        if os.path.isdir(self.inst):
            for ev in self.events:
                self._write(f"{self.inst}/events/kprobes/{ev}/enable", "0")
            os.rmdir(self.inst)
        for ev in self.events:
            self._write(f"{TR}/kprobe_events", f"-:kprobes/{ev}\n", append=True)


def _traffic(topo, n=20):
    """A connection and n request/response exchanges on it."""
    cli, srv, lst = tfk.connect(topo, PORT)
    try:
        for _ in range(n):
            cli.sendall(b"q")
            check_eq(srv.recv(1), b"q", "request")
            srv.sendall(b"r")
            check_eq(cli.recv(1), b"r", "response")
    finally:
        for s in (cli, srv, lst):
            s.close()


def _hooks(m, ns):
    return int(m.attr("hooks", ns))


def test_hooks_follow_faults(m):
    """None with no fault, in the namespace of a fault while it exists (and
    not in its peer's), none again after del and after flush."""
    topo = tfk.Topology()
    calls = HookCalls()
    # A fault in a namespace with no traffic keeps the module armed, so
    # that HookCalls sees a call of hooks left behind on any kernel.
    armer = tfk.Netns("armer")
    try:
        m.add(armer, f"armer mode=watch dport={PORT + 9}")
        check_eq((_hooks(m, topo.client), _hooks(m, topo.server), _hooks(m, None)),
                 (0, 0, 0), "hooks with no fault (client, server, initial)")
        _traffic(topo)
        check_eq(calls.take(), 0, "hook calls with no fault")

        # A fault that never matches the traffic: only the looking is seen.
        m.add(topo.client, f"w mode=link-down dport={PORT + 1}")
        check_eq((_hooks(m, topo.client), _hooks(m, topo.server)), (1, 0),
                 "hooks with a fault in the client's namespace")
        _traffic(topo)
        n = calls.take()
        # SYN, SYN-ACK, ACK, 40 data segments and their ACKs, FINs: each
        # seen once in the client's namespace, at LOCAL_OUT or PRE_ROUTING.
        check(n >= 40, f"hook calls with a fault: {n}, want every client segment")

        m.delete("w")
        check_eq(_hooks(m, topo.client), 0, "hooks after del")
        # Calls made while the hooks were there (the last connection's
        # closing segments can trail) are not the question: from here on,
        # with no hooks, there must be none.
        calls.take()
        _traffic(topo)
        check_eq(calls.take(), 0, "hook calls after del")

        m.add(topo.client, f"a mode=watch dport={PORT + 1}")
        m.add(topo.client, f"b mode=watch dport={PORT + 2}")
        m.delete("a")
        check_eq(_hooks(m, topo.client), 1, "hooks while one of two faults is left")
        m.write(topo.client, "flush", "1")
        check_eq(_hooks(m, topo.client), 0, "hooks after flush")
        calls.take()
        _traffic(topo)
        check_eq(calls.take(), 0, "hook calls after flush")
    finally:
        calls.close()
        armer.close()
        topo.close()


def test_hooks_follow_track_all(m):
    """track_all registers the hooks in every namespace, those made after
    it too, and takes them away when switched off (faults keep theirs)."""
    topo = tfk.Topology()
    calls = HookCalls()
    late = None
    try:
        m.add(topo.server, f"w mode=watch dport={PORT + 1}")
        m.write(None, "track_all", "1")
        late = tfk.Netns("late")
        check_eq((_hooks(m, topo.client), _hooks(m, topo.server), _hooks(m, late), _hooks(m, None)),
                 (1, 1, 1, 1), "hooks with track_all (client, server, new, initial)")
        _traffic(topo)
        check(calls.take() >= 80, "hook calls with track_all: both namespaces")
        check(m.conn(topo.client, dport=PORT) is not None, "track_all tracked the connection")
        m.write(None, "track_all", "0")
        check_eq((_hooks(m, topo.client), _hooks(m, topo.server), _hooks(m, late)),
                 (0, 1, 0), "hooks after track_all off: the fault's namespace keeps them")
        calls.take()
        _traffic(topo)
        n = calls.take()
        check(0 < n < 80, f"hook calls after track_all off: {n}, want the server's only")
    finally:
        calls.close()
        if late:
            late.close()
        topo.close()


def test_unload_while_hooks_come_and_go(m):
    """Faults added and deleted in several namespaces, track_all switched,
    traffic flowing, and rmmod in the middle of it: the module goes, the
    writers see the files vanish, and a new load starts with no hooks."""
    topo = tfk.Topology()
    spare = [tfk.Netns(f"hk{i}") for i in range(3)]
    stop = threading.Event()
    errors = []

    def churn(ns, k):
        i = 0
        while not stop.is_set():
            try:
                m.add(ns, f"c{k}-{i} mode=watch dport={PORT + 1 + i % 7}")
                m.delete(f"c{k}-{i}", ns)
            except tfk.Fail:
                pass        # the module is going or gone
            except FileNotFoundError:
                pass        # gone: its files with it
            except OSError as e:
                # Opened before the module went, written after: kernfs
                # answers a removed file's I/O with ENODEV.
                if e.errno != errno.ENODEV:
                    errors.append(repr(e))
                    return
            except Exception as e:  # noqa: BLE001 - any other error fails the test
                errors.append(repr(e))
                return
            i += 1

    def flip():
        on = 0
        while not stop.is_set():
            on ^= 1
            try:
                tfk.Module.write(None, "track_all", str(on))
            except OSError:
                pass

    def pump():
        while not stop.is_set():
            try:
                _traffic(topo, n=5)
            except (OSError, tfk.Fail):
                pass

    th = [threading.Thread(target=churn, args=(ns, k), daemon=True)
          for k, ns in enumerate([topo.client, topo.server] + spare)]
    th += [threading.Thread(target=flip, daemon=True), threading.Thread(target=pump, daemon=True)]
    try:
        for t in th:
            t.start()
        for _ in range(size(3, 20)):
            m.unload()
            m.load()
        m.unload()
        stop.set()
        for t in th:
            t.join(30)
        check(not errors, f"writers failed: {errors[:3]}")
        m.load()
        check_eq([_hooks(m, ns) for ns in [topo.client, topo.server] + spare],
                 [0] * 5, "hooks after a fresh load")
    finally:
        stop.set()
        for ns in spare:
            ns.close()
        topo.close()
