"""The Quart app class: Quart with less work per request where it repeats
itself for nothing."""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable
from typing import Any

from quart import Quart


class App(Quart):
    """Quart, but `ensure_async` remembers its answer for plain functions.

    Quart asks it of every hook, view and error handler on every request
    (inspect.iscoroutinefunction each time, several per request); a function's
    answer never changes. Bound methods and other callables are asked as before
    (a cache of them would keep their objects alive)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async_of: dict[Callable[..., Any], Callable[..., Awaitable[Any]]] = {}

    def ensure_async(self, func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        if type(func) is not types.FunctionType:
            return super().ensure_async(func)
        found = self._async_of.get(func)
        if found is None:
            found = self._async_of[func] = super().ensure_async(func)
        return found
