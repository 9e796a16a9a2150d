"""Where a form may send a person back to: paths on this site only, read as a browser reads them."""

from __future__ import annotations

import pytest
from flask import Flask

from incidents.accounts.auth import safe_next


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        " //evil.example",
        "/\x00/evil.example",
        "evil.example",
        "",
    ],
)
def test_anything_but_a_local_path_goes_to_the_default(app: Flask, target: str) -> None:
    with app.test_request_context():
        assert safe_next(target, "/fallback") == "/fallback"
        assert safe_next(target) == "/"


@pytest.mark.parametrize(
    ("target", "kept"),
    [("/incidents/7", "/incidents/7"), ("/incidents?status=open#x", "/incidents?status=open#x"), (" /me ", "/me")],
)
def test_a_local_path_is_kept(app: Flask, target: str, kept: str) -> None:
    with app.test_request_context():
        assert safe_next(target, "/fallback") == kept
