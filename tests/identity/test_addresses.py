import pytest

from agent.identity import normalize_ip, normalize_mac


@pytest.mark.parametrize("raw, expected", [
    ("127.0.0.5", "127.0.0.5"),
    (" 10.1.2.3 ", "10.1.2.3"),
    ("::ffff:127.0.0.5", "127.0.0.5"),
    ("::FFFF:7f00:5", "127.0.0.5"),
    ("2001:DB8:0:0::0001", "2001:db8::1"),
    ("::1", "::1"),
])
def test_normalize_ip(raw, expected):
    assert normalize_ip(raw) == expected


@pytest.mark.parametrize("raw", ["10.0.0.0/24", "999.1.1.1", "host.example", "", "127.0.0", "1.2.3.4.5"])
def test_normalize_ip_rejects(raw):
    with pytest.raises(ValueError):
        normalize_ip(raw)


@pytest.mark.parametrize("raw, expected", [
    ("aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff"),
    ("AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff"),
    ("aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"),
    ("AABBCCDDEEFF", "aa:bb:cc:dd:ee:ff"),
    ("a:b:c:d:e:f", "0a:0b:0c:0d:0e:0f"),
    (" 02:00:00:00:10:07 ", "02:00:00:00:10:07"),
])
def test_normalize_mac(raw, expected):
    assert normalize_mac(raw) == expected


@pytest.mark.parametrize("raw", ["aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "zz:bb:cc:dd:ee:ff", "aabb.ccdd",
                                 "aabbccddeef", "", "aa:bb:cc:dd:ee:fff", "aa:bb-cc:dd:ee:ff:"])
def test_normalize_mac_rejects(raw):
    with pytest.raises(ValueError):
        normalize_mac(raw)
