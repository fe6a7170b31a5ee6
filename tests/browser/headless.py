"""A real browser for the page tests: Debian's Chromium driven through its ChromeDriver.

Both come from the distribution's packages (`chromium`, `chromium-driver`); CI installs them
(.ci/run). Where they are missing the tests that need them skip, saying so; nothing here
downloads a browser.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

__all__ = ["figures_in", "headless_chromium"]

_CHROMIUM = ("chromium", "chromium-browser")


def _executables() -> tuple[str, str] | None:
    browser = next((p for p in map(shutil.which, _CHROMIUM) if p), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """A headless Chromium session; skips the test when no Chromium is installed."""
    found = _executables()
    if found is None:
        pytest.skip(
            "no Chromium here: install Debian's chromium and chromium-driver packages "
            "(CI does) to open the HTML report in a real browser"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def figures_in(page: Path) -> tuple[str, dict[str, str]]:
    """The page's title and every ``data-figure`` element's text, as the browser shows them."""
    from selenium.webdriver.common.by import By

    with headless_chromium() as driver:
        driver.get(page.resolve().as_uri())
        title = driver.title
        elements = driver.find_elements(By.CSS_SELECTOR, "[data-figure]")
        shown = {e.get_attribute("data-figure"): e.text for e in elements}
        svg = driver.find_elements(By.CSS_SELECTOR, "svg rect")
        shown["bars"] = str(len(svg))
    return title, shown
