"""Who is asking: the identity a request is counted against, most specific first.

1. the verified caller: the `principal` extension point (an authentication capability fills
   it), or a user that an authentication middleware outside this one has set in `scope["user"]`
   (Starlette's convention: `is_authenticated`, `identity`);
2. a known API key: one whose SHA-256 is in `RATE_LIMIT_API_KEY_HASHES`, counted by that hash
   (keys never reach Redis). A key that is not known is no identity at all: counted by address,
   it cannot buy its caller a fresh bucket per invented key;
3. the client's address. `X-Forwarded-For` is believed only when the connection comes from a
   proxy in `RATE_LIMIT_TRUSTED_PROXIES`, read right to left up to the first address that is not
   a trusted proxy, so a client cannot pick its own bucket by sending the header. IPv6 clients
   are counted per /64, the block one host usually holds.
"""

import hashlib
from collections.abc import Collection, Sequence
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from starlette.datastructures import Headers
from starlette.types import Scope

TrustedProxies = Sequence[IPv4Network | IPv6Network]
IPV6_CLIENT_PREFIX = 64


def client_identity(
    scope: Scope,
    *,
    api_key_header: str,
    trusted_proxies: TrustedProxies,
    known_api_keys: Collection[str] = (),
    principal: str | None = None,
) -> str:
    """`known_api_keys`: the SHA-256 hex digests of the keys that count as identities."""
    if principal:
        return principal
    user = authenticated_user(scope)
    if user:
        return f"user:{user}"
    # `Headers` only when a header can count: most services know no keys and trust no proxy.
    headers = Headers(scope=scope) if known_api_keys or trusted_proxies else None
    api_key = None
    if headers is not None and api_key_header and known_api_keys:
        api_key = headers.get(api_key_header)
    if api_key:
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        if digest in known_api_keys:
            return f"key:{digest[:32]}"
    return f"ip:{client_address(scope, headers, trusted_proxies)}"


def authenticated_user(scope: Scope) -> str | None:
    user = scope.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    identity = getattr(user, "identity", None)
    return str(identity) if identity else None


def client_address(scope: Scope, headers: Headers | None, trusted_proxies: TrustedProxies) -> str:
    """`headers`: the request's, needed only when `trusted_proxies` is not empty."""
    peer = scope.get("client")
    address = parse_address(peer[0]) if peer else None
    if address is None:
        return peer[0] if peer else "unknown"
    if trusted_proxies and is_trusted(address, trusted_proxies):
        headers = headers if headers is not None else Headers(scope=scope)
        hops = [hop for value in headers.getlist("x-forwarded-for") for hop in value.split(",")]
        for hop in reversed(hops):
            forwarded = parse_address(hop)
            if forwarded is None:
                break  # garbage can only come from the client side of the chain
            address = forwarded
            if not is_trusted(forwarded, trusted_proxies):
                break
    return bucket_of(address)


@lru_cache(maxsize=4096)  # the same few peers and proxies, request after request
def parse_address(text: str) -> IPv4Address | IPv6Address | None:
    """An address as proxies write it: bare, `1.2.3.4:port` or `[v6]:port`."""
    candidate = text.strip()
    if candidate.startswith("["):
        candidate = candidate[1 : candidate.find("]")]
    elif candidate.count(":") == 1:
        candidate = candidate.split(":", 1)[0]
    try:
        return ip_address(candidate)
    except ValueError:
        return None


def is_trusted(address: IPv4Address | IPv6Address, trusted_proxies: TrustedProxies) -> bool:
    return any(address in network for network in trusted_proxies)


@lru_cache(maxsize=4096)
def bucket_of(address: IPv4Address | IPv6Address) -> str:
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)
