-- recsys schema: the entry points analysts call from psql: one dispatch for
-- every strategy, and the analytics views.

-- ------------------------------------------------------------ recommendations

-- One entry point for every strategy: `select * from recsys.recommend('u42', 10)`,
-- and the one the service calls (queries.sql: recommend). hybrid (the default)
-- blends or switches (`method`); content_based takes an optional `product`
-- (nearest items to it) instead of the user's recent items, and `attributes`
-- (only items whose attributes contain them). The strategies named here are
-- app.recommenders.STRATEGIES; tests/integration/sql/test_sql_recommenders.py checks.
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
        when 'trending' then
            return query select * from recsys.trending(k, category, exclude, for_user, include_seen);
        when 'latest' then
            return query select * from recsys.latest(k, category, exclude, for_user, include_seen);
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
                      hint = 'strategies: popular, trending, latest, behavior_based, collaborative,'
                             ' content_based, hybrid';
    end case;
end;
$$;

-- ---------------------------------------------------------------------- views

-- Events per item and type, every type: the long form of item_funnel.
create view recsys.item_event_counts as
select i.external_id as product_id, t.name as event_type, t.kind, c.events, c.value_sum
  from recsys.item_type_stats c
  join recsys.items i on i.id = c.item_id
  join recsys.event_types t on t.id = c.type_id;

-- Conversion per item: views -> carts -> purchases (every conversion type).
create view recsys.item_funnel as
select i.external_id as product_id,
       i.title,
       coalesce(s.users, 0) as users,
       coalesce(c.views, 0) as views,
       coalesce(c.carts, 0) as add_to_carts,
       coalesce(c.purchases, 0) as purchases,
       coalesce(c.negatives, 0) as negatives,
       round(c.carts::numeric / nullif(c.views, 0), 4) as view_to_cart,
       round(c.purchases::numeric / nullif(c.carts, 0), 4) as cart_to_purchase
  from recsys.items i
  left join recsys.item_stats s on s.item_id = i.id
  left join (select c.item_id,
                    sum(c.events) filter (where t.name = 'view') as views,
                    sum(c.events) filter (where t.name = 'add_to_cart') as carts,
                    sum(c.events) filter (where t.conversion) as purchases,
                    sum(c.events) filter (where t.kind = 'negative') as negatives
               from recsys.item_type_stats c
               join recsys.event_types t on t.id = c.type_id
              group by c.item_id) c on c.item_id = i.id;

-- Events, active users and items per day (in the session's time zone).
create view recsys.daily_activity as
select e.ts::date as day,
       count(*) as events,
       count(distinct e.user_id) as users,
       count(distinct e.item_id) as items,
       count(*) filter (where t.name = 'view') as views,
       count(*) filter (where t.name = 'add_to_cart') as add_to_carts,
       count(*) filter (where t.conversion) as purchases,
       count(*) filter (where t.uses_value) as ratings,
       count(*) filter (where t.kind = 'negative') as negatives
  from recsys.events e
  join recsys.event_types t on t.id = e.type_id
 group by 1;
