"""Provider hosts from an opencode config, as opencode itself would find them."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from tests.support.fake_llm import opencode_config

from oqto.sandbox.providers import provider_hosts


def write(tmp_path: Path, text: str, name: str = "opencode.jsonc") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_tests_fake_model_config(tmp_path: Path) -> None:
    config = write(tmp_path, json.dumps(opencode_config("http://127.0.0.1:4321/v1")), "o.json")
    assert provider_hosts(config) == ["127.0.0.1:4321"]


def test_jsonc_with_comments_and_trailing_commas(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """{
          // a line comment, and a URL-looking one: // http://not.a.provider/
          "provider": {
            "local": {
              "npm": "@ai-sdk/openai-compatible",
              /* a block comment */
              "options": {"baseURL": "http://LLM.internal.:8080/v1",},
            },
            "work": {"options": {"baseURL": "https://[2001:db8::1]/api"}},
          },
        }""",
    )
    assert provider_hosts(config) == ["llm.internal:8080", "[2001:db8::1]:443"]


def test_providers_without_a_base_url_get_their_public_api_host(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        json.dumps(
            {
                "provider": {
                    "anthropic": {"options": {"apiKey": "{env:ANTHROPIC_API_KEY}"}},
                    "mine": {"npm": "@ai-sdk/openai"},  # any id with a known package
                },
                "model": "openrouter/some/model",
                "small_model": "anthropic/claude-haiku",
                "agent": {"plan": {"model": "google/gemini-pro"}},
            }
        ),
    )
    assert provider_hosts(config) == [
        "api.anthropic.com:443",
        "api.openai.com:443",
        "openrouter.ai:443",
        "generativelanguage.googleapis.com:443",
    ]


def test_enabled_and_disabled_providers_filter(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        json.dumps(
            {
                "provider": {"openai": {}, "groq": {}, "xai": {}},
                "enabled_providers": ["openai", "groq"],
                "disabled_providers": ["groq"],
            }
        ),
    )
    assert provider_hosts(config) == ["api.openai.com:443"]


def test_per_model_api_urls_count(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        json.dumps(
            {
                "provider": {
                    "corp": {
                        "api": "https://gw.corp.example/v1",
                        "models": {"m": {"provider": {"api": "http://10.0.0.5:9000"}}},
                    }
                }
            }
        ),
    )
    assert provider_hosts(config) == ["gw.corp.example:443", "10.0.0.5:9000"]


def test_what_cannot_be_used_is_logged_and_the_rest_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write(
        tmp_path,
        json.dumps(
            {
                "provider": {
                    "env": {"options": {"baseURL": "{env:MY_BASE_URL}"}},
                    "ftp": {"options": {"baseURL": "ftp://files.example/"}},
                    "unknown-provider": {},
                    "ok": {"options": {"baseURL": "https://ok.example/v1"}},
                }
            }
        ),
    )
    with caplog.at_level(logging.INFO, logger="oqto.sandbox.providers"):
        assert provider_hosts(config) == ["ok.example:443"]
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("provider base URL skipped") == 2
    assert "no API host known for provider" in messages


@pytest.mark.parametrize("text", ["{ not json", "[1, 2]", "x" * (1024 * 1024 + 1)])
def test_an_unreadable_config_is_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="oqto.sandbox.providers"):
        assert provider_hosts(write(tmp_path, text)) == []
    assert [r.getMessage() for r in caplog.records] == ["opencode config unreadable"]


def test_no_config_or_a_missing_one(tmp_path: Path) -> None:
    assert provider_hosts(None) == []
    assert provider_hosts(tmp_path / "absent.json") == []
