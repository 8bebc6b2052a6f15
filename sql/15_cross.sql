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
