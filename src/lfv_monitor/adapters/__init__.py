"""Adapters: the ports of ``lfv_monitor.domain.ports`` implemented over AWS SDK clients."""
