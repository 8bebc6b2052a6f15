-- recsys schema: co-occurrence. Similarity measures over item_pairs, the
-- refreshed neighbour lists, behavior_based and similar_items.

-- ------------------------------------------------------------ neighbour lists

-- Each item's strongest co-occurrence neighbours under one measure, ranked,
-- with their similarity, as of the last refresh (recsys.refresh_neighbor_lists).
-- A read cache of item_pairs: behavior_based reads 20 short arrays instead of
-- aggregating every pair of a user's recent items (tens of thousands of rows
-- on dense histories). Items without a list are scored live from item_pairs.
create table recsys.neighbor_lists (
    item_id bigint primary key,
    measure text not null,
    neighbors bigint[] not null,
    similarities double precision[] not null,
    -- Users who chose both, at the refresh (for the reason text).
    pair_users integer[] not null,
    refreshed_at timestamptz not null default now()
);

-- Which events the lists have seen: an incremental refresh redoes the items
-- of events after `through_event`.
create table recsys.neighbor_lists_state (
    singleton boolean primary key default true check (singleton),
    through_event bigint not null default 0,
    refreshed_at timestamptz
);

insert into recsys.neighbor_lists_state default values;

-- Each source item's strongest cross-occurrence targets per source type
-- (recsys.cross_pairs, under the same measure), written by the same refresh:
-- an item with a neighbor_lists row and no row here has no targets.
create table recsys.cross_lists (
    item_id bigint not null,
    source_type smallint not null,
    measure text not null,
    targets bigint[] not null,
    similarities double precision[] not null,
    primary key (item_id, source_type)
);

-- ----------------------------------------------------------------- similarity

-- x * ln(x), with 0 * ln 0 = 0. A plain expression, so callers inline it.
create function recsys.xlogx(x double precision)
returns double precision
language sql immutable parallel safe
return case when x > 0 then x * ln(x) else 0 end;

-- Log-likelihood ratio (Dunning 1993) of a 2x2 contingency table.
create function recsys.llr(k11 double precision, k12 double precision,
                           k21 double precision, k22 double precision)
returns double precision
language sql immutable parallel safe
return greatest(0, 2 * (
    recsys.xlogx(k11) + recsys.xlogx(k12) + recsys.xlogx(k21) + recsys.xlogx(k22)
    - recsys.xlogx(k11 + k12) - recsys.xlogx(k21 + k22)
    - recsys.xlogx(k11 + k21) - recsys.xlogx(k12 + k22)
    + recsys.xlogx(k11 + k12 + k21 + k22)
    ));

-- Similarity of two items from co-occurrence: n_ab users share them, n_a and
-- n_b users have each, n_users users exist.
create function recsys.similarity(measure text, n_ab double precision, n_a double precision,
                                  n_b double precision, n_users double precision)
returns double precision
language sql immutable parallel safe
return case measure
    when 'cosine' then n_ab / sqrt(greatest(n_a * n_b, 1))
    when 'jaccard' then n_ab / greatest(n_a + n_b - n_ab, 1)
    when 'llr' then recsys.llr(n_ab, n_a - n_ab, n_b - n_ab,
                               greatest(n_users - n_a - n_b + n_ab, 0))
end;

create function recsys.check_measure(measure text)
returns text
language plpgsql immutable as $$
begin
    if measure is null or measure not in ('cosine', 'jaccard', 'llr') then
        raise exception 'unknown similarity measure "%"', measure
            using errcode = 'invalid_parameter_value', column = 'measure',
                  hint = 'measures: cosine, jaccard, llr';
    end if;
    return measure;
end;
$$;

-- Cross-occurrence similarity of each (source item, source type) with its
-- targets, from the users behind each side (item_type_stats.users), summed over
-- target types; `items` null: every source item.
create function recsys.cross_similarities(items bigint[], measure text, n_users double precision)
returns table (source_item bigint, source_type smallint, target_item bigint,
               sim double precision)
language plpgsql stable
-- PL/pgSQL and custom plans: `items is null` folds away per call (an index
-- probe per item, or one scan), and never inlined into behavior_based's cached
-- generic plan, where it would stay a scan of every pair.
set plan_cache_mode = force_custom_plan
as $$
begin
    return query
    select c.source_item, c.source_type, c.target_item,
           sum(recsys.similarity(measure, c.users, sa.users, sb.users, n_users))
      from recsys.cross_pairs c
      join recsys.item_type_stats sa on sa.item_id = c.source_item and sa.type_id = c.source_type
      join recsys.item_type_stats sb on sb.item_id = c.target_item and sb.type_id = c.target_type
     where items is null or c.source_item = any(items)
     group by 1, 2, 3;
end;
$$;

-- -------------------------------------------------------------------- refresh

-- Recomputes the neighbour lists of `items` (null: of every item) from
-- item_pairs under the configured similarity. Returns the lists written.
create function recsys.refresh_neighbor_lists(items bigint[] default null)
returns integer
language plpgsql
-- `items is null` folds away per call: an index probe per item, or one scan.
set plan_cache_mode = force_custom_plan
set work_mem = '128MB'
as $$
declare
    cfg recsys.settings := (select s from recsys.settings s);
    n_users double precision;
    written integer;
begin
    if cfg.similarity = 'llr' then
        n_users := (select count(*) from recsys.users where n_items > 0);
    end if;
    delete from recsys.neighbor_lists where items is null or item_id = any(items);
    -- Every item with stats gets a row, an empty one without pairs: a missing
    -- row means "not refreshed yet" (score live, refresh next round).
    insert into recsys.neighbor_lists (item_id, measure, neighbors, similarities, pair_users)
    select s.item_id, cfg.similarity, coalesce(l.neighbors, '{}'), coalesce(l.similarities, '{}'),
           coalesce(l.pair_users, '{}')
      from recsys.item_stats s
      left join (
    select ranked.item_id,
           array_agg(ranked.neighbor_id order by ranked.rank) as neighbors,
           array_agg(ranked.sim order by ranked.rank) as similarities,
           array_agg(ranked.users order by ranked.rank) as pair_users
      from (select nb.item_id, nb.neighbor_id, nb.sim, nb.users,
                   row_number() over (partition by nb.item_id
                                      order by nb.sim desc, nb.neighbor_id) as rank
              from (select pairs.item_id, pairs.neighbor_id, pairs.users,
                           recsys.similarity(cfg.similarity, pairs.users, sa.users, sb.users,
                                             n_users) as sim
                      from (select p.item_a as item_id, p.item_b as neighbor_id, p.users
                              from recsys.item_pairs p
                             where items is null or p.item_a = any(items)
                            union all
                            select p.item_b, p.item_a, p.users
                              from recsys.item_pairs p
                             where items is null or p.item_b = any(items)) pairs
                      join recsys.item_stats sa on sa.item_id = pairs.item_id
                      join recsys.item_stats sb on sb.item_id = pairs.neighbor_id) nb
           ) ranked
     where ranked.rank <= cfg.neighbor_list_size
     group by ranked.item_id
      ) l on l.item_id = s.item_id
     where items is null or s.item_id = any(items);
    get diagnostics written = row_count;
    delete from recsys.cross_lists where items is null or item_id = any(items);
    insert into recsys.cross_lists (item_id, source_type, measure, targets, similarities)
    select ranked.source_item, ranked.source_type, cfg.similarity,
           array_agg(ranked.target_item order by ranked.rank),
           array_agg(ranked.sim order by ranked.rank)
      from (select c.source_item, c.source_type, c.target_item, c.sim,
                   row_number() over (partition by c.source_item, c.source_type
                                      order by c.sim desc, c.target_item) as rank
              from recsys.cross_similarities(items, cfg.similarity, n_users) c) ranked
     where ranked.rank <= cfg.neighbor_list_size
     group by ranked.source_item, ranked.source_type;
    return written;
end;
$$;

-- Refreshes the lists of the items that received events since the last call,
-- and of items without a list (every list the first time). Their neighbours' lists catch up when those
-- items are touched, or at the next full refresh (`everything => true`).
-- Callers serialise it (the app holds an advisory lock); it returns the lists written.
create function recsys.refresh_neighbor_lists_since(everything boolean default false)
returns integer
language plpgsql as $$
declare
    state recsys.neighbor_lists_state;
    upto bigint := coalesce((select max(id) from recsys.events), 0);
    written integer;
begin
    select * into strict state from recsys.neighbor_lists_state for update;
    if everything or state.through_event = 0 then
        written := recsys.refresh_neighbor_lists(null);
    elsif upto > state.through_event
          or exists (select 1 from recsys.item_stats s
                      where not exists (select 1 from recsys.neighbor_lists l
                                         where l.item_id = s.item_id)) then
        -- Items with new events, and items whose list was dropped (an erasure
        -- or a prune changed their pairs) or never built.
        written := recsys.refresh_neighbor_lists(array(
            select e.item_id from recsys.events e
             where e.id > state.through_event and e.id <= upto
            union
            select s.item_id from recsys.item_stats s
             where not exists (select 1 from recsys.neighbor_lists l
                                where l.item_id = s.item_id)));
    else
        return 0;
    end if;
    update recsys.neighbor_lists_state
       set through_event = upto, refreshed_at = now();
    return written;
end;
$$;

-- ------------------------------------------------------------ recommendations

-- Items that co-occur with a user's latest items, each neighbour's similarity
-- weighted by how strongly (event weights) and how recently the user chose
-- the source item; neighbours of items the user rejected (dislike, hide) lose
-- that type's weight x similarity, decayed the same way. Tops up with popular items when history runs short.
-- Sources with a refreshed list (recsys.neighbor_lists) contribute its entries;
-- the others are scored live from item_pairs. Cross-occurrence adds, with
-- settings.cross_weight, the targets of the source under the types the user
-- sent it (recsys.cross_lists, or live from cross_pairs likewise).
create function recsys.behavior_based(
    for_user text, k integer default 10, exclude text[] default '{}',
    category text default null, include_seen boolean default false, measure text default null
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable
-- One generic plan per session: planning this query for each call cost more
-- than running it from the neighbour lists (custom plans: 2.6-3.9 ms a call on
-- the bench's shop, generic: 1.0 ms; docs/performance.md). Every input is an
-- index probe or a list of this user's, so one plan suits every user; the live
-- cross-occurrence scoring plans its own query per call (cross_similarities).
set plan_cache_mode = force_generic_plan
as $$
declare
    cfg recsys.settings := (select s from recsys.settings s);
    uid bigint;
    history integer;
    n_users double precision;
    cap integer;
    found_ids text[];
    found_scores double precision[];
    found_reasons text[];
    row record;
begin
    select u.id, u.n_items into uid, history from recsys.users u where u.external_id = for_user;
    perform recsys.check_k(k);
    exclude := coalesce(exclude, '{}');
    measure := recsys.check_measure(coalesce(measure, cfg.similarity));
    if measure = 'llr' then
        n_users := (select count(*) from recsys.users where n_items > 0);
    end if;
    -- First only the best `cap` candidates: enough unless more than the user's
    -- own items, `exclude` and a margin of unavailable ones are filtered out;
    -- then, if the list came short, every candidate. Probing ~k + history items
    -- instead of every candidate: 3.1 -> 2.0 ms per call on the bench's shop.
    cap := case when category is null
                then k + cardinality(exclude) + 10 + coalesce(history, 0)
           end;
    loop
        found_ids := '{}';
        found_scores := '{}';
        found_reasons := '{}';
        for row in
            -- The user's latest items pull their neighbours up; the latest items
            -- they rejected push theirs down by the negative type's weight.
            with latest as materialized (
                (select x.item_id,
                        ln(1 + greatest(x.score, 0))
                        * power(0.9, row_number() over (order by x.last_ts desc, x.seq desc) - 1)
                        as w
                   from recsys.interactions x
                  where x.user_id = uid
                    and not exists (select 1 from recsys.rejections r
                                     where r.user_id = uid and r.item_id = x.item_id)
                  order by x.last_ts desc, x.seq desc
                  limit cfg.recent_items)
                union all
                (select r.item_id,
                        -t.weight * power(0.9, row_number() over (order by r.ts desc, r.item_id) - 1)
                   from recsys.rejections r
                   join recsys.event_types t on t.id = r.type_id
                  where r.user_id = uid and t.weight > 0
                  order by r.ts desc, r.item_id
                  limit cfg.recent_items)
            ),
            -- Joined after the limit: a few index probes, not a hash of every list.
            recent as materialized (
                select r.item_id, r.w, s.users, l.neighbors, l.similarities
                  from latest r
                  join recsys.item_stats s on s.item_id = r.item_id
                  left join recsys.neighbor_lists l
                    on l.item_id = r.item_id and l.measure = behavior_based.measure
            ),
            neighbours as materialized (
                select r.item_id as source_id, nb.item_id, r.w * nb.sim as contribution,
                       false as crossed
                  from recent r
                 cross join lateral unnest(r.neighbors, r.similarities) as nb(item_id, sim)
                 where r.neighbors is not null
                union all
                -- LATERAL: a few index probes per source item, never a scan of all pairs.
                select r.item_id, nb.item_id,
                       r.w * recsys.similarity(measure, nb.users, r.users, sb.users, n_users),
                       false
                  from recent r
                 cross join lateral (
                       select p.item_b as item_id, p.users
                         from recsys.item_pairs p where p.item_a = r.item_id
                       union all
                       select p.item_a, p.users
                         from recsys.item_pairs p where p.item_b = r.item_id
                 ) nb
                  join recsys.item_stats sb on sb.item_id = nb.item_id
                 where r.neighbors is null
                union all
                -- Cross-occurrence: what was bought by the users who viewed (or
                -- carted) what this user did, by the type this user sent.
                select r.item_id, cl.item_id, r.w * cfg.cross_weight * cl.sim, true
                  from recent r
                  join recsys.user_item_types x on x.user_id = uid and x.item_id = r.item_id
                  join recsys.cross_lists c
                    on c.item_id = r.item_id and c.source_type = x.type_id
                   and c.measure = behavior_based.measure
                 cross join lateral unnest(c.targets, c.similarities) as cl(item_id, sim)
                 where cfg.cross_weight > 0 and r.neighbors is not null
                union all
                select r.item_id, c.target_item, r.w * cfg.cross_weight * c.sim, true
                  from recent r
                  join recsys.user_item_types x on x.user_id = uid and x.item_id = r.item_id
                 cross join lateral recsys.cross_similarities(array[r.item_id], measure, n_users) c
                 where cfg.cross_weight > 0 and r.neighbors is null and c.source_type = x.type_id
            ),
            top as (
                select i.id, i.external_id, sc.score
                  from (select nb.item_id, sum(nb.contribution) as score
                          from neighbours nb
                         group by nb.item_id
                        having sum(nb.contribution) > 0
                         order by 2 desc, 1
                         limit cap) sc
                  join recsys.items i on i.id = sc.item_id
                 where recsys.live(i.available, i.available_from, i.expires_at)
                   and (category is null or i.categories @> array[category])
                   and not (i.external_id = any(exclude))
                   and not exists (select 1 from recsys.interactions x
                                    where x.user_id = uid and x.item_id = i.id
                                      and (not include_seen or (include_seen and x.conversions > 0)))
                   and not exists (select 1 from recsys.rejections r
                                    where r.user_id = uid and r.item_id = i.id)
                 order by sc.score desc, i.id
                 limit k
            ),
            -- The reason names the source that contributed most, for the k winners only.
            why as (
                select distinct on (nb.item_id) nb.item_id, nb.source_id, nb.crossed
                  from neighbours nb
                  join top t on t.id = nb.item_id
                 order by nb.item_id, nb.contribution desc, nb.source_id, nb.crossed
            )
            select t.external_id, t.score,
                   case when w.crossed then 'often bought after ' else 'often together with ' end
                   || coalesce(src.title, src.external_id) as why
              from top t
              join why w on w.item_id = t.id
              join recsys.items src on src.id = w.source_id
             order by t.score desc, t.id
        loop
            found_ids := found_ids || row.external_id;
            found_scores := found_scores || row.score;
            found_reasons := found_reasons || row.why;
        end loop;
        exit when cap is null or cardinality(found_ids) >= k;
        cap := null;
    end loop;

    return query
    select f.id, f.score, f.reason
      from unnest(found_ids, found_scores, found_reasons) with ordinality as f(id, score, reason, n)
     order by f.n;
    return query
    select * from recsys.popular_top_up(for_user, k, found_ids, exclude, category, include_seen);
end;
$$;

-- Items most often chosen by the same users as `product`, normalised by
-- popularity (cosine by default; see recsys.settings.similarity). Read from the
-- item's refreshed neighbour list when it has one for this measure; ranked live
-- from item_pairs otherwise, or beyond a truncated list that filters emptied.
create function recsys.similar_items(
    product text, k integer default 10, measure text default null,
    category text default null, exclude text[] default '{}'
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    cfg recsys.settings := (select s from recsys.settings s);
    item recsys.items := (select i from recsys.items i where i.external_id = product);
    list recsys.neighbor_lists;
    n_users double precision;
    n integer;
    shown text[] := '{}';
begin
    perform recsys.check_k(k);
    if item is null then
        raise exception 'unknown product_id "%"', product
            using errcode = 'no_data_found', column = 'product_id';
    end if;
    exclude := coalesce(exclude, '{}');
    measure := recsys.check_measure(coalesce(measure, cfg.similarity));
    select * into list from recsys.neighbor_lists l
     where l.item_id = item.id and l.measure = similar_items.measure;
    if found then
        return query
        select i.external_id, nb.sim,
               'chosen together by ' || nb.users
               || case when nb.users = 1 then ' user' else ' users' end
          from unnest(list.neighbors, list.similarities, list.pair_users)
               with ordinality as nb(item_id, sim, users, rank)
          join recsys.items i on i.id = nb.item_id
         where recsys.live(i.available, i.available_from, i.expires_at)
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
         order by nb.rank
         limit k;
        get diagnostics n = row_count;
        if n >= k or cardinality(list.neighbors) < cfg.neighbor_list_size then
            return;
        end if;
        shown := array(select i.external_id from recsys.items i
                        where i.id = any(list.neighbors));
        k := k - n;
    end if;
    if measure = 'llr' then
        n_users := (select count(*) from recsys.users where n_items > 0);
    end if;
    return query
    with neighbours as (
        select p.item_b as item_id, p.users from recsys.item_pairs p where p.item_a = item.id
        union all
        select p.item_a, p.users from recsys.item_pairs p where p.item_b = item.id
    )
    select i.external_id,
           recsys.similarity(measure, nb.users, sa.users, sb.users, n_users) as sim,
           'chosen together by ' || nb.users || case when nb.users = 1 then ' user' else ' users' end
      from neighbours nb
      join recsys.item_stats sa on sa.item_id = item.id
      join recsys.item_stats sb on sb.item_id = nb.item_id
      join recsys.items i on i.id = nb.item_id
     where recsys.live(i.available, i.available_from, i.expires_at)
       and (category is null or i.categories @> array[category])
       and not (i.external_id = any(exclude || shown))
     order by sim desc, i.id
     limit k;
end;
$$;
