"""The offline demo walked in a real browser, as a first-time user would: overview, run,
chart, click a point, inspector, select a row, both prompts; then every other page.
The first test runs the real demo on the bundled model (about 3 minutes on 2 CPU cores)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
DEMO_TIMEOUT_MS = 15 * 60 * 1000


def settle(page: Page, timeout: float = 120_000) -> None:
    """Wait until the script has finished running and the page has drawn."""
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(1200)
    page.wait_for_selector(IDLE, timeout=timeout)


def test_demo_walkthrough(page: Page, app_server: str, screenshot_dir):
    page.goto(app_server)
    settle(page)
    page.screenshot(path=screenshot_dir / "overview.png", full_page=True)

    # Click 1: run the demo. Progress is shown while it runs, then the sweep page opens.
    page.get_by_role("button", name="Run the offline demo").click()
    expect(page.get_by_text(re.compile("Extracting hidden states"))).to_be_visible(timeout=120_000)
    page.wait_for_url(re.compile(r"/sweep"), timeout=DEMO_TIMEOUT_MS)
    page.wait_for_selector("svg.marks g.mark-symbol path", timeout=120_000)
    settle(page)
    expect(page.get_by_text(re.compile(r"sign-resolved as max\(acc, 1 - acc\)"))).to_be_visible()
    page.screenshot(path=screenshot_dir / "sweep.png", full_page=True)

    # Click 2: a point of the chart selects (method, p) for the inspector.
    page.locator("svg.marks g.mark-symbol path[aria-label*='Method: CCS'][aria-label*='p: 0.95']").first.click()
    settle(page)
    expect(page.get_by_text("Selected for inspection: CCS at p = 0.95", exact=False)).to_be_visible()

    # Click 3: into the inspector; select the first row of the table.
    page.get_by_role("link", name="Open the contrast-pair inspector").click()
    page.wait_for_url(re.compile(r"/inspector"))
    settle(page)
    expect(page.get_by_text(re.compile(r"CCS, p = 0.95, seed 0: accuracy"))).to_be_visible()
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 36 + 17)  # the first row's selection cell
    settle(page)
    expect(page.get_by_text(re.compile(r"^Example rt-\d+"))).to_be_visible()
    expect(page.get_by_text("x+:", exact=True)).to_be_visible()
    expect(page.get_by_text("x−:", exact=True)).to_be_visible()
    page.screenshot(path=screenshot_dir / "inspector.png", full_page=True)


def test_fast_optimizer_sweep_on_cached_activations(page: Page, app_server: str, screenshot_dir):
    """After the demo, the same sweep with the fast CCS optimizer: the chart says which
    optimizer drew it. The time from the click to the chart is printed, not asserted."""
    page.goto(f"{app_server}/sweep?epochs=500&lr=0.002")
    settle(page)
    expect(page.get_by_text("has not been run yet", exact=False)).to_be_visible()
    started = time.perf_counter()
    page.get_by_role("button", name="Run sweep").click()
    page.wait_for_selector("svg.marks g.mark-symbol path", timeout=300_000)
    print(f"\nfast-optimizer demo sweep on cached activations: chart {time.perf_counter() - started:.1f} s "
          "after the click")
    settle(page)
    expect(page.locator("svg.marks").get_by_text(re.compile("CCS: fast optimizer"))).to_be_visible()
    page.screenshot(path=screenshot_dir / "sweep_fast.png", full_page=True)


@pytest.mark.parametrize("path", ["data", "mechanism"])
def test_other_pages_render(page: Page, app_server: str, screenshot_dir, path: str):
    page.goto(f"{app_server}/{path}")
    settle(page, timeout=300_000)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    if path == "mechanism":
        page.wait_for_selector("svg.marks", timeout=60_000)
        settle(page)
    page.screenshot(path=screenshot_dir / f"{path}.png", full_page=True)


def test_layer_scan(page: Page, app_server: str, screenshot_dir):
    page.goto(f"{app_server}/layers")
    settle(page)
    page.get_by_role("button", name="Run layer scan").click()
    page.wait_for_selector("svg.marks g.mark-line", timeout=DEMO_TIMEOUT_MS)
    settle(page)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "layers.png", full_page=True)


def test_story_mode_steps_through_the_default_deck(page: Page, app_server: str, screenshot_dir):
    """After the demo: the deck's one missing run is computed with its button, then every
    step is walked with Next (the arrow key too) and drawn from the cache; render times are
    printed, not asserted."""
    from core.deck import load_deck

    deck = load_deck()
    page.goto(f"{app_server}/present?step=3")
    settle(page)
    expect(page.get_by_role("heading", name=deck.steps[2].title)).to_be_visible()
    for number, step in enumerate(deck.steps, start=1):  # one click computes every missing run
        if step.shows_results:
            page.goto(f"{app_server}/present?step={number}")
            settle(page)
            compute = page.get_by_role("button", name="Compute this deck's results")
            if compute.count():
                compute.click()
                page.wait_for_selector("svg.marks", timeout=DEMO_TIMEOUT_MS)
                settle(page)
                break
    page.goto(f"{app_server}/present")
    settle(page)
    times = []
    for number, step in enumerate(deck.steps, start=1):
        expect(page.get_by_role("heading", name=step.title)).to_be_visible()
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
        expect(page.locator("[data-testid='stAlertContentError']")).to_have_count(0)
        if step.shows_results:
            expect(page.locator("svg.marks")).to_have_count(1)
        page.screenshot(path=screenshot_dir / f"present_{number}.png", full_page=True)
        if number < len(deck.steps):
            started = time.perf_counter()
            if number % 2:
                page.get_by_role("button", name="Next").click()
            else:
                page.keyboard.press("ArrowRight")
            page.wait_for_url(re.compile(rf"step={number + 1}"))
            expect(page.get_by_role("heading", name=deck.steps[number].title)).to_be_visible()
            if deck.steps[number].shows_results:
                page.wait_for_selector("svg.marks")
            times.append(time.perf_counter() - started)
            settle(page)
    print("\nstory mode, seconds from Next to the step drawn: " + ", ".join(f"{t:.2f}" for t in times))
