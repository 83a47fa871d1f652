"""The dashboard's server: `streamlit run app/serve.py` (what `make run` starts).

The same app as `streamlit run app/streamlit_app.py` (the router and its pages), served as an `st.App`
whose start-up hook runs app/warmup.py before the server answers: the imports and the warehouse's cube
are paid once when the server starts, not by the first person to open a page. The server takes that
much longer to start (benchmarks/pages.py reports it next to every first visit).

The server hands memory its pages freed back to the system at once: polars' allocator (jemalloc, read from
`_RJEM_MALLOC_CONF` when polars is first imported: hence before anything here imports it) otherwise keeps
freed pages for ten seconds, in one arena per thread, where the next read's threads do not reuse them, so a
page that reads its slice in several steps held every step's transient memory at once. A setting in the
environment wins."""
import os

os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")

import asyncio  # noqa: E402  (after the allocator's setting)
from contextlib import asynccontextmanager  # noqa: E402

import streamlit as st  # noqa: E402

from app.warmup import warm_up  # noqa: E402


@asynccontextmanager
async def _warmed(_app):
    yield {"warm_up": await asyncio.to_thread(warm_up)}


app = st.App("streamlit_app.py", lifespan=_warmed)
