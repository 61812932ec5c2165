"""Credentials written into URLs (`https://user:token@host/simple`): refused wherever a spec takes a
URL (`pip_index_url`, `pip_extra_index_urls`, artifact URLs), because the manifest carries the URL
in clear for anyone who can read the Workflow, and never printed.

    userinfo(url) -> True when the URL has a `user@` or `user:password@` part
    redacted(url) -> the URL with that part shown as `***@`
"""

from __future__ import annotations

import re

__all__ = ["redacted", "userinfo"]

# scheme://[userinfo@]host...: RFC 3986 authority; userinfo ends at the last '@' before the path
_AUTHORITY = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/?#]*@)(?P<rest>.*)$", re.S)


def userinfo(url: str) -> bool:
    return bool(_AUTHORITY.match(url))


def redacted(url: str) -> str:
    m = _AUTHORITY.match(url)
    return f"{m.group('scheme')}***@{m.group('rest')}" if m else url
