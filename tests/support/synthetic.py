"""Tiny data sets shaped like MovieLens 100K (u.data + u.item) and Online Retail
(online_retail.csv.gz), with taste structure: users prefer one genre or item
group, so collaborative strategies have something to find."""

from __future__ import annotations

import gzip
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


RETAIL_COLUMNS = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"


def write_retail(
    path: Path, customers: int = 24, items: int = 30, invoices: int = 6, seed: int = 0
) -> Path:
    """An Online-Retail-shaped online_retail.csv.gz: each customer buys from one
    of four item groups in monthly invoices over 2011, and cancels ("C" invoice,
    negative quantity) a line of an earlier invoice now and then; a few lines
    have no customer."""
    rng = np.random.default_rng(seed)
    rows, number = [RETAIL_COLUMNS], 500_000
    for customer in range(12_000, 12_000 + customers):
        group = customer % 4
        weights = np.array([4.0 if i % 4 == group else 1.0 for i in range(items)])
        bought: list[int] = []
        for month in range(1, invoices + 1):
            number += 1
            when = f"2011-{2 * month - 1:02d}-{1 + customer % 27:02d} 10:{month:02d}:00"
            basket = rng.choice(items, size=4, replace=False, p=weights / weights.sum())
            for item in basket:
                rows.append(f"{number},S{item},Item {item},3,{when},1.25,{customer},UK")
            bought += [int(i) for i in basket]
            if rng.random() < 0.5:
                item = bought[int(rng.integers(len(bought)))]
                rows.append(f"C{number},S{item},Item {item},-1,{when},1.25,{customer},UK")
    rows.append(f"{number + 1},S0,Item 0,1,2011-06-01 09:00:00,1.25,,UK")
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    return path
