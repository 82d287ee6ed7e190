"""``lfv-monitor demo``'s engine (``engine.play``), its accounts (``accounting``) and its views
(``views``: plain lines; ``live``: rich). The command itself is ``commands/demo.py``."""
