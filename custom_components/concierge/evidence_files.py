"""Where a visit's evidence files live, how they are named and referenced, and writing them.

Files live in `<media>/concierge/<site>/<visit>/` and are referenced as
`media-source://media_source/local/concierge/<site>/<visit>/<file>`. `path_for_ref` maps a
reference back to its file and refuses anything outside that folder. A file is written
once under the first free name (`<camera>-001.jpg`, ...) and never overwritten; its
SHA-256 goes into the audit chain with its reference. The blocking helpers here run in
the executor; taking the pictures is `evidence.EvidenceRecorder`'s job.
"""

import hashlib
import re
from itertools import count
from pathlib import Path

from homeassistant.core import HomeAssistant

MEDIA_DIR = "local"
"""The media folder (a key of `hass.config.media_dirs`) evidence is kept in."""
FOLDER = "concierge"
REF_PREFIX = f"media-source://media_source/{MEDIA_DIR}/{FOLDER}/"
_PART = re.compile(r"[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}")
"""A folder or file name in a reference: no separators, never `.` or `..`."""
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


def evidence_root(hass: HomeAssistant) -> Path:
    """The folder that holds every site's evidence."""
    media = hass.config.media_dirs.get(MEDIA_DIR) or hass.config.path("media")
    return Path(media) / FOLDER


def path_for_ref(hass: HomeAssistant, ref: str) -> Path | None:
    """The file behind an evidence reference, or None for anything not ours.

    Only `media-source://media_source/local/concierge/<site>/<visit>/<file>` with plain
    names (no separators, no `.` or `..` parts) is accepted, so the path cannot leave the
    evidence folder. Purely lexical: safe to call in the event loop.
    """
    if not ref.startswith(REF_PREFIX):
        return None
    parts = ref.removeprefix(REF_PREFIX).split("/")
    if len(parts) != 3 or not all(_PART.fullmatch(part) for part in parts):  # noqa: PLR2004
        return None
    return evidence_root(hass).joinpath(*parts)


def evidence_ref(site_id: str, visit_id: str, name: str) -> str:
    """The reference of the file `name` of a visit's evidence."""
    return f"{REF_PREFIX}{site_id}/{visit_id}/{name}"


def extension_for(content_type: str) -> str:
    """The file extension of a picture's content type (`jpg` when unknown)."""
    return _EXTENSIONS.get(content_type.partition(";")[0].strip(), "jpg")


def write_new(folder: Path, stem: str, extension: str, content: bytes) -> tuple[Path, str]:
    """Write `content` to the first free `<stem>-NNN.<extension>`; never overwrite."""
    folder.mkdir(parents=True, exist_ok=True)
    number = 0
    while True:
        number += 1
        path = folder / f"{stem}-{number:03d}.{extension}"
        try:
            with path.open("xb") as file:
                file.write(content)
        except FileExistsError:
            continue
        return path, hashlib.sha256(content).hexdigest()


def free_path(folder: Path, stem: str, extension: str) -> Path:
    """The first `<stem>-NNN.<extension>` not taken yet."""
    folder.mkdir(parents=True, exist_ok=True)
    return next(
        path
        for number in count(1)
        if not (path := folder / f"{stem}-{number:03d}.{extension}").exists()
    )


def hash_file(path: Path) -> str | None:
    """The SHA-256 of a file's bytes, or None if there is no file."""
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except FileNotFoundError:
        return None
