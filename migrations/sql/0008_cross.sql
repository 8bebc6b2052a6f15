-- Revision 0008_cross, frozen: cross-occurrence as sql/ stood when this
-- revision was written: recsys.user_item_types, item_type_stats.users,
-- recsys.cross_pairs (kept by the trigger), recsys.cross_lists (refreshed with
-- the neighbour lists), settings.cross_weight, behavior_based reading them and
-- recsys.then_bought. Never edited: a later change is a new revision.

alter table recsys.settings
    add column cross_weight double precision not null default 0
        check (cross_weight >= 0 and cross_weight < 'infinity');

alter table recsys.item_type_stats add column users integer not null default 0;

create table recsys.user_item_types (
    user_id bigint not null,
    item_id bigint not null,
    type_id smallint not null,
    primary key (user_id, item_id, type_id)
);

create table recsys.cross_pairs (
    source_item bigint not null,
    source_type smallint not null,
    target_type smallint not null,
    target_item bigint not null,
    users integer not null,
    primary key (source_item, source_type, target_type, target_item),
    check (source_item <> target_item)
);

create table recsys.cross_lists (
    item_id bigint not null,
    source_type smallint not null,
    measure text not null,
    targets bigint[] not null,
    similarities double precision[] not null,
    primary key (item_id, source_type)
);

-- Every cross_pairs count of the users `uids`, from their user_item_types rows
-- and interactions.seq as they stand: each pair of one user's positive rows, a
-- source (non-conversion type) on one item and a target (conversion type) on
-- another, within pair_window of each other's first touch. What rebuilding
-- takes back and adds again; the trigger counts only the pairs new rows make.
create or replace function recsys.user_cross_pairs(uids bigint[], pair_window integer)
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

-- Cross-occurrence similarity of each (source item, source type) with its
-- targets, from the users behind each side (item_type_stats.users), summed over
-- target types; `items` null: every source item.
create or replace function recsys.cross_similarities(items bigint[], measure text, n_users double precision)
returns table (source_item bigint, source_type smallint, target_item bigint,
               sim double precision)
language sql stable as $$
    select c.source_item, c.source_type, c.target_item,
           sum(recsys.similarity(measure, c.users, sa.users, sb.users, n_users))
      from recsys.cross_pairs c
      join recsys.item_type_stats sa on sa.item_id = c.source_item and sa.type_id = c.source_type
      join recsys.item_type_stats sb on sb.item_id = c.target_item and sb.type_id = c.target_type
     where items is null or c.source_item = any(items)
     group by 1, 2, 3
$$;

-- Adds (sign 1) or takes back (sign -1) every cross_pairs count of the users
-- `uids`, from their user_item_types rows and interactions.seq as they stand.
-- Counts reaching 0 are deleted, and the changed items' lists with them.
create or replace function recsys.change_cross_pairs(uids bigint[], sign integer)
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

-- Keeps interactions, item_stats, item_type_stats, rejections, item_pairs,
-- user_item_types and cross_pairs exact in the same transaction as the events, for a single INSERT, a batch
-- and COPY alike (one call per statement), then wakes the listeners with one
-- small NOTIFY per user. Negative and neutral events build no interactions, so
-- they never count as co-occurrence.
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
begin
    select * into strict cfg from recsys.settings;

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

-- Recomputes the neighbour lists of `items` (null: of every item) from
-- item_pairs under the configured similarity. Returns the lists written.
create or replace function recsys.refresh_neighbor_lists(items bigint[] default null)
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

-- Items that co-occur with a user's latest items, each neighbour's similarity
-- weighted by how strongly (event weights) and how recently the user chose
-- the source item; neighbours of items the user rejected (dislike, hide) lose
-- that type's weight x similarity, decayed the same way. Tops up with popular items when history runs short.
-- Sources with a refreshed list (recsys.neighbor_lists) contribute its entries;
-- the others are scored live from item_pairs. Cross-occurrence adds, with
-- settings.cross_weight, the targets of the source under the types the user
-- sent it (recsys.cross_lists, or live from cross_pairs likewise).
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

-- Makes interactions, rejections, item_pairs, users.n_items, item_stats,
-- item_type_stats, user_item_types and cross_pairs describe the current events again after events of `uids`
-- were deleted (or their types changed); `items` are the items of those events. The caller holds the users' row locks (as the
-- trigger does), so no writer of theirs runs meanwhile. A user's interactions
-- are recomputed from their remaining events (seq renumbered by first touch),
-- their pairs change by (new pairs - old pairs), and the items' stats are
-- recomputed from their remaining events (exact, log_popularity included).
-- Returns the number of item_pairs rows changed.
create or replace function recsys.rebuild_users(uids bigint[], items bigint[])
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

-- Creates or changes an event type. Changing one that events already use
-- rebuilds every aggregate those events built (recsys.rebuild_users on their
-- users and items, in this transaction), so counts, scores, popularity,
-- rejections and pairs describe the events under the new definition.
create or replace function recsys.put_event_type(
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


-- recsys schema: cross-occurrence, read side. recsys.cross_pairs (02, kept by
-- the trigger) counts the users who viewed or carted one item and bought
-- another; behavior_based (04) adds those targets to its lists, and
-- then_bought answers "viewed this, then bought" for one item.

-- Items bought by the users who sent `after` (a positive non-conversion type:
-- view, add_to_cart) for `product`, ranked by the log-likelihood ratio of the
-- two groups of users against everyone with a history, summed over conversion
-- types: an item many of those users bought and few others did comes first;
-- items they bought less often than everyone else are left out.
create function recsys.then_bought(
    product text, after text default 'view', k integer default 10,
    category text default null, exclude text[] default '{}'
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    item recsys.items := (select i from recsys.items i where i.external_id = product);
    source recsys.event_types := (select t from recsys.event_types t where t.name = after);
    n_users double precision := (select count(*) from recsys.users u where u.n_items > 0);
begin
    perform recsys.check_k(k);
    if item is null then
        raise exception 'unknown product_id "%"', product
            using errcode = 'no_data_found', column = 'product_id';
    end if;
    if source is null or source.kind <> 'positive' or source.conversion then
        raise exception 'event type "%" cannot lead to a purchase', after
            using errcode = 'invalid_parameter_value', column = 'after',
                  hint = 'after= takes a positive event type that is not a conversion (view, add_to_cart)';
    end if;
    return query
    select i.external_id, c.sim,
           'bought by ' || c.users || case when c.users = 1 then ' user' else ' users' end
           || ' after ' || after
      from (select c.target_item,
                   sum(recsys.similarity('llr', c.users, sa.users, sb.users, n_users)) as sim,
                   sum(c.users) as users
              from recsys.cross_pairs c
              join recsys.item_type_stats sa
                on sa.item_id = c.source_item and sa.type_id = c.source_type
              join recsys.item_type_stats sb
                on sb.item_id = c.target_item and sb.type_id = c.target_type
             where c.source_item = item.id and c.source_type = source.id
               -- More of these users bought it than chance would have: the LLR
               -- alone also ranks items they avoided.
               and c.users * n_users > sa.users::double precision * sb.users
             group by c.target_item) c
      join recsys.items i on i.id = c.target_item
     where c.sim > 0
       and recsys.live(i.available, i.available_from, i.expires_at)
       and (category is null or i.categories @> array[category])
       and not (i.external_id = any(coalesce(exclude, '{}')))
     order by c.sim desc, i.id
     limit k;
end;
$$;

-- The existing events, as the trigger would have counted them.
insert into recsys.user_item_types (user_id, item_id, type_id)
select distinct e.user_id, e.item_id, e.type_id from recsys.events e order by 1, 2, 3;
update recsys.item_type_stats c
   set users = x.users
  from (select item_id, type_id, count(*) as users
          from recsys.user_item_types group by 1, 2) x
 where x.item_id = c.item_id and x.type_id = c.type_id;
select recsys.change_cross_pairs(array(select u.id from recsys.users u), 1);
-- Lists without their cross-occurrence: every list is rebuilt by the next
-- refresh, and scored live until then.
delete from recsys.neighbor_lists;
update recsys.neighbor_lists_state set through_event = 0;
