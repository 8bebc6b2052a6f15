-- Revision 0004_rules, frozen: the delta of business rules, scenarios and
-- availability windows as sql/ stood when this revision was written (the
-- items' window columns and recsys.live, every strategy filtering with it,
-- include_seen's third state, recsys.serve through recsys.ranked, and
-- sql/11_rules.sql whole). Never edited: a later change is a new revision.

alter table recsys.items
    add column available_from timestamptz,
    add column expires_at timestamptz,
    add constraint items_window_check check (expires_at > available_from);

-- Whether an item may be served now: available, and inside its window. Every
-- strategy, push and SQL function filters with it; a single expression, so
-- the planner inlines it into each query (no call per row).
create or replace function recsys.live(available boolean, available_from timestamptz,
                            expires_at timestamptz)
returns boolean
language sql stable parallel safe
return available and (available_from is null or available_from <= now())
       and (expires_at is null or now() < expires_at);

-- Creates or replaces items from a JSON array of objects with product_id,
-- title, description, categories, attributes, available, available_from, expires_at.
create or replace function recsys.upsert_items(items jsonb)
returns table (product_id text, created boolean)
language sql as $$
    insert into recsys.items as i
           (external_id, title, description, categories, attributes, available, available_from,
            expires_at)
    select x.product_id, x.title, x.description,
           coalesce(x.categories, '{}'), coalesce(x.attributes, '{}'), coalesce(x.available, true),
           x.available_from, x.expires_at
      from jsonb_to_recordset(items) as x(product_id text, title text, description text,
                                          categories text[], attributes jsonb, available boolean,
                                          available_from timestamptz, expires_at timestamptz)
     order by x.product_id
        on conflict (external_id) do update set
           title = excluded.title,
           description = excluded.description,
           categories = excluded.categories,
           attributes = excluded.attributes,
           available = excluded.available,
           available_from = excluded.available_from,
           expires_at = excluded.expires_at,
           -- Changed text makes the embedding stale: dropped here, so a stale vector
           -- is never served; the service re-embeds at once (recsys.items.embedding).
           embedding = case
               when (i.title, i.description, i.categories, i.attributes)
                    is not distinct from
                    (excluded.title, excluded.description, excluded.categories, excluded.attributes)
               then i.embedding
           end,
           updated_at = now()
    returning i.external_id, i.created_at = i.updated_at;
$$;

-- Most popular items by time-decayed weighted events (or, with `since`, by
-- weighted events in that window); items without events fill the tail.
create or replace function recsys.popular(
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

-- Items that co-occur with a user's latest items, each neighbour's similarity
-- weighted by how strongly (event weights) and how recently the user chose
-- the source item; neighbours of items the user rejected (dislike, hide) lose
-- that type's weight x similarity, decayed the same way. Tops up with popular items when history runs short.
-- Sources with a refreshed list (recsys.neighbor_lists) contribute its entries;
-- the others are scored live from item_pairs.
create or replace function recsys.behavior_based(
    for_user text, k integer default 10, exclude text[] default '{}',
    category text default null, include_seen boolean default false, measure text default null
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable
-- Custom plans: `measure` folds to one branch of recsys.similarity, and the
-- planner sizes the joins by this user's history (a cached generic plan
-- guessed a handful of candidates and nested-looped over the catalogue: 15x slower).
set plan_cache_mode = force_custom_plan
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
                select r.item_id as source_id, nb.item_id, r.w * nb.sim as contribution
                  from recent r
                 cross join lateral unnest(r.neighbors, r.similarities) as nb(item_id, sim)
                 where r.neighbors is not null
                union all
                -- LATERAL: a few index probes per source item, never a scan of all pairs.
                select r.item_id, nb.item_id,
                       r.w * recsys.similarity(measure, nb.users, r.users, sb.users, n_users)
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
                select distinct on (nb.item_id) nb.item_id, nb.source_id
                  from neighbours nb
                  join top t on t.id = nb.item_id
                 order by nb.item_id, nb.contribution desc, nb.source_id
            )
            select t.external_id, t.score,
                   'often together with ' || coalesce(src.title, src.external_id) as why
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
create or replace function recsys.similar_items(
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

-- The implicit model's top k for a user: the run's item neighbours summed over
-- the user's live interactions (events after training included). Without
-- reasons: the adaptive blend names the source of its k winners only.
create or replace function recsys.neighbor_candidates(
    uid bigint, run recsys.model_runs, k integer, exclude text[], category text,
    include_seen boolean
)
returns table (item_id bigint, product_id text, score double precision)
language sql stable as $$
    -- Rejected items (dislike, hide) count against their neighbours.
    with history as materialized (
        select x.item_id,
               case when run.params ->> 'weighting' = 'binary' then 1
                    else ln(1 + greatest(x.score, 0)) end as w
          from recsys.interactions x
         where x.user_id = uid
           and not exists (select 1 from recsys.rejections r
                            where r.user_id = uid and r.item_id = x.item_id)
        union all
        select r.item_id, -t.weight
          from recsys.rejections r
          join recsys.event_types t on t.id = r.type_id
         where r.user_id = uid and t.weight > 0
    ),
    scored as materialized (
        select n.neighbor_id, sum(h.w * n.score) as score
          from history h
          join recsys.item_neighbors n on n.run_id = run.id and n.item_id = h.item_id
         group by n.neighbor_id
        having sum(h.w * n.score) > 0
    ),
    -- The best k + history + 10 candidates first: a few index probes, where
    -- joining every candidate with the catalogue cost a scan of it. Every
    -- candidate only when the filters leave fewer than k of those.
    capped as (
        select i.id, i.external_id, sc.score
          from (select * from scored
                 order by score desc, neighbor_id
                 limit case when category is null
                            then k + cardinality(exclude) + 10 + (select count(*) from history)
                       end) sc
          join recsys.items i on i.id = sc.neighbor_id
         where true
           and recsys.live(i.available, i.available_from, i.expires_at)
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
    every as (
        select i.id, i.external_id, sc.score
          from scored sc
          join recsys.items i on i.id = sc.neighbor_id
         where true
           and recsys.live(i.available, i.available_from, i.expires_at)
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
           and not exists (select 1 from recsys.interactions x
                            where x.user_id = uid and x.item_id = i.id
                              and (not include_seen or (include_seen and x.conversions > 0)))
           and not exists (select 1 from recsys.rejections r
                            where r.user_id = uid and r.item_id = i.id)
         order by sc.score desc, i.id
         limit k
    )
    select * from capped where (select count(*) from capped) >= k
    union all
    select * from every where (select count(*) from capped) < k;
$$;

-- Matrix-factorisation top-N: the user's factors against the run's HNSW index
-- on (item factors || item bias) with [user factors, 1], so the inner product
-- is item bias + dot product. Dynamic SQL: the index is partial (run_id = N)
-- and typed vector(dims), and only literals let the planner match it.
-- relaxed_order lets the filtered scan continue past ef_search candidates.
create or replace function recsys.factor_scores(
    uid bigint, run recsys.model_runs, k integer, exclude text[], category text,
    include_seen boolean
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable
set hnsw.iterative_scan = relaxed_order
as $$
declare
    dims integer;
    user_vector vector;
begin
    select u.factors || '[1]'::vector into user_vector
      from recsys.user_factors u where u.run_id = run.id and u.user_id = uid;
    if user_vector is null then
        return;
    end if;
    dims := vector_dims(user_vector);
    return query execute format($q$
        select c.external_id, c.score, 'matches your taste (' || %3$L || ' model)'
          from (select i.external_id, i.id,
                       -((f.factors || array[f.bias]::vector)::vector(%2$s) <#> $1::vector(%2$s))
                       ::double precision as score
                  from recsys.item_factors f
                  join recsys.items i on i.id = f.item_id
                 where f.run_id = %1$s
                   and recsys.live(i.available, i.available_from, i.expires_at)
                   and ($2::text is null or i.categories @> array[$2::text])
                   and not (i.external_id = any($3))
                   and not exists (select 1 from recsys.interactions x
                                    where x.user_id = $4 and x.item_id = i.id
                                      and (not $5 or ($5 and x.conversions > 0)))
                   and not exists (select 1 from recsys.rejections r
                                    where r.user_id = $4 and r.item_id = i.id)
                 order by (f.factors || array[f.bias]::vector)::vector(%2$s) <#> $1::vector(%2$s)
                 limit $6) c
         order by c.score desc, c.id
    $q$, run.id, dims, run.kind)
    using user_vector, category, exclude, uid, include_seen, k;
end;
$$;

-- Items nearest to `target` by cosine through the HNSW index, with every filter
-- in the same query: relaxed_order iterative scans keep reading the index until
-- k rows pass (no post-filtering, no short lists). Dynamic SQL: the index is on
-- embedding::vector(n), and only a literal n lets the planner match it.
create or replace function recsys.nearest_items(
    target vector, k integer, exclude text[], category text, attributes jsonb,
    uid bigint, include_seen boolean
)
returns table (item_id bigint, product_id text, score double precision)
language plpgsql stable
set hnsw.iterative_scan = relaxed_order
as $$
begin
    if target is null then
        return;
    end if;
    return query execute format($q$
        select c.id, c.external_id, c.score
          from (select i.id, i.external_id,
                       1 - (i.embedding::vector(%1$s) <=> $1::vector(%1$s)) as score
                  from recsys.items i
                 where i.embedding is not null
                   and recsys.live(i.available, i.available_from, i.expires_at)
                   and ($2::text is null or i.categories @> array[$2::text])
                   and ($3::jsonb is null or i.attributes @> $3::jsonb)
                   and not (i.external_id = any($4))
                   and not exists (select 1 from recsys.interactions x
                                    where x.user_id = $5 and x.item_id = i.id
                                      and (not $6 or ($6 and x.conversions > 0)))
                   and not exists (select 1 from recsys.rejections r
                                    where r.user_id = $5 and r.item_id = i.id)
                 order by i.embedding::vector(%1$s) <=> $1::vector(%1$s)
                 limit $7) c
         order by c.score desc, c.id
    $q$, vector_dims(target))
    using target, category, attributes, coalesce(exclude, '{}'), uid, include_seen, k;
end;
$$;

drop function recsys.serve(text, integer, text, text[], text, text, text, jsonb,
                           double precision, text, text, text, text, uuid, integer, jsonb,
                           boolean, uuid);

-- A list served and logged: recsys.ranked (the strategy with its rules,
-- rotation and diversity), one recsys.exposures row, and the list with its
-- recomm_id. What the service calls for every list it answers; from psql,
-- `select * from recsys.serve('u42', 10, 'behavior_based')`.
create function recsys.serve(
    for_user text, k integer default 10, strategy text default 'hybrid',
    exclude text[] default '{}', category text default null, method text default 'adaptive',
    product text default null, attributes jsonb default null,
    rotation double precision default 0, surface text default 'sql',
    scenario text default null, experiment text default null, arm text default null,
    chain uuid default null, page integer default 1, request jsonb default '{}',
    log boolean default true, served_id uuid default null, rules jsonb default null,
    diversity double precision default 0, max_per_category integer default null,
    fallback text[] default '{}'
)
returns table (recomm_id uuid, product_id text, score double precision, reason text)
language plpgsql as $$
declare
    id uuid := coalesce(served_id, gen_random_uuid());
    ids text[];
    scores double precision[];
    reasons text[];
begin
    if not log then
        return query
        select id, r.product_id, r.score, r.reason
          from recsys.ranked(for_user, k, strategy, exclude, category, method, product,
                             attributes, rotation, rules, diversity, max_per_category,
                             fallback) r;
        return;
    end if;
    select coalesce(array_agg(r.product_id order by r.n), '{}'),
           coalesce(array_agg(r.score order by r.n), '{}'),
           coalesce(array_agg(r.reason order by r.n), '{}')
      into ids, scores, reasons
      from recsys.ranked(for_user, k, strategy, exclude, category, method, product,
                         attributes, rotation, rules, diversity, max_per_category, fallback)
           with ordinality as r(product_id, score, reason, n);
    perform recsys.log_exposure(id, for_user, surface, strategy, ids,
                                case when strategy = 'hybrid' then method end, scenario,
                                experiment, arm, null, chain, page, request);
    return query
    select id, f.product_id, f.score, f.reason
      from unnest(ids, scores, reasons) with ordinality as f(product_id, score, reason, n)
     order by f.n;
end;
$$;


-- recsys schema: business rules, scenarios and diversity. A rule is JSON
-- (docs/rules.md), compiled here into SQL expressions over the item `i` whose
-- every literal is a parameter ($1 -> n of one jsonb array), never text in
-- the query; recsys.ranked applies it to the strategy's ranked candidates in
-- the same statement that ranks them.

-- ---------------------------------------------------------------- compiling

-- A malformed rule: 400 over HTTP, the field named by the node's path.
create function recsys.rule_error(path text, message text)
returns void
language plpgsql immutable as $$
begin
    raise exception '%: %', path, message
        using errcode = 'invalid_parameter_value', column = path;
end;
$$;

-- Fails unless `node` is an object whose keys are all in `allowed`.
create function recsys.rule_keys(node jsonb, path text, allowed text[])
returns void
language plpgsql immutable as $$
declare
    extra text;
begin
    if jsonb_typeof(node) is distinct from 'object' then
        perform recsys.rule_error(path, 'must be a JSON object');
    end if;
    extra := (select min(key) from jsonb_object_keys(node) key where not key = any(allowed));
    if extra is not null then
        perform recsys.rule_error(path || '.' || extra,
                                  'unknown key; expected one of ' || array_to_string(allowed, ', '));
    end if;
end;
$$;

-- The SQL of one condition leaf {"field", "op", "value"} on item i; `ref`
-- and `txt` are the parameter references of its value ($1 -> n, $1 ->> n),
-- `key` that of an attribute's name. Never null: `not` can negate it.
create function recsys.compile_leaf(field text, op text, value jsonb, path text, ref text,
                                    txt text, key text)
returns text
language plpgsql immutable as $$
declare
    kind text := jsonb_typeof(value);
    col text;
begin
    if field = 'categories' then
        if op = 'contains' and kind = 'string' then
            return format('(i.categories @> array[%s])', txt);
        elsif op = 'in' and kind = 'array' then
            return format('(i.categories && array(select jsonb_array_elements_text(%s)))', ref);
        elsif op = 'exists' and kind = 'boolean' then
            return format('((cardinality(i.categories) > 0) = %s::boolean)', ref);
        end if;
        perform recsys.rule_error(path, 'categories takes contains (a string), in (an array of'
                                        ' strings) or exists (true or false)');
    elsif field = 'product_id' then
        if op in ('=', '!=') and kind = 'string' then
            return format('(i.external_id %s %s)', case op when '=' then '=' else '<>' end, txt);
        elsif op = 'in' and kind = 'array' then
            return format('(i.external_id = any(array(select jsonb_array_elements_text(%s))))', ref);
        end if;
        perform recsys.rule_error(path, 'product_id takes = or != (a string) or in (an array)');
    elsif field = 'available' then
        if op in ('=', '!=') and kind = 'boolean' then
            return format('(i.available %s %s::boolean)', case op when '=' then '=' else '<>' end, ref);
        end if;
        perform recsys.rule_error(path, 'available takes = or != with true or false');
    elsif field in ('available_from', 'expires_at', 'created_at', 'updated_at') then
        col := 'i.' || field;
        if op = 'exists' and kind = 'boolean' then
            return format('((%s is not null) = %s::boolean)', col, ref);
        elsif op in ('=', '!=', '<', '<=', '>', '>=') then
            return recsys.compile_date(col, op, value, path, ref, txt);
        end if;
        perform recsys.rule_error(path, field || ' takes =, !=, <, <=, >, >= or exists');
    elsif field like 'attributes.%' and length(field) > 11 then
        return recsys.compile_attribute(op, value, path, ref, txt, key);
    else
        perform recsys.rule_error(path || '.field', 'unknown field "' || coalesce(field, '') ||
            '"; fields: categories, product_id, available, available_from, expires_at,'
            ' created_at, updated_at, attributes.<key>');
    end if;
    return null;
end;
$$;

-- A comparison of a timestamp column with an ISO 8601 timestamp, or with
-- {"days": n}: now plus n days (negative: in the past).
create function recsys.compile_date(col text, op text, value jsonb, path text, ref text, txt text)
returns text
language plpgsql immutable as $$
declare
    target text;
begin
    if jsonb_typeof(value) = 'string' then
        -- ISO 8601 only: no 'tomorrow' or 'epoch', which the cast would take.
        begin
            perform (value #>> '{}')::timestamptz;
        exception when others then
            value := null;
        end;
        if value is null or (value #>> '{}') !~ '^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$' then
            perform recsys.rule_error(path || '.value', 'not an ISO 8601 timestamp');
        end if;
        target := format('%s::timestamptz', txt);
    elsif jsonb_typeof(value) = 'object' and jsonb_typeof(value -> 'days') = 'number'
          and (select count(*) from jsonb_object_keys(value)) = 1 then
        target := format('(now() + (%s ->> ''days'')::double precision * interval ''1 day'')', ref);
    else
        perform recsys.rule_error(path || '.value',
                                  'a timestamp (ISO 8601) or {"days": n} relative to now');
    end if;
    if op = '!=' then
        return format('(%s is distinct from %s)', col, target);
    end if;
    return format('coalesce(%s %s %s, false)', col, op, target);
end;
$$;

-- A condition on attributes.<key>: = and != compare JSON values (!= also
-- matches items without the key), in any of an array's, contains a scalar in
-- an array attribute; <, <=, >, >= compare numbers with numbers and strings
-- with strings (byte order), false for any other type.
create function recsys.compile_attribute(op text, value jsonb, path text, ref text, txt text,
                                         key text)
returns text
language plpgsql immutable as $$
declare
    kind text := jsonb_typeof(value);
    attr text := format('(i.attributes -> %s)', key);
begin
    case
        when op = '=' then
            return format('coalesce(%s = %s, false)', attr, ref);
        when op = '!=' then
            return format('(%s is distinct from %s)', attr, ref);
        when op = 'in' and kind = 'array' then
            return format('coalesce(%s = any(array(select jsonb_array_elements(%s))), false)',
                          attr, ref);
        when op = 'contains' and kind in ('string', 'number', 'boolean') then
            return format('coalesce(%s @> %s, false)', attr, ref);
        when op = 'exists' and kind = 'boolean' then
            return format('((i.attributes ? %s) = %s::boolean)', key, ref);
        when op in ('<', '<=', '>', '>=') and kind = 'number' then
            return format('(case when jsonb_typeof(%1$s) = ''number'''
                          ' then (i.attributes ->> %2$s)::numeric %3$s %4$s::numeric else false end)',
                          attr, key, op, txt);
        when op in ('<', '<=', '>', '>=') and kind = 'string' then
            return format('(case when jsonb_typeof(%1$s) = ''string'''
                          ' then (i.attributes ->> %2$s) collate "C" %3$s %4$s collate "C"'
                          ' else false end)',
                          attr, key, op, txt);
        else
            perform recsys.rule_error(path, 'attributes take =, != (any JSON value), in (an'
                ' array), contains (a string, number or boolean), exists (true or false), or'
                ' <, <=, >, >= (a number or a string)');
    end case;
    return null;
end;
$$;

-- Compiles a condition tree: {"and": [..]}, {"or": [..]}, {"not": ..} or a
-- leaf {"field", "op", "value"}. Each value is appended to `params`.
create function recsys.compile_condition(node jsonb, path text, inout params jsonb,
                                         depth integer default 0, out expr text)
language plpgsql immutable as $$
declare
    kind text;
    child jsonb;
    n integer := 0;
    parts text[] := '{}';
    part text;
    field text;
    op text;
    value jsonb;
    key text;
begin
    if depth > 8 then
        perform recsys.rule_error(path, 'conditions nest at most 8 levels deep');
    end if;
    if jsonb_typeof(node) is distinct from 'object' then
        perform recsys.rule_error(path, 'a condition must be a JSON object');
    end if;
    if node ? 'and' or node ? 'or' or node ? 'not' then
        kind := case when node ? 'and' then 'and' when node ? 'or' then 'or' else 'not' end;
        perform recsys.rule_keys(node, path, array[kind]);
        if kind = 'not' then
            select c.params, c.expr into params, part
              from recsys.compile_condition(node -> 'not', path || '.not', params, depth + 1) c;
            expr := format('(not %s)', part);
            return;
        end if;
        if jsonb_typeof(node -> kind) is distinct from 'array'
           or jsonb_array_length(node -> kind) not between 1 and 50 then
            perform recsys.rule_error(path || '.' || kind, 'must be an array of 1 to 50 conditions');
        end if;
        for child in select jsonb_array_elements(node -> kind) loop
            select c.params, c.expr into params, part
              from recsys.compile_condition(child, format('%s.%s[%s]', path, kind, n), params,
                                            depth + 1) c;
            parts := parts || part;
            n := n + 1;
        end loop;
        expr := '(' || array_to_string(parts, ' ' || kind || ' ') || ')';
        return;
    end if;
    perform recsys.rule_keys(node, path, array['field', 'op', 'value']);
    if jsonb_typeof(node -> 'field') is distinct from 'string' then
        perform recsys.rule_error(path || '.field', 'a string is required');
    end if;
    if jsonb_typeof(node -> 'op') is distinct from 'string' then
        perform recsys.rule_error(path || '.op', 'a string is required');
    end if;
    field := node ->> 'field';
    op := node ->> 'op';
    if not op = any(array['=', '!=', '<', '<=', '>', '>=', 'in', 'contains', 'exists']) then
        perform recsys.rule_error(path || '.op', 'unknown op "' || op ||
                                  '"; ops: =, !=, <, <=, >, >=, in, contains, exists');
    end if;
    value := coalesce(node -> 'value', case when op = 'exists' then 'true'::jsonb end);
    if value is null then
        perform recsys.rule_error(path || '.value', 'a value is required');
    end if;
    if op = 'in' and (jsonb_typeof(value) is distinct from 'array'
                      or jsonb_array_length(value) not between 1 and 1000) then
        perform recsys.rule_error(path || '.value', 'in takes an array of 1 to 1000 values');
    end if;
    if field like 'attributes.%' then
        params := params || jsonb_build_array(substr(field, 12));
        key := format('($1 ->> %s)', jsonb_array_length(params) - 1);
    end if;
    params := params || jsonb_build_array(value);
    expr := recsys.compile_leaf(field, op, value, path,
                                format('($1 -> %s)', jsonb_array_length(params) - 1),
                                format('($1 ->> %s)', jsonb_array_length(params) - 1), key);
end;
$$;

-- Compiles a rule object: `filter` (a condition) into a boolean expression,
-- `boost` and `bury` ([{"if": condition, "by": multiplier}]) into the product
-- of the multipliers an item matches; checks `pin`, `promote` and
-- `exclude_purchased`. max_boost: the product of every boost, the most any
-- item's rank can shrink (recsys.ranked's stopping rule).
create function recsys.compile_rules(rules jsonb, out filter text, out weight text,
                                     out params jsonb, out max_boost double precision)
language plpgsql immutable as $$
declare
    kind text;
    item jsonb;
    n integer;
    part text;
    parts text[] := '{}';
    factor double precision;
begin
    filter := 'true';
    params := '[]';
    max_boost := 1;
    if rules is null then
        weight := '1';
        return;
    end if;
    perform recsys.rule_keys(rules, 'rules',
                             array['filter', 'boost', 'bury', 'pin', 'promote', 'exclude_purchased']);
    if rules ? 'filter' then
        select c.params, c.expr into params, filter
          from recsys.compile_condition(rules -> 'filter', 'rules.filter', params) c;
    end if;
    foreach kind in array array['boost', 'bury'] loop
        continue when not rules ? kind;
        if jsonb_typeof(rules -> kind) is distinct from 'array'
           or jsonb_array_length(rules -> kind) > 50 then
            perform recsys.rule_error('rules.' || kind, 'must be an array of at most 50 rules');
        end if;
        n := 0;
        for item in select jsonb_array_elements(rules -> kind) loop
            perform recsys.rule_keys(item, format('rules.%s[%s]', kind, n), array['if', 'by']);
            if jsonb_typeof(item -> 'by') is distinct from 'number' then
                perform recsys.rule_error(format('rules.%s[%s].by', kind, n), 'a number is required');
            end if;
            factor := (item ->> 'by')::double precision;
            if kind = 'boost' and not factor between 1 and 1000
               or kind = 'bury' and not factor between 0.001 and 1 then
                perform recsys.rule_error(format('rules.%s[%s].by', kind, n),
                    case kind when 'boost' then 'a boost multiplies by 1 to 1000'
                              else 'a bury multiplies by 0.001 to 1' end);
            end if;
            if not item ? 'if' then
                perform recsys.rule_error(format('rules.%s[%s].if', kind, n),
                                          'a condition is required');
            end if;
            select c.params, c.expr into params, part
              from recsys.compile_condition(item -> 'if', format('rules.%s[%s].if', kind, n),
                                            params) c;
            params := params || jsonb_build_array(item -> 'by');
            parts := parts || format('(case when %s then (%s)::double precision else 1 end)',
                                     part, format('$1 ->> %s', jsonb_array_length(params) - 1));
            if kind = 'boost' then
                max_boost := max_boost * factor;
            end if;
            n := n + 1;
        end loop;
    end loop;
    weight := coalesce(nullif(array_to_string(parts, ' * '), ''), '1');
    perform recsys.check_placements(rules);
end;
$$;

-- Checks `pin` ([{"product_id", "position", "reason"?}], distinct items and
-- positions), `promote` ({"items": [...], "mode": lead | fill, "reason"?})
-- and `exclude_purchased` (true or false).
create function recsys.check_placements(rules jsonb)
returns void
language plpgsql immutable as $$
declare
    pin jsonb;
    n integer := 0;
    path text;
begin
    if rules ? 'exclude_purchased'
       and jsonb_typeof(rules -> 'exclude_purchased') is distinct from 'boolean' then
        perform recsys.rule_error('rules.exclude_purchased', 'true or false');
    end if;
    if rules ? 'pin' then
        if jsonb_typeof(rules -> 'pin') is distinct from 'array'
           or jsonb_array_length(rules -> 'pin') > 50 then
            perform recsys.rule_error('rules.pin', 'must be an array of at most 50 pins');
        end if;
        for pin in select jsonb_array_elements(rules -> 'pin') loop
            path := format('rules.pin[%s]', n);
            perform recsys.rule_keys(pin, path, array['product_id', 'position', 'reason']);
            if jsonb_typeof(pin -> 'product_id') is distinct from 'string'
               or length(pin ->> 'product_id') not between 1 and 256 then
                perform recsys.rule_error(path || '.product_id', 'a product id is required');
            elsif jsonb_typeof(pin -> 'position') is distinct from 'number'
               or (pin ->> 'position') !~ '^[0-9]{1,4}$'
               or (pin ->> 'position')::integer not between 1 and 1000 then
                perform recsys.rule_error(path || '.position', 'a position from 1 to 1000');
            elsif pin ? 'reason' and (jsonb_typeof(pin -> 'reason') is distinct from 'string'
                                      or length(pin ->> 'reason') > 200) then
                perform recsys.rule_error(path || '.reason', 'a string of at most 200 characters');
            end if;
            n := n + 1;
        end loop;
        if (select count(distinct p ->> 'position') <> count(*)
                   or count(distinct p ->> 'product_id') <> count(*)
              from jsonb_array_elements(rules -> 'pin') p) then
            perform recsys.rule_error('rules.pin', 'each position and each product once');
        end if;
    end if;
    if rules ? 'promote' then
        perform recsys.rule_keys(rules -> 'promote', 'rules.promote',
                                 array['items', 'mode', 'reason']);
        if jsonb_typeof(rules -> 'promote' -> 'items') is distinct from 'array'
           or jsonb_array_length(rules -> 'promote' -> 'items') not between 1 and 100
           or exists (select 1 from jsonb_array_elements(rules -> 'promote' -> 'items') x
                       where jsonb_typeof(x) <> 'string' or length(x #>> '{}') not between 1 and 256)
        then
            perform recsys.rule_error('rules.promote.items', 'an array of 1 to 100 product ids');
        elsif coalesce(rules -> 'promote' ->> 'mode', 'lead') not in ('lead', 'fill')
              or (rules -> 'promote') ? 'mode'
                 and jsonb_typeof(rules -> 'promote' -> 'mode') <> 'string' then
            perform recsys.rule_error('rules.promote.mode', 'lead or fill');
        elsif (rules -> 'promote') ? 'reason'
              and (jsonb_typeof(rules -> 'promote' -> 'reason') <> 'string'
                   or length(rules -> 'promote' ->> 'reason') > 200) then
            perform recsys.rule_error('rules.promote.reason', 'a string of at most 200 characters');
        end if;
    end if;
end;
$$;

-- ------------------------------------------------------------------ ranking

-- The strategies recsys.recommend dispatches to (app.recommenders.STRATEGIES).
create function recsys.strategies()
returns text[]
language sql immutable parallel safe
return array['collaborative', 'behavior_based', 'content_based', 'popular', 'trending',
             'latest', 'hybrid'];

-- Items shown to the user within settings.rotation_window and not touched
-- since, with how many times (recsys.ranked's rotation).
create function recsys.recently_shown(for_user text)
returns table (item_id bigint, times integer)
language sql stable as $$
    select e.item_id, count(*)::integer
      from (select x.items, x.served_at
              from recsys.exposures x
             where x.user_external_id = for_user
               and x.served_at > now() - (select s.rotation_window from recsys.settings s)
             order by x.served_at desc
             limit 100) x
     cross join unnest(x.items) as e(item_id)
      left join recsys.interactions i
        on i.user_id = (select u.id from recsys.users u where u.external_id = for_user)
       and i.item_id = e.item_id
     where i.last_ts is null or i.last_ts < x.served_at
     group by e.item_id;
$$;

-- Picks up to k of candidates already in rank order (e: effective ranks;
-- categories flattened into cats, candidate j's from starts[j] to
-- starts[j + 1] - 1; embs: embeddings) and returns their indexes in list
-- order. diversity d > 0: maximal marginal relevance, each pick maximising
-- (1 - d) x relevance - d x its largest cosine similarity to the picks so far,
-- relevance being the rank's DCG discount ln 2 / ln(1 + e), scaled so the first
-- is 1 (scale-free across strategies). cap: no pick whose category already has
-- cap picks, unless `relax` and only such candidates remain.
create function recsys.select_diverse(e double precision[], cats text[], starts bigint[],
                                      embs vector[], k integer, diversity double precision,
                                      cap integer, relax boolean)
returns integer[]
language plpgsql immutable as $$
declare
    n integer := coalesce(cardinality(e), 0);
    chosen integer[] := '{}';
    taken boolean[];
    nearest double precision[];
    counts jsonb := '{}';
    top double precision;
    best integer;
    best_value double precision;
    value double precision;
    blocked boolean;
    relaxed boolean := false;
    c integer;
begin
    if n = 0 then
        return chosen;
    end if;
    if diversity = 0 and cap is null then
        return array(select g from generate_series(1, least(k, n)) g);
    end if;
    taken := array_fill(false, array[n]);
    nearest := array_fill(0::double precision, array[n]);
    top := ln(1 + e[1]);
    while cardinality(chosen) < least(k, n) loop
        best := null;
        for j in 1 .. n loop
            continue when taken[j];
            blocked := false;
            if cap is not null and not relaxed then
                for c in starts[j] .. coalesce(starts[j + 1], cardinality(cats) + 1) - 1 loop
                    blocked := blocked or coalesce((counts ->> cats[c])::integer, 0) >= cap;
                end loop;
            end if;
            continue when blocked;
            value := case when diversity > 0
                          then (1 - diversity) * top / ln(1 + e[j]) - diversity * nearest[j]
                          else -j end;
            if best is null or value > best_value then
                best := j;
                best_value := value;
            end if;
        end loop;
        if best is null then
            exit when not relax or relaxed;
            relaxed := true;
            continue;
        end if;
        taken[best] := true;
        chosen := chosen || best;
        for c in starts[best] .. coalesce(starts[best + 1], cardinality(cats) + 1) - 1 loop
            counts := jsonb_set(counts, array[cats[c]],
                                to_jsonb(coalesce((counts ->> cats[c])::integer, 0) + 1));
        end loop;
        if diversity > 0 and embs[best] is not null then
            for j in 1 .. n loop
                if not taken[j] and embs[j] is not null
                   and vector_dims(embs[j]) = vector_dims(embs[best]) then
                    nearest[j] := greatest(nearest[j], 1 - (embs[j] <=> embs[best]));
                end if;
            end loop;
        end if;
    end loop;
    return chosen;
end;
$$;

-- recsys.recommend with business rules, rotation, diversity and a category
-- cap, applied to the strategy's ranked candidates in the database:
-- * `fallback`: strategies whose own candidates follow the first one's when it
--   runs short (each list's popular top-up only from the last);
-- * `rules` (recsys.compile_rules): `filter` drops candidates; an item's rank
--   n becomes n x rotation factor / the product of the boosts and buries it
--   matches (rank-based, so one rule works on every strategy's scale);
-- * `diversity` and `max_per_category` pick the list (recsys.select_diverse);
-- * `promote` leads the list (mode lead) or follows the strategy's own
--   candidates before any popular top-up (mode fill); `pin` places items at
--   fixed positions. Both skip the filter, never availability, `exclude`,
--   the user's rejections, or what the user bought (or, with
--   exclude_purchased false, nothing the user touched is excluded).
-- Candidates are read in pools of 4k, x4 until every pick is final: k picks
-- ranked at or above (pool + 1) / max_boost, which no unread candidate can
-- beat (with diversity: once 3k candidates passed the filter; with a category
-- cap: after at most 16k candidates of which k passed, the cap yielding
-- within them); past 1000, popular items passing the filter fill the list,
-- so it stays k long while the catalogue allows.
create function recsys.ranked(
    for_user text, k integer, strategy text, exclude text[] default '{}',
    category text default null, method text default 'adaptive', product text default null,
    attributes jsonb default null, rotation double precision default 0,
    rules jsonb default null, diversity double precision default 0,
    max_per_category integer default null, fallback text[] default '{}'
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    compiled record;
    include_seen boolean := false;
    uid bigint;
    shown_ids bigint[] := '{}';
    shown_times integer[] := '{}';
    pins text[];
    pin_at integer[];
    pin_why text[];
    promoted text[];
    pool integer;
    exhausted boolean;
    ids text[];
    scores double precision[];
    reasons text[];
    s_ids text[];
    s_scores double precision[];
    s_reasons text[];
    s_e double precision[];
    s_embs vector[];
    s_starts bigint[];
    s_cats text[];
    chosen integer[];
    extra record;
    f_ids text[];
    f_scores double precision[];
    f_reasons text[];
    place integer;
begin
    if rotation is null or rotation < 0 or rotation > 1 then
        raise exception 'rotation must be between 0 and 1, got %', rotation
            using errcode = 'invalid_parameter_value', column = 'rotation';
    elsif diversity is null or diversity < 0 or diversity > 1 then
        raise exception 'diversity must be between 0 and 1, got %', diversity
            using errcode = 'invalid_parameter_value', column = 'diversity';
    elsif max_per_category < 1 then
        raise exception 'max_per_category must be at least 1, got %', max_per_category
            using errcode = 'invalid_parameter_value', column = 'max_per_category';
    end if;
    perform recsys.check_k(k);
    exclude := coalesce(exclude, '{}');
    fallback := coalesce(fallback, '{}');
    if rules is null and diversity = 0 and max_per_category is null and fallback = '{}' then
        return query select * from recsys.rotated(for_user, k, strategy, exclude, category,
                                                  method, product, attributes, rotation);
        return;
    end if;
    select c.* into compiled from recsys.compile_rules(rules) c;
    if (rules ->> 'exclude_purchased')::boolean is false then
        include_seen := null;
    end if;
    uid := (select u.id from recsys.users u where u.external_id = for_user);
    if rotation > 0 and for_user is not null then
        select coalesce(array_agg(s.item_id), '{}'), coalesce(array_agg(s.times), '{}')
          into shown_ids, shown_times from recsys.recently_shown(for_user) s;
    end if;
    select coalesce(array_agg(p.product_id order by x.position), '{}'),
           coalesce(array_agg(x.position order by x.position), '{}'),
           coalesce(array_agg(coalesce(x.pin ->> 'reason', 'pinned') order by x.position), '{}')
      into pins, pin_at, pin_why
      from (select pin, (pin ->> 'position')::integer as position
              from jsonb_array_elements(rules -> 'pin') as pin) x
     cross join lateral recsys.placeable(uid, exclude, include_seen,
                                         array[x.pin ->> 'product_id']) p;
    promoted := array(select p.product_id from recsys.placeable(uid, exclude, include_seen, array(
                          select x #>> '{}' from jsonb_array_elements(rules -> 'promote' -> 'items') x))
                      p order by p.n);
    exclude := exclude || pins || promoted;
    pool := ceil(least(1000, greatest(4 * k, k * compiled.max_boost,
                                      k + cardinality(shown_ids))))::integer;
    loop
        select c.ids, c.scores, c.reasons into ids, scores, reasons
          from recsys.chained(for_user, pool, array[strategy] || fallback, exclude, category,
                              include_seen, method, product, attributes) c;
        exhausted := cardinality(ids) < pool;
        execute format($q$
            with c as (
                select c.product_id, c.score, c.reason, c.n, i.categories, i.embedding,
                       c.n * power(1 / (1 - least($5, 0.999)), coalesce(s.times, 0)) / (%2$s) as e
                  from unnest($2::text[], $3::double precision[], $4::text[])
                       with ordinality as c(product_id, score, reason, n)
                  join recsys.items i on i.external_id = c.product_id
                  left join unnest($6::bigint[], $7::integer[]) as s(item_id, times)
                    on s.item_id = i.id
                 where %1$s
            ),
            o as (
                select c.*, row_number() over w as r,
                       1 + coalesce(sum(cardinality(c.categories)) over (
                           w rows between unbounded preceding and 1 preceding), 0) as start
                  from c
                window w as (order by c.e, c.n)
            )
            select coalesce(array_agg(o.product_id order by o.r), '{}'),
                   coalesce(array_agg(o.score order by o.r), '{}'),
                   coalesce(array_agg(o.reason order by o.r), '{}'),
                   coalesce(array_agg(o.e order by o.r), '{}'),
                   coalesce(array_agg(o.embedding order by o.r), '{}'),
                   coalesce(array_agg(o.start order by o.r), '{}'),
                   coalesce((select array_agg(x.cat order by o2.r, x.o)
                               from o o2 cross join unnest(o2.categories) with ordinality
                                    as x(cat, o)), '{}')
              from o
        $q$, compiled.filter, compiled.weight)
        into s_ids, s_scores, s_reasons, s_e, s_embs, s_starts, s_cats
        using compiled.params, ids, scores, reasons, rotation, shown_ids, shown_times;
        chosen := recsys.select_diverse(s_e, s_cats, s_starts, s_embs, k, diversity,
                                        max_per_category, false);
        exit when exhausted or pool >= 1000;
        if diversity > 0 then
            exit when cardinality(s_ids) >= 3 * k;
        elsif max_per_category is not null and pool >= 16 * k and cardinality(s_ids) >= k then
            -- A cap on items of many categories can block most candidates:
            -- at most two rounds (16k), then the cap yields within them.
            exit;
        else
            exit when (select count(*) from unnest(chosen) j
                        where s_e[j] <= (pool + 1) / compiled.max_boost) >= k;
        end if;
        pool := least(1000, pool * 4);
    end loop;
    if cardinality(s_ids) < k and not exhausted then
        -- Past 1000 candidates: the most popular items that pass the filter.
        for extra in execute format($q$
            select i.external_id, i.categories, i.embedding,
                   coalesce(exp(s.log_popularity
                                - (select max(x.log_popularity) from recsys.item_stats x)), 0)
                       as score
              from recsys.items i
              left join recsys.item_stats s on s.item_id = i.id
             where recsys.live(i.available, i.available_from, i.expires_at) and %1$s
               and ($2::text is null or i.categories @> array[$2::text])
               and not (i.external_id = any($3))
               and not exists (select 1 from recsys.interactions x
                                where x.user_id = $4 and x.item_id = i.id
                                  and (not $5 or ($5 and x.conversions > 0)))
               and not exists (select 1 from recsys.rejections r
                                where r.user_id = $4 and r.item_id = i.id)
             order by s.log_popularity desc nulls last, i.id desc
             limit $6
        $q$, compiled.filter)
        using compiled.params, category, exclude || s_ids, uid, include_seen, k - cardinality(s_ids)
        loop
            s_starts := s_starts || (cardinality(s_cats) + 1)::bigint;
            s_cats := s_cats || extra.categories;
            s_ids := s_ids || extra.external_id;
            s_scores := s_scores || extra.score;
            s_reasons := s_reasons || 'popular'::text;
            s_e := s_e || (pool + cardinality(s_ids))::double precision;
            s_embs := s_embs || extra.embedding;
        end loop;
    end if;
    if cardinality(chosen) < k then
        chosen := recsys.select_diverse(s_e, s_cats, s_starts, s_embs, k, diversity,
                                        max_per_category, true);
    end if;
    f_ids := array(select s_ids[j] from unnest(chosen) with ordinality as c(j, n) order by c.n);
    f_scores := array(select s_scores[j] from unnest(chosen) with ordinality as c(j, n) order by c.n);
    f_reasons := array(select s_reasons[j] from unnest(chosen) with ordinality as c(j, n) order by c.n);
    if promoted <> '{}' then
        place := case when coalesce(rules -> 'promote' ->> 'mode', 'lead') = 'lead' then 1
                   else coalesce((select min(r.n) from unnest(f_reasons) with ordinality as r(why, n)
                                   where r.why like 'popular%' or r.why like 'new in the catalogue%'),
                                 cardinality(f_ids) + 1) end;
        f_ids := f_ids[:place - 1] || promoted || f_ids[place:];
        f_scores := f_scores[:place - 1] || array_fill(0::double precision, array[cardinality(promoted)])
                    || f_scores[place:];
        f_reasons := f_reasons[:place - 1]
                     || array_fill(coalesce(rules -> 'promote' ->> 'reason', 'promoted'),
                                   array[cardinality(promoted)])
                     || f_reasons[place:];
    end if;
    for place in 1 .. cardinality(pins) loop
        -- Ascending positions: each pin lands at its own, or at the end of a shorter list.
        f_ids := f_ids[:pin_at[place] - 1] || pins[place] || f_ids[pin_at[place]:];
        f_scores := f_scores[:pin_at[place] - 1] || 0::double precision || f_scores[pin_at[place]:];
        f_reasons := f_reasons[:pin_at[place] - 1] || pin_why[place] || f_reasons[pin_at[place]:];
    end loop;
    return query
    select f.id, f.score, f.why
      from unnest(f_ids, f_scores, f_reasons) with ordinality as f(id, score, why, n)
     where f.n <= k
     order by f.n;
end;
$$;

-- Of `products`, those that may be placed for the user (pins, promoted
-- lists): live, not in `exclude`, not rejected, not bought (include_seen
-- false: not touched; null: any), in the given order.
create function recsys.placeable(uid bigint, exclude text[], include_seen boolean,
                                 products text[])
returns table (product_id text, n bigint)
language sql stable as $$
    select i.external_id, p.n
      from unnest(products) with ordinality as p(product_id, n)
      join recsys.items i on i.external_id = p.product_id
     where recsys.live(i.available, i.available_from, i.expires_at)
       and not (i.external_id = any(exclude))
       and not exists (select 1 from recsys.interactions x
                        where x.user_id = uid and x.item_id = i.id
                          and (not include_seen or (include_seen and x.conversions > 0)))
       and not exists (select 1 from recsys.rejections r
                        where r.user_id = uid and r.item_id = i.id);
$$;

-- The candidates of a chain of strategies, up to `pool`: each one's own
-- items after the previous ones' (its popular top-up only from the last, or
-- from popular itself).
create function recsys.chained(
    for_user text, pool integer, chain text[], exclude text[], category text,
    include_seen boolean, method text, product text, attributes jsonb,
    out ids text[], out scores double precision[], out reasons text[]
)
language plpgsql stable as $$
declare
    step integer;
begin
    ids := '{}';
    scores := '{}';
    reasons := '{}';
    for step in 1 .. cardinality(chain) loop
        select ids || coalesce(array_agg(r.product_id order by r.n), '{}'),
               scores || coalesce(array_agg(r.score order by r.n), '{}'),
               reasons || coalesce(array_agg(r.reason order by r.n), '{}')
          into ids, scores, reasons
          from recsys.recommend(for_user, pool - cardinality(ids), chain[step], exclude || ids,
                                category, include_seen,
                                case when step = 1 then method else 'adaptive' end, product,
                                attributes) with ordinality as r(product_id, score, reason, n)
         where step = cardinality(chain) or chain[step] = 'popular'
            or not (r.reason like 'popular%' or r.reason like 'new in the catalogue%');
        exit when cardinality(ids) >= pool;
    end loop;
end;
$$;

-- ---------------------------------------------------------------- scenarios

-- Saved settings of one placement (home page, product page, cart): which
-- strategy, its rules, diversity, rotation, list length and fallbacks.
-- GET /recommend?scenario=NAME, recsys.recommend_scenario from psql.
create table recsys.scenarios (
    name text primary key,
    description text,
    case_name text not null,
    method text,
    rules jsonb,
    diversity double precision not null default 0,
    max_per_category integer,
    rotation double precision not null default 0,
    k integer,
    fallback text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Creates or replaces a scenario after checking every field, the rules
-- compiled (a bad node names its path): 400 over HTTP, nothing written.
create function recsys.put_scenario(
    scenario text, strategy text, method text default null, rules jsonb default null,
    diversity double precision default 0, max_per_category integer default null,
    rotation double precision default 0, k integer default null, fallback text[] default '{}',
    description text default null
)
returns recsys.scenarios
language plpgsql as $$
declare
    bad text;
    saved recsys.scenarios;
begin
    if scenario is null or scenario !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' then
        raise exception 'a scenario name is 1-64 letters, digits, _ . : - (starting with a letter or digit), got "%"', scenario
            using errcode = 'invalid_parameter_value', column = 'name';
    end if;
    bad := (select min(s) from unnest(array[strategy] || coalesce(fallback, '{}')) s
             where s is null or not s = any(recsys.strategies()));
    if bad is not null or strategy is null then
        raise exception 'unknown strategy "%"', coalesce(bad, strategy)
            using errcode = 'invalid_parameter_value',
                  column = case when bad is distinct from strategy then 'fallback' else 'case' end,
                  hint = 'strategies: ' || array_to_string(recsys.strategies(), ', ');
    end if;
    if method is not null and (strategy <> 'hybrid' or method not in ('adaptive', 'switching')) then
        raise exception 'method "%" needs case hybrid and is adaptive or switching', method
            using errcode = 'invalid_parameter_value', column = 'method';
    end if;
    if k is not null then
        perform recsys.check_k(k);
    end if;
    if rotation is null or rotation not between 0 and 1 then
        raise exception 'rotation must be between 0 and 1, got %', rotation
            using errcode = 'invalid_parameter_value', column = 'rotation';
    elsif diversity is null or diversity not between 0 and 1 then
        raise exception 'diversity must be between 0 and 1, got %', diversity
            using errcode = 'invalid_parameter_value', column = 'diversity';
    elsif max_per_category < 1 then
        raise exception 'max_per_category must be at least 1, got %', max_per_category
            using errcode = 'invalid_parameter_value', column = 'max_per_category';
    elsif length(description) > 1000 then
        raise exception 'description: at most 1000 characters'
            using errcode = 'invalid_parameter_value', column = 'description';
    end if;
    perform recsys.compile_rules(rules);
    insert into recsys.scenarios as s (name, description, case_name, method, rules, diversity,
                                       max_per_category, rotation, k, fallback)
    values (scenario, description, strategy, method, rules, diversity, max_per_category,
            rotation, k, coalesce(fallback, '{}'))
        on conflict (name) do update
       set description = excluded.description, case_name = excluded.case_name,
           method = excluded.method, rules = excluded.rules, diversity = excluded.diversity,
           max_per_category = excluded.max_per_category, rotation = excluded.rotation,
           k = excluded.k, fallback = excluded.fallback, updated_at = now()
    returning * into saved;
    return saved;
end;
$$;

-- The scenario's list for a user (and a product, for product pages), as
-- GET /recommend?scenario= serves it but without a ledger row; `k` and
-- `rules` given here replace the scenario's (rules key by key).
create function recsys.recommend_scenario(
    scenario text, for_user text, k integer default null, product text default null,
    exclude text[] default '{}', category text default null, rules jsonb default null
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    s recsys.scenarios := (select x from recsys.scenarios x where x.name = scenario);
begin
    if s.name is null then
        raise exception 'unknown scenario "%"', scenario
            using errcode = 'no_data_found', column = 'scenario';
    end if;
    return query
    select * from recsys.ranked(for_user, coalesce(k, s.k, 10), s.case_name, exclude, category,
                                coalesce(s.method, 'adaptive'), product, null, s.rotation,
                                case when rules is null then s.rules
                                     else coalesce(s.rules, '{}') || rules end,
                                s.diversity, s.max_per_category, s.fallback);
end;
$$;
