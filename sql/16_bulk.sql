-- recsys schema: bulk import into a shop without events. The events go in
-- with the trigger (02) switched off, then every aggregate it maintains is
-- built set-based in one pass from recsys.events, their indexes after.

-- Records a batch of events as recsys.ingest_events does (same arguments,
-- checks, errors, attribution and event_key idempotency) and returns whether
-- the bulk path took it. The bulk path runs when recsys.events is empty (so
-- are the aggregates): the events are inserted without the trigger, then
-- interactions (seq by first event id), item_stats, item_type_stats,
-- user_item_types, rejections, item_pairs (pair_window by first touch),
-- cross_pairs and users.n_items are computed from them as
-- tests/support/recompute.py defines them, the secondary indexes and foreign
-- keys of events and the primary keys and indexes of the aggregates dropped
-- before and created after. One NOTIFY per user, as the trigger sends. Otherwise (events stored,
-- or the role may not lock or alter the tables) it is recsys.ingest_events: the
-- trigger, which merges exactly into what is there.
--
-- Locks, held until the caller commits: recsys.events, interactions,
-- item_stats, item_type_stats, user_item_types, rejections, item_pairs and
-- cross_pairs ACCESS EXCLUSIVE, and users, items and event_types too (dropping
-- the events' foreign keys locks the tables they reference): every writer and
-- every reader of them waits. A writer that got in first is waited for, and
-- then its events make the shop non-empty: the trigger path. Writers that come
-- after wait, then the trigger merges their events into the counts built here.
-- A live service imports with recsys.ingest_events (`--path trigger`) instead.
create function recsys.bulk_ingest_events(
    user_ids text[], product_ids text[], event_types text[],
    event_values real[] default null, event_ts timestamptz[] default null,
    event_keys text[] default null, recomm_ids uuid[] default null
)
returns table (inserted bigint, duplicates bigint, bulk boolean)
language plpgsql
-- The pair count is one hash join and one hash aggregate of every pair
-- increment, as the trigger's is (02), but once. 32MB: on the shared 2-core
-- machine the aggregate spilled in partitions that fit in cache beat one
-- 256MB table in memory (ml-100k pair step, alternating runs, 40 s vs 47-73 s
-- at load 6-8) and the merge join with 4MB (42-55 s).
set enable_mergejoin = off
set work_mem = '32MB'
-- The keys and indexes built after the rows sort in memory.
set maintenance_work_mem = '256MB'
as $$
declare
    cfg recsys.settings;
    drops text[];
    creates text[];
    statement text;
    n bigint;
    d bigint;
    bulk_ boolean;
begin
    if exists (select 1 from recsys.events) then
        return query select i.inserted, i.duplicates, false
                       from recsys.ingest_events(user_ids, product_ids, event_types, event_values,
                                                 event_ts, event_keys, recomm_ids) i;
        return;
    end if;
    begin
        -- Waits for the writers and readers already in; then every other one waits.
        lock table recsys.events, recsys.interactions, recsys.item_stats,
                   recsys.item_type_stats, recsys.user_item_types, recsys.rejections,
                   recsys.item_pairs, recsys.cross_pairs
            in access exclusive mode;
        lock table recsys.event_types in share mode;
        -- For this transaction only: a rollback switches it back on.
        alter table recsys.events disable trigger events_maintain_aggregates;
        bulk_ := true;
    exception when insufficient_privilege then
        -- Not the owner of the tables: no lock kept, the trigger path.
        bulk_ := false;
    end;
    -- Re-checked under the locks: a writer that committed meanwhile, or
    -- aggregates without events (never, unless written by hand), mean merging.
    if not bulk_ or exists (select 1 from recsys.events)
       or exists (select 1 from recsys.interactions) or exists (select 1 from recsys.item_stats)
       or exists (select 1 from recsys.item_type_stats)
       or exists (select 1 from recsys.user_item_types)
       or exists (select 1 from recsys.rejections) or exists (select 1 from recsys.item_pairs)
       or exists (select 1 from recsys.cross_pairs) then
        if bulk_ then
            alter table recsys.events enable trigger events_maintain_aggregates;
        end if;
        return query select i.inserted, i.duplicates, false
                       from recsys.ingest_events(user_ids, product_ids, event_types, event_values,
                                                 event_ts, event_keys, recomm_ids) i;
        return;
    end if;
    select * into strict cfg from recsys.settings;

    -- The indexes and keys, as the catalogue defines them: the aggregates'
    -- keys and indexes; the events' indexes other than their primary and
    -- event_key keys (ingest_events' ON CONFLICT needs that one), and their
    -- foreign keys (one anti-join each when added back, not a lookup per row).
    select array_agg(x.drop_ order by x.ord), array_agg(x.create_ order by x.ord)
      into drops, creates
      from (select c.oid as ord,
                   format('alter table %s drop constraint %I', c.conrelid::regclass, c.conname)
                       as drop_,
                   format('alter table %s add constraint %I %s', c.conrelid::regclass, c.conname,
                          pg_get_constraintdef(c.oid)) as create_
              from pg_constraint c
             where (c.contype = 'p' and c.conrelid in (
                        'recsys.interactions'::regclass, 'recsys.item_stats'::regclass,
                        'recsys.item_type_stats'::regclass, 'recsys.user_item_types'::regclass,
                        'recsys.rejections'::regclass, 'recsys.item_pairs'::regclass,
                        'recsys.cross_pairs'::regclass))
                or (c.contype = 'f' and c.conrelid = 'recsys.events'::regclass)
            union all
            select i.indexrelid, format('drop index %s', i.indexrelid::regclass),
                   pg_get_indexdef(i.indexrelid)
              from pg_index i
             where i.indrelid in ('recsys.interactions'::regclass, 'recsys.item_stats'::regclass,
                                  'recsys.item_type_stats'::regclass,
                                  'recsys.user_item_types'::regclass,
                                  'recsys.rejections'::regclass, 'recsys.item_pairs'::regclass,
                                  'recsys.cross_pairs'::regclass, 'recsys.events'::regclass)
               and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid
                                                               and c.conrelid = i.indrelid)) x;
    foreach statement in array coalesce(drops, '{}') loop
        execute statement;
    end loop;

    select i.inserted, i.duplicates into n, d
      from recsys.ingest_events(user_ids, product_ids, event_types, event_values, event_ts,
                                event_keys, recomm_ids) i;

    -- Positive events: interactions, numbered by first event id within the user.
    insert into recsys.interactions
           (user_id, item_id, seq, score, events, conversions, last_value, first_ts, last_ts)
    select w.user_id, w.item_id,
           row_number() over (partition by w.user_id order by min(w.id)),
           sum(w.w), count(*), count(*) filter (where w.conversion),
           (array_agg(w.value order by w.id desc)
               filter (where w.uses_value and w.value is not null))[1],
           min(w.ts), max(w.ts)
      from (select e.*, t.conversion, t.uses_value,
                   t.weight * case when t.uses_value then coalesce(e.value, 0) else 1 end as w
              from recsys.events e
              join recsys.event_types t on t.id = e.type_id
             where t.kind = 'positive') w
     group by w.user_id, w.item_id;
    analyze recsys.interactions;

    -- Every pair of one user's items within pair_window ranks of each other.
    if cfg.pair_window = 0 then
        insert into recsys.item_pairs (item_a, item_b, users)
        select a.item_id, b.item_id, count(*)
          from recsys.interactions a
          join recsys.interactions b on b.user_id = a.user_id and a.item_id < b.item_id
         group by 1, 2;
    else
        insert into recsys.item_pairs (item_a, item_b, users)
        select least(a.item_id, b.item_id), greatest(a.item_id, b.item_id), count(*)
          from recsys.interactions a
          join recsys.interactions b
            on b.user_id = a.user_id and a.seq < b.seq and b.seq <= a.seq + cfg.pair_window
         group by 1, 2;
    end if;

    update recsys.users u
       set n_items = x.n
      from (select user_id, count(*)::integer as n from recsys.interactions group by 1) x
     where u.id = x.user_id;

    with weighted as (
        select e.*, t.weight * case when t.uses_value then coalesce(e.value, 0) else 1 end as w
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id
         where t.kind = 'positive'
    ),
    logged as (
        select w.*, recsys.log_weight(w.w, w.ts, cfg.popularity_half_life) as lw from weighted w
    )
    insert into recsys.item_stats (item_id, users, events, score, log_popularity, last_ts)
    select l.item_id, count(distinct l.user_id), count(*), sum(l.w),
           max(l.lw_top) + ln(nullif(sum(exp(l.lw - l.lw_top)), 0)), max(l.ts)
      from (select l.*, max(l.lw) over (partition by l.item_id) as lw_top from logged l) l
     group by l.item_id;

    -- Every kind.
    insert into recsys.item_type_stats (item_id, type_id, events, value_sum, users)
    select e.item_id, e.type_id, count(*), coalesce(sum(e.value), 0), count(distinct e.user_id)
      from recsys.events e
     group by e.item_id, e.type_id;
    insert into recsys.user_item_types (user_id, item_id, type_id)
    select distinct e.user_id, e.item_id, e.type_id from recsys.events e;
    analyze recsys.user_item_types;
    insert into recsys.rejections (user_id, item_id, type_id, ts)
    select distinct on (e.user_id, e.item_id) e.user_id, e.item_id, e.type_id, e.ts
      from recsys.events e
      join recsys.event_types t on t.id = e.type_id
     where t.kind = 'negative'
     order by e.user_id, e.item_id, e.ts desc, e.id desc;

    -- Cross-occurrence: what rebuilding a user adds, for every user at once.
    insert into recsys.cross_pairs (source_item, source_type, target_type, target_item, users)
    select c.source_item, c.source_type, c.target_type, c.target_item, c.users
      from recsys.user_cross_pairs(
               array(select distinct x.user_id from recsys.user_item_types x
                       join recsys.event_types t on t.id = x.type_id
                      where t.kind = 'positive' and t.conversion),
               cfg.pair_window) c;

    foreach statement in array coalesce(creates, '{}') loop
        execute statement;
    end loop;
    alter table recsys.events enable trigger events_maintain_aggregates;

    -- As the trigger: a hint per user, never the data.
    perform pg_notify('recsys_events', json_build_object(
                'type', 'event',
                'user_id', u.external_id,
                'product_id', i.external_id,
                'event_type', t.name)::text)
       from (select distinct on (user_id) user_id, item_id, type_id
               from recsys.events order by user_id, id desc) e
       join recsys.users u on u.id = e.user_id
       join recsys.items i on i.id = e.item_id
       join recsys.event_types t on t.id = e.type_id;

    return query select n, d, true;
end;
$$;
