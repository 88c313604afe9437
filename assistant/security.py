"""Who may talk to the server and what every response carries: settings, credentials, login
back-off, Host checking, the auth gate in front of the Gradio UI, and security headers.

One ASGI middleware (`Guard`) sits outside everything else, so even a 413 or a Gradio route gets
the same treatment:

- a Host header the server is not reachable as is refused (DNS rebinding);
- with credentials configured, nothing but the login page, static assets and /healthz answers
  without them, and the login page does not embed Gradio's API description;
- a client that fails to log in 5 times within a minute gets 429 with Retry-After for a while;
- every response carries nosniff, no-referrer, SAMEORIGIN framing and a Content-Security-Policy.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import os
import re
import socket
import threading
import time
from base64 import b64decode
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any, Callable, Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ROOT = Path(__file__).resolve().parent.parent
MIN_TOKEN_CHARS = 16
MIN_PASSWORD_CHARS = 8
MAX_LOGIN_FAILURES = 5  # failed logins per client …
LOGIN_WINDOW_S = 60.0  # … within this many seconds, then 429 until the oldest failure ages out
MAX_TRACKED_CLIENTS = 10_000  # bounded memory under a flood of distinct addresses
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")

# Gradio's page needs inline scripts and styles (its config is an inline <script>, themes inject
# <style>) and evaluates the `js=` handlers with new Function, hence 'unsafe-inline'/'unsafe-eval'.
# Everything else is locked to this origin: no CDN, no framing by other sites, no plugins.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; "
       "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"SAMEORIGIN"), (b"content-security-policy", CSP.encode())]

# Reachable without credentials: liveness, Gradio's login page and login form, and static files.
OPEN_PATHS = {"/healthz", "/", "/login", "/login/", "/favicon.ico", "/theme.css", "/robots.txt",
              "/gradio_api/theme.css", "/manifest.json"}
OPEN_PREFIXES = ("/assets/", "/static/", "/svelte/", "/docs-assets/", "/gradio_api/assets/")
HEADER_ONLY_PREFIXES = ("/api/", "/docs", "/openapi.json")  # a cookie never authorises these (CSRF)
_API_INFO_RE = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.S)


class ConfigError(ValueError):
    """The server configuration is unsafe or incomplete; the message says what to set."""


@dataclass
class Settings:
    """Where to listen, who may use it, and where feedback goes (from CLI flags and the environment)."""

    host: str = "127.0.0.1"
    port: int = 7860
    token: str | None = None
    user: str | None = None
    password: str | None = None
    data_dir: Path = field(default_factory=lambda: ROOT / "data")
    allowed_hosts: list[str] = field(default_factory=list)  # extra Host names (ASSISTANT_ALLOWED_HOSTS)

    @classmethod
    def from_env(cls, host: str = "127.0.0.1", port: int = 7860, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = env.get("ASSISTANT_DATA_DIR")
        extra = [h.strip() for h in (env.get("ASSISTANT_ALLOWED_HOSTS") or "").split(",") if h.strip()]
        # An empty variable means unset; a set one is kept as it is, blanks included, so check() can refuse it.
        return cls(host=host, port=port, token=env.get("ASSISTANT_TOKEN") or None,
                   user=env.get("ASSISTANT_USER") or None, password=env.get("ASSISTANT_PASSWORD") or None,
                   data_dir=Path(data_dir) if data_dir else ROOT / "data", allowed_hosts=extra)

    @property
    def loopback(self) -> bool:
        if self.host in ("localhost", "localhost.localdomain"):
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    @property
    def has_credentials(self) -> bool:
        return bool(self.token or (self.user and self.password))

    @property
    def auth_required(self) -> bool:
        """Off on loopback without credentials; on whenever credentials are configured."""
        return self.has_credentials

    def check(self) -> None:
        """Refuse an exposed server without credentials, half-set user/password, and weak secrets."""
        if bool(self.user) != bool(self.password):
            raise ConfigError("set both ASSISTANT_USER and ASSISTANT_PASSWORD (or neither)")
        if self.token is not None and (len("".join(self.token.split())) < MIN_TOKEN_CHARS
                                       or self.token != self.token.strip()):
            raise ConfigError(f"ASSISTANT_TOKEN is too weak: use at least {MIN_TOKEN_CHARS} non-blank characters "
                              "without surrounding spaces, e.g. `openssl rand -hex 24`")
        if self.password is not None:
            weak = (len(self.password) < MIN_PASSWORD_CHARS or len(set(self.password)) == 1
                    or self.password.strip().lower() == (self.user or "").strip().lower())
            if weak:
                raise ConfigError(f"ASSISTANT_PASSWORD is too weak: use at least {MIN_PASSWORD_CHARS} characters, "
                                  "not one character repeated and not the user name")
        if not self.loopback and not self.has_credentials:
            raise ConfigError(
                f"refusing to listen on {self.host} without authentication: set ASSISTANT_TOKEN "
                "(bearer token) or ASSISTANT_USER and ASSISTANT_PASSWORD, or bind 127.0.0.1")

    def login_ok(self, username: str, password: str) -> bool:
        """UI login (and HTTP Basic): user/password, or any user name with the token as password."""
        ok = False
        if self.user and self.password:
            ok = _same(username, self.user) & _same(password, self.password)  # & : both compared, always
        if self.token:
            ok = _same(password, self.token) or ok
        return ok

    def header_ok(self, authorization: str | None) -> bool:
        scheme, _, value = (authorization or "").partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and self.token:
            return _same(value, self.token)
        if scheme.lower() == "basic":
            try:
                username, _, password = b64decode(value, validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return self.login_ok(username, password)
        return False

    def host_names(self) -> set[str]:
        """Host header values (without port) this server answers to."""
        names = {h.lower().strip("[]") for h in self.allowed_hosts}
        bound = self.host.lower().strip("[]")
        if self.loopback:
            names.update(LOOPBACK_HOSTS)
        if bound in WILDCARD_HOSTS:  # every interface: this machine's names and addresses, and loopback
            names.update(LOOPBACK_HOSTS)
            names.update(_own_names())
        else:
            names.add(bound)
        return names


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def _own_names() -> set[str]:
    names: set[str] = set()
    for name in {socket.gethostname(), socket.getfqdn()}:
        names.add(name.lower())
        try:
            names.update(str(info[4][0]).lower() for info in socket.getaddrinfo(name, None))
        except OSError:
            pass
    return names


def host_of(value: str) -> str:
    """The host part of a Host header: 'a.example:7860' → 'a.example', '[::1]:80' → '::1'."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class LoginThrottle:
    """Per-client failed-login counter: after MAX_LOGIN_FAILURES within the window, wait (429)."""

    def __init__(self, max_failures: int = MAX_LOGIN_FAILURES, window: float = LOGIN_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.window, self.clock = max_failures, window, clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Seconds this client must wait before trying credentials again (0: go ahead)."""
        with self._lock:
            times = self._recent(client)
            if len(times) < self.max_failures:
                return 0
            return max(1, int(times[0] + self.window - self.clock()) + 1)

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client).append(self.clock())
            self._failures.move_to_end(client)
            while len(self._failures) > MAX_TRACKED_CLIENTS:
                self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        while times and times[0] <= self.clock() - self.window:
            times.popleft()
        return times


class Guard:
    """ASGI middleware: Host check, auth gate, login back-off and security headers (see module doc)."""

    def __init__(self, app: ASGIApp, settings: Settings, throttle: LoginThrottle | None = None,
                 cookie_user: Callable[[dict[str, str]], str | None] | None = None):
        self.app, self.settings = app, settings
        self.hosts = settings.host_names()
        self.throttle = throttle or LoginThrottle()
        self.cookie_user = cookie_user or (lambda cookies: None)  # set once the Gradio UI is mounted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        host_ok = host_of(headers.get("host", "")) in self.hosts
        if scope["type"] == "websocket":  # the UI does not use them; never without the right host and login
            if host_ok and (not self.settings.auth_required or self._cookie_ok(headers)):
                return await self.app(scope, receive, send)
            return await send({"type": "websocket.close", "code": 1008})
        send = _with_headers(send)
        if not host_ok:
            return await _json(send, 400, {"error": "invalid Host header: this server answers only to "
                                                    f"{', '.join(sorted(self.hosts))} (set ASSISTANT_ALLOWED_HOSTS)"})
        if not self.settings.auth_required:
            return await self.app(scope, receive, send)
        path, client = scope["path"], (scope.get("client") or ("?", 0))[0]
        authorization = headers.get("authorization")
        is_login = path in ("/login", "/login/") and scope["method"] == "POST"
        if authorization is not None or is_login:
            wait = self.throttle.retry_after(client)
            if wait:
                return await _json(send, 429, {"error": f"too many failed logins: retry in {wait} s"},
                                   [(b"retry-after", str(wait).encode())])
        if is_login:
            return await self.app(scope, receive, self._watch_login(send, client))
        if authorization is not None:
            if not self.settings.header_ok(authorization):
                self.throttle.failed(client)
                return await self._unauthorized(send)
            return await self.app(scope, receive, send)
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            if path == "/" and scope["method"] in ("GET", "HEAD") and not self._cookie_ok(headers):
                return await self.app(scope, receive, _strip_api_info(send))
            return await self.app(scope, receive, send)
        if not path.startswith(HEADER_ONLY_PREFIXES) and self._cookie_ok(headers):
            return await self.app(scope, receive, send)
        return await self._unauthorized(send)

    def _cookie_ok(self, headers: dict[str, str]) -> bool:
        jar = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except CookieError:
            return False
        return self.cookie_user({k: m.value for k, m in jar.items()}) is not None

    def _watch_login(self, send: Send, client: str) -> Send:
        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    self.throttle.succeeded(client)
                elif message["status"] in (400, 401):
                    self.throttle.failed(client)
            await send(message)
        return watched

    @staticmethod
    async def _unauthorized(send: Send) -> None:
        await _json(send, 401, {"error": "authentication required: Authorization: Bearer <token> or HTTP Basic, "
                                         "or log in at /"},
                    [(b"www-authenticate", b'Basic realm="assistant", Bearer')])


def _with_headers(send: Send) -> Send:
    """Add the security headers to the response start (replacing any the app set itself)."""
    names = {name for name, _ in SECURITY_HEADERS}

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers") or [] if k.lower() not in names]
            message = {**message, "headers": kept + SECURITY_HEADERS}
        await send(message)
    return sending


def _strip_api_info(send: Send) -> Send:
    """Gradio's login page embeds the app's API description (endpoints, plan ids, unit names): drop it."""
    start: dict[str, Any] = {}
    body: list[bytes] = []

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            return await send(message)
        body.append(message.get("body", b""))
        if message.get("more_body"):
            return
        data = _API_INFO_RE.sub(b"window.gradio_api_info = null;</script>", b"".join(body))
        headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
        await send({**start, "headers": headers + [(b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})
    return sending


async def _json(send: Send, status: int, payload: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


def gradio_cookie_user(gradio_app: Any) -> Callable[[dict[str, str]], str | None]:
    """Who a request's Gradio session cookie belongs to (the same check Gradio's own routes make)."""
    def user(cookies: dict[str, str]) -> str | None:
        cookie_id = getattr(gradio_app, "cookie_id", None)
        tokens = getattr(gradio_app, "tokens", {})
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        return tokens.get(token) if token else None
    return user
