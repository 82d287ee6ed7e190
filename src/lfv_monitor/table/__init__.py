"""The monitor's DynamoDB table, as data: the one home of its layout.

``layout`` spells every key (partition and sort keys, index keys, key times); ``codec`` turns
plain values into DynamoDB attribute values and back; ``items`` builds and parses the item shapes
(state, history, outbox, meta).  The writer (``adapters.dynamodb``) and the reader
(``audit.queries``) both import these, so the two cannot drift.  Design: docs/architecture.md,
"Table design".  No I/O here.
"""
