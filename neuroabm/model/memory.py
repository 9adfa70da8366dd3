"""How much memory a configuration needs, known before anything is built.

``neuroabm run`` calls :func:`check_fits` first and refuses a configuration whose estimate exceeds
the memory available, in one line; ``neuroabm run --dry-run`` prints :func:`estimate_memory`'s
parts. The estimate is the peak resident memory of a run: the interpreter with the engine loaded,
the synapse store at its build peak (see :mod:`neuroabm.model.store_builder`: one copy of the edge
list for uniform fixed in-degree; a source table, a CSR and its compact copy otherwise), per-neuron
state (arrays, the Mesa agent and its place in the ContinuousSpace), the delay ring, plasticity's
per-synapse state, the dopamine grid and field snapshots, and the spikes kept in memory.
``tests/test_memory.py`` checks it against the measured peak RSS at three sizes (within 25 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from neuroabm.config.params import ConfigError, Params
from neuroabm.model.layout import MAX_PART_WIDTH, n_partitions, pool_threads

#: static networks above this many synapses keep no graph records (neuroabm.recorders.graph)
STATIC_MAX_SYNAPSES = 50_000_000

#: resident memory of the interpreter with numpy, Mesa, numba and the compiled kernels [bytes]
#: (measured: 330-380 MB on the reference machine, Python 3.12, numba 0.68)
BASELINE_BYTES = 360 * 2**20
#: a Neuron agent with its AgentSet entries and ContinuousSpace slot [bytes] (measured: 560-620)
AGENT_BYTES = 600
#: per-neuron arrays of the model: V 8, refractory 4, counts 8, last spike 8, ISI sums 16, type 1,
#: in-degree 8, rates and recorders ~20, spike scratch 12 per block slot (added separately)
NEURON_ARRAY_BYTES = 80
#: transient memory of one graph record per synapse [bytes] (edges 12, CSR adjacency 12)
GRAPH_BYTES_PER_SYNAPSE = 24.0
#: the same for a static run: its one O(E) record reads the edges; clustering and modularity (the
#: adjacency) wait for ``neuroabm analyze`` and its snapshots hold no edge table
STATIC_GRAPH_BYTES_PER_SYNAPSE = 12.0
#: assumed mean rate for the spikes kept in memory [Hz] (an upper range of the shipped regimes)
SPIKE_RATE_HZ = 50.0
#: spikes kept in memory at most (SpikeRecorder's keep_in_memory), 12 bytes each
MAX_KEPT_SPIKES = 50_000_000


@dataclass
class MemoryEstimate:
    """Peak resident memory of a run, by part [bytes]."""

    parts: dict[str, float] = field(default_factory=dict)

    @property
    def total_bytes(self) -> float:
        """Sum of the parts [bytes]."""
        return float(sum(self.parts.values()))

    def describe(self) -> str:
        """One line per part, largest first, in GiB."""
        rows = sorted(self.parts.items(), key=lambda kv: -kv[1])
        lines = [f"  {name:<22} {value / 2**30:8.3f} GiB" for name, value in rows]
        return "\n".join([*lines, f"  {'total':<22} {self.total_bytes / 2**30:8.3f} GiB"])


def _synapse_bytes(p: Params, n: int, n_syn: float, n_exc_syn: float) -> dict[str, float]:
    n_parts = n_partitions(n, pool_threads())
    per_row = 8 + 4 * (n_parts + 1) + 4 + 8  # indptr, split, row_weight, build fill pointer
    out = {"synapse rows": float(per_row * n)}
    wide_index = 4 if n > MAX_PART_WIDTH else 2
    if p.connectivity == "fixed_indegree" and p.kernel == "uniform":
        out["synapse targets"] = 2.0 * n_syn  # streamed: the store is the only per-synapse array
        build_peak = 0.0
    else:  # source table (4) + CSR targets (4) + weights (4) alive together, then the uint16 copy (2)
        out["synapse targets"] = 2.0 * n_syn
        build_peak = 12.0 * n_syn
    if p.plasticity:  # editable store: absolute targets + weights, eligibility; growth slack on plastic rows
        exc_slots = n_exc_syn * (1.0 + (p.row_slack if p.structural else 0.0))
        slots = n_syn - n_exc_syn + exc_slots
        out["plastic synapses"] = (wide_index + 4.0) * slots + 4.0 * exc_slots
        build_peak = max(build_peak, (wide_index + 4.0) * n_syn)  # the copy made while converting
    if build_peak:
        out["synapse build (transient)"] = build_peak
    if p.plasticity:  # graph records (start, end, every graph_period_ms) and snapshots: edges, adjacency
        out["graph metrics (transient)"] = GRAPH_BYTES_PER_SYNAPSE * n_syn
    elif n_syn <= STATIC_MAX_SYNAPSES and STATIC_GRAPH_BYTES_PER_SYNAPSE * n_syn > build_peak:
        # a static run's one record, after the build's transient is freed: only what exceeds it counts
        out["graph metrics (transient)"] = STATIC_GRAPH_BYTES_PER_SYNAPSE * n_syn - build_peak
    return out


def estimate_memory(p: Params) -> MemoryEstimate:
    """Estimate the peak resident memory of a run of ``p`` [bytes, by part].

    >>> from neuroabm.config import validate_params
    >>> est = estimate_memory(validate_params({"n_exc": 800_000, "n_inh": 200_000, "k_exc": 800, "k_inh": 200}))
    >>> 1.5 < est.parts["synapse targets"] / 2**30 < 2.0   # 10^9 synapses at 2 bytes
    True
    """
    n = p.n_exc + p.n_inh
    if p.connectivity == "all_to_all":
        n_syn = float(n) * (n - 1)
        n_exc_syn = float(p.n_exc) * (n - 1)
    else:
        n_syn = float(n) * (p.k_exc + p.k_inh)
        n_exc_syn = float(n) * p.k_exc
    parts: dict[str, float] = {"interpreter and engine": float(BASELINE_BYTES)}
    parts.update(_synapse_bytes(p, n, n_syn, n_exc_syn))
    steps_per_ms = round(1.0 / p.dt_ms)
    delay_steps = round(p.delay_ms / p.dt_ms)
    block = min(steps_per_ms, delay_steps)
    per_block = math.ceil(block / (round(p.t_ref_ms / p.dt_ms) + 1))
    parts["neurons"] = float(n) * (AGENT_BYTES + NEURON_ARRAY_BYTES + 12 * per_block)
    parts["delay ring"] = 4.0 * delay_steps * n
    spikes = min(MAX_KEPT_SPIKES, n * p.duration_ms / 1000.0 * SPIKE_RATE_HZ)
    parts["spikes kept"] = 12.0 * spikes + 12.0 * 2**20  # plus the recorder's flush buffer
    if p.dopamine:
        grid = float(p.grid_n) ** 2
        snapshots = p.duration_ms / p.field_record_ms + 1 if p.field_record_ms else 0
        parts["dopamine field"] = grid * 8 * 8 + grid * 4 * snapshots + n * 32
    return MemoryEstimate(parts)


def available_bytes() -> float:
    """Memory the operating system can give this process now [bytes] (Linux MemAvailable, else all RAM)."""
    import os

    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_fits(p: Params, available: float | None = None) -> MemoryEstimate:
    """Return the estimate, or raise :class:`ConfigError` in one line if it exceeds the available memory."""
    est = estimate_memory(p)
    avail = available_bytes() if available is None else available
    if est.total_bytes > avail:
        n = p.n_exc + p.n_inh
        raise ConfigError(
            f"this configuration needs about {est.total_bytes / 2**30:.1f} GiB ({n:,} neurons) but "
            f"{avail / 2**30:.1f} GiB is available: reduce n_exc/n_inh or k_exc/k_inh "
            "(neuroabm run --dry-run shows the estimate by part)"
        )
    return est
