"""Time and peak memory of the GraphML / GEXF exports of a 1.6 M-synapse snapshot (issue 19, item 7).

Builds the network of ``runs/dopamine_feedback.toml`` (4,000 neurons x 400 synapses, Gaussian
kernel: many multapses) through the public API, writes its snapshot tables (Parquet, as a run
does), then runs each writer in a fresh Python process that reads the tables as
``neuroabm export`` does. Memory is the process's resident set (RSS, Linux ``/proc/self/status``):
the peak while writing (VmHWM, reset with ``/proc/self/clear_refs`` after the tables are loaded;
without that reset, ``ru_maxrss`` of the whole process), printed both in absolute terms and above
the RSS once the tables are loaded (the baseline: interpreter, numpy, pandas, pyarrow, tables).
Prints seconds, peak MB, MB above the baseline and file MB per format; ``--reference`` also runs
the old path (``to_networkx``, then networkx's writer; ~30 s and ~3 GB each).

Usage: python benchmarks/bench_export.py [--config runs/dopamine_feedback.toml] [--reference]
       [--formats graphml gexf] [--chunk-edges 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
MB = 1e6


def rss_kib(field: str) -> int | None:
    """``field`` (VmRSS, VmHWM) of this process [KiB], or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS; False if the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child(writer: str, fmt: str, stem: str, out: str, chunk_edges: int) -> None:
    """Load the tables, write one file with ``writer`` ('stream' or 'networkx'), print figures as JSON."""
    from neuroabm.exports.graph import _write_graph_networkx
    from neuroabm.exports.graph_stream import write_gexf_stream, write_graphml_stream
    from neuroabm.exports.snapshots import read_snapshot

    nodes, edges = read_snapshot(Path(stem))
    base_kib = rss_kib("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    exact = reset_peak()
    t0 = time.perf_counter()
    if writer == "stream":
        fn = write_graphml_stream if fmt == "graphml" else write_gexf_stream
        fn(nodes, edges, out, chunk_edges=chunk_edges)
    else:
        _write_graph_networkx(nodes, edges, out, fmt)
    wall = time.perf_counter() - t0
    peak_kib = rss_kib("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    method = "VmHWM after reset" if exact else "ru_maxrss"
    figures = {"wall_s": wall, "base_mb": base_kib * 1024 / MB, "peak_mb": (peak_kib or 0) * 1024 / MB}
    print(json.dumps({**figures, "peak_method": method, "n_synapses": len(edges)}))


def build_tables(config: Path, folder: Path) -> tuple[Path, int, int]:
    """Write the snapshot tables of ``config``'s network (no simulation) to ``folder``; ``(stem, n, m)``."""
    from neuroabm import NeuroModel, load_config
    from neuroabm.exports.graph import graph_tables, write_graph

    model = NeuroModel(**load_config(config))
    nodes, edges = graph_tables(model)
    stem = folder / "t_000000000000ms"
    write_graph(nodes, edges, stem, "parquet")
    return stem, len(nodes), len(edges)


def measure(writer: str, fmt: str, stem: Path, out: Path, chunk_edges: int) -> dict:
    """Run :func:`child` in a fresh interpreter (niced) and return its figures plus the file size [MB]."""
    cmd = [sys.executable, __file__, "--child", writer, fmt, str(stem), str(out), str(chunk_edges)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{writer} {fmt} failed:\n{res.stderr}")
    figures = json.loads(res.stdout.strip().splitlines()[-1])
    figures["file_mb"] = out.stat().st_size / MB
    return figures


def differing_lines(a: Path, b: Path) -> int:
    """How many lines of two text files differ (read line by line: constant memory)."""
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return sum(la != lb for la, lb in zip(fa, fb, strict=False)) + abs(
            sum(1 for _ in open(a, "rb")) - sum(1 for _ in open(b, "rb"))
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "runs" / "dopamine_feedback.toml")
    ap.add_argument("--formats", nargs="+", default=["graphml", "gexf"], choices=["graphml", "gexf"])
    ap.add_argument("--reference", action="store_true", help="also run the networkx path (slow, ~3 GB)")
    ap.add_argument("--chunk-edges", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, default=None, help="write tables and files here instead of a temp dir")
    ap.add_argument("--child", nargs=5, metavar=("WRITER", "FMT", "STEM", "OUT", "CHUNK"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        writer, fmt, stem, out, chunk = args.child
        child(writer, fmt, stem, out, int(chunk))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        stem, n, m = build_tables(args.config, folder)
        print(f"{args.config.name}: {n} neurons, {m} synapses (tables built in {time.perf_counter() - t0:.1f} s)")
        writers = ["stream", "networkx"] if args.reference else ["stream"]
        head = ("format", "writer", "seconds", "peak MB", "above base", "base MB", "file MB")
        print(f"{head[0]:8} {head[1]:9} " + " ".join(f"{h:>{max(8, len(h))}}" for h in head[2:]))
        for fmt in args.formats:
            outs = {writer: folder / f"graph_{writer}.{fmt}" for writer in writers}
            for writer, out in outs.items():
                f = measure(writer, fmt, stem, out, args.chunk_edges)
                print(f"{fmt:8} {writer:9} {f['wall_s']:8.1f} {f['peak_mb']:8.0f} {f['peak_mb'] - f['base_mb']:10.0f} "
                      f"{f['base_mb']:8.0f} {f['file_mb']:8.1f}", flush=True)  # fmt: skip
            if args.reference:  # the GEXF files differ in their <creator> line (and the date, across midnight)
                print(f"  {fmt}: lines differing between the two files: {differing_lines(*outs.values())}")
            for out in outs.values() if args.keep is None else ():
                out.unlink()
        print(f"peak memory: RSS, {f['peak_method']}")


if __name__ == "__main__":
    main()
