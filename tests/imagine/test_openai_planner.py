"""The OpenAI-compatible chat planner against a local fake server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exoactor.imagine.errors import HostedAPIError, MalformedResponse, MissingSecret, NotLoopback, PlanError
from exoactor.imagine.http import RetryPolicy
from exoactor.imagine.plan.openai_chat import PLAN_SCHEMA, OpenAIChatPlanner, OpenAIPlannerConfig

from .fakes import FakeServer

FAST = RetryPolicy(timeout_s=5.0, max_retries=2, backoff_s=0.0, max_backoff_s=0.01)


def _planner(fake: FakeServer, **kw) -> OpenAIChatPlanner:  # noqa: ANN003
    return OpenAIChatPlanner(OpenAIPlannerConfig(base_url=f"{fake.url}/v1", model="test-model",
                                                 retry=FAST, **kw))


def test_plan_from_schema_constrained_answer(fake: FakeServer, keys: None, scene_png: Path) -> None:
    plan = _planner(fake).plan("walk to the chair and sit down", scene_png)
    assert [a.verb for a in plan.actions] == ["walk_to", "sit"]
    assert plan.planner == "openai" and plan.prompt.startswith("Shot: Static third-person shot.")
    assert "camera is fixed" in plan.prompt
    method, path, headers, body = fake.state.requests[-1]
    req = json.loads(body)
    assert (method, path) == ("POST", "/v1/chat/completions")
    assert req["model"] == "test-model"
    assert req["response_format"]["json_schema"]["schema"] == PLAN_SCHEMA
    assert req["response_format"]["json_schema"]["strict"] is True
    assert req["messages"][1]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_retries_429_with_retry_after_and_5xx(fake: FakeServer, keys: None) -> None:
    fake.state.inject["chat"].extend([(429, {"Retry-After": "0"}, b'{"error": {"message": "slow down"}}'),
                                      (503, {}, b"upstream unavailable")])
    plan = _planner(fake).plan("sit on the sofa")
    assert plan.actions and fake.state.count("POST", "/v1/chat") == 3


def test_gives_up_after_retries(fake: FakeServer, keys: None) -> None:
    fake.state.inject["chat"].extend([(500, {}, b"boom")] * 3)
    with pytest.raises(HostedAPIError, match="after 3 attempt"):
        _planner(fake).plan("sit on the sofa")


def test_client_error_is_not_retried(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "wrong")
    with pytest.raises(HostedAPIError, match="HTTP 401: Incorrect API key") as err:
        _planner(fake).plan("sit on the sofa")
    assert "wrong" not in str(err.value)
    assert fake.state.count("POST", "/v1/chat") == 1


@pytest.mark.parametrize("content", ["not json at all", json.dumps({"actions": []}),
                                     json.dumps({"actions": [{"verb": "x"}], "sections": {}})])
def test_malformed_content(fake: FakeServer, keys: None, content: str) -> None:
    fake.state.chat_content = content
    with pytest.raises(MalformedResponse, match="does not follow the plan schema|no actions"):
        _planner(fake).plan("sit on the sofa")
    assert fake.state.count("POST", "/v1/chat") == 2  # one retry for an invalid answer


def test_body_that_is_not_json(fake: FakeServer, keys: None) -> None:
    fake.state.inject["chat"].append((200, {}, b"<html>gateway</html>"))
    fake.state.inject["chat"].append((200, {}, b'{"unexpected": true}'))
    with pytest.raises(MalformedResponse, match="not JSON"):
        _planner(fake, invalid_retries=0).plan("sit on the sofa")
    with pytest.raises(MalformedResponse, match="choices"):
        _planner(fake, invalid_retries=0).plan("sit on the sofa")


def test_refusal(fake: FakeServer, keys: None) -> None:
    body = {"choices": [{"message": {"role": "assistant", "content": None,
                                     "refusal": "I can't help with that."}}]}
    fake.state.inject["chat"].append((200, {}, json.dumps(body).encode()))
    with pytest.raises(PlanError, match="refused"):
        _planner(fake).plan("sit on the sofa")


def test_timeout(keys: None) -> None:
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    stop = threading.Event()
    port = srv.getsockname()[1]
    policy = RetryPolicy(timeout_s=0.2, max_retries=1, backoff_s=0.0)
    planner = OpenAIChatPlanner(OpenAIPlannerConfig(base_url=f"http://127.0.0.1:{port}/v1",
                                                    retry=policy))
    try:
        with pytest.raises(HostedAPIError, match="failed after 2 attempt"):
            planner.plan("sit on the sofa")  # the server accepts and never answers
    finally:
        stop.set()
        srv.close()


def test_refuses_a_real_provider_under_test(keys: None) -> None:
    with pytest.raises(NotLoopback, match="not a loopback address"):
        OpenAIChatPlanner(OpenAIPlannerConfig()).plan("sit on the sofa")


def test_missing_key_names_the_variable(fake: FakeServer) -> None:
    with pytest.raises(MissingSecret, match="OPENAI_API_KEY"):
        _planner(fake).plan("sit on the sofa")


def test_key_from_secrets_file(fake: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('OPENAI_API_KEY = "test-api-key"\n')
    monkeypatch.setenv("EXOACTOR_SECRETS", str(secrets))
    assert _planner(fake).plan("sit on the sofa").actions
