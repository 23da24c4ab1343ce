"""One article, one address: the canonical form of an article's link, so that the same
article reached through two feeds, a tracking link or its AMP page is stored once."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

# Query parameters that say who sent the reader, never which article it is.
TRACKING = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "ocid",
    "cmpid", "xtor", "smid", "ref", "ref_src", "ref_url", "referrer", "_ga", "_gl",
    "guccounter", "amp", "outputtype", "mkt_tok", "spm", "s_cid", "wt.mc_id",
})  # fmt: skip
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "itm_")
HOST_PREFIXES = ("www.", "m.", "amp.", "mobile.")
AMP_SUFFIXES = ("/amp", ".amp", ".amp.html")


def canonical_link(url: str | None) -> str | None:
    """`https://www.Site.org/a/b/amp/?utm_source=x#top` → `site.org/a/b`: no scheme (http and
    https are one article), the host in lower case without `www.`/`m.`/`amp.` and default
    port, no fragment, no tracking parameters, the others sorted, no trailing slash and no
    AMP suffix. None for anything that is not an http(s) URL with a host."""
    if not url or len(url) > 2000:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    for prefix in HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path or "/"
    while True:  # `/story/amp/`, `/story.amp.html`: the article itself
        trimmed = path.rstrip("/")
        for suffix in AMP_SUFFIXES:
            if trimmed.lower().endswith(suffix):
                trimmed = trimmed[: -len(suffix)]
                break
        else:
            break
        path = trimmed
    path = path.rstrip("/")
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING and not k.lower().startswith(TRACKING_PREFIXES)
    )
    return host + path + (f"?{urlencode(query)}" if query else "")
