"""A seeded fault soak: many jobs, faults at the wire, crashes, overlaps, then clean cycles.

``python -m lfv_workbench.soak --seed 7 --cycles 500`` (``make soak``) runs the monitor against
the simulator (Lookout for Vision) and moto server (DynamoDB, EventBridge, SNS, SQS) behind
:class:`~lfv_workbench.testing.faultproxy.FaultProxy`, all on 127.0.0.1, and balances a ledger
from three sides: the simulator's ground truth, the store, the deliveries (docs/reliability.md).

- ``scenario``: the seeded projects and job timelines;
- ``plan``: which kind each cycle is and which faults it gets (``SoakConfig``);
- ``runner``: the servers, the cycles, the crashes (``run_soak``);
- ``ledger``: the accounts balanced with the expected-states oracle (``lfv_workbench.oracle``),
  and the verdict (``SoakResult``).
"""

from lfv_workbench.soak.ledger import SoakResult
from lfv_workbench.soak.plan import SoakConfig
from lfv_workbench.soak.runner import run_soak

__all__ = ["SoakConfig", "SoakResult", "run_soak"]
