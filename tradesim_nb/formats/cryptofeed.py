"""cryptofeed's raw recordings: a ``.ws.`` websocket log plus its ``.http.`` REST companion.

cryptofeed's ``AsyncFileCallback`` (``raw_data_collection``) writes one file per connection,
named ``<FEED>.ws.<n>.<rotation>`` and ``<FEED>.http.<n>.<rotation>`` (e.g. ``BINANCE.ws.1.0``
and ``BINANCE.http.0.0``; the rotation number grows as a file reaches its size limit). Lines:

* ``<epoch_s>: <message>``: a received websocket message (``<epoch_s>`` is ``time.time()``);
  a message written as a Python bytes literal (``b'...'``) is decoded to bytes;
* ``<url> <-> <epoch_s>``: the client connected to ``<url>`` (the venue is read from it);
* ``<url> <- <epoch_s>: <message>``: a message the client sent (a subscription);
* ``configuration: ...``: the feed's configuration header;
* in the ``.http.`` file, ``<url> -> <epoch_s>: <body>``: a REST answer (a body that runs over
  several lines continues until the next answer line).

The packaged OKX and Kraken logs (:func:`tradesim_nb.datasets.okx_books_file`) have this
layout. REST answers are injected into the frame stream at their receive times. For Binance
(spot and USD-M futures), a depth answer (``.../depth?symbol=S``) becomes
``{"stream": "<s>@restDepth", "data": <answer>}``, which the Binance parser files as the REST
snapshot of ``S``, so the book syncs from it. Answers no venue parser uses (exchange info,
Kraken's AssetPairs, ...) are counted in ``stats["http_unused"]``, never silently dropped.
Each venue's descriptor holds its conversion
(:attr:`tradesim_nb.venues.Venue.rest_frame`).

When only ``.ws.`` files with cryptofeed's naming are given, ``.http.`` files of the same feed
in the same folder are picked up. A Binance log without any REST answer gets a warning: its
books cannot sync (every diff stays buffered) and the replay would report them stale.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from ..venues.registry import venue_for_cryptofeed, venue_of_url
from ._base import Reader, merge_by_time
from ._io import FormatError, epoch_s_to_ns, open_stream

__all__ = ["CryptofeedReader", "rest_answer_frame", "venue_of_url"]

_NAME = re.compile(r"^(?P<feed>.+?)\.(?P<kind>ws|http)\.(?P<conn>\d+)\.(?P<rot>\d+)"
                   r"(?:\.(?:gz|bz2|xz))?$")

def rest_answer_frame(url: str, body: str) -> str | None:
    """The frame a venue's parser reads for the REST answer ``body`` of ``url`` (or None)."""
    venue = venue_of_url(url)
    conv = _rest_frame(venue)
    return conv(url, body.strip()) if conv is not None else None


def _rest_frame(venue: str | None) -> Callable[[str, str], str | None] | None:
    """The venue's REST answer -> frame conversion (:attr:`Venue.rest_frame`), or None."""
    from ..venues.registry import find_venue

    v = find_venue(venue) if venue else None
    return None if v is None else v.rest_frame


class CryptofeedReader(Reader):
    """cryptofeed ``.ws.``/``.http.`` recordings, merged by receive time.

    Parameters are those of :class:`tradesim_nb.formats.Reader`; ``paths`` may mix websocket
    logs and REST companions (each file's role is read from its first line). Files of one
    connection that rotate (``.ws.1.0``, ``.ws.1.1``) are read one after the other; separate
    connections and the REST answers are merged by receive time.

    Attributes
    ----------
    ws_files, http_files : tuple of Path
        The files of each role, including companions found next to the websocket logs.
    """

    format: ClassVar[str] = "cryptofeed"

    def __init__(self, paths: Any, **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        ws: list[Path] = []
        http: list[Path] = []
        for p in self.paths:
            (http if self._is_http(p) else ws).append(p)
        found = self._companions(ws, http)
        if found:
            http.extend(found)
            self.paths = self.paths + tuple(found)
            self.stats["http_companions_found"] = len(found)
        self.ws_files = tuple(ws)
        self.http_files = tuple(http)
        self._set_venue_hint(self._venue_from_files())
        if _rest_frame(self.venue) is not None and not http:
            self.warn(f"no .http. companion with the REST answers was given or found next to "
                      f"{ws[0].name if ws else self.paths[0].name}: a {self.venue} book syncs "
                      "only from its REST depth snapshot, so without it every book stays stale")

    # -- roles and hints ----------------------------------------------------------------------
    def _first_line(self, p: Path) -> bytes:
        f = open_stream(p, max_line_bytes=self.max_line_bytes)
        try:
            for raw in f:
                if raw.strip():
                    return raw.strip()
        finally:
            f.close()
        return b""

    def _is_http(self, p: Path) -> bool:
        m = _NAME.match(p.name)
        if m:
            return m["kind"] == "http"
        line = self._first_line(p)
        return line.startswith(b"http") and b" -> " in line

    @staticmethod
    def _companions(ws: list[Path], http: list[Path]) -> list[Path]:
        if http:
            return []
        out: list[Path] = []
        for p in ws:
            m = _NAME.match(p.name)
            if not m:
                continue
            for q in sorted(p.parent.glob(f"{m['feed']}.http.*")):
                if _NAME.match(q.name) and q not in out:
                    out.append(q)
        return out

    def _venue_from_files(self) -> str | None:
        syms: list[str] = []
        venue: str | None = None
        for p in self.ws_files:
            m = _NAME.match(p.name)
            if m and venue is None:
                venue = venue_for_cryptofeed(m["feed"].split("-")[0])
            line = self._first_line(p).decode(errors="replace")
            if " <-> " in line or " <- " in line:
                url = line.split(" <-", 1)[0]
                venue = venue or venue_of_url(url)
                q = parse_qs(urlsplit(url).query).get("streams")
                if q:
                    for s in q[0].split("/"):
                        sym = s.split("@", 1)[0].upper()
                        if sym and sym not in syms:
                            syms.append(sym)
        for p in self.http_files:
            line = self._first_line(p).decode(errors="replace")
            url = line.split(" -> ", 1)[0]
            venue = venue or venue_of_url(url)
        self.symbols = tuple(syms)
        return venue

    # -- reading ------------------------------------------------------------------------------
    def _ws_lines(self, path: Path) -> Iterator[tuple[int, str | bytes]]:
        stats = self.stats
        f = self._track(open_stream(path, max_line_bytes=self.max_line_bytes))
        try:
            for lineno, raw in enumerate(f, 1):
                line = raw.rstrip(b"\r\n")
                if not line.strip():
                    continue
                c = line[:1]
                if c.isdigit():
                    i = line.find(b": ")
                    if i > 0:
                        try:
                            t = epoch_s_to_ns(line[:i].decode())
                        except ValueError:
                            raise FormatError("a line starting with a digit that is not "
                                              "'<epoch_s>: <message>'", path=path,
                                              line=lineno) from None
                        msg = line[i + 2:]
                        stats["frames"] += 1
                        if msg[:2] in (b"b'", b'b"'):
                            stats["bytes_literals"] += 1
                            try:
                                yield t, ast.literal_eval(msg.decode())
                            except (ValueError, SyntaxError):
                                yield t, msg
                            continue
                        try:
                            yield t, msg.decode()
                        except UnicodeDecodeError:
                            raise FormatError("not UTF-8 text", path=path,
                                              line=lineno) from None
                        continue
                    raise FormatError("a line starting with a digit that is not '<epoch_s>: "
                                      "<message>' (a '<recv_ns> <frame>' recording is "
                                      "format='lines')", path=path, line=lineno)
                if line.startswith(b"configuration:"):
                    stats["configuration_lines"] += 1
                elif b" <-> " in line:
                    stats["connects"] += 1
                elif b" <- " in line:
                    stats["client_lines"] += 1
                else:
                    stats["unrecognized_lines"] += 1
                    self.warn(f"{path}:{lineno}: a line that fits no cryptofeed layout was "
                              "skipped (all are counted in stats['unrecognized_lines'])")
        finally:
            self._untrack(f)

    def _http_lines(self, path: Path) -> Iterator[tuple[int, str]]:
        stats = self.stats
        f = self._track(open_stream(path, max_line_bytes=self.max_line_bytes))
        pending: tuple[int, str, int, list[bytes]] | None = None

        def emit(p: tuple[int, str, int, list[bytes]]) -> tuple[int, str] | None:
            t, url, lineno, parts = p
            try:
                body = b"\n".join(parts).decode()
            except UnicodeDecodeError:
                raise FormatError("REST answer is not UTF-8 text", path=path,
                                  line=lineno) from None
            frame = rest_answer_frame(url, body)
            if frame is None:
                stats["http_unused"] += 1
                u = urlsplit(url)
                self.warn(f"REST answers of {u.scheme}://{u.netloc}{u.path} feed no parser "
                          "and were not injected (counted in stats['http_unused'])")
                return None
            stats["http_injected"] += 1
            return t, frame

        try:
            for lineno, raw in enumerate(f, 1):
                line = raw.rstrip(b"\r\n")
                if line.startswith(b"http") and b" -> " in line:
                    if pending is not None:
                        out = emit(pending)
                        if out is not None:
                            yield out
                    url, rest = line.split(b" -> ", 1)
                    i = rest.find(b": ")
                    try:
                        t = epoch_s_to_ns(rest[:i].decode()) if i > 0 else None
                    except ValueError:
                        t = None
                    if t is None:
                        raise FormatError("not '<url> -> <epoch_s>: <body>'", path=path,
                                          line=lineno)
                    pending = (t, url.decode(errors="replace"), lineno, [rest[i + 2:]])
                elif pending is not None:
                    pending[3].append(line)  # a body that runs over several lines
                elif line.strip():
                    raise FormatError("a REST companion line before any '<url> -> ' answer",
                                      path=path, line=lineno)
            if pending is not None:
                out = emit(pending)
                if out is not None:
                    yield out
        finally:
            self._untrack(f)

    def _chain(self, files: Sequence[Path], fn: Callable[[Path], Iterator[tuple[int, Any]]]
               ) -> Iterator[tuple[int, Any]]:
        for p in files:
            yield from fn(p)

    def _streams(self, files: Sequence[Path]) -> list[list[Path]]:
        """Files grouped by connection (rotations in order); unnamed files each alone."""
        groups: dict[tuple[str, str, str], list[tuple[int, Path]]] = {}
        alone: list[list[Path]] = []
        for p in files:
            m = _NAME.match(p.name)
            if m is None:
                alone.append([p])
                continue
            groups.setdefault((m["feed"], m["kind"], m["conn"]), []).append((int(m["rot"]), p))
        return [[p for _, p in sorted(g)] for g in groups.values()] + alone

    def _items(self) -> Iterator[tuple[int, Any]]:
        streams = [self._chain(g, self._ws_lines) for g in self._streams(self.ws_files)]
        streams += [self._chain(g, self._http_lines) for g in self._streams(self.http_files)]
        yield from merge_by_time(streams)
