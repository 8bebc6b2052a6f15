-- recsys schema: what the trained models add to serving. Similar items that
-- hold up on a cold catalogue.

-- GET /items/{id}/similar: the co-occurrence neighbours of recsys.similar_items
-- first; when too few users chose the item with others (a catalogue without
-- events answers none), content neighbours by embedding, then popular items of
-- the item's categories, then popular items, each reason saying why. Never
-- fewer than k items while the catalogue has them.
create function recsys.similar_or_fallback(
    product text, k integer default 10, measure text default null,
    category text default null, exclude text[] default '{}'
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    item recsys.items := (select i from recsys.items i where i.external_id = product);
    why constant text := ' (not enough co-occurrence)';
    shown text[] := '{}';
    wanted text;
    row record;
begin
    -- Raises for a bad k and an unknown product, as before.
    for row in select * from recsys.similar_items(product, k, measure, category, exclude) loop
        product_id := row.product_id;
        score := row.score;
        reason := row.reason;
        shown := shown || row.product_id;
        return next;
    end loop;
    exclude := coalesce(exclude, '{}') || array[product];
    for row in
        select c.product_id, c.score
          from recsys.nearest_items(item.embedding, k - cardinality(shown), exclude || shown,
                                    category, null, null, false) c
         where cardinality(shown) < k
    loop
        product_id := row.product_id;
        score := row.score;
        reason := 'similar in content' || why;
        shown := shown || row.product_id;
        return next;
    end loop;
    -- The item's categories, then any; a requested category only.
    foreach wanted in array case when category is null then item.categories || array[null::text]
                                 else array[category] end loop
        exit when cardinality(shown) >= k;
        for row in
            select p.product_id, p.reason
              from recsys.popular(k - cardinality(shown), null, wanted, exclude || shown) p
        loop
            product_id := row.product_id;
            score := 0;
            reason := row.reason || why;
            shown := shown || row.product_id;
            return next;
        end loop;
    end loop;
end;
$$;

-- The popularity half-life chosen on validation (`recsys train --model hybrid`):
-- stored in recsys.settings and every item's decayed popularity recomputed
-- from its events under it, in the caller's transaction (the trigger and
-- erasure keep using the stored value). Returns the items recomputed.
create function recsys.set_popularity_half_life(half_life interval)
returns bigint
language plpgsql as $$
declare
    n bigint;
begin
    if half_life = (select s.popularity_half_life from recsys.settings s) then
        return 0;
    end if;
    update recsys.settings set popularity_half_life = half_life;
    with logged as (
        select e.item_id,
               recsys.log_weight(t.weight * case when t.uses_value then coalesce(e.value, 0)
                                                 else 1 end, e.ts, half_life) as lw
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id
         where t.kind = 'positive'
    ),
    topped as (
        select l.item_id, l.lw, max(l.lw) over (partition by l.item_id) as top
          from logged l
         where l.lw is not null
    )
    update recsys.item_stats s set log_popularity = x.lp
      from (select t.item_id, max(t.top) + ln(sum(exp(t.lw - t.top))) as lp
              from topped t group by t.item_id) x
     where s.item_id = x.item_id;
    get diagnostics n = row_count;
    return n;
end;
$$;
