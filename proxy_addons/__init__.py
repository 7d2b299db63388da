"""mitmproxy addons: thin classes that turn flows into calls on agent/ (and classifiers/).

One concern per module, in hook order (proxy_addons/bundle.py builds the list):
  core.py         options, policy/roster/devices loaded once per configuration
  sessions.py     teacher sessions refreshed from the store in a worker thread
  identity.py     who is behind a connection (proxy auth, device registry), cached per connection
  passthrough.py  intercept only what the policy must see; tunnel the rest untouched
  enforce.py      one decision per request; block pages; read-only
  safesearch.py   YouTube-Restrict and Google/Bing SafeSearch
  activity.py     every catalog-platform request to the hash-chained activity log
  guard.py        the fail mode wrapped around every hook
  verdict.py      FlowVerdict, shared through flow.metadata["crossingguard"]
  blockpage.py    block/fail responses (HTML or JSON)
  certs.py        the district CA and the leaf certificate lifetime
  entry.py        `mitmdump -s proxy_addons/entry.py`
(metrics.py and posts.py are maintained with the metrics exporter and the post classifiers.)
"""
