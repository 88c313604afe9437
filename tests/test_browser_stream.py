"""The web chat's streaming path in a real browser: Debian's Chromium driven by Playwright against
`app.py --llm openai:…` over the real local model (Qwen2.5-Coder-0.5B served by llama_cpp.server).

A question is answered through POST /api/ask/stream: the model's drafts show in the live box, then
the verified answer replaces them in the chat, with its citation chip. The stop button cancels a
generation mid-way (the request is aborted, the chat says so) and the chat carries on; when the stream
fails the question is asked the plain way.
"""
from __future__ import annotations

import time

import pytest

from local_llm import ALIAS, TEST_MAX_TOKENS
from web_support import ROOT, LiveServer, chromium_browser, wait_for

pytest_plugins = ["local_llm"]  # llm_base: the session's one model server, shared with test_local_llm.py

ARTIFACTS = ROOT / "test-artifacts"
MODEL_TIMEOUT_S = 300  # a first answer on a loaded 2-core machine: prompt evaluation, then writing

# Records every distinct text of the live box's draft, with the time it appeared.
WATCH_LIVE = """() => {
  window.__liveTexts = [];
  window.__asked = performance.now();
  new MutationObserver(() => {
    const a = document.querySelector('#live-answer .live-a');
    const t = a ? a.textContent : '';
    const seen = window.__liveTexts;
    if (t && (!seen.length || seen[seen.length - 1][0] !== t)) { seen.push([t, performance.now() - window.__asked]); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


# Clicks 停止 as soon as the live box shows the model's first words.
STOP_ON_FIRST_DRAFT = """() => {
  window.__stoppedAt = 0;
  const watch = new MutationObserver(() => {
    const a = document.querySelector('#live-answer .live-a');
    const stop = document.querySelector('#stop-answer');
    if (a && a.textContent && stop) { watch.disconnect(); window.__stoppedAt = performance.now(); stop.click(); }
  });
  watch.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser()


@pytest.fixture(scope="module")
def server(llm_base):
    live = LiveServer(extra_args=["--llm", f"openai:{ALIAS}@{llm_base}"],
                      env={"ASSISTANT_LLM_MAX_TOKENS": str(TEST_MAX_TOKENS)})
    try:
        yield live.wait()
    finally:
        live.stop()


def last_bot(page) -> str:
    rows = page.locator("#chatbot .bot-row")
    return rows.last.inner_text() if rows.count() else ""


def test_the_chat_streams_drafts_and_the_stop_button_cancels(browser, server):
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    aborted: list[str] = []
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: aborted.append(r.url))
    page.goto(server.url + "/", wait_until="load")
    page.wait_for_selector("#question textarea", timeout=60000)

    # a question the model phrases: drafts in the live box, then the verified answer in the chat
    page.evaluate(WATCH_LIVE)
    page.fill("#question textarea", "邵东今年要新增多少学位？")
    page.click("#send")
    page.locator("#live-answer").wait_for(timeout=30000)
    assert page.locator("#stop-answer").is_visible()
    chip = page.locator("#chatbot .bot-row a.cite-chip").first
    chip.wait_for(timeout=MODEL_TIMEOUT_S * 1000)
    final_ms = page.evaluate("performance.now() - window.__asked")
    wait_for(lambda: page.locator("#live-answer").count() == 0, what="the live box to give way to the answer")
    drafts = page.evaluate("window.__liveTexts")
    assert drafts, "no draft was shown before the answer"
    assert "[" not in drafts[-1][0]  # the model's evidence markers are not shown
    assert chip.inner_text() == "邵东市2020·第7项"
    assert "10000" in last_bot(page)
    assert requests.count(server.url + "/api/ask/stream") == 1
    print(f"\nbrowser: first draft {drafts[0][1]:.0f} ms, answer in the chat {final_ms:.0f} ms, {len(drafts)} drafts")
    page.screenshot(path=str(ARTIFACTS / "stream-answer.png"))

    # a longer answer, stopped mid-way: the request is aborted and the chat says so. The page clicks 停止
    # the moment the first draft shows (a user would be slower, and the model might finish a sentence first)
    chips = page.locator("#chatbot a.cite-chip").count()
    page.evaluate(WATCH_LIVE)
    page.evaluate(STOP_ON_FIRST_DRAFT)
    page.fill("#question textarea", "达州2020年对校园安全有什么要求？")
    page.click("#send")
    wait_for(lambda: page.evaluate("window.__stoppedAt"), timeout=MODEL_TIMEOUT_S, what="a first draft and the stop")
    stopped_at = time.monotonic()
    wait_for(lambda: "已停止回答" in last_bot(page), timeout=30, what="the stopped note")
    assert time.monotonic() - stopped_at < 15
    assert page.locator("#chatbot a.cite-chip").count() == chips, "the stopped answer was filed after all"
    assert page.locator("#live-answer").count() == 0
    assert server.url + "/api/ask/stream" in aborted
    page.screenshot(path=str(ARTIFACTS / "stream-stopped.png"))

    # the chat carries on (a unit role stays extractive: one final event, no drafts)
    page.fill("#question textarea", "学生资助由哪个科室牵头？")
    page.click("#send")
    wait_for(lambda: "扶贫办" in last_bot(page), timeout=MODEL_TIMEOUT_S, what="the next answer")
    assert requests.count(server.url + "/api/ask/stream") == 3

    # the stream fails (here: the request is refused in the browser): the chat asks the plain way
    page.route("**/api/ask/stream", lambda route: route.abort())
    answers = page.locator("#chatbot .bot-row").count()
    page.fill("#question textarea", "基教科牵头哪些任务？")
    page.click("#send")
    wait_for(lambda: page.locator("#chatbot .bot-row").count() > answers and "基教科" in last_bot(page)
             and page.locator("#chatbot .bot-row").last.locator("a.cite-chip").count() >= 8,
             timeout=MODEL_TIMEOUT_S, what="the answer asked the plain way")
    assert requests.count(server.url + "/api/ask/stream") == 4
    assert "Traceback" not in server.log()
