"""One small module per platform. Each exposes `extract(req, out) -> bool`: True when it
recognised the request (even if it held no user text, e.g. a like or a login), False to let
the generic fallback read it."""
