-- One popular top-up (recsys.popular_top_up) for behavior_based, collaborative,
-- content_based, adaptive and switching, in place of a copy in each.

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
-- would make this and popular() re-plan on every call: +10% on a new user's
-- collaborative list. (PL/pgSQL, not an inlinable SQL query, for the same
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

-- Items that co-occur with a user's latest items, each neighbour's similarity
-- weighted by how strongly (event weights) and how recently the user chose
-- the source item. Tops up with popular items when history runs short.
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
            with latest as materialized (
                select x.item_id,
                       ln(1 + greatest(x.score, 0))
                       * power(0.9, row_number() over (order by x.last_ts desc, x.seq desc) - 1) as w
                  from recsys.interactions x
                 where x.user_id = uid
                 order by x.last_ts desc, x.seq desc
                 limit cfg.recent_items
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
                 where i.available
                   and (category is null or i.categories @> array[category])
                   and not (i.external_id = any(exclude))
                   and not exists (select 1 from recsys.interactions x
                                    where x.user_id = uid and x.item_id = i.id
                                      and (not include_seen or x.purchases > 0))
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

-- Collaborative filtering from the trained models: the implicit run's item
-- neighbours applied to the user's live history, then the explicit run's
-- factors (first, when they ranked better on validation), then popular items,
-- so the list is k long while the catalogue allows.
create or replace function recsys.collaborative(
    for_user text, k integer default 10, exclude text[] default '{}',
    category text default null, include_seen boolean default false
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable
-- A generic plan of the per-source query cannot see which source runs nor the
-- user's history size: it took 15-30 ms where a custom plan takes 2-12.
set plan_cache_mode = force_custom_plan
as $$
declare
    uid bigint := (select id from recsys.users where external_id = for_user);
    implicit recsys.model_runs := recsys.active_run('implicit');
    explicit recsys.model_runs := recsys.active_run('explicit');
    sources text[] := array['neighbors', 'factors'];
    source text;
    shown text[] := '{}';
    row record;
begin
    perform recsys.check_k(k);
    exclude := coalesce(exclude, '{}');
    -- Factors first only when both runs were validated and the factors ranked better.
    if (explicit.metrics ->> 'ndcg_at_10')::double precision
       > (implicit.metrics ->> 'ndcg_at_10')::double precision then
        sources := array['factors', 'neighbors'];
    end if;
    foreach source in array sources loop
        exit when uid is null or cardinality(shown) >= k;
        for row in
            select * from recsys.neighbor_scores(uid, implicit, k - cardinality(shown),
                                                 exclude || shown, category, include_seen)
             where source = 'neighbors' and implicit.id is not null
            union all
            select * from recsys.factor_scores(uid, explicit, k - cardinality(shown),
                                               exclude || shown, category, include_seen)
             where source = 'factors' and explicit.id is not null
        loop
            product_id := row.product_id;
            score := row.score;
            reason := row.reason;
            shown := shown || row.product_id;
            return next;
        end loop;
    end loop;
    return query
    select * from recsys.popular_top_up(for_user, k, shown, exclude, category, include_seen);
end;
$$;

-- Nearest items to a product (`product`), or to the weighted centroid of the
-- user's recent embedded items; the reason names the product, or the recent
-- item closest to each result. Popular items fill the rest, and say why: an
-- item without text has no embedding, and a user without embedded history
-- has no centroid. An unknown product with no user is an error (404 over HTTP).
create or replace function recsys.content_based(
    for_user text, k integer default 10, exclude text[] default '{}',
    category text default null, include_seen boolean default false,
    product text default null, attributes jsonb default null
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    cfg recsys.settings := (select s from recsys.settings s);
    uid bigint := (select id from recsys.users where external_id = for_user);
    item recsys.items;
    target vector;
    why text;
    shown text[] := '{}';
    row record;
begin
    perform recsys.check_k(k);
    exclude := coalesce(exclude, '{}');
    if product is not null then
        item := (select i from recsys.items i where i.external_id = product);
        if item.id is null and uid is null then
            raise exception 'unknown product_id "%"', product
                using errcode = 'no_data_found', column = 'product_id';
        end if;
        exclude := exclude || product;
        target := item.embedding;
        why := case when item.id is null then ' (unknown product)'
                    else ' (no content for ' || coalesce(item.title, item.external_id) || ')' end;
    elsif uid is not null then
        target := recsys.user_centroid(uid, cfg.recent_items);
        why := ' (no content in your history)';
    else
        why := ' (new user)';
    end if;

    if target is not null and vector_norm(target) > 0 then
        for row in
            select n.* from recsys.nearest_items(target, k, exclude, category, attributes, uid,
                                                 include_seen) n
        loop
            product_id := row.product_id;
            score := row.score;
            reason := 'similar to ' || case
                when item.id is not null then coalesce(item.title, item.external_id)
                else recsys.content_source(uid, cfg.recent_items, row.item_id)
            end;
            shown := shown || row.product_id;
            return next;
        end loop;
        why := ' (not enough similar items)';
    end if;
    return query
    select * from recsys.popular_top_up(for_user, k, shown, exclude, category, include_seen, why);
end;
$$;

-- Adaptive hybrid: each strategy's candidates (its own rows, not its popular
-- top-up), scores divided by the list's best, blended with the weights of the
-- user's history bucket. The reason is that of the largest contribution.
create or replace function recsys.adaptive(
    for_user text, k integer default 10, exclude text[] default '{}',
    category text default null, include_seen boolean default false
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable
set plan_cache_mode = force_custom_plan
as $$
declare
    cfg recsys.settings := (select s from recsys.settings s);
    uid bigint := (select id from recsys.users where external_id = for_user);
    n bigint := (select count(*) from recsys.interactions x where x.user_id = uid);
    w jsonb := recsys.hybrid_weights(n);
    hybrid recsys.model_runs := recsys.active_run('hybrid');
    implicit recsys.model_runs := recsys.active_run('implicit');
    pool integer := least(1000, greatest(k, coalesce((hybrid.params ->> 'candidates')::integer, 100)));
    centroid vector;
    shown text[] := '{}';
    row record;
begin
    perform recsys.check_k(k);
    exclude := coalesce(exclude, '{}');
    if uid is not null and (w ->> 'content_based')::double precision > 0 then
        centroid := recsys.user_centroid(uid, cfg.recent_items);
    end if;
    for row in
        with candidates as (
            select 'collaborative' as source, c.product_id, c.score, null::text as reason
              from recsys.neighbor_candidates(uid, implicit, pool, exclude, category, include_seen) c
             where uid is not null and implicit.id is not null
               and (w ->> 'collaborative')::double precision > 0
            union all
            select 'behavior_based', b.product_id, b.score, b.reason
              from recsys.behavior_based(for_user, pool, exclude, category, include_seen) b
             where uid is not null and (w ->> 'behavior_based')::double precision > 0
               and b.reason like 'often together with %'
            union all
            select 'content_based', c.product_id, c.score, null
              from recsys.nearest_items(centroid, pool, exclude, category, null, uid,
                                        include_seen) c
             where centroid is not null
            union all
            select 'popular', p.product_id, p.score, p.reason
              from recsys.popular(pool, null, category, exclude, for_user, include_seen) p
             where (w ->> 'popular')::double precision > 0
        ),
        parts as (
            select c.product_id, c.source, c.reason,
                   (w ->> c.source)::double precision * c.score
                   / max(c.score) over (partition by c.source) as part
              from candidates c
             where c.score > 0
        ),
        blended as (
            select p.product_id, sum(p.part) as score,
                   (array_agg(p.source order by p.part desc))[1] as source,
                   (array_agg(p.reason order by p.part desc))[1] as reason
              from parts p
             group by p.product_id
            having sum(p.part) > 0
             order by 2 desc, 1
             limit k
        )
        select b.product_id, b.score,
               coalesce(b.reason, case b.source
                   when 'collaborative'
                   then 'liked by people who liked ' || recsys.neighbor_source(uid, implicit, i.id)
                   else 'similar to ' || recsys.content_source(uid, cfg.recent_items, i.id)
               end) as reason
          from blended b
          join recsys.items i on i.external_id = b.product_id
         order by b.score desc, b.product_id
    loop
        product_id := row.product_id;
        score := row.score;
        reason := row.reason;
        shown := shown || row.product_id;
        return next;
    end loop;
    -- Scored 0: below every blended item, whose scores are on another scale.
    return query
    select t.product_id, 0::double precision, t.reason
      from recsys.popular_top_up(for_user, k, shown, exclude, category, include_seen) t;
end;
$$;

-- Switching hybrid: the strongest strategy the user's history supports, each
-- reason starting with the strategy that produced it. collaborative needs at
-- least `min_history` interactions (the hybrid run's params, default 5) of
-- which the implicit model knows one; behaviour- and content-based need one
-- interaction; popular fills the rest. The order is collaborative,
-- behavior_based, content_based until `recsys train --model hybrid` ranks the
-- three per history bucket on its validation split (params.switching).
create or replace function recsys.switching(
    for_user text, k integer default 10, exclude text[] default '{}',
    category text default null, include_seen boolean default false
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    uid bigint := (select id from recsys.users where external_id = for_user);
    n bigint := (select count(*) from recsys.interactions x where x.user_id = uid);
    hybrid recsys.model_runs := recsys.active_run('hybrid');
    implicit recsys.model_runs := recsys.active_run('implicit');
    min_history integer := coalesce((hybrid.params ->> 'min_history')::integer, 5);
    strategies text[] := coalesce(
        (select array_agg(s) from jsonb_array_elements_text(
             hybrid.params -> 'switching' -> recsys.history_bucket(n)) as s),
        array['collaborative', 'behavior_based', 'content_based']);
    strategy text;
    shown text[] := '{}';
    row record;
begin
    perform recsys.check_k(k);
    exclude := coalesce(exclude, '{}');
    if n < 1 then
        strategies := '{}';
    elsif n < min_history or not exists (
        select 1 from recsys.interactions x
          join recsys.item_neighbors nb on nb.run_id = implicit.id and nb.item_id = x.item_id
         where x.user_id = uid) then
        strategies := array_remove(strategies, 'collaborative');
    end if;
    foreach strategy in array strategies loop
        exit when cardinality(shown) >= k;
        for row in
            select r.* from recsys.recommend(for_user, k - cardinality(shown), strategy,
                                             exclude || shown, category, include_seen) r
             where r.reason not like 'popular%' and r.reason not like 'new in the catalogue%'
        loop
            product_id := row.product_id;
            score := row.score;
            reason := strategy || ': ' || row.reason;
            shown := shown || row.product_id;
            return next;
        end loop;
    end loop;
    -- Like every other reason here, it starts with the strategy's name.
    return query
    select t.product_id, t.score,
           case when t.reason like 'popular%' then '' else 'popular: ' end || t.reason
      from recsys.popular_top_up(for_user, k, shown, exclude, category, include_seen) t;
end;
$$;
