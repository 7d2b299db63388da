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
    iifname "$STUDENT_IF" meta nfproto ipv4 udp dport 53 ip daddr != $DNS_SERVER dnat ip to $DNS_SERVER
    iifname "$STUDENT_IF" meta nfproto ipv4 tcp dport 53 ip daddr != $DNS_SERVER dnat ip to $DNS_SERVER
  }
  chain forward {
    # Default deny for the student side: web goes to the proxy (redirected above, so it is
    # local traffic, not forwarded), DNS goes to the district resolver, nothing else leaves.
    # This closes QUIC (UDP 443), DNS-over-TLS (853), IPv6 DNS to outside resolvers and apps
    # that talk to social platforms on other ports (e.g. XMPP on 5222).
    type filter hook forward priority filter; policy accept;
    iifname "$STUDENT_IF" ct state established,related accept
    iifname "$STUDENT_IF" meta nfproto ipv4 ip daddr $DNS_SERVER meta l4proto { tcp, udp } th dport 53 accept
    iifname "$STUDENT_IF" meta l4proto udp reject
    iifname "$STUDENT_IF" meta l4proto tcp reject with tcp reset
    iifname "$STUDENT_IF" reject
  }
}
NFT
echo "transparent redirect on $STUDENT_IF -> :$PROXY_PORT; everything else from $STUDENT_IF rejected (QUIC, DoT, other ports)"
