"""API fixtures: personal tokens for the world's users and a client that sends them."""

from __future__ import annotations

import pytest

from market.auth.services import create_api_token


@pytest.fixture
def token_for(world):
    """``token_for("manager")`` -> a new token secret of that world user."""

    def make(username: str) -> str:
        _token, secret = create_api_token(world.users[username], f"test {username}")
        return secret

    return make


class Api:
    """``api.get("/markets", as_="manager")``: a request to /api/v1 with that user's token."""

    def __init__(self, client, token_for) -> None:
        self.client = client
        self.token_for = token_for
        self.secrets: dict[str, str] = {}

    def headers(self, as_: str | None) -> dict[str, str]:
        if as_ is None:
            return {}
        if as_ not in self.secrets:
            self.secrets[as_] = self.token_for(as_)
        return {"Authorization": f"Bearer {self.secrets[as_]}"}

    def open(self, method: str, path: str, as_: str | None = "admin", **kwargs):
        url = path if path.startswith("/api/") else "/api/v1" + path
        return self.client.open(url, method=method, headers=self.headers(as_), **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.open("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs):
        return self.open("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.open("DELETE", path, **kwargs)


@pytest.fixture
def api(client, token_for) -> Api:
    return Api(client, token_for)
