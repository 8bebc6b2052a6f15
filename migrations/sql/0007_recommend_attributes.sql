-- recsys.recommend passes content_based's attribute filter through (a trailing
-- `attributes jsonb`), so the service asks every strategy through it.

drop function recsys.recommend(text, integer, text, text[], text, boolean, text, text);

-- One entry point for every strategy: `select * from recsys.recommend('u42', 10)`,
-- and the one the service calls (queries.sql: recommend). hybrid (the default)
-- blends or switches (`method`); content_based takes an optional `product`
-- (nearest items to it) instead of the user's recent items, and `attributes`
-- (only items whose attributes contain them). The strategies named here are
-- app.recommenders.STRATEGIES; tests/integration/test_sql_recommenders.py checks.
create function recsys.recommend(
    for_user text, k integer default 10, strategy text default 'hybrid',
    exclude text[] default '{}', category text default null, include_seen boolean default false,
    method text default 'adaptive', product text default null, attributes jsonb default null
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
begin
    case strategy
        when 'popular' then
            return query select * from recsys.popular(k, null, category, exclude, for_user, include_seen);
        when 'behavior_based' then
            return query select * from recsys.behavior_based(for_user, k, exclude, category, include_seen);
        when 'collaborative' then
            return query select * from recsys.collaborative(for_user, k, exclude, category, include_seen);
        when 'content_based' then
            return query select * from recsys.content_based(for_user, k, exclude, category,
                                                            include_seen, product, attributes);
        when 'hybrid' then
            return query select * from recsys.hybrid(for_user, k, exclude, category, include_seen,
                                                     method);
        else
            raise exception 'unknown strategy "%"', strategy
                using errcode = 'invalid_parameter_value', column = 'case',
                      hint = 'strategies: popular, behavior_based, collaborative, content_based, hybrid';
    end case;
end;
$$;
