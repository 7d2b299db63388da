import base64
import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "extract"


def load_fixtures() -> list[tuple[str, dict]]:
    rows = []
    for path in sorted(FIXTURES.glob("*.jsonl")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                rows.append((f"{path.stem}:{lineno}:{row['name']}", row))
    return rows


def request_args(req: dict) -> tuple[str, str, dict, bytes]:
    body = base64.b64decode(req["body_b64"]) if "body_b64" in req else req.get("body", "").encode("utf-8")
    return req["method"], req["url"], req.get("headers", {}), body
