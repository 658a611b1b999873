"""Share-link tokens out of every log line.

A public link's token (`/share/<token>/`) is a bearer secret: whoever reads it sees the step.
Request paths reach logs in gunicorn's access log (request line and referer), gunicorn's error
log and Django's `django.request` warnings ("Not Found: /share/<token>/"), so each of those
loggers carries this filter and the line says `/share/…/` instead.
"""

from __future__ import annotations

import logging
import re

# Anything up to the next path, query or quote boundary: a token that is no valid signature is
# just as worth hiding (it may be a valid one with a typo).
SHARE_TOKEN = re.compile(r"(/share/)[^/?#\s\"']+")
# Credentials inside a URL (`mailto://user:password@host`, an apprise destination): a notification
# destination is stored encrypted and never logged by our code (steps/alerts/notify.py); this
# catches one that reaches a log some other way (a library's exception message).
URL_CREDENTIALS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@\"']+:[^/\s@\"']+@")


def redact(text: str) -> str:
    return URL_CREDENTIALS.sub(r"\1…@", SHARE_TOKEN.sub(r"\1…", text))


class RedactShareTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: left for logging's own error handling
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
