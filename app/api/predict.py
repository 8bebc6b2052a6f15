"""GET /predict: a rating from the active explicit model."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from app.api import deps
from app.api.models import PredictArgs, Prediction
from app.db import predictions

bp = Blueprint("predict", __name__)


@bp.get("/predict")
@validate_querystring(PredictArgs)
@validate_response(Prediction)
async def predict(query_args: PredictArgs) -> Prediction:
    """The rating `user_id` would give `product_id`, predicted by the active
    explicit model (global mean + user and item biases + factors' dot product),
    clipped to the rating scale. A user or item the model has not seen gets the
    baseline of what is known, with `fallback: true` and a reason saying so.
    409 until a model is trained (`recsys train --model svd`)."""
    async with deps.connection() as conn:
        result = await predictions.predict(conn, query_args.user_id, query_args.product_id)
    return Prediction(
        user_id=query_args.user_id,
        product_id=query_args.product_id,
        rating=result.rating,
        reason=result.reason,
        fallback=result.fallback,
        run_id=result.run_id,
    )
