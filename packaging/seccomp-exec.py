#!/usr/bin/python3
"""Runs a command under a systemd unit's system-call filter, as systemd would apply it to the unit's process.

    seccomp-exec.py UNIT_FILE COMMAND [ARG...]

ci-check.sh uses it because systemd is not PID 1 there: it reads the unit's SystemCallFilter= lines (an
allow-list, then ~lists subtracted from it; @groups expanded with systemd-analyze syscall-filter, so the groups are
this systemd's) and SystemCallErrorNumber= (a filtered call fails with that errno; without it, the process is
killed, as systemd does), loads the filter for the native architecture and execs COMMAND. The process must
already have no_new_privs (setpriv --no-new-privs). Needs python3-seccomp (libseccomp's bindings).
"""
import errno
import os
import subprocess
import sys

import seccomp


def expand(item, seen):
    """A system call name, or every call of an @group (nested groups included)."""
    if not item.startswith("@"):
        return {item}
    if item in seen:
        return set()
    seen.add(item)
    text = subprocess.run(["systemd-analyze", "syscall-filter", item], capture_output=True, text=True, check=True).stdout
    calls = set()
    for line in text.splitlines()[1:]:
        line = line.strip()
        if line and not line.startswith("#"):
            calls |= expand(line, seen)
    return calls


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: seccomp-exec.py UNIT_FILE COMMAND [ARG...]")
    filters, errno_name = [], None
    with open(sys.argv[1]) as unit:
        for line in unit:
            key, _, value = line.strip().partition("=")
            if key == "SystemCallFilter":
                filters.append(value.strip())
            elif key == "SystemCallErrorNumber":
                errno_name = value.strip()
    if not filters or filters[0].startswith("~"):
        sys.exit(f"seccomp-exec: {sys.argv[1]} has no SystemCallFilter= allow-list (the only form this emulates)")
    calls = set()
    for value in filters:
        items = set()
        for item in value.lstrip("~").split():
            items |= expand(item, set())
        calls = calls - items if value.startswith("~") else calls | items
    refuse = seccomp.ERRNO(getattr(errno, errno_name)) if errno_name else seccomp.KILL_PROCESS
    f = seccomp.SyscallFilter(defaction=refuse)
    known = 0
    for call in sorted(calls):
        try:
            f.add_rule(seccomp.ALLOW, call)
            known += 1
        except (RuntimeError, ValueError, OSError):
            pass  # a name this architecture does not have
    sys.stderr.write(f"seccomp-exec: {known} system calls allowed by {sys.argv[1]}, any other "
                     f"{'fails with ' + errno_name if errno_name else 'kills the process'}\n")
    f.load()
    os.execvp(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    main()
