"""The pure domain: models, ports and the poll cycle. No boto3, no ``os``, no I/O."""
