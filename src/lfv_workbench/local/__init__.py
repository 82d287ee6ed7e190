"""The local stack: template.yaml deployed to moto (demo, ``lfv-monitor local``, tests)."""
