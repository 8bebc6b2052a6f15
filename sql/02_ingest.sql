-- recsys schema: events in, and the aggregates one trigger keeps exact in the
-- event's transaction; ingest_events and upsert_items, the writes the API calls.

-- ----------------------------------------------------------------- aggregates

-- interactions, item_stats, item_type_stats, rejections and item_pairs are
-- derived from events by the trigger alone; they carry no foreign keys because
-- checking 2 keys for each of millions of pair increments would triple the
-- cost of a bulk import. interactions, item_stats and item_pairs hold the
-- positive events only (recsys.event_types.kind): the preference signal.
create table recsys.interactions (
    user_id bigint not null,
    item_id bigint not null,
    -- Order of first touch within the user (1, 2, ...): defines the pair window.
    seq integer not null,
    score double precision not null default 0,
    events integer not null default 0,
    -- Events of conversion types (purchase): the item is never offered again.
    conversions integer not null default 0,
    -- The latest value of a value-using type (rating): what explicit models learn.
    last_value real,
    first_ts timestamptz not null,
    last_ts timestamptz not null,
    primary key (user_id, item_id)
);

create table recsys.item_stats (
    item_id bigint primary key,
    users integer not null default 0,
    events bigint not null default 0,
    score double precision not null default 0,
    -- ln(sum over events of weight * 2^(ts / half_life)): ranking by it ranks by
    -- time-decayed popularity at any instant, and it never overflows.
    log_popularity double precision,
    last_ts timestamptz
);

-- popular() walks this index until k items pass the filters.
create index item_stats_popularity_idx on recsys.item_stats (log_popularity desc nulls last);

-- Events per item and type, every kind: the counts analysts and GET
-- /items/{id} read (one row per type an item has received).
create table recsys.item_type_stats (
    item_id bigint not null,
    type_id smallint not null,
    events bigint not null default 0,
    value_sum double precision not null default 0,
    -- Distinct users who sent this type for this item (recsys.user_item_types):
    -- the margins of cross-occurrence's LLR.
    users integer not null default 0,
    primary key (item_id, type_id)
);

-- Which event types each user sent for each item, every kind: one row per
-- (user, item, type), so item_type_stats.users and cross_pairs count users once.
create table recsys.user_item_types (
    user_id bigint not null,
    item_id bigint not null,
    type_id smallint not null,
    primary key (user_id, item_id, type_id)
);

-- Items a user disliked or hid (negative event types): no strategy, push or
-- SQL function offers them to that user again; the latest such event counts.
create table recsys.rejections (
    user_id bigint not null,
    item_id bigint not null,
    type_id smallint not null,
    ts timestamptz not null,
    primary key (user_id, item_id)
);

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

-- Cross-occurrence (the Universal Recommender's indicators): users who sent a
-- positive non-conversion type (view, add_to_cart) for source_item and a
-- conversion type (purchase) for another item, target_item, within the pair
-- window of each other's first touch. Ordered: "viewed X" predicts "bought Y".
create table recsys.cross_pairs (
    source_item bigint not null,
    source_type smallint not null,
    target_type smallint not null,
    target_item bigint not null,
    users integer not null,
    primary key (source_item, source_type, target_type, target_item),
    check (source_item <> target_item)
);

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

-- ------------------------------------------------------------ cross-occurrence

-- Every cross_pairs count of the users `uids`, from their user_item_types rows
-- and interactions.seq as they stand: each pair of one user's positive rows, a
-- source (non-conversion type) on one item and a target (conversion type) on
-- another, within pair_window of each other's first touch. What rebuilding
-- takes back and adds again; the trigger counts only the pairs new rows make.
create function recsys.user_cross_pairs(uids bigint[], pair_window integer)
returns table (source_item bigint, source_type smallint, target_type smallint,
               target_item bigint, users bigint)
language sql stable as $$
    with mine as materialized (
        select x.user_id, x.item_id, x.type_id, t.conversion as target, i.seq
          from recsys.user_item_types x
          join recsys.event_types t on t.id = x.type_id
          join recsys.interactions i on i.user_id = x.user_id and i.item_id = x.item_id
         where x.user_id = any(uids) and t.kind = 'positive'
    )
    select s.item_id, s.type_id, g.type_id, g.item_id, count(*)
      from mine s
      join mine g
        on g.user_id = s.user_id and g.target and not s.target and g.item_id <> s.item_id
       and (pair_window = 0 or g.seq between s.seq - pair_window and s.seq + pair_window)
     group by 1, 2, 3, 4
$$;

-- -------------------------------------------------------------------- trigger

-- Keeps interactions, item_stats, item_type_stats, rejections, item_pairs,
-- user_item_types and cross_pairs exact in the same transaction as the events, for a single INSERT, a batch
-- and COPY alike (one call per statement), then wakes the listeners with one
-- small NOTIFY per user. Negative and neutral events build no interactions, so
-- they never count as co-occurrence.
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
    -- How many earlier items each new item pairs with (pair_window 0: all).
    window_rows integer;
begin
    select * into strict cfg from recsys.settings;
    window_rows := coalesce(nullif(cfg.pair_window, 0), 2147483647);

    -- "First touch" and interactions.seq must see every committed event of the
    -- user, so writers of the same user queue here. Sorted: no deadlock between batches.
    perform 1 from recsys.users
     where id in (select distinct user_id from new_events)
     order by id
       for no key update;

    with typed as materialized (
        select e.*, t.kind, t.conversion, t.uses_value,
               t.weight * case when t.uses_value then coalesce(e.value, 0) else 1 end as w
          from new_events e
          join recsys.event_types t on t.id = e.type_id
    ),
    rejected as (
        insert into recsys.rejections as r (user_id, item_id, type_id, ts)
        select distinct on (user_id, item_id) user_id, item_id, type_id, ts
          from typed
         where kind = 'negative'
         order by user_id, item_id, ts desc, id desc
            on conflict (user_id, item_id) do update set
               type_id = excluded.type_id, ts = excluded.ts
             where excluded.ts >= r.ts
    ),
    logged as (
        select t.*, recsys.log_weight(t.w, t.ts, cfg.popularity_half_life) as lw
          from typed t
         where t.kind = 'positive'
    ),
    batch as materialized (
        select user_id, item_id,
               min(id) as first_id,
               count(*) as events,
               count(*) filter (where conversion) as conversions,
               (array_agg(value order by id desc) filter (where uses_value and value is not null))[1]
                   as last_value,
               sum(w) as score,
               -- log-sum-exp with built-ins: max + ln(sum(exp(x - max)))
               max(lw_top) as lw_top,
               sum(exp(lw - lw_top)) as lw_sum,
               min(ts) as first_ts,
               max(ts) as last_ts
          from (select l.*, max(lw) over (partition by item_id) as lw_top from logged l) l
         group by user_id, item_id
    ),
    -- New items of the batch, with their first-touch order and, per row, the
    -- user's earlier new items in the batch within the pair window.
    fresh as materialized (
        select b.user_id, b.item_id,
               u.n_items + row_number() over by_user as seq,
               array_agg(b.item_id) over (
                   by_user rows between window_rows preceding and 1 preceding) as earlier
          from batch b
          join recsys.users u on u.id = b.user_id
         where not exists (select 1 from recsys.interactions i
                            where i.user_id = b.user_id and i.item_id = b.item_id)
        window by_user as (partition by b.user_id order by b.first_id)
    ),
    -- Each new item with the user's items before it, within the window: the
    -- user's older items (an index range per new item) and the batch's own.
    -- Correlated per row on purpose: no join between the batch's rows, whose
    -- sizes the planner cannot know (a transition table has no statistics),
    -- so no plan can turn quadratic in the batch.
    pairs as (
        select least(f.item_id, h.item_id) as item_a,
               greatest(f.item_id, h.item_id) as item_b,
               count(*) as users
          from fresh f
          cross join lateral (
              select i.item_id
                from recsys.interactions i
               where i.user_id = f.user_id
                 and i.seq < f.seq
                 and i.seq >= f.seq - window_rows
              union all
              select unnest(f.earlier)
          ) h
         group by 1, 2
    ),
    upsert_interactions as (
        insert into recsys.interactions as i
               (user_id, item_id, seq, score, events, conversions, last_value, first_ts, last_ts)
        select b.user_id, b.item_id, coalesce(f.seq, 0), b.score, b.events, b.conversions,
               b.last_value, b.first_ts, b.last_ts
          from batch b
          left join fresh f using (user_id, item_id)
         order by b.user_id, b.item_id
            on conflict (user_id, item_id) do update set
               score = i.score + excluded.score,
               events = i.events + excluded.events,
               conversions = i.conversions + excluded.conversions,
               last_value = coalesce(excluded.last_value, i.last_value),
               first_ts = least(i.first_ts, excluded.first_ts),
               last_ts = greatest(i.last_ts, excluded.last_ts)
    ),
    upsert_stats as (
        insert into recsys.item_stats as s
               (item_id, users, events, score, log_popularity, last_ts)
        select b.item_id, count(f.item_id), sum(b.events), sum(b.score),
               max(b.lw_top) + ln(nullif(sum(b.lw_sum), 0)), max(b.last_ts)
          from batch b
          left join fresh f using (user_id, item_id)
         group by b.item_id
         order by b.item_id
            on conflict (item_id) do update set
               users = s.users + excluded.users,
               events = s.events + excluded.events,
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

    -- A statement of its own, so after item_stats whatever order the CTEs above
    -- run in (recsys.rebuild_users locks the two in this order too), and after
    -- interactions, whose seq the cross-occurrence window reads.
    with typed_fresh as (
        -- The user locks above make "new to the user" exact, as for interactions.
        insert into recsys.user_item_types as x (user_id, item_id, type_id)
        select distinct user_id, item_id, type_id from new_events order by 1, 2, 3
            on conflict do nothing
        returning x.user_id, x.item_id, x.type_id
    ),
    type_stats as (
        insert into recsys.item_type_stats as c (item_id, type_id, events, value_sum, users)
        select e.item_id, e.type_id, e.events, e.value_sum, coalesce(f.users, 0)
          from (select item_id, type_id, count(*) as events, coalesce(sum(value), 0) as value_sum
                  from new_events group by 1, 2) e
          left join (select item_id, type_id, count(*) as users
                       from typed_fresh group by 1, 2) f using (item_id, type_id)
         order by e.item_id, e.type_id
            on conflict (item_id, type_id) do update set
               events = c.events + excluded.events,
               value_sum = c.value_sum + excluded.value_sum,
               users = c.users + excluded.users
    ),
    -- Cross-occurrence of the new (user, item, type) rows. The table's rows are
    -- the old ones: this statement's insert above is not visible to it.
    fresh as materialized (
        select f.user_id, f.item_id, f.type_id, t.conversion as target, i.seq
          from typed_fresh f
          join recsys.event_types t on t.id = f.type_id
          join recsys.interactions i on i.user_id = f.user_id and i.item_id = f.item_id
         where t.kind = 'positive'
    ),
    -- Per user: the window around the new rows, and whether a new row is a
    -- target (then old sources pair with it, else only old targets can).
    span as (
        select f.user_id, min(f.seq) as lo, max(f.seq) as hi, bool_or(f.target) as any_target
          from fresh f
         group by f.user_id
    ),
    old as materialized (
        select x.user_id, x.item_id, x.type_id, t.conversion as target, i.seq
          from span s
          join recsys.interactions i
            on i.user_id = s.user_id
           and (cfg.pair_window = 0
                or i.seq between s.lo - cfg.pair_window and s.hi + cfg.pair_window)
           -- interactions.conversions > 0: the user sent this item a target type.
           and (s.any_target or i.conversions > 0)
          join recsys.user_item_types x on x.user_id = i.user_id and x.item_id = i.item_id
          join recsys.event_types t on t.id = x.type_id
         where t.kind = 'positive'
    ),
    -- New sources with new and old targets, then old sources with new targets:
    -- every pair with a new side once, never old x old (heavy users' histories).
    crossed as (
        select s.item_id as source_item, s.type_id as source_type,
               g.type_id as target_type, g.item_id as target_item
          from fresh s
          join (select * from fresh union all select * from old) g
            on g.user_id = s.user_id and g.target and g.item_id <> s.item_id
           and (cfg.pair_window = 0
                or g.seq between s.seq - cfg.pair_window and s.seq + cfg.pair_window)
         where not s.target
        union all
        select s.item_id, s.type_id, g.type_id, g.item_id
          from fresh g
          join old s
            on s.user_id = g.user_id and not s.target and s.item_id <> g.item_id
           and (cfg.pair_window = 0
                or s.seq between g.seq - cfg.pair_window and g.seq + cfg.pair_window)
         where g.target
    )
    insert into recsys.cross_pairs as p (source_item, source_type, target_type, target_item, users)
    select source_item, source_type, target_type, target_item, count(*)
      from crossed
     group by 1, 2, 3, 4
     order by 1, 2, 3, 4
        on conflict (source_item, source_type, target_type, target_item)
        do update set users = p.users + excluded.users;

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
    event_keys text[] default null, recomm_ids uuid[] default null
)
returns table (inserted bigint, duplicates bigint)
language plpgsql as $$
declare
    window_ interval := (select attribution_window from recsys.settings);
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
    -- wait for each other in one order instead of deadlocking. A positive
    -- event without recomm_id is credited to the latest list that showed its
    -- item to the user within the attribution window (an index probe per event).
    insert into recsys.events (id, user_id, item_id, type_id, value, ts, event_key, recomm_id)
    overriding system value
    select x.id, u.id, i.id, t.id, x.v, x.ts, x.k,
           coalesce(x.r, case when t.kind = 'positive' then (
               select xp.recomm_id
                 from recsys.exposures xp
                where xp.user_external_id = x.u
                  and xp.served_at <= x.ts and xp.served_at > x.ts - window_
                  and i.id = any(xp.items)
                order by xp.served_at desc
                limit 1) end)
      from (select x.u, x.p, x.t, x.v, coalesce(x.ts, now()) as ts, x.k, x.r,
                   nextval(ids) as id
              from unnest(user_ids, product_ids, event_types, event_values, event_ts, event_keys,
                          recomm_ids)
                   with ordinality as x(u, p, t, v, ts, k, r, ord)
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
-- title, description, categories, attributes, available, available_from, expires_at.
create function recsys.upsert_items(items jsonb)
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
