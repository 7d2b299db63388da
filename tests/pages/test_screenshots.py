"""Every page case rendered by headless Chromium (Debian's /usr/bin/chromium) to a PNG artifact.

The PNGs land in tests/artifacts/ (git-ignored; CI may keep the folder) so a person can look at
what a student sees. A page that renders blank or tiny fails; the rendered DOM must carry the
case's heading, so the screenshot is of the right page.
"""
from __future__ import annotations

import pytest

from tests.pages.cases import build
from tests.support.browser import Browser, artifact_path, png_size

SCREENSHOTS = {
    "under13": "Instagram is not for students under 13",
    "read_only": "You can look at YouTube, but not post",
    "category": "Instagram is blocked at school",
    "held_threat": "Your post was not sent",
    "held_bullying": "Your post was not sent",
    "upstream": "www.example.org cannot be reached right now",
    "fail": "The filter had a problem with this request",
}


@pytest.fixture(scope="module")
def browser():
    return Browser.require()


@pytest.mark.parametrize("name", sorted(SCREENSHOTS))
def test_page_case_screenshot(browser, name, tmp_path):
    case = build(name)
    html = tmp_path / f"{name}.html"
    html.write_text(case.html, encoding="utf-8")
    dom = browser.dump_dom(html)
    assert SCREENSHOTS[name] in dom
    png = browser.screenshot(html, artifact_path(f"page-{name}.png"), width=900, height=1000)
    assert png_size(png) == (900, 1000)
    # A blank page of one colour compresses to a few hundred bytes; text and boxes do not.
    assert png.stat().st_size > 15_000, png.stat().st_size
