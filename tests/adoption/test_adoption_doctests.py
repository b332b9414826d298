"""The pure modules' examples run as tests."""

import doctest

import pytest

from market.adoption import charts, criteria, periods


@pytest.mark.parametrize("module", [periods, criteria, charts], ids=lambda m: m.__name__)
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
