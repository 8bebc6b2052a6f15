-- Revision 0010_plans, frozen: recsys.behavior_based plans once per session
-- (a generic plan: planning it per call cost more than running it), and
-- recsys.cross_similarities becomes PL/pgSQL with custom plans, so its
-- `items is null` folds per call and it is never inlined as a scan of every
-- pair. Lists unchanged. Never edited: a later change is a new revision.

-- Cross-occurrence similarity of each (source item, source type) with its
-- targets, from the users behind each side (item_type_stats.users), summed over
-- target types; `items` null: every source item.
create or replace function recsys.cross_similarities(items bigint[], measure text, n_users double precision)
returns table (source_item bigint, source_type smallint, target_item bigint,
               sim double precision)
language plpgsql stable
-- PL/pgSQL and custom plans: `items is null` folds away per call (an index
-- probe per item, or one scan), and never inlined into behavior_based's cached
-- generic plan, where it would stay a scan of every pair.
set plan_cache_mode = force_custom_plan
as $$
begin
    return query
    select c.source_item, c.source_type, c.target_item,
           sum(recsys.similarity(measure, c.users, sa.users, sb.users, n_users))
      from recsys.cross_pairs c
      join recsys.item_type_stats sa on sa.item_id = c.source_item and sa.type_id = c.source_type
      join recsys.item_type_stats sb on sb.item_id = c.target_item and sb.type_id = c.target_type
     where items is null or c.source_item = any(items)
     group by 1, 2, 3;
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
-- One generic plan per session: planning this query for each call cost more
-- than running it from the neighbour lists (custom plans: 2.6-3.9 ms a call on
-- the bench's shop, generic: 1.0 ms; docs/performance.md). Every input is an
-- index probe or a list of this user's, so one plan suits every user; the live
-- cross-occurrence scoring plans its own query per call (cross_similarities).
set plan_cache_mode = force_generic_plan
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
