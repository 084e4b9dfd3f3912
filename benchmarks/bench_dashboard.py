"""How quickly the dashboard answers: from ``escalation-sim dashboard`` to an interactive page,
and from a slider change to new outcome probabilities, in headless Chromium as a user sees it;
and the background batch's two stages timed in-process.

Needs the dashboard extra, selenium, and Debian's ``chromium`` and ``chromium-driver``.

    python benchmarks/bench_dashboard.py [--repeats 3] [--runs 100000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time

import escalation_sim as es
from escalation_sim.dashboard import estimate

FLAGS = ("--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
         "--disable-component-update --disable-sync --window-size=1500,2000").split()


def timed(scenario, n_runs: int, seed: int, *, first: int = estimate.FIRST_RUNS) -> dict:
    """Seconds to the first estimate and to the full batch of the dashboard's background batch."""
    start, out = time.perf_counter(), {}
    for snap in estimate.estimates(scenario, n_runs, seed, first=first, poll=0.02):
        if snap.result is not None and "first" not in out:
            out["first"] = time.perf_counter() - start
    out["final"] = time.perf_counter() - start
    return out


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS + [f"--user-data-dir={tempfile.mkdtemp()}"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def table(driver) -> str:
    from selenium.webdriver.common.by import By

    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, ".outcome-table td"))


def wait(condition, timeout=120.0, poll=0.02) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError
        time.sleep(poll)
    return time.perf_counter()


def one_session(driver, runs: int) -> dict:
    """Start the server, load the page, move USA's ratio one step: the times of each."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "escalation_sim", "dashboard", "--port", "0", "--runs", str(runs)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(120)
    printed = time.perf_counter()
    try:
        driver.get(line[0].split()[2])
        shown = wait(lambda: table(driver))
        status = lambda: " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, ".batch-status"))  # noqa: E731
        done = wait(lambda: status().endswith("done"))
        before = table(driver)
        control = [e for e in driver.find_elements(By.CSS_SELECTOR, ".control") if "proportional: ratio" in e.text][0]
        thumb = control.find_element(By.CSS_SELECTOR, "[role=slider]")
        moved = time.perf_counter()
        # 1.0 -> 1.1 (the first press, 1.05, is superseded; 1.05 answers as 1.0 on this ladder)
        thumb.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
        first = wait(lambda: table(driver) != before)
        final = wait(lambda: status().endswith("done"))
    finally:
        proc.terminate()
        proc.wait(30)
    return {"address printed": printed - start, "page interactive (table shown)": shown - start,
            "first batch done": done - start, "slider -> new probabilities": first - moved,
            "slider -> full batch": final - moved}


def in_process(runs: int, repeats: int) -> list[dict]:
    """The page's computation alone: first estimate and full batch, for ratios 1.05, 1.10, ..."""
    base = es.load_scenario("us_iran_2020")
    estimate.wait_final(base, 4096, 1)  # warm the thread pool and the compiled plan's cache
    out = []
    for k in range(repeats):
        scenario = es.with_overrides(base, {"actors.USA.policy.ratio": 1.0 + 0.05 * (k + 1)})
        out.append(timed(scenario, runs, 2020))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    for k, timing in enumerate(in_process(args.runs, args.repeats)):
        print(f"in-process {k}: first estimate ({estimate.FIRST_RUNS:,} runs) {timing['first']:.2f} s, "
              f"{args.runs:,} runs {timing['final']:.2f} s")
    driver = browser()
    try:
        for k in range(args.repeats):
            for name, seconds in one_session(driver, args.runs).items():
                print(f"browser {k}: {name}: {seconds:.2f} s")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
