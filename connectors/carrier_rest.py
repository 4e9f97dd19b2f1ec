"""REST carrier tracking: one generic connector for every carrier whose profile says protocol "rest".

The carrier's profile (waybill.connectors.carrier_profile) gives the base URL, the batch size, the
rate limit and the authentication; the carrier's mapping module gives, through the flow, the pure
builder of one request (a Call) and reads the replies. Every request goes through the shared HTTP
policy (HttpClient: timeouts, bounded retries with backoff, Retry-After on 429).

Authentication:
- oauth2: client credentials (Connection login = client id, password = client secret), sent as
  HTTP Basic or in the form body as the profile says; the token is cached in the process until
  shortly before it expires, and a 401 on a call refreshes it once and repeats the call once;
- api_key: the Connection's password in the profile's header (DHL-API-Key).

A rate-limit pool per carrier (a token bucket shared by every tracker of that carrier in the
process) spaces the calls at the carrier's rate. A number the carrier does not know (404, or a 400
on a single number) becomes a faulted Exchange of that number alone; a 400 on a batch is split in
halves until the faulting numbers stand alone, as for SOAP. A server error page (500/501) is a
faulted Exchange of the whole request (`bad_reply`); a 200 whose body is not the carrier's JSON is
left to the mapping, and the flow dead-letters that request either way.

The mappings build the requests and read the replies with karrio (waybill.mappings.karrio_tracking);
karrio's own transport is not used: it is urllib through karrio.lib.request, outside our requests
session; its proxies pass no timeout, it retries only on 5xx with fixed doubling, does not retry 429
nor read Retry-After, and has no bound on total time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from waybill.connectors.carrier import CarrierFault, Exchange
from waybill.connectors.carrier_profile import Profile
from waybill.connectors.connection import ConnectionInfo, get_connection
from waybill.connectors.http import HttpClient, HttpPolicy, PermanentHTTPError, client_for
from waybill.core.errors import ConfigError
from waybill.core.logs import event, get_logger

log = get_logger("carrier_rest")

#: A token is renewed this many seconds before the carrier says it expires.
TOKEN_MARGIN_S = 60.0
#: Statuses that concern the numbers asked for, not the whole call.
NUMBER_STATUSES = frozenset({400, 404, 422})


@dataclass(frozen=True)
class Call:
    """One HTTP request of a carrier's tracking API, built by the carrier's mapping module."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def logged(self) -> bytes:
        """What is logged of the request: method, path, query and body (no credentials)."""
        return json.dumps({"method": self.method, "path": self.path, "params": self.params, "json": self.json},
                          sort_keys=True).encode()


class RateLimiter:
    """A token bucket: at most `rate` calls per second on average, bursts of up to `burst`."""

    def __init__(self, rate: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.clock, self.sleep = clock, sleep
        self._tokens = self.burst
        self._at = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for one token; returns the seconds waited."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait:
            self.sleep(wait)
        return wait


_POOLS: dict[str, RateLimiter] = {}
_POOLS_LOCK = threading.Lock()


def pool(profile: Profile) -> RateLimiter:
    """The process-wide rate-limit pool of the carrier (created at the profile's rate)."""
    with _POOLS_LOCK:
        limiter = _POOLS.get(profile.name)
        if limiter is None or limiter.rate != profile.rate_per_second:
            limiter = _POOLS[profile.name] = RateLimiter(profile.rate_per_second)
        return limiter


@dataclass
class _Token:
    value: str
    expires_at: float


class TokenSource:
    """OAuth2 client-credentials tokens of one client at one token endpoint, cached until expiry.

    The cache is shared in the process by every TokenSource of the same endpoint and client id."""

    _cache: ClassVar[dict[tuple[str, str], _Token]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, http: HttpClient, token_path: str, *, client_id: str, secret: str,
                 client_auth: str = "basic", clock: Callable[[], float] = time.monotonic) -> None:
        if not client_id or not secret:
            raise ConfigError(f"{http.system}: OAuth2 needs the client id (login) and secret (password)")
        self.http, self.token_path, self.client_id, self.secret = http, token_path, client_id, secret
        self.client_auth, self.clock = client_auth, clock
        self.key = (f"{http.base_url}{token_path}", client_id)
        self.fetched = 0  # tokens this source asked the carrier for

    def token(self) -> str:
        """A valid access token: the cached one, or a new one when it is missing or about to expire."""
        with self._lock:
            cached = self._cache.get(self.key)
            if cached is not None and self.clock() < cached.expires_at:
                return cached.value
            fresh = self._fetch()
            self._cache[self.key] = fresh
            return fresh.value

    def invalidate(self, value: str) -> None:
        """Forget `value` (the carrier refused it), unless another caller already replaced it."""
        with self._lock:
            cached = self._cache.get(self.key)
            if cached is not None and cached.value == value:
                del self._cache[self.key]

    def _fetch(self) -> _Token:
        form = {"grant_type": "client_credentials"}
        auth: tuple[str, str] | None = (self.client_id, self.secret)
        if self.client_auth == "form":
            form |= {"client_id": self.client_id, "client_secret": self.secret}
            auth = None
        try:
            resp = self.http.request("POST", self.token_path, stream="oauth-token", data=form, auth=auth)
            body = resp.json()
            value, lifetime = str(body["access_token"]), float(body.get("expires_in") or 0)
        except PermanentHTTPError as err:
            raise CarrierFault(f"{self.http.system}: token refused (HTTP {err.status})") from err
        except (ValueError, KeyError, TypeError) as err:
            raise CarrierFault(f"{self.http.system}: token reply without access_token/expires_in ({err})") from err
        self.fetched += 1
        event(log, "oauth-token", system=self.http.system, expires_in=lifetime)
        return _Token(value, self.clock() + max(0.0, lifetime - TOKEN_MARGIN_S))

    @classmethod
    def clear(cls) -> None:
        """Forget every cached token (tests; a rotated secret)."""
        with cls._lock:
            cls._cache.clear()


class RestTracker:
    """Tracks numbers with one carrier's REST API, `batch_size` numbers per call, in its pool."""

    def __init__(self, profile: Profile, build: Callable[[Sequence[str]], Call], *,
                 conn: ConnectionInfo | None = None, policy: HttpPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        conn = conn or get_connection(profile.conn_id)
        self.profile = profile
        self.carrier = profile.name
        self.system = profile.system
        self.build = build
        self.batch_size = int(conn.extra.get("batch_size", profile.batch_size))
        self.http = client_for(conn, self.system, policy=policy)
        if not conn.host:
            self.http.base_url = profile.base_url.rstrip("/")
        self.pool = pool(profile)
        self.requests = 0  # tracking calls sent (not counting retries and tokens)
        self.tokens: TokenSource | None = None
        self.api_key: dict[str, str] = {}
        if profile.auth.kind == "oauth2":
            self.tokens = TokenSource(self.http, profile.auth.token_path, client_id=conn.login or "",
                                      secret=conn.password or "", client_auth=profile.auth.client_auth, clock=clock)
        elif profile.auth.kind == "api_key":
            if not conn.password:
                raise ConfigError(f"{self.system}: the API key (Connection password) is not set")
            self.api_key = {profile.auth.header: conn.password}
        else:
            raise ConfigError(f"{self.system}: auth kind {profile.auth.kind!r} is not for a REST carrier")

    def track(self, numbers: Sequence[str]) -> Iterator[Exchange]:
        """One Exchange per successful call or per faulting number, in batches of batch_size."""
        for i in range(0, len(numbers), self.batch_size):
            yield from self._call(tuple(numbers[i:i + self.batch_size]))

    def _call(self, numbers: tuple[str, ...]) -> Iterator[Exchange]:
        call = self.build(numbers)
        try:
            body = self._send(call)
        except PermanentHTTPError as err:
            if err.status >= 500:
                # a server error page for this request (500/501 are not retried): that request is a
                # dead letter, the next batches go on; its numbers stay open for the next run
                event(log, "bad-reply", system=self.system, numbers=len(numbers), status=err.status)
                yield Exchange(numbers, call.logged(), err.body.encode(), f"HTTP {err.status}: {err.body[:300]}",
                               bad_reply=True)
                return
            if err.status not in NUMBER_STATUSES:
                raise CarrierFault(f"{self.system} {call.method} {call.path}: HTTP {err.status}: {err.body}") from err
            if len(numbers) > 1 and err.status != 404:
                half = len(numbers) // 2
                yield from self._call(numbers[:half])
                yield from self._call(numbers[half:])
                return
            yield Exchange(numbers, call.logged(), err.body.encode(), f"HTTP {err.status}: {err.body}")
            return
        yield Exchange(numbers, call.logged(), body)

    def _send(self, call: Call) -> bytes:
        """Send in the carrier's pool; a 401 with an OAuth2 token refreshes it once and resends once."""
        for attempt in (1, 2):
            self.pool.acquire()
            self.requests += 1
            token = self.tokens.token() if self.tokens else None
            auth = {"Authorization": f"Bearer {token}"} if token else self.api_key
            try:
                resp = self.http.request(call.method, call.path, stream="track", params=call.params or None,
                                         json=call.json, headers={**call.headers, **auth})
                return resp.content
            except PermanentHTTPError as err:
                if err.status != 401:
                    raise
                if self.tokens is None or token is None or attempt == 2:
                    raise CarrierFault(f"{self.system}: authentication refused (HTTP 401)") from err
                event(log, "oauth-refresh", system=self.system)
                self.tokens.invalidate(token)
        raise AssertionError("unreachable")  # pragma: no cover
