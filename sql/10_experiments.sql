-- recsys schema: online experiments. An experiment compares arms (a strategy,
-- a method, request parameters), either A/B (each user sees one arm, chosen by
-- a hash) or by team-draft interleaving (each list mixes two arms). What was
-- shown and clicked lives in recsys.exposures and recsys.attributions
-- (09_loop.sql); app/experiments/ turns them into reports (docs/experiments.md).

-- --------------------------------------------------------------------- tables

create table recsys.experiments (
    id integer generated always as identity primary key,
    -- Id-safe: a URL path segment and a query parameter as it is, and never
    -- holds '/', the separator of the assignment hash (recsys.arm_point).
    name text not null unique check (name ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
    mode text not null check (mode in ('ab', 'interleave')),
    description text not null default '',
    -- draft -> running -> stopped; a stopped experiment never runs again, so a
    -- report always covers one period (recsys.start_experiment).
    status text not null default 'draft' check (status in ('draft', 'running', 'stopped')),
    created_at timestamptz not null default now(),
    started_at timestamptz,
    stopped_at timestamptz
);

create table recsys.experiment_arms (
    experiment_id integer not null references recsys.experiments (id) on delete cascade,
    name text not null check (name ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
    -- 1 is the control: uplifts are measured against it, and interleaving
    -- lists name it first.
    position smallint not null check (position >= 1),
    case_name text not null,  -- app.recommenders.NAMES, checked by app/experiments/store.py
    method text,              -- the hybrid's method; null for the other strategies
    params jsonb not null default '{}',
    -- Relative: an arm's slice of the users is share / the experiment's total.
    share real not null default 1 check (share > 0),
    primary key (experiment_id, name),
    unique (experiment_id, position)
);

-- Reports read an experiment's lists (queries.sql: experiment_arm_figures):
-- an index read, not a scan of every list ever served.
create index exposures_experiment_idx on recsys.exposures (experiment) where experiment is not null;

-- One row per item an experiment's list showed, credited to an arm (A/B: the
-- list's; interleaving: the one that placed the item), and what the list's
-- own user did with it there: clicked (a positive event carrying the list's
-- recomm_id), converted (a conversion event). Events by anyone else are not
-- outcomes of the user the hash assigned. The reports count these rows
-- (queries.sql: experiment_arm_figures, experiment_wins).
create view recsys.experiment_impressions as
select m.experiment, coalesce(m.arm, m.placed_by) as arm, m.user_id, m.recomm_id, m.position,
       m.item_id, m.served_at,
       coalesce(o.clicked, false) as clicked, coalesce(o.converted, false) as converted
  from recsys.exposure_items m
  left join lateral (
        select bool_or(t.kind = 'positive') as clicked, bool_or(t.conversion) as converted
          from recsys.events e
          join recsys.event_types t on t.id = e.type_id
          join recsys.users u on u.id = e.user_id
         where e.recomm_id = m.recomm_id and e.item_id = m.item_id
           and u.external_id = m.user_id) o on true
 where m.experiment is not null;

-- ------------------------------------------------------------------ assignment

-- Where for_user falls in [0, 1) for this experiment: the first 52 bits of
-- md5(experiment || '/' || user) over 2^52. md5 is the same on every PostgreSQL
-- version and instance (of the same server encoding), 52 bits fit a double
-- exactly, and the experiment's name in the hash makes assignments of two
-- experiments independent. app/experiments tests re-compute it in Python.
create function recsys.arm_point(experiment text, for_user text)
returns double precision
language sql immutable strict parallel safe as $$
    select ('x' || substr(md5(experiment || '/' || for_user), 1, 13))::bit(52)::bigint
           / 4503599627370496.0::double precision
$$;

-- Every arm of the experiment in position order, and whether for_user is
-- assigned to it: arms cover [0, 1) in position order, each as wide as its
-- share of the total. No rows for an unknown experiment. The service asks this
-- on every experiment request (queries.sql: assign_experiment).
create function recsys.arms_for(experiment text, for_user text)
returns table (
    mode text, status text, arm text, arm_position smallint, case_name text, method text,
    params jsonb, assigned boolean
)
language sql stable as $$
    with slices as (
        select e.mode, e.status, a.name, a.position, a.case_name, a.method, a.params,
               sum(a.share::double precision) over (order by a.position)
               / sum(a.share::double precision) over () as upper
          from recsys.experiments e
          join recsys.experiment_arms a on a.experiment_id = e.id
         where e.name = arms_for.experiment
    ),
    chosen as (
        -- The last arm's upper bound is exactly 1 (x / x), and every point is below 1.
        select min(s.position) as position
          from slices s
         where recsys.arm_point(arms_for.experiment, arms_for.for_user) < s.upper
    )
    select s.mode, s.status, s.name, s.position, s.case_name, s.method, s.params,
           s.position = c.position
      from slices s cross join chosen c
     order by s.position
$$;

-- The arm of an A/B experiment that for_user sees, for any status (analysts
-- ask it about past experiments too): `select recsys.assign_arm('exp', '42')`.
create function recsys.assign_arm(experiment text, for_user text)
returns text
language plpgsql stable as $$
declare
    chosen text;
begin
    if for_user is null then
        raise exception 'a user_id is needed to assign an arm of experiment "%"', experiment
            using errcode = 'invalid_parameter_value', column = 'user_id';
    end if;
    select f.arm into chosen from recsys.arms_for(experiment, for_user) f where f.assigned;
    if chosen is null then
        raise exception 'unknown experiment "%"', experiment
            using errcode = 'no_data_found', column = 'experiment';
    end if;
    return chosen;
end;
$$;

-- ------------------------------------------------------------------- lifecycle

-- Start a draft (starting a running one changes nothing); its arms are checked
-- once more here, the last gate before users see them.
create function recsys.start_experiment(experiment text)
returns setof recsys.experiments
language plpgsql as $$
declare
    target recsys.experiments;
    arms integer;
begin
    select * into target from recsys.experiments e where e.name = experiment for update;
    if not found then
        raise exception 'unknown experiment "%"', experiment
            using errcode = 'no_data_found', column = 'experiment';
    elsif target.status = 'stopped' then
        raise exception 'experiment "%" is stopped and cannot run again', experiment
            using errcode = 'object_not_in_prerequisite_state', column = 'experiment',
                  hint = 'create a new experiment';
    end if;
    select count(*) into arms from recsys.experiment_arms a where a.experiment_id = target.id;
    if arms < 2 or (target.mode = 'interleave' and arms <> 2) then
        raise exception 'experiment "%" has % arms; % needs %', experiment, arms, target.mode,
                        case target.mode when 'interleave' then 'exactly 2' else 'at least 2' end
            using errcode = 'invalid_parameter_value', column = 'arms';
    end if;
    return query
        update recsys.experiments e
           set status = 'running', started_at = coalesce(e.started_at, now())
         where e.id = target.id
        returning e.*;
end;
$$;

-- Stop a running experiment (stopping a stopped one changes nothing).
create function recsys.stop_experiment(experiment text)
returns setof recsys.experiments
language plpgsql as $$
declare
    target recsys.experiments;
begin
    select * into target from recsys.experiments e where e.name = experiment for update;
    if not found then
        raise exception 'unknown experiment "%"', experiment
            using errcode = 'no_data_found', column = 'experiment';
    elsif target.status = 'draft' then
        raise exception 'experiment "%" has not started', experiment
            using errcode = 'object_not_in_prerequisite_state', column = 'experiment',
                  hint = 'start it first, or leave the draft unused';
    end if;
    return query
        update recsys.experiments e
           set status = 'stopped', stopped_at = coalesce(e.stopped_at, now())
         where e.id = target.id
        returning e.*;
end;
$$;
