"""A small async client for Prometheus's HTTP API (`/api/v1/query`, `/api/v1/query_range`).

Queries go out as POST forms: one query covers every visible instance with a regex
matcher, and a thousand instance names do not fit a URL. Every failure becomes a
`PrometheusError` whose `problem` tells the faces which state to show (unreachable,
bad URL, HTTP error, not Prometheus at all), with a sentence and a remedy. The URL in
any message has its user and password removed.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar
from urllib.parse import quote_plus, urlsplit, urlunsplit

from jumpdeck.core.errors import JumpdeckError

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
THREAD_DECODE_BYTES = 64 * 1024
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}

SET_URL_REMEDY = ("Set it with `jumpdeck settings set prometheus_url http://HOST:9090`, in the settings dialog, "
                  "or with JUMPDECK_PROMETHEUS_URL.")


class PrometheusProblem(str, enum.Enum):
    NOT_CONFIGURED = "not_configured"
    BAD_URL = "bad_url"
    UNREACHABLE = "unreachable"  # refused, reset, name not found
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"  # a 4xx/5xx answer
    BAD_RESPONSE = "bad_response"  # answered, but not like Prometheus
    QUERY_ERROR = "query_error"  # Prometheus refused the PromQL or the instance template


class PrometheusError(JumpdeckError):
    title = "Prometheus"

    def __init__(self, problem: PrometheusProblem, message: str, *, remedy: str | None = None,
                 status_code: int | None = None) -> None:
        super().__init__(message, remedy=remedy)
        self.problem = problem
        self.status_code = status_code


def redact_url(url: str) -> str:
    """The URL without user and password, for messages and the screen."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_url(url: str) -> str:
    """The base URL without a trailing slash, or a BAD_URL error saying what is wrong."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise PrometheusError(
            PrometheusProblem.BAD_URL,
            f"The Prometheus URL {redact_url(text)!r} is not an http(s) URL with a host.",
            remedy="It looks like http://prometheus.example:9090 (the page that serves /api/v1/query). " + SET_URL_REMEDY,
        )
    return text.rstrip("/")


_REGEX_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


@lru_cache(maxsize=16)
def _form_value(value: str) -> str:
    """A form field's value, percent-encoded. A fleet's query is 20-40 KB and Python's
    quoting goes byte by byte (8 ms a query, on the event loop); the same queries go out
    on every refresh until the set of instances changes, so they are encoded once."""
    return quote_plus(value)


def form_body(form: dict[str, str]) -> bytes:
    """`application/x-www-form-urlencoded`, as httpx would send `data=form`."""
    return "&".join(f"{quote_plus(key)}={_form_value(value)}" for key, value in form.items()).encode("ascii")


def instance_regex(instances: Iterable[str]) -> str:
    """A PromQL string literal body matching exactly these instance labels (RE2, anchored)."""
    escaped = sorted({_REGEX_SPECIAL.sub(r"\\\1", name) for name in instances})
    # Inside a double-quoted PromQL string a backslash must itself be escaped.
    return "|".join(escaped).replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float | None  # None for NaN / Inf


@dataclass(frozen=True)
class RangeSeries:
    labels: dict[str, str]
    points: tuple[tuple[float, float | None], ...]  # (unix time, value)


def _number(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


class PrometheusClient:
    """One Prometheus endpoint. Reuse it across refreshes (it keeps the connection)."""

    def __init__(self, base_url: str, *, timeout: float = 5.0,
                 event_hooks: dict[str, list[Callable[..., Any]]] | None = None) -> None:
        self.base_url = check_url(base_url)
        self.display_url = redact_url(self.base_url)
        self.timeout = timeout
        self.requests = 0  # requests sent, for the benchmark and the status line
        self._event_hooks = event_hooks or {}
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            # trust_env=False: an operator's HTTP(S)_PROXY must not reroute a loopback or
            # in-house Prometheus; the URL says where it is.
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), event_hooks=self._event_hooks,
                                           trust_env=False, follow_redirects=True)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> PrometheusClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def query(self, promql: str, *, at: float | None = None) -> list[Sample]:
        form = {"query": promql}
        if at is not None:
            form["time"] = f"{at:.3f}"
        return await self._post("query", form, self._samples)

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> list[RangeSeries]:
        form = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        return await self._post("query_range", form, self._series)

    def _samples(self, data: dict[str, Any]) -> list[Sample]:
        if data.get("resultType") != "vector":
            raise self._not_prometheus(f"an instant query gave a {data.get('resultType')!r} result, not a vector")
        samples = []
        for item in data.get("result") or ():
            value = item.get("value") or (None, None)
            samples.append(Sample(dict(item.get("metric") or {}), _number(value[1] if len(value) > 1 else None)))
        return samples

    def _series(self, data: dict[str, Any]) -> list[RangeSeries]:
        if data.get("resultType") != "matrix":
            raise self._not_prometheus(f"a range query gave a {data.get('resultType')!r} result, not a matrix")
        series = []
        for item in data.get("result") or ():
            points = tuple((float(t), _number(v)) for t, v in item.get("values") or ())
            series.append(RangeSeries(dict(item.get("metric") or {}), points))
        return series

    def _not_prometheus(self, what: str) -> PrometheusError:
        return PrometheusError(
            PrometheusProblem.BAD_RESPONSE,
            f"{self.display_url} answered, but not like Prometheus: {what}.",
            remedy="Check that prometheus_url is Prometheus's base URL (e.g. http://HOST:9090), not another service.",
        )

    async def _post(self, endpoint: str, form: dict[str, str], convert: Callable[[dict[str, Any]], T]) -> T:
        import asyncio

        import httpx

        # Prometheus stops evaluating at its own timeout too, so a slow query costs it nothing after we gave up.
        form = {**form, "timeout": f"{self.timeout:g}s"}
        url = f"{self.base_url}/api/v1/{endpoint}"
        self.requests += 1
        try:
            response = await self._client().post(url, content=form_body(form), headers=FORM_HEADERS)
        except httpx.TimeoutException:
            raise PrometheusError(
                PrometheusProblem.TIMEOUT,
                f"Prometheus at {self.display_url} did not answer within {self.timeout:g} s.",
                remedy="Check that it is up and not overloaded, or raise the monitor_timeout setting.",
            ) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise PrometheusError(PrometheusProblem.BAD_URL, f"The Prometheus URL {self.display_url} is not usable: {exc}.",
                                  remedy=SET_URL_REMEDY) from None
        except httpx.TransportError as exc:
            reason = _transport_reason(exc)
            raise PrometheusError(
                PrometheusProblem.UNREACHABLE,
                f"Prometheus unreachable at {self.display_url}: {reason}.",
                remedy="Check that Prometheus runs and that this host may reach it.",
            ) from None
        if len(response.content) < THREAD_DECODE_BYTES:
            return convert(self._decode(response))
        # A 1,000-VM answer is megabytes of JSON: decoded in a thread, the event loop (and
        # the keys the operator presses meanwhile) gets its turn every few milliseconds.
        return await asyncio.to_thread(lambda: convert(self._decode(response)))

    def _decode(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = ""
        if isinstance(body, dict) and body.get("status") == "error":
            error = f"{body.get('errorType', 'error')}: {body.get('error', '')}".strip()
        if response.status_code >= 400:
            code = response.status_code
            if code == 404:
                remedy = ("The path is wrong: prometheus_url must be the base URL under which /api/v1/query answers "
                          "(e.g. http://HOST:9090, or http://HOST/prometheus behind a proxy).")
            elif code in (401, 403):
                remedy = "Prometheus (or a proxy before it) refuses this client; ask for access or use an URL that allows it."
            elif code in (400, 422):
                remedy = "Prometheus refused the query; check the prometheus_instance setting (default {ip}:9100)."
            else:
                remedy = "Prometheus (or a proxy before it) is in trouble; check its log."
            problem = PrometheusProblem.QUERY_ERROR if code in (400, 422) and error else PrometheusProblem.HTTP_ERROR
            detail = error or (response.reason_phrase or "").strip() or "no reason given"
            raise PrometheusError(problem, f"Prometheus at {self.display_url} answered HTTP {code}: {detail[:300]}.",
                                  remedy=remedy, status_code=code)
        if not isinstance(body, dict):
            raise self._not_prometheus("the answer is not JSON")
        if body.get("status") != "success" or not isinstance(body.get("data"), dict):
            raise PrometheusError(PrometheusProblem.QUERY_ERROR,
                                  f"Prometheus at {self.display_url} refused the query: {error or 'no data in the answer'}.",
                                  remedy="Check the prometheus_instance setting (default {ip}:9100).")
        return body["data"]


def _transport_reason(exc: Exception) -> str:
    """The first useful words of a connection error ("connection refused"), never a traceback."""
    # httpx says "All connection attempts failed"; the OS error underneath says why.
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[:1].lower() + cause.strerror[1:]
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip() or type(exc).__name__
    for known, words in (("refused", "connection refused"), ("Name or service not known", "host name not found"),
                         ("nodename nor servname", "host name not found"),
                         ("Temporary failure in name resolution", "host name not found"),
                         ("unreachable", "network unreachable"), ("reset", "connection reset"),
                         ("SSL", "TLS handshake failed")):
        if known in text:
            return words
    return text.splitlines()[0][:200]
