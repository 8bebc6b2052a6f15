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
