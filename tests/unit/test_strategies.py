from app import recommenders
from app.recommenders.base import Query


def needs(name: str, **ids: str) -> str | None:
    return recommenders.BY_NAME[name].missing(Query(**ids))


def test_what_each_strategy_needs():
    assert needs("popular") is None
    assert needs("behavior_based") == "user_id"
    assert needs("behavior_based", user_id="u") is None
    assert needs("collaborative", product_id="p") == "user_id"
    assert needs("content_based") == "user_id"
    assert needs("content_based", product_id="p") is None
    assert needs("content_based", user_id="u") is None


def test_variants_ask_every_strategy_and_each_hybrid_method():
    asked = recommenders.VARIANTS.values()
    assert {case for case, _ in asked} == set(recommenders.NAMES)
    hybrid = {method for case, method in asked if case == recommenders.HYBRID}
    assert hybrid == set(recommenders.METHODS)
    assert recommenders.HYBRID not in recommenders.BLENDED
    assert recommenders.FALLBACK in recommenders.BLENDED
    assert recommenders.DEFAULT in recommenders.NAMES
