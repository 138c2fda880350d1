"""The Dask dashboard's link, shown only where its page works.

Dask's HTTP server always runs on a scheduler (health checks, metrics), and every scheduler
reports a "dashboard" link for it; the dashboard itself is served only when bokeh is importable in
the scheduler's process (``pip install modelsplit[dashboard]``): without it the link shows a page
that asks for bokeh, and with ``--no-dashboard`` no page at all. So the link is shown:

- for a cluster this process started (``--dask local``): when bokeh is importable here, else no
  dashboard was started;
- for a scheduler elsewhere: when the scheduler reports a link and the page there answers, within
  ``PAGE_TIMEOUT`` seconds, as the dashboard (one GET, in a thread of its own: the run never waits
  for it).
"""

from __future__ import annotations

import importlib.util
import threading
import urllib.request
from collections.abc import Callable

PAGE_TIMEOUT = 2.0  # seconds to wait for a remote scheduler's dashboard page
PAGE_BYTES = 65536  # what is read of that page to tell the dashboard from Dask's page without bokeh


def has_bokeh() -> bool:
    """Whether bokeh is importable in this process (it is what serves Dask's dashboard)."""
    return importlib.util.find_spec("bokeh") is not None


def dashboard_to_show(
    link: str | None, *, started_here: bool, bokeh: bool, page_works: Callable[[str], bool]
) -> str | None:
    """The dashboard link worth showing, or None (see the module's docstring): ``bokeh``: bokeh
    is importable here (it matters for a cluster ``started_here`` only); ``page_works(link)``:
    asks a scheduler elsewhere."""
    if not link:
        return None
    if started_here:
        return link if bokeh else None
    return link if page_works(link) else None


def page_works(link: str, timeout: float = PAGE_TIMEOUT) -> bool:
    """Whether ``link`` answers within ``timeout`` seconds with a page that is not Dask's page
    for a missing bokeh: HTTP 200, no proxy (the coordinator's own route to the scheduler)."""
    if not link.startswith(("http://", "https://")):
        return False  # a relative link (a Jupyter proxy's): nothing to ask from here
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(link, timeout=timeout) as page:
            return page.status == 200 and b"needs bokeh" not in page.read(PAGE_BYTES).lower()
    except Exception:  # refused, timed out, 404, no such host, a broken answer: nothing to show
        return False


class Dashboard:
    """The dashboard link of a connection (:class:`~modelsplit.workers.dask.cluster.Connection`):
    :attr:`link` is None until it is known, and stays None when there is none worth showing."""

    def __init__(self, connection, page_works: Callable[[str], bool] = page_works):
        self.link: str | None = None
        self._thread = threading.Thread(
            target=self._find, args=(connection, page_works), name="modelsplit-dask-dashboard", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> str | None:
        """The link, once it is known (at most ``timeout`` seconds from now)."""
        self._thread.join(timeout)
        return self.link

    def _find(self, connection, page_works: Callable[[str], bool]) -> None:
        if connection.started_here and not connection.bokeh:
            return  # no dashboard was started: nothing to ask the scheduler
        try:
            link = connection.client.dashboard_link
        except Exception:  # no answer, or the run is already closing: only shown, never needed
            return
        self.link = dashboard_to_show(
            link, started_here=connection.started_here, bokeh=connection.bokeh, page_works=page_works
        )
