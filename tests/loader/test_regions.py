"""All 18 regions by domain or SDK name; overrides must be https or loopback http."""

import pytest

from loader.errors import ConfigError
from loader.regions import REGIONS, resolve_endpoints


def test_eighteen_regions():
    assert len(REGIONS) == 18 and len(set(REGIONS.values())) == 18


@pytest.mark.parametrize(("name", "domain"), sorted(REGIONS.items()))
def test_region_by_name_and_domain(name, domain):
    by_name = resolve_endpoints(name)
    assert by_name == resolve_endpoints(domain)
    assert by_name.api_base_url == f"https://api.{domain}"
    assert by_name.token_url == f"https://login.{domain}/oauth/token"


def test_examples_from_the_reference():
    assert resolve_endpoints("eu_west_1").api_base_url == "https://api.mypurecloud.ie"
    assert resolve_endpoints("mypurecloud.ie").login_base_url == "https://login.mypurecloud.ie"
    assert resolve_endpoints(None).api_base_url == "https://api.mypurecloud.com"


def test_unknown_region_lists_the_valid_ones():
    with pytest.raises(ConfigError) as err:
        resolve_endpoints("mypurecloud.fr")
    message = str(err.value)
    assert "region 'mypurecloud.fr' is unknown" in message
    assert all(domain in message for domain in REGIONS.values())


@pytest.mark.parametrize(
    "url",
    [
        "https://proxy.example.com",
        "https://proxy.example.com:8443/",
        "http://127.0.0.1:8080",
        "http://[::1]:9",
        "http://localhost:1234",
        "http://127.5.0.1",
    ],
)
def test_allowed_overrides(url):
    endpoints = resolve_endpoints("eu_west_1", api_base_url=url, login_base_url=url)
    assert endpoints.api_base_url == url.rstrip("/")
    assert endpoints.token_url == url.rstrip("/") + "/oauth/token"


@pytest.mark.parametrize(
    "url", ["http://example.com", "http://10.0.0.1:80", "http://127.0.0.1.nip.io", "ftp://x"]
)
def test_insecure_or_bad_overrides_are_refused(url):
    with pytest.raises(ConfigError, match="api_base_url"):
        resolve_endpoints(None, api_base_url=url)
