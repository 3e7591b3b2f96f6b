#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""trace-report.py KALLSYMS PCS KO [FUNCTION...]: where a traced pass's
instructions went (trace.sh). Prints the total, then the instructions
executed in each function, most first; then, for each FUNCTION named, the
instructions it executed in order, disassembled from KO (a function of
the module; the kernel's own are counted, not disassembled)."""
import bisect
import collections
import re
import subprocess
import sys


def symbols(path):
    """Text symbols from a kallsyms dump: sorted (address, name)."""
    syms = []
    with open(path, encoding="ascii", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tTwW":
                syms.append((int(parts[0], 16), parts[2]))
    syms.sort()
    return syms


def disassembly(ko):
    """Each function of the module: its offset in the object, and its
    instructions by offset."""
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", ko], check=True,
                          capture_output=True, text=True).stdout
    funcs, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^([0-9a-f]+) <([^>]+)>:", line)
        if m:
            cur = m.group(2)
            funcs[cur] = (int(m.group(1), 16), {})
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(.*)", line)
        if m and cur:
            funcs[cur][1][int(m.group(1), 16)] = m.group(2).strip()
    return funcs


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: trace-report.py KALLSYMS PCS KO [FUNCTION...]")
    syms = symbols(sys.argv[1])
    starts = [a for a, _ in syms]
    with open(sys.argv[2], encoding="ascii") as f:
        pcs = [int(line, 16) for line in f if line.strip()]

    def where(pc):
        i = bisect.bisect_right(starts, pc) - 1
        return syms[i] if i >= 0 else (0, "?")

    counts = collections.Counter(where(pc)[1] for pc in pcs)
    print(f"{len(pcs)} instructions")
    for name, n in counts.most_common():
        print(f"{n:6d}  {name}")
    want = set(sys.argv[4:])
    if not want:
        return
    funcs = disassembly(sys.argv[3])
    for pc in pcs:
        base, name = where(pc)
        if name in want and name in funcs:
            off, insns = funcs[name]
            print(f"{name}+{pc - base:#x}\t{insns.get(off + pc - base, '?')}")


if __name__ == "__main__":
    main()
