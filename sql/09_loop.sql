-- recsys schema: the loop. What was shown (exposures, one row per served
-- list, keyed by recomm_id), what came of it (events credited to a list) and
-- the views that count impressions, clicks and conversions; serving with a
-- ledger entry, rotation and next pages.

-- ---------------------------------------------------------------- exposures

create table recsys.exposures (
    recomm_id uuid primary key,
    -- The user as the API knows them (users.external_id): lists are logged
    -- before a new user has a row, and erasure deletes by this id.
    user_external_id text,
    -- Where the list went: recommend (GET /recommend), next (a next page),
    -- realtime (GET /realtime-recommend), event (POST /event's answer), push
    -- (WebSocket / Socket.IO), sql (recsys.serve from psql).
    surface text not null
        check (surface in ('recommend', 'next', 'realtime', 'event', 'push', 'similar', 'sql')),
    -- The strategy asked ('interleaved' for a team-draft pair of arms).
    case_name text not null,
    method text,
    scenario text,
    experiment text,
    -- A/B: the user's arm; interleaving: null (placed_by names each item's arm).
    arm text,
    -- recsys.items.id; position n (1-based) is items[n].
    items bigint[] not null,
    placed_by text[],
    -- recomm_id of the chain's first page (itself on page 1).
    chain uuid not null,
    page integer not null default 1 check (page >= 1),
    -- The request a next page repeats (GET /recommend/next).
    request jsonb not null default '{}',
    served_at timestamptz not null default now()
);

-- Attribution and rotation read a user's latest lists; erasure deletes them.
create index exposures_user_idx on recsys.exposures (user_external_id, served_at desc);
create index exposures_chain_idx on recsys.exposures (chain);
-- Retention deletes by age.
create index exposures_served_idx on recsys.exposures using brin (served_at);
-- What a list earned: the events credited to it (attributed ones only).
create index events_recomm_idx on recsys.events (recomm_id, item_id) where recomm_id is not null;

-- One ledger row for one served list of product ids (in order).
create function recsys.log_exposure(
    recomm_id uuid, for_user text, surface text, strategy text, product_ids text[],
    method text default null, scenario text default null, experiment text default null,
    arm text default null, placed_by text[] default null, chain uuid default null,
    page integer default 1, request jsonb default '{}'
)
returns void
language sql as $$
    insert into recsys.exposures
           (recomm_id, user_external_id, surface, case_name, method, scenario, experiment, arm,
            items, placed_by, chain, page, request)
    values (recomm_id, for_user, surface, strategy, method, scenario, experiment, arm,
            array(select i.id
                    from unnest(product_ids) with ordinality as p(product_id, n)
                    join recsys.items i on i.external_id = p.product_id
                   order by p.n),
            placed_by, coalesce(chain, recomm_id), page, coalesce(request, '{}'));
$$;

-- ------------------------------------------------------------------ serving

-- recsys.recommend, re-ranked by `rotation` (0..1): an item shown to the user
-- within settings.rotation_window and not touched since has its rank r
-- multiplied by 1 / (1 - rotation) for each such showing, so a returning
-- user sees fresh items first (rotation 1: shown items only after every
-- fresh one). It reads k + (items shown) candidates, enough to replace them all.
create function recsys.rotated(
    for_user text, k integer, strategy text, exclude text[], category text, method text,
    product text, attributes jsonb, rotation double precision
)
returns table (product_id text, score double precision, reason text)
language plpgsql stable as $$
declare
    cfg recsys.settings;
    uid bigint;
    shown_ids bigint[];
    shown_times integer[];
begin
    if rotation is null or rotation < 0 or rotation > 1 then
        raise exception 'rotation must be between 0 and 1, got %', rotation
            using errcode = 'invalid_parameter_value', column = 'rotation';
    end if;
    perform recsys.check_k(k);
    if rotation = 0 or for_user is null then
        return query select * from recsys.recommend(for_user, k, strategy, exclude, category,
                                                    false, method, product, attributes);
        return;
    end if;
    -- Read only when rotating: most lists do not, and this is their hot path.
    cfg := (select s from recsys.settings s);
    uid := (select u.id from recsys.users u where u.external_id = for_user);
    select coalesce(array_agg(s.item_id), '{}'), coalesce(array_agg(s.times), '{}')
      into shown_ids, shown_times
      from (select e.item_id, count(*)::integer as times
              from (select x.items, x.served_at
                      from recsys.exposures x
                     where x.user_external_id = for_user
                       and x.served_at > now() - cfg.rotation_window
                     order by x.served_at desc
                     limit 100) x
             cross join unnest(x.items) as e(item_id)
              left join recsys.interactions i on i.user_id = uid and i.item_id = e.item_id
             where i.last_ts is null or i.last_ts < x.served_at
             group by e.item_id) s;
    return query
    select c.product_id, c.score, c.reason
      from recsys.recommend(for_user, least(k + cardinality(shown_ids), 1000), strategy, exclude,
                            category, false, method, product, attributes)
           with ordinality as c(product_id, score, reason, n)
      left join recsys.items i on i.external_id = c.product_id
      left join unnest(shown_ids, shown_times) as s(item_id, times) on s.item_id = i.id
     order by c.n * power(1 / (1 - least(rotation, 0.999)), coalesce(s.times, 0)), c.n
     limit k;
end;
$$;

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

-- What GET /recommend/next needs to continue the chain of `recomm_id`: the
-- first page's request, every product the chain showed, the next page's
-- number, and whether its last page is older than settings.page_ttl. No row:
-- an unknown (or pruned) recomm_id.
create function recsys.chain_of(for_recomm uuid)
returns table (chain uuid, user_id text, case_name text, method text, scenario text,
               experiment text, arm text, request jsonb, shown text[], next_page integer,
               expired boolean)
language sql stable as $$
    select x.chain, x.user_external_id, x.case_name, x.method, x.scenario, x.experiment, x.arm,
           first.request, c.shown, c.last_page + 1,
           c.last_served < now() - (select s.page_ttl from recsys.settings s)
      from recsys.exposures x
      join recsys.exposures first on first.recomm_id = x.chain
     cross join lateral (
           -- One pass over the chain's pages.
           select coalesce(array_agg(i.external_id) filter (where i.id is not null), '{}')
                      as shown,
                  max(p.page) as last_page,
                  max(p.served_at) as last_served
             from recsys.exposures p
             left join lateral unnest(p.items) as e(item_id) on true
             left join recsys.items i on i.id = e.item_id
            where p.chain = x.chain) c
     where x.recomm_id = for_recomm;
$$;

-- Retention: deletes at most `max_rows` exposures served before `cutoff`;
-- call until it returns 0.
create function recsys.prune_exposures(cutoff timestamptz, max_rows integer default 10000)
returns bigint
language sql as $$
    with gone as (
        delete from recsys.exposures x
         where x.recomm_id in (select e.recomm_id from recsys.exposures e
                                where e.served_at < cutoff limit max_rows)
        returning 1
    )
    select count(*) from gone;
$$;

-- -------------------------------------------------------------------- views

-- One row per item shown: the list's context and the item's position.
create view recsys.exposure_items as
select x.recomm_id, x.user_external_id as user_id, x.surface, x.case_name, x.method,
       x.scenario, x.experiment, x.arm, x.placed_by[e.position] as placed_by,
       e.position::integer as position, e.item_id, i.external_id as product_id,
       x.chain, x.page, x.served_at
  from recsys.exposures x
 cross join unnest(x.items) with ordinality as e(item_id, position)
  join recsys.items i on i.id = e.item_id;

-- Events credited to a list (sent with its recomm_id, or attributed on
-- ingest), with the position their item held in it (null: not in that list).
create view recsys.attributions as
select e.id as event_id, e.recomm_id, u.external_id as user_id, i.external_id as product_id,
       e.item_id, t.name as event_type, t.kind, t.conversion,
       array_position(x.items, e.item_id) as position,
       x.placed_by[array_position(x.items, e.item_id)] as placed_by,
       x.case_name, x.method, x.scenario, x.experiment, x.arm, x.served_at, e.ts
  from recsys.events e
  join recsys.event_types t on t.id = e.type_id
  join recsys.users u on u.id = e.user_id
  join recsys.items i on i.id = e.item_id
  left join recsys.exposures x on x.recomm_id = e.recomm_id
 where e.recomm_id is not null;

-- Each item shown and what it earned in that list: a click (any positive
-- event), an add to cart, a purchase (a conversion type), a rejection.
create view recsys.impressions as
select ei.*, ei.served_at::date as day,
       coalesce(o.clicked, false) as clicked, coalesce(o.carted, false) as carted,
       coalesce(o.purchased, false) as purchased, coalesce(o.rejected, false) as rejected
  from recsys.exposure_items ei
  left join lateral (
        select bool_or(t.kind = 'positive') as clicked,
               bool_or(t.name = 'add_to_cart') as carted,
               bool_or(t.conversion) as purchased,
               bool_or(t.kind = 'negative') as rejected
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id
         where e.recomm_id = ei.recomm_id and e.item_id = ei.item_id) o on true;

-- What the lists earned, by one dimension each. lists counts lists, impressions
-- items shown; CTR = clicks / impressions, conversion = purchases / impressions.

-- By strategy (case and hybrid method).
create view recsys.loop_by_case as
select case_name, method,
       count(distinct recomm_id) as lists,
       count(*) as impressions,
       count(*) filter (where clicked) as clicks,
       count(*) filter (where carted) as carts,
       count(*) filter (where purchased) as purchases,
       count(*) filter (where rejected) as rejections,
       round(count(*) filter (where clicked) / nullif(count(*), 0)::numeric, 4) as ctr,
       round(count(*) filter (where purchased) / nullif(count(*), 0)::numeric, 4) as conversion
  from recsys.impressions
 group by case_name, method;

-- By saved scenario (null: requests that named none).
create view recsys.loop_by_scenario as
select scenario,
       count(distinct recomm_id) as lists,
       count(*) as impressions,
       count(*) filter (where clicked) as clicks,
       count(*) filter (where carted) as carts,
       count(*) filter (where purchased) as purchases,
       count(*) filter (where rejected) as rejections,
       round(count(*) filter (where clicked) / nullif(count(*), 0)::numeric, 4) as ctr,
       round(count(*) filter (where purchased) / nullif(count(*), 0)::numeric, 4) as conversion
  from recsys.impressions
 group by scenario;

-- By experiment and arm (A/B; interleaving lists have arm null).
create view recsys.loop_by_arm as
select experiment, arm,
       count(distinct recomm_id) as lists,
       count(*) as impressions,
       count(*) filter (where clicked) as clicks,
       count(*) filter (where carted) as carts,
       count(*) filter (where purchased) as purchases,
       count(*) filter (where rejected) as rejections,
       round(count(*) filter (where clicked) / nullif(count(*), 0)::numeric, 4) as ctr,
       round(count(*) filter (where purchased) / nullif(count(*), 0)::numeric, 4) as conversion
  from recsys.impressions
 group by experiment, arm;

-- By position in the list: how fast attention falls.
create view recsys.loop_by_position as
select position,
       count(distinct recomm_id) as lists,
       count(*) as impressions,
       count(*) filter (where clicked) as clicks,
       count(*) filter (where carted) as carts,
       count(*) filter (where purchased) as purchases,
       count(*) filter (where rejected) as rejections,
       round(count(*) filter (where clicked) / nullif(count(*), 0)::numeric, 4) as ctr,
       round(count(*) filter (where purchased) / nullif(count(*), 0)::numeric, 4) as conversion
  from recsys.impressions
 group by position;

-- By day served (in the session's time zone).
create view recsys.loop_by_day as
select day,
       count(distinct recomm_id) as lists,
       count(*) as impressions,
       count(*) filter (where clicked) as clicks,
       count(*) filter (where carted) as carts,
       count(*) filter (where purchased) as purchases,
       count(*) filter (where rejected) as rejections,
       round(count(*) filter (where clicked) / nullif(count(*), 0)::numeric, 4) as ctr,
       round(count(*) filter (where purchased) / nullif(count(*), 0)::numeric, 4) as conversion
  from recsys.impressions
 group by day;
