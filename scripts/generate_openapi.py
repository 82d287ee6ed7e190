"""Write docs/openapi.json: the audit API's OpenAPI document, generated from the routes in
``lfv_monitor.handlers.api`` (``app.get_openapi_json_schema()``).

Run ``make openapi`` (or ``.venv/bin/python scripts/generate_openapi.py``) after changing a
route or a model; a unit test fails while the committed document differs from the code's.
"""

from __future__ import annotations

import json
from pathlib import Path

from lfv_monitor.handlers.api import openapi_document

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def rendered() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    DOCUMENT.write_text(rendered(), encoding="utf-8")
    print(f"wrote {DOCUMENT}")


if __name__ == "__main__":
    main()
