"""Files the desk writes: whole or not at all, and the data folder private to the user who runs it.

Every file is written by ``write_atomically``: to a temporary file in its own folder, flushed to
disk, then renamed over its name, so a crash or a full disk leaves the old file or none, never
half of one. The desk's folders are 0700 and the files in them 0600 (``private=True``): the data
folder holds customers' mail and attachments, password hashes and the session key. A file the
user asked for elsewhere (a packet, an export, a report) gets an ordinary new file's
permissions, as the umask allows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
_CHUNK = 1024 * 1024


def private_folder(path: Path) -> Path:
    """``path``, made with any missing parents as 0700 folders (``Path.mkdir`` gives only the
    last one the mode); folders already there are left as they are."""
    for folder in reversed([path, *path.parents]):
        if not folder.is_dir():
            folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
    return path


def write_atomically(path: Path, data: bytes, *, private: bool = False, replace: bool = True) -> bytes:
    """Write ``data`` to ``path`` through a temporary file beside it: written, fsynced, given
    its permissions, then renamed over ``path``. ``private=True`` (anything in the data folder,
    secrets above all) makes it 0600; otherwise it gets an ordinary new file's permissions
    (what the umask allows). ``replace=False`` keeps a file already there (two processes making
    the same file at once agree on the first one's); returns what the file now holds. The folder
    must exist; an OSError leaves no temporary file behind."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, PRIVATE_FILE if private else _ordinary_mode())
        if replace:
            os.replace(temporary, path)
        else:
            _link_unless_there(Path(temporary), path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    Path(temporary).unlink(missing_ok=True)
    _sync_folder(path.parent)
    return data if replace else path.read_bytes()


def _link_unless_there(temporary: Path, path: Path) -> None:
    """A hard link is made whole or not at all, and never over a file that is there."""
    with contextlib.suppress(FileExistsError):
        os.link(temporary, path)


def hand_off_file(folder: Path, data: bytes) -> Path:
    """``data`` in a new private file in ``folder``, for another process to read and delete
    (bulk intake passes large mail to its workers this way). Not synced: it lives for one
    run, and a crash leaves only a file the next run's clean-up removes."""
    handle, name = tempfile.mkstemp(dir=folder, suffix=".mail")  # mkstemp makes it 0600
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    return Path(name)


def holds(path: Path, sha256: str, size: int) -> bool:
    """Whether ``path`` is a whole copy of the content with this SHA-256 and size (a file
    torn by a crash or a full disk is not)."""
    try:
        if path.stat().st_size != size:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return False
    return digest.hexdigest() == sha256


def make_private(path: Path, mode: int = PRIVATE_FILE) -> None:
    """Take group and other access away from a file or folder the desk made earlier (an
    older desk made them readable by all); one it does not own is left alone."""
    try:
        current = path.stat().st_mode & 0o777
        if current & 0o077:
            os.chmod(path, current & mode)
    except OSError:
        return


def _ordinary_mode() -> int:
    """An ordinary new file's permissions (private where the umask cannot be read): mkstemp
    makes its file 0600 whatever the umask, so the mode is given back after writing."""
    umask = _umask()
    return 0o666 & ~(umask if umask is not None else 0o077)


def _umask() -> int | None:
    """The process's umask, read without changing it (Linux); None where it cannot be read.
    ``os.umask`` would set it for a moment, racing every other thread creating a file."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        return None
    return None


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entry for the renamed file, so the rename survives a power cut."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
