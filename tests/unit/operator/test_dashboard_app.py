"""The dashboard's rules over a real journal, in process (the browser test drives the same app in Chromium):
reading needs nothing; deciding needs the token, the CSRF token and this host as Origin."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from agent.errors import ConfigError
from agent.journal.store import JournalStore
from agent.operator.approvals import ApprovalPolicy, gate_plan
from agent.operator.dashboard import Auth, build_app
from tests.unit.operator.conftest import NOW, make_plan

TOKEN = "unit-test-token-abcdefghijkl"
HOST = "http://127.0.0.1"


@pytest.fixture
def pending(journal: JournalStore) -> str:
    g = gate_plan(ApprovalPolicy(mode="manual", ttl_s=10**9), journal, make_plan(), plan_id="c1-x", cycle_id=None,
                  now=NOW)
    return str(g.approval_id)


@pytest.fixture
def client(journal: JournalStore) -> TestClient:
    return TestClient(build_app(journal, token=TOKEN), base_url=HOST, follow_redirects=False)


def sign_in(client: TestClient) -> None:
    r = client.post("/login", data={"token": TOKEN, "next": "/approvals"}, headers={"origin": HOST})
    assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()


def test_pages_render_without_the_token(client: TestClient, pending: str) -> None:
    for path in ("/", "/drift", "/approvals", "/trades", "/execution", "/journal", "/login"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["x-frame-options"] == "DENY"
    assert pending in client.get("/approvals").text
    assert client.get("/static/plotly.min.js").status_code == 200


def test_approve_without_the_token_is_refused(client: TestClient, journal: JournalStore, pending: str) -> None:
    r = client.post(f"/approvals/{pending}/approve", data={"csrf": ""}, headers={"origin": HOST})
    assert r.status_code == 403
    assert journal.approval(pending)["status"] == "pending"


def test_signed_in_but_no_csrf_or_foreign_origin_is_refused(client: TestClient, journal: JournalStore,
                                                            pending: str) -> None:
    sign_in(client)
    csrf = Auth(TOKEN).csrf
    assert client.post(f"/approvals/{pending}/approve", data={}, headers={"origin": HOST}).status_code == 403
    r = client.post(f"/approvals/{pending}/approve", data={"csrf": csrf}, headers={"origin": "http://evil.test"})
    assert r.status_code == 403
    assert client.post(f"/approvals/{pending}/approve", data={"csrf": csrf}).status_code == 403  # no Origin
    assert journal.approval(pending)["status"] == "pending"
    ok = client.post(f"/approvals/{pending}/reject", data={"csrf": csrf}, headers={"origin": HOST})
    assert ok.status_code == 303
    assert journal.approval(pending)["status"] == "rejected"


def test_bearer_token_decides_and_a_wrong_one_does_not(client: TestClient, journal: JournalStore,
                                                       pending: str) -> None:
    bad = client.post(f"/approvals/{pending}/approve", headers={"authorization": "Bearer nope-nope-nope-nope"})
    assert bad.status_code == 403
    r = client.post(f"/approvals/{pending}/approve", headers={"authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    again = client.post(f"/approvals/{pending}/approve", headers={"authorization": f"Bearer {TOKEN}"})
    assert again.status_code == 409  # already decided


def test_wrong_token_sign_in_and_get_actions_are_refused(client: TestClient, pending: str) -> None:
    assert client.post("/login", data={"token": "x" * 20}, headers={"origin": HOST}).status_code == 403
    assert client.get(f"/approvals/{pending}/approve").status_code == 405  # actions are POST only


def test_foreign_host_header_is_refused(journal: JournalStore) -> None:
    c = TestClient(build_app(journal, token=TOKEN), base_url="http://attacker.example")
    assert c.get("/").status_code == 400  # DNS rebinding


def test_short_token_is_a_config_error(journal: JournalStore) -> None:
    with pytest.raises(ConfigError, match="DASHBOARD_TOKEN"):
        build_app(journal, token="short")
