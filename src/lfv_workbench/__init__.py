"""lfv-monitor's workbench: everything that never runs in AWS.

The Lookout for Vision simulator, the embedded local stack (moto + simulator + the template's
resources), the demo, the seeded soak and the fault proxy. ``lfv_monitor`` (the product) never
imports this package; the CLI loads it lazily for ``simulator``, ``local`` and ``demo``.
"""
