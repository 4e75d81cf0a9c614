"""A small HTTP client for the hosted backends: JSON in and out, retries, timeouts, downloads.

Standard library only (``urllib``), so the hosted backends need no extra package. Retried:
429 (waiting ``Retry-After`` when the server sends it, capped), 500/502/503/504, and
connection errors or timeouts; waits grow exponentially from ``backoff_s``. Any other status is
an error at once. Request headers (which carry keys) are never logged nor put in messages.

Under test, ``EXOACTOR_LOOPBACK_ONLY=1`` makes every request to an address outside
127.0.0.0/8 (or ``localhost``) an error before a socket is opened, so a test can never fall
through to a real provider.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from exoactor.fileio import atomic_path
from exoactor.imagine.errors import HostedAPIError, MalformedResponse, NotLoopback

logger = logging.getLogger(__name__)

LOOPBACK_ENV = "EXOACTOR_LOOPBACK_ONLY"
"""Environment flag: when "1", hosted backends refuse any URL that is not on 127.0.0.0/8."""
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses that are retried."""

NOT_LOOPBACK = ("{what}: {url} is not a loopback address and {env}=1 (set by the test suite): "
                "point the backend's base_url at the local fake server (http://127.0.0.1:PORT)")
GAVE_UP = ("{what}: {method} {url} failed after {attempts} attempt(s): {why}. Check the "
           "base URL and your network, or raise max_retries/timeout_s in the backend config")
HTTP_ERROR = "{what}: {method} {url} answered HTTP {status}{tries}: {detail}. {fix}"
NOT_JSON = ("{what}: {url} answered HTTP {status} with a body that is not JSON ({excerpt!r}); "
            "the base URL may point at something other than the provider's API")


class RetryPolicy(BaseModel):
    """Timeouts and retries of one hosted backend."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: float = Field(60.0, gt=0.0)
    """Socket timeout of one request [s]."""
    max_retries: int = Field(4, ge=0, le=20)
    """Retries after the first attempt for 429, 5xx and connection errors."""
    backoff_s: float = Field(1.0, ge=0.0)
    """First wait between attempts [s]; doubles with every retry."""
    max_backoff_s: float = Field(60.0, ge=0.0)
    """Longest wait between attempts [s], also the cap on a server's ``Retry-After``."""


@dataclass(frozen=True)
class Response:
    """One HTTP answer.

    Attributes:
        status: HTTP status code.
        headers: response headers (lower-case names).
        body: raw body.
        url: the URL that answered.
    """

    status: int
    headers: dict[str, str]
    body: bytes
    url: str

    def json(self, what: str) -> Any:
        """The body parsed as JSON; :class:`MalformedResponse` when it is not."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise MalformedResponse(NOT_JSON.format(
                what=what, url=self.url, status=self.status,
                excerpt=self.body[:80].decode("utf-8", "replace"))) from None


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is ``localhost`` or an address in 127.0.0.0/8 (or ``::1``)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> None:
    """Refuse ``url`` when the loopback-only flag is set and it is not loopback.

    Raises:
        NotLoopback: the flag is set and ``url`` leaves the machine.
    """
    if os.environ.get(LOOPBACK_ENV) == "1" and not is_loopback_url(url):
        raise NotLoopback(NOT_LOOPBACK.format(what=what, url=url, env=LOOPBACK_ENV))


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _opener(url: str) -> urllib.request.OpenerDirector:
    # Loopback never goes through a proxy (tests set dead proxies for other tools).
    if is_loopback_url(url):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _detail(body: bytes) -> str:
    """A short error description from a provider's error body (JSON or text)."""
    text = body[:2000].decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return text[:200].strip() or "(empty body)"
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        if isinstance(err, str):
            return err[:300]
        if data.get("message"):
            return str(data["message"])[:300]
    return text[:200]


_FIX = {401: "The key was refused: check the key named in the backend config.",
        403: "The key is not allowed to use this model or endpoint.",
        404: "Check the model name and base URL.",
        400: "The request was refused; see the message above.",
        429: "Rate limited: wait, lower --candidates, or raise max_retries."}


def request(method: str, url: str, *, what: str, policy: RetryPolicy,
            headers: Mapping[str, str] | None = None, json_body: Any = None,
            data: bytes | None = None, ok: tuple[int, ...] = (200, 201, 202),
            sleep: Callable[[float], None] = time.sleep) -> Response:
    """Send one request with retries.

    Args:
        method: ``"GET"`` or ``"POST"``.
        url: absolute URL.
        what: the backend's name for messages (e.g. ``"kling"``).
        policy: timeouts and retries.
        headers: request headers (never logged).
        json_body: a JSON-able body (sets ``Content-Type: application/json``).
        data: a raw body (with its own ``Content-Type`` in ``headers``).
        ok: statuses that count as success.
        sleep: the wait function (tests may pass a recorder).

    Raises:
        NotLoopback: see :func:`check_url`.
        HostedAPIError: a non-retried error status, or retries exhausted.
    """
    check_url(url, what)
    hdrs = {"Accept": "application/json", "User-Agent": "exoactor-imagine", **(headers or {})}
    if json_body is not None:
        data = json.dumps(json_body).encode()
        hdrs["Content-Type"] = "application/json"
    opener = _opener(url)
    attempts = policy.max_retries + 1
    why = ""
    for attempt in range(attempts):
        req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
        wait = min(policy.backoff_s * (2 ** attempt), policy.max_backoff_s)
        try:
            with opener.open(req, timeout=policy.timeout_s) as resp:
                r = Response(resp.status, {k.lower(): v for k, v in resp.headers.items()},
                             resp.read(), resp.geturl())
        except urllib.error.HTTPError as exc:
            body = exc.read() if exc.fp is not None else b""
            r = Response(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, body,
                         url)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            why = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            logger.warning("%s: %s %s: %s (attempt %d/%d)", what, method, url, why, attempt + 1,
                           attempts)
            if attempt + 1 < attempts:
                sleep(wait)
            continue
        if r.status in ok:
            return r
        if r.status in RETRY_STATUS and attempt + 1 < attempts:
            server_wait = retry_after_s(r.headers)
            if server_wait is not None:
                wait = min(server_wait, policy.max_backoff_s)
            logger.warning("%s: %s %s answered HTTP %d; retrying in %.2f s (attempt %d/%d)",
                           what, method, url, r.status, wait, attempt + 1, attempts)
            sleep(wait)
            why = f"HTTP {r.status}: {_detail(r.body)}"
            continue
        tries = f" after {attempt + 1} attempt(s)" if r.status in RETRY_STATUS else ""
        raise HostedAPIError(HTTP_ERROR.format(
            what=what, method=method, url=url, status=r.status, tries=tries,
            detail=_detail(r.body),
            fix=_FIX.get(r.status, "Retries are exhausted; try again later." if r.status
                         in RETRY_STATUS else "See the provider's documentation.")))
    raise HostedAPIError(GAVE_UP.format(what=what, method=method, url=url, attempts=attempts,
                                        why=why))


def download(url: str, dest: Path, *, what: str, policy: RetryPolicy,
             headers: Mapping[str, str] | None = None,
             sleep: Callable[[float], None] = time.sleep) -> Path:
    """Download ``url`` into ``dest`` atomically (with :func:`request`'s retries)."""
    r = request("GET", url, what=what, policy=policy, headers={"Accept": "*/*", **(headers or {})},
                ok=(200,), sleep=sleep)
    if not r.body:
        raise MalformedResponse(f"{what}: {url} returned an empty file; the job's output is "
                                "missing: generate again")
    with atomic_path(dest) as tmp:
        tmp.write_bytes(r.body)
    return dest


def copy_file(src: Path, dest: Path) -> Path:
    """Copy ``src`` to ``dest`` atomically."""
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
    return dest
