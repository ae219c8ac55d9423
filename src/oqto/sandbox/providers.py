"""The model providers a session's agent talks to, as `host:port` entries for the egress
allow-list: every base URL in an opencode config, and the public API host of each provider
the config uses without one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import json5

from oqto.sandbox.egress import DEFAULT_PORTS, parse_target

log = logging.getLogger(__name__)

# opencode reads its config as JSONC (jsonc-parser with allowTrailingComma, in its
# config/parse.ts); JSON5 is a superset of that, so json5 reads every file opencode does.
MAX_CONFIG_BYTES = 1024 * 1024

# Each provider's API host when the config gives no base URL, keyed by opencode's provider
# id (models.dev's), with the npm package opencode serves it with (a provider of another id
# using that package talks to the same host). The hosts are the default `baseURL` of each
# AI SDK package (vercel/ai, packages/<name>/src/<name>-provider.ts, read at ed857f50f1,
# Aug 2026); OpenRouter's is the default of its own package, @openrouter/ai-sdk-provider;
# opencode Zen's is its `api` on models.dev (served by the generic openai-compatible
# package, so no package maps to it).
DEFAULT_HOSTS: dict[str, tuple[str | None, str]] = {
    "anthropic": ("@ai-sdk/anthropic", "api.anthropic.com:443"),
    "openai": ("@ai-sdk/openai", "api.openai.com:443"),
    "google": ("@ai-sdk/google", "generativelanguage.googleapis.com:443"),
    "openrouter": ("@openrouter/ai-sdk-provider", "openrouter.ai:443"),
    "groq": ("@ai-sdk/groq", "api.groq.com:443"),
    "mistral": ("@ai-sdk/mistral", "api.mistral.ai:443"),
    "deepseek": ("@ai-sdk/deepseek", "api.deepseek.com:443"),
    "xai": ("@ai-sdk/xai", "api.x.ai:443"),
    "togetherai": ("@ai-sdk/togetherai", "api.together.xyz:443"),
    "cerebras": ("@ai-sdk/cerebras", "api.cerebras.ai:443"),
    "deepinfra": ("@ai-sdk/deepinfra", "api.deepinfra.com:443"),
    "perplexity": ("@ai-sdk/perplexity", "api.perplexity.ai:443"),
    "cohere": ("@ai-sdk/cohere", "api.cohere.com:443"),
    "opencode": (None, "opencode.ai:443"),
}
_BY_PACKAGE = {npm: host for npm, host in DEFAULT_HOSTS.values() if npm is not None}


def provider_hosts(opencode_config: Path | None) -> list[str]:
    """`host:port` of every provider the config sets up or names in a model, in the order
    they appear. A config that cannot be read gives what was found (logged, not raised)."""
    if opencode_config is None:
        return []
    try:
        config = _read(opencode_config)
    except (OSError, ValueError, RecursionError) as exc:
        log.warning(
            "opencode config unreadable", extra={"path": str(opencode_config), "error": str(exc)}
        )
        return []
    providers = _mapping(config.get("provider"))
    disabled = set(_strings(config.get("disabled_providers")))
    enabled = config.get("enabled_providers")
    hosts: dict[str, None] = {}  # ordered and without repeats
    for provider_id in dict.fromkeys([*providers, *_model_providers(config)]):
        if provider_id in disabled or (
            isinstance(enabled, list) and provider_id not in _strings(enabled)
        ):
            continue
        for host in _hosts_of(provider_id, _mapping(providers.get(provider_id)), opencode_config):
            hosts[host] = None
    return list(hosts)


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        data = file.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(f"larger than {MAX_CONFIG_BYTES} bytes")
    config = json5.loads(data.decode())
    if not isinstance(config, dict):
        raise ValueError("not an object")
    return config


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _model_providers(config: dict[str, Any]) -> Iterator[str]:
    """Providers named by a `provider/model` reference: the default and small model, and
    each agent's (and legacy mode's) own."""
    refs = [config.get("model"), config.get("small_model")]
    for section in ("agent", "mode"):
        refs += [_mapping(agent).get("model") for agent in _mapping(config.get(section)).values()]
    for ref in refs:
        if isinstance(ref, str) and "/" in ref:
            yield ref.split("/", 1)[0]


def _hosts_of(provider_id: str, entry: dict[str, Any], source: Path) -> list[str]:
    urls = [_mapping(entry.get("options")).get("baseURL"), entry.get("api")]
    urls += [
        _mapping(_mapping(m).get("provider")).get("api")
        for m in _mapping(entry.get("models")).values()
    ]
    hosts = [
        host
        for url in urls
        if isinstance(url, str) and (host := _host_of(url, provider_id, source))
    ]
    if hosts:
        return hosts
    npm = entry.get("npm")
    default = _BY_PACKAGE.get(npm) if isinstance(npm, str) else None
    default = default or DEFAULT_HOSTS.get(provider_id, (None, None))[1]
    if default is None:
        log.info(
            "no API host known for provider", extra={"provider": provider_id, "path": str(source)}
        )
        return []
    return [default]


def _host_of(url: str, provider_id: str, source: Path) -> str | None:
    parts = urlsplit(url.strip())
    try:
        if "{" in url:
            # `{env:VAR}`/`{file:...}` are opencode's, resolved in its own environment.
            raise ValueError("it uses a substitution, resolved only by opencode")
        if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
            raise ValueError("not an http(s) URL")
        return str(parse_target(parts.netloc.rpartition("@")[2], DEFAULT_PORTS[parts.scheme]))
    except ValueError as exc:
        log.warning(
            "provider base URL skipped",
            extra={"provider": provider_id, "url": url, "reason": str(exc), "path": str(source)},
        )
        return None
