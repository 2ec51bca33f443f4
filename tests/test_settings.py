"""pressbox/settings.py: layering and the private-host allowlist."""

import ipaddress

from pressbox.settings import PrivateAllowlist, Settings, get_settings


def test_env_beats_toml_beats_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Settings().concurrency == 8
    (tmp_path / "pressbox.toml").write_text("concurrency = 3\nbatch_size = 7\n")
    assert Settings().concurrency == 3
    monkeypatch.setenv("PRESSBOX_CONCURRENCY", "5")
    s = Settings()
    assert s.concurrency == 5 and s.batch_size == 7
    assert get_settings(concurrency=2).concurrency == 2


def test_allowlist_parsing():
    ip = ipaddress.ip_address
    none = PrivateAllowlist.parse("")
    assert not none.allows("localhost", ip("127.0.0.1"))
    everything = PrivateAllowlist.parse("true")
    assert everything.allows("anything", ip("10.1.2.3"))
    some = PrivateAllowlist.parse("127.0.0.1, 10.0.0.0/8 ,intranet.local")
    assert some.allows("x", ip("127.0.0.1")) and not some.allows("x", ip("127.0.0.2"))
    assert some.allows("x", ip("10.9.9.9")) and not some.allows("x", ip("192.168.1.1"))
    assert some.allows("Intranet.Local.", ip("192.168.1.1"))


def test_allowlist_from_env(monkeypatch):
    monkeypatch.setenv("PRESSBOX_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    assert Settings().private_allowlist.allows("127.0.0.1", ipaddress.ip_address("127.0.0.1"))


def test_unknown_toml_key_is_an_error_naming_it(tmp_path, monkeypatch):
    import pytest
    from pydantic import ValidationError

    from pressbox.settings import describe_error

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pressbox.toml").write_text("concurency = 3\nbatch_size = 7\n")
    with pytest.raises(ValidationError) as info:
        Settings()
    line = describe_error(info.value)
    assert "unknown setting 'concurency'" in line and "\n" not in line
    monkeypatch.setenv("PRESSBOX_NOT_A_SETTING", "1")  # other PRESSBOX_* variables stay harmless
    (tmp_path / "pressbox.toml").write_text("batch_size = 7\n")
    assert Settings().batch_size == 7
