"""The processes of the stack bench.sh started (BENCH_PROCS="name=pid ..."), and their resident memory."""

import os
import threading


def tree_pids() -> dict[str, list[int]]:
    """The processes of each tree bench.sh named in BENCH_PROCS ("name=pid ...")."""
    roots = {}
    for item in os.environ.get("BENCH_PROCS", "").split():
        name, _, pid = item.partition("=")
        if pid.isdigit():
            roots[name] = int(pid)
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    out = {}
    for name, root in roots.items():
        pids, todo = [], [root]
        while todo:
            pid = todo.pop()
            if pid in parent:
                pids.append(pid)
                todo += [p for p, pp in parent.items() if pp == pid and p not in roots.values()]
        out[name] = pids
    return out


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakRss:
    """Samples the RSS of every process of every named tree; peak() gives, per tree, the largest process's peak."""

    def __init__(self, every: float = 0.2):
        self.every, self.peaks, self._stop = every, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pids in tree_pids().items():
                for pid in pids:
                    self.peaks[(name, pid)] = max(self.peaks.get((name, pid), 0.0), rss_mb(pid))
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def by_tree(self) -> dict[str, float]:
        """Per tree, the peak of its largest process (MB)."""
        out: dict[str, float] = {}
        for (name, _), mb in self.peaks.items():
            out[name] = max(out.get(name, 0.0), mb)
        return out

    def report(self) -> str:
        by_tree: dict[str, list[float]] = {}
        for (name, _), mb in self.peaks.items():
            by_tree.setdefault(name, []).append(mb)
        return ", ".join(f"{name} {max(v):.0f} MB (largest of {len(v)})" for name, v in sorted(by_tree.items()))


def rss_now() -> dict[str, float]:
    """Per named tree, the RSS of its largest process now (MB)."""
    return {name: max((rss_mb(p) for p in pids), default=0.0) for name, pids in tree_pids().items()}
