"""Files users and bots send: kept with their bytes, described by getFile, downloaded from
`/file/bot...`; the documents bots send with sendDocument (upload, file_id or URL).

As in Telegram, a bot first asks getFile for a file's `file_path`, then downloads
`<server>/file/bot<token>/<file_path>`. Bots may download files of up to 20 MB.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from urllib.parse import urlsplit

from emulator.call import Call, Handler
from emulator.errors import ApiError
from emulator.params import UploadedFile
from emulator.state import JsonObject, World, encode_id

DOWNLOAD_MAX_BYTES = 20 * 1024 * 1024
# Bots may send files of up to 50 MB.
UPLOAD_MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    """A file's identity as the Bot API shows it, and its content."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes

    def to_api(self) -> JsonObject:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


def store_file(world: World, file_id: str, file_unique_id: str, path: str, data: bytes) -> None:
    """Keep a file's bytes where getFile and the download find them."""
    stored = StoredFile(file_id=file_id, file_unique_id=file_unique_id, file_path=path, data=data)
    world.stored_files[file_id] = stored
    world.files_by_path[path] = stored


def store_document(world: World, filename: str, data: bytes) -> JsonObject:
    """Keep a document a user or a bot sends; return the Document object its message carries."""
    number = world.next_number()
    suffix = filename.rpartition(".")[2] if "." in filename else "bin"
    file_id = encode_id("BQACAgIAAxkBAAI", number)
    file_unique_id = encode_id("AgAD", number)
    store_file(world, file_id, file_unique_id, f"documents/file_{number}.{suffix}", data)
    document: JsonObject = {
        "file_id": file_id,
        "file_unique_id": file_unique_id,
        "file_name": filename,
        "file_size": len(data),
    }
    mime_type, _ = mimetypes.guess_type(filename)
    if filename.lower().endswith((".md", ".markdown")):
        mime_type = "text/markdown"
    if mime_type is not None:
        document["mime_type"] = mime_type
    world.documents[file_id] = document
    return document


def resolve_document(world: World, document: object) -> JsonObject:
    """The Document for an upload, a file_id sent before, or a URL (the emulator fetches none:
    such a document is named after the URL and has no bytes)."""
    if isinstance(document, UploadedFile):
        if not document.data:
            raise ApiError.bad_request("file must be non-empty")
        if len(document.data) > UPLOAD_MAX_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        return store_document(world, document.filename or "document", document.data)
    if isinstance(document, str):
        known = world.documents.get(document)
        if known is not None:
            return known
        if document.startswith(("http://", "https://")):
            name = urlsplit(document).path.rpartition("/")[2] or "document"
            return store_document(world, name, b"")
    raise ApiError.bad_request("wrong file identifier/HTTP URL specified")


def download(world: World, token: str, file_path: str) -> bytes:
    """The bytes behind `file_path` for the bot with `token`; ApiError when there are none."""
    if token not in world.bots_by_token:
        raise ApiError.unauthorized()
    stored = world.files_by_path.get(file_path)
    if stored is None:
        raise ApiError.not_found()
    return stored.data


async def get_file(call: Call) -> object:
    file_id = call.string("file_id") or ""
    stored = call.world.stored_files.get(file_id)
    if stored is None:
        raise ApiError.bad_request("invalid file_id")
    if len(stored.data) > DOWNLOAD_MAX_BYTES:
        raise ApiError.bad_request("file is too big")
    return stored.to_api()


HANDLERS: dict[str, Handler] = {"getFile": get_file}
