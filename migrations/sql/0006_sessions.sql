-- Revision 0006_sessions, frozen: anonymous sessions, merging users, similar
-- users and bought-together baskets as sql/13_sessions.sql stood when this
-- revision was written, and settings.basket_gap. Never edited: a later change
-- is a new revision.

alter table recsys.settings
    add column basket_gap interval not null default '1 hour'
        check (basket_gap >= interval '0');

-- recsys schema: anonymous sessions, merging an anonymous visitor into a user,
-- similar users, and items bought together in one basket.

-- Recommendations for an anonymous session from its items in order (latest
-- last) and their event types, with no user row: each item's co-occurrence
-- neighbours (its refreshed list, else live from item_pairs) weighted by the
-- type's weight and 0.9 per step back, as behavior_based weighs a user's
-- latest items; negative types push their neighbours down. The session's items
-- are left out; popular items fill the rest (" (new session)").
create function recsys.session_recommend(
    products text[], event_types text[], k integer default 10, exclude text[] default '{}',
    category text default null
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    cfg recsys.settings := (select s from recsys.settings s);
    shown text[] := '{}';
    row record;
begin
    perform recsys.check_k(k);
    if cardinality(products) is distinct from cardinality(event_types) then
        raise exception 'products and event_types differ in length'
            using errcode = 'invalid_parameter_value', column = 'items';
    end if;
    if exists (select 1 from unnest(event_types) t(name)
                where not exists (select 1 from recsys.event_types x where x.name = t.name)) then
        raise exception 'unknown event type in the session'
            using errcode = 'invalid_parameter_value', column = 'items',
                  hint = 'GET /admin/event-types lists them';
    end if;
    exclude := coalesce(exclude, '{}') || coalesce(products, '{}');
    for row in
        with steps as (
            select i.id as item_id, i.external_id, coalesce(i.title, i.external_id) as title,
                   case when t.kind = 'negative' then -t.weight else t.weight end
                   * power(0.9, cardinality(products) - s.n) as w
              from unnest(products, event_types) with ordinality as s(product_id, type, n)
              join recsys.items i on i.external_id = s.product_id
              join recsys.event_types t on t.name = s.type
             where t.kind <> 'neutral'
        ),
        sources as (
            select st.item_id, st.title, sum(st.w) as w from steps st group by 1, 2
        ),
        neighbours as (
            select src.item_id as source_id, src.title, nb.item_id, src.w * nb.sim as part
              from sources src
              join recsys.neighbor_lists l
                on l.item_id = src.item_id and l.measure = cfg.similarity
             cross join lateral unnest(l.neighbors, l.similarities) as nb(item_id, sim)
            union all
            select src.item_id, src.title, nb.item_id,
                   src.w * nb.users / sqrt(greatest(sa.users * sb.users, 1))
              from sources src
              join recsys.item_stats sa on sa.item_id = src.item_id
             cross join lateral (
                   select p.item_b as item_id, p.users from recsys.item_pairs p
                    where p.item_a = src.item_id
                   union all
                   select p.item_a, p.users from recsys.item_pairs p
                    where p.item_b = src.item_id) nb
              join recsys.item_stats sb on sb.item_id = nb.item_id
             where not exists (select 1 from recsys.neighbor_lists l
                                where l.item_id = src.item_id and l.measure = cfg.similarity)
        ),
        scored as (
            select nb.item_id, sum(nb.part) as score,
                   (array_agg(nb.title order by nb.part desc))[1] as source
              from neighbours nb
             group by nb.item_id
            having sum(nb.part) > 0
        )
        select i.external_id, sc.score, 'often together with ' || sc.source as why
          from scored sc
          join recsys.items i on i.id = sc.item_id
         where recsys.live(i.available, i.available_from, i.expires_at)
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
         order by sc.score desc, i.id
         limit k
    loop
        product_id := row.external_id;
        score := row.score;
        reason := row.why;
        shown := shown || row.external_id;
        return next;
    end loop;
    return query
    select * from recsys.popular_top_up(null, k, shown, exclude, category, false,
                                        ' (new session)');
end;
$$;

-- Login: every event of `anonymous` becomes `target`'s (created if new), in
-- one transaction; both users' interactions, pairs and their items' stats are
-- rebuilt from the events (recsys.rebuild_users), so every count stays exact,
-- and the anonymous user's row and lists go. Returns the events moved.
create function recsys.merge_users(target text, anonymous text)
returns bigint
language plpgsql as $$
declare
    uids bigint[];
    to_id bigint;
    from_id bigint;
    items bigint[];
    moved bigint;
begin
    if target = anonymous then
        raise exception 'a user cannot be merged into itself'
            using errcode = 'invalid_parameter_value', column = 'from';
    end if;
    insert into recsys.users (external_id) values (target) on conflict (external_id) do nothing;
    -- Both rows locked in id order, as the trigger and erasure lock them.
    uids := array(select u.id from recsys.users u where u.external_id in (target, anonymous)
                   order by u.id for update);
    to_id := (select u.id from recsys.users u where u.external_id = target);
    from_id := (select u.id from recsys.users u where u.external_id = anonymous);
    if from_id is null then
        raise exception 'unknown user "%"', anonymous
            using errcode = 'no_data_found', column = 'from';
    end if;
    with moved_events as (
        update recsys.events e set user_id = to_id where e.user_id = from_id returning e.item_id
    )
    select count(*), coalesce(array_agg(distinct m.item_id), '{}') into moved, items
      from moved_events m;
    perform recsys.rebuild_users(array[from_id, to_id], items);
    delete from recsys.users u where u.id = from_id;
    update recsys.exposures x set user_external_id = target where x.user_external_id = anonymous;
    return moved;
end;
$$;

-- Users who chose the same items as `for_user`, each shared item counting
-- 1 / ln(1 + its users) (Adamic-Adar: a niche item says more than a hit),
-- normalised by the geometric mean of the two histories' sizes.
create function recsys.similar_users(for_user text, k integer default 10)
returns table (user_id text, score double precision, shared bigint)
language plpgsql stable as $$
declare
    me recsys.users := (select u from recsys.users u where u.external_id = for_user);
begin
    perform recsys.check_k(k);
    if me.id is null then
        raise exception 'unknown user_id "%"', for_user
            using errcode = 'no_data_found', column = 'user_id';
    end if;
    return query
    select u.external_id,
           sum(1 / ln(1 + s.users)) / sqrt(greatest(me.n_items * u.n_items, 1))::double precision,
           count(*)
      from recsys.interactions mine
      join recsys.item_stats s on s.item_id = mine.item_id
      join recsys.interactions theirs
        on theirs.item_id = mine.item_id and theirs.user_id <> me.id
      join recsys.users u on u.id = theirs.user_id
     where mine.user_id = me.id
     group by u.id, u.external_id, u.n_items
     order by 2 desc, 3 desc, u.id
     limit k;
end;
$$;

-- Items bought in the same basket as `product`: conversions (purchases) by one
-- user within settings.basket_gap of a purchase of it (an invoice's lines share
-- a time, so they are one basket). Ranked by baskets shared, then by the share
-- of the other item's baskets that hold this one (confidence).
create function recsys.bought_together(
    product text, k integer default 10, category text default null,
    exclude text[] default '{}'
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    item recsys.items := (select i from recsys.items i where i.external_id = product);
    gap interval := (select s.basket_gap from recsys.settings s);
begin
    perform recsys.check_k(k);
    if item.id is null then
        raise exception 'unknown product_id "%"', product
            using errcode = 'no_data_found', column = 'product_id';
    end if;
    exclude := coalesce(exclude, '{}');
    return query
    with baskets as (
        select e.id, e.user_id, e.ts
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id and t.conversion
         where e.item_id = item.id
    ),
    together as (
        select o.item_id, count(distinct b.id) as baskets
          from baskets b
          join recsys.events o
            on o.user_id = b.user_id and o.item_id <> item.id
           and o.ts between b.ts - gap and b.ts + gap
          join recsys.event_types t on t.id = o.type_id and t.conversion
         group by o.item_id
    )
    select i.external_id,
           tg.baskets::double precision
           + tg.baskets::double precision / greatest(coalesce(c.purchases, 0), tg.baskets, 1),
           'bought together in ' || tg.baskets
           || case when tg.baskets = 1 then ' basket' else ' baskets' end
      from together tg
      join recsys.items i on i.id = tg.item_id
      left join lateral (
            select sum(x.events) as purchases
              from recsys.item_type_stats x
              join recsys.event_types t on t.id = x.type_id and t.conversion
             where x.item_id = tg.item_id) c on true
     where recsys.live(i.available, i.available_from, i.expires_at)
       and (category is null or i.categories @> array[category])
       and not (i.external_id = any(exclude))
     order by 2 desc, i.id
     limit k;
end;
$$;
