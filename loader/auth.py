"""OAuth client-credentials for Genesys Cloud: HTTP Basic + form body, in-memory token, early renewal."""

from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any

from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
from requests import PreparedRequest, RequestException

from loader import scrub
from loader.errors import AuthError

logger = logging.getLogger(__name__)

MAX_MARGIN_S = 60.0
MARGIN_SHARE = 0.1  # a 300 s token is renewed 30 s early, a 24 h one 60 s early


def renewal_margin_s(expires_in: float) -> float:
    """Seconds before expiry at which the token is renewed: 60 s, or 10% of very short lifetimes."""
    return min(MAX_MARGIN_S, max(0.0, expires_in) * MARGIN_SHARE)


class GenesysClientCredentials(OAuth2ClientCredentials):
    """dlt's client-credentials auth, adapted to Genesys: the pair goes in an HTTP Basic header, the body is
    only `grant_type=client_credentials`, and the token lives in memory until a proportional margin before
    `expires_in`. The token and secret never appear in repr, logs or errors."""

    def __post_init__(self) -> None:
        super().__post_init__()
        # From here on, no message or log line can show the secret or the Basic credentials.
        scrub.register_client(self.client_id, self.client_secret)
        self._expires_at = 0.0  # time.monotonic() deadline including the margin
        self.tokens_obtained = 0
        self._token_lock = threading.RLock()

    def __repr__(self) -> str:
        return f"GenesysClientCredentials(token_url={self.access_token_url!r})"

    __str__ = __repr__

    def build_access_token_request(self) -> dict[str, Any]:
        pair = f"{self.client_id}:{self.client_secret}".encode()
        return {
            "headers": {
                "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            "data": {"grant_type": "client_credentials", **self.access_token_request_data},
        }

    def is_token_expired(self) -> bool:
        return time.monotonic() >= self._expires_at

    def invalidate(self) -> None:
        """Forget the token (after a 401) so the next request asks for a new one."""
        self.access_token = None
        self._expires_at = 0.0

    def obtain_token(self) -> None:
        try:
            response = self.session.post(self.access_token_url, **self.build_access_token_request())
        except RequestException as exc:
            raise AuthError(
                f"could not reach the Genesys login service at {self.access_token_url} "
                f"({type(exc).__name__}); check login_base_url/region and the network"
            ) from None
        if response.status_code in (400, 401, 403):
            raise AuthError(
                f"Genesys rejected the OAuth client credentials at {self.access_token_url} "
                f"(HTTP {response.status_code} {_oauth_error(response)}); check client_id/client_secret "
                "and that the client uses the client-credentials grant in this region"
            )
        if response.status_code >= 400:
            raise AuthError(
                f"the Genesys login service at {self.access_token_url} answered HTTP {response.status_code} "
                "after retries; try again later"
            )
        try:
            payload = response.json()
            token = payload["access_token"]
            expires_in = float(payload.get("expires_in") or self.default_token_expiration)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise AuthError(
                f"the token reply from {self.access_token_url} has no access_token and expires_in; "
                "check login_base_url"
            ) from None
        if not isinstance(token, str) or not token.strip() or not expires_in > 0:
            raise AuthError(
                f"the token reply from {self.access_token_url} has an empty access_token or a non-positive "
                "expires_in; check login_base_url"
            )
        scrub.register(str(token))  # before anything else can see it
        self.access_token = str(token)
        self._expires_at = time.monotonic() + expires_in - renewal_margin_s(expires_in)
        self.tokens_obtained += 1
        logger.debug("obtained a new access token valid for %.0f s", expires_in)

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        with self._token_lock:  # the loader's worker threads share one token: only one renews it
            if self.access_token is None or self.is_token_expired():
                self.obtain_token()
            request.headers["Authorization"] = f"Bearer {self.access_token}"
        return request


def _oauth_error(response: Any) -> str:
    """OAuth `error`/`error_description` of a token reply, without echoing anything else."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get(k)) for k in ("error", "error_description", "message") if body.get(k)]
    # Scrubbed before it is cut short, so no partial secret survives the cut.
    return scrub.scrub(": ".join(parts))[:200]
