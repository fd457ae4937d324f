-- Academic records of a school tenant (institution): students, guardians,
-- staff, classes, enrollments, subjects, grades, attendance, occurrences.
-- Written by bulk ingestion (/v1/academic/*) and by `documents.extract`;
-- read by the academic alert rules (`alerts.evaluate`).
-- Every natural key below is what an idempotent upsert conflicts on.
-- Never edit this file once merged; add a new numbered migration instead.

-- Subjects by canonical code: a lower-case ASCII slug of the canonical name
-- ('matematica', 'lingua-portuguesa', 'educacao-fisica'); `name` is the
-- display name with accents ('Matemática').
create table academic_subjects (
    tenant_id uuid not null references tenants (id) on delete cascade,
    code text not null check (code ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name text not null check (length(name) between 1 and 200),
    primary key (tenant_id, code)
);

create table students (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    -- Matrícula: the school's own id for the student, unique per tenant.
    registration text not null check (length(registration) between 1 and 64),
    name text not null check (length(name) between 1 and 200),
    birth_date date,
    -- false once the student left the institution (transferred, graduated).
    active boolean not null default true,
    left_on date,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, registration)
);

-- Who is told about a student: name, contacts, preferred channels in order.
-- A guardian without any contact is kept (and reported as unreachable).
create table guardians (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    student_id uuid not null references students (id) on delete cascade,
    name text not null check (length(name) between 1 and 200),
    relationship text not null default '',
    email text,
    -- E.164 (+5511999990000)
    phone text,
    push_token text,
    -- subset of email|sms|whatsapp|push, in order of preference; empty = tenant default
    preferred_channels text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, student_id, name)
);
create index guardians_student on guardians (student_id);

-- Teachers and coordinators: recipients of staff-audience alerts.
create table staff (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    -- The school's own id for the person (e-mail or registration), unique per tenant.
    code text not null check (length(code) between 1 and 64),
    name text not null check (length(name) between 1 and 200),
    role text not null check (role in ('teacher', 'coordinator', 'other')),
    email text,
    phone text,
    preferred_channels text[] not null default '{}',
    unique (tenant_id, code)
);

create table classes (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    -- The school's own code for the class ('9A-2026'), unique per tenant.
    code text not null check (length(code) between 1 and 64),
    name text not null check (length(name) between 1 and 200),
    year int not null check (year between 1900 and 2200),
    teacher_id uuid references staff (id) on delete set null,
    coordinator_id uuid references staff (id) on delete set null,
    unique (tenant_id, code)
);

-- A student in a class over a period; a transfer closes one enrollment
-- (`ended_on`) and opens another.
create table enrollments (
    tenant_id uuid not null references tenants (id) on delete cascade,
    student_id uuid not null references students (id) on delete cascade,
    class_id uuid not null references classes (id) on delete cascade,
    started_on date,
    ended_on date,
    primary key (student_id, class_id)
);
create index enrollments_class on enrollments (class_id);

-- One grade of one student in one subject: a term's grade (assessment = '')
-- or one assessment inside the term ('P1', 'Trabalho'); term 1..4 for
-- bimestres/trimestres, term 0 for the final (yearly) grade.
create table grades (
    tenant_id uuid not null references tenants (id) on delete cascade,
    student_id uuid not null references students (id) on delete cascade,
    subject_code text not null,
    year int not null check (year between 1900 and 2200),
    term smallint not null check (term between 0 and 6),
    assessment text not null default '',
    grade numeric(6, 2) not null check (grade >= 0),
    -- The scale the grade is on (10 by default; 100 for some schools).
    scale_max numeric(6, 2) not null default 10 check (scale_max > 0),
    assessed_on date,
    -- 'api', 'csv' or 'document:<document id>'
    source text not null default 'api',
    updated_at timestamptz not null default now(),
    primary key (tenant_id, student_id, subject_code, year, term, assessment),
    foreign key (tenant_id, subject_code) references academic_subjects (tenant_id, code)
);
create index grades_student on grades (student_id, subject_code, year, term);

-- Attendance per day (subject_code '' = the whole school day).
create table attendance_days (
    tenant_id uuid not null references tenants (id) on delete cascade,
    student_id uuid not null references students (id) on delete cascade,
    day date not null,
    subject_code text not null default '',
    present boolean not null,
    -- Excused absences do not count against frequency.
    justified boolean not null default false,
    source text not null default 'api',
    updated_at timestamptz not null default now(),
    primary key (tenant_id, student_id, day, subject_code)
);
create index attendance_days_student_day on attendance_days (student_id, day desc);

-- Attendance summarised per period, as report cards and transcripts give it:
-- classes given and absences, and/or the frequency itself. term 0 = the year.
create table attendance_periods (
    tenant_id uuid not null references tenants (id) on delete cascade,
    student_id uuid not null references students (id) on delete cascade,
    -- '' = all subjects together
    subject_code text not null default '',
    year int not null check (year between 1900 and 2200),
    term smallint not null check (term between 0 and 6),
    classes_given int check (classes_given >= 0),
    absences int check (absences >= 0),
    -- 0..100; when null it is 100 * (classes_given - absences) / classes_given
    attendance_pct numeric(5, 2) check (attendance_pct between 0 and 100),
    source text not null default 'api',
    updated_at timestamptz not null default now(),
    primary key (tenant_id, student_id, subject_code, year, term)
);

-- Disciplinary or pedagogical occurrences; severity 1 (low) .. 5 (critical).
create table occurrences (
    id uuid primary key,
    tenant_id uuid not null references tenants (id) on delete cascade,
    student_id uuid not null references students (id) on delete cascade,
    -- The school's own id for the occurrence: the idempotency key of ingestion.
    external_id text not null check (length(external_id) between 1 and 128),
    kind text not null check (length(kind) between 1 and 64),
    severity smallint not null check (severity between 1 and 5),
    description text not null default '',
    occurred_on date not null,
    source text not null default 'api',
    created_at timestamptz not null default now(),
    unique (tenant_id, external_id)
);
create index occurrences_student on occurrences (student_id, occurred_on desc);
