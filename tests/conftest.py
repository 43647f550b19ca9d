import os

import pytest
import torch

os.environ.setdefault("TOYMODELS_PROGRESS", "0")


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Bitwise reproducibility on CPU holds at a fixed thread count (see TOOLCHAIN.md)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def store_in_use_restored():
    """A test that chooses the store (tm.store.set_directory, use_book_store) leaves the next one the default."""
    from toymodels import store

    chosen = store.directories._DIRECTORY, store.directories._REMOTE
    yield
    store.directories._DIRECTORY, store.directories._REMOTE = chosen
