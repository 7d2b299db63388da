"""Platform id -> extractor. Platforms without one (linkedin, bereal, ...) get only the generic fallback."""
from __future__ import annotations

from classifiers.extract.sites import (bluesky, discord, facebook, instagram, mastodon, pinterest, reddit,
                                       snapchat, threads, tiktok, tumblr, twitch, x, youtube)

EXTRACTORS = {
    "x": x.extract,
    "instagram": instagram.extract,
    "facebook": facebook.extract,
    "messenger": facebook.extract,
    "threads": threads.extract,
    "tiktok": tiktok.extract,
    "youtube": youtube.extract,
    "reddit": reddit.extract,
    "discord": discord.extract,
    "snapchat": snapchat.extract,
    "pinterest": pinterest.extract,
    "tumblr": tumblr.extract,
    "bluesky": bluesky.extract,
    "mastodon": mastodon.extract,
    "twitch": twitch.extract,
}

# Telemetry and logging endpoints: frequent, large, never user text. Skipping them saves time on
# the event loop and keeps event names out of the classifiers.
TELEMETRY = ("/jot/", "/log_event", "/logging_client_events", "/ajax/bz", "/ajax/qm", "/api/v1/qe/",
             "/science", "/metrics", "/beacon", "/collect", "/monitor_browser", "/web/report",
             "/v1/list", "/csp_report", "/error_reporting", "/falco/", "/stats")
