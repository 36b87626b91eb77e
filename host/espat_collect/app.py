"""The collector as an ASGI application: the ingest path beside the read side, over one running Collector.

POST /api/readings, the one path every reading takes, is a plain ASGI handler (ingest.py), which cut the collector's
CPU per reading by about a tenth (Starlette's request and response objects and middleware layers); everything else
is the read side's Starlette routes (reads.py). The app's lifespan starts the Collector (service.py) and stops it.
"""
from __future__ import annotations

import os
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from .ingest import make_ingest
from .reads import read_routes
from .service import Collector, Settings

__all__ = ["Settings", "CollectorApp", "create_app", "app_from_environment"]


def app_from_environment() -> "CollectorApp":
    """For uvicorn's worker processes, which import the app by name (and end with the process that started them)."""
    from .parent import PARENT_ENV, die_with_parent
    if PARENT_ENV in os.environ:
        die_with_parent(int(os.environ[PARENT_ENV]))
    return create_app(Settings.from_environment())


class CollectorApp:
    """POST /api/readings goes straight to the ingest handler; everything else (lifespan included) to Starlette.
    `collector` is the running Collector: started by the lifespan, or given (then the lifespan leaves it alone)."""

    def __init__(self, settings: Settings, collector: Collector | None = None) -> None:
        self.settings = settings
        self.collector = collector
        self.ingest = make_ingest(self._current)
        self.starlette = Starlette(routes=read_routes(self._current), lifespan=self._lifespan)

    def _current(self) -> Collector:
        if self.collector is None:
            raise RuntimeError("the collector has not started (its ASGI lifespan never ran)")
        return self.collector

    @asynccontextmanager
    async def _lifespan(self, _app):
        if self.collector is not None:
            yield
            return
        self.collector = await Collector.start(self.settings)
        try:
            yield
        finally:
            await self.collector.stop()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/api/readings":
            return await self.ingest(scope, receive, send)
        return await self.starlette(scope, receive, send)


def create_app(settings: Settings, collector: Collector | None = None) -> CollectorApp:
    return CollectorApp(settings, collector)
