"""The chat in a real browser: Debian's Chromium driven by Playwright against a live server.

Never skipped: without Chromium the test fails and says how to install it (`make browser`).
Checks streaming, citation chips, the detail panel, feedback, a follow-up, clearing, the offline
/docs page, and that no request ever leaves 127.0.0.1. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import json

import pytest

from web_support import ROOT, UI_WAIT_MS, chromium_browser, live_server, wait_for

ARTIFACTS = ROOT / "test-artifacts"

# Records every distinct text the latest bot message shows, to see the answer arrive in pieces.
WATCH_STREAM = """() => {
  window.__botTexts = [];
  const record = () => {
    const rows = document.querySelectorAll('#chatbot .bot-row');
    const text = rows.length ? rows[rows.length - 1].innerText.trim() : '';
    const seen = window.__botTexts;
    if (text && seen[seen.length - 1] !== text) { seen.push(text); }
  };
  new MutationObserver(record).observe(document.querySelector('#chatbot'),
                                       {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()




def test_chat_in_the_browser(browser):
    server = live_server()
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server.url + "/", wait_until="load")
    page.wait_for_selector("#question textarea", timeout=30000)

    # ask: the answer streams in and carries a chip for its citation
    page.evaluate(WATCH_STREAM)
    page.fill("#question textarea", "学生资助由哪个科室牵头？")
    page.click("#send")
    chip = page.locator("#chatbot .bot-row a.cite-chip").first
    chip.wait_for(timeout=30000)
    wait_for(lambda: "扶贫办" in page.locator("#chatbot .bot-row").last.inner_text(), what="the full answer")
    texts = page.evaluate("window.__botTexts")
    assert len(texts) >= 2, texts  # seen growing, not in one piece
    assert all(len(a) < len(b) for a, b in zip(texts, texts[1:])), texts
    assert texts[-1].startswith(texts[0].rstrip("，"))
    assert chip.inner_text() == "达州市2020·第21项"
    assert page.locator("#question textarea").input_value() == ""

    # open the chip: the detail panel shows the cited item with the quote highlighted
    chip.click()
    detail = page.locator("#item-detail .item-detail[data-item='dazhou-2020:21']")
    detail.wait_for(timeout=UI_WAIT_MS)
    text = detail.inner_text()
    assert "达州市教育局2020年工作要点" in text and "三、扩大公平优质教育资源供给" in text
    assert "第21项 提高资助工作精准管理能力" in text
    assert "市后勤与资助中心" in text and "计财科、基教科、职成科、扶贫办" in text
    assert "精准识别贫困学生" in text  # the full item text
    assert detail.locator("mark").first.inner_text() == "提高资助工作精准管理能力"

    # thumbs up: one JSON line in the data folder
    page.locator("#chatbot button[aria-label='赞']").last.click()
    feedback = server.data_dir / "feedback.jsonl"
    wait_for(feedback.exists, what="feedback.jsonl")
    record = json.loads(feedback.read_text(encoding="utf-8").splitlines()[-1])
    assert record["liked"] is True and record["question"] == "学生资助由哪个科室牵头？"
    assert record["citations"] == ["dazhou-2020:21"]

    # follow-up: "它" is the item of the previous answer
    page.fill("#question textarea", "那它的责任科室呢？")
    page.keyboard.press("Enter")
    wait_for(lambda: page.locator("#chatbot .bot-row").count() == 2
              and page.locator("#chatbot .bot-row").last.locator("a.cite-chip").count() == 1, what="the follow-up")
    follow = page.locator("#chatbot .bot-row").last.inner_text()
    assert "计财科" in follow and "达州市2020·第21项" in follow
    page.screenshot(path=str(ARTIFACTS / "browser-chat.png"))

    # a new conversation
    page.click("#new-chat")
    wait_for(lambda: page.locator("#chatbot .bot-row").count() == 0, what="the chat to clear")

    # 计划浏览: the search narrows the table; 校长视角 shows its checklist
    page.get_by_role("tab", name="计划浏览").click()
    page.locator("#browse-query textarea, #browse-query input").first.fill("县管校聘")
    page.keyboard.press("Enter")
    page.locator("#browse-table").get_by_text("推进教师队伍管理改革").filter(visible=True).first.wait_for(timeout=UI_WAIT_MS)
    row = page.locator("#browse-table").get_by_role("link", name="做优教师管理服务")
    row.wait_for(timeout=UI_WAIT_MS)
    row.click()  # a title opens its item beside the table
    page.locator("#browse-detail .item-detail[data-item='hengyang-2022:19']").wait_for(timeout=UI_WAIT_MS)
    page.get_by_role("tab", name="校长视角").click()  # the checklist itself: tests/test_browser_principal.py
    page.locator("#principal-list .ob-card").first.wait_for(timeout=UI_WAIT_MS)

    # the API docs work offline too
    page.goto(server.url + "/docs", wait_until="load")
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    assert "/api/ask" in page.locator(".opblock-summary-path").all_inner_texts()
    page.close()

    local = server.url + "/"
    outside = [u for u in requests if not u.startswith((local, "data:", "blob:", "about:"))]
    assert not outside, f"requests left 127.0.0.1: {outside}"
    assert any("/docs-assets/swagger-ui-bundle.js" in u for u in requests)
