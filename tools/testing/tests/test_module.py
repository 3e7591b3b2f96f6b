# SPDX-License-Identifier: GPL-2.0
"""The module itself: load, per-namespace surfaces, metadata, unload."""
import errno
import os

import tfk

SYSFS_FILES = {
    "add", "del", "flush", "track_all", "last_error", "version", "faults_count",
    "conns", "conns_max", "conn_entry_bytes", "conn_buckets", "conn_memory_bytes",
    "conns_inserted", "conn_evictions", "conn_insert_failed", "packets_seen",
    "packets_dropped", "faults",
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
        with a.enter():
            tfk.check_eq(open(f"{tfk.SYSFS}/faults/only-a/mode").read(), "watch\n", "mode from a")
        with b.enter():
            try:
                open(f"{tfk.SYSFS}/faults/only-a/mode").read()
                raise tfk.Fail("namespace b read a's fault")
            except FileNotFoundError:
                pass
        # ... and b cannot switch it off or delete it either.
        for attr, text in (("faults/only-a/enabled", "0"), ("del", "only-a")):
            err = m.write(b, attr, text)
            tfk.check(err is not None and err.errno == errno.ENOENT,
                      f"{attr} from another namespace: {err}")
        tfk.check_eq(m.fault("only-a")["enabled"], "1", "a's fault untouched")
        tfk.check_eq(m.attr("faults_count"), "1", "faults_count")
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


def test_fault_names_are_global(m):
    """Documented leak (README, "namespace"): names are global, so another
    namespace learns that a name is taken, through faults/ and EEXIST, and
    nothing else."""
    a, b = tfk.Netns("a"), tfk.Netns("b")
    try:
        m.add(a, "taken mode=link-down src=10.77.3.4")
        err = m.write(b, "add", "taken mode=watch")
        tfk.check(err is not None and err.errno == errno.EEXIST, f"b adds a's name: {err}")
        got = b.read(f"{tfk.SYSFS}/last_error")
        tfk.check("'taken'" in got and "10.77.3.4" not in got, f"b's last_error: {got!r}")
        tfk.check_eq(m.table(b, "faults"), [], "b lists no fault")
        with b.enter():
            tfk.check("taken" in os.listdir(f"{tfk.SYSFS}/faults"), "b lists faults/taken")
        with b.enter():
            for attr in ("spec", "netns", "matched"):
                tfk.check_eq(_read_errno(f"{tfk.SYSFS}/faults/taken/{attr}"), errno.ENOENT,
                             f"b reads a's {attr}")
        for attr, text in (("del", "taken"), ("faults/taken/enabled", "0")):
            err = m.write(b, attr, text)
            tfk.check(err is not None and err.errno == errno.ENOENT, f"b writes {attr}: {err}")
        tfk.check("10.77.3.4" not in b.read(f"{tfk.SYSFS}/last_error"), "b's last_error")
        tfk.check_eq([r["name"] for r in m.table(a, "faults")], ["taken"], "a's fault stays")
    finally:
        a.close()
        b.close()


def _read_errno(path):
    try:
        open(path).read()
        return 0
    except OSError as e:
        return e.errno


def test_namespace_deleted_with_faults(m):
    a = tfk.Netns("gone")
    m.add(a, "in-gone mode=link-down src=10.9.9.9")
    tfk.check_eq(m.attr("faults_count"), "1", "faults_count before")
    a.close()
    # The pernet exit runs from a workqueue: wait for it.
    tfk.wait_until(lambda: m.attr("faults_count") == "0" and
                   not os.path.exists(f"{tfk.SYSFS}/faults/in-gone"), 20,
                   "the namespace's faults and their sysfs directories to go")


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
                          "track_all"}, "parameters")


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
