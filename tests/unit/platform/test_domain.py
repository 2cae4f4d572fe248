"""The platform's pure decisions: password rules, sign-in backoff, tenant ids, agent configs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from platform_.domain import AgentConfig, LoginPolicy, login_wait_s, tenant_id_for, weak_password
from stratus.storage import validate_tenant_id

POLICY = LoginPolicy(backoff_after=3, backoff_base_s=1.0, lockout_after=6, lockout_s=900)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short", "min_length"),
        ("x" * 257, "max_length"),
        ("abababababababab", "distinct_characters"),
        ("ada.lovelace-2026!", "contains_email"),
    ],
)
def test_a_weak_password_names_the_rule_it_breaks(password: str, rule: str) -> None:
    found = weak_password(password, "Ada.Lovelace@example.com", min_length=12)

    assert found is not None
    assert found.rule == rule


def test_a_long_varied_passphrase_is_accepted() -> None:
    assert weak_password("correct horse battery staple", "ada@example.com", min_length=12) is None


def test_the_first_failures_cost_no_wait() -> None:
    assert [login_wait_s(n, last_failure_at=100.0, now=100.0, policy=POLICY) for n in range(3)] == [0, 0, 0]


def test_each_failure_past_the_free_ones_doubles_the_wait() -> None:
    waits = [login_wait_s(n, last_failure_at=100.0, now=100.0, policy=POLICY) for n in (3, 4, 5)]

    assert waits == [1, 2, 4]


def test_enough_failures_lock_the_email_for_the_lockout_period() -> None:
    assert login_wait_s(6, last_failure_at=100.0, now=100.0, policy=POLICY) == 900
    assert login_wait_s(6, last_failure_at=100.0, now=999.0, policy=POLICY) == 1
    assert login_wait_s(6, last_failure_at=100.0, now=1000.0, policy=POLICY) == 0


@given(st.text(min_size=0, max_size=200))
def test_a_tenant_id_made_from_any_name_is_a_valid_tenant_id(name: str) -> None:
    assert validate_tenant_id(tenant_id_for(name))


def test_two_tenants_with_the_same_name_get_different_ids() -> None:
    assert tenant_id_for("Acme Corp") != tenant_id_for("Acme Corp")
    assert tenant_id_for("Acme Corp").startswith("acme-corp-")


def test_an_agent_may_name_only_registered_tools() -> None:
    with pytest.raises(ValidationError, match="registered tools: none yet"):
        AgentConfig(name="helper", tools=("web_fetch",))


@pytest.mark.parametrize("model", ["no-such-model", "amazon.titan-embed-text-v2:0"])
def test_an_agent_model_must_be_a_priced_chat_model(model: str) -> None:
    with pytest.raises(ValidationError, match="unknown chat model"):
        AgentConfig(name="helper", model=model)


@pytest.mark.parametrize("model", ["anthropic.claude-3-5-haiku-20241022-v1:0", "us.amazon.nova-lite-v1:0", None])
def test_a_priced_chat_model_or_the_deployment_default_is_accepted(model: str | None) -> None:
    assert AgentConfig(name="helper", model=model).model == model


def test_a_run_timeout_beyond_what_api_gateway_waits_is_refused() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 25"):
        AgentConfig.model_validate({"name": "helper", "limits": {"timeout_s": 60}})
