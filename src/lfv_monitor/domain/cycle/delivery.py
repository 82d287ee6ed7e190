"""Delivery: announce what was recorded, and retry what earlier invocations left in the outbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from lfv_monitor.domain.changes import located
from lfv_monitor.domain.cycle.invocation import Invocation
from lfv_monitor.domain.cycle.report import CycleReport
from lfv_monitor.domain.models import Change
from lfv_monitor.domain.ports import ChangePublisher, SnapshotStore

log = logging.getLogger("lfv_monitor.cycle")


def retry_outbox(inv: Invocation, publishers: Sequence[ChangePublisher]) -> None:
    """Deliver what earlier invocations recorded but did not announce.

    Only entries whose writer's lease ran out (it died) or that it released (its publish
    failed) are pending, and each is claimed before it is published: an invocation running
    beside this one keeps publishing its own changes, and two retries never both send one.
    """
    now = inv.clock()
    pending = [
        (located(change, inv.scope), channels) for change, channels in inv.store.pending(now)
    ]
    if not pending:
        return
    inv.report.outbox_retried = len(pending)
    log.info("retrying undelivered changes", extra={"count": len(pending)})
    for publisher in publishers:
        wanted = [c for c, channels in pending if publisher.channel in channels]
        claimed = inv.store.claim([c.event_id for c in wanted], publisher.channel, now)
        publish(inv.store, publisher, [c for c in wanted if c.event_id in claimed], inv.report)


def flush(inv: Invocation, publishers: Sequence[ChangePublisher]) -> None:
    """Announce what this invocation recorded; what fails is released for the next one."""
    changes = inv.take_undelivered()
    for publisher in publishers:
        failed = publish(inv.store, publisher, changes, inv.report)
        if failed:  # let the next invocation retry them at once, not after the lease
            inv.store.release(failed, publisher.channel)


def publish(
    store: SnapshotStore,
    publisher: ChangePublisher,
    changes: Sequence[Change],
    report: CycleReport,
) -> set[str]:
    """Publish on one channel; the event ids that failed (they stay in the outbox)."""
    if not changes:
        return set()
    delivered = publisher.publish(changes)
    if delivered:
        store.mark_delivered(delivered, publisher.channel)
        report.delivered[publisher.channel] += len(delivered)
    failed = {c.event_id for c in changes} - delivered
    if failed:
        report.publish_failures[publisher.channel] += len(failed)
        log.warning(
            "publish failed; kept in the outbox for the next cycle",
            extra={"channel": publisher.channel, "failed": len(failed)},
        )
    return failed
