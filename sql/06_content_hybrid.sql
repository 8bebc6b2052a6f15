-- recsys schema: content embeddings (content_based) and the hybrids (adaptive,
-- switching). switching asks recsys.recommend (08) for each strategy it tries:
-- PL/pgSQL, so the name resolves when called.

-- The fitted text encoder of a content run, so the service embeds a new or
-- changed item at once without retraining, and anyone can read it with psql.
-- tfidf runs: feature i is terms[i] ("<block>:<term>", block w = words,
-- c = character n-grams, t = categories and attributes) with weight idf[i];
-- components (dims x features) is TruncatedSVD's projection. semantic runs keep
-- only config (the sentence-transformers model's name).
create table recsys.content_encoders (
    run_id bigint primary key references recsys.model_runs (id) on delete cascade,
    config jsonb not null,
    terms text[] not null default '{}',
    idf real[] not null default '{}',
    components real[] not null default '{}'
);

-- Drops the embedding HNSW indexes of other lengths and builds the one for
-- `dims` (null: drop them all, before embeddings of a new length are written).
create function recsys.index_item_embeddings(dims integer)
returns void
language plpgsql as $$
declare
    old text;
begin
    for old in
        select c.relname from pg_class c
         where c.relnamespace = 'recsys'::regnamespace and c.relkind = 'i'
           and c.relname like 'items\_embedding\_hnsw\_%'
           and c.relname is distinct from 'items_embedding_hnsw_' || dims
    loop
        execute format('drop index recsys.%I', old);
    end loop;
    if dims is not null then
        execute format(
            'create index if not exists %I on recsys.items using hnsw'
            ' ((embedding::vector(%s)) vector_cosine_ops)',
            'items_embedding_hnsw_' || dims, dims);
    end if;
end;
$$;

-- Items nearest to `target` by cosine through the HNSW index, with every filter
-- in the same query: relaxed_order iterative scans keep reading the index until
-- k rows pass (no post-filtering, no short lists). Dynamic SQL: the index is on
-- embedding::vector(n), and only a literal n lets the planner match it.
create function recsys.nearest_items(
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

-- The user's recent embedded items, weighted like behavior_based's sources:
-- ln(1 + interaction score), decayed 0.9 per step back in time.
create function recsys.recent_embedded(uid bigint, recent integer)
returns table (item_id bigint, w double precision, embedding vector)
language sql stable as $$
    select x.item_id,
           ln(1 + greatest(x.score, 0))
           * power(0.9, row_number() over (order by x.last_ts desc, x.seq desc) - 1),
           i.embedding
      from recsys.interactions x
      join recsys.items i on i.id = x.item_id
     where x.user_id = uid and i.embedding is not null
       and not exists (select 1 from recsys.rejections r
                        where r.user_id = uid and r.item_id = x.item_id)
     order by x.last_ts desc, x.seq desc
     limit recent;
$$;

-- The user's recent embedded rejected items (dislike, hide), weighted by the
-- type's weight, decayed like recent_embedded.
create function recsys.rejected_embedded(uid bigint, recent integer)
returns table (item_id bigint, w double precision, embedding vector)
language sql stable as $$
    select r.item_id, t.weight * power(0.9, row_number() over (order by r.ts desc, r.item_id) - 1),
           i.embedding
      from recsys.rejections r
      join recsys.event_types t on t.id = r.type_id
      join recsys.items i on i.id = r.item_id
     where r.user_id = uid and i.embedding is not null and t.weight > 0
     order by r.ts desc, r.item_id
     limit recent;
$$;

-- The weighted centroid of the user's recent embedded items, moved away from
-- the items they rejected (Rocchio: minus half their weighted sum); null: no
-- positive history.
create function recsys.user_centroid(uid bigint, recent integer)
returns vector
language sql stable
return (select case when bool_or(r.w > 0)
                    then sum(r.embedding * array_fill(r.w, array[vector_dims(r.embedding)])::vector)
               end
          from (select p.embedding, p.w from recsys.recent_embedded(uid, recent) p where p.w > 0
                union all
                select n.embedding, -0.5 * n.w from recsys.rejected_embedded(uid, recent) n) r);

-- The user's recent item most similar in content to `item`: names the reason.
create function recsys.content_source(uid bigint, recent integer, item bigint)
returns text
language sql stable
return (select coalesce(s.title, s.external_id)
          from recsys.recent_embedded(uid, recent) r
          join recsys.items s on s.id = r.item_id
         order by r.embedding <=> (select i.embedding from recsys.items i where i.id = item),
                  r.item_id
         limit 1);

-- Nearest items to a product (`product`), or to the weighted centroid of the
-- user's recent embedded items; the reason names the product, or the recent
-- item closest to each result. Popular items fill the rest, and say why: an
-- item without text has no embedding, and a user without embedded history
-- has no centroid. An unknown product with no user is an error (404 over HTTP).
create function recsys.content_based(
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

-- The user's item contributing most to `item`'s neighbour score: names the reason.
create function recsys.neighbor_source(uid bigint, run recsys.model_runs, item bigint)
returns text
language sql stable
return (select coalesce(src.title, src.external_id)
          from recsys.interactions x
          join recsys.item_neighbors n
            on n.run_id = run.id and n.item_id = x.item_id and n.neighbor_id = item
          join recsys.items src on src.id = x.item_id
         where x.user_id = uid
         order by case when run.params ->> 'weighting' = 'binary' then 1
                       else ln(1 + greatest(x.score, 0)) end * n.score desc, x.item_id
         limit 1);

-- History-length buckets of the adaptive blend: 0, 1-4, 5-19, 20+ interactions.
create function recsys.history_bucket(n bigint)
returns text
language sql immutable parallel safe
return case when n <= 0 then '0' when n < 5 then '1-4' when n < 20 then '5-19' else '20+' end;

-- Blend weights per bucket until `recsys train --model hybrid` fits them on a
-- validation split (docs/content_hybrid.md): the longer the history, the more
-- the trained model is trusted over popularity.
create function recsys.default_hybrid_weights()
returns jsonb
language sql immutable parallel safe
return '{
    "0": {"collaborative": 0, "behavior_based": 0, "content_based": 0, "popular": 1},
    "1-4": {"collaborative": 0.3, "behavior_based": 0.3, "content_based": 0.2, "popular": 0.2},
    "5-19": {"collaborative": 0.5, "behavior_based": 0.2, "content_based": 0.1, "popular": 0.2},
    "20+": {"collaborative": 0.7, "behavior_based": 0.1, "content_based": 0.1, "popular": 0.1}
}'::jsonb;

-- The weights the adaptive blend uses for a user with n interactions: the
-- active hybrid run's fitted ones, else the defaults.
create function recsys.hybrid_weights(n bigint)
returns jsonb
language sql stable
return coalesce(
    (select r.params -> 'weights' -> recsys.history_bucket(n)
       from recsys.model_runs r where r.role = 'hybrid' and r.active),
    recsys.default_hybrid_weights() -> recsys.history_bucket(n));

-- Adaptive hybrid: each strategy's candidates (its own rows, not its popular
-- top-up), scores divided by the list's best, blended with the weights of the
-- user's history bucket. The reason is that of the largest contribution.
create function recsys.adaptive(
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
create function recsys.switching(
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

-- case=hybrid: method adaptive (the default) or switching.
create function recsys.hybrid(
    for_user text, k integer default 10, exclude text[] default '{}',
    category text default null, include_seen boolean default false,
    method text default 'adaptive'
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
begin
    case coalesce(method, 'adaptive')
        when 'adaptive' then
            return query select * from recsys.adaptive(for_user, k, exclude, category, include_seen);
        when 'switching' then
            return query select * from recsys.switching(for_user, k, exclude, category, include_seen);
        else
            raise exception 'unknown hybrid method "%"', method
                using errcode = 'invalid_parameter_value', column = 'method',
                      hint = 'methods: adaptive, switching';
    end case;
end;
$$;
