from __future__ import annotations

import pytest
from pydantic import ValidationError

from stratus.config import Settings

from ..fresh_imports import loaded_after


def test_settings_read_the_environment_case_insensitively(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the variables a Lambda container gets from template.yaml
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("IDENTITY_TABLE", "stratus-identity")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "docqa")
    monkeypatch.setenv("MAX_BODY_BYTES", "1024")
    # When settings are built
    settings = Settings()
    # Then each mixin picked up its part
    assert settings.aws_region == "eu-west-1"
    assert settings.identity_table == "stratus-identity"
    assert settings.service_name == "docqa"
    assert settings.max_body_bytes == 1024


def test_region_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ValidationError, match="AWS_REGION must be set"):
        Settings()


def test_default_region_variable_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert Settings().aws_region == "ap-south-1"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_BODY_BYTES", "0"),
        ("AWS_MAX_ATTEMPTS", "50"),
        ("POWERTOOLS_LOG_LEVEL", "LOUD"),
        ("STAGE", "staging"),
        ("REALTIME_PUBLISHER", "carrier-pigeon"),
    ],
)
def test_invalid_values_fail_at_cold_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_prod_refuses_a_plain_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("JWT_SECRET", "s3cret")
    with pytest.raises(ValidationError, match="Secrets Manager"):
        Settings()
    monkeypatch.setenv("JWT_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:jwt")
    assert Settings().jwt_secret_arn is not None


def test_settings_are_immutable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.aws_region = "elsewhere"  # type: ignore[misc]


def test_lists_arrive_as_json_and_keyword_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("CORS_ORIGINS", '["https://app.example", "https://admin.example"]')
    monkeypatch.setenv("JWT_ISSUER", "from-env")

    # When
    settings = Settings(jwt_issuer="from-code")

    # Then
    assert settings.cors_origins == ["https://app.example", "https://admin.example"]
    assert settings.jwt_issuer == "from-code"


def test_a_list_that_is_not_json_fails_at_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example")

    with pytest.raises(ValidationError, match="cors_origins"):
        Settings()


def test_an_alias_is_read_in_any_case_and_the_first_choice_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("aws_region", "eu-central-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    monkeypatch.setenv("Powertools_Service_Name", "docqa")

    settings = Settings()

    assert settings.aws_region == "eu-central-1" and settings.service_name == "docqa"


def test_importing_the_settings_loads_no_pydantic_settings_or_dotenv() -> None:
    # Cold start: the settings read os.environ themselves
    assert loaded_after("import stratus.config", ["pydantic_settings", "dotenv"]) == []
