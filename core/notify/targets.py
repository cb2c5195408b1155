"""A target's URL in a form that may be shown: which service and where, never a token.

apprise's own privacy URL (`url(privacy=True)`) shortens the tokens it knows of, but
keeps a webhook's path and query whole (`json://host/hook/TOKEN`), and for services
such as Slack the "host" part is itself a token. So the shown form is built here from
the scheme and the host alone, and the host only when it looks like one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from jumpdeck.core.errors import ValidationError

MAX_URL = 2000


@dataclass(frozen=True)
class CheckedUrl:
    service: str  # apprise's name of the service ("JSON", "Slack")
    shown: str  # the redacted form


def redact(url: str) -> str:
    """`scheme://host:port/…`: no user, password, path or query; a host that is not an
    address or a dotted name (a Slack or Telegram token in the host place) is left out."""
    scheme, _, rest = url.partition("://")
    if not rest:
        return "…"
    netloc = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    host, port = netloc, ""
    if netloc.startswith("["):  # [v6]:port
        host, _, tail = netloc[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    elif netloc.count(":") == 1:
        host, port = netloc.split(":")
    shown_host = host if _looks_like_host(host) else ""
    if shown_host and ":" in shown_host:
        shown_host = f"[{shown_host}]"
    if shown_host and port.isdigit():
        shown_host += f":{port}"
    return f"{scheme.lower()}://{shown_host}/…" if shown_host else f"{scheme.lower()}://…"


def _looks_like_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.split(".")
    return host == "localhost" or (
        len(labels) >= 2 and all(label and label.replace("-", "").isalnum() for label in labels)
        and labels[-1].isalpha())


def check_url(url: str) -> CheckedUrl:
    """The service and shown form of an apprise URL, or a sentence that never quotes it."""
    url = url.strip()
    if not url:
        raise ValidationError("The notification target is empty.", field="url",
                              remedy="Give an apprise URL such as json://host:port/path or slack://… on standard input.")
    if len(url) > MAX_URL or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationError("The notification target is not a URL (it is too long or holds spaces or control characters).",
                              field="url", remedy="Give one apprise URL on one line.")
    if "://" not in url or not urlsplit(url).scheme:
        raise ValidationError("The notification target is not a URL.", field="url",
                              remedy="Give an apprise URL such as json://host:port/path (see apprise's list of services).")
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise ValidationError(f"apprise does not accept the target {redact(url)} (an unknown service or a malformed URL).",
                              field="url", remedy="Check the URL against apprise's documentation of that service.")
    return CheckedUrl(service=str(plugin.service_name), shown=redact(url))
