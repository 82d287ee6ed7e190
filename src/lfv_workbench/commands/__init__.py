"""The workbench's `lfv-monitor` subcommands: demo, local, simulator."""
