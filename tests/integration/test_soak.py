"""CI's soak: 50 seeded faulty cycles, then clean ones; the ledger must balance.

The same soak runs longer with ``make soak`` (500 cycles by default); see docs/reliability.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lfv_workbench.soak import SoakConfig, run_soak

SEED = 20261101


@pytest.mark.slow
def test_fifty_faulty_cycles_lose_nothing_duplicate_only_after_crashes_and_never_hide_a_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a scenario of many jobs, and every kind of fault mixed over 50 cycles
    # When the soak runs them, then three clean cycles
    result = run_soak(SoakConfig(seed=SEED, cycles=50, log_dir=tmp_path))
    with capsys.disabled():
        print("\n" + result.render())
    # Then the faults were really injected, of every kind
    kinds = " ".join(result.faults)
    for kind in (
        "crash (SIGKILL)",
        "overlapping invocations",
        "wire throttle",
        "wire error5xx",
        "wire reset_",
        "wire partial",
        "wire delay_",
        "lookoutvision",
        "lookoutvision denied",  # a project denied
        "lookoutvision unreachable",
        "wire deny",  # the table refusing writes
        "poison state",  # a corrupted stored item of each kind
        "poison outbox",
        "poison history",
        "poison meta",
    ):
        assert kind in kinds, f"no {kind} fault was injected: {kinds}"
    # and a job was re-created under its name (each incarnation accounted apart)
    assert result.incarnations >= 4
    # and no change the monitor could observe was lost, none invented
    assert result.changes > 50
    assert result.lost == []
    assert result.extra == []
    assert result.recorded == result.changes
    # and every announced change reached both channels, within 2 clean cycles
    assert result.undelivered == []
    assert result.delivered == {"events": result.announced, "sns": result.announced}
    assert result.late == [] and result.max_clean_lag <= 2
    # and a duplicate always carries the same event id and follows an injected crash (of the
    # function, or of the connection after the service acted): never two overlapping invocations
    assert result.id_conflicts == []
    assert {d["cause"] for d in result.duplicates} <= {"crash", "lost_response"}
    # and no cycle ended in an unhandled exception
    assert result.unhandled == []
    # and no cycle that could not see (a denied project, Lookout for Vision unreachable, the
    # table refusing writes) was reported healthy; no clean cycle was reported unhealthy
    assert result.outages >= 3
    assert result.unhealthy_as_healthy == []
    assert result.false_alarms == []
    assert {"denied", "unreachable", "store"} <= set(result.health)
    # and every malformed item written into the table was set aside and counted
    assert result.poisoned >= 4 and result.poison_unseen == []
    assert result.poison_reported >= result.poisoned
    assert result.ok, result.problems()
