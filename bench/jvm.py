"""The Kafka broker's memory and GC time, for the bench's report: peak RSS (VmHWM, the kernel's high-water mark
over the whole life of the process), RSS now, and the JVM's own GC counters (`jstat -gc`: collections and seconds
spent in them, young, full and concurrent).

    .local/venv/bin/python bench/jvm.py <pid>     (bench.sh runs it on the broker after the bench scripts)
"""

import shutil
import subprocess
import sys


def status_mb(pid: int, field: str) -> float:
    """A VmXxx field of /proc/<pid>/status in MB (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def gc_counters(pid: int) -> dict[str, float]:
    """jstat -gc of a running JVM as {column: value} (empty when jstat is missing or the JVM does not answer)."""
    if not shutil.which("jstat"):
        return {}
    try:
        out = subprocess.run(["jstat", "-gc", str(pid)], capture_output=True, text=True, timeout=20).stdout.split("\n")
        return dict(zip(out[0].split(), (float(v) for v in out[1].split()), strict=True))
    except (subprocess.SubprocessError, IndexError, ValueError, OSError):
        return {}


def report(pid: int) -> str:
    gc = gc_counters(pid)
    line = f"peak RSS {status_mb(pid, 'VmHWM'):.0f} MB, now {status_mb(pid, 'VmRSS'):.0f} MB"
    if gc:
        heap = (gc["EC"] + gc["OC"] + gc.get("S0C", 0) + gc.get("S1C", 0)) / 1024
        line += (f"; heap committed {heap:.0f} MB, used {(gc['EU'] + gc['OU'] + gc['S0U'] + gc['S1U']) / 1024:.0f} MB,"
                 f" metaspace {gc['MU'] / 1024:.0f} MB; GC: {gc['YGC']:.0f} young collections"
                 f" ({gc['YGCT']:.2f} s), {gc['FGC']:.0f} full ({gc['FGCT']:.2f} s),"
                 f" {gc.get('CGC', 0):.0f} concurrent pauses ({gc.get('CGCT', 0):.2f} s): {gc['GCT']:.2f} s in all")
    return line


if __name__ == "__main__":
    print(f"kafka JVM (pid {sys.argv[1]}): {report(int(sys.argv[1]))}", flush=True)
