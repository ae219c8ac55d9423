import stat
from pathlib import Path

import pytest

from oqto.config import ConfigError, load_config
from oqto.config.loader import config_path
from oqto.config.paths import runtime_dir


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_seed_keys_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[server]\nlisten = "0.0.0.0:3000"\n[backend]\nmode = "local"\n'
        '[local]\nsocket_dir = "/run/oqto"\n',
    )
    cfg = load_config(path, environ={}).config
    assert cfg.server.listen == "0.0.0.0:3000"
    assert cfg.backend.mode == "local"
    assert cfg.local.socket_dir == Path("/run/oqto")


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nlisten = "127.0.0.1:1"\nlisen = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert str(path) in str(info.value)
    assert '[server] lisen: unknown key; did you mean "listen"?' in str(info.value)


def test_unknown_section_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r'\[sever\]: unknown section; did you mean "server"\?'):
        load_config(write(tmp_path, "[sever]\nlisten = 1\n"), environ={})


def test_nothing_close_is_not_suggested(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "[server]\nzzzz = 1\n"), environ={})
    assert str(info.value).endswith("[server] zzzz: unknown key")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[server]\nlisten = "nohost"\n', "[server] listen"),
        ('[server]\nlisten = "127.0.0.1:70000"\n', "[server] listen"),
        ('[backend]\nmode = "cloud"\n', "[backend] mode"),
        ("[files]\nmax_upload_mb = 0\n", "[files] max_upload_mb"),
        ('[logging]\nlevel = "loud"\n', "[logging] level"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_config(write(tmp_path, text), environ={})


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[server\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path, environ={})


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_env_overrides_and_their_errors(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nlisten = "127.0.0.1:1"\n')
    cfg = load_config(
        path, environ={"OQTO_SERVER__LISTEN": "0.0.0.0:3000", "OQTO_FILES__MAX_UPLOAD_MB": "7"}
    ).config
    assert cfg.server.listen == "0.0.0.0:3000"
    assert cfg.files.max_upload_mb == 7
    with pytest.raises(ConfigError, match="OQTO_SERVER__NOPE: \\[server\\] nope: unknown key"):
        load_config(path, environ={"OQTO_SERVER__NOPE": "1"})


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("OQTO_CONFIG", raising=False)
    assert config_path(None) == (tmp_path / "xdg" / "oqto" / "config.toml", False)
    monkeypatch.setenv("OQTO_CONFIG", "/elsewhere.toml")
    assert config_path(None) == (Path("/elsewhere.toml"), True)
    assert config_path(tmp_path / "x.toml") == (tmp_path / "x.toml", True)
    monkeypatch.delenv("OQTO_CONFIG")
    monkeypatch.setenv("INVOCATION_ID", "abc")
    monkeypatch.delenv("MANAGERPID", raising=False)
    assert config_path(None) == (Path("/etc/oqto/config.toml"), False)


@pytest.mark.parametrize(
    "pattern",
    [
        "/run/user/{uid:>99999}/oqto-runner.sock",  # any width: {uid:>999999999} is 1 GB
        "/run/user/{user!r}/oqto-runner.sock",
        "/run/user/{uid.real}/oqto-runner.sock",
        "/run/{user.__class__}/oqto-runner.sock",  # reads internals
        "/run/{user[0]}/oqto-runner.sock",
        "/run/{}/oqto-runner.sock",
        "/run/{0}/oqto-runner.sock",
        "/run/{home}/oqto-runner.sock",
        "/run/{uid:{user}}/oqto-runner.sock",
        "/run/{uid/x.sock",
        "/run/user/../{uid}/oqto-runner.sock",
        "/run/user/{uid}/../../etc/x.sock",
        "run/user/{uid}/oqto-runner.sock",
        "{uid}/oqto-runner.sock",
    ],
)
def test_runner_socket_pattern_accepts_only_bare_uid_and_user(tmp_path: Path, pattern: str) -> None:
    path = write(tmp_path, f"[local]\nrunner_socket_pattern = '{pattern}'\n")
    with pytest.raises(ConfigError, match=r"\[local\] runner_socket_pattern"):
        load_config(path, environ={})


@pytest.mark.parametrize(
    "pattern",
    ["/run/user/{uid}/oqto-runner.sock", "/srv/oqto/{user}/{uid}.sock", "/run/oqto/{{x}}.sock"],
)
def test_runner_socket_pattern_good_values(tmp_path: Path, pattern: str) -> None:
    path = write(tmp_path, f"[local]\nrunner_socket_pattern = '{pattern}'\n")
    assert load_config(path, environ={}).config.local.runner_socket_pattern == pattern


@pytest.mark.parametrize(
    ("key", "section"),
    [("data_dir", "server"), ("socket_dir", "local")],
)
def test_directories_under_a_file_name_the_key(tmp_path: Path, key: str, section: str) -> None:
    (tmp_path / "afile").write_text("x")
    for value in (tmp_path / "afile" / "x" / "y", tmp_path / "afile"):
        path = write(tmp_path, f'[{section}]\n{key} = "{value}"\n')
        with pytest.raises(ConfigError) as info:
            load_config(path, environ={})
        assert f"[{section}] {key}: {value}" in str(info.value)
        assert f"{tmp_path / 'afile'} is not a directory" in str(info.value)
    # A directory that does not exist yet is fine: it is created where it is used.
    path = write(tmp_path, f'[{section}]\n{key} = "{tmp_path / "later" / "x"}"\n')
    load_config(path, environ={})
    assert not (tmp_path / "later").exists()


def test_fallback_runtime_dir_is_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    (tmp_path / "xdg").mkdir(mode=0o700)
    created = runtime_dir(None)
    assert created == tmp_path / "xdg" / "oqto"
    assert stat.S_IMODE(created.stat().st_mode) == 0o700
    assert runtime_dir(None) == created  # an existing private directory is adopted
    configured = runtime_dir(tmp_path / "sockets")
    assert stat.S_IMODE(configured.stat().st_mode) == 0o700


def test_runtime_dir_with_wrong_mode_is_refused_unchanged(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o755)
    with pytest.raises(ConfigError, match=r"\[local\] socket_dir: .*mode 0755"):
        runtime_dir(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o755
