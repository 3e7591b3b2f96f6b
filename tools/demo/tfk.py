# SPDX-License-Identifier: GPL-2.0
"""tfk: the tcpfault kit, the demo's library, which the guest tests use too.

One Python process drives a whole scenario. It enters network namespaces
with setns(2) to create sockets there (a socket stays in the namespace it
was created in), so client, server and router need no helper processes and
no bare sleeps: every wait polls a condition with a deadline.

setns(2) does not change which sysfs a process sees: a sysfs mount shows
the network namespace of the process that mounted it, and tcpfault's
faults/ directory, like /sys/class/net, lists only that namespace's faults.
So each Netns reads and writes paths under /sys through a sysfs instance of
its own, mounted detached (fsmount(2)) from inside it, as `ip netns exec`
mounts one on /sys.

Nothing here fakes a result: sockets are real kernel TCP sockets, counters
are read from /proc/net/tcpfault, /proc/net/snmp, /proc/net/netstat and
getsockopt(TCP_INFO), and errors are the errno the kernel returned.
"""
import contextlib
import ctypes
import errno
import itertools
import json
import os
import socket
import struct
import subprocess
import time

CLONE_NEWNET = 0x40000000
MNT_DETACH = 2
SYS_FSOPEN, SYS_FSCONFIG, SYS_FSMOUNT = 430, 431, 432    # the same on every architecture
FSOPEN_CLOEXEC, FSCONFIG_CMD_CREATE, FSMOUNT_CLOEXEC = 1, 6, 1
SYSFS = "/sys/kernel/tcpfault"
_libc = ctypes.CDLL(None, use_errno=True)
_host_ns_fd = os.open("/proc/self/ns/net", os.O_RDONLY)


class Fail(Exception):
    """A test assertion failed."""


class Skip(Exception):
    """The test cannot run here (a tool or kernel feature is missing)."""


def size(quick, full):
    """A test's size: the short one under make check (run.py --quick), the
    full one under make stress."""
    return quick if os.environ.get("TCPFAULT_QUICK") else full


def report(fn):
    """Mark a test whose subject is a userspace report (the CLI's output,
    the demo's figures) rather than a path through the module: run.py
    --no-reports leaves it out, as the debug guest does (the stock
    kernels' guests run it)."""
    fn.report = True
    return fn


def variant(fn):
    """Mark a test that repeats another of its family in one more address
    family or topology: the family's first test (IPv4, local) and its
    routed IPv6 one take every path through the module the others take.
    run.py --no-variants leaves it out, as the debug guest does."""
    fn.variant = True
    return fn


def needs(*checks):
    """Mark a test with what it needs of the kernel: each check raises Skip
    if it is missing. run.py runs them before it loads the module, so a
    test this kernel cannot run costs no load and no topology (the test
    still meets its own error where it uses the feature)."""
    def mark(fn):
        fn.needs = checks
        return fn
    return mark


def modules(*names):
    """A check for needs(): the kernel has each module (see need_modules())."""
    return lambda: need_modules(*names)


def need_modules(*names):
    """Skip unless the kernel has each module (loaded here, or built in):
    the debug kernel is built without nf_tables, Debian's have it."""
    for name in names:
        if subprocess.run(["modprobe", "-q", name]).returncode != 0:
            raise Skip(f"no {name} in this kernel")


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def check_eq(got, want, what):
    if got != want:
        raise Fail(f"{what}: got {got!r}, want {want!r}")


def run(cmd, check_rc=True, **kw):
    """Run a command, return its stdout; raise Fail with its output if it fails."""
    p = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)
    if check_rc and p.returncode != 0:
        raise Fail(f"command failed ({p.returncode}): {cmd}\n{p.stdout}{p.stderr}")
    return p.stdout


def wait_until(cond, timeout, what, interval=0.02):
    """Poll cond() until it returns a true value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def add_batch(specs, per_write=10000):
    """Add faults, a batch of lines per write(2) to add, in the calling
    process's namespace. add takes whole lines up to a page and returns
    short; the rest goes in the next call. specs: an iterable of specs."""
    fd = os.open(f"{SYSFS}/add", os.O_WRONLY)
    try:
        it = iter(specs)
        while True:
            data = "".join(s + "\n" for s in itertools.islice(it, per_write)).encode()
            if not data:
                return
            off = 0
            while off < len(data):
                off += os.write(fd, data[off:])
    finally:
        os.close(fd)


def write_once(path, text, opener=os.open):
    """One write(2) of text to path; return None or the OSError. Unbuffered:
    a buffered file would write again when closed after a failed write, and
    a command that failed (EEXIST) could then succeed behind the caller's
    back."""
    try:
        fd = opener(path, os.O_WRONLY)
    except OSError as e:
        return e
    try:
        os.write(fd, text.encode() if isinstance(text, str) else text)
    except OSError as e:
        return e
    finally:
        os.close(fd)
    return None


def listdir_at(dir_fd, rel):
    """The names in directory rel below the directory descriptor dir_fd."""
    fd = os.open(rel, os.O_RDONLY | os.O_DIRECTORY, dir_fd=dir_fd)
    try:
        return sorted(os.listdir(fd))
    finally:
        os.close(fd)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def _syscall(nr, *args):
    r = _libc.syscall(ctypes.c_long(nr), *args)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def sysfs_mount():
    """A new sysfs instance, detached (fsmount(2)): a directory descriptor
    of its root. It shows the calling thread's network namespace."""
    fs = _syscall(SYS_FSOPEN, b"sysfs", ctypes.c_uint(FSOPEN_CLOEXEC))
    try:
        _syscall(SYS_FSCONFIG, ctypes.c_int(fs), ctypes.c_uint(FSCONFIG_CMD_CREATE),
                 ctypes.c_void_p(None), ctypes.c_void_p(None), ctypes.c_int(0))
        return _syscall(SYS_FSMOUNT, ctypes.c_int(fs), ctypes.c_uint(FSMOUNT_CLOEXEC),
                        ctypes.c_uint(0))
    finally:
        os.close(fs)


class Netns:
    """A network namespace made with `ip netns add`, deleted on close()."""

    _seq = 0

    def __init__(self, role, name=None):
        """Create a namespace, or adopt one already made under name."""
        Netns._seq += 1
        self.role = role
        self.name = name or f"tf{os.getpid()}-{Netns._seq}-{role}"
        if not name:
            run(["ip", "netns", "add", self.name])
        self.fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        with self.enter():
            self._sysfs = sysfs_mount()
        # No DAD, not even for link-local addresses: neighbour discovery
        # must not hold the first segments back (a retransmitted SYN would
        # start the connection with a 3 s RTO).
        self.sysctl("net.ipv6.conf.default.accept_dad", 0)
        self.sysctl("net.ipv6.conf.all.accept_dad", 0)
        if not name:
            self.ip("link set lo up")


    @contextlib.contextmanager
    def enter(self):
        _setns(self.fd)
        try:
            yield self
        finally:
            _setns(_host_ns_fd)

    def ip(self, args):
        return run(["ip", "-n", self.name] + args.split())

    def ip_batch(self, lines):
        """Several ip commands in this namespace, one process."""
        return run(["ip", "-n", self.name, "-batch", "-"], input="\n".join(lines) + "\n")

    def sh(self, cmd, check_rc=True):
        return run(["ip", "netns", "exec", self.name, "sh", "-c", cmd], check_rc=check_rc)

    def sysctl(self, key, value=None):
        path = "/proc/sys/" + key.replace(".", "/")
        with self.enter():
            if value is None:
                with open(path) as f:
                    return f.read().strip()
            with open(path, "w") as f:
                f.write(str(value))
        return None

    def socket(self, family=socket.AF_INET, type_=socket.SOCK_STREAM):
        with self.enter():
            return socket.socket(family, type_)

    def sysfs_fd(self):
        """The root of this namespace's own sysfs view (see the top)."""
        return self._sysfs

    def open(self, path, flags):
        """open(2) as seen from this namespace: a path under /sys through its
        sysfs view. The caller must be inside (enter()) to read or write."""
        if path.startswith("/sys/"):
            return os.open(path[len("/sys/"):], flags, dir_fd=self.sysfs_fd())
        return os.open(path, flags)

    def read(self, path):
        with self.enter():
            with open(self.open(path, os.O_RDONLY)) as f:
                return f.read()

    def write(self, path, text):
        """Write from inside the namespace; return None or the OSError."""
        with self.enter():
            return write_once(path, text, self.open)

    def listdir(self, path):
        """A directory as this namespace sees it (sysfs: its own view)."""
        if path.startswith("/sys/"):
            return listdir_at(self.sysfs_fd(), path[len("/sys/"):])
        return sorted(os.listdir(path))

    def exists(self, path):
        try:
            os.close(self.open(path, os.O_PATH))
            return True
        except FileNotFoundError:
            return False

    def snmp(self):
        """TCP counters as nstat reads them: {'TcpRetransSegs': n, 'TcpExtTCPKeepAlive': n, ...}."""
        out = {}
        for path in ("/proc/net/snmp", "/proc/net/netstat"):
            lines = self.read(path).splitlines()
            for head, vals in zip(lines[0::2], lines[1::2]):
                proto, names = head.split(":", 1)
                _, values = vals.split(":", 1)
                for n, v in zip(names.split(), values.split()):
                    out[proto + n] = int(v)
        return out

    def close(self):
        """Kill what runs in the namespace, then do what `ip netns del`
        does (detach the bind mount, remove it), without a process."""
        path = f"/run/netns/{self.name}"
        if self._sysfs is not None:
            os.close(self._sysfs)
            self._sysfs = None
        try:
            ino = os.fstat(self.fd).st_ino
            os.close(self.fd)
        except OSError:
            return
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{pid}/ns/net").st_ino == ino:
                    os.kill(int(pid), 9)
        if _libc.umount2(path.encode(), MNT_DETACH) != 0:
            run(["ip", "netns", "del", self.name], check_rc=False)
            return
        with contextlib.suppress(OSError):
            os.unlink(path)


def shrink_tcp(ns, retries2=4, ka_time=1, ka_intvl=1, ka_probes=3, syn_retries=3):
    """Make failures fast inside one namespace: the timing the tests predict from."""
    ns.sysctl("net.ipv4.tcp_retries2", retries2)
    ns.sysctl("net.ipv4.tcp_keepalive_time", ka_time)
    ns.sysctl("net.ipv4.tcp_keepalive_intvl", ka_intvl)
    ns.sysctl("net.ipv4.tcp_keepalive_probes", ka_probes)
    ns.sysctl("net.ipv4.tcp_syn_retries", syn_retries)


class Topology:
    """client <-> server over a veth pair, or client <-> router <-> server.

    Addresses: the client is 10.0.1.1 / fd00:1::1, the server 10.0.2.1 /
    fd00:2::1 when routed, else 10.0.1.2 / fd00:1::2.
    """

    def __init__(self, routed=False):
        self.routed = routed
        self.link_ids = []
        roles = ["cli", "srv"] + (["rtr"] if routed else [])
        # Few processes: every exec is slow on a KASAN+lockdep guest.
        names = []
        for role in roles:
            names.append(f"tf{os.getpid()}-{Netns._seq + len(names) + 1}-{role}")
        run(["ip", "-batch", "-"], input="".join(f"netns add {n}\n" for n in names))
        self.ns = [Netns(role, name) for role, name in zip(roles, names)]
        self.client, self.server = self.ns[0], self.ns[1]
        self.router = self.ns[2] if routed else None
        cfg = {n.name: ["link set lo up"] for n in self.ns}
        links = []
        if routed:
            self._link(links, cfg, self.client, "10.0.1.1", "fd00:1::1",
                       self.router, "10.0.1.254", "fd00:1::fe")
            self._link(links, cfg, self.router, "10.0.2.254", "fd00:2::fe",
                       self.server, "10.0.2.1", "fd00:2::1")
            cfg[self.client.name] += ["route add default via 10.0.1.254",
                                      "route add default via fd00:1::fe"]
            cfg[self.server.name] += ["route add default via 10.0.2.254",
                                      "route add default via fd00:2::fe"]
            self.caddr, self.caddr6 = "10.0.1.1", "fd00:1::1"
            self.saddr, self.saddr6 = "10.0.2.1", "fd00:2::1"
        else:
            self._link(links, cfg, self.client, "10.0.1.1", "fd00:1::1",
                       self.server, "10.0.1.2", "fd00:1::2")
            self.caddr, self.caddr6 = "10.0.1.1", "fd00:1::1"
            self.saddr, self.saddr6 = "10.0.1.2", "fd00:1::2"
        run(["ip", "-batch", "-"], input="\n".join(links) + "\n")
        for n in self.ns:
            n.ip_batch(cfg[n.name])
        if routed:
            self.router.sysctl("net.ipv4.ip_forward", 1)
            self.router.sysctl("net.ipv6.conf.all.forwarding", 1)

    _links = 0

    def _link(self, links, cfg, a, a4, a6, b, b4, b6):
        """A veth pair with fixed MACs and permanent neighbour entries: no
        ARP or neighbour discovery holds the first segments back (an IPv6
        SYN waiting for a slow resolution would start the connection with
        the 3 s fallback RTO, RFC 6298 5.7)."""
        Topology._links += 1
        n = Topology._links
        self.link_ids.append(n)
        ia, ib = f"v{n}a", f"v{n}b"
        ma, mb = f"02:00:00:00:{n % 256:02x}:0a", f"02:00:00:00:{n % 256:02x}:0b"
        links.append(f"link add {ia} netns {a.name} address {ma} type veth "
                     f"peer name {ib} netns {b.name} address {mb}")
        for ns, ifc, v4, v6, p4, p6, pmac in ((a, ia, a4, a6, b4, b6, mb),
                                              (b, ib, b4, b6, a4, a6, ma)):
            cfg[ns.name] += [f"addr add {v4}/24 dev {ifc}", f"addr add {v6}/64 dev {ifc} nodad",
                             f"link set {ifc} up",
                             f"neigh replace {p4} lladdr {pmac} dev {ifc} nud permanent",
                             f"neigh replace {p6} lladdr {pmac} dev {ifc} nud permanent"]

    def close(self):
        for n in self.ns:
            n.close()


# Module's default namespace for a fault: where Module.add() created it.
WHERE_ADDED = object()


class Module:
    """Load, drive and read tcpfault.

    Fault names are per network namespace, and a fault can be read, switched
    and deleted only from its own. Methods taking a fault's name act, unless
    told a namespace (None: the initial one), in the namespace where add()
    last created that name."""

    def __init__(self, ko=None):
        self.ko = ko or os.environ.get("TCPFAULT_KO")
        self.where = {}

    def _ns(self, name, ns):
        return self.where.get(name) if ns is WHERE_ADDED else ns

    def load(self, *params):
        if os.path.isdir(SYSFS):
            return
        if self.ko:
            run(["insmod", self.ko] + list(params))
        else:
            run(["modprobe", "tcpfault"] + list(params))

    def unload(self):
        if os.path.isdir(SYSFS):
            run(["rmmod", "tcpfault"])

    @staticmethod
    def write(ns, attr, text):
        """Write a control file from namespace ns (None: the initial one)."""
        path = f"{SYSFS}/{attr}"
        return write_once(path, text) if ns is None else ns.write(path, text)

    def add(self, ns, spec):
        err = self.write(ns, "add", spec)
        if err:
            raise Fail(f"add '{spec}' failed: {err}: {self.last_error(ns)}")
        self.where[spec.split()[0]] = ns

    def delete(self, name, ns=WHERE_ADDED):
        err = self.write(self._ns(name, ns), "del", name)
        if err:
            raise Fail(f"del {name} failed: {err}")

    def set_enabled(self, name, on, ns=WHERE_ADDED):
        err = self.write(self._ns(name, ns), f"faults/{name}/enabled", "1" if on else "0")
        if err:
            raise Fail(f"enable {name}={on} failed: {err}")

    @staticmethod
    def attr(path, ns=None):
        """Read a file below /sys/kernel/tcpfault from namespace ns (None: initial)."""
        if ns is not None:
            return ns.read(f"{SYSFS}/{path}").strip()
        with open(f"{SYSFS}/{path}") as f:
            return f.read().strip()

    def fault(self, name, ns=WHERE_ADDED):
        ns = self._ns(name, ns)
        d = {}
        for a in ("state", "enabled", "time_left_ms", "matched", "dropped", "rst_sent", "aborted", "mode"):
            d[a] = self.attr(f"faults/{name}/{a}", ns)
        return d

    def last_error(self, ns=None):
        return self.attr("last_error", ns)

    @staticmethod
    def table(ns, name):
        """Parse a /proc/net/tcpfault table read from inside ns (None: initial)."""
        path = f"/proc/net/tcpfault/{name}"
        if ns is None:
            with open(path) as f:
                lines = f.read().splitlines()
        else:
            lines = ns.read(path).splitlines()
        head = lines[0].split()
        rows = []
        for line in lines[1:]:
            vals = line.split(None, len(head) - 1)
            row = dict(zip(head, vals))
            for k, v in row.items():
                if k != "spec" and v.lstrip("-").isdigit():
                    row[k] = int(v)
            rows.append(row)
        return rows

    def conn(self, ns, sport=None, dport=None):
        for row in self.table(ns, "conns"):
            ports = (row["sport"], row["dport"])
            if sport is not None and sport not in ports:
                continue
            if dport is not None and dport not in ports:
                continue
            return row
        return None

    def timeline(self, ns, conn_id):
        return [r for r in self.table(ns, "timeline") if r["conn"] == conn_id]


# ---- sockets ---------------------------------------------------------------

TCP_INFO_FMT = "8B24I"


def tcp_info(sock):
    """Selected struct tcp_info fields (linux/tcp.h)."""
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    v = struct.unpack(TCP_INFO_FMT, raw[:struct.calcsize(TCP_INFO_FMT)])
    return {
        "state": v[0], "retransmits": v[2], "probes": v[3], "backoff": v[4],
        "rto_us": v[8], "rtt_us": v[8 + 15], "rttvar_us": v[8 + 16],
        "total_retrans": v[8 + 23],
        "ca_state": v[1], "snd_ssthresh": v[8 + 17], "snd_cwnd": v[8 + 18],
        "options": v[5], "unacked": v[8 + 4],
        # ms since new data last arrived (icsk_ack.lrcvtime; duplicates leave it)
        "last_data_recv_ms": v[8 + 11],
        # tcpi_dsack_dups (5.3 on), at its offset in struct tcp_info
        "dsack_dups": struct.unpack_from("I", raw, 216)[0] if len(raw) >= 220 else None,
    }


def listen(topo, port, v6=False, backlog=16, addr=None):
    """A listening socket on the server (at addr, default its address)."""
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    lst = topo.server.socket(fam)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(addr or ((topo.saddr6 if v6 else topo.saddr), port))
    lst.listen(backlog)
    return lst


def connect(topo, port, v6=False, keepalive=False, bind_port=0):
    """A connected (client, server-side accepted) socket pair and the listener."""
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    saddr = topo.saddr6 if v6 else topo.saddr
    lst = listen(topo, port, v6=v6)
    cli = topo.client.socket(fam)
    if bind_port:
        cli.bind((topo.caddr6 if v6 else topo.caddr, bind_port))
    if keepalive:
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    cli.settimeout(10)
    cli.connect((saddr, port))
    lst.settimeout(10)
    srv, _ = lst.accept()
    return cli, srv, lst


def send_until_error(sock, total=None, chunk=65536, timeout=120):
    """Send until an error (returns errno) or until total bytes went (returns 0)."""
    sock.settimeout(timeout)
    buf = b"x" * chunk
    sent = 0
    try:
        while total is None or sent < total:
            n = sock.send(buf if total is None else buf[:min(chunk, total - sent)])
            sent += n
    except OSError as e:
        return e.errno if e.errno else errno.ETIMEDOUT, sent
    return 0, sent


def sock_error(sock):
    """The pending socket error, as the kernel reports it (SO_ERROR)."""
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)


def tcp_state(sock):
    return tcp_info(sock)["state"]


TCP_ESTABLISHED = 1
TCP_CLOSE = 7


def model_timeout_ms(retries2, rto_min_ms=200, rto_max_ms=120000):
    """tcp_model_timeout(): how long tcp_write_timeout() keeps retrying."""
    thresh = (rto_max_ms // rto_min_ms).bit_length() - 1
    if retries2 <= thresh:
        return ((2 << retries2) - 1) * rto_min_ms
    return ((2 << thresh) - 1) * rto_min_ms + (retries2 - thresh) * rto_max_ms


def _rto_count(retries2, rto_ms, rto_max_ms):
    timeout = model_timeout_ms(retries2)
    k, t, rto, first = 0, 0.0, rto_ms, None
    while True:
        t += rto                        # this expiry, from the original send
        if t >= timeout:
            return k, t - (first if first is not None else 0)
        k += 1
        if first is None:
            first = t
        rto = min(rto * 2, rto_max_ms)


def expected_rto_retransmits(retries2, rto_ms, rto_max_ms=120000, slack=0.02):
    """RTO retransmissions before ETIMEDOUT, as net/ipv4/tcp_timer.c decides.

    The head segment was sent at t0; the k-th RTO expiry comes at
    t0 + rto * (2^k - 1) (the RTO doubling, capped at 120 s). At each
    expiry tcp_write_timeout() compares the time since tp->retrans_stamp,
    which holds the head segment's transmit time, with
    tcp_model_timeout(tcp_retries2, TCP_RTO_MIN): below it, retransmit;
    at or above it, fail the connection with ETIMEDOUT. Returns (counts,
    timeout_ms, error_after_ms): the possible counts (two when the actual
    RTO sits within 2% of a boundary, where jiffies and ms rounding
    decide), the model timeout, and the time from the first retransmission
    to the error.
    """
    lo = _rto_count(retries2, rto_ms * (1 - slack), rto_max_ms)
    mid = _rto_count(retries2, rto_ms, rto_max_ms)
    hi = _rto_count(retries2, rto_ms * (1 + slack), rto_max_ms)
    return sorted({lo[0], mid[0], hi[0]}), model_timeout_ms(retries2), mid[1]


def dump(obj):
    return json.dumps(obj, indent=1, sort_keys=True)
