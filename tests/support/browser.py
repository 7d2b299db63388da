"""Headless Chromium (Debian's /usr/bin/chromium) for tests: screenshots and rendered DOM.

    from tests.support.browser import Browser, artifact_path
    browser = Browser.require()                      # skips the test, loudly, if chromium is absent
    png = browser.screenshot("file:///tmp/page.html", artifact_path("block-under13.png"))
    dom = browser.dump_dom("https://www.instagram.com/", proxy=proxy.url, trust_ca=proxy.ca_file)

Every run gets a fresh `--user-data-dir` (no profile state between tests) and the flags that keep
Chromium off the network except for the page asked for (no sync, no component updates, no
background requests, no QUIC so every request goes through the proxy over TCP). With `proxy=`,
loopback is proxied too (`--proxy-bypass-list=<-loopback>`: Chromium bypasses it by default).
`trust_ca=` trusts one CA for this run only, by its public key hash (no system store changes).

Screenshots are test artifacts: `artifact_path(name)` puts them under tests/artifacts/ (git-ignored;
CI may upload the folder), or under $CROSSINGGUARD_ARTIFACTS when set.
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
INSTALL_HINT = "install Debian's chromium package (apt-get install -y chromium); .ci/run does"

BASE_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
    "--hide-scrollbars", "--mute-audio", "--disable-dev-shm-usage",
)


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        path = shutil.which(candidate)
        if path:
            return path
    return None


def artifact_path(name: str) -> Path:
    """Where a test artifact (screenshot) goes; the folder is created."""
    root = Path(os.environ.get("CROSSINGGUARD_ARTIFACTS") or ARTIFACTS)
    root.mkdir(parents=True, exist_ok=True)
    return root / name


def spki_hash(ca_pem: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate, the form
    --ignore-certificate-errors-spki-list takes."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(Path(ca_pem).read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless Chromium executable; each call is a separate, fresh browser process."""

    def __init__(self, executable: str, timeout: float = 90.0):
        self.executable = executable
        self.timeout = timeout

    @classmethod
    def find(cls) -> "Browser | None":
        exe = find_chromium()
        return cls(exe) if exe else None

    @classmethod
    def require(cls) -> "Browser":
        """The browser, or a pytest skip whose reason says what is missing and how to install it
        (conftest's terminal summary repeats skips like this one at the end of the run)."""
        browser = cls.find()
        if browser is None:
            import pytest
            pytest.skip(f"MISSING chromium: headless-browser test not run; {INSTALL_HINT}")
        return browser

    def _argv(self, profile: str, *, proxy: str | None, trust_ca: Path | None,
              extra: tuple[str, ...]) -> list[str]:
        argv = [self.executable, *BASE_FLAGS, f"--user-data-dir={profile}"]
        if proxy:
            argv += [f"--proxy-server={proxy}", "--proxy-bypass-list=<-loopback>"]
        if trust_ca:
            argv.append(f"--ignore-certificate-errors-spki-list={spki_hash(trust_ca)}")
        return argv + list(extra)

    def _run(self, argv_tail: list[str], target: str, *, proxy, trust_ca, extra) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(prefix="cg-chromium-") as profile:
            argv = self._argv(profile, proxy=proxy, trust_ca=trust_ca, extra=tuple(extra))
            argv += [*argv_tail, _url(target)]
            try:
                return subprocess.run(argv, capture_output=True, timeout=self.timeout,
                                      stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired as exc:
                raise BrowserError(f"chromium did not finish within {self.timeout}s: {argv}") from exc

    def screenshot(self, target: str | Path, out: Path, *, width: int = 1000, height: int = 900,
                   proxy: str | None = None, trust_ca: Path | None = None,
                   extra: tuple[str, ...] = ()) -> Path:
        """A PNG of the page at `target` (a URL, or a local HTML file). Raises BrowserError when
        Chromium wrote no image."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.unlink()
        proc = self._run([f"--screenshot={out}", f"--window-size={width},{height}",
                          "--virtual-time-budget=3000"], str(target),
                         proxy=proxy, trust_ca=trust_ca, extra=extra)
        if not out.exists() or out.stat().st_size == 0:
            raise BrowserError(f"chromium wrote no screenshot (exit {proc.returncode}):\n"
                               f"{proc.stderr.decode(errors='replace')[-2000:]}")
        return out

    def dump_dom(self, target: str | Path, *, proxy: str | None = None, trust_ca: Path | None = None,
                 extra: tuple[str, ...] = ()) -> str:
        """The DOM Chromium rendered for `target` (serialised HTML), e.g. to see which page a
        request through the proxy really produced in a browser."""
        proc = self._run(["--dump-dom", "--virtual-time-budget=3000"], str(target),
                         proxy=proxy, trust_ca=trust_ca, extra=extra)
        return proc.stdout.decode("utf-8", errors="replace")


def _url(target: str) -> str:
    if "://" in target or target.startswith(("data:", "about:")):
        return target
    return Path(target).resolve().as_uri()


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; raises ValueError when it is not a PNG."""
    data = Path(path).read_bytes()[:24]
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
