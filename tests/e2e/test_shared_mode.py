"""Shared mode in a real browser, as a hostile visitor would try it: a link naming a
server file, a model field naming a folder, and a CSV whose reviews carry Markdown and
HTML meant to fetch images from elsewhere. Screenshots land beside the walkthrough's."""

from __future__ import annotations

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_walkthrough import settle

pytestmark = pytest.mark.e2e


def test_a_link_naming_a_server_file_is_refused(page: Page, shared_app_server: str, screenshot_dir):
    page.goto(f"{shared_app_server}/sweep?data=csv:/etc/passwd::train:text:label:")
    settle(page)
    expect(page.get_by_text("links carry no paths", exact=False)).to_be_visible()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    assert "root:x:" not in page.content()
    page.screenshot(path=screenshot_dir / "shared_bad_link.png", full_page=True)


def test_hostile_upload_is_shown_as_text(page: Page, shared_app_server: str, screenshot_dir, tmp_path):
    rows = [
        ("great\n\n![pixel](http://attacker.example/p.png) **bold** $x^2$", 1),
        ("<img src=http://attacker.example/q.png> awful", 0),
    ] + [(f"review {i}", i % 2) for i in range(40)]
    path = tmp_path / "hostile.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{shared_app_server}/data")
    settle(page)
    page.get_by_text("CSV upload", exact=True).click()
    settle(page)
    page.locator("input[type='file']").set_input_files(str(path))
    settle(page)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    assert page.locator("img[src*='attacker.example']").count() == 0
    assert not [url for url in requests if "attacker.example" in url]
    page.screenshot(path=screenshot_dir / "shared_data.png", full_page=True)


def test_a_folder_in_the_model_field_is_refused(page: Page, shared_app_server: str, screenshot_dir):
    page.goto(f"{shared_app_server}/data")
    settle(page)
    page.get_by_text("Hugging Face id", exact=True).click()
    settle(page)
    expect(page.get_by_role("checkbox", name="Trust remote code")).to_be_disabled()
    field = page.get_by_label("Model id")
    field.fill("/etc")
    field.press("Enter")
    settle(page)
    expect(page.get_by_text("loads no files or folders of its own", exact=False)).to_be_visible()
    page.screenshot(path=screenshot_dir / "shared_model_path.png", full_page=True)
