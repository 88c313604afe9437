"""The workspace in a real browser (Debian's Chromium via Playwright) against a live server with its
own corpus copy and data folder (these tests add and delete a plan): upload → parse report → accept
→ ask about the new plan → delete; a conversation surviving a reload; copy as clean text; the
scope chip; typing while an answer streams; one changeable vote; 计划浏览; a share link; the phone
layout at 390 px; and axe-core finding no serious or critical violation in light or dark mode.
Screenshots of both widths are written to docs/ (used by the README).
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from web_support import ROOT, UI_WAIT_MS, LiveServer, chromium_browser, wait_for

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def server():
    corpus = Path(tempfile.mkdtemp(prefix="assistant-test-corpus-"))
    for plan in (ROOT / "corpus" / "plans").iterdir():
        shutil.copy(plan, corpus / plan.name)
    # answers stream slowly enough here that typing while one streams is not a race with its end
    srv = LiveServer(extra_args=["--corpus", str(corpus)], env={"ASSISTANT_STREAM_DELAY": "0.25"}).wait()
    srv.corpus = corpus
    yield srv
    srv.stop()
    shutil.rmtree(corpus, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


def _open(browser, server, width=1440, height=900, path="/"):
    # an English browser: the UI must still be Chinese only; a phone has a touch screen
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US", has_touch=width < 500,
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server.url + path, wait_until="load")
    page.wait_for_selector("#question textarea", timeout=60000)
    return page


def _ask(page, question: str, chips: int = 1):
    before = page.locator("#chatbot .bot-row").count()
    page.fill("#question textarea", question)
    page.click("#send")
    wait_for(lambda: page.locator("#chatbot .bot-row").count() > before
              and page.locator("#chatbot .bot-row").last.locator(".answer-tools").count() == 1,
              timeout=60, what=f"the answer to {question}")
    return page.locator("#chatbot .bot-row").last


def test_conversation_copy_scope_typing_votes_and_reload(browser, server):
    page = _open(browser, server)
    answer = _ask(page, "学生资助由哪个科室牵头？")
    assert answer.locator("a.cite-chip").first.inner_text() == "达州市2020·第21项"

    # copy as clean text: citations written out, no markup; the screen-reader label says the same
    answer.get_by_text("复制文本").click()
    wait_for(lambda: page.evaluate("window.__assistantCopied"), what="the copy")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith("扶贫办。〔达州市教育局2020年工作要点·第21项〕") and "<" not in copied
    assert "复制" not in copied
    message = answer.locator("[data-testid='bot']")
    wait_for(lambda: (message.get_attribute("aria-label") or "").startswith("回答："), what="the clean label")
    label = message.get_attribute("aria-label")
    assert label.startswith("回答：") and "<a" not in label and "〔达州市教育局2020年工作要点·第21项〕" in label
    answer.get_by_text("复制 Markdown").click()
    wait_for(lambda: page.evaluate("navigator.clipboard.readText()").startswith("**问：** 学生资助"), what="markdown")
    assert "- 〔达州市教育局2020年工作要点·第21项〕提高资助工作精准管理能力" in page.evaluate("navigator.clipboard.readText()")

    # the context chip says what a follow-up refers to
    chip = page.locator("#scope-chip")
    assert "接着问：达州市2020·第21项" in chip.inner_text()

    # typing while an answer streams: the text is kept and the send button says it is busy
    page.fill("#question textarea", "哪些计划提到县管校聘？")
    page.click("#send")
    page.locator("#question textarea").press_sequentially("那它的责任科室呢？", delay=5)
    wait_for(lambda: page.locator("#send").inner_text() == "回答中…", what="the busy state")
    assert not page.locator("#send button, #send").first.is_enabled()
    page.locator("#question textarea").press("Enter")  # while busy: nothing is sent, nothing is erased
    wait_for(lambda: page.locator("#send").inner_text() == "发送" and page.locator("#chatbot .bot-row").count() == 2,
              timeout=60, what="the second answer")
    assert page.locator("#question textarea").input_value() == "那它的责任科室呢？"
    assert page.locator("#chatbot .user-row").count() == 2

    # one vote per answer, changeable, with a comment: one line in feedback.jsonl
    feedback = server.data_dir / "feedback.jsonl"

    def votes() -> list:
        text = feedback.read_text(encoding="utf-8") if feedback.exists() else ""
        return [json.loads(x)["liked"] for x in text.splitlines()]

    page.locator("#chatbot button[aria-label='赞']").last.click()  # Gradio's own labels, in Chinese
    wait_for(lambda: votes() == [True], what="the vote")
    page.locator("#chatbot button[aria-label='踩']").last.click()
    wait_for(lambda: votes() == [False], what="the changed vote, replacing the first")
    page.locator("#feedback-comment textarea").wait_for(timeout=UI_WAIT_MS)
    time.sleep(1)  # the vote's update of the box (its stored comment, none yet) lands first
    page.fill("#feedback-comment textarea", "少了永顺")
    page.locator("#feedback-comment textarea").press("Enter")
    wait_for(lambda: feedback.exists() and "少了永顺" in feedback.read_text(encoding="utf-8"), what="the comment")
    lines = [json.loads(x) for x in feedback.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1 and lines[0]["liked"] is False and lines[0]["question"] == "哪些计划提到县管校聘？"

    # reload: the conversation and its history entry come back, chips included
    page.reload(wait_until="load")
    wait_for(lambda: page.locator("#chatbot .bot-row").count() == 2, timeout=30, what="the restored conversation")
    assert page.locator("#chatbot a.cite-chip").first.inner_text() == "达州市2020·第21项"
    assert "学生资助由哪个科室牵头？" in page.locator("#history").inner_text()

    # the plan filter shows as a chip; a question naming another plan says the filter was not used
    page.locator("#plan-filter input").click()
    page.get_by_role("option", name="邵东市教育局2020年工作要点").click()
    wait_for(lambda: "范围：邵东市教育局2020年工作要点" in chip.inner_text(), what="the scope chip")
    answer = _ask(page, "达州2020年第17项讲什么？")
    assert "未按计划范围「邵东市教育局2020年工作要点」作答" in answer.inner_text()
    page.click("#scope-clear-plan")
    wait_for(lambda: "范围：邵东" not in chip.inner_text(), what="the filter removed")

    # new conversation, then the history holds both
    page.click("#new-chat")
    wait_for(lambda: page.locator("#chatbot .bot-row").count() == 0, what="an empty chat")
    _ask(page, "邵东今年要新增多少学位？")
    wait_for(lambda: page.locator("#history label").count() == 2, what="two conversations listed")
    page.context.close()


def test_upload_accept_ask_and_delete_a_plan(browser, server):
    page = _open(browser, server)
    page.get_by_role("tab", name="计划管理").click()
    page.locator("#plan-upload input[type=file]").set_input_files(str(FIXTURES / "yiyang-2021-split-title.txt"))
    report = page.locator("#upload-report .upload-report")
    report.wait_for(timeout=30000)
    assert report.locator("[data-field='title']").inner_text() == "益阳市教育局2021年工作要点"
    assert report.locator("[data-field='year']").inner_text() == "2021"
    assert report.locator("[data-field='items']").inner_text().startswith("5")
    assert not any(p.name.startswith("yiyang") for p in server.corpus.iterdir())  # pending only
    page.click("#upload-accept")
    page.locator("#accept-status").wait_for(timeout=120000)
    assert "已加入：yiyang-2021" in page.locator("#accept-status").inner_text()
    assert "益阳市教育局2021年工作要点" in page.locator("#plans-table").inner_text()

    page.get_by_role("tab", name="问答").click()
    answer = _ask(page, "益阳2021年第2项讲什么？")
    assert "益阳市2021·第2项" in [c.inner_text() for c in answer.locator("a.cite-chip").all()]
    assert "重大舆情2小时内上报" in answer.inner_text()  # the paragraph after the page break is item 2's

    page.get_by_role("tab", name="计划管理").click()
    page.locator("#plan-pick input").click()
    page.get_by_role("option", name="益阳市教育局2021年工作要点（yiyang-2021）").click()
    page.locator("#delete-confirm input").check()
    page.click("#plan-delete")
    wait_for(lambda: "已删除 yiyang-2021" in page.locator("#plans-status").inner_text(), timeout=120,
              what="the deletion")
    assert "益阳" not in page.locator("#plans-table").inner_text()
    assert not any(p.name.startswith("yiyang") for p in server.corpus.iterdir())
    page.context.close()


def test_browse_sort_search_count_and_share_link(browser, server):
    page = _open(browser, server)
    page.get_by_role("tab", name="计划浏览").click()
    table = page.locator("#browse-table")
    page.fill("#browse-query textarea", "县管校聘")
    page.locator("#browse-query textarea").press("Enter")
    wait_for(lambda: "共 2 条" in table.inner_text(), what="the count")
    table.get_by_role("link", name="编号").click()
    wait_for(lambda: table.locator("th[aria-sort='ascending']").count() == 1, what="the sort")
    table.get_by_role("link", name="编号▲").click()
    wait_for(lambda: table.locator("th[aria-sort='descending']").count() == 1, what="the reverse sort")
    assert [r.get_attribute("data-id") for r in table.locator("tbody tr").all()] == ["dazhou-2020:33", "hengyang-2022:19"]
    table.get_by_role("link", name="做优教师管理服务").click()
    detail = page.locator("#browse-detail .item-detail[data-item='hengyang-2022:19']")
    detail.wait_for(timeout=UI_WAIT_MS)
    assert detail.locator("mark").first.inner_text() == "县管校聘"
    box = detail.bounding_box()
    assert box and box["y"] < 900  # in view
    page.fill("#browse-query textarea", "没有这个词的条目")
    page.locator("#browse-query textarea").press("Enter")
    wait_for(lambda: "没有符合条件的条目" in table.inner_text(), what="the empty state")
    assert page.locator("input[placeholder='Search...'], input[placeholder='搜索...']").count() == 0  # one search box
    page.context.close()

    shared = _open(browser, server, path="/?item=dazhou-2020:21")
    shared.locator("#item-detail .item-detail[data-item='dazhou-2020:21']").wait_for(timeout=30000)
    shared.context.close()


def test_phone_layout_citation_in_view_and_screenshots(browser, server):
    DOCS.mkdir(exist_ok=True)
    page = _open(browser, server, width=390, height=844)
    width = lambda: page.evaluate("document.documentElement.scrollWidth")  # noqa: E731
    assert width() <= 390
    answer = _ask(page, "学生资助由哪个科室牵头？")
    answer.locator("a.cite-chip").first.tap()
    sheet = page.locator("#item-detail .item-detail[data-item='dazhou-2020:21']")
    sheet.wait_for(timeout=UI_WAIT_MS)
    wait_for(lambda: sheet.locator("h3").is_visible(), what="the item shown")
    time.sleep(0.5)  # let Gradio's update transition finish before the screenshot
    box = page.locator("#detail-col").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + 40 < 844, box  # opens in the viewport, not 1100 px below
    heading = sheet.locator("h3").bounding_box()
    assert heading and 0 <= heading["y"] < 844 - heading["height"], heading  # the item's title is on screen
    assert 0 <= heading["x"] and heading["x"] + heading["width"] <= 390, heading
    assert page.evaluate("(b => document.elementFromPoint(b.x + 5, b.y + 5).closest('.item-detail') !== null)",
                         heading)  # and nothing covers it
    assert width() <= 390
    page.screenshot(path=str(DOCS / "screenshot-phone.png"))
    page.locator(".detail-close").click()
    wait_for(lambda: page.locator("#item-detail .item-detail").count() == 0, what="the sheet closed")
    page.get_by_role("tab", name="计划浏览").click()
    page.locator("#browse-table tbody tr").first.wait_for(timeout=UI_WAIT_MS)
    assert width() <= 390
    cell = page.locator("#browse-table tbody tr").first.locator("td").nth(3).bounding_box()
    assert cell and cell["width"] > 300  # cards: a field spans the card, not one character per line
    page.context.close()

    desktop = _open(browser, server)
    _ask(desktop, "哪些计划提到县管校聘？")
    desktop.locator("#chatbot .bot-row").last.locator("a.cite-chip").first.click()
    desktop.locator("#item-detail .item-detail").wait_for(timeout=UI_WAIT_MS)
    desktop.evaluate("window.scrollTo(0, 0)")
    time.sleep(0.5)
    desktop.screenshot(path=str(DOCS / "screenshot-desktop.png"))
    desktop.context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)])
def test_no_serious_or_critical_accessibility_violations(browser, server, theme, width, height):
    from axe_playwright_python.sync_playwright import Axe

    page = _open(browser, server, width, height, path=f"/?__theme={theme}")
    answer = _ask(page, "学生资助由哪个科室牵头？")
    answer.locator("a.cite-chip").first.click()
    page.locator("#item-detail .item-detail").wait_for(timeout=UI_WAIT_MS)
    time.sleep(0.5)
    assert page.evaluate("document.body.classList.contains('dark') || "
                         "document.querySelector('.dark') !== null") == (theme == "dark")
    results = Axe().run(page).response
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5]) for v in results["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    page.context.close()
