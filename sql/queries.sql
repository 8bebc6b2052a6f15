-- Named queries used by the service, one `-- name: ...` block each.
-- Parameters are psycopg placeholders; Python never builds SQL from input.

-- name: ingest_events
select inserted, duplicates
  from recsys.ingest_events(%(user_ids)s::text[], %(product_ids)s::text[],
                            %(event_types)s::text[], %(values)s::real[],
                            %(timestamps)s::timestamptz[], %(event_keys)s::text[],
                            %(recomm_ids)s::uuid[]);

-- name: upsert_items
select product_id, created from recsys.upsert_items(%(items)s);

-- name: select_item
select i.external_id as product_id, i.title, i.description, i.categories, i.attributes,
       i.available, i.available_from, i.expires_at,
       recsys.live(i.available, i.available_from, i.expires_at) as live, i.created_at, i.updated_at,
       coalesce(s.users, 0) as users, coalesce(s.events, 0) as events,
       coalesce((c.counts ->> 'view')::bigint, 0) as views,
       coalesce((c.counts ->> 'add_to_cart')::bigint, 0) as add_to_carts,
       coalesce((c.counts ->> 'purchase')::bigint, 0) as purchases,
       coalesce((c.counts ->> 'rating')::bigint, 0) as ratings,
       coalesce(c.counts, '{}') as counts
  from recsys.items i
  left join recsys.item_stats s on s.item_id = i.id
  left join lateral (
        select jsonb_object_agg(t.name, c.events) as counts
          from recsys.item_type_stats c
          join recsys.event_types t on t.id = c.type_id
         where c.item_id = i.id) c on true
 where i.external_id = %(product_id)s;

-- name: select_user_history
select i.external_id as product_id, t.name as event_type, e.value, e.ts as timestamp,
       e.event_key as event_id
  from recsys.users u
  join recsys.events e on e.user_id = u.id
  join recsys.items i on i.id = e.item_id
  join recsys.event_types t on t.id = e.type_id
 where u.external_id = %(user_id)s
 order by e.ts desc, e.id desc
 limit %(limit)s;

-- name: user_exists
select exists (select 1 from recsys.users where external_id = %(user_id)s);

-- name: recommend
-- Every strategy (app.recommenders.STRATEGIES) through the one SQL dispatch.
select product_id, score, reason
  from recsys.recommend(%(user_id)s, %(k)s, %(case)s, %(exclude)s, %(category)s,
                        method => %(method)s, product => %(product_id)s,
                        attributes => %(attributes)s);

-- name: serve
-- recommend, rotated and recorded: one row in recsys.exposures per list. The
-- service's transaction holds only that row (an event commits before its
-- answer's list is served), so its commit need not wait for the WAL flush:
-- synchronous_commit off for this transaction only. A crash can lose the last
-- fraction of a second of exposures, never an event. (recsys.serve from psql
-- keeps the session's setting.)
select s.product_id, s.score, s.reason
  from (select set_config('synchronous_commit', 'off', true)) async_commit,
       recsys.serve(%(user_id)s, %(k)s, %(case)s, %(exclude)s, %(category)s, %(method)s,
                    %(product_id)s, %(attributes)s, %(rotation)s, %(surface)s, %(scenario)s,
                    %(experiment)s, %(arm)s, %(chain)s::uuid, %(page)s, %(request)s, %(log)s,
                    %(recomm_id)s::uuid, %(rules)s, %(diversity)s, %(max_per_category)s,
                    %(fallback)s::text[]) s;

-- name: ranked
-- serve without a ledger row: the lists an interleaving merges.
select product_id, score, reason
  from recsys.ranked(%(user_id)s, %(k)s, %(case)s, %(exclude)s, %(category)s, %(method)s,
                     %(product_id)s, %(attributes)s, %(rotation)s, %(rules)s, %(diversity)s,
                     %(max_per_category)s, %(fallback)s::text[]);

-- name: log_exposure
-- As serve: the transaction holds only the ledger row, committed asynchronously.
select set_config('synchronous_commit', 'off', true), recsys.log_exposure(%(recomm_id)s::uuid, %(user_id)s, %(surface)s, %(case)s,
                           %(product_ids)s::text[], %(logged_method)s, %(scenario)s,
                           %(experiment)s, %(arm)s, %(placed_by)s::text[], %(chain)s::uuid,
                           %(page)s, %(request)s);

-- name: chain_of
-- GET /recommend/next: what the chain of a recomm_id showed, and its request.
select chain::text, user_id, case_name, method, scenario, experiment, arm, request, shown,
       next_page, expired
  from recsys.chain_of(%(recomm_id)s::uuid);

-- name: prune_exposures
select recsys.prune_exposures(%(cutoff)s, %(max_rows)s) as exposures;

-- name: similar_items
-- Co-occurrence, falling back to content and popular items (sql/14_models.sql).
select product_id, score, reason
  from recsys.similar_or_fallback(%(product_id)s, %(k)s, null, %(category)s, %(exclude)s);

-- name: health
select 1;

-- name: ensure_event_type
-- An event type a file format needs (online-retail's return), unless it exists.
insert into recsys.event_types (name, kind, weight)
values (%(name)s, %(kind)s, %(weight)s)
    on conflict (name) do nothing;

-- name: create_event_staging
create temp table import_events (
    line bigint not null,
    user_id text not null,
    product_id text not null,
    event_type text not null,
    value real,
    ts timestamptz,
    event_id text
) on commit drop;

-- name: copy_event_staging
copy import_events (line, user_id, product_id, event_type, value, ts, event_id)
from stdin (format csv, delimiter E'\t');

-- name: ingest_staged_events
select r.inserted, r.duplicates
  from (select array_agg(user_id order by line) as u, array_agg(product_id order by line) as p,
               array_agg(event_type order by line) as t, array_agg(value order by line) as v,
               array_agg(ts order by line) as ts, array_agg(event_id order by line) as k
          from import_events) s,
       recsys.ingest_events(s.u, s.p, s.t, s.v, s.ts, s.k) r;

-- name: bulk_ingest_staged_events
-- The staged rows through recsys.bulk_ingest_events: set-based into a shop
-- without events, else the trigger path (sql/16_bulk.sql).
select r.inserted, r.duplicates, r.bulk
  from (select array_agg(user_id order by line) as u, array_agg(product_id order by line) as p,
               array_agg(event_type order by line) as t, array_agg(value order by line) as v,
               array_agg(ts order by line) as ts, array_agg(event_id order by line) as k
          from import_events) s,
       recsys.bulk_ingest_events(s.u, s.p, s.t, s.v, s.ts, s.k) r;

-- name: staged_line
select line from import_events order by line offset %(index)s limit 1;

-- name: listen
listen recsys_events;

-- name: list_items
select i.external_id as product_id, i.title, i.categories, i.available
  from recsys.items i
  left join recsys.item_stats s on s.item_id = i.id
 where %(category)s::text is null or i.categories @> array[%(category)s::text]
 order by s.log_popularity desc nulls last, i.id
 limit %(limit)s offset %(offset)s;

-- name: predict
select rating, reason, run_id, fallback
  from recsys.predict(%(user_id)s, %(product_id)s);

-- name: training_ratings
select user_id, item_id, last_value::double precision as value,
       extract(epoch from first_ts)::double precision as ts
  from recsys.interactions
 where last_value is not null;

-- name: training_interactions
select user_id, item_id, score as value, extract(epoch from first_ts)::double precision as ts
  from recsys.interactions
 where score > 0;

-- name: create_run
insert into recsys.model_runs (kind, role, params)
values (%(kind)s, %(role)s, %(params)s)
returning id;

-- name: copy_user_factors
copy recsys.user_factors (run_id, user_id, bias, factors) from stdin;

-- name: copy_item_factors
copy recsys.item_factors (run_id, item_id, bias, factors) from stdin;

-- name: copy_item_neighbors
copy recsys.item_neighbors (run_id, item_id, neighbor_id, score) from stdin;

-- name: index_item_factors
select recsys.index_item_factors(%(run_id)s);

-- name: finish_run
update recsys.model_runs
   set status = 'ready', metrics = %(metrics)s, data = %(data)s,
       trained_at = now(), duration_s = %(duration_s)s
 where id = %(run_id)s;

-- name: fail_run
update recsys.model_runs
   set status = 'failed', error = %(error)s, duration_s = %(duration_s)s
 where id = %(run_id)s;

-- name: activate_run
select id, kind, role from recsys.activate_run(%(run_id)s);

-- name: prune_runs
select recsys.prune_runs(%(role)s, %(keep)s) as id;

-- name: list_runs
select id, kind, role, status, active, params, metrics, data, error, started_at, trained_at,
       duration_s
  from recsys.model_runs
 order by id desc
 limit %(limit)s;

-- name: try_training_lock
select pg_try_advisory_lock(7303475810) as locked;

-- name: release_training_lock
select pg_advisory_unlock(7303475810);

-- name: analyze_models
analyze recsys.user_factors, recsys.item_factors, recsys.item_neighbors;

-- name: training_items
select id, title, description, categories, attributes
  from recsys.items
 order by id
   for no key update;

-- name: insert_content_encoder
insert into recsys.content_encoders (run_id, config, terms, idf, components)
values (%(run_id)s, %(config)s, %(terms)s, %(idf)s::real[], %(components)s::real[]);

-- name: index_item_embeddings
select recsys.index_item_embeddings(%(dims)s);

-- name: create_embedding_staging
create temp table staged_embeddings (item_id bigint primary key, embedding vector)
    on commit drop;

-- name: copy_embedding_staging
copy staged_embeddings (item_id, embedding) from stdin;

-- name: apply_staged_embeddings
update recsys.items i
   set embedding = s.embedding
  from recsys.items x
  left join staged_embeddings s on s.item_id = x.id
 where i.id = x.id
   and i.embedding is distinct from s.embedding;

-- name: active_content_encoder
select r.id as run_id, e.config, e.terms, e.idf, e.components
  from recsys.model_runs r
  join recsys.content_encoders e on e.run_id = r.id
 where r.role = 'content' and r.active;

-- name: active_content_run
select id as run_id from recsys.model_runs where role = 'content' and active;

-- name: item_texts
select id, title, description, categories, attributes
  from recsys.items
 where external_id = any(%(product_ids)s::text[])
 order by id;

-- name: set_embeddings
-- Only while the run that computed them is active: a concurrent retraining
-- (new vectors, maybe a new length) wins, and never meets a vector of the old one.
update recsys.items i
   set embedding = x.embedding::vector
  from unnest(%(ids)s::bigint[], %(embeddings)s::text[]) as x(id, embedding)
 where i.id = x.id
   and (select r.id from recsys.model_runs r where r.role = 'content' and r.active) = %(run_id)s;

-- name: training_embeddings
select id as item_id, embedding::real[] as embedding
  from recsys.items
 where embedding is not null;

-- name: set_run_choice
-- The implicit model and params chosen on validation (app.training.selection).
update recsys.model_runs set kind = %(kind)s, params = %(params)s where id = %(run_id)s;

-- name: active_implicit_choice
-- What the hybrid's blend reproduces as its collaborative part.
select kind, params from recsys.model_runs where role = 'implicit' and active;

-- name: set_popularity_half_life
-- The half-life the hybrid's validation chose (sql/14_models.sql).
select recsys.set_popularity_half_life(make_interval(secs => %(days)s * 86400));

-- name: set_run_params
update recsys.model_runs set params = %(params)s where id = %(run_id)s;

-- name: embedding_index_exists
select to_regclass('recsys.items_embedding_hnsw_' || %(dims)s::integer) is not null;

-- name: default_hybrid_weights
select recsys.default_hybrid_weights();

-- evaluation (recsys evaluate): read-only copies out of a database, and the
-- scratch database's catalogue for beyond-accuracy measures.

-- name: evaluation_events
select u.external_id as user_id, i.external_id as product_id, t.name as event_type,
       e.value::double precision as value, e.ts, e.event_key as event_id
  from recsys.events e
  join recsys.users u on u.id = e.user_id
  join recsys.items i on i.id = e.item_id
  join recsys.event_types t on t.id = e.type_id
 order by e.ts, e.id;

-- name: evaluation_items
select external_id as product_id, title, description, categories, attributes, available
  from recsys.items
 order by external_id;

-- name: evaluation_event_types
select id, name, kind, weight::double precision as weight, uses_value, conversion
  from recsys.event_types
 order by id;

-- name: evaluation_set_event_type
insert into recsys.event_types (id, name, kind, weight, uses_value, conversion)
values (%(id)s, %(name)s, %(kind)s, %(weight)s, %(uses_value)s, %(conversion)s)
    on conflict (id) do update
   set name = excluded.name, kind = excluded.kind, weight = excluded.weight,
       uses_value = excluded.uses_value, conversion = excluded.conversion;

-- name: evaluation_embeddings
select external_id as product_id, embedding::real[] as embedding
  from recsys.items
 where embedding is not null;

-- name: evaluation_catalogue
select external_id as product_id from recsys.items where available order by external_id;

-- name: refresh_neighbor_lists
-- One refresher at a time across instances; the others skip the round.
select case when pg_try_advisory_xact_lock(7303475812)
            then recsys.refresh_neighbor_lists_since(everything => %(everything)s)
       end as lists;

-- name: forget_user
select events, interactions, pairs from recsys.forget_user(%(user_id)s);

-- name: prune_events
select users, events from recsys.prune_events(%(cutoff)s, %(max_users)s);

-- name: try_prune_lock
select pg_try_advisory_lock(7303475811) as locked;

-- name: release_prune_lock
select pg_advisory_unlock(7303475811);

-- name: apply_tunables
-- REC_* tunables the SQL reads (app/db/tunables.py); null keeps the stored value.
-- Writes only on a change, so instances starting together do not queue on the row.
with wanted as (
    select coalesce(%(pair_window)s::integer, s.pair_window) as pair_window,
           coalesce(make_interval(mins => %(page_ttl_minutes)s::integer), s.page_ttl) as page_ttl,
           coalesce(make_interval(hours => %(attribution_hours)s::integer), s.attribution_window)
               as attribution_window
      from recsys.settings s
)
update recsys.settings s
   set pair_window = w.pair_window, page_ttl = w.page_ttl,
       attribution_window = w.attribution_window
  from wanted w
 where (s.pair_window, s.page_ttl, s.attribution_window)
       is distinct from (w.pair_window, w.page_ttl, w.attribution_window);

-- name: evaluation_similarity
-- `recsys evaluate --similarity/--neighbor-lists` (its scratch database only):
-- the co-occurrence measure behavior_based and the neighbour lists use.
select similarity from recsys.settings;

-- name: evaluation_set_similarity
update recsys.settings set similarity = %(similarity)s;

-- name: evaluation_set_neighbor_list_size
update recsys.settings set neighbor_list_size = %(size)s;

-- name: drop_neighbor_lists
-- Without lists, behavior_based scores every source item live from item_pairs
-- (evaluation and benchmark databases only).
delete from recsys.neighbor_lists;

-- name: evaluation_item_categories
-- Items a content neighbour list can be asked for and judged by category.
select external_id as product_id, categories
  from recsys.items
 where available and embedding is not null and cardinality(categories) > 0
 order by external_id;

-- name: bench_user_ids
-- Benchmarks (python -m benchmarks.NAME, recsys bench) only, from here on.
select external_id from recsys.users order by id;

-- name: bench_item_ids
select external_id from recsys.items order by id;

-- name: bench_stored_events
select count(*) from recsys.events;

-- name: bench_database_size
select pg_database_size(current_database()), (select count(*) from recsys.item_pairs);

-- name: bench_function_seconds
-- Seconds spent in each recsys function by sessions that have ended (track_functions).
select funcname, total_time / 1000
  from pg_stat_user_functions
 where schemaname = 'recsys';

-- name: bench_checkpoint
checkpoint;

-- name: bench_analyze
-- Fresh statistics, as after any bulk load.
analyze;

-- name: bench_maintained_pairs
-- Count, sum and hash of item_pairs by external ids: equal to the yardstick's iff the pairs are.
select count(*), coalesce(sum(p.users), 0),
       coalesce(sum(hashtext(least(a.external_id, b.external_id) || ' '
                    || greatest(a.external_id, b.external_id) || ' ' || p.users)::bigint), 0)
  from recsys.item_pairs p
  join recsys.items a on a.id = p.item_a
  join recsys.items b on b.id = p.item_b;

-- name: bench_yardstick_pairs_fingerprint
select count(*), coalesce(sum(users), 0),
       coalesce(sum(hashtext(least(item_a::text, item_b::text) || ' '
                    || greatest(item_a::text, item_b::text) || ' ' || users)::bigint), 0)
  from pairs;

-- name: bench_yardstick_table
-- The set-based yardstick of bulk import, in a database without the recsys schema.
create table r (user_id int, item_id int, rating real, ts bigint);

-- name: bench_yardstick_table_lined
-- `line` is the ordinality of the COPY (file order), for the windowed pairs.
create table r (line bigint generated always as identity,
                user_id int, item_id int, rating real, ts bigint);

-- name: bench_yardstick_copy
copy r (user_id, item_id, rating, ts) from stdin;

-- name: bench_yardstick_pairs
-- Unbounded: every pair of items rated by one user, counted per user, in one statement.
create table pairs as
select a.item_id as item_a, b.item_id as item_b, count(*) as users
  from r a join r b on a.user_id = b.user_id and a.item_id < b.item_id
 group by 1, 2;

-- name: bench_yardstick_pairs_windowed
-- An item pairs with the user's items at most `window` ranks earlier, as the trigger does.
create table pairs as
with ranked as (
    select user_id, item_id, row_number() over (partition by user_id order by line) as seq
      from r
)
select least(a.item_id, b.item_id) as item_a, greatest(a.item_id, b.item_id) as item_b,
       count(*) as users
  from ranked a join ranked b
    on a.user_id = b.user_id and a.seq < b.seq and b.seq - a.seq <= %(window)s
 group by 1, 2;

-- name: bench_yardstick_indexes
-- Informational: the primary key and the item_b index of recsys.item_pairs.
alter table pairs add primary key (item_a, item_b);
create index on pairs (item_b);

-- name: list_event_types
-- Every event type, with how many events use it (GET /admin/event-types).
select t.name, t.kind, t.weight::double precision as weight, t.uses_value, t.conversion,
       coalesce((select sum(c.events) from recsys.item_type_stats c where c.type_id = t.id), 0)
           ::bigint as events
  from recsys.event_types t
 order by t.id;

-- name: put_event_type
select created, rebuilt_users
  from recsys.put_event_type(%(name)s, %(kind)s, %(weight)s::real, %(uses_value)s,
                             %(conversion)s);

-- name: drop_event_type
select recsys.drop_event_type(%(name)s) as dropped;
-- ------------------------------------------------------------ experiments
-- app/experiments: definitions, assignment, reports (sql/10_experiments.sql).

-- name: insert_experiment
-- One experiment and its arms, in the order given (the first is the control).
with created as (
    insert into recsys.experiments (name, mode, description)
    values (%(name)s, %(mode)s, %(description)s)
    returning id
)
insert into recsys.experiment_arms (experiment_id, name, position, case_name, method, params, share)
select created.id, a.arm->>'name', a.position, a.arm->>'case', a.arm->>'method',
       coalesce(a.arm->'params', '{}'), (a.arm->>'share')::real
  from created, jsonb_array_elements(%(arms)s::jsonb) with ordinality as a(arm, position);

-- name: select_experiments
-- Every experiment (name null) or one, newest first, with its arms in position order.
select e.id, e.name, e.mode, e.description, e.status, e.created_at, e.started_at, e.stopped_at,
       jsonb_agg(jsonb_build_object('name', a.name, 'case', a.case_name, 'method', a.method,
                                    'params', a.params, 'share', a.share)
                 order by a.position) as arms
  from recsys.experiments e
  join recsys.experiment_arms a on a.experiment_id = e.id
 where %(name)s::text is null or e.name = %(name)s::text
 group by e.id
 order by e.created_at desc, e.id desc;

-- name: start_experiment
select name from recsys.start_experiment(%(name)s);

-- name: stop_experiment
select name from recsys.stop_experiment(%(name)s);

-- name: assign_experiment
-- The hot path of GET /recommend?experiment=: status, mode and every arm, with
-- the one the user is assigned to by hash flagged.
select mode, status, arm, case_name, method, params, assigned
  from recsys.arms_for(%(experiment)s, %(user_id)s);

-- name: experiment_arm_figures
-- Per arm: users, lists and impressions shown, and the impressions its users
-- clicked or converted (recsys.experiment_impressions: one row per item
-- shown, an impression counted once however many events it had).
with arms as (
    select a.name, a.position, a.case_name, a.method
      from recsys.experiments e
      join recsys.experiment_arms a on a.experiment_id = e.id
     where e.name = %(experiment)s
),
figures as (
    select m.arm,
           count(distinct m.user_id) as users,
           count(distinct m.recomm_id) as lists,
           count(*) as impressions,
           count(*) filter (where m.clicked) as clicks,
           count(*) filter (where m.converted) as conversions,
           count(distinct m.user_id) filter (where m.clicked) as users_clicked,
           count(distinct m.user_id) filter (where m.converted) as users_converted
      from recsys.experiment_impressions m
     where m.experiment = %(experiment)s
     group by m.arm
)
select a.name as arm, a.position, a.case_name, a.method,
       coalesce(f.users, 0) as users, coalesce(f.lists, 0) as lists,
       coalesce(f.impressions, 0) as impressions,
       coalesce(f.clicks, 0) as clicks, coalesce(f.conversions, 0) as conversions,
       coalesce(f.users_clicked, 0) as users_clicked,
       coalesce(f.users_converted, 0) as users_converted
  from arms a
  left join figures f on f.arm = a.name
 order by a.position;

-- name: experiment_wins
-- Interleaving, per arm: the users who clicked more of the items it placed
-- than of the other arm's, over all their interleaved lists (ties, 0-0
-- included, decide nothing: the sign test drops them).
with arms as (
    select a.name, a.position
      from recsys.experiments e
      join recsys.experiment_arms a on a.experiment_id = e.id
     where e.name = %(experiment)s
),
per_user as (
    select m.user_id, m.arm, count(*) as clicks,
           rank() over (partition by m.user_id order by count(*) desc) as place
      from recsys.experiment_impressions m
     where m.experiment = %(experiment)s and m.clicked
     group by m.user_id, m.arm
),
winners as (
    -- the arm ranked first, unless another arm ties it
    select w.user_id, w.arm
      from per_user w
     where w.place = 1
       and not exists (select 1 from per_user o
                        where o.user_id = w.user_id and o.arm <> w.arm and o.place = 1)
)
select a.name as arm, count(w.user_id) as wins
  from arms a
  left join winners w on w.arm = a.name
 group by a.name, a.position
 order by a.position;

-- name: bench_exposures
-- Lists logged so far (python -m benchmarks.exposure_cost).
select count(*) from recsys.exposures;

-- name: bench_set_event_weight
-- An event type's weight changed through recsys.put_event_type, its other fields kept.
select p.created, p.rebuilt_users
  from recsys.event_types t
 cross join lateral recsys.put_event_type(t.name, t.kind, %(weight)s::real, t.uses_value,
                                          t.conversion) p
 where t.name = %(name)s;

-- name: bench_feedback_state
-- What must not move when only an event type's weight changes (python -m
-- benchmarks.negative_feedback): the pairs, their users summed, the rejections.
select (select count(*) from recsys.item_pairs),
       (select coalesce(sum(users), 0) from recsys.item_pairs),
       (select count(*) from recsys.rejections);

-- name: put_scenario
-- Checked and compiled by recsys.put_scenario; `created` from the row's timestamps.
select s.name, s.description, s.case_name, s.method, s.rules, s.diversity, s.max_per_category,
       s.rotation, s.k, s.fallback, s.created_at, s.updated_at,
       s.created_at = s.updated_at as created
  from recsys.put_scenario(%(name)s, %(case_name)s, %(method)s, %(rules)s, %(diversity)s,
                           %(max_per_category)s, %(rotation)s, %(k)s, %(fallback)s::text[],
                           %(description)s) s;

-- name: list_scenarios
select name, description, case_name, method, rules, diversity, max_per_category, rotation, k,
       fallback, created_at, updated_at
  from recsys.scenarios
 order by name;

-- name: get_scenario
select name, description, case_name, method, rules, diversity, max_per_category, rotation, k,
       fallback, created_at, updated_at
  from recsys.scenarios
 where name = %(name)s;

-- name: drop_scenario
delete from recsys.scenarios where name = %(name)s returning name;

-- name: session_recommend
select product_id, score, reason
  from recsys.session_recommend(%(products)s::text[], %(event_types)s::text[], %(k)s,
                                %(exclude)s, %(category)s);

-- name: bought_together
select product_id, score, reason
  from recsys.bought_together(%(product_id)s, %(k)s, %(category)s, %(exclude)s);

-- name: then_bought
select product_id, score, reason
  from recsys.then_bought(%(product_id)s, %(after)s, %(k)s, %(category)s, %(exclude)s);

-- name: merge_users
select recsys.merge_users(%(target)s, %(anonymous)s) as moved;

-- name: similar_users
select user_id, score, shared from recsys.similar_users(%(user_id)s, %(k)s);

-- ---------------------------------------------------------------- operations

-- name: metrics_neighbor_lists
-- How far the neighbour lists lag: seconds since the last refresh (null: never)
-- and events stored since (max(id) is one index probe).
select extract(epoch from now() - s.refreshed_at)::double precision as lag_seconds,
       coalesce((select max(id) from recsys.events), 0) - s.through_event as events_behind
  from recsys.neighbor_lists_state s;

-- name: metrics_active_runs
-- The active model of each role and how long ago it was trained.
select id, kind, role,
       extract(epoch from now() - coalesce(trained_at, started_at))::double precision
           as age_seconds
  from recsys.model_runs
 where active
 order by role;

-- name: metrics_loop_by_case
-- recsys.loop_by_case's impressions, clicks and CTR over the lists served in the
-- last hour: the ledger's BRIN index on served_at keeps a scrape's cost to an
-- hour of lists, however long the ledger grows (all time: the view itself).
select case_name, coalesce(method, '') as method,
       count(*) as impressions,
       count(*) filter (where clicked) as clicks,
       round(count(*) filter (where clicked) / nullif(count(*), 0)::numeric, 4) as ctr
  from recsys.impressions
 where served_at > now() - interval '1 hour'
 group by case_name, method
 order by case_name, method;

-- ------------------------------------------------------- the admin dashboard
-- Each panel of /admin reads one of these; they read the views analysts use.

-- name: admin_events_per_minute
-- Events per minute and type over the last %(minutes)s minutes (events_ts_idx, BRIN).
select date_trunc('minute', e.ts) as minute, t.name as event_type, count(*) as events
  from recsys.events e
  join recsys.event_types t on t.id = e.type_id
 where e.ts > now() - make_interval(mins => %(minutes)s)
 group by 1, 2
 order by 1, 2;

-- name: admin_active_users
-- Distinct users with an event in the last 5 minutes, hour and day.
select count(distinct user_id) filter (where ts > now() - interval '5 minutes') as last_5_minutes,
       count(distinct user_id) filter (where ts > now() - interval '1 hour') as last_hour,
       count(distinct user_id) as last_day
  from recsys.events
 where ts > now() - interval '1 day';

-- name: admin_daily_activity
-- The latest %(days)s days of recsys.daily_activity, oldest first.
select * from (select * from recsys.daily_activity order by day desc limit %(days)s) d
 order by day;

-- name: admin_funnel
-- view -> cart -> purchase over the latest %(days)s days (recsys.daily_activity).
select coalesce(sum(views), 0)::bigint as views,
       coalesce(sum(add_to_carts), 0)::bigint as add_to_carts,
       coalesce(sum(purchases), 0)::bigint as purchases,
       round(sum(add_to_carts)::numeric / nullif(sum(views), 0), 4) as view_to_cart,
       round(sum(purchases)::numeric / nullif(sum(add_to_carts), 0), 4) as cart_to_purchase
  from recsys.daily_activity
 where day > current_date - %(days)s;

-- name: admin_top_items
-- The items most users chose, with their funnel (recsys.item_funnel).
select product_id, title, users, views, add_to_carts, purchases, negatives,
       view_to_cart, cart_to_purchase
  from recsys.item_funnel
 order by users desc, purchases desc, product_id
 limit %(limit)s;

-- name: admin_loop_by_case
select * from recsys.loop_by_case order by case_name, method nulls first;

-- name: admin_loop_by_position
select * from recsys.loop_by_position order by position;

-- name: admin_loop_by_day
select * from recsys.loop_by_day order by day;

-- name: admin_loop_by_arm
select * from recsys.loop_by_arm order by experiment, arm nulls first;

-- name: admin_loop_by_scenario
select * from recsys.loop_by_scenario order by scenario nulls first;

-- name: admin_tunables
-- The tunables the SQL reads (recsys.settings), intervals as text.
select pair_window, popularity_half_life::text, similarity, recent_items,
       neighbor_list_size, attribution_window::text, page_ttl::text, rotation_window::text
  from recsys.settings;

-- name: admin_counts
-- What the database holds.
-- The ledger grows without bound: its size is the statistics' live-row count
-- (kept at every commit, no ANALYZE needed), not a count(*) of every list.
select (select count(*) from recsys.items) as items,
       (select count(*) from recsys.users) as users,
       (select coalesce(max(id), 0) from recsys.events) as last_event_id,
       (select coalesce(n_live_tup, 0) from pg_stat_user_tables
         where relid = 'recsys.exposures'::regclass) as lists_estimate;

-- name: activity_last_id
-- Where a live activity stream starts: the newest event now.
select coalesce(max(id), 0) as last_id from recsys.events;

-- name: activity_since
-- Events stored after %(after)s, by type (the admin stream's tick). An event
-- committed late with a lower id than one already counted is missed: a chart's
-- rounding, never a count anyone sums (daily_activity has the exact ones).
select t.name as event_type, count(*) as events, max(e.id) as last_id
  from recsys.events e
  join recsys.event_types t on t.id = e.type_id
 where e.id > %(after)s
 group by t.name;

-- ------------------------------------------------------------------ the demo

-- name: demo_item_categories
-- Each item's first category: what a simulated visitor's taste is matched on.
select external_id as product_id, categories[1] as category from recsys.items;

-- name: demo_user_categories
-- Each user's events per category, most first: their two favourite categories.
select u.external_id as user_id, i.categories[1] as category, count(*) as events
  from recsys.events e
  join recsys.users u on u.id = e.user_id
  join recsys.items i on i.id = e.item_id
 group by 1, 2
 order by 1, 3 desc, 2;

-- name: bench_track_functions
-- This session times the PL/pgSQL functions it calls (a superuser setting).
set track_functions = 'pl';

-- name: bench_function_profile
-- Calls and ms in each recsys function within the current transaction.
select funcname, calls, self_time, total_time
  from pg_stat_xact_user_functions
 where schemaname = 'recsys'
 order by self_time desc;

-- name: bench_set_cross_weight
update recsys.settings set cross_weight = %(weight)s;

-- name: bench_then_bought_lists
-- Viewed, then bought, and plain co-occurrence, for one item, in rank order;
-- the user's own items left out.
select 'then_bought' as list, t.product_id, t.n
  from recsys.then_bought(%(product_id)s, 'view', %(k)s, null, %(exclude)s)
       with ordinality as t(product_id, score, reason, n)
union all
select 'similar', s.product_id, s.n
  from recsys.similar_items(%(product_id)s, %(k)s, null, null, %(exclude)s)
       with ordinality as s(product_id, score, reason, n)
 order by 1, 3;

-- name: bench_cross_counts
select (select count(*) from recsys.item_pairs), (select count(*) from recsys.cross_pairs);

-- name: wal_lsn
-- Read replicas: where the primary's WAL ends now, at or past every commit so far.
select pg_current_wal_lsn()::text as lsn;

-- name: replayed
-- Read replicas: has this standby replayed the primary's WAL up to %(lsn)s?
select coalesce(pg_last_wal_replay_lsn() >= %(lsn)s::pg_lsn, false) as replayed;

-- Tenants (app/db/tenants.py): a database per tenant on the default database's
-- server, named <default database>_t_<tenant>, marked by its comment. The
-- statements with {braces} are DDL: psycopg.sql fills in quoted identifiers
-- and literals (DDL takes no bind parameters).

-- name: tenant_databases
-- The tenants of the database %(base)s: their databases' names and comments.
select d.datname as database, shobj_description(d.oid, 'pg_database') as comment
  from pg_database d
 where starts_with(d.datname, %(base)s || '_t_')
   and shobj_description(d.oid, 'pg_database') = 'recsys tenant of ' || %(base)s
 order by 1;

-- name: tenant_create_database
create database {database} template template0;

-- name: tenant_mark_database
comment on database {database} is {comment};

-- name: tenant_create_role
-- The tenant's SQL role: psql under it reaches this tenant's database only.
create role {role} {login};

-- name: tenant_connect
-- Nobody but the tenant's role (and superusers, the service) may connect.
revoke connect, temporary on database {database} from public;
grant connect, temporary on database {database} to {role};

-- name: tenant_grants
-- Inside the tenant's database: everything in recsys, its tables and the
-- functions' own writes (the exposure ledger, say), now and after migrations.
grant usage on schema recsys to {role};
grant select, insert, update, delete on all tables in schema recsys to {role};
grant usage, select on all sequences in schema recsys to {role};
alter default privileges in schema recsys grant select, insert, update, delete on tables to {role};
alter default privileges in schema recsys grant usage, select on sequences to {role};

-- name: tenant_drop_database
drop database if exists {database} with (force);

-- name: tenant_drop_role
drop role if exists {role};
