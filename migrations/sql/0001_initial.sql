-- Revision 0001_initial, frozen: the sql/NN_*.sql files concatenated in name order
-- when the revisions before it were squashed (nothing had been released). Never
-- edited: a later change is a new revision with its own delta (docs/architecture.md).

-- recsys schema: the base tables every other file builds on.
--
-- The schema is split by concern into sql/NN_concern.sql, loaded in name order
-- (app.db.queries.schema()); each file needs only what earlier files create.
-- Every object lives in the schema `recsys`, so the service can share a database
-- with the application it serves. Migrations (migrations/) apply frozen deltas;
-- tests/integration/sql/test_migrations.py proves both build the same database.
-- PL/pgSQL bodies resolve names when called, SQL bodies when created: only the
-- latter, tables and types constrain the order.

-- ----------------------------------------------------------------- extensions

create extension if not exists vector;

create schema if not exists recsys;

-- --------------------------------------------------------------------- tables

-- One row of tunables, typed, so analysts can read them with psql.
create table recsys.settings (
    singleton boolean primary key default true check (singleton),
    -- A new (user, item) pair is counted with the user's previous N distinct
    -- items (by first touch); 0 means unbounded. Bounds the write cost of heavy users.
    pair_window integer not null default 200 check (pair_window >= 0),
    -- Half-life of the time-decayed popularity in item_stats.log_popularity.
    popularity_half_life interval not null default '14 days'
        check (popularity_half_life > interval '0'),
    -- Default similarity for co-occurrence: cosine, jaccard or llr.
    similarity text not null default 'cosine' check (similarity in ('cosine', 'jaccard', 'llr')),
    -- How many of the user's latest items seed behaviour-based recommendations.
    recent_items integer not null default 20 check (recent_items > 0),
    -- How many neighbours each item's refreshed list keeps (recsys.neighbor_lists).
    neighbor_list_size integer not null default 100 check (neighbor_list_size > 0)
);

insert into recsys.settings default values;

create table recsys.event_types (
    id smallint primary key,
    name text not null unique,
    -- Contribution of one event to interactions.score and item popularity.
    weight real not null,
    -- Ratings: the event's value multiplies the weight.
    uses_value boolean not null default false
);

-- Ids 1-4 are fixed: the trigger keeps a counter column for each.
insert into recsys.event_types (id, name, weight, uses_value) values
    (1, 'view', 1, false),
    (2, 'add_to_cart', 3, false),
    (3, 'purchase', 5, false),
    (4, 'rating', 1, true);

create table recsys.users (
    id bigint generated always as identity primary key,
    external_id text not null unique check (length(external_id) between 1 and 256), -- app.config.MAX_ID
    attributes jsonb not null default '{}',
    -- Distinct items touched so far: the next new item's interactions.seq.
    n_items integer not null default 0,
    created_at timestamptz not null default now()
);

create table recsys.items (
    id bigint generated always as identity primary key,
    external_id text not null unique check (length(external_id) between 1 and 256), -- app.config.MAX_ID
    title text,
    description text,
    categories text[] not null default '{}',
    attributes jsonb not null default '{}',
    available boolean not null default true,
    -- L2-normalised content embedding from the active content run (null: no
    -- text, or not embedded yet). Untyped: its length is the run's; each run
    -- builds an HNSW index on embedding::vector(n) (recsys.index_item_embeddings).
    embedding vector,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Category filters run inside the ranking query: `categories @> array[...]`.
create index items_categories_idx on recsys.items using gin (categories);

create table recsys.events (
    id bigint generated always as identity primary key,
    user_id bigint not null references recsys.users (id) on delete cascade,
    item_id bigint not null references recsys.items (id) on delete cascade,
    type_id smallint not null references recsys.event_types (id),
    value real,
    ts timestamptz not null default now(),
    -- Client-supplied idempotency key: a retried delivery is stored once.
    event_key text unique check (length(event_key) between 1 and 256) -- app.config.MAX_ID
);

-- History pages and per-user recomputation read a user's events in order.
create index events_user_idx on recsys.events (user_id, id);
-- Windowed popularity (`popular(k, since)`) and daily analytics scan by time.
create index events_ts_idx on recsys.events using brin (ts);
-- Erasure and retention recompute the stats of the items whose events they
-- delete: without it, each recompute would scan every event.
create index events_item_idx on recsys.events (item_id);

-- -------------------------------------------------------------------- helpers

-- Wider than the API's MAX_K (app/config.py): psql callers may ask for longer lists.
create function recsys.check_k(k integer)
returns void
language plpgsql immutable as $$
begin
    if k is null or k < 1 or k > 1000 then
        raise exception 'k must be between 1 and 1000, got %', k
            using errcode = 'invalid_parameter_value', column = 'k';
    end if;
end;
$$;

-- recsys schema: events in, and the aggregates one trigger keeps exact in the
-- event's transaction; ingest_events and upsert_items, the writes the API calls.

-- ----------------------------------------------------------------- aggregates

-- interactions, item_stats and item_pairs are derived from events by the
-- trigger alone; they carry no foreign keys because checking 2 keys for each of
-- millions of pair increments would triple the cost of a bulk import.
create table recsys.interactions (
    user_id bigint not null,
    item_id bigint not null,
    -- Order of first touch within the user (1, 2, ...): defines the pair window.
    seq integer not null,
    score double precision not null default 0,
    events integer not null default 0,
    views integer not null default 0,
    carts integer not null default 0,
    purchases integer not null default 0,
    ratings integer not null default 0,
    last_value real,
    first_ts timestamptz not null,
    last_ts timestamptz not null,
    primary key (user_id, item_id)
);

create table recsys.item_stats (
    item_id bigint primary key,
    users integer not null default 0,
    events bigint not null default 0,
    views bigint not null default 0,
    carts bigint not null default 0,
    purchases bigint not null default 0,
    ratings bigint not null default 0,
    rating_sum double precision not null default 0,
    score double precision not null default 0,
    -- ln(sum over events of weight * 2^(ts / half_life)): ranking by it ranks by
    -- time-decayed popularity at any instant, and it never overflows.
    log_popularity double precision,
    last_ts timestamptz
);

-- popular() walks this index until k items pass the filters.
create index item_stats_popularity_idx on recsys.item_stats (log_popularity desc nulls last);

-- Unordered pairs (item_a < item_b): users who interacted with both.
create table recsys.item_pairs (
    item_a bigint not null,
    item_b bigint not null,
    users integer not null,
    primary key (item_a, item_b),
    check (item_a < item_b)
);

-- Neighbours of X are rows with item_a = X (primary key) or item_b = X (this).
-- Not covering: an INCLUDE costs ~25% more per pair write, and writes dominate.
create index item_pairs_b_idx on recsys.item_pairs (item_b);

-- --------------------------------------------------------- decayed popularity

create function recsys.log_add_exp(a double precision, b double precision)
returns double precision
language sql immutable parallel safe
return case
    when a is null then b
    when b is null then a
    else greatest(a, b) + ln(1 + exp(-abs(a - b)))
end;

-- Log of one event's contribution to decayed popularity (null: contributes nothing).
create function recsys.log_weight(weight double precision, ts timestamptz, half_life interval)
returns double precision
language sql immutable parallel safe
return case
    when weight > 0
    then ln(weight) + ln(2) * extract(epoch from ts) / extract(epoch from half_life)
end;

-- -------------------------------------------------------------------- trigger

-- Keeps interactions, item_stats and item_pairs exact in the same transaction
-- as the events, for a single INSERT, a batch and COPY alike (one call per
-- statement), then wakes the listeners with one small NOTIFY per user.
create function recsys.on_events_inserted()
returns trigger
language plpgsql
-- A bulk batch aggregates millions of pair increments: a hash join and an
-- in-memory hash aggregate beat a merge join and 20 spilled batches (measured
-- on ml-100k: the pair step fell by a third). Small batches use little of it.
set enable_mergejoin = off
set work_mem = '128MB'
as $$
declare
    cfg recsys.settings;
begin
    select * into strict cfg from recsys.settings;

    -- "First touch" and interactions.seq must see every committed event of the
    -- user, so writers of the same user queue here. Sorted: no deadlock between batches.
    perform 1 from recsys.users
     where id in (select distinct user_id from new_events)
     order by id
       for no key update;

    with weighted as (
        select e.*, t.weight * case when t.uses_value then coalesce(e.value, 0) else 1 end as w
          from new_events e
          join recsys.event_types t on t.id = e.type_id
    ),
    logged as (
        select w.*, recsys.log_weight(w.w, w.ts, cfg.popularity_half_life) as lw
          from weighted w
    ),
    batch as materialized (
        select user_id, item_id,
               min(id) as first_id,
               count(*) as events,
               count(*) filter (where type_id = 1) as views,
               count(*) filter (where type_id = 2) as carts,
               count(*) filter (where type_id = 3) as purchases,
               count(*) filter (where type_id = 4) as ratings,
               coalesce(sum(value) filter (where type_id = 4), 0) as rating_sum,
               (array_agg(value order by id desc) filter (where value is not null))[1] as last_value,
               sum(w) as score,
               -- log-sum-exp with built-ins: max + ln(sum(exp(x - max)))
               max(lw_top) as lw_top,
               sum(exp(lw - lw_top)) as lw_sum,
               min(ts) as first_ts,
               max(ts) as last_ts
          from (select l.*, max(lw) over (partition by item_id) as lw_top from logged l) l
         group by user_id, item_id
    ),
    fresh as materialized (
        select b.user_id, b.item_id,
               u.n_items + row_number() over (partition by b.user_id order by b.first_id) as seq
          from batch b
          join recsys.users u on u.id = b.user_id
         where not exists (select 1 from recsys.interactions i
                            where i.user_id = b.user_id and i.item_id = b.item_id)
    ),
    history as (
        select i.user_id, i.item_id, i.seq
          from recsys.interactions i
          join (select user_id, min(seq) as lo from fresh group by user_id) f using (user_id)
         where cfg.pair_window = 0 or i.seq >= f.lo - cfg.pair_window
        union all
        select user_id, item_id, seq from fresh
    ),
    pairs as (
        select least(f.item_id, h.item_id) as item_a,
               greatest(f.item_id, h.item_id) as item_b,
               count(*) as users
          from fresh f
          join history h
            on h.user_id = f.user_id
           and h.seq < f.seq
           and (cfg.pair_window = 0 or h.seq >= f.seq - cfg.pair_window)
         group by 1, 2
    ),
    upsert_interactions as (
        insert into recsys.interactions as i
               (user_id, item_id, seq, score, events, views, carts, purchases, ratings,
                last_value, first_ts, last_ts)
        select b.user_id, b.item_id, coalesce(f.seq, 0), b.score, b.events, b.views, b.carts,
               b.purchases, b.ratings, b.last_value, b.first_ts, b.last_ts
          from batch b
          left join fresh f using (user_id, item_id)
         order by b.user_id, b.item_id
            on conflict (user_id, item_id) do update set
               score = i.score + excluded.score,
               events = i.events + excluded.events,
               views = i.views + excluded.views,
               carts = i.carts + excluded.carts,
               purchases = i.purchases + excluded.purchases,
               ratings = i.ratings + excluded.ratings,
               last_value = coalesce(excluded.last_value, i.last_value),
               first_ts = least(i.first_ts, excluded.first_ts),
               last_ts = greatest(i.last_ts, excluded.last_ts)
    ),
    upsert_stats as (
        insert into recsys.item_stats as s
               (item_id, users, events, views, carts, purchases, ratings, rating_sum, score,
                log_popularity, last_ts)
        select b.item_id, count(f.item_id), sum(b.events), sum(b.views), sum(b.carts),
               sum(b.purchases), sum(b.ratings), sum(b.rating_sum), sum(b.score),
               max(b.lw_top) + ln(nullif(sum(b.lw_sum), 0)), max(b.last_ts)
          from batch b
          left join fresh f using (user_id, item_id)
         group by b.item_id
         order by b.item_id
            on conflict (item_id) do update set
               users = s.users + excluded.users,
               events = s.events + excluded.events,
               views = s.views + excluded.views,
               carts = s.carts + excluded.carts,
               purchases = s.purchases + excluded.purchases,
               ratings = s.ratings + excluded.ratings,
               rating_sum = s.rating_sum + excluded.rating_sum,
               score = s.score + excluded.score,
               log_popularity = recsys.log_add_exp(s.log_popularity, excluded.log_popularity),
               last_ts = greatest(s.last_ts, excluded.last_ts)
    ),
    bump_users as (
        update recsys.users u
           set n_items = u.n_items + f.n
          from (select user_id, count(*) as n from fresh group by user_id) f
         where u.id = f.user_id
    )
    insert into recsys.item_pairs as p (item_a, item_b, users)
    select item_a, item_b, users from pairs order by item_a, item_b
        on conflict (item_a, item_b) do update set users = p.users + excluded.users;

    -- A hint, never the data: listeners re-query what they need.
    perform pg_notify('recsys_events', json_build_object(
                'type', 'event',
                'user_id', u.external_id,
                'product_id', i.external_id,
                'event_type', t.name)::text)
       from (select distinct on (user_id) user_id, item_id, type_id
               from new_events order by user_id, id desc) e
       join recsys.users u on u.id = e.user_id
       join recsys.items i on i.id = e.item_id
       join recsys.event_types t on t.id = e.type_id;

    return null;
end;
$$;

create trigger events_maintain_aggregates
after insert on recsys.events
referencing new table as new_events
for each statement execute function recsys.on_events_inserted();

-- --------------------------------------------------------------------- writes

-- Records a batch of events in one statement (one trigger call), creating
-- unknown users and items. All or nothing: a bad element rejects the batch.
create function recsys.ingest_events(
    user_ids text[], product_ids text[], event_types text[],
    event_values real[] default null, event_ts timestamptz[] default null,
    event_keys text[] default null
)
returns table (inserted bigint, duplicates bigint)
language plpgsql as $$
declare
    bad record;
    n bigint;
    wanted bigint := (select count(distinct u) from unnest(user_ids) as u);
    held bigint;
    ids regclass := pg_get_serial_sequence('recsys.events', 'id');
begin
    select x.t, x.ord - 1 as idx into bad
      from unnest(event_types) with ordinality as x(t, ord)
     where not exists (select 1 from recsys.event_types et where et.name = x.t)
     limit 1;
    if found then
        raise exception 'unknown event_type "%" at index %', bad.t, bad.idx
            using errcode = 'invalid_parameter_value', column = 'event_type', detail = bad.idx,
                  hint = 'known types are listed in recsys.event_types';
    end if;

    select x.t, x.ord - 1 as idx into bad
      from unnest(event_types, event_values) with ordinality as x(t, v, ord)
      join recsys.event_types et on et.name = x.t
     where et.uses_value and x.v is null
     limit 1;
    if found then
        raise exception 'event_type "%" needs a value (index %)', bad.t, bad.idx
            using errcode = 'invalid_parameter_value', column = 'value', detail = bad.idx;
    end if;

    -- Sorted inserts: two concurrent batches lock new keys in the same order.
    -- The users are then held with KEY SHARE, as the events' foreign key would,
    -- which writers share: an erasure (recsys.forget_user) that deleted one of
    -- them meanwhile makes the loop create it again, so the batch lands whole.
    loop
        insert into recsys.users (external_id)
        select distinct u from unnest(user_ids) as u
         where not exists (select 1 from recsys.users x where x.external_id = u)
         order by 1
            on conflict do nothing;
        select count(*) into held
          from (select 1 from recsys.users x where x.external_id = any(user_ids)
                 order by x.id for key share) l;
        exit when held >= wanted;
    end loop;
    -- Then locked as the trigger locks them (sorted, FOR NO KEY UPDATE) before
    -- any event id is drawn: a user's event ids follow the order in which their
    -- writers commit, so first touch (seq) = lowest id even under concurrency.
    perform 1 from recsys.users x where x.external_id = any(user_ids)
     order by x.id for no key update;
    insert into recsys.items (external_id)
    select distinct p from unnest(product_ids) as p
     where not exists (select 1 from recsys.items x where x.external_id = p)
     order by 1
        on conflict do nothing;

    -- Ids follow the batch's order (first touch and history read them), but the
    -- rows enter the event_key index sorted by key: batches sharing keys then
    -- wait for each other in one order instead of deadlocking.
    insert into recsys.events (id, user_id, item_id, type_id, value, ts, event_key)
    overriding system value
    select x.id, u.id, i.id, t.id, x.v, coalesce(x.ts, now()), x.k
      from (select x.*, nextval(ids) as id
              from unnest(user_ids, product_ids, event_types, event_values, event_ts, event_keys)
                   with ordinality as x(u, p, t, v, ts, k, ord)
             order by x.ord) x
      join recsys.users u on u.external_id = x.u
      join recsys.items i on i.external_id = x.p
      join recsys.event_types t on t.name = x.t
     order by x.k, x.id
        on conflict (event_key) do nothing;
    get diagnostics n = row_count;

    return query select n, cardinality(user_ids) - n;
end;
$$;

-- Creates or replaces items from a JSON array of objects with product_id,
-- title, description, categories, attributes, available.
create function recsys.upsert_items(items jsonb)
returns table (product_id text, created boolean)
language sql as $$
    insert into recsys.items as i
           (external_id, title, description, categories, attributes, available)
    select x.product_id, x.title, x.description,
           coalesce(x.categories, '{}'), coalesce(x.attributes, '{}'), coalesce(x.available, true)
      from jsonb_to_recordset(items) as x(product_id text, title text, description text,
                                          categories text[], attributes jsonb, available boolean)
     order by x.product_id
        on conflict (external_id) do update set
           title = excluded.title,
           description = excluded.description,
           categories = excluded.categories,
           attributes = excluded.attributes,
           available = excluded.available,
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

-- recsys schema: popularity, and the popular top-up every strategy falls back
-- to when its own candidates run short.

-- Most popular items by time-decayed weighted events (or, with `since`, by
-- weighted events in that window); items without events fill the tail.
create function recsys.popular(
    k integer default 10, since interval default null, category text default null,
    exclude text[] default '{}', for_user text default null, include_seen boolean default false
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
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
           and i.available
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
           and not exists (select 1 from recsys.interactions x
                            where x.user_id = uid and x.item_id = i.id
                              and (not include_seen or x.purchases > 0))
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
         where i.available
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
           and not exists (select 1 from recsys.interactions x
                            where x.user_id = uid and x.item_id = i.id
                              and (not include_seen or x.purchases > 0))
         order by w.score desc, i.id
         limit k;
    end if;
    get diagnostics n = row_count;
    if n < k then
        return query
        select i.external_id, 0::double precision, 'new in the catalogue'
          from recsys.items i
         where i.available
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
           and not exists (select 1 from recsys.interactions x
                            where x.user_id = uid and x.item_id = i.id
                              and (not include_seen or x.purchases > 0))
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
-- the source item. Tops up with popular items when history runs short.
-- Sources with a refreshed list (recsys.neighbor_lists) contribute its entries;
-- the others are scored live from item_pairs.
create function recsys.behavior_based(
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
         where i.available
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
     where i.available
       and (category is null or i.categories @> array[category])
       and not (i.external_id = any(exclude || shown))
     order by sim desc, i.id
     limit k;
end;
$$;

-- recsys schema: trained models as tables (`recsys train`), the collaborative
-- strategy and predicted ratings.

-- One row per training run (`recsys train`). A run's tables are written while it
-- is 'training', then it becomes 'ready' and active in one transaction, so
-- readers see the old model or the new one, never half of one. Earlier runs
-- stay for rollback (`recsys models activate RUN`).
create table recsys.model_runs (
    id bigint generated always as identity primary key,
    -- svd, svdpp (explicit ratings); ease, item_knn (implicit events); tfidf,
    -- semantic (content embeddings); adaptive (hybrid blend weights).
    kind text not null,
    role text not null check (role in ('explicit', 'implicit', 'content', 'hybrid')),
    params jsonb not null default '{}',
    -- Validation figures (rmse, mae, ndcg_at_10, ...); recsys.collaborative puts
    -- the role with the higher ndcg_at_10 first.
    metrics jsonb not null default '{}',
    -- Training data: users, items, rows; explicit runs add global_mean, rating_min, rating_max.
    data jsonb not null default '{}',
    status text not null default 'training' check (status in ('training', 'ready', 'failed')),
    active boolean not null default false,
    error text,
    started_at timestamptz not null default now(),
    trained_at timestamptz,
    duration_s double precision,
    check (not active or status = 'ready')
);

-- At most one active run per role: what every reader of a model joins on.
create unique index model_runs_active_idx on recsys.model_runs (role) where active;

-- Matrix factorisation: rating = global_mean + user.bias + item.bias + user.factors . item.factors.
-- The foreign key to users makes erasing a user erase the factors learned from them.
create table recsys.user_factors (
    run_id bigint not null references recsys.model_runs (id) on delete cascade,
    user_id bigint not null references recsys.users (id) on delete cascade,
    bias real not null,
    factors vector not null,
    primary key (run_id, user_id)
);

-- Each run also gets a partial HNSW index on (factors || bias) for inner-product
-- top-N, created by training (its dimension is the run's): item_factors_hnsw_<run>.
create table recsys.item_factors (
    run_id bigint not null references recsys.model_runs (id) on delete cascade,
    item_id bigint not null,
    bias real not null,
    factors vector not null,
    primary key (run_id, item_id)
);

-- Item-to-item weights of an implicit model: score(user, neighbor) sums
-- weight(user, item) * score over the user's live interactions.
-- The primary key serves the per-source-item probes of recsys.collaborative.
create table recsys.item_neighbors (
    run_id bigint not null references recsys.model_runs (id) on delete cascade,
    item_id bigint not null,
    neighbor_id bigint not null,
    score real not null,
    primary key (run_id, item_id, neighbor_id)
);

create function recsys.active_run(for_role text)
returns recsys.model_runs
language sql stable
return (select r from recsys.model_runs r where r.role = for_role and r.active);

-- The predicted rating of the active explicit model, clipped to the rating
-- scale; an unknown user or item falls back to the baselines, and says so.
create function recsys.predict(for_user text, product text)
returns table (rating double precision, reason text, run_id bigint, fallback boolean)
language plpgsql stable as $$
declare
    run recsys.model_runs := recsys.active_run('explicit');
    u recsys.user_factors;
    i recsys.item_factors;
    raw double precision;
begin
    if run.id is null then
        raise exception 'no explicit model is active'
            using errcode = 'object_not_in_prerequisite_state', column = 'model',
                  hint = 'train one with `recsys train --model svd`';
    end if;
    select f.* into u from recsys.user_factors f join recsys.users x on x.id = f.user_id
     where f.run_id = run.id and x.external_id = for_user;
    select f.* into i from recsys.item_factors f join recsys.items x on x.id = f.item_id
     where f.run_id = run.id and x.external_id = product;
    raw := (run.data ->> 'global_mean')::double precision + coalesce(u.bias, 0)
           + coalesce(i.bias, 0) + coalesce(inner_product(u.factors, i.factors), 0);
    rating := greatest((run.data ->> 'rating_min')::double precision,
                       least((run.data ->> 'rating_max')::double precision, raw));
    run_id := run.id;
    fallback := u.run_id is null or i.run_id is null;
    reason := case
        when not fallback then run.kind || ' model'
        when u.run_id is null and i.run_id is null then 'global mean (unknown user and item)'
        when u.run_id is null then 'baseline: item mean (unknown user)'
        else 'baseline: user mean (unknown item)'
    end;
    return next;
end;
$$;

-- The implicit model's top k for a user: the run's item neighbours summed over
-- the user's live interactions (events after training included). Without
-- reasons: the adaptive blend names the source of its k winners only.
create function recsys.neighbor_candidates(
    uid bigint, run recsys.model_runs, k integer, exclude text[], category text,
    include_seen boolean
)
returns table (item_id bigint, product_id text, score double precision)
language sql stable as $$
    with history as materialized (
        select x.item_id,
               case when run.params ->> 'weighting' = 'binary' then 1
                    else ln(1 + greatest(x.score, 0)) end as w
          from recsys.interactions x
         where x.user_id = uid
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
           and i.available
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
           and not exists (select 1 from recsys.interactions x
                            where x.user_id = uid and x.item_id = i.id
                              and (not include_seen or x.purchases > 0))
         order by sc.score desc, i.id
         limit k
    ),
    every as (
        select i.id, i.external_id, sc.score
          from scored sc
          join recsys.items i on i.id = sc.neighbor_id
         where true
           and i.available
           and (category is null or i.categories @> array[category])
           and not (i.external_id = any(exclude))
           and not exists (select 1 from recsys.interactions x
                            where x.user_id = uid and x.item_id = i.id
                              and (not include_seen or x.purchases > 0))
         order by sc.score desc, i.id
         limit k
    )
    select * from capped where (select count(*) from capped) >= k
    union all
    select * from every where (select count(*) from capped) < k;
$$;

-- recsys.neighbor_candidates with reasons: each of the k winners names the item
-- of the user's history that contributed most (a probe per winner, not an
-- ordered aggregate per candidate: 40 -> 24 ms at p50 on ml-100k).
create function recsys.neighbor_scores(
    uid bigint, run recsys.model_runs, k integer, exclude text[], category text,
    include_seen boolean
)
returns table (product_id text, score double precision, reason text)
language sql stable as $$
    select c.product_id, c.score,
           'liked by people who liked ' || coalesce(src.title, src.external_id)
      from recsys.neighbor_candidates(uid, run, k, exclude, category, include_seen) c
     cross join lateral (
           select x.item_id
             from recsys.interactions x
             join recsys.item_neighbors n
               on n.run_id = run.id and n.item_id = x.item_id and n.neighbor_id = c.item_id
            where x.user_id = uid
            order by case when run.params ->> 'weighting' = 'binary' then 1
                          else ln(1 + greatest(x.score, 0)) end * n.score desc,
                     x.item_id
            limit 1) s
      join recsys.items src on src.id = s.item_id
     order by c.score desc, c.item_id;
$$;

-- Matrix-factorisation top-N: the user's factors against the run's HNSW index
-- on (item factors || item bias) with [user factors, 1], so the inner product
-- is item bias + dot product. Dynamic SQL: the index is partial (run_id = N)
-- and typed vector(dims), and only literals let the planner match it.
-- relaxed_order lets the filtered scan continue past ef_search candidates.
create function recsys.factor_scores(
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
                   and i.available
                   and ($2::text is null or i.categories @> array[$2::text])
                   and not (i.external_id = any($3))
                   and not exists (select 1 from recsys.interactions x
                                    where x.user_id = $4 and x.item_id = i.id
                                      and (not $5 or x.purchases > 0))
                 order by (f.factors || array[f.bias]::vector)::vector(%2$s) <#> $1::vector(%2$s)
                 limit $6) c
         order by c.score desc, c.id
    $q$, run.id, dims, run.kind)
    using user_vector, category, exclude, uid, include_seen, k;
end;
$$;

-- Collaborative filtering from the trained models: the implicit run's item
-- neighbours applied to the user's live history, then the explicit run's
-- factors (first, when they ranked better on validation), then popular items,
-- so the list is k long while the catalogue allows.
create function recsys.collaborative(
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

-- Builds the run's HNSW index (inner product on item factors || bias) before the
-- run is activated; partial, so each run's index holds only its own items.
create function recsys.index_item_factors(run bigint)
returns void
language plpgsql as $$
declare
    dims integer := (select vector_dims(f.factors) + 1 from recsys.item_factors f
                      where f.run_id = run limit 1);
begin
    if dims is null then
        return;
    end if;
    execute format(
        'create index %I on recsys.item_factors using hnsw'
        ' (((factors || array[bias]::vector)::vector(%s)) vector_ip_ops) where run_id = %s',
        'item_factors_hnsw_' || run, dims, run);
end;
$$;

-- Makes a ready run the active one of its role, in the caller's transaction.
create function recsys.activate_run(run bigint)
returns recsys.model_runs
language plpgsql as $$
declare
    target recsys.model_runs := (select r from recsys.model_runs r where r.id = run for update);
begin
    if target.id is null then
        raise exception 'unknown model run %', run
            using errcode = 'no_data_found', column = 'run';
    elsif target.status <> 'ready' then
        raise exception 'model run % is %, not ready', run, target.status
            using errcode = 'object_not_in_prerequisite_state', column = 'run';
    end if;
    -- Two statements: the one-active-per-role index is checked row by row.
    update recsys.model_runs set active = false where role = target.role and active and id <> run;
    update recsys.model_runs set active = true where id = run returning * into target;
    return target;
end;
$$;

-- Deletes all but the newest `keep` inactive runs of a role (their rows
-- cascade; their HNSW indexes are dropped). Returns the deleted ids.
create function recsys.prune_runs(for_role text, keep integer)
returns setof bigint
language plpgsql as $$
declare
    old bigint;
begin
    for old in
        select r.id from recsys.model_runs r
         where r.role = for_role and not r.active and r.status <> 'training'
         order by r.id desc
        offset keep
    loop
        execute format('drop index if exists recsys.%I', 'item_factors_hnsw_' || old);
        delete from recsys.model_runs where id = old;
        return next old;
    end loop;
end;
$$;

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
                   and i.available
                   and ($2::text is null or i.categories @> array[$2::text])
                   and ($3::jsonb is null or i.attributes @> $3::jsonb)
                   and not (i.external_id = any($4))
                   and not exists (select 1 from recsys.interactions x
                                    where x.user_id = $5 and x.item_id = i.id
                                      and (not $6 or x.purchases > 0))
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
     order by x.last_ts desc, x.seq desc
     limit recent;
$$;

-- The weighted centroid of the user's recent embedded items (null: none).
create function recsys.user_centroid(uid bigint, recent integer)
returns vector
language sql stable
return (select sum(r.embedding * array_fill(r.w, array[vector_dims(r.embedding)])::vector)
          from recsys.recent_embedded(uid, recent) r
         where r.w > 0);

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

-- recsys schema: erasure of a user and retention of events, after which every
-- aggregate (02, 04) and the users' factors (05) describe what remains.

-- Makes interactions, item_pairs, users.n_items and item_stats describe the
-- current events again after events of `uids` were deleted; `items` are the
-- items of the deleted events. The caller holds the users' row locks (as the
-- trigger does), so no writer of theirs runs meanwhile. A user's interactions
-- are recomputed from their remaining events (seq renumbered by first touch),
-- their pairs change by (new pairs - old pairs), and the items' stats are
-- recomputed from their remaining events (exact, log_popularity included).
-- Returns the number of item_pairs rows changed.
create function recsys.rebuild_users(uids bigint[], items bigint[])
returns bigint
language plpgsql
set enable_mergejoin = off
set work_mem = '128MB'
as $$
declare
    cfg recsys.settings;
    old_users bigint[];
    old_items bigint[];
    old_seqs integer[];
    zero_a bigint[];
    zero_b bigint[];
    touched bigint[];
    changed bigint;
begin
    select * into strict cfg from recsys.settings;
    select coalesce(array_agg(user_id), '{}'), coalesce(array_agg(item_id), '{}'),
           coalesce(array_agg(seq), '{}')
      into old_users, old_items, old_seqs
      from recsys.interactions
     where user_id = any(uids);

    delete from recsys.interactions where user_id = any(uids);
    insert into recsys.interactions
           (user_id, item_id, seq, score, events, views, carts, purchases, ratings,
            last_value, first_ts, last_ts)
    select w.user_id, w.item_id,
           row_number() over (partition by w.user_id order by min(w.id)),
           sum(w.w), count(*),
           count(*) filter (where w.type_id = 1), count(*) filter (where w.type_id = 2),
           count(*) filter (where w.type_id = 3), count(*) filter (where w.type_id = 4),
           (array_agg(w.value order by w.id desc) filter (where w.value is not null))[1],
           min(w.ts), max(w.ts)
      from (select e.*, t.weight * case when t.uses_value then coalesce(e.value, 0) else 1 end as w
              from recsys.events e
              join recsys.event_types t on t.id = e.type_id
             where e.user_id = any(uids)) w
     group by w.user_id, w.item_id
     order by w.user_id, w.item_id;
    update recsys.users u
       set n_items = (select count(*) from recsys.interactions x where x.user_id = u.id)
     where u.id = any(uids);

    with old as (
        select * from unnest(old_users, old_items, old_seqs) as o(user_id, item_id, seq)
    ),
    new as (
        select x.user_id, x.item_id, x.seq from recsys.interactions x where x.user_id = any(uids)
    ),
    -- A user whose items kept their first-touch order keeps exactly their pairs.
    moved as (
        select user_id
          from (select user_id, array_agg(item_id order by seq) as seen from old group by 1) o
          full join (select user_id, array_agg(item_id order by seq) as seen from new group by 1) n
         using (user_id)
         where o.seen is distinct from n.seen
    ),
    sides as (
        select o.*, -1 as sign from old o where o.user_id in (select user_id from moved)
        union all
        select n.*, 1 from new n where n.user_id in (select user_id from moved)
    ),
    delta as (
        select least(x.item_id, y.item_id) as item_a, greatest(x.item_id, y.item_id) as item_b,
               sum(x.sign)::integer as users
          from sides x
          join sides y
            on y.user_id = x.user_id and y.sign = x.sign and x.seq < y.seq
           and (cfg.pair_window = 0 or y.seq - x.seq <= cfg.pair_window)
         group by 1, 2
        having sum(x.sign) <> 0
    ),
    applied as (
        -- Sorted, like the trigger's upsert: concurrent writers lock pairs in one order.
        insert into recsys.item_pairs as p (item_a, item_b, users)
        select item_a, item_b, users from delta order by item_a, item_b
            on conflict (item_a, item_b) do update set users = p.users + excluded.users
        returning p.item_a, p.item_b, p.users
    )
    select count(*), array_agg(item_a) filter (where users <= 0),
           array_agg(item_b) filter (where users <= 0),
           array(select distinct i from applied, unnest(array[item_a, item_b]) as i)
      into changed, zero_a, zero_b, touched
      from applied;
    delete from recsys.item_pairs p
     using unnest(zero_a, zero_b) as z(item_a, item_b)
     where p.item_a = z.item_a and p.item_b = z.item_b;
    -- Their neighbour lists are stale: dropped, they are scored live until the
    -- next refresh rebuilds them (recsys.refresh_neighbor_lists_since). The
    -- refresher's lock first: both rewrite list rows, in no common order.
    perform pg_advisory_xact_lock(7303475812);
    delete from recsys.neighbor_lists l where l.item_id = any(touched);

    items := array(select distinct i from unnest(items) as i order by 1);
    perform 1 from recsys.item_stats s where s.item_id = any(items) order by s.item_id for update;
    delete from recsys.item_stats s
     where s.item_id = any(items)
       and not exists (select 1 from recsys.events e where e.item_id = s.item_id);
    with weighted as (
        select e.*, t.weight * case when t.uses_value then coalesce(e.value, 0) else 1 end as w
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id
         where e.item_id = any(items)
    ),
    logged as (
        select w.*, recsys.log_weight(w.w, w.ts, cfg.popularity_half_life) as lw from weighted w
    )
    insert into recsys.item_stats as s
           (item_id, users, events, views, carts, purchases, ratings, rating_sum, score,
            log_popularity, last_ts)
    select l.item_id, count(distinct l.user_id), count(*),
           count(*) filter (where l.type_id = 1), count(*) filter (where l.type_id = 2),
           count(*) filter (where l.type_id = 3), count(*) filter (where l.type_id = 4),
           coalesce(sum(l.value) filter (where l.type_id = 4), 0), sum(l.w),
           max(l.lw_top) + ln(nullif(sum(exp(l.lw - l.lw_top)), 0)), max(l.ts)
      from (select l.*, max(l.lw) over (partition by l.item_id) as lw_top from logged l) l
     group by l.item_id
     order by l.item_id
        on conflict (item_id) do update set
           users = excluded.users, events = excluded.events, views = excluded.views,
           carts = excluded.carts, purchases = excluded.purchases, ratings = excluded.ratings,
           rating_sum = excluded.rating_sum, score = excluded.score,
           log_popularity = excluded.log_popularity, last_ts = excluded.last_ts;
    return changed;
end;
$$;

-- Erasure: deletes the user's events, interactions, model factors (cascade)
-- and row, and takes back what they contributed to item_stats and item_pairs,
-- in the caller's transaction. No row: the user is unknown. A later event for
-- the same id creates a new user. Sockets watching the user are told (NOTIFY),
-- so they receive the recommendations of a user without history.
create function recsys.forget_user(for_user text)
returns table (events bigint, interactions bigint, pairs bigint)
language plpgsql as $$
declare
    uid bigint;
    items bigint[];
begin
    -- FOR UPDATE, not the trigger's NO KEY UPDATE: writers of this user wait
    -- before their events reference the row, then recreate the user.
    select u.id into uid from recsys.users u where u.external_id = for_user for update;
    if not found then
        return;
    end if;
    select count(*) into interactions from recsys.interactions x where x.user_id = uid;
    with gone as (
        delete from recsys.events e where e.user_id = uid returning e.item_id
    )
    select count(*), coalesce(array_agg(distinct gone.item_id), '{}') into events, items from gone;
    pairs := recsys.rebuild_users(array[uid], items);
    delete from recsys.users u where u.id = uid;
    perform pg_notify('recsys_events', json_build_object(
                'type', 'erased', 'user_id', for_user)::text);
    return next;
end;
$$;

-- Retention: deletes the events older than `cutoff` of at most `max_users`
-- users and rebuilds what those users contributed (recsys.rebuild_users), so
-- every aggregate describes the retained events exactly. Users stay, with
-- n_items 0 if nothing of theirs is retained. Call until it returns users = 0;
-- each call is one short transaction.
create function recsys.prune_events(cutoff timestamptz, max_users integer default 500)
returns table (users bigint, events bigint)
language plpgsql as $$
declare
    uids bigint[];
    items bigint[];
begin
    -- Locked sorted, as the trigger locks them: writers of these users wait.
    select coalesce(array_agg(l.id), '{}') into uids
      from (select u.id from recsys.users u
             where u.id in (select distinct e.user_id from recsys.events e
                             where e.ts < cutoff order by 1 limit max_users)
             order by u.id
               for no key update of u) l;
    with gone as (
        delete from recsys.events e
         where e.user_id = any(uids) and e.ts < cutoff
        returning e.item_id
    )
    select count(*), coalesce(array_agg(distinct gone.item_id), '{}') into events, items from gone;
    if events > 0 then
        perform recsys.rebuild_users(uids, items);
    end if;
    users := cardinality(uids);
    return next;
end;
$$;

-- recsys schema: the entry points analysts call from psql: one dispatch for
-- every strategy, and the analytics views.

-- ------------------------------------------------------------ recommendations

-- One entry point for every strategy: `select * from recsys.recommend('u42', 10)`,
-- and the one the service calls (queries.sql: recommend). hybrid (the default)
-- blends or switches (`method`); content_based takes an optional `product`
-- (nearest items to it) instead of the user's recent items, and `attributes`
-- (only items whose attributes contain them). The strategies named here are
-- app.recommenders.STRATEGIES; tests/integration/sql/test_sql_recommenders.py checks.
create function recsys.recommend(
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
                      hint = 'strategies: popular, behavior_based, collaborative, content_based, hybrid';
    end case;
end;
$$;

-- ---------------------------------------------------------------------- views

-- Conversion per item: views -> carts -> purchases.
create view recsys.item_funnel as
select i.external_id as product_id,
       i.title,
       coalesce(s.users, 0) as users,
       coalesce(s.views, 0) as views,
       coalesce(s.carts, 0) as add_to_carts,
       coalesce(s.purchases, 0) as purchases,
       round(s.carts::numeric / nullif(s.views, 0), 4) as view_to_cart,
       round(s.purchases::numeric / nullif(s.carts, 0), 4) as cart_to_purchase
  from recsys.items i
  left join recsys.item_stats s on s.item_id = i.id;

-- Events, active users and items per day (in the session's time zone).
create view recsys.daily_activity as
select e.ts::date as day,
       count(*) as events,
       count(distinct e.user_id) as users,
       count(distinct e.item_id) as items,
       count(*) filter (where e.type_id = 1) as views,
       count(*) filter (where e.type_id = 2) as add_to_carts,
       count(*) filter (where e.type_id = 3) as purchases,
       count(*) filter (where e.type_id = 4) as ratings
  from recsys.events e
 group by 1;
