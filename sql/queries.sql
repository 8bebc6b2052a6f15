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
       i.available, i.created_at, i.updated_at,
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
                    %(recomm_id)s::uuid) s;

-- name: rotated
select product_id, score, reason
  from recsys.rotated(%(user_id)s, %(k)s, %(case)s, %(exclude)s, %(category)s, %(method)s,
                      %(product_id)s, %(attributes)s, %(rotation)s);

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
-- Co-occurrence, falling back to content and popular items (sql/11_models.sql).
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
-- The half-life the hybrid's validation chose (sql/11_models.sql).
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
