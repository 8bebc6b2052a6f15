-- 0005_erasure_retention: erasure of a user (recsys.forget_user) and retention
-- (recsys.prune_events), both keeping interactions, item_stats, item_pairs and
-- users.n_items equal to what the remaining events define (recsys.rebuild_users);
-- an index on events (item_id) for their per-item recompute; ingest_events holds
-- its users so that a concurrent erasure cannot fail a batch. Frozen: never edit
-- after release.

-- Erasure and retention recompute the stats of the items whose events they
-- delete: without it, each recompute would scan every event.
create index events_item_idx on recsys.events (item_id);

-- Records a batch of events in one statement (one trigger call), creating
-- unknown users and items. All or nothing: a bad element rejects the batch.
create or replace function recsys.ingest_events(
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
