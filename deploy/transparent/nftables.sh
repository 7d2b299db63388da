#!/usr/bin/env bash
# Transparent mode on a Linux gateway: redirect student VLAN web traffic to the proxy and
# close the common bypasses (QUIC, DNS to outside resolvers). Run as root on the gateway;
# start the proxy with: crossingguard run -- --mode transparent --showhost
#
#   STUDENT_IF   interface facing student devices (e.g. vlan20)
#   PROXY_PORT   where crossingguard listens (default 8080)
#   DNS_SERVER   the district resolver students must use
set -euo pipefail
STUDENT_IF=${STUDENT_IF:?set STUDENT_IF}
PROXY_PORT=${PROXY_PORT:-8080}
DNS_SERVER=${DNS_SERVER:?set DNS_SERVER}

sysctl -w net.ipv4.ip_forward=1 >/dev/null
sysctl -w net.ipv4.conf.all.send_redirects=0 >/dev/null

nft -f - <<NFT
table inet crossingguard {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "$STUDENT_IF" tcp dport { 80, 443 } redirect to :$PROXY_PORT
    # Students resolve through the district resolver only (DNS filtering cannot be skipped).
    iifname "$STUDENT_IF" udp dport 53 ip daddr != $DNS_SERVER dnat ip to $DNS_SERVER
    iifname "$STUDENT_IF" tcp dport 53 ip daddr != $DNS_SERVER dnat ip to $DNS_SERVER
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    # QUIC (HTTP/3) would carry social traffic past the proxy: reject it so browsers fall back to TCP.
    iifname "$STUDENT_IF" udp dport 443 reject
    # DNS-over-TLS bypasses the district resolver.
    iifname "$STUDENT_IF" tcp dport 853 reject
  }
}
NFT
echo "transparent redirect on $STUDENT_IF -> :$PROXY_PORT; QUIC and DoT rejected"
