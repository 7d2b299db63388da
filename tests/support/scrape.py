"""Reading a /metrics page in tests: fetch (waiting for the exporter to come up) and parse."""
from __future__ import annotations

import re
import time
import urllib.request
from dataclasses import dataclass, field

@dataclass
class Scrape:
    text: str
    types: dict[str, str] = field(default_factory=dict)          # family name -> type
    samples: dict[str, list[dict[str, str]]] = field(default_factory=dict)   # sample name -> label sets
    values: dict[tuple[str, tuple], float] = field(default_factory=dict)

    def declared(self) -> set[str]:
        """Sample names each declared family can produce (histogram: _bucket/_sum/_count)."""
        out = set()
        for name, kind in self.types.items():
            if kind == "histogram":
                out |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            elif kind == "summary":
                out |= {name, f"{name}_sum", f"{name}_count"}
            elif kind == "counter" and not name.endswith("_total"):
                out |= {f"{name}_total"}
            else:
                out.add(name)
        return out

    def value(self, name: str, **labels) -> float:
        """Sum of the samples of `name` whose labels include `labels`."""
        total = 0.0
        for (n, key), v in self.values.items():
            if n == name and all(dict(key).get(k) == val for k, val in labels.items()):
                total += v
        return total

    def label_names(self, name: str) -> set[str]:
        return {k for ls in self.samples.get(name, []) for k in ls}


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_scrape(text: str) -> Scrape:
    s = Scrape(text)
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            s.types[name] = kind
        elif line and not line.startswith("#"):
            m = _SAMPLE.match(line)
            assert m, f"unparseable exposition line: {line!r}"
            labels = dict(_LABEL.findall(m.group(3) or ""))
            s.samples.setdefault(m.group(1), []).append(labels)
            s.values[(m.group(1), tuple(sorted(labels.items())))] = float(m.group(4))
    return s


def scrape(port: int, host: str = "127.0.0.1", wait: float = 15.0) -> Scrape:
    """Scrape /metrics, retrying for up to `wait` seconds while the exporter starts (it binds a
    moment after the proxy port). Proxy environment variables are ignored: this is loopback."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + wait
    while True:
        try:
            with opener.open(f"http://{host}:{port}/metrics", timeout=10) as resp:
                assert resp.status == 200
                return parse_scrape(resp.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
