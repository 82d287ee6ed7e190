"""Test tooling shipped with the package: the fault proxy, the soak and its cycle runner."""
