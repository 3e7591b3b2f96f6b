# SPDX-License-Identifier: GPL-2.0
"""gdb -batch -x trace-gdb.py: single-step one call of the bench module's
marked function in a QEMU guest (its gdbstub at TRACE_PORT) and write the
address of every instruction it executed, one per line, to TRACE_OUT.
TRACE_MARK is the function's address, as the guest's console announced it.
Interrupts are masked while QEMU single-steps, so only the call is seen."""
import os

import gdb  # pylint: disable=import-error

mark = int(os.environ["TRACE_MARK"], 16)
limit = int(os.environ.get("TRACE_LIMIT", "20000"))
gdb.execute("set pagination off")
gdb.execute(f"target remote :{os.environ['TRACE_PORT']}")
gdb.execute(f"hbreak *{mark:#x}")
gdb.execute("continue")
gdb.execute("delete")
# The call returns when the stack pointer rises above its value at entry.
top = int(gdb.parse_and_eval("$rsp"))
with open(os.environ["TRACE_OUT"], "w", encoding="ascii") as out:
    for _ in range(limit):
        out.write(f"{int(gdb.parse_and_eval('$pc')):x}\n")
        gdb.execute("stepi", to_string=True)
        if int(gdb.parse_and_eval("$rsp")) > top:
            break
    else:
        raise gdb.GdbError(f"no return after {limit} instructions")
gdb.execute("detach")
