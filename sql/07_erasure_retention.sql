-- recsys schema: erasure of a user and retention of events, after which every
-- aggregate (02, 04) and the users' factors (05) describe what remains.

-- Adds (sign 1) or takes back (sign -1) every cross_pairs count of the users
-- `uids`, from their user_item_types rows and interactions.seq as they stand.
-- Counts reaching 0 are deleted, and the changed items' lists with them.
create function recsys.change_cross_pairs(uids bigint[], sign integer)
returns void
language plpgsql as $$
declare
    cfg recsys.settings := (select s from recsys.settings s);
    zero_s bigint[];
    zero_st smallint[];
    zero_tt smallint[];
    zero_t bigint[];
    changed bigint[];
begin
    with applied as (
        -- Sorted like the trigger's upsert: concurrent writers lock pairs in one order.
        insert into recsys.cross_pairs as p
               (source_item, source_type, target_type, target_item, users)
        select d.source_item, d.source_type, d.target_type, d.target_item, sign * d.users
          from recsys.user_cross_pairs(uids, cfg.pair_window) d
         order by 1, 2, 3, 4
            on conflict (source_item, source_type, target_type, target_item)
            do update set users = p.users + excluded.users
        returning p.*
    )
    select array_agg(a.source_item) filter (where a.users <= 0),
           array_agg(a.source_type) filter (where a.users <= 0),
           array_agg(a.target_type) filter (where a.users <= 0),
           array_agg(a.target_item) filter (where a.users <= 0),
           array_agg(distinct a.source_item)
      into zero_s, zero_st, zero_tt, zero_t, changed
      from applied a;
    delete from recsys.cross_pairs p
     using unnest(zero_s, zero_st, zero_tt, zero_t) as z(s, st, tt, t)
     where (p.source_item, p.source_type, p.target_type, p.target_item) = (z.s, z.st, z.tt, z.t);
    -- Their lists are stale: dropped, they are scored live until the next
    -- refresh (as rebuild_users does for co-occurrence, under the refresher's lock).
    if cardinality(changed) > 0 then
        perform pg_advisory_xact_lock(7303475812);
        delete from recsys.neighbor_lists l where l.item_id = any(changed);
        delete from recsys.cross_lists l where l.item_id = any(changed);
    end if;
end;
$$;

-- Makes interactions, rejections, item_pairs, users.n_items, item_stats,
-- item_type_stats, user_item_types and cross_pairs describe the current events again after events of `uids`
-- were deleted (or their types changed); `items` are the items of those events. The caller holds the users' row locks (as the
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

    -- Cross-occurrence first, while user_item_types and seq are the old ones.
    perform recsys.change_cross_pairs(uids, -1);
    delete from recsys.user_item_types where user_id = any(uids);
    delete from recsys.interactions where user_id = any(uids);
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
             where e.user_id = any(uids) and t.kind = 'positive') w
     group by w.user_id, w.item_id
     order by w.user_id, w.item_id;
    delete from recsys.rejections where user_id = any(uids);
    insert into recsys.rejections (user_id, item_id, type_id, ts)
    select distinct on (e.user_id, e.item_id) e.user_id, e.item_id, e.type_id, e.ts
      from recsys.events e
      join recsys.event_types t on t.id = e.type_id
     where e.user_id = any(uids) and t.kind = 'negative'
     order by e.user_id, e.item_id, e.ts desc, e.id desc;
    update recsys.users u
       set n_items = (select count(*) from recsys.interactions x where x.user_id = u.id)
     where u.id = any(uids);
    insert into recsys.user_item_types (user_id, item_id, type_id)
    select distinct e.user_id, e.item_id, e.type_id from recsys.events e
     where e.user_id = any(uids)
     order by 1, 2, 3;
    perform recsys.change_cross_pairs(uids, 1);

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
    -- Then item_type_stats, as the trigger writes them (after item_stats).
    perform 1 from recsys.item_type_stats c where c.item_id = any(items)
     order by c.item_id, c.type_id for update;
    delete from recsys.item_stats s
     where s.item_id = any(items)
       and not exists (select 1 from recsys.events e
                         join recsys.event_types t on t.id = e.type_id
                        where e.item_id = s.item_id and t.kind = 'positive');
    with weighted as (
        select e.*, t.weight * case when t.uses_value then coalesce(e.value, 0) else 1 end as w
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id
         where e.item_id = any(items) and t.kind = 'positive'
    ),
    logged as (
        select w.*, recsys.log_weight(w.w, w.ts, cfg.popularity_half_life) as lw from weighted w
    )
    insert into recsys.item_stats as s (item_id, users, events, score, log_popularity, last_ts)
    select l.item_id, count(distinct l.user_id), count(*), sum(l.w),
           max(l.lw_top) + ln(nullif(sum(exp(l.lw - l.lw_top)), 0)), max(l.ts)
      from (select l.*, max(l.lw) over (partition by l.item_id) as lw_top from logged l) l
     group by l.item_id
     order by l.item_id
        on conflict (item_id) do update set
           users = excluded.users, events = excluded.events, score = excluded.score,
           log_popularity = excluded.log_popularity, last_ts = excluded.last_ts;
    delete from recsys.item_type_stats c where c.item_id = any(items);
    insert into recsys.item_type_stats (item_id, type_id, events, value_sum, users)
    select e.item_id, e.type_id, count(*), coalesce(sum(e.value), 0), count(distinct e.user_id)
      from recsys.events e
     where e.item_id = any(items)
     group by e.item_id, e.type_id
     order by e.item_id, e.type_id;
    return changed;
end;
$$;

-- Erasure: deletes the user's events, interactions, rejections, exposures,
-- model factors (cascade) and row, and takes back what they contributed to
-- item_stats and item_pairs, in the caller's transaction. No row: the user is unknown. A later event for
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
    -- The lists shown to them (recsys.exposures, 09: resolved when called).
    delete from recsys.exposures x where x.user_external_id = for_user;
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

-- ----------------------------------------------------------------- event types

-- Creates or changes an event type. Changing one that events already use
-- rebuilds every aggregate those events built (recsys.rebuild_users on their
-- users and items, in this transaction), so counts, scores, popularity,
-- rejections and pairs describe the events under the new definition.
create function recsys.put_event_type(
    type_name text, kind text default 'positive', weight real default 1,
    uses_value boolean default false, conversion boolean default false
)
returns table (created boolean, rebuilt_users bigint)
language plpgsql as $$
declare
    old recsys.event_types;
    uids bigint[];
    items bigint[];
begin
    select * into old from recsys.event_types t where t.name = type_name for update;
    if not found then
        insert into recsys.event_types as t (name, kind, weight, uses_value, conversion)
        values (type_name, put_event_type.kind, put_event_type.weight, put_event_type.uses_value,
                put_event_type.conversion);
        return query select true, 0::bigint;
        return;
    end if;
    if (old.kind, old.weight, old.uses_value, old.conversion)
       is not distinct from (put_event_type.kind, put_event_type.weight,
                             put_event_type.uses_value, put_event_type.conversion) then
        return query select false, 0::bigint;
        return;
    end if;
    -- Locked sorted, as the trigger locks them: their writers wait meanwhile.
    select coalesce(array_agg(l.id), '{}') into uids
      from (select u.id from recsys.users u
             where u.id in (select distinct e.user_id from recsys.events e where e.type_id = old.id)
             order by u.id
               for no key update of u) l;
    items := array(select distinct e.item_id from recsys.events e where e.type_id = old.id);
    -- Their cross-occurrence under the old definition goes first: rebuild_users
    -- would read the types as they are after the update.
    perform recsys.change_cross_pairs(uids, -1);
    delete from recsys.user_item_types x where x.user_id = any(uids);
    update recsys.event_types t
       set kind = put_event_type.kind, weight = put_event_type.weight,
           uses_value = put_event_type.uses_value, conversion = put_event_type.conversion
     where t.id = old.id;
    if cardinality(uids) > 0 then
        perform recsys.rebuild_users(uids, items);
    end if;
    return query select false, cardinality(uids)::bigint;
end;
$$;

-- Deletes an event type no event uses; one in use is an error naming how many.
create function recsys.drop_event_type(type_name text)
returns boolean
language plpgsql as $$
declare
    tid smallint := (select t.id from recsys.event_types t where t.name = type_name);
    used bigint;
begin
    if tid is null then
        return false;
    end if;
    used := (select count(*) from recsys.events e where e.type_id = tid);
    if used > 0 then
        raise exception 'event type "%" is used by % events', type_name, used
            using errcode = 'dependent_objects_still_exist',
                  hint = 'erase or prune those events first, or keep the type';
    end if;
    delete from recsys.event_types t where t.id = tid;
    return true;
end;
$$;
