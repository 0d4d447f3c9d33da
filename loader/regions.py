"""Genesys Cloud regions: API and login hosts by domain or SDK-style name, and URL overrides."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from loader.errors import ConfigError

# SDK enum name -> region domain (SDK 269 `PureCloudRegionHosts`; see shared/genesys-api.md §1).
REGIONS: dict[str, str] = {
    "us_east_1": "mypurecloud.com",
    "us_east_2": "use2.us-gov-pure.cloud",
    "us_west_2": "usw2.pure.cloud",
    "ca_central_1": "cac1.pure.cloud",
    "sa_east_1": "sae1.pure.cloud",
    "mx_central_1": "mxc1.pure.cloud",
    "eu_central_1": "mypurecloud.de",
    "eu_west_1": "mypurecloud.ie",
    "eu_west_2": "euw2.pure.cloud",
    "eu_central_2": "euc2.pure.cloud",
    "me_central_1": "mec1.pure.cloud",
    "ap_south_1": "aps1.pure.cloud",
    "ap_northeast_1": "mypurecloud.jp",
    "ap_northeast_2": "apne2.pure.cloud",
    "ap_northeast_3": "apne3.pure.cloud",
    "ap_southeast_1": "apse1.pure.cloud",
    "ap_southeast_2": "mypurecloud.com.au",
    "eusc_de_east_1": "edee1.eusc-pure.cloud",
}
DEFAULT_REGION = "mypurecloud.com"


@dataclass(frozen=True)
class Endpoints:
    """Where to get tokens and where the API lives (no trailing slash)."""

    api_base_url: str
    login_base_url: str

    @property
    def token_url(self) -> str:
        return f"{self.login_base_url}/oauth/token"


def region_domain(region: str | None) -> str:
    """Domain for a region given as domain (mypurecloud.ie), SDK name (eu_west_1) or host (api.…)."""
    value = (region or DEFAULT_REGION).strip().lower()
    for prefix in ("https://", "api.", "login."):
        value = value.removeprefix(prefix)
    value = value.rstrip("/")
    if value in REGIONS:
        return REGIONS[value]
    if value.replace("-", "_") in REGIONS:
        return REGIONS[value.replace("-", "_")]
    if value in REGIONS.values():
        return value
    valid = ", ".join(f"{domain} ({name})" for name, domain in REGIONS.items())
    raise ConfigError(f"region '{region}' is unknown; use one of: {valid}")


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback IP literals (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(key: str, url: str) -> str:
    """Accept https:// anywhere and http:// only on loopback; return the URL without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname:
        return url.strip().rstrip("/")
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return url.strip().rstrip("/")
    if parts.scheme == "http":
        raise ConfigError(
            f"{key} '{url}' is insecure: http:// is allowed only for loopback hosts "
            "(127.0.0.1, ::1, localhost); use https://"
        )
    raise ConfigError(f"{key} '{url}' is not a URL; use https://host[:port]")


def resolve_endpoints(
    region: str | None, api_base_url: str | None = None, login_base_url: str | None = None
) -> Endpoints:
    """API and login base URLs from the region, each overridable (proxies, tests, the simulator)."""
    domain = region_domain(region)
    api = check_base_url("api_base_url", api_base_url) if api_base_url else f"https://api.{domain}"
    login = check_base_url("login_base_url", login_base_url) if login_base_url else f"https://login.{domain}"
    return Endpoints(api_base_url=api, login_base_url=login)
