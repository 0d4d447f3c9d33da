"""OAuth token endpoint and bearer-token checks, with Genesys-style error bodies."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from simhelpers import TIMEOUT, SimClient

from simulator import Simulator

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _token_request(sim: Simulator, **kwargs) -> requests.Response:
    return requests.post(f"{sim.base_url}/oauth/token", timeout=TIMEOUT, **kwargs)


def test_token_reply_has_the_oauth_fields(sim: Simulator) -> None:
    reply = _token_request(
        sim, data="grant_type=client_credentials", headers=FORM, auth=("simulator-client", "simulator-secret")
    )

    assert reply.status_code == 200
    doc = reply.json()
    assert set(doc) == {"access_token", "token_type", "expires_in"}
    assert doc["token_type"] == "bearer" and doc["expires_in"] == 86400
    assert doc["access_token"] in sim.issued_tokens
    assert reply.headers["inin-correlation-id"]


def test_credentials_in_the_form_body_are_accepted(sim: Simulator) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "simulator-client",
        "client_secret": "simulator-secret",
    }

    reply = _token_request(sim, data=form)

    assert reply.status_code == 200
    assert reply.json()["access_token"] == sim.issued_tokens[-1]


@pytest.mark.parametrize(
    ("auth", "form"),
    [
        (("simulator-client", "wrong"), {"grant_type": "client_credentials"}),
        (("someone-else", "simulator-secret"), {"grant_type": "client_credentials"}),
        (None, {"grant_type": "client_credentials"}),
        (
            None,
            {"grant_type": "client_credentials", "client_id": "simulator-client", "client_secret": "nope"},
        ),
    ],
)
def test_wrong_or_missing_credentials_get_401_invalid_client(sim: Simulator, auth, form) -> None:
    reply = _token_request(sim, data=form, auth=auth)

    assert reply.status_code == 401
    assert reply.json()["error"] == "invalid_client"
    assert "simulator-secret" not in reply.text
    assert sim.issued_tokens == []


def test_wrong_grant_type_gets_400(sim: Simulator) -> None:
    reply = _token_request(
        sim, data={"grant_type": "password"}, auth=("simulator-client", "simulator-secret")
    )

    assert reply.status_code == 400
    assert reply.json()["error"] == "unsupported_grant_type"


def test_json_token_body_fails_loudly(sim: Simulator) -> None:
    # The body some tutorials send: OAuth 2.0 requires a form body, so this must not pass.
    reply = _token_request(
        sim,
        json={
            "grant_type": "client_credentials",
            "client_id": "simulator-client",
            "client_secret": "simulator-secret",
        },
    )

    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_request"
    assert "form" in reply.json()["error_description"]
    assert sim.issued_tokens == []


def test_missing_bearer_token_gets_401_authentication_required(sim: Simulator) -> None:
    reply = requests.get(f"{sim.base_url}/api/v2/organizations/me", timeout=TIMEOUT)

    assert reply.status_code == 401
    doc = reply.json()
    assert doc["code"] == "authentication.required" and doc["status"] == 401
    assert doc["contextId"] == reply.headers["inin-correlation-id"]


def test_unknown_token_gets_401_bad_credentials(client: SimClient) -> None:
    reply = client.get("/api/v2/organizations/me", token="not-a-token")

    assert reply.status_code == 401
    assert reply.json()["code"] == "bad.credentials"


def test_token_expires_on_the_simulator_clock(sim: Simulator, client: SimClient) -> None:
    sim.faults.token_lifetime_s = 300
    token = client.new_token()
    assert client.get("/api/v2/organizations/me", token=token).status_code == 200

    sim.clock.advance(timedelta(seconds=299))
    assert client.get("/api/v2/organizations/me", token=token).status_code == 200
    sim.clock.advance(timedelta(seconds=1))
    reply = client.get("/api/v2/organizations/me", token=token)

    assert reply.status_code == 401
    assert reply.json()["code"] == "bad.credentials"
    assert "expired" in reply.json()["message"]
    assert client.get("/api/v2/organizations/me", token=client.new_token()).status_code == 200


def test_revoke_all_tokens(sim: Simulator, client: SimClient) -> None:
    assert client.get("/api/v2/organizations/me").status_code == 200

    sim.revoke_all_tokens()

    reply = client.get("/api/v2/organizations/me")
    assert reply.status_code == 401
    assert "revoked" in reply.json()["message"]


def test_token_revoked_after_n_requests(sim: Simulator, client: SimClient) -> None:
    sim.faults.revoke_token_after_requests = 3
    token = client.new_token()

    statuses = [client.get("/api/v2/organizations/me", token=token).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 401, 401]
    assert client.get("/api/v2/organizations/me", token=client.new_token()).status_code == 200


def test_org_me(client: SimClient) -> None:
    reply = client.get("/api/v2/organizations/me")

    assert reply.status_code == 200
    assert reply.json()["id"] == "simulator"
    assert reply.json()["name"] == "Simulated Contact Center"
