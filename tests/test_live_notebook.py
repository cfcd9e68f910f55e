"""The client in a real kernel: later cells run while it streams; the last cell stops it.

The notebook is built here (nbformat) and run by nbclient in the .venv's ``python3`` kernel.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = [
    # 1: a local venue and the client, awaited in a cell (the kernel's loop is running)
    """import asyncio, json, time
import tradesim_nb.live as live
venue = live.LocalVenue("synthetic", rate_hz=1000, seed=1)
await venue.start()
client = await live.connect("okx", "BTC-USDT-SWAP", source=venue.url)
n1 = client.frames
assert client.book_valid, client.status""",
    # 2: a plain cell (no await): the second client's tasks are scheduled and run later
    """client2 = live.start("okx", "BTC-USDT-SWAP", source=venue.url)
tops = []
client.on_update(lambda book, ev, t: tops.append(book.best_bid) if book.valid else None)
n2 = client.frames
started2 = client2.frames""",
    # 3: some other work that awaits: the feed keeps running
    """await asyncio.sleep(0.5)
n3 = client.frames""",
    # 4: plain cell reading the state
    """n4 = client.frames
m = client.metrics
bids, asks = client.snapshot(10)""",
    # 5: stop everything, report
    """await client.stop()
await client2.stop()
await venue.stop()
left = [t.get_name() for t in asyncio.all_tasks()
        if t.get_name().startswith(("book-client", "client-", "venue-", "resync-"))]
print(json.dumps({"n": [n1, n2, n3, n4], "c2": [started2, client2.frames],
                  "tops": len(tops), "valid": m["book_valid"], "p99_us": m["p99_us"],
                  "levels": [len(bids), len(asks)], "left": left,
                  "status": [client.status, client2.status]}))""",
]


@pytest.mark.notebook
def test_client_streams_between_cells_in_a_real_kernel() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    NotebookClient(nb, kernel_name="python3", timeout=60).execute()
    out = nb.cells[-1].outputs
    text = "".join(o.get("text", "") for o in out if o.get("output_type") == "stream")
    r = json.loads(text.strip().splitlines()[-1])
    n1, n2, n3, n4 = r["n"]
    assert n1 > 0 and n2 >= n1
    assert n3 > n2 + 200  # ~500 frames streamed during the awaiting cell
    assert n4 >= n3
    started2, final2 = r["c2"]
    assert started2 == 0 and final2 > 200  # plain-cell client ran between cells
    assert r["tops"] > 200 and r["valid"] and r["levels"] == [10, 10]
    assert r["left"] == [] and r["status"] == ["stopped", "stopped"]
