"""Resolving a profile and tightening it with overlays, remembering where each rule came
from.

An overlay can only tighten: deny lists are unions, writable paths an intersection (a
path stays writable only if the overlay names it or an ancestor of it; an overlay path
beneath an admin-writable path becomes the narrower writable path), the network only
narrower, allow_hosts an intersection, each limit the lower, `required` and
`pid_namespace` only switched on. Extra read-only binds are the admin's alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Generic, TypeVar

from oqto.sandbox.policy import Limits, NetworkMode, SandboxPolicy, SandboxRefused
from oqto.sandbox.profiles import BUILTIN_PROFILES, AdminFile, LimitsFile, OverlayFile, ProfileFile

T = TypeVar("T")
K = TypeVar("K")
V_co = TypeVar("V_co", covariant=True)
ALWAYS = "always"
DEFAULT = "default"  # a key no profile in the chain sets
DEFAULT_HOSTS = "default allow_hosts"


@dataclass(frozen=True)
class Sourced(Generic[V_co]):
    value: V_co
    source: str


@dataclass(frozen=True)
class RuleSource:
    """One effective rule item and where it came from, as `oqtoctl sandbox show` lists it."""

    rule: str  # "deny_read", "network", "limits.memory_max", ...
    value: str | int | bool | None
    source: str


@dataclass(frozen=True)
class Draft:
    """A profile being resolved: every item carries its source. Paths are absolute."""

    profile: str
    deny_read: dict[Path, str] = field(default_factory=dict)
    allow_write: dict[Path, str] = field(default_factory=dict)
    deny_write: dict[Path, str] = field(default_factory=dict)
    extra_ro_bind: dict[Path, str] = field(default_factory=dict)
    # None: no profile in the chain sets it, so the default applies (with_default_hosts).
    allow_hosts: dict[str, str] | None = None
    pid_namespace: Sourced[bool] = Sourced(True, DEFAULT)
    network: Sourced[NetworkMode] = Sourced(NetworkMode.ALLOWLIST, DEFAULT)
    memory_max: Sourced[int | None] = Sourced(None, DEFAULT)
    tasks_max: Sourced[int | None] = Sourced(None, DEFAULT)
    cpu_weight: Sourced[int | None] = Sourced(None, DEFAULT)
    user_memory_max: Sourced[int | None] = Sourced(None, DEFAULT)
    required: Sourced[bool] = Sourced(False, DEFAULT)


@dataclass(frozen=True)
class Tightening:
    """What an overlay (or a profile an overlay names) asks for; None = no change."""

    deny_read: dict[Path, str]
    deny_write: dict[Path, str]
    allow_write: dict[Path, str] | None
    allow_hosts: dict[str, str] | None
    pid_namespace: Sourced[bool] | None
    network: Sourced[NetworkMode] | None
    memory_max: Sourced[int] | None
    tasks_max: Sourced[int] | None
    cpu_weight: Sourced[int] | None
    user_memory_max: Sourced[int] | None
    required: Sourced[bool] | None


def expand(path: str, home: Path) -> Path:
    """A checked policy path (`~`, `~/...` or absolute) as an absolute path."""
    if path == "~":
        return home
    return home / path[2:] if path.startswith("~/") else Path(path)


def at_or_beneath(path: Path, other: Path) -> bool:
    return path == other or other in path.parents


def _paths(paths: Iterable[str], home: Path, source: str) -> dict[Path, str]:
    return {expand(p, home): source for p in paths}


def _set(value: T | None, source: str, inherited: Sourced[T]) -> Sourced[T]:
    return inherited if value is None else Sourced(value, source)


def _union(base: dict[K, str], more: Mapping[K, str]) -> dict[K, str]:
    """`base` then what `more` adds; an item already in `base` keeps its source."""
    return base | {key: source for key, source in more.items() if key not in base}


def _extend(profile: ProfileFile, base: Draft, name: str, source: str, home: Path) -> Draft:
    limits = profile.limits
    return Draft(
        profile=name,
        deny_read=_union(base.deny_read, _paths(profile.deny_read, home, source)),
        allow_write=_union(base.allow_write, _paths(profile.allow_write, home, source)),
        deny_write=_union(base.deny_write, _paths(profile.deny_write, home, source)),
        extra_ro_bind=_union(base.extra_ro_bind, _paths(profile.extra_ro_bind, home, source)),
        allow_hosts=base.allow_hosts
        if profile.allow_hosts is None
        else _union(base.allow_hosts or {}, dict.fromkeys(profile.allow_hosts, source)),
        pid_namespace=_set(profile.pid_namespace, source, base.pid_namespace),
        network=_set(profile.network, source, base.network),
        memory_max=_set(limits.memory_max, source, base.memory_max),
        tasks_max=_set(limits.tasks_max, source, base.tasks_max),
        cpu_weight=_set(limits.cpu_weight, source, base.cpu_weight),
        user_memory_max=_set(limits.user_memory_max, source, base.user_memory_max),
        required=_set(limits.required, source, base.required),
    )


def profile_names(admin: AdminFile) -> list[str]:
    return sorted(set(BUILTIN_PROFILES) | set(admin.profiles))


def resolve_profile(
    name: str,
    admin: AdminFile,
    *,
    admin_label: str,
    home: Path,
) -> Draft:
    """The profile `name` with its `extends` chain. In the admin file, a profile named
    like a built-in replaces it, and one that extends its own name extends the built-in.
    A cycle or an unknown name is refused."""

    def lookup(wanted: str, referrer: str | None) -> tuple[ProfileFile, str]:
        if wanted in admin.profiles and wanted != referrer:
            return admin.profiles[wanted], f"{admin_label} [profiles.{wanted}]"
        if wanted in BUILTIN_PROFILES:
            return BUILTIN_PROFILES[wanted], f"built-in profile {wanted}"
        if wanted == referrer:
            raise SandboxRefused(
                f"{admin_label}: extends cycle: [profiles.{wanted}] extends itself"
            )
        where = f"[profiles.{referrer}] extends" if referrer else "profile"
        known = ", ".join(profile_names(admin))
        raise SandboxRefused(f"{admin_label}: {where}: unknown profile {wanted!r} ({known})")

    chain: list[tuple[ProfileFile, str]] = []
    names: list[str] = []
    wanted: str | None = name
    referrer: str | None = None
    while wanted is not None:
        profile, source = lookup(wanted, referrer)
        names.append(wanted)
        if any(source == seen for _, seen in chain):
            raise SandboxRefused(f"{admin_label}: extends cycle: {' -> '.join(names)}")
        chain.append((profile, source))
        wanted, referrer = profile.extends, wanted
    draft = Draft(profile=name)
    for profile, source in reversed(chain):
        draft = _extend(profile, draft, name, source, home)
    return draft


def with_default_hosts(draft: Draft, default_allow_hosts: Sequence[str]) -> Draft:
    if draft.allow_hosts is not None:
        return draft
    return replace(draft, allow_hosts=dict.fromkeys(default_allow_hosts, DEFAULT_HOSTS))


def _optional(value: T | None, source: str) -> Sourced[T] | None:
    return None if value is None else Sourced(value, source)


def overlay_tightening(overlay: OverlayFile, source: str, home: Path) -> Tightening:
    limits: LimitsFile = overlay.limits
    return Tightening(
        deny_read=_paths(overlay.deny_read, home, source),
        deny_write=_paths(overlay.deny_write, home, source),
        allow_write=None
        if overlay.allow_write is None
        else _paths(overlay.allow_write, home, source),
        allow_hosts=None
        if overlay.allow_hosts is None
        else dict.fromkeys(overlay.allow_hosts, source),
        pid_namespace=_optional(overlay.pid_namespace, source),
        network=_optional(overlay.network, source),
        memory_max=_optional(limits.memory_max, source),
        tasks_max=_optional(limits.tasks_max, source),
        cpu_weight=_optional(limits.cpu_weight, source),
        user_memory_max=_optional(limits.user_memory_max, source),
        required=_optional(limits.required, source),
    )


def profile_tightening(draft: Draft, named_in: str) -> Tightening:
    """A profile an overlay names, applied like the rest of that overlay."""

    def via(source: str) -> str:
        return f"{source} (profile named in {named_in})"

    def each(items: Mapping[T, str]) -> dict[T, str]:
        return {key: via(source) for key, source in items.items()}

    def one(item: Sourced[T | None]) -> Sourced[T] | None:
        return None if item.value is None else Sourced(item.value, via(item.source))

    return Tightening(
        deny_read=each(draft.deny_read),
        deny_write=each(draft.deny_write),
        allow_write=each(draft.allow_write),
        # A named profile without allow_hosts leaves the hosts as they are.
        allow_hosts=None if draft.allow_hosts is None else each(draft.allow_hosts),
        pid_namespace=one(draft.pid_namespace),
        network=one(draft.network),
        memory_max=one(draft.memory_max),
        tasks_max=one(draft.tasks_max),
        cpu_weight=one(draft.cpu_weight),
        user_memory_max=one(draft.user_memory_max),
        required=one(draft.required),
    )


def _narrow_writable(current: dict[Path, str], wanted: dict[Path, str]) -> dict[Path, str]:
    kept: dict[Path, str] = {}
    for path, source in current.items():
        for narrower, its_source in wanted.items():
            if at_or_beneath(path, narrower):
                kept.setdefault(path, source)
            elif at_or_beneath(narrower, path):
                kept.setdefault(narrower, its_source)
    return kept


def _lower(current: Sourced[int | None], wanted: Sourced[int] | None) -> Sourced[int | None]:
    if wanted is None or (current.value is not None and current.value <= wanted.value):
        return current
    return Sourced(wanted.value, wanted.source)


def _switch_on(current: Sourced[bool], wanted: Sourced[bool] | None) -> Sourced[bool]:
    return (
        Sourced(True, wanted.source) if wanted and wanted.value and not current.value else current
    )


def tighten(draft: Draft, wanted: Tightening) -> Draft:
    network = draft.network
    if wanted.network and wanted.network.value.narrowness > network.value.narrowness:
        network = wanted.network
    hosts = draft.allow_hosts
    if wanted.allow_hosts is not None:
        hosts = {h: s for h, s in (hosts or {}).items() if h in wanted.allow_hosts}
    writable = draft.allow_write
    if wanted.allow_write is not None:
        writable = _narrow_writable(writable, wanted.allow_write)
    return replace(
        draft,
        deny_read=_union(draft.deny_read, wanted.deny_read),
        deny_write=_union(draft.deny_write, wanted.deny_write),
        allow_write=writable,
        allow_hosts=hosts,
        network=network,
        pid_namespace=_switch_on(draft.pid_namespace, wanted.pid_namespace),
        required=_switch_on(draft.required, wanted.required),
        memory_max=_lower(draft.memory_max, wanted.memory_max),
        tasks_max=_lower(draft.tasks_max, wanted.tasks_max),
        cpu_weight=_lower(draft.cpu_weight, wanted.cpu_weight),
        user_memory_max=_lower(draft.user_memory_max, wanted.user_memory_max),
    )


def apply_overlay(
    draft: Draft,
    overlay: OverlayFile,
    *,
    source: str,
    home: Path,
    resolve: Callable[[str], Draft],
) -> Draft:
    """`resolve` turns the profile an overlay names into a Draft (refusing an unknown one)."""
    if overlay.profile is not None:
        draft = tighten(draft, profile_tightening(resolve(overlay.profile), source))
    return tighten(draft, overlay_tightening(overlay, source, home))


def add_always(
    draft: Draft, *, deny_read: Iterable[Path] = (), deny_write: Iterable[Path] = ()
) -> Draft:
    """Rules no file can remove (an item a file lists too keeps that file as its source)."""
    return replace(
        draft,
        deny_read=_union(draft.deny_read, dict.fromkeys(deny_read, ALWAYS)),
        deny_write=_union(draft.deny_write, dict.fromkeys(deny_write, ALWAYS)),
    )


def finish(draft: Draft) -> tuple[SandboxPolicy, tuple[RuleSource, ...]]:
    """The effective policy and its sources. A writable path at or beneath a denied one is
    dropped: masking or read-only binding wins there anyway."""
    denied = [*draft.deny_read, *draft.deny_write]
    writable = {
        p: s for p, s in draft.allow_write.items() if not any(at_or_beneath(p, d) for d in denied)
    }
    policy = SandboxPolicy(
        enabled=True,
        profile=draft.profile,
        deny_read=tuple(draft.deny_read),
        allow_write=tuple(writable),
        deny_write=tuple(draft.deny_write),
        extra_ro_bind=tuple(draft.extra_ro_bind),
        pid_namespace=draft.pid_namespace.value,
        network=draft.network.value,
        allow_hosts=tuple(draft.allow_hosts or ()),
        limits=Limits(
            memory_max=draft.memory_max.value,
            tasks_max=draft.tasks_max.value,
            cpu_weight=draft.cpu_weight.value,
            required=draft.required.value,
        ),
        user_memory_max=draft.user_memory_max.value,
    )
    sources: list[RuleSource] = []
    for rule, items in (
        ("deny_read", draft.deny_read),
        ("allow_write", writable),
        ("deny_write", draft.deny_write),
        ("extra_ro_bind", draft.extra_ro_bind),
    ):
        sources.extend(RuleSource(rule, str(p), s) for p, s in items.items())
    sources.append(
        RuleSource("pid_namespace", draft.pid_namespace.value, draft.pid_namespace.source)
    )
    sources.append(RuleSource("network", draft.network.value.value, draft.network.source))
    sources.extend(RuleSource("allow_hosts", h, s) for h, s in (draft.allow_hosts or {}).items())
    for name in ("memory_max", "tasks_max", "cpu_weight", "required", "user_memory_max"):
        item: Sourced[int | None] | Sourced[bool] = getattr(draft, name)
        sources.append(RuleSource(f"limits.{name}", item.value, item.source))
    return policy, tuple(sources)
