"""The monitor's table, created through the API exactly as template.yaml declares it."""

from lfv_workbench.local.emulated import INDEXES, create_monitor_table

__all__ = ["INDEXES", "create_monitor_table"]
