"""mitmproxy addons: thin classes that turn flows into calls on agent/ (and classifiers/).

One concern per module, in hook order (proxy_addons/bundle.py builds the list):
  state.py            our options; policy/roster/devices loaded once per configuration (the
                      `Core` addon and its `CoreState`; "the core" of the project is agent/)
  authguard.py        proxy auth hardened and cached off the loop
  sessions.py         teacher sessions refreshed from the store in a worker thread
  identity.py         who is behind a connection (proxy auth, device registry), cached per connection
  passthrough.py      the decision: intercept only what the policy must see
  tunnel.py           the tunnel layers that apply it early (next_layer) and refuse unreadable tunnels
  enforce.py          one decision per request; block pages; read-only
  safesearch.py       YouTube-Restrict and Google/Bing SafeSearch
  upstream.py         the district's page when an allowed site cannot be reached (and no
                      mitmproxy version in any error response)
  posts.py            outgoing posts judged in the classifier pool; incidents; held posts
  activity.py         every catalog-platform request to the hash-chained activity log
  metrics.py          /metrics
Not addons:
  failmode.py         the fail mode wrapped around every synchronous hook
  verdict.py          FlowVerdict, shared through flow.metadata["crossingguard"]
  classifier_pool.py  the classifier process pool (runtime; no mitmproxy, workers import it)
  blockpage.py        pages the proxy serves, rendered as HTML or JSON (the words: agent/pages.py)
  certs.py            the district CA and the leaf certificate lifetime
  master.py           the lean mitmproxy master of `crossingguard run`
  leanlog.py          proxy-core log records skipped below the terminal's verbosity
  bundle.py           the addon list; entry.py: `mitmdump -s proxy_addons/entry.py`
"""
