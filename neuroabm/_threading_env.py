"""Thread-pool settings applied when the package is imported, before numba starts its OpenMP threads.

GNU OpenMP's threads spin at every barrier before they sleep, 300,000 rounds by default
(``GOMP_SPINCOUNT``). Two barriers per millisecond of biology are short, so a bounded spin keeps the
idle speed; a long spin steals the core from whatever else runs (another run, a browser, a test
worker). The package sets ``GOMP_SPINCOUNT`` = :data:`SPIN_COUNT` unless the user set
``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` themselves; ``NUMBA_NUM_THREADS`` and
``NUMBA_THREADING_LAYER`` are left to the user and numba. Which thread count runs is decided while
running (:mod:`neuroabm.model.threads`).
"""

from __future__ import annotations

import os

#: spin rounds at an OpenMP barrier before the thread sleeps (about 10-30 us on the reference machine)
SPIN_COUNT = "10000"


def apply_defaults(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Set the OpenMP spin default in ``environ`` unless the user chose a wait policy.

    >>> env = {}
    >>> apply_defaults(env); env
    {'GOMP_SPINCOUNT': '10000'}
    >>> env = {"OMP_WAIT_POLICY": "active"}
    >>> apply_defaults(env); env
    {'OMP_WAIT_POLICY': 'active'}
    """
    if "OMP_WAIT_POLICY" not in environ and "GOMP_SPINCOUNT" not in environ:
        environ["GOMP_SPINCOUNT"] = SPIN_COUNT
