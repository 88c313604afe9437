"""校长视角 in a real browser (Debian's Chromium via Playwright, a live server), at desktop and phone width.

Picks a plan and a school type, checks the checklist's order (months, recurring, undated), searches,
opens an obligation's item with the clause highlighted (in place, and through the card's link to the
item page, where the clause is marked and scrolled into view), downloads the .xlsx and .ics and parses both
back. Screenshots of both widths go to docs/ (the README shows them).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from web_support import ROOT, UI_WAIT_MS, chromium_browser, live_server, wait_for

DOCS = ROOT / "docs"
PLAN = "邵东市教育局2020年工作要点"


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()




def _pick(page, elem_id: str, option: str) -> None:
    """Choose an option of a Gradio dropdown the way a user does: open it, click the option."""
    page.locator(f"#{elem_id} input").click()
    page.locator("ul.option-list li[role=option]", has_text=option).first.click()


def _open_checklist(page, server, party: str) -> str:
    page.goto(server.url + "/", wait_until="load")
    page.get_by_role("tab", name="校长视角").click()
    page.locator("#principal-list .ob-card").first.wait_for(timeout=30000)
    _pick(page, "principal-plan", PLAN)
    _pick(page, "principal-party", party)
    summary = page.locator("#principal-list .ob-summary")
    wait_for(lambda: f"{PLAN} · {party}" in summary.inner_text(), what=f"the {party} checklist")
    return summary.inner_text()


def _open_link(page, card, action: str, viewport: dict, shot: Path | None = None) -> str:
    """Click the card's link: the item page opens (a new tab) with the clause marked and in view."""
    with page.context.expect_page(timeout=UI_WAIT_MS) as info:
        card.locator("a.ob-link").click()
    item = info.value
    item.wait_for_load_state("load")
    mark = item.locator("mark#clause")
    assert mark.inner_text() == action and item.locator("mark").count() == 1
    box = item.evaluate("""() => { const r = document.getElementById('clause').getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, height: innerHeight, width: document.documentElement.scrollWidth}; }""")
    assert 0 <= box["top"] < box["bottom"] <= box["height"], box  # scrolled into view
    assert box["width"] <= viewport["width"], box  # no sideways scrolling on a phone
    url = item.url
    if shot is not None:
        item.screenshot(path=str(shot))
    item.close()
    return url


def _download(page, elem_id: str, folder: Path) -> Path:
    with page.expect_download(timeout=UI_WAIT_MS) as info:
        page.locator(f"#{elem_id}").click()
    target = folder / info.value.suggested_filename
    info.value.save_as(target)
    return target


def test_principal_checklist_desktop_and_phone(browser, tmp_path):
    from icalendar import Calendar
    from openpyxl import load_workbook

    server = live_server()
    DOCS.mkdir(exist_ok=True)
    requests: list[str] = []

    # ---- desktop: 1440×900
    page = browser.new_page(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page.on("request", lambda r: requests.append(r.url))
    summary = _open_checklist(page, server, "小学")
    cards = page.locator("#principal-list .ob-card")
    count = cards.count()
    assert f"共 {count} 项要求" in summary and count >= 30
    headings = page.locator("#principal-list .ob-group").all_inner_texts()
    assert headings[0].startswith("2020年") and headings[-1].startswith("未注明期限")
    assert any(h.startswith("周期性任务") for h in headings)
    parties = set(page.locator("#principal-list .ob-party").all_inner_texts())
    assert "幼儿园" not in parties and {"学校", "小学"} <= parties  # a primary school's list

    # open an obligation's item: its full text, with the clause highlighted
    card = cards.filter(has_text="明厨亮灶").first
    action = card.locator(".ob-action").inner_text()
    assert "年内 · 2020-12-31" in card.locator(".ob-due").inner_text()
    card.locator("summary.ob-open").click()
    source = card.locator(".ob-item-text")
    source.wait_for(state="visible", timeout=5000)
    assert source.locator("mark").inner_text() == action
    assert "加强财务食堂后勤管理" in source.inner_text()  # the whole item, not only the clause
    page.screenshot(path=str(DOCS / "principal-desktop.png"))
    # the card's link: an addressable page of the item with the clause marked
    link = _open_link(page, card, action, {"width": 1440})
    assert "/plans/shaodong-2020/items/28?from=" in link and link.endswith("#clause")

    # the exports hold what the checklist shows
    xlsx = _download(page, "principal-xlsx", tmp_path)
    rows = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    assert xlsx.suffix == ".xlsx" and len(rows) == count + 1
    assert rows[0][:4] == ("计划", "条目", "条目标题", "要求（原文）")
    (canteen,) = [r for r in rows[1:] if r[3] == action]
    assert canteen[4] == "年内" and canteen[5].date().isoformat() == "2020-12-31"
    assert rows[0][9] == "链接" and canteen[9] == link  # the same absolute link as the card's
    ics = _download(page, "principal-ics", tmp_path)
    events = list(Calendar.from_ical(ics.read_bytes()).walk("VEVENT"))
    dated = page.locator("#principal-list .ob-card .ob-due").all_inner_texts()
    assert len(events) == sum(1 for d in dated if " · 20" in d) >= 3
    assert any(e.decoded("dtstart").isoformat() == "2020-12-31" and "明厨亮灶" in str(e["description"])
               for e in events)

    # search narrows the list
    page.locator("#principal-search textarea, #principal-search input").first.fill("体育")
    page.keyboard.press("Enter")
    wait_for(lambda: 0 < cards.count() < count, what="the search to narrow the list")
    assert all("体育" in t for t in page.locator("#principal-list .ob-card").all_inner_texts())
    page.close()

    # ---- phone: 390×844, cards that fit the screen (no wide table)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                             has_touch=True)
    phone.on("request", lambda r: requests.append(r.url))
    _open_checklist(phone, server, "幼儿园")
    widths = phone.evaluate("""() => ({page: document.documentElement.scrollWidth,
        cards: Array.from(document.querySelectorAll('#principal-list .ob-card')).map(c => c.getBoundingClientRect().right)})""")
    assert widths["page"] <= 390 and widths["cards"] and max(widths["cards"]) <= 390, widths
    assert phone.locator("#principal-list table").count() == 0
    assert set(phone.locator("#principal-list .ob-party").all_inner_texts()) == {"学校", "幼儿园"}
    first = phone.locator("#principal-list .ob-card").filter(has_text="幼儿园占比").first
    first.locator("summary.ob-open").click()
    first.locator(".ob-item-text mark").wait_for(timeout=5000)
    phone.locator("#principal-list .ob-summary").scroll_into_view_if_needed()
    phone.screenshot(path=str(DOCS / "principal-phone.png"))
    kindergarten = first.locator(".ob-action").inner_text()
    _open_link(phone, first, kindergarten, {"width": 390}, DOCS / "principal-item-phone.png")
    phone.close()

    local = server.url + "/"
    outside = [u for u in requests if not u.startswith((local, "data:", "blob:", "about:"))]
    assert not outside, f"requests left 127.0.0.1: {outside}"
