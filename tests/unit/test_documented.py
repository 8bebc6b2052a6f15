"""The README's Configuration table and docs/security.md's limits match app/config.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import config
from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def section(path: Path, title: str) -> str:
    """The text under `## title`, up to the next `## ` heading."""
    text = path.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def spaced(n: int) -> str:
    return f"{n:,}".replace(",", " ")  # how the docs write 10000: "10 000"


def test_the_readme_lists_every_variable_the_settings_read():
    read = set(re.findall(r'"(REC_[A-Z_]+)"', Path(config.__file__).read_text()))
    listed = set(re.findall(r"`(REC_[A-Z_]+)`", section(ROOT / "README.md", "Configuration")))
    assert read and read == listed


def row(label: str) -> str:
    for line in section(ROOT / "docs" / "security.md", "Limits").splitlines():
        if line.startswith(f"| {label} |"):
            return line
    raise AssertionError(f"docs/security.md has no limits row {label!r}")


defaults = Settings()


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("request body", f"{defaults.max_body_bytes // 2**20} MiB"),
        ("events per `POST /events`", spaced(config.MAX_BATCH)),
        ("items per `POST /items`", spaced(config.MAX_ITEMS)),
        ("`user_id`, `product_id`, `event_id`, `category`", f"{config.MAX_ID} characters"),
        ("`event_type`", f"{config.MAX_EVENT_TYPE} characters"),
        ("`exclude`", f"{spaced(config.MAX_EXCLUDE)} characters"),
        ("`k`", f"1 .. {config.MAX_K}"),
        ("`limit` (`/items`, history)", f"1 .. {config.MAX_PAGE}"),
        ("a socket message", f"{defaults.ws_max_message // 1024} KiB"),
        ("socket messages", f"{defaults.ws_rate:g}/s, bursts of {defaults.ws_burst}"),
    ],
)
def test_security_md_states_the_limits_of_the_code(label, value):
    assert f"| {value} |" in row(label)
