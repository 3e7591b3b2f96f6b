# SPDX-License-Identifier: GPL-2.0
"""The module itself: load, per-namespace surfaces, metadata, unload."""
import contextlib
import errno
import os

import tfk

SYSFS_FILES = {
    "add", "del", "flush", "track_all", "last_error", "version", "faults_count",
    "conns", "conns_max", "conn_entry_bytes", "conn_buckets", "conn_memory_bytes",
    "conns_inserted", "conn_evictions", "conn_insert_failed", "packets_seen", "hooks",
    "packets_dropped", "delay_held", "faults",
}
PROC_FILES = {"faults", "conns", "timeline"}


def test_surfaces_in_two_namespaces(m):
    tfk.check_eq(set(os.listdir(tfk.SYSFS)), SYSFS_FILES, "/sys/kernel/tcpfault")
    a, b = tfk.Netns("a"), tfk.Netns("b")
    try:
        for ns in (a, b):
            with ns.enter():
                tfk.check_eq(set(os.listdir("/proc/net/tcpfault")), PROC_FILES,
                             f"/proc/net/tcpfault in {ns.name}")
            tfk.check(ns.read("/proc/net/tcpfault/faults").startswith("id name mode state"),
                      "faults header")
            tfk.check(ns.read("/proc/net/tcpfault/conns").startswith("id af saddr sport"),
                      "conns header")
            tfk.check(ns.read("/proc/net/tcpfault/timeline").startswith("conn ts_ns dir event"),
                      "timeline header")
        # A fault lives in its writer's namespace and is private to it.
        m.add(a, "only-a mode=watch")
        tfk.check_eq([r["name"] for r in m.table(a, "faults")], ["only-a"], "faults seen in a")
        tfk.check_eq(m.table(b, "faults"), [], "faults seen in b")
        tfk.check_eq(a.read(f"{tfk.SYSFS}/faults/only-a/mode"), "watch\n", "mode from a")
        tfk.check_eq(_read_errno(b, f"{tfk.SYSFS}/faults/only-a/mode"), errno.ENOENT,
                     "namespace b reads a's fault")
        # ... and b cannot switch it off or delete it either.
        for attr, text in (("faults/only-a/enabled", "0"), ("del", "only-a")):
            err = m.write(b, attr, text)
            tfk.check(err is not None and err.errno == errno.ENOENT,
                      f"{attr} from another namespace: {err}")
        tfk.check_eq(m.fault("only-a", a)["enabled"], "1", "a's fault untouched")
        for ns, want in ((a, "1"), (b, "0"), (None, "0")):
            tfk.check_eq(m.attr("faults_count", ns), want,
                         f"faults_count in {ns.name if ns else 'the initial namespace'}")
    finally:
        a.close()
        b.close()


def test_last_error_per_namespace(m):
    """A rejected write can quote its spec, addresses included: only the
    writer's namespace reads it back, the initial one included."""
    a, b = tfk.Netns("a"), tfk.Netns("b")
    try:
        secret = "x mode=watch src=10.77.1.2 sport=70000"
        err = m.write(a, "add", secret)
        tfk.check(err is not None and err.errno == errno.EINVAL, f"a's bad add: {err}")
        tfk.check("70000" in a.read(f"{tfk.SYSFS}/last_error"), "a reads its own error")
        for who, got in (("b", b.read(f"{tfk.SYSFS}/last_error")), ("init", m.last_error())):
            tfk.check("70000" not in got and "10.77.1.2" not in got,
                      f"{who} read a's rejected spec: {got!r}")
        err = m.write(b, "del", "nosuch-b")
        tfk.check(err is not None and err.errno == errno.ENOENT, f"b's bad del: {err}")
        tfk.check("nosuch-b" in b.read(f"{tfk.SYSFS}/last_error"), "b reads its own error")
        tfk.check("70000" in a.read(f"{tfk.SYSFS}/last_error"), "b's error left a's alone")
    finally:
        a.close()
        b.close()


def test_fault_names_per_namespace(m):
    """A fault's name, files and errors are visible only in its own
    namespace: two namespaces each hold a fault called 'taken', each sees
    its own alone, and a del in one leaves the other's alone."""
    a, b = tfk.Netns("a"), tfk.Netns("b")
    try:
        m.add(a, "taken mode=link-down src=10.77.3.4")
        m.add(b, "taken mode=watch dport=7")
        m.add(None, "host-only mode=watch")
        for ns, spec, other in ((a, "src=10.77.3.4/32", "dport=7"), (b, "dport=7", "10.77.3.4")):
            tfk.check_eq(ns.listdir(f"{tfk.SYSFS}/faults"), ["taken"], f"faults/ listed in {ns.name}")
            got = ns.read(f"{tfk.SYSFS}/faults/taken/spec")
            tfk.check(spec in got and other not in got, f"{ns.name}'s spec: {got!r}")
            tfk.check_eq(m.attr("faults/taken/netns", ns), str(os.fstat(ns.fd).st_ino),
                         f"{ns.name}'s netns")
            tfk.check_eq(m.attr("faults_count", ns), "1", f"faults_count in {ns.name}")
        tfk.check_eq(os.listdir(f"{tfk.SYSFS}/faults"), ["host-only"], "faults/ on the host")
        # EEXIST only within a namespace, and its reason quotes nothing else.
        err = m.write(b, "add", "taken mode=link-down dst=10.88.1.1")
        tfk.check(err is not None and err.errno == errno.EEXIST, f"b adds its own name again: {err}")
        got = b.read(f"{tfk.SYSFS}/last_error")
        tfk.check("'taken'" in got and "10.77.3.4" not in got, f"b's last_error: {got!r}")
        # Through another namespace's sysfs view (setns without a new
        # mount), a fault's files still read and write as absent.
        with b.enter():
            tfk.check_eq(_open_errno(a, "faults/taken/spec", os.O_RDONLY), errno.ENOENT,
                         "b reads a's spec through a's sysfs")
            tfk.check_eq(_open_errno(a, "faults/taken/enabled", os.O_WRONLY, b"0"), errno.ENOENT,
                         "b switches a's fault through a's sysfs")
        # b deletes its own 'taken', and only that.
        tfk.check_eq(m.write(b, "del", "taken"), None, "b deletes its taken")
        tfk.check_eq(b.listdir(f"{tfk.SYSFS}/faults"), [], "b's faults/ after the del")
        tfk.check_eq(a.listdir(f"{tfk.SYSFS}/faults"), ["taken"], "a's faults/ after b's del")
        err = m.write(b, "del", "taken")
        tfk.check(err is not None and err.errno == errno.ENOENT, f"b deletes it again: {err}")
        err = m.write(None, "del", "taken")
        tfk.check(err is not None and err.errno == errno.ENOENT, f"the host deletes a's: {err}")
        tfk.check_eq([r["name"] for r in m.table(a, "faults")], ["taken"], "a's fault stays")
        tfk.check_eq(m.fault("taken", a)["state"], "active", "a's fault still active")
        # ... and still works: it drops a's segments from 10.77.3.4.
        a.ip("addr add 10.77.3.4/32 dev lo")
        s = a.socket()
        s.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            s.connect(("10.77.3.4", 9))
        tfk.wait_until(lambda: int(m.fault("taken", a)["dropped"]) >= 1, 10, "a's SYN dropped")
        s.close()
        # flush in b empties b alone.
        m.add(b, "again mode=watch")
        tfk.check_eq(m.write(b, "flush", "1"), None, "flush in b")
        tfk.check_eq(b.listdir(f"{tfk.SYSFS}/faults"), [], "b after its flush")
        tfk.check_eq(a.listdir(f"{tfk.SYSFS}/faults"), ["taken"], "a after b's flush")
        tfk.check_eq(os.listdir(f"{tfk.SYSFS}/faults"), ["host-only"], "the host after b's flush")
    finally:
        a.close()
        b.close()


def _read_errno(ns, path):
    try:
        ns.read(path)
        return 0
    except OSError as e:
        return e.errno


def _open_errno(view, rel, flags, data=None):
    """Open (and read or write) a file of tcpfault's sysfs directory through
    another namespace's sysfs view, from the caller's namespace."""
    try:
        fd = os.open(f"kernel/tcpfault/{rel}", flags, dir_fd=view.sysfs_fd())
    except OSError as e:
        return e.errno
    try:
        if data is None:
            os.read(fd, 4096)
        else:
            os.write(fd, data)
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def test_namespace_deleted_with_faults(m):
    a = tfk.Netns("gone")
    m.add(a, "in-gone mode=link-down src=10.9.9.9")
    tfk.check_eq(m.attr("faults_count", a), "1", "faults_count before")
    # A sysfs view of the namespace outlives it: watch the directory go.
    view = os.dup(a.sysfs_fd())
    try:
        a.close()
        # The pernet exit runs from a workqueue: wait for it.
        tfk.wait_until(lambda: not tfk.listdir_at(view, "kernel/tcpfault/faults"), 20,
                       "the namespace's faults and their sysfs directories to go")
    finally:
        os.close(view)


def test_unload_removes_faults(m):
    m.add(None, "u1 mode=link-down src=10.1.1.1")
    m.add(None, "u2 mode=power-off host=10.1.1.2 delay=1h")
    m.unload()
    tfk.check(not os.path.exists(tfk.SYSFS), "sysfs gone after rmmod")
    tfk.check(not os.path.exists("/proc/net/tcpfault"), "procfs gone after rmmod")
    m.load()
    tfk.check_eq(m.attr("faults_count"), "0", "faults after reload")


def test_modinfo(m):
    ko = os.environ.get("TCPFAULT_KO") or tfk.run(["modinfo", "-n", "tcpfault"]).strip()
    info = tfk.run(["modinfo", ko])
    fields = {}
    for line in info.splitlines():
        k, _, v = line.partition(":")
        fields.setdefault(k.strip(), []).append(v.strip())
    tfk.check_eq(fields.get("license"), ["GPL"], "license")
    tfk.check(fields.get("description") and "TCP" in fields["description"][0], "description")
    tfk.check(fields.get("author"), "author")
    tfk.check_eq(fields.get("version"), [m.attr("version")], "version matches sysfs")
    params = {p.split(":")[0] for p in fields.get("parm", [])}
    tfk.check_eq(params, {"conns_max", "timeline_len", "idle_timeout", "closed_timeout",
                          "track_all", "nflog_group", "delay_queue_max"}, "parameters")


def test_dkms_modprobe(m):
    """Run by `make check`'s dkms suite, after dkms install on the host."""
    if os.environ.get("TCPFAULT_KO"):
        raise tfk.Skip("only in the dkms suite (no --ko: modprobe loads the installed module)")
    path = tfk.run(["modinfo", "-n", "tcpfault"]).strip()
    tfk.check("/updates/dkms/" in path, f"modprobe would load {path}")
    tfk.check(os.path.isdir(tfk.SYSFS), "loaded by modprobe")
    with open("/proc/modules") as f:
        tfk.check(any(line.startswith("tcpfault ") for line in f), "in /proc/modules")
    m.add(None, "dk mode=watch")
    tfk.check_eq(m.fault("dk")["state"], "active", "a fault works")
