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
