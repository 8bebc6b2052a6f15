"""Acceptance tests drive real processes: a browser, servers started and stopped."""

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def chromium_path():
    path = os.environ.get("REC_CHROMIUM") or shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: install Debian's chromium package")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return path
