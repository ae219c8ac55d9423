from pathlib import Path

import pytest

from oqto.config import ConfigError, load_config
from oqto.config.loader import config_path


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
    assert "[server] lisen: unknown key" in str(info.value)


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sever"):
        load_config(write(tmp_path, "[sever]\nlisten = 1\n"), environ={})


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
