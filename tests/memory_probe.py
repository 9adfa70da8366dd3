"""Run one configuration in this process and print its memory estimate and peak RSS (tests/test_memory.py)."""

from __future__ import annotations

import json
import resource
import sys

from neuroabm import NeuroModel, validate_params
from neuroabm.model.memory import estimate_memory

if __name__ == "__main__":
    values = json.loads(sys.argv[1])
    estimate = estimate_memory(validate_params(values)).total_bytes
    NeuroModel(**values).run()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"estimate": estimate, "peak": peak}))
