"""Every route the app serves has rows in some access matrix (``MATRIX`` in a
``tests/**/test_*_access.py`` module): role × route × own/other market."""

import importlib
from pathlib import Path

# Routes that are the same for everyone, by design.
NOT_ROLE_BASED = {"static"}


def access_matrices() -> dict[str, list]:
    found = {}
    root = Path(__file__).parent
    for path in sorted(root.rglob("test_*_access.py")):
        module_name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        module = importlib.import_module(module_name)
        found[module_name] = module.MATRIX
    return found


def test_every_route_is_in_an_access_matrix(app):
    covered = {row[0] for rows in access_matrices().values() for row in rows}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - NOT_ROLE_BASED
    assert endpoints - covered == set(), "routes without an access test"
