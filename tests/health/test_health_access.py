"""Who may use GET /healthz: everyone, including a load balancer with no session. It says
only "ok" or "unavailable", nothing about the data."""

import pytest

from tests.conftest import Auth

ROLES = ["anonymous", "admin", "manager", "helper", "merchant"]

# (endpoint, method, url, data, roles allowed)
MATRIX = [("health.healthz", "GET", "/healthz", None, set(ROLES))]


@pytest.mark.parametrize("role", ROLES)
def test_health_check_answers_every_role_the_same(app, world, role):
    client = app.test_client()
    if role != "anonymous":
        assert Auth(client).login(role).status_code == 302
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
