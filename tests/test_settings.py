"""Settings: secrets never show, bad keys are refused with a clear message."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from kyrios.core.features import Feature
from kyrios.settings import Settings


def test_secrets_do_not_appear_in_repr_or_logs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KYRIOS_DISCORD_TOKEN", "MTIz.secret-token-value")  # read as a string, kept secret
    settings = Settings(_env_file=None)
    assert settings.discord_token is not None
    assert "secret-token-value" not in repr(settings)
    assert "secret-token-value" not in str(settings.model_dump())
    with caplog.at_level(logging.INFO):
        logging.getLogger("kyrios").info("settings: %s", settings)
    assert "secret-token-value" not in caplog.text


def test_public_key_must_be_32_bytes_of_hex() -> None:
    with pytest.raises(ValidationError, match="must be hex"):
        Settings(discord_public_key="not-hex", _env_file=None)
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(discord_public_key="abcd", _env_file=None)


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYRIOS_DEFAULT_TIMEZONE", "Europe/Berlin")
    assert Settings(_env_file=None).default_timezone == "Europe/Berlin"


def test_a_deployment_disables_slices_by_feature_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYRIOS_DISABLED_FEATURES", " modlog, avatars ,")
    settings = Settings(_env_file=None)
    assert settings.disabled_slices == {Feature.MODLOG, Feature.AVATARS}
    with pytest.raises(ValidationError, match="poker cannot be disabled"):
        Settings(disabled_features="gacha,poker", _env_file=None)
    with pytest.raises(ValidationError, match="guild_settings cannot be disabled"):
        Settings(disabled_features="guild_settings", _env_file=None)
