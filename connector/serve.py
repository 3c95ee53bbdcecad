"""``connector serve``: the web app under gunicorn, configured from the environment.

``BIND`` (default ``127.0.0.1:5000``; comma-separated for several), ``WEB_CONCURRENCY``
(processes, default 2, each with a few threads: OAuth callbacks wait on the platform),
``TRUSTED_PROXIES`` (whose X-Forwarded-* headers count; see connector.web.proxies) and
``LOG_FORMAT``. Gunicorn's own lines go through the same logging set-up as the app's.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

DEFAULT_BIND = "127.0.0.1:5000"
DEFAULT_WORKERS = 2
THREADS = 4
GRACEFUL_TIMEOUT = 30  # seconds a stopping process gets to finish its requests
TIMEOUT = 60  # a request that takes longer is a stuck process: it is restarted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    bind: tuple[str, ...]
    workers: int
    trusted_proxies: tuple[str, ...]

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> ServeOptions:
        env = os.environ if environ is None else environ
        bind = tuple(b.strip() for b in (env.get("BIND") or DEFAULT_BIND).split(",") if b.strip())
        raw = (env.get("WEB_CONCURRENCY") or "").strip() or str(DEFAULT_WORKERS)
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError("WEB_CONCURRENCY must be a whole number of processes, at least 1")
        from connector.config import parse_networks

        proxies = parse_networks(env.get("TRUSTED_PROXIES") or "")
        return cls(bind=bind or (DEFAULT_BIND,), workers=int(raw), trusted_proxies=proxies)


class AppLogger(Logger):
    """Gunicorn's messages go to the root logger, i.e. the connector's format (text or JSON)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.handlers[:] = []
            logger.propagate = True


class ConnectorApplication(BaseApplication):
    """Gunicorn with our settings; each worker process builds its own app (and engine)."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        proxies = ",".join(str(ipaddress.ip_network(p, strict=False))
                           for p in self.options.trusted_proxies)
        settings: dict[str, Any] = {
            "bind": list(self.options.bind),
            "workers": self.options.workers,
            "worker_class": "gthread",
            "threads": THREADS,
            "timeout": TIMEOUT,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "keepalive": 5,
            # The app applies X-Forwarded-For/-Proto itself, for TRUSTED_PROXIES only;
            # gunicorn must not believe a proxy scheme header from anyone else either.
            "forwarded_allow_ips": proxies,
            "logger_class": AppLogger,
            "loglevel": "info",
            "proc_name": "connector-web",
            "control_socket_disable": True,  # two instances on one host would share its path
        }
        for key, value in settings.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from connector import create_app

        return create_app()


def serve(options: ServeOptions) -> None:
    """Run gunicorn in the foreground until SIGTERM/SIGINT (then finish requests and stop)."""
    log.info("serving on %s with %d processes; proxies trusted: %s", ", ".join(options.bind),
             options.workers, ", ".join(options.trusted_proxies) or "none")
    ConnectorApplication(options).run()
