"""The time of one live update in headless Chromium (Debian's), on the built book, the scripts' sizes, and the
playground's first frame, pentagon time and frame rate.

    make book && PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_browser_live.py     # ~1 min, under the CPU lock

For chapters 1 and 3, the live widget's sliders are set to several positions (one input event each, as a
reader's click on the rail), and the widget's own clock gives the time from the event to the final figure: best
of K trained in chunks between paints, the intermediate figures drawn, the winner evaluated and drawn; and,
within it, the time spent training and in plotly's redraws. Then the
same with Chrome's CPU throttling at 4× (Lighthouse's "mid-tier mobile"), a phone-class estimate. Prints the
matrix product's GFLOP/s beside the times (benchmarks/bench_sharding.py), to compare machines.

The playground (book/14_playground.html), at 1× and 4×: the first frame after the page's load event (its
figures drawn, before any training), the time to train the pentagon preset (from the click to the final figure),
and frames a second while n = 32 features train in m = 3 dimensions (4,000 steps, its figures redrawn as it trains).
"""

from __future__ import annotations

import gzip
import os
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import matmul_gflops  # noqa: E402
from toymodels.kit.browser import SCRIPT  # noqa: E402
from toymodels.kit.playground import PLAYGROUND_SCRIPT  # noqa: E402

SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
# (chapter, slider positions as {slider name: index}); the first is a warm-up.
CASES = {
    "book/01_introduction.html": [
        {"density": 20},  # 90 % sparse, the default
        {"density": 40},  # dense
        {"density": 26},  # 80 %
        {"density": 20},  # 90 %
        {"density": 0},  # 99 %
        {"density": 30, "decay": 30},
        {"density": 40, "decay": 50},
    ],
    "book/03_phase_change.html": [
        {"density": 30},
        {"density": 40, "relative_importance": 10},  # dense, r ≈ 0.3
        {"density": 40, "relative_importance": 30},  # dense, r ≈ 3
        {"density": 10, "relative_importance": 15},  # sparse, r ≈ 0.56
        {"density": 0, "relative_importance": 20},
        {"density": 25, "relative_importance": 35},
    ],
}


def measure(page, url: str, positions: list[dict]) -> list[float]:
    page.goto(url, wait_until="load")
    widget = page.locator("div.toymodels-live").first
    widget.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('div.toymodels-live').dataset.state === 'done'", timeout=60_000)
    times = []
    for position in positions:
        updates = page.evaluate("Number(document.querySelector('div.toymodels-live').dataset.updates)")
        page.evaluate(
            """(position) => { const w = document.querySelector('div.toymodels-live');
            for (const [name, index] of Object.entries(position)) {
              const input = w.querySelector(`input[name=${name}]`); input.value = index;
              input.dispatchEvent(new Event('input')); } }""",
            position,
        )
        page.wait_for_function(
            f"(() => {{ const w = document.querySelector('div.toymodels-live'); "
            f"return w.dataset.state === 'done' && Number(w.dataset.updates) > {updates}; }})()",
            timeout=60_000,
        )
        times.append(
            page.evaluate(
                """(() => { const d = document.querySelector('div.toymodels-live').dataset;
                return [Number(d.seconds), Number(d.computing), Number(d.drawing)]; })()"""
            )
        )
    return times[1:]  # the first is a warm-up (the JIT)


PLAYGROUND = "book/14_playground.html"
# n = 32 features in 3 dimensions, sparse, long enough to count frames.
WIDE = (
    "#n=32&m=3&setSize=1&fits=4&steps=4000&batchSize=256&lr=0.01&weightDecay=0.01&evalBatches=16&seed=0"
    "&kind=relu_output&activation=relu&correlation=none&importance=0.97&density=0.05"
)
DONE = (
    "(updates) => { const w = document.querySelector('div.toymodels-live'); "
    "return w.dataset.state === 'done' && Number(w.dataset.updates) > updates; }"
)


def measure_playground(page) -> dict:
    url = (SITE / PLAYGROUND).as_uri()
    page.goto(url, wait_until="load")
    page.wait_for_function(DONE, arg=0, timeout=60_000)
    timing = page.evaluate(
        """() => { const t = performance.getEntriesByType('navigation')[0];
        const d = document.querySelector('div.toymodels-live').dataset;
        return {load: t.loadEventStart, ready: t.domContentLoadedEventEnd, first: Number(d.firstFrameMs)}; }"""
    )
    pentagon = []
    for _ in range(3):
        updates = page.evaluate("Number(document.querySelector('div.toymodels-live').dataset.updates)")
        page.click("button[data-preset='pentagon (ch. 4)']")
        page.wait_for_function(DONE, arg=updates, timeout=60_000)
        pentagon.append(page.evaluate("Number(document.querySelector('div.toymodels-live').dataset.seconds)"))
    page.goto("about:blank")
    page.goto(url + WIDE, wait_until="load")
    page.wait_for_function(DONE, arg=0, timeout=120_000)
    wide = page.evaluate(
        """() => { const d = document.querySelector('div.toymodels-live').dataset;
        return {frames: Number(d.frames), seconds: Number(d.seconds), draw: Number(d.drawMs)}; }"""
    )
    return dict(timing=timing, pentagon=pentagon, wide=wide)


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not (SITE / "index.html").exists():
        sys.exit("no built book: run `make book` first")
    for script in (SCRIPT, PLAYGROUND_SCRIPT):
        raw = script.read_bytes()
        print(f"{script.name}: {len(raw) / 1024:.1f} KiB, {len(gzip.compress(raw, 9)) / 1024:.1f} KiB gzipped")
    print(f"matrix product: {matmul_gflops():.0f} GFLOP/s")
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        for throttle in (1, 4):
            for chapter, positions in CASES.items():
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                if throttle > 1:
                    session = page.context.new_cdp_session(page)
                    session.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
                times = measure(page, (SITE / chapter).as_uri(), positions)
                if throttle == 1:  # what a reader sees after the last update
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    shot = SCREENSHOTS / f"live-{Path(chapter).stem}.png"
                    page.locator("div.toymodels-live").first.screenshot(path=str(shot))
                label = "this machine" if throttle == 1 else f"CPU throttled {throttle}× (phone-class)"
                total, compute, draw = ([row[k] for row in times] for k in range(3))
                print(
                    f"{chapter} ({label}): one update {statistics.median(total):.3f} s median, "
                    f"{max(total):.3f} s max over {len(total)} ({', '.join(f'{t:.3f}' for t in total)}); "
                    f"of which training {statistics.median(compute):.3f} s, plotly's redraws "
                    f"{statistics.median(draw):.3f} s (medians)"
                )
                page.close()
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            if throttle > 1:
                page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            found = measure_playground(page)
            timing, wide = found["timing"], found["wide"]
            label = "this machine" if throttle == 1 else f"CPU throttled {throttle}× (phone-class)"
            print(
                f"playground ({label}): first frame {timing['first'] - timing['load']:.0f} ms after the load event "
                f"({timing['first']:.0f} ms after navigation); pentagon preset trained in "
                f"{', '.join(f'{t:.2f}' for t in found['pentagon'])} s; n=32, m=3: {wide['frames']} frames in "
                f"{wide['seconds']:.2f} s = {wide['frames'] / wide['seconds']:.1f} frames/s "
                f"(last redraw {wide['draw']:.0f} ms)"
            )
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
