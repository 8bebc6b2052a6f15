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
