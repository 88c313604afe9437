"""With credentials set, the login page still renders and works in a real browser under the
security headers (CSP, no API description before login), and the chat answers once logged in."""
from __future__ import annotations



from web_support import ARGS, CHROMIUM, LiveServer, require_chromium

USER, PASSWORD = "rector", "correct-horse-7"


def test_login_then_chat_in_the_browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    server = LiveServer(env={"ASSISTANT_USER": USER, "ASSISTANT_PASSWORD": PASSWORD}).wait()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
            page = browser.new_page()
            violations: list[str] = []
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(server.url + "/", wait_until="load")
            page.locator("input[type=password]").wait_for(timeout=30000)
            assert page.evaluate("window.gradio_api_info") is None  # nothing about the app before login
            page.locator("input[type=text]").first.fill(USER)
            page.locator("input[type=password]").fill(PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_selector("#question textarea", timeout=30000)
            page.fill("#question textarea", "学生资助由哪个科室牵头？")
            page.click("#send")
            page.locator("#chatbot .bot-row a.cite-chip").first.wait_for(timeout=60000)
            assert not violations, violations
            browser.close()
    finally:
        server.stop()
