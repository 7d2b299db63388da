"""deploy/transparent/nftables.sh: the ruleset it loads is valid nftables (checked, not applied)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "transparent" / "nftables.sh"


def ruleset(student_if="vlan20", proxy_port="8080", dns="192.0.2.53") -> str:
    text = SCRIPT.read_text()
    body = re.search(r"^nft -f - <<NFT\n(.*?)^NFT$", text, re.S | re.M).group(1)
    return body.replace("$STUDENT_IF", student_if).replace("$PROXY_PORT", proxy_port).replace("$DNS_SERVER", dns)


def test_script_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


def test_student_side_is_default_deny_except_web_and_district_dns():
    rules = ruleset()
    assert 'tcp dport { 80, 443 } redirect to :8080' in rules
    forward = rules[rules.index("chain forward"):]
    assert forward.rstrip().splitlines()[-3].strip() == 'iifname "vlan20" reject'
    assert "th dport 53 accept" in forward


@pytest.mark.skipif(shutil.which("nft") is None, reason="MISSING nft: Debian package `nftables` (apt-get install -y nftables; .ci/run installs it)")
def test_ruleset_passes_nft_check(tmp_path):
    f = tmp_path / "rules.nft"
    f.write_text(ruleset())
    r = subprocess.run(["nft", "-c", "-f", str(f)], capture_output=True, text=True)
    if r.returncode != 0 and "Operation not permitted" in r.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    assert r.returncode == 0, r.stderr
