"""A response body unpacked within the byte limit: a few hundred kilobytes of gzip can hold
gigabytes, so the limit counts unpacked bytes and unpacking stops the moment it is passed.

Only the codings the fetcher asks for are read: gzip, deflate, or none at all.
"""

import zlib

ACCEPTED = "gzip, deflate"
_NONE = frozenset({"", "identity"})
_GZIP = frozenset({"gzip", "x-gzip"})


class UnaskedCoding(Exception):
    """The server compressed the body in a way the fetcher did not offer."""


class OverLimit(Exception):
    """The unpacked body would be larger than the limit."""


class Unreadable(Exception):
    """The body is not valid data in the coding the server named."""


class BoundedBody:
    """Collects a body's raw bytes as they arrive and keeps at most `limit` unpacked bytes."""

    def __init__(self, content_encoding: str, *, limit: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c not in _NONE]
        if len(codings) > 1 or (codings and codings[0] not in _GZIP | {"deflate"}):
            raise UnaskedCoding(content_encoding)
        self._coding = codings[0] if codings else None
        self._limit = limit
        self._content = bytearray()
        self._head = b""
        self._unpacker = zlib.decompressobj(zlib.MAX_WBITS | 16) if self._coding in _GZIP else None

    def feed(self, raw: bytes) -> None:
        """Add the next raw bytes. Raises OverLimit or Unreadable."""
        if self._coding is None:
            self._keep(raw)
            return
        if self._unpacker is None:
            # Deflate's two header bytes say whether the stream is zlib-wrapped or bare.
            self._head += raw
            if len(self._head) < 2:
                return
            raw, self._head = self._head, b""
            self._unpacker = zlib.decompressobj(_deflate_window(raw))
        try:
            # One byte past the room left is enough to know the limit is passed.
            self._keep(self._unpacker.decompress(raw, self._limit - len(self._content) + 1))
        except zlib.error as error:
            raise Unreadable(f"not valid {self._coding} data ({error})") from None

    def content(self) -> bytes:
        """Everything unpacked, once the last raw bytes are in. Raises OverLimit or Unreadable."""
        if self._head:
            raise Unreadable(f"not valid {self._coding} data (too short)")
        if self._unpacker is not None:
            self._keep(self._unpacker.flush())
        return bytes(self._content)

    def _keep(self, data: bytes) -> None:
        if len(self._content) + len(data) > self._limit:
            raise OverLimit
        self._content += data


def _deflate_window(head: bytes) -> int:
    # HTTP's deflate is the zlib format, yet some servers send the bare deflate stream.
    is_zlib = head[0] & 0x0F == 8 and ((head[0] << 8) | head[1]) % 31 == 0
    return zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS
