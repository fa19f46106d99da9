"""Files that survive faults: atomic saves, a lock between processes, and a checksum of the weights.

- `atomic_write(path, data)`: write to a temporary file in the same folder, then `os.replace` it into place.
  A save cut short (full disk, a killed process) leaves the old file untouched, and a reader never sees
  half a file.
- `file_lock(path)`: a lock file next to `path` (fcntl on Linux and macOS, msvcrt on Windows), so two
  processes do not both train the model that neither has saved yet.
- `tensors_checksum(tensors, extra)`: SHA-256 of named tensors and a JSON-able `extra`, to catch flipped bytes.

Every failure to write is raised as an `OSError` whose message names the file and says why in words.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping

import torch

__all__ = ["atomic_write", "file_lock", "tensors_checksum", "why_not_written"]


def why_not_written(error: BaseException, path: Path) -> str:
    """A short reason, in words, for an error raised while writing `path`."""
    code = getattr(error, "errno", None)
    if code == errno.ENOSPC:
        return "the disk is full"
    if code == errno.EFBIG:
        return "the file would be larger than this process may write (a file-size limit)"
    if code == errno.EROFS:
        return f"{path.parent} is on a read-only file system"
    if code in (errno.EACCES, errno.EPERM) or isinstance(error, PermissionError):
        return f"no permission to write in {path.parent}"
    if code == errno.EDQUOT:
        return "the disk quota is used up"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror if code in (errno.EISDIR, errno.ENOTDIR) else f"{error.strerror} ({type(error).__name__})"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


def _check_target(path: Path) -> None:
    """Raise a clear OSError if `path` cannot be a file: it is a folder, or a parent is a file."""
    if str(path) in ("", ".") or path.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"{path} is a folder; give a file name, e.g. {path / 'translator.pt'}"
                                if str(path) not in ("", ".") else "expected a file name, got an empty path")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, f"{parent} is a file, not a folder")
            break


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` all at once: a temporary file in the same folder, fsync, then rename into place."""
    path = Path(path)
    _check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        _replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _replace(src: str, dst: Path, attempts: int = 20) -> None:
    """os.replace, retried briefly on Windows, where a file another process has open cannot be replaced."""
    for attempt in range(attempts):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if sys.platform != "win32" or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def tensors_checksum(tensors: Mapping[str, torch.Tensor], extra=None) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes (in name order), and `extra` as sorted JSON."""
    digest = hashlib.sha256()
    digest.update(json.dumps(extra, sort_keys=True, ensure_ascii=False, default=str).encode())
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":                                  # pragma: no cover - exercised on Windows only
        import msvcrt
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _unlock(fd: int) -> None:
    if sys.platform == "win32":                                  # pragma: no cover
        import msvcrt
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def file_lock(path: str | os.PathLike, *, timeout: float = 900.0, on_wait: Callable[[], None] | None = None):
    """Hold `<path>.lock` for the block; yields True if locked, False if no lock could be had.

    A second process waits here (calling `on_wait()` once) until the first leaves its block. Where no lock
    file can be made (a read-only folder), or after `timeout` seconds, the block runs unlocked: a lock
    only avoids duplicate work, it must never stop the program. The lock file stays; the OS releases
    the lock itself if the process dies.
    """
    lock_path = Path(path).with_name(Path(path).name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield False
        return
    try:
        deadline, waited = time.monotonic() + timeout, False
        while not (locked := _try_lock(fd)):
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        try:
            yield locked
        finally:
            if locked:
                _unlock(fd)
    finally:
        os.close(fd)
