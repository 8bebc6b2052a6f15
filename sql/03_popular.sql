-- recsys schema: popularity, and the popular top-up every strategy falls back
-- to when its own candidates run short.

-- Most popular items by time-decayed weighted events (or, with `since`, by
-- weighted events in that window); items without events fill the tail.
create function recsys.popular(
    k integer default 10, since interval default null, category text default null,
    exclude text[] default '{}', for_user text default null, include_seen boolean default false
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable
-- A connection that asks for lists of different lengths (rules read pools of
-- 4k) made the cached generic plan of `limit k` 4x slower for k = 10
-- (benchmarks/rules_cost.py); a custom plan costs nothing measurable here.
set plan_cache_mode = force_custom_plan
as $$
declare
    uid bigint := (select id from recsys.users where external_id = for_user);
    label text := 'popular' || coalesce(' in ' || category, '');
    n integer;
begin
    perform recsys.check_k(k);
    exclude := coalesce(exclude, '{}');
    if since is null then
        return query
        select i.external_id,
               exp(s.log_popularity - (select max(log_popularity) from recsys.item_stats)),
               label
          from recsys.item_stats s
          join recsys.items i on i.id = s.item_id
         where s.log_popularity is not null
           and recsys.live(i.available, i.available_from, i.expires_at)
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
           and not exists (select 1 from recsys.interactions x
                            where x.user_id = uid and x.item_id = i.id
                              and (not include_seen or (include_seen and x.conversions > 0)))
           and not exists (select 1 from recsys.rejections r
                            where r.user_id = uid and r.item_id = i.id)
         order by s.log_popularity desc nulls last, i.id
         limit k;
    else
        return query
        select i.external_id, w.score, label || ' in the last ' || since::text
          from (select e.item_id,
                       sum(t.weight * case when t.uses_value then coalesce(e.value, 0) else 1 end
                       )::double precision as score
                  from recsys.events e
                  join recsys.event_types t on t.id = e.type_id
                 where e.ts >= now() - since
                 group by e.item_id) w
          join recsys.items i on i.id = w.item_id
         where recsys.live(i.available, i.available_from, i.expires_at)
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
           and not exists (select 1 from recsys.interactions x
                            where x.user_id = uid and x.item_id = i.id
                              and (not include_seen or (include_seen and x.conversions > 0)))
           and not exists (select 1 from recsys.rejections r
                            where r.user_id = uid and r.item_id = i.id)
         order by w.score desc, i.id
         limit k;
    end if;
    get diagnostics n = row_count;
    if n < k then
        return query
        select i.external_id, 0::double precision, 'new in the catalogue'
          from recsys.items i
         where recsys.live(i.available, i.available_from, i.expires_at)
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
           and not exists (select 1 from recsys.interactions x
                            where x.user_id = uid and x.item_id = i.id
                              and (not include_seen or (include_seen and x.conversions > 0)))
           and not exists (select 1 from recsys.rejections r
                            where r.user_id = uid and r.item_id = i.id)
           and not exists (select 1 from recsys.item_stats s
                            where s.item_id = i.id and s.log_popularity is not null
                              and since is null)
           and (since is null or not exists (
                   select 1 from recsys.events e where e.item_id = i.id and e.ts >= now() - since))
         order by i.id desc
         limit k - n;
    end if;
end;
$$;

-- The top-up every strategy ends with: after the `shown` items it found itself,
-- the most popular of the rest, under the same filters, until the list is k
-- long. Each reason adds why the strategy ran short: `why`, by default
-- " (new user)" or " (not enough history)".
create function recsys.popular_top_up(
    for_user text, k integer, shown text[], exclude text[], category text,
    include_seen boolean, why text default null
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable
-- Callers that force custom plans (behavior_based, collaborative, adaptive)
-- would make this re-plan on every call: +10% on a new user's collaborative
-- list (popular() itself always plans for its k). (PL/pgSQL, not an inlinable SQL query, for the same
-- reason: inlined, its body was parsed and planned in each caller's plan.)
set plan_cache_mode = auto
as $$
begin
    if cardinality(shown) >= k then
        return;
    end if;
    return query
    select p.product_id, p.score,
           p.reason || coalesce(why, case
               when exists (select 1 from recsys.users u where u.external_id = for_user)
               then ' (not enough history)' else ' (new user)' end)
      from recsys.popular(k - cardinality(shown), null, category, exclude || shown,
                          for_user, include_seen) p;
end;
$$;
