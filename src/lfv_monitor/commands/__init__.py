"""Subcommands of ``lfv-monitor`` (see ``lfv_monitor.cli``)."""
