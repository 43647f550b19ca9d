"""Where the store is: a user's folder, one chosen with :func:`set_directory`, or the book's committed results
(:func:`use_book_store`, fetched one by one from the repository where there is no checkout); and its mode."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

from ..errors import ConfigError, StoreWarning
from . import MODES
from .entries import _write_bytes

# Where results go. A user's experiments go to a user location, never into a checkout of the repository unless
# asked; the book's chapters use the book's committed store (``use_book_store``, in each chapter's set-up cell).
_DIRECTORY: Path | None = None  # set by set_directory / use_book_store; None: user_directory()


_REMOTE: str | None = None  # where missing entries of the current store may be fetched from (the book's, online)


def user_directory() -> Path:
    """Where results go unless told otherwise: ``$TOYMODELS_STORE_DIR``, else ``$XDG_CACHE_HOME/toymodels``,
    else ``~/.cache/toymodels``."""
    if os.environ.get("TOYMODELS_STORE_DIR"):
        return Path(os.environ["TOYMODELS_STORE_DIR"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "toymodels"


def set_directory(directory: str | os.PathLike | None) -> Path:
    """Use ``directory`` as this process's store (what :func:`train` and ``ResultsStore()`` use); ``None`` goes
    back to :func:`user_directory`. Returns the directory now in use."""
    global _DIRECTORY, _REMOTE
    _DIRECTORY = Path(directory).expanduser() if directory is not None else None
    _REMOTE = None
    return default_directory()


def default_directory() -> Path:
    """The store in use: the one :func:`set_directory` or :func:`use_book_store` chose, else
    :func:`user_directory`."""
    return _DIRECTORY if _DIRECTORY is not None else user_directory()


def book_directory() -> Path | None:
    """The book's committed store, ``book/results`` of a checkout of the repository: the one the package was
    installed from (editable), else one that the working directory is in (its root or its ``book/``); ``None``
    elsewhere (a wheel in a scratch directory, Colab)."""
    here = Path.cwd()
    for root in (Path(__file__).resolve().parents[2], here, here.parent):
        if (root / "_toc.yml").is_file() and (root / "book" / "results").is_dir():
            return root / "book" / "results"
    return None


def repository_url() -> str | None:
    """The public repository, from the package's metadata (``[project.urls] Repository`` in ``pyproject.toml``,
    the one setting, which the book's extension reads too; a test checks that they agree): ``None`` while it is
    unset."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("toymodels").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    found = [url.split(",", 1)[1].strip() for url in urls if url.split(",", 1)[0].strip().lower() == "repository"]
    return found[0] if found else None


def remote_url() -> str | None:
    """Where the book's entries can be fetched one by one: ``$TOYMODELS_STORE_URL``, else the raw files of
    ``book/results`` on the main branch of :func:`repository_url` (on GitHub); ``None`` when neither is set."""
    if os.environ.get("TOYMODELS_STORE_URL"):
        return os.environ["TOYMODELS_STORE_URL"].rstrip("/")
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", repository_url() or "")
    return f"https://raw.githubusercontent.com/{match[1]}/{match[2]}/main/book/results" if match else None


def use_book_store() -> Path:
    """Make the book's stored results this process's store (each chapter's set-up cell calls it): the committed
    ``book/results`` in a checkout (:func:`book_directory`); elsewhere (Colab, a wheel) a cache folder,
    ``user_directory() / "book"``, into which each entry a chapter needs is fetched from :func:`remote_url` and
    checked (checksum and key) before use. Without a checkout or a remote, a :class:`StoreWarning` says that the
    chapters will train. Returns the directory in use."""
    global _REMOTE
    found = book_directory()
    if found is not None:
        return set_directory(found)
    directory = set_directory(user_directory() / "book")
    _REMOTE = remote_url()
    if _REMOTE is None:
        warnings.warn(
            "the book's stored results are not here (no checkout of the repository) and no repository URL is set "
            f"($TOYMODELS_STORE_URL): the chapters will train their runs at paper fidelity into {directory}, "
            "which can take hours on a laptop (a chapter's parameter fast = True takes minutes)",
            StoreWarning,
            stacklevel=2,
        )
    return directory


def _fetches_into(directory: Path) -> bool:
    """Whether missing entries of the store in ``directory`` may be fetched: it is the one :func:`use_book_store`
    chose, and that found a remote."""
    return _REMOTE is not None and directory == _DIRECTORY


def _fetch(relative: str, path: Path) -> bool:
    """Fetch the entry ``relative`` (``name.npz`` or ``kind/name.npz``) of the remote store into ``path``; True if
    it arrived (it is checked when read). A failure (offline, not there) is a :class:`StoreWarning`, not an
    error: the entry is then missing as before."""
    import urllib.error
    import urllib.request

    url = f"{_REMOTE}/{relative}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
        _write_bytes(path, data)
        return True
    except (urllib.error.URLError, OSError, ValueError) as error:
        warnings.warn(f"results store: could not fetch {url} ({error})", StoreWarning, stacklevel=3)
        return False


def default_mode() -> str:
    mode = os.environ.get("TOYMODELS_STORE", "update")
    if mode not in MODES:
        raise ConfigError(f"TOYMODELS_STORE must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    return mode
