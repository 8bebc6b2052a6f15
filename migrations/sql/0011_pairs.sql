-- Revision 0011_pairs, frozen: recsys.on_events_inserted as sql/02_ingest.sql
-- stood when this revision was written. Each new item pairs with the user's
-- earlier items through a correlated index range (older items) and a window
-- array (the batch's own), instead of a join of the batch with itself, which
-- the planner, blind to a transition table's statistics, ran as a nested loop
-- quadratic in the batch. Counts unchanged. Never edited: a later change is a
-- new revision.

create or replace function recsys.on_events_inserted()
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

