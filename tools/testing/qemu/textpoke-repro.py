# SPDX-License-Identifier: GPL-2.0
"""Flip tcpfault's static key (add, then delete, a fault) as fast as the
control file allows while two bulk streams run through the hook, one each
way. Every flip makes the kernel rewrite live code with text_poke_bp().

Runs in a guest:
  tools/testing/qemu/run.sh -- python3 tools/testing/qemu/textpoke-repro.py KO SECONDS

On QEMU 7.2 with multi-threaded TCG the guest stalls or dies with
"Oops: int3" within seconds: a vCPU keeps executing an int3 that has
already been patched away. On QEMU 10.0 it runs clean. provision.sh
therefore installs QEMU from bookworm-backports.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "demo"))
import tfk  # noqa: E402


def pump(tx, rx, stop):
    def drain():
        while not stop.is_set() and rx.recv(1 << 20):
            pass
    threading.Thread(target=drain, daemon=True).start()
    buf = b"x" * 65536
    while not stop.is_set():
        tx.sendall(buf)


def main():
    ko, secs = sys.argv[1], float(sys.argv[2])
    m = tfk.Module(ko)
    m.load()
    topo = tfk.Topology()
    stop = threading.Event()
    a, b = tfk.connect(topo, 5000)[:2], tfk.connect(topo, 5001)[:2]
    threading.Thread(target=pump, args=(a[0], a[1], stop), daemon=True).start()
    threading.Thread(target=pump, args=(b[1], b[0], stop), daemon=True).start()
    t0, n = time.monotonic(), 0
    while time.monotonic() - t0 < secs:
        m.add(topo.client, "flip mode=watch dport=9")
        m.delete("flip")
        n += 1
    stop.set()
    print(f"textpoke-repro: {n} add/delete pairs ({2 * n} static key flips) in {secs:.0f} s")


if __name__ == "__main__":
    main()
