"""Settings for the public API benchmark: the production settings, with a rate limit that
still counts every request (so its cost is measured) but never refuses one."""

import os

from contacthub.settings import *  # noqa: F403

DEBUG = False
CONTACTHUB_API_RATE_LIMIT = "1000000000/60"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "WARNING"},
}

# ``--sqlite-persistent``: keep SQLite connections open between requests (the project's
# settings close them after every request), to measure what that costs.
_database = DATABASES["default"]  # noqa: F405
if os.environ.get("BENCH_SQLITE_PERSISTENT") and _database["ENGINE"].endswith("sqlite3"):
    _database["CONN_MAX_AGE"] = None
