"""End to end: ``escalation-sim dashboard`` served on localhost and used in headless Chromium
(Debian's ``chromium`` and ``chromium-driver``, driven by Selenium), as a user would: load the
page, move a slider and see the outcome table change, type a value the scenario refuses and see
the command line's message, play the first run that went to war until the story reaches the war,
and stop the server with Ctrl-C.

The page is loaded with no network but localhost: that it renders at all shows that every asset
comes from the installed packages (``solara-assets``), not from a CDN. Screenshots are saved in
the test's temporary folder, or in ``$DASHBOARD_SCREENSHOTS`` when set (docs/images uses them).

Skipped when the dashboard extra or Chromium is not installed, except where it must run: in CI
(``CI=true``) with the dashboard extra installed, and wherever ``ESCALATION_SIM_BROWSER_TEST=required``
(``.ci/run``'s dashboard block sets it); there a missing piece fails it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
         "--disable-component-update --disable-sync --window-size=1500,2000").split()
RUNS = 20_000   # the table's batch: small, to keep the test quick on two shared cores
WAIT = 120      # seconds: generous, as CI machines are shared


def _missing() -> str | None:
    for module in ("solara", "mesa", "altair", "networkx", "selenium"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[dashboard,test]')"
    for program in (CHROMIUM, CHROMEDRIVER):
        if not os.access(program, os.X_OK):
            return f"{program} is not installed (apt-get install chromium chromium-driver)"
    return None


def _required() -> bool:
    """The test may not be skipped: ``.ci/run``'s dashboard block asks for it, and in CI
    (``CI=true``) wherever the dashboard extra is installed."""
    if os.environ.get("ESCALATION_SIM_BROWSER_TEST", "") == "required":
        return True
    return os.environ.get("CI", "").lower() == "true" and importlib.util.find_spec("solara") is not None


@pytest.fixture(scope="module")
def needs_browser():
    reason = _missing()
    if reason and _required():
        pytest.fail(f"the browser test must run here, but {reason}", pytrace=False)
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def server(needs_browser):
    """``escalation-sim dashboard`` on a free port; yields its address, then stops it with
    SIGINT (Ctrl-C) and checks that it exits with 130."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, "-m", "escalation_sim", "dashboard", "us_iran_2020", "--port", "0",
                             "--runs", str(RUNS), "--seed", "2020"],
                            stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    first_line = []
    reader = threading.Thread(target=lambda: first_line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(WAIT)
    if not first_line or "http://localhost:" not in first_line[0]:
        proc.kill()
        log.seek(0)
        pytest.fail(f"the dashboard did not start: {first_line}\n{log.read()[-3000:]}", pytrace=False)
    url = first_line[0].split()[2]
    yield url
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(30)
    finally:
        proc.kill()
    log.seek(0)
    assert code == 130, f"Ctrl-C should stop the dashboard with exit code 130, got {code}:\n{log.read()[-3000:]}"


@pytest.fixture(scope="module")
def browser(needs_browser):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="escalation-sim-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("DASHBOARD_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _text(driver, css: str) -> str:
    from selenium.webdriver.common.by import By

    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, css))


def _until(driver, condition, what: str):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.2).until(lambda d: condition(d))
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}; the page says:\n{_text(driver, 'body')[:3000]}") from None


def _control(driver, label: str):
    from selenium.webdriver.common.by import By

    for element in driver.find_elements(By.CSS_SELECTOR, ".control"):
        if element.find_element(By.CSS_SELECTOR, ".control-label").text == label:
            return element
    raise AssertionError(f"no control labelled {label!r}")


def _done(driver) -> bool:
    return _text(driver, ".batch-status").endswith("done") and bool(_text(driver, ".outcome-table"))


def test_slider_recomputes_and_a_war_run_plays_to_the_war(server, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server)
    _until(browser, _done, "the first batch")
    before = _text(browser, ".outcome-table")
    assert "war" in before and "ceasefire" in before
    browser.save_screenshot(str(shots / "dashboard-loaded.png"))

    # A harder United States: ratio 1.0 -> 1.5 by keyboard on the slider (step 0.05).
    thumb = _control(browser, "proportional: ratio").find_element(By.CSS_SELECTOR, "[role=slider]")
    thumb.send_keys(*[Keys.ARROW_RIGHT] * 10)
    _until(browser, lambda d: _done(d) and _text(d, ".outcome-table") != before, "the table of the new batch")
    exact = _control(browser, "proportional: ratio").find_element(By.CSS_SELECTOR, ".control-exact input")
    assert float(exact.get_attribute("value")) == pytest.approx(1.5)
    browser.save_screenshot(str(shots / "dashboard-slider.png"))

    # A value the scenario refuses: the command line's message, and the table stays.
    def box():
        return _control(browser, "generous tit for tat: generosity").find_element(By.CSS_SELECTOR, ".control-exact input")

    box().click()
    typed = len(box().get_attribute("value"))  # the scenario's value, however many digits it has
    for key in [Keys.END, *[Keys.BACKSPACE] * typed, *"1.4"]:  # at a person's pace: each key goes to the server
        box().send_keys(key)
        time.sleep(0.4)
    assert box().get_attribute("value") == "1.4"
    box().send_keys(Keys.ENTER)
    message = "us_iran_2020.yaml (with overrides): actors.IRN.policy.generosity: 1.4 is not in [0, 1]"
    _until(browser, lambda d: message in _text(d, ".scenario-error"), "the scenario error")
    browser.save_screenshot(str(shots / "dashboard-error.png"))
    assert _text(browser, ".outcome-table") != before

    # The first run that went to war, played with Mesa's play button until the war.
    _until(browser, lambda d: "ended in war" in _text(d, ".replay-choice"), "the first war run")
    play = [b for b in browser.find_elements(By.CSS_SELECTOR, ".replay-controls button") if b.text == "▶"]
    assert play, "Mesa's play button is missing"
    play[0].click()
    _until(browser, lambda d: "ended: war" in _text(d, ".replay-step"), "the run to reach its war")
    story = _text(browser, ".replay-story").splitlines()
    assert story[-1].endswith(": war"), story[-3:]
    assert any("goes to war with" in line for line in story)
    browser.save_screenshot(str(shots / "dashboard-replay.png"))
