-- Row-level security (issue 21 item 1): PostgreSQL itself keeps tenants apart.
-- Never edit this file once merged; add a new numbered migration instead.
--
-- Every query of api-lite's tenant routes and of the worker's tenant jobs runs
-- under `set role tarefa_app` with `tarefa.tenant` set to the tenant's id
-- (jobs/src/store/scope.rs sets both each time a connection leaves the pool).
-- `tarefa_app` owns nothing and cannot bypass row-level security, so a query
-- that forgets its `where tenant_id = $1` sees and touches only the tenant's
-- own rows, and a query run with no tenant set sees none at all.
-- The login role of `database.url` (the tables' owner) is the system role:
-- migrations, the CLI, the scheduler, the console, webhook intake and API key
-- lookup act across tenants with it, each said so in code (`scope::as_system`).
--
-- A new table must enable row-level security and, if tenants reach it, carry
-- a policy: `api-lite/tests/row_level_security.rs` fails otherwise.

do $$
begin
    create role tarefa_app nologin nobypassrls;
exception
    -- Roles are per cluster: another database's migration may have made it, even concurrently.
    when duplicate_object or unique_violation then null;
end
$$;

-- The login role must be allowed to `set role tarefa_app`.
do $$
begin
    execute format('grant tarefa_app to %I', current_user);
exception
    when duplicate_object or invalid_grant_operation then null;
end
$$;

grant usage on schema public to tarefa_app;
grant select, insert, update, delete on all tables in schema public to tarefa_app;
grant usage, select on all sequences in schema public to tarefa_app;
alter default privileges in schema public grant select, insert, update, delete on tables to tarefa_app;
alter default privileges in schema public grant usage, select on sequences to tarefa_app;
-- The migrations' own bookkeeping is not the application's business.
do $$
begin
    revoke all on _sqlx_migrations from tarefa_app;
exception
    when undefined_table then null;
end
$$;

-- The tenant the current transaction acts for, or null (no tenant: no rows).
-- A plain SQL function so the planner inlines it and index scans still apply.
create function tarefa_tenant() returns uuid
    language sql stable parallel safe
    as $$ select nullif(current_setting('tarefa.tenant', true), '')::uuid $$;

-- Every table with a tenant_id column: its rows belong to that tenant.
do $$
declare
    t text;
begin
    for t in
        select c.table_name
        from information_schema.columns c
        join information_schema.tables k
          on k.table_schema = c.table_schema and k.table_name = c.table_name
        where c.table_schema = 'public' and c.column_name = 'tenant_id'
          and k.table_type = 'BASE TABLE'
    loop
        execute format('alter table %I enable row level security', t);
        execute format(
            'create policy tenant_rows on %I using (tenant_id = tarefa_tenant()) '
            'with check (tenant_id = tarefa_tenant())', t);
    end loop;
end
$$;

-- The tenant itself.
alter table tenants enable row level security;
create policy tenant_rows on tenants using (id = tarefa_tenant()) with check (id = tarefa_tenant());

-- Tables that hang off a tenant's row: visible when their parent is (the
-- parent's own policy applies inside the subquery).
alter table campaign_events enable row level security;
create policy tenant_rows on campaign_events
    using (exists (select 1 from campaigns p where p.id = campaign_id))
    with check (exists (select 1 from campaigns p where p.id = campaign_id));

alter table payment_attempts enable row level security;
create policy tenant_rows on payment_attempts
    using (exists (select 1 from payments p where p.id = payment_id))
    with check (exists (select 1 from payments p where p.id = payment_id));

-- A Stripe event not (yet) matched to a payment is the system's alone.
alter table payment_events enable row level security;
create policy tenant_rows on payment_events
    using (payment_id is not null and exists (select 1 from payments p where p.id = payment_id))
    with check (payment_id is not null and exists (select 1 from payments p where p.id = payment_id));

alter table forecast_series enable row level security;
create policy tenant_rows on forecast_series
    using (exists (select 1 from forecast_datasets p where p.id = dataset_id))
    with check (exists (select 1 from forecast_datasets p where p.id = dataset_id));

alter table forecast_actuals enable row level security;
create policy tenant_rows on forecast_actuals
    using (exists (select 1 from forecast_datasets p where p.id = dataset_id))
    with check (exists (select 1 from forecast_datasets p where p.id = dataset_id));

alter table forecast_model_series enable row level security;
create policy tenant_rows on forecast_model_series
    using (exists (select 1 from forecast_models p where p.id = model_id))
    with check (exists (select 1 from forecast_models p where p.id = model_id));

alter table forecast_prediction_rows enable row level security;
create policy tenant_rows on forecast_prediction_rows
    using (exists (select 1 from forecast_predictions p where p.id = prediction_id))
    with check (exists (select 1 from forecast_predictions p where p.id = prediction_id));

-- System only (no policy: tarefa_app sees no row): WhatsApp statuses that
-- arrived before their send was recorded (keyed by Meta's message id, no
-- tenant yet), and the console's operators and their sessions.
alter table campaign_status_early enable row level security;
alter table ops_users enable row level security;
alter table ops_sessions enable row level security;
