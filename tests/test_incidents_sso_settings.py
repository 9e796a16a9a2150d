"""Single sign-on's configuration: read from KINTSUGI_OIDC_*, checked at start-up with a clear error."""

from __future__ import annotations

from typing import Any

import pytest

from app import create_app
from incidents.accounts.sso import read_settings
from incidents.models import Role


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"OIDC_ISSUER": "https://id.example"}, "KINTSUGI_OIDC_CLIENT_ID and KINTSUGI_OIDC_CLIENT_SECRET are not set"),
        ({"OIDC_ISSUER": "https://id.example", "OIDC_CLIENT_ID": "a"}, "KINTSUGI_OIDC_CLIENT_SECRET is not set"),
        (
            {"OIDC_ISSUER": "id.example", "OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "b"},
            "must be the provider's https URL",
        ),
        ({"OIDC_ISSUER": "http://id.example", "OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "b"}, "must use https"),
        (
            {
                "OIDC_ISSUER": "https://id.example",
                "OIDC_CLIENT_ID": "a",
                "OIDC_CLIENT_SECRET": "b",
                "OIDC_DEFAULT_ROLE": "admin",
            },
            "KINTSUGI_OIDC_DEFAULT_ROLE must be one of viewer, responder",
        ),
        (
            {
                "OIDC_ISSUER": "https://id.example",
                "OIDC_CLIENT_ID": "a",
                "OIDC_CLIENT_SECRET": "b",
                "OIDC_LOCAL_LOGIN": "none",
            },
            "KINTSUGI_OIDC_LOCAL_LOGIN must be one of admins, all",
        ),
        (
            {
                "OIDC_ISSUER": "https://id.example",
                "OIDC_CLIENT_ID": "a",
                "OIDC_CLIENT_SECRET": "b",
                "OIDC_SCOPES": "email",
            },
            "must include 'openid'",
        ),
    ],
)
def test_an_unusable_configuration_stops_start_up_with_a_clear_error(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        read_settings(config)


def test_start_up_refuses_an_issuer_without_a_client(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="KINTSUGI_OIDC_CLIENT_ID"):
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
                "OIDC_ISSUER": "https://id.example",
            }
        )


def test_settings_read_from_the_environment_shape() -> None:
    # from_prefixed_env turns KINTSUGI_OIDC_CLIENT_ID=12345 into the int 12345.
    settings = read_settings(
        {
            "OIDC_ISSUER": "https://id.example/",
            "OIDC_CLIENT_ID": 12345,
            "OIDC_CLIENT_SECRET": "b",
            "OIDC_ALLOWED_DOMAINS": " Acme.example ,,",
            "OIDC_SCOPES": "openid,email",
        }
    )
    assert settings is not None
    assert (settings.client_id, settings.allowed_domains, settings.scopes) == (
        "12345",
        frozenset({"acme.example"}),
        "openid email",
    )
    assert settings.discovery_url == "https://id.example/.well-known/openid-configuration"
    assert (settings.default_role, settings.local_login) == (Role.RESPONDER, "admins")
    assert read_settings({"OIDC_ISSUER": ""}) is None
