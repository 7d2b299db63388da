from __future__ import annotations

import pytest

from agent.errors import ConfigError
from agent.identity import DeviceRegistry

HEADER = "device_id,user_id,ip,mac\n"


def _write(tmp_path, text: str | bytes):
    path = tmp_path / "devices.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def test_load_and_lookup(tmp_path):
    path = _write(tmp_path, HEADER + "d1,u1,127.0.0.5,AA-BB-CC-DD-EE-01\n"
                                     "d2,u2,,aabb.ccdd.ee02\n"
                                     "d3,u3,2001:DB8::1,\n"
                                     "d1,u1,127.0.0.6,\n")
    reg = DeviceRegistry.load(path)
    assert reg.by_ip("127.0.0.5") == ("d1", "u1")
    assert reg.by_ip("::ffff:127.0.0.5") == ("d1", "u1")       # dual-stack listener form
    assert reg.by_ip("127.0.0.6") == ("d1", "u1")              # one device, two addresses
    assert reg.by_ip("2001:db8:0::1") == ("d3", "u3")
    assert reg.by_ip("127.0.0.7") is None
    assert reg.by_ip("not an ip") is None and reg.by_ip("") is None
    assert reg.by_mac("aa:bb:cc:dd:ee:01") == ("d1", "u1")
    assert reg.by_mac("AA:BB:CC:DD:EE:02") == ("d2", "u2")
    assert reg.by_mac("aa:bb:cc:dd:ee:03") is None and reg.by_mac("junk") is None
    assert len(reg) == 3


def test_bom_crlf_order_and_extra_columns(tmp_path):
    path = _write(tmp_path, "\ufeffMAC,ip,User_ID,Device_ID,notes\r\n02:00:00:00:00:01,127.0.0.9,u1,d1,cart 3\r\n"
                  .encode("utf-8"))
    reg = DeviceRegistry.load(path)
    assert reg.by_ip("127.0.0.9") == ("d1", "u1") and reg.by_mac("02:00:00:00:00:01") == ("d1", "u1")


BAD = [
    ("d1,u1,,\n", 2, "ip", "both empty"),
    ("d1,u1,127.0.0.300,\n", 2, "ip", "'127.0.0.300' is not an IPv4 or IPv6 address"),
    ("d1,u1,10.0.0.0/24,\n", 2, "ip", "not an IPv4 or IPv6"),
    ("d1,u1,,aa:bb:cc\n", 2, "mac", "'aa:bb:cc' is not a MAC address"),
    (",u1,127.0.0.5,\n", 2, "device_id", "empty"),
    ("d1,,127.0.0.5,\n", 2, "user_id", "empty"),
    ("d1,u1,127.0.0.5,\nd2,u2,::ffff:127.0.0.5,\n", 3, "ip", "127.0.0.5 is already registered on line 2"),
    ("d1,u1,,aa:bb:cc:dd:ee:ff\nd2,u2,,AA-BB-CC-DD-EE-FF\n", 3, "mac", "aa:bb:cc:dd:ee:ff is already registered on line 2"),
    ("d1,u1,127.0.0.5,\nd1,u2,127.0.0.6,\n", 3, "device_id", "'d1' belongs to 'u1' on line 2"),
    ("d1,u1,127.0.0.5\n", 2, "row", "3 fields but the header has 4"),
    ("d1,u1,127.0.0.5,,extra\n", 2, "row", "5 fields"),
]


@pytest.mark.parametrize("rows, line, key, words", BAD)
def test_bad_row_is_a_config_error_naming_file_line_and_column(tmp_path, rows, line, key, words):
    path = _write(tmp_path, HEADER + rows)
    with pytest.raises(ConfigError) as err:
        DeviceRegistry.load(path)
    assert (err.value.file, err.value.line, err.value.key) == (str(path), line, key)
    assert words in err.value.message
    assert str(err.value).startswith(f"{path}:{line}: {key}: ")


def test_check_collects_every_error_and_keeps_good_rows(tmp_path):
    path = _write(tmp_path, HEADER + "d1,u1,127.0.0.5,\nd2,u2,bad,\nd3,u3,127.0.0.7,\nd4,u4,,zz\n")
    reg, errors = DeviceRegistry.check(path)
    assert [(e.line, e.key) for e in errors] == [(3, "ip"), (5, "mac")]
    assert reg.by_ip("127.0.0.5") == ("d1", "u1") and reg.by_ip("127.0.0.7") == ("d3", "u3")


def test_missing_column_is_a_config_error(tmp_path):
    path = _write(tmp_path, "device_id,user_id,ip\nd1,u1,127.0.0.5\n")
    with pytest.raises(ConfigError) as err:
        DeviceRegistry.load(path)
    assert (err.value.line, err.value.key) == (1, "mac")


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        DeviceRegistry.load(tmp_path / "nope.csv")
    assert err.value.file == str(tmp_path / "nope.csv")


def test_empty_registry():
    reg = DeviceRegistry.empty()
    assert reg.by_ip("127.0.0.1") is None and reg.by_mac("aa:bb:cc:dd:ee:ff") is None and len(reg) == 0
