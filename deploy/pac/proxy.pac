// Proxy auto-configuration for district devices (serve as http://wpad.<district domain>/wpad.dat
// or push the URL by MDM). Every web request goes to CrossingGuard, which passes ordinary sites
// straight through and only inspects social platforms; local and district hosts go direct.
// Replace PROXY_HOST with the proxy's address.
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) ||
      shExpMatch(host, "*.local") ||
      isInNet(dnsResolve(host), "10.0.0.0", "255.0.0.0") ||
      isInNet(dnsResolve(host), "172.16.0.0", "255.240.0.0") ||
      isInNet(dnsResolve(host), "192.168.0.0", "255.255.0.0") ||
      isInNet(dnsResolve(host), "127.0.0.0", "255.0.0.0")) {
    return "DIRECT";
  }
  // No DIRECT fallback: if the proxy is down, students' browsing fails closed.
  return "PROXY PROXY_HOST:8080";
}
