"""A tiny MovieLens-100K-shaped data set (u.data + u.item) with taste structure:
users prefer one genre, so collaborative strategies have something to find."""

from __future__ import annotations

from pathlib import Path

import numpy as np

GENRES = 19  # u.item's genre flag columns
START = 880_000_000  # epoch seconds, as in ml-100k


def write(
    directory: Path, users: int = 30, items: int = 40, per_user: int = 15, seed: int = 0
) -> tuple[Path, Path]:
    """u.data (user, item, rating, time) and u.item (id|title|date||url|flags)."""
    rng = np.random.default_rng(seed)
    genre_of = {item: 1 + item % 4 for item in range(1, items + 1)}
    lines = []
    for user in range(1, users + 1):
        liked = 1 + user % 4
        weights = np.array([4.0 if genre_of[i] == liked else 1.0 for i in genre_of])
        chosen = rng.choice(list(genre_of), size=per_user, replace=False, p=weights / weights.sum())
        for n, item in enumerate(chosen):
            rating = 5 if genre_of[int(item)] == liked else int(rng.integers(1, 4))
            lines.append(f"{user}\t{item}\t{rating}\t{START + user * 1000 + n * 10}")
    data = directory / "u.data"
    data.write_text("\n".join(lines) + "\n")
    rows = []
    for item, genre in genre_of.items():
        flags = ["1" if g == genre else "0" for g in range(GENRES)]
        rows.append("|".join([str(item), f"Film {item} (1995)", "01-Jan-1995", "", "", *flags]))
    catalogue = directory / "u.item"
    catalogue.write_text("\n".join(rows) + "\n")
    return data, catalogue
