"""gunicorn's logger with share-link tokens redacted (dashboard/log_redaction.py).

Used with `--logger-class dashboard.access_log.RedactingLogger` wherever gunicorn starts
(`manage.py serve`, the Dockerfile, docker-compose.yml).
"""

from gunicorn.glogging import Logger

from .log_redaction import RedactShareTokens


class RedactingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        # setup() runs again on a reload (SIGHUP): add the filter only once
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, RedactShareTokens) for f in log.filters):
                log.addFilter(RedactShareTokens())
