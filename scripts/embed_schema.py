"""Copy events/schemas/job-state-change.schema.json into the schema registry's template.

CloudFormation has no file include for a string property, so the EventBridge schema registry's
copy of the event contract lives inline in ``events/schema-registry.yaml`` (the nested stack
template.yaml includes as ``EventSchemas``), between the BEGIN/END marker comments. Run this
after editing the schema file; ``tests/unit/test_template_security.py`` fails while the two
differ.

    python scripts/embed_schema.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "events" / "schemas" / "job-state-change.schema.json"
TEMPLATE = ROOT / "events" / "schema-registry.yaml"
BLOCK = re.compile(
    r"(?P<indent>[ ]*)# BEGIN job-state-change\.schema\.json\n"
    r".*?# END job-state-change\.schema\.json",
    re.DOTALL,
)


def embed(template_text: str, schema_text: str) -> str:
    pretty = json.dumps(json.loads(schema_text), indent=2, ensure_ascii=False)

    def block(match: re.Match[str]) -> str:
        indent = match["indent"]
        body = "".join(f"{indent}  {line}\n" for line in pretty.splitlines())
        return (
            f"{indent}# BEGIN job-state-change.schema.json\n"
            f"{indent}Content: |\n{body}"
            f"{indent}# END job-state-change.schema.json"
        )

    new_text, count = BLOCK.subn(block, template_text)
    if count != 1:
        raise SystemExit(f"{TEMPLATE}: expected one BEGIN/END job-state-change.schema.json block")
    return new_text


def main() -> int:
    TEMPLATE.write_text(embed(TEMPLATE.read_text(), SCHEMA.read_text()))
    print(f"embedded {SCHEMA.relative_to(ROOT)} into {TEMPLATE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
