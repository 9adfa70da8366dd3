"""How many threads the kernels use, chosen while the model runs.

Numba's OpenMP threads meet at a barrier at the end of every parallel kernel, twice per
millisecond of biology. On an idle machine two threads halve the step time of Brunel-10k; when any
other process holds a core, every barrier waits for the descheduled thread's next time slice and
two threads run 2-20x *slower* than one (``benchmarks/bench_engine.py --contend K``). Which is
faster depends on the load, and the load changes during a run. So ``threads="auto"`` measures:

* Networks too small to pay for a barrier run serial kernels (:data:`SERIAL_MAX_NEURONS`; measured
  on the 2-core reference machine: two threads break even with one at 250-500 neurons, where a
  millisecond costs ~30 us, most of it Python; at 1,000 neurons two threads are 1.3x faster).
* Larger ones start serial for one window of :data:`WINDOW_STEPS` steps, try all threads for one
  window, and keep the faster (by the median step time of each window, with a 10 % margin for the
  incumbent). The loser is tried again after :data:`FIRST_RETRY_STEPS` steps, then after twice as
  many each time it loses, up to :data:`MAX_RETRY_STEPS`; a trial stops after its first step if
  that step takes more than :data:`ABORT_FACTOR` x the incumbent's median (a contended parallel step
  costs 3-30x a serial one, so a lost trial costs about one step). When the incumbent's own median
  drifts by more than :data:`DRIFT_FACTOR` (a process started or stopped beside the run), the
  loser is retried at once.

Fixed chunks and target partitions make every kernel's result independent of the thread count, so
the choice changes wall time only: spikes are bit-identical (``tests/test_threads.py``).

``threads=1`` always runs serial, ``threads=n`` always ``n`` threads (at most numba's pool size).
"""

from __future__ import annotations

import statistics
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numba

#: below this many neurons ``auto`` never tries threads (crossover measured at 250-500)
SERIAL_MAX_NEURONS = 1_000
#: steps per timing window (median of these)
WINDOW_STEPS = 16
#: steps before the losing setting is tried again (doubling on every loss, up to MAX_RETRY_STEPS)
FIRST_RETRY_STEPS = 128
MAX_RETRY_STEPS = 8_192
#: a trial step slower than this multiple of the incumbent's median ends the trial
ABORT_FACTOR = 2.0
#: the challenger must beat the incumbent's median by this factor
MARGIN = 0.9
#: the incumbent's median moving by more than this factor (either way) triggers a trial
DRIFT_FACTOR = 1.5


def serial_twin(kernel: Any) -> Any:
    """A copy of a ``parallel=True`` numba kernel compiled without threads (``prange`` -> ``range``).

    The copy gets its own qualified name, so numba's on-disk cache keeps the two apart.

    >>> import numba, numpy as np
    >>> @numba.njit(parallel=True)
    ... def total(x):
    ...     s = 0.0
    ...     for i in numba.prange(x.shape[0]):
    ...         s += x[i]
    ...     return s
    >>> float(serial_twin(total)(np.ones(4)))
    4.0
    """
    py = kernel.py_func
    fn = types.FunctionType(py.__code__, py.__globals__, py.__name__ + "_serial", py.__defaults__, py.__closure__)
    fn.__qualname__ = py.__qualname__ + "_serial"
    fn.__doc__ = py.__doc__
    options = {k: v for k, v in kernel.targetoptions.items() if k not in ("parallel", "nopython")}
    return numba.njit(**options)(fn)


def available_threads() -> int:
    """Threads numba may use from the calling thread (``NUMBA_NUM_THREADS`` or ``numba.set_num_threads``)."""
    return numba.get_num_threads()


def pool_size() -> int:
    """Threads in numba's pool (``NUMBA_NUM_THREADS``, fixed when numba starts)."""
    return int(numba.config.NUMBA_NUM_THREADS)


def resolve_threads(setting: int | str, n_neurons: int, pool: int | None = None) -> tuple[int, bool]:
    """Return ``(max threads, adaptive)`` for a ``threads`` setting and a network size.

    ``auto`` uses at most what the calling thread may use (:func:`available_threads`, so a Dask
    worker's ``numba.set_num_threads`` is respected); an explicit count is capped by the pool size.

    >>> resolve_threads("auto", 300, pool=2)
    (1, False)
    >>> resolve_threads("auto", 10_000, pool=2)
    (2, True)
    >>> resolve_threads(4, 10_000, pool=2)
    (2, False)
    """
    if setting == "auto":
        pool = available_threads() if pool is None else pool
        if pool == 1 or n_neurons < SERIAL_MAX_NEURONS:
            return 1, False
        return pool, True
    pool = pool_size() if pool is None else pool
    return max(1, min(int(setting), pool)), False


class ThreadPolicy:
    """Chooses the thread count step by step; call :meth:`begin` before and :meth:`end` after a step.

    ``serial`` tells the caller to use the serial kernel twins (one thread); otherwise numba's
    parallel kernels run with :attr:`threads` threads (set for the calling thread in :meth:`begin`).
    ``log`` keeps ``(step, threads)`` for every switch, for the summary and the tests.
    """

    def __init__(
        self,
        setting: int | str,
        n_neurons: int,
        clock: Callable[[], float] = time.perf_counter,
        pool: int | None = None,
    ) -> None:
        self.max_threads, self.adaptive = resolve_threads(setting, n_neurons, pool)
        self.threads = 1 if self.adaptive else self.max_threads
        self._clock = clock
        self._t0 = 0.0
        self._step = 0
        self._samples: list[float] = []
        self._incumbent_median = {1: float("nan"), self.max_threads: float("nan")}
        self._trial = False
        self._cold = False
        self._retry_in = 0  # steps until the next trial (0 = after the first window)
        self._retry_every = FIRST_RETRY_STEPS
        self.log: list[tuple[int, int]] = [(0, self.threads)]
        self._saved: int | None = None
        self._held = 0

    @property
    def serial(self) -> bool:
        """True when the serial kernel twins should run."""
        return self.threads == 1

    def begin(self) -> None:
        """Apply the thread count to the calling thread and start the step's clock.

        The thread count is numba's per-thread setting, so the other parallel kernels of the step
        (plasticity, dopamine field: Mesa events due with the step) follow it while the step runs
        inside :meth:`around` or :meth:`held`. :meth:`end` gives the caller's setting back, unless
        the steps run inside :meth:`held` (then once, at its end: 2.5 us less per step).
        """
        self.apply()
        if self.adaptive:
            self._t0 = self._clock()

    def apply(self) -> None:
        """Set numba's thread count of the calling thread to :attr:`threads` (the caller's is saved)."""
        current = numba.get_num_threads()
        if current != self.threads:
            if self._saved is None:
                self._saved = current
            numba.set_num_threads(self.threads)

    def around[T](self, work: Callable[[], T]) -> T:
        """``work()`` with the current thread count applied throughout, then the caller's restored.

        For one Mesa step: the neuron step is one of the events that run in it, and the events
        due with it (the field, structural plasticity, recorders) would otherwise run their
        parallel kernels at the caller's count (on a busy machine, two threads spinning at
        barriers beside a competitor: 5x slower field steps measured).
        """
        with self.held():
            self.apply()
            return work()

    def restore(self) -> None:
        """Give the calling thread back the thread count it had before the first :meth:`begin`."""
        if self._saved is not None:
            numba.set_num_threads(self._saved)
            self._saved = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Keep the thread count applied between steps (a run loop); restore the caller's at the end."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held:
                self.restore()

    def end(self) -> None:
        """Stop the step's clock, decide whether to keep, try or switch the thread count, and restore."""
        self._step += 1
        if self.adaptive:
            self._decide(self._clock() - self._t0)
        if not self._held:
            self.restore()

    def _decide(self, dt: float) -> None:
        """Record a step of ``dt`` seconds at the current setting; start, end or abort a trial."""
        other = 1 if self.threads == self.max_threads else self.max_threads
        if self._trial:
            if self._cold:  # the first step ever at this setting starts its threads (and may compile)
                self._cold = False
                return
            ref = self._incumbent_median[other]
            if len(self._samples) == 0 and dt > ABORT_FACTOR * ref:
                self._finish_trial(won=False)
                return
            self._samples.append(dt)
            if len(self._samples) == WINDOW_STEPS:
                med = statistics.median(self._samples)
                self._incumbent_median[self.threads] = med
                self._finish_trial(won=med < MARGIN * ref)
            return
        self._samples.append(dt)
        if len(self._samples) < WINDOW_STEPS:
            return
        med = statistics.median(self._samples)
        self._samples.clear()
        last = self._incumbent_median[self.threads]
        self._incumbent_median[self.threads] = med
        self._retry_in -= WINDOW_STEPS
        drifted = last == last and not (last / DRIFT_FACTOR <= med <= last * DRIFT_FACTOR)
        if drifted:
            self._retry_every = FIRST_RETRY_STEPS
        if self._retry_in <= 0 or drifted:
            self._trial = True
            self._cold = self._incumbent_median[other] != self._incumbent_median[other]  # never ran
            self.threads = other

    def _finish_trial(self, won: bool) -> None:
        self._trial = False
        self._samples.clear()
        if won:  # the challenger becomes the incumbent; the old one is retried soon
            self._retry_every = FIRST_RETRY_STEPS
            self.log.append((self._step, self.threads))
        else:
            self.threads = 1 if self.threads == self.max_threads else self.max_threads
            self._retry_every = min(2 * self._retry_every, MAX_RETRY_STEPS)
        self._retry_in = self._retry_every
