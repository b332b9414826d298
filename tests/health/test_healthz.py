"""GET /healthz: 200 with a database round trip, 503 (never a 500 or a trace) without one."""

from market.app import create_app
from tests.liveserver import free_port


def test_healthz_is_ok_and_never_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_when_the_database_does_not_answer():
    # Nothing listens on this port: the connection is refused at once.
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/market"
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}
    assert "Traceback" not in response.get_data(as_text=True)


def test_healthz_is_not_rate_limited(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    assert all(client.get("/healthz").status_code == 200 for _ in range(30))
