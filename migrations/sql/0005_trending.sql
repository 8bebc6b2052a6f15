-- Revision 0005_trending, frozen: case=trending and case=latest as sql/ stood
-- when this revision was written (settings.trending_window, recsys.trending,
-- recsys.latest, recsys.recommend and recsys.strategies naming them). Never
-- edited: a later change is a new revision.

alter table recsys.settings
    add column trending_window interval not null default '1 day'
        check (trending_window > interval '0');

-- recsys schema: trending and latest items (case=trending, case=latest).

-- Items gaining attention: weighted positive events in the latest
-- settings.trending_window against the item's own mean per window over the 7
-- windows before, as a Poisson z-score (r - b) / sqrt(b + 1), so an item
-- always this busy is not trending and a sudden jump of a quiet item is.
-- Only items with a positive score; popular items (" (nothing trending)") fill
-- the rest. `at`: the end of the latest window (default now; an offline
-- evaluation passes its split's time).
create function recsys.trending(
    k integer default 10, category text default null, exclude text[] default '{}',
    for_user text default null, include_seen boolean default false,
    at timestamptz default null
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    uid bigint := (select id from recsys.users where external_id = for_user);
    win interval := (select s.trending_window from recsys.settings s);
    shown text[] := '{}';
    row record;
begin
    perform recsys.check_k(k);
    exclude := coalesce(exclude, '{}');
    at := coalesce(at, now());
    for row in
        select i.external_id, w.z, w.recent, w.base
          from (select e.item_id,
                       sum(e.w) filter (where e.ts > at - win) as recent,
                       coalesce(sum(e.w) filter (where e.ts <= at - win), 0) / 7 as base,
                       (sum(e.w) filter (where e.ts > at - win)
                        - coalesce(sum(e.w) filter (where e.ts <= at - win), 0) / 7)
                       / sqrt(coalesce(sum(e.w) filter (where e.ts <= at - win), 0) / 7 + 1) as z
                  from (select e.item_id, e.ts,
                               t.weight * case when t.uses_value then coalesce(e.value, 0)
                                               else 1 end as w
                          from recsys.events e
                          join recsys.event_types t on t.id = e.type_id
                         where e.ts > at - 8 * win and e.ts <= at and t.kind = 'positive') e
                 group by e.item_id) w
          join recsys.items i on i.id = w.item_id
         where w.z > 0
           and recsys.live(i.available, i.available_from, i.expires_at)
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
           and not exists (select 1 from recsys.interactions x
                            where x.user_id = uid and x.item_id = i.id
                              and (not include_seen or (include_seen and x.conversions > 0)))
           and not exists (select 1 from recsys.rejections r
                            where r.user_id = uid and r.item_id = i.id)
         order by w.z desc, w.recent desc, i.id
         limit k
    loop
        product_id := row.external_id;
        score := row.z;
        reason := format('trending: %s in the last %s, %s usual', round(row.recent::numeric, 1),
                         win, case when row.base > 0
                                   then round((row.recent / row.base)::numeric, 1) || 'x'
                                   else 'none' end);
        shown := shown || row.external_id;
        return next;
    end loop;
    return query
    select * from recsys.popular_top_up(for_user, k, shown, exclude, category, include_seen,
                                        ' (nothing trending)');
end;
$$;

-- The newest items on sale: by the start of their window (available_from,
-- else when they were added), newest first.
create function recsys.latest(
    k integer default 10, category text default null, exclude text[] default '{}',
    for_user text default null, include_seen boolean default false
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    uid bigint := (select id from recsys.users where external_id = for_user);
begin
    perform recsys.check_k(k);
    exclude := coalesce(exclude, '{}');
    return query
    select i.external_id,
           extract(epoch from coalesce(i.available_from, i.created_at))::double precision,
           'new: since ' || to_char(coalesce(i.available_from, i.created_at), 'YYYY-MM-DD')
      from recsys.items i
     where recsys.live(i.available, i.available_from, i.expires_at)
       and (category is null or i.categories @> array[category])
       and not (i.external_id = any(exclude))
       and not exists (select 1 from recsys.interactions x
                        where x.user_id = uid and x.item_id = i.id
                          and (not include_seen or (include_seen and x.conversions > 0)))
       and not exists (select 1 from recsys.rejections r
                        where r.user_id = uid and r.item_id = i.id)
     order by coalesce(i.available_from, i.created_at) desc, i.id desc
     limit k;
end;
$$;

-- One entry point for every strategy: `select * from recsys.recommend('u42', 10)`,
-- and the one the service calls (queries.sql: recommend). hybrid (the default)
-- blends or switches (`method`); content_based takes an optional `product`
-- (nearest items to it) instead of the user's recent items, and `attributes`
-- (only items whose attributes contain them). The strategies named here are
-- app.recommenders.STRATEGIES; tests/integration/sql/test_sql_recommenders.py checks.
create or replace function recsys.recommend(
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

-- The strategies recsys.recommend dispatches to (app.recommenders.STRATEGIES).
create or replace function recsys.strategies()
returns text[]
language sql immutable parallel safe
return array['collaborative', 'behavior_based', 'content_based', 'popular', 'trending',
             'latest', 'hybrid'];

