"""Run a command and report its process tree's peak resident memory and CPU-seconds, and those of the
PostgreSQL backends serving one database meanwhile (sampled every `--every` seconds from /proc: a backend's
CPU is its last sample's, so one that lived less than a sample is missed).

    python -m benchmarks.measure_command [--database NAME] [--json OUT] -- COMMAND ...

On a loaded machine wall time says little; CPU-seconds and peak memory compare runs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU-seconds, resident bytes) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK, int(fields[21]) * _PAGE


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="also the PostgreSQL backends of this database")
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument("--json")
    parser.add_argument("--max-mb", type=float, default=0, help="stop the command when its tree and the backends "
                        "together hold more than this (0: no limit)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    started = time.monotonic()
    child = subprocess.Popen(command)
    tree_cpu: dict[int, float] = {}
    backend_cpu: dict[int, float] = {}
    backend_start: dict[int, float] = {}
    peak_tree = peak_backends = 0
    # A backend's title: "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE" (Debian names the cluster, "15/main:").
    marker = f" postgres {args.database} " if args.database else None
    first = True
    while True:
        done = child.poll() is not None
        stats = {int(p): s for p in os.listdir("/proc") if p.isdigit() and (s := _stat(int(p))) is not None}
        tree = {child.pid}
        grew = True
        while grew:
            grew = False
            for pid, (parent, _, _) in stats.items():
                if parent in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        rss = 0
        for pid in tree:
            if pid in stats:
                tree_cpu[pid] = stats[pid][1]
                rss += stats[pid][2]
        peak_tree = max(peak_tree, rss)
        if marker:
            rss = 0
            for pid, (_, cpu, resident) in stats.items():
                title = _cmdline(pid)
                if pid not in tree and title.startswith("postgres:") and marker in title:
                    backend_start.setdefault(pid, cpu if first else 0.0)  # a backend from before: its CPU since
                    backend_cpu[pid] = cpu
                    rss += resident
            peak_backends = max(peak_backends, rss)
        first = False
        if args.max_mb and (sum(stats[p][2] for p in tree if p in stats) + (rss if marker else 0)) / 1e6 > args.max_mb:
            print(f"measure_command: over {args.max_mb:.0f} MB: stopping the command", file=sys.stderr)
            child.terminate()
            args.max_mb = 0
        if done:
            break
        time.sleep(args.every)
    result = {
        "command": command, "returncode": child.returncode, "wall_s": round(time.monotonic() - started, 1),
        "tree_cpu_s": round(sum(tree_cpu.values()), 1), "tree_peak_mb": round(peak_tree / 1e6),
        "backends_cpu_s": round(sum(backend_cpu[p] - backend_start[p] for p in backend_cpu), 1) if marker else None,
        "backends_peak_rss_mb": round(peak_backends / 1e6) if marker else None,
        "load_start": os.getloadavg()[0],
    }
    print(json.dumps(result), file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    sys.exit(child.returncode)


if __name__ == "__main__":
    main()
