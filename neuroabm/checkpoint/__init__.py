"""Checkpoints: a run's whole state as plain arrays and JSON, restored bit for bit (issue 15).

- :mod:`~neuroabm.checkpoint.state`: any object tree of this package to arrays + JSON and back;
- :mod:`~neuroabm.checkpoint.events`: Mesa's pending events, by name, in order;
- :mod:`~neuroabm.checkpoint.model_state`: a model in one ``checkpoint.npz``.

The run folder side (periodic checkpoints, SIGINT/SIGTERM, ``neuroabm run --resume``) is in
:mod:`neuroabm.runner`.
"""

from neuroabm.checkpoint.model_state import load_checkpoint, read_state, save_checkpoint
from neuroabm.checkpoint.state import CheckpointError

__all__ = ["CheckpointError", "load_checkpoint", "read_state", "save_checkpoint"]
