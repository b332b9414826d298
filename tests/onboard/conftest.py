"""The API client fixtures, for the onboarding checks of the API's text."""

from tests.api.conftest import api, token_for  # noqa: F401
