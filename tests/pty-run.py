#!/usr/bin/env python3
"""pty-run.py [--for SECONDS] OUT COMMAND...: run COMMAND on a pseudo
terminal (so that isatty() is true for it), copying everything it
writes to OUT.  With --for, the command gets SIGTERM after that many
seconds.  Exits with the command's status; a command still running 60 s
after it should have ended is killed (so a test never hangs here)."""
import os, pty, select, signal, sys, time

args = sys.argv[1:]
limit = None
if args[0] == "--for":
    limit = float(args[1])
    args = args[2:]
out = open(args[0], "wb")
cmd = args[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
start = time.monotonic()
termed = False
while True:
    el = time.monotonic() - start
    if limit is not None and el >= limit and not termed:
        os.kill(pid, signal.SIGTERM)
        termed = True
    if el > (limit or 0) + 60:
        os.kill(pid, signal.SIGKILL)
    r, _, _ = select.select([fd], [], [], 0.05)
    if not r:
        continue
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the child's side closed
        break
    if not data:
        break
    out.write(data)
    out.flush()
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
