"""The catalogue: create, replace, read items and their co-occurrence neighbours."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from app import recommenders
from app.api import deps
from app.api.errors import APIError
from app.api.models import (
    Item,
    ItemBatch,
    ItemIn,
    ItemList,
    ItemListArgs,
    ItemsUpserted,
    ListArgs,
    Recommendations,
    SimilarArgs,
    ThenBoughtArgs,
    split_ids,
)
from app.api.recommend import as_models
from app.config import MAX_ID, MAX_ITEMS
from app.db import items as db_items
from app.recommenders.base import Query, Served
from app.training import live_embeddings

bp = Blueprint("items", __name__)


@bp.put("/items/<path:product_id>")
@validate_request(ItemIn)
@validate_response(Item, 200)
@validate_response(Item, 201)
async def put_item(product_id: str, data: ItemIn) -> tuple[dict[str, Any], int]:
    """Create the item or replace all of its metadata (201 when created)."""
    product_id = product_id.strip()
    if not product_id or len(product_id) > MAX_ID:
        raise APIError(
            400,
            "invalid_request",
            f"product_id must be 1-{MAX_ID} characters",
            {"product_id": "invalid"},
        )
    async with deps.connection() as conn:
        [row] = await db_items.upsert_items(
            conn, [{"product_id": product_id, **data.model_dump(mode="json")}]
        )
        await live_embeddings.embed_items(conn, [product_id])
        item = await db_items.select_item(conn, product_id)
    assert item is not None
    return item, 201 if row["created"] else 200


@bp.post("/items")
@validate_request(ItemBatch)
@validate_response(ItemsUpserted, 201)
async def post_items(data: ItemBatch) -> tuple[ItemsUpserted, int]:
    """Create or replace a batch of items in one transaction (413 beyond the limit)."""
    if len(data.items) > MAX_ITEMS:
        raise APIError(413, "batch_too_large", f"a batch holds at most {MAX_ITEMS} items")
    ids = [item.product_id for item in data.items]
    if len(set(ids)) != len(ids):
        raise APIError(
            400,
            "invalid_request",
            "product_id repeated in the batch",
            {"items.product_id": "duplicate"},
        )
    async with deps.connection() as conn:
        rows = await db_items.upsert_items(
            conn, [item.model_dump(mode="json") for item in data.items]
        )
        await live_embeddings.embed_items(conn, ids)
    created = sum(1 for row in rows if row["created"])
    return ItemsUpserted(created=created, updated=len(rows) - created), 201


@bp.get("/items")
@validate_querystring(ItemListArgs)
@validate_response(ItemList)
async def list_items(query_args: ItemListArgs) -> ItemList:
    """Browse the catalogue, most popular first; `category` filters."""
    async with deps.connection() as conn:
        rows = await db_items.list_items(
            conn, query_args.category, query_args.limit, query_args.offset
        )
    return ItemList(items=rows)


@bp.get("/items/<path:product_id>")
@validate_response(Item)
async def get_item(product_id: str) -> dict[str, Any]:
    """An item's metadata and its live counts."""
    async with deps.connection() as conn:
        item = await db_items.select_item(conn, product_id)
    if item is None:
        raise APIError(
            404, "not_found", f"unknown product_id {product_id!r}", {"product_id": "unknown"}
        )
    return item


@bp.get("/items/<path:product_id>/similar")
@validate_querystring(SimilarArgs)
@validate_response(Recommendations)
async def similar(product_id: str, query_args: SimilarArgs) -> Recommendations:
    """Items most often chosen by the same users, normalised by popularity
    (`by=cooccurrence`, the default), or nearest by content embedding
    (`by=content`; popular items, saying why, when the item has no text)."""
    query = item_query(product_id, query_args)
    async with deps.statement() as conn:  # the list, then its ledger row: no transaction
        served = await recommenders.serve_similar(
            conn, query, query_args.by, deps.exposure("similar")
        )
    return item_list(product_id, recommenders.SIMILAR, served)


@bp.get("/items/<path:product_id>/bought-together")
@validate_querystring(ListArgs)
@validate_response(Recommendations)
async def bought_together(product_id: str, query_args: ListArgs) -> Recommendations:
    """Items bought in the same basket: purchases by one user within an hour of
    a purchase of this item (settings.basket_gap; an invoice's lines are one
    basket), most shared baskets first."""
    query = item_query(product_id, query_args)
    async with deps.statement() as conn:
        served = await recommenders.serve_bought_together(conn, query, deps.exposure("similar"))
    return item_list(product_id, recommenders.BOUGHT_TOGETHER, served)


@bp.get("/items/<path:product_id>/then-bought")
@validate_querystring(ThenBoughtArgs)
@validate_response(Recommendations)
async def then_bought(product_id: str, query_args: ThenBoughtArgs) -> Recommendations:
    """Viewed, then bought: items bought by the users who sent `after` (view by
    default, or add_to_cart) for this item, ranked by log-likelihood ratio
    (cross-occurrence, recsys.cross_pairs): what those users bought and
    everyone else did not."""
    query = item_query(product_id, query_args)
    async with deps.statement() as conn:
        served = await recommenders.serve_then_bought(
            conn, query, query_args.after, deps.exposure("similar")
        )
    return item_list(product_id, recommenders.THEN_BOUGHT, served)


def item_query(product_id: str, args: ListArgs) -> Query:
    """The query of a list about one item (similar, bought together)."""
    return Query(
        product_id=product_id, k=args.k, exclude=split_ids(args.exclude), category=args.category
    )


def item_list(product_id: str, case: str, served: Served) -> Recommendations:
    """An item's list as answered, counted in /metrics under surface `similar`."""
    deps.count_list(case, "similar")
    return item_answer(product_id, case, served)


def item_answer(product_id: str, case: str, served: Served) -> Recommendations:
    return Recommendations(
        product_id=product_id,
        case=case,
        recomm_id=served.recomm_id,
        recommendations=as_models(served.recommendations),
    )
