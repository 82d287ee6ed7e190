"""The poll cycle, by reason to change:

- ``report``: what one invocation may do (``CyclePolicy``) and what it saw (``CycleReport``);
- ``invocation``: one invocation's state and the per-project/per-job steps;
- ``scan``: the scan with its slicing and the baseline;
- ``watch``: the sub-minute watch;
- ``delivery``: announcing, and retrying the outbox;
- ``poll``: ``PollCycle``, which runs them in order.
"""

from lfv_monitor.domain.cycle.invocation import REMOVED_REASON
from lfv_monitor.domain.cycle.poll import PollCycle
from lfv_monitor.domain.cycle.report import CyclePolicy, CycleReport, RemainingTime, changes_of

__all__ = [
    "REMOVED_REASON",
    "CyclePolicy",
    "CycleReport",
    "PollCycle",
    "RemainingTime",
    "changes_of",
]
