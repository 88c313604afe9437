"""CSS and the page script of the web UI (served inline: nothing comes from a CDN).

The script routes in-page links to the server through one hidden textbox and button (#ui-action,
#ui-go): citation chips (#cite=…), 计划浏览's sortable headers and rows, closing the detail sheet,
and `/?item=<id>` share links. It also copies answers as clean text or Markdown, scrolls an opened
item into view, and asks Gradio for its Chinese strings whatever the browser's language.
"""
from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSS = """
.cite-chip { display:inline-block; margin:0 2px; padding:0 8px; border-radius:999px; font-size:0.85em;
  line-height:1.6; text-decoration:none !important; background:var(--primary-100); color:#7c2d12 !important;
  border:1px solid var(--primary-300); cursor:pointer; white-space:nowrap; }
.dark .cite-chip { background:#431407; color:#fed7aa !important; border-color:#9a3412; }
.cite-chip:hover { text-decoration:underline !important; }
.answer-tools { margin-top:6px; display:flex; gap:12px; font-size:0.85em; }
.answer-tools a, .detail-bar a { color:#374151 !important; text-decoration:underline; }
footer a, footer button, .show-api { color:#374151 !important; }
.dark footer a, .dark footer button, .dark .show-api { color:#d1d5db !important; }
.dark .answer-tools a, .dark .detail-bar a, .dark .item-detail .detail-path, .dark .item-detail dt,
.dark .detail-empty, .dark .browse-count, .dark .browse-empty, .dark .scope-none, .dark .upload-report .muted,
.dark #question-state, .dark .browse-table td::before { color:#d1d5db !important; }
/* WCAG AA: the selected tab and the primary / stop buttons (white text) need darker fills than the theme's */
button[role="tab"].selected, button[role="tab"][aria-selected="true"] { color:#9a3412 !important; }
.dark button[role="tab"].selected, .dark button[role="tab"][aria-selected="true"] { color:#fdba74 !important; }
.override-note { color:#92400e; }
.dark .override-note { color:#fcd34d; }
.item-detail .detail-plan { font-weight:600; }
.item-detail .detail-path, .item-detail dt, .detail-empty, .browse-count, .browse-empty, .scope-none,
.upload-report .muted { color:#374151 !important; }
.item-detail .detail-path { font-size:0.9em; margin:2px 0 6px; }
.item-detail h3 { margin:4px 0 8px; }
.item-detail dl { display:grid; grid-template-columns:auto 1fr; gap:2px 10px; margin:0 0 8px; }
.item-detail dd { margin:0; }
.item-detail .detail-text { white-space:pre-wrap; line-height:1.7; }
.detail-bar { display:flex; justify-content:flex-end; gap:14px; font-size:0.85em; }
/* the highlight keeps dark text on yellow in both modes (Gradio's dark prose would make the text light) */
mark, .dark mark, .item-detail mark, .browse-table mark { background:#fde68a !important; color:#1f2937 !important;
  padding:0 1px; }
.scope-line { display:flex; flex-wrap:wrap; gap:6px; font-size:0.9em; }
.scope-chip { padding:2px 10px; border-radius:999px; border:1px solid var(--border-color-primary);
  background:var(--background-fill-secondary); }
#history .wrap { flex-direction:column; }
#scope-row { align-items:center; gap:6px; }
#scope-row > button { flex:0 0 auto; }
.browse-table { width:100%; border-collapse:collapse; font-size:0.92em; }
.browse-table th, .browse-table td { border-bottom:1px solid var(--border-color-primary); padding:6px;
  text-align:left; vertical-align:top; }
.browse-table th a { color:inherit !important; text-decoration:none; font-weight:600; }
.browse-table tr.opened { background:var(--background-fill-secondary); }
.browse-scroll { max-height:620px; overflow:auto; }
.upload-report dl { display:grid; grid-template-columns:auto 1fr; gap:2px 12px; }
.upload-report .warn { color:#92400e; }
.dark .upload-report .warn { color:#fcd34d; }
#question-state { font-size:0.85em; color:#374151; min-height:1.2em; }
/* the answer being streamed: the model's unverified draft, replaced by the verified answer in the chat */
#live-answer { margin:8px 0; padding:10px 12px; border:1px dashed var(--border-color-primary); border-radius:8px;
  background:var(--background-fill-secondary); }
#live-answer .live-q, #live-answer .live-bar, .removed-note, .stopped-note { font-size:0.85em; color:#374151; }
.dark #live-answer .live-q, .dark #live-answer .live-bar, .dark .removed-note, .dark .stopped-note { color:#d1d5db; }
#live-answer .live-a { white-space:pre-wrap; line-height:1.7; min-height:1.5em; margin:4px 0; }
#live-answer .live-bar { display:flex; justify-content:space-between; align-items:center; gap:8px; }
#stop-answer { background:#b91c1c; color:#fff; border:none; border-radius:6px; padding:4px 14px; cursor:pointer; }
#stop-answer:hover { background:#991b1b; }
.removed-note { margin:4px 0 0; }
@media (max-width: 700px) {
  .gradio-container { padding:0 6px !important; }
  /* every pixel of a phone's width for the content: Gradio pads the page by 32 px a side */
  .gradio-container .main, .gradio-container .main > .wrap { padding-left:2px !important; padding-right:2px !important;
    margin-left:0 !important; margin-right:0 !important; }
  #browse-table .html-container, #item-detail .html-container, #browse-detail .html-container { padding:0 !important; }
  #chat-row { flex-direction:column; }
  #history-col { order:2; }
  /* the cited item opens as a bottom sheet over the chat, in the viewport */
  #detail-col:has(.item-detail) { position:fixed; left:0; right:0; bottom:0; max-height:62vh; overflow:auto;
    z-index:1000; background:var(--background-fill-primary); border-top:2px solid var(--border-color-accent);
    box-shadow:0 -6px 24px rgba(0,0,0,.25); padding:10px 12px;
    flex-wrap:nowrap !important; /* a wrapping column would put the item beside the heading, off screen */ }
  #detail-col:has(.item-detail) > * { flex-shrink:0 !important; }
  #detail-col:not(:has(.item-detail)) { display:none; }
  .browse-table thead { display:none; }
  .browse-table, .browse-table tbody, .browse-table tr, .browse-table td { display:block; width:100%; }
  .browse-table tr { border:1px solid var(--border-color-primary); border-radius:8px; margin:0 0 8px; padding:6px; }
  .browse-table td { border:none; padding:2px 4px; }
  .browse-table td::before { content:attr(data-label) "："; color:#374151; }
  .browse-scroll { max-height:none; }
}
"""

# Served as a <style> in the page head, not through Gradio's `css`: Gradio prefixes that CSS with its
# container classes, and the prefixed light rules would then outrank every `.dark` rule.
HEAD_STYLE = "<style>" + CSS + "</style>"

# Gradio picks its strings from the browser's language when it starts, before `head` is added to the
# page; this runs first (EarlyLocale puts it at the top of the page's <head>): the UI is Chinese only.
LOCALE_SCRIPT = """<script>try {
  Object.defineProperty(navigator, 'language', {get: function () { return 'zh-CN'; }});
  Object.defineProperty(navigator, 'languages', {get: function () { return ['zh-CN', 'zh']; }});
} catch (e) {}</script>"""


class EarlyLocale:
    """ASGI middleware: the UI page (GET /) gets LOCALE_SCRIPT as the first thing in its <head>."""

    def __init__(self, app: ASGIApp, path: str = "/"):
        self.app, self.path = app, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != self.path:
            return await self.app(scope, receive, send)
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    return await send(message)
                start.update(message)
                return
            if not start:
                return await send(message)
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks).replace(b"<head>", b"<head>" + LOCALE_SCRIPT.encode("utf-8"), 1)
            kept = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
            await send({**start, "headers": kept + [(b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        return await self.app(scope, receive, sending)


HEAD = HEAD_STYLE + """<script>
(function () {
  function send(action) {
    window.__assistantAction = action;
    var box = document.querySelector('#ui-action textarea, #ui-action input');
    if (box) { box.value = action; box.dispatchEvent(new Event('input', {bubbles: true})); }
    setTimeout(function () {
      var btn = document.querySelector('#ui-go');
      if (btn && btn.tagName !== 'BUTTON') { btn = btn.querySelector('button') || btn; }
      if (btn) { btn.click(); }
    }, 60);
  }
  window.__assistantSend = send;
  function status(text) {
    var live = document.getElementById('copy-status');
    if (!live) { live = document.createElement('div'); live.id = 'copy-status'; live.setAttribute('role', 'status');
      live.style.cssText = 'position:fixed;bottom:12px;left:50%;transform:translateX(-50%);padding:4px 12px;' +
        'border-radius:6px;background:#111827;color:#fff;z-index:2000;font-size:14px';
      document.body.appendChild(live); }
    live.textContent = text; live.style.display = 'block';
    clearTimeout(live.__t); live.__t = setTimeout(function () { live.style.display = 'none'; }, 1800);
  }
  function citeOf(a) {  // the chip's tooltip starts with the citation written out: 〔计划·第N项〕
    var m = (a.getAttribute('title') || '').match(/〔[^〔〕]+〕/);
    return m ? m[0] : '〔' + a.textContent + '〕';
  }
  function titleOf(a) { return (a.getAttribute('title') || '').replace(/^〔[^〔〕]+〕\\s*/, ''); }
  function cleanText(node) {
    var copy = node.cloneNode(true);
    copy.querySelectorAll('.answer-tools, button, .copy-src').forEach(function (n) { n.remove(); });
    copy.querySelectorAll('a.cite-chip').forEach(function (a) { a.replaceWith(document.createTextNode(citeOf(a))); });
    return (copy.innerText || copy.textContent || '').trim();
  }
  function copyAnswer(link, kind) {
    var row = link.closest('.message-row, .message-wrap > div, .bot-row') || link.parentNode.parentNode;
    var message = link.closest('.message') || link.closest('.bot') || row;
    var answer = cleanText(message);
    var text = answer;
    if (kind === 'md') {
      var rows = Array.prototype.slice.call(document.querySelectorAll('#chatbot .message-row'));
      var at = rows.indexOf(row), q = '';
      for (var i = at - 1; i >= 0; i--) { if (rows[i].classList.contains('user-row')) { q = rows[i].innerText.trim(); break; } }
      var cites = [];
      message.querySelectorAll('a.cite-chip').forEach(function (a) {
        var c = '- ' + citeOf(a) + titleOf(a);
        if (cites.indexOf(c) < 0) { cites.push(c); }
      });
      text = (q ? '**问：** ' + q + '\\n\\n' : '') + '**答：** ' + answer + (cites.length ? '\\n\\n引用：\\n' + cites.join('\\n') : '');
    }
    window.__assistantCopied = text;
    var done = function () { status(kind === 'md' ? '已复制 Markdown' : '已复制文本'); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else { fallbackCopy(text); done(); }
  }
  function fallbackCopy(text) {
    var area = document.createElement('textarea'); area.value = text; area.setAttribute('readonly', '');
    area.style.position = 'fixed'; area.style.opacity = '0'; document.body.appendChild(area);
    area.select(); try { document.execCommand('copy'); } catch (e) {} area.remove();
  }
  document.addEventListener('click', function (e) {
    var a = e.target && e.target.closest ? e.target.closest('a[href^="#"]') : null;
    if (!a) { return; }
    var href = a.getAttribute('href') || '';
    var m = href.match(/^#(cite|browse-sort|browse-open|close-detail|copy-text|copy-md)(?:=(.*))?$/);
    if (!m) { return; }
    e.preventDefault(); e.stopPropagation();
    var value = decodeURIComponent(m[2] || '');
    if (m[1] === 'copy-text' || m[1] === 'copy-md') { copyAnswer(a, m[1] === 'copy-md' ? 'md' : 'text'); return; }
    var verb = {'cite': 'cite', 'browse-sort': 'sort', 'browse-open': 'open', 'close-detail': 'close'}[m[1]];
    if (verb === 'close' && a.closest('#browse-detail')) { verb = 'close-browse'; }
    send(verb + ':' + value);
  }, true);
  // Gradio labels a message with its raw content (markup included, in English): say the clean text instead.
  function relabel() {
    document.querySelectorAll('#chatbot [data-testid="bot"], #chatbot [data-testid="user"]').forEach(function (m) {
      var label = (m.getAttribute('data-testid') === 'bot' ? '回答：' : '提问：') + cleanText(m.querySelector('.message-content') || m);
      if (m.getAttribute('aria-label') !== label) { m.setAttribute('aria-label', label); }
    });
  }
  var relabelTimer = null;
  new MutationObserver(function () {  // throttled, not debounced: a busy page still gets relabelled
    if (!relabelTimer) { relabelTimer = setTimeout(function () { relabelTimer = null; relabel(); }, 100); }
  })
    .observe(document.documentElement, {subtree: true, childList: true, characterData: true});
  // An opened item is scrolled into view (below the table on a narrow screen, next to it on a wide one).
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      var host = r.target.closest ? r.target.closest('#browse-detail') : null;
      var item = host && host.querySelector('.item-detail');
      if (item && item.dataset.item !== window.__lastOpened) {
        window.__lastOpened = item.dataset.item;
        setTimeout(function () { item.scrollIntoView({block: 'nearest'}); }, 30);
      }
    });
  }).observe(document.documentElement, {subtree: true, childList: true});
  // /?item=dazhou-2020:21 opens that item once the page is ready.
  var shared = new URLSearchParams(location.search).get('item');
  if (shared) {
    var tries = 0, timer = setInterval(function () {
      if (document.querySelector('#ui-action') && document.querySelector('#ui-go')) {
        clearInterval(timer); setTimeout(function () { send('cite:' + shared); }, 400);
      } else if (++tries > 100) { clearInterval(timer); }
    }, 100);
  }
})();
</script>"""

# Streaming (POST api/ask/stream, api_stream.py): the model's drafts show in a live box under the chat with a
# stop button (AbortController: the server stops generating when the request is cut). The verified final
# answer is kept by the server under its stream id, which ASK_JS hands to the chat's own event, so the
# chat files and shows that answer without asking again. Any failure resolves to '' and the question is
# asked the plain way; the stop button resolves to 'stopped'.
STREAM_SCRIPT = r"""<script>
(function () {
  var MARKERS = /[\[［【][\d\s,，、]*[\]］】]?/g;  // the model's [n] evidence markers, not shown in a draft
  function liveBox(question, controller) {
    var old = document.getElementById('live-answer');
    if (old) { old.remove(); }
    var box = document.createElement('div');
    box.id = 'live-answer';
    box.innerHTML = '<div class="live-q"></div><div class="live-a"></div>' +
      '<div class="live-bar"><span class="live-state" role="status">正在检索…</span>' +
      '<button type="button" id="stop-answer" aria-label="停止回答">停止</button></div>';
    box.querySelector('.live-q').textContent = '问：' + question;
    box.querySelector('#stop-answer').addEventListener('click', function () { controller.abort(); });
    var chat = document.getElementById('chatbot');
    if (chat && chat.parentNode) { chat.parentNode.insertBefore(box, chat.nextSibling); }
    else { document.body.appendChild(box); }
    return box;
  }
  function readEvents(body, box) {
    var reader = body.getReader(), decoder = new TextDecoder(), buffer = '', draft = '';
    var shown = box.querySelector('.live-a'), state = box.querySelector('.live-state');
    function pump() {
      return reader.read().then(function (r) {
        if (r.done) { throw new Error('the stream ended without an answer'); }
        buffer += decoder.decode(r.value, {stream: true});
        var blocks = buffer.split('\n\n');
        buffer = blocks.pop();
        for (var i = 0; i < blocks.length; i++) {
          var kind = 'message', data = '';
          blocks[i].split('\n').forEach(function (line) {
            if (line.indexOf('event: ') === 0) { kind = line.slice(7); }
            else if (line.indexOf('data: ') === 0) { data += line.slice(6); }
          });
          var payload = JSON.parse(data || '{}');
          if (kind === 'draft') {
            draft += payload.text || '';
            shown.textContent = draft.replace(MARKERS, '');
            state.textContent = '生成中，核对后显示最终回答…';
            window.__assistantDrafts = (window.__assistantDrafts || 0) + 1;
          } else if (kind === 'final') {
            return payload;
          } else if (kind === 'error') {
            throw new Error(payload.error || 'error');
          }
        }
        return pump();
      });
    }
    return pump();
  }
  window.__assistantStream = function (question, plan, context) {
    if (!(window.fetch && window.AbortController && window.TextDecoder && window.ReadableStream)) {
      return Promise.resolve('');
    }
    var history = [];
    try { history = JSON.parse(context || '[]'); } catch (e) { history = []; }
    var controller = new AbortController();
    var box = liveBox(question, controller);
    return fetch('api/ask/stream', {method: 'POST', headers: {'content-type': 'application/json'},
                                    body: JSON.stringify({question: question, plan: plan || null, history: history}),
                                    signal: controller.signal, credentials: 'same-origin'})
      .then(function (r) {
        if (!r.ok || !r.body) { throw new Error('HTTP ' + r.status); }
        return readEvents(r.body, box);
      })
      .then(function (answer) { return answer && answer.stream_id ? 'id:' + answer.stream_id : ''; },
            function () { return controller.signal.aborted ? 'stopped' : ''; })
      .then(function (result) { box.remove(); return result; });
  };
})();
</script>"""
PAGE_HEAD = HEAD + STREAM_SCRIPT  # what the page's <head> gets (web.mount_ui)

# Gradio's own strings the zh-CN bundle lacks (kept Chinese whatever the browser language).
I18N = {
    "zh-CN": {
        "chatbot": {"copy_message": "复制", "copied_message": "已复制", "complete": "完成"},
        "common": {"error": "出错", "clear": "清除", "submit": "提交", "settings": "设置", "loading": "加载中"},
        "dataframe": {"search": "搜索"},
        "upload_text": {"click_to_upload": "点击上传", "drop_file": "将文件拖放到此处"},
    }
}
