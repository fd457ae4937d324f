-- One code per subject, whether it came from a document or from ingestion.
-- Until now the documents extractor slugged a subject's name its own way: it
-- turned the ordinal marks º ª ° into `o` ('1º ano' → '1o-ano'), where
-- ingestion and alert rules read them as spaces ('1-ano'), and it did not
-- cut at 63 chars. Both now use one rule, `ptbr::slug` (ingestion's, which
-- most stored codes already follow). This moves each subject a document
-- filed under the old code, with its grades, attendance and alerts, to the
-- code the shared rule gives its name, merging with the subject already there.
--
-- Which subjects: those whose code is the old documents slug of their own
-- name and not the shared slug of it. A document wrote `name` and `code`
-- from one reading, so that pair marks its subjects; ingestion wrote the
-- shared slug of the name. The 63-char cut split nothing stored (a longer
-- code failed 0005's check, so the document's subject was skipped); the
-- shared slug below still cuts, to be the rule the code now follows.
--
-- Where two rows meet on one natural key (same student and year/term or
-- day), the most recently updated stays; on a tie the one already on the
-- target code, then the one from the smallest old code. A subject alert
-- moves to the new code unless the student already has that rule's alert
-- there (the old one then resolves at the next evaluation, history kept).
-- Alert rules name subjects and are slugged when evaluated: a rule that
-- names one by name finds the new code; `documents.result` keeps what the
-- extraction said.
--
-- Idempotent: afterwards no subject matches, so running it again (or
-- running it where nothing was split) changes nothing.
-- Never edit this file once merged; add a new numbered migration instead.

create temporary table subject_code_merge on commit drop as
with folded as (
    -- Lower case without the accents of Portuguese, as `ptbr::fold` does
    -- (upper case first, so it does not depend on the database's ctype).
    select tenant_id, code, name,
           translate(lower(translate(name, 'ÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ', 'AAAAAEEEEIIIIOOOOOUUUUCN')),
                     'áàâãäéèêëíìîïóòôõöúùûüçñ', 'aaaaaeeeeiiiiooooouuuucn') as f
    from academic_subjects
), slugs as (
    select tenant_id, code, name,
           -- The old documents rule: ordinal marks are `o`, no cut.
           btrim(regexp_replace(translate(f, 'º°ª', 'ooo'), '[^a-z0-9]+', '-', 'g'), '-') as old_code,
           -- The shared rule: ordinal marks are spaces, cut at 63.
           rtrim(left(btrim(regexp_replace(f, '[^a-z0-9]+', '-', 'g'), '-'), 63), '-') as new_code
    from folded
)
select tenant_id, code as old_code, new_code, name
from slugs
where code = old_code and code <> new_code and new_code <> '';

-- A subject that is both moved and a target ('Artes 1º' in `artes-1o`, and
-- a subject named 'Artes 1oº' to be moved into `artes-1o`) would need two
-- passes; no real names do that, so such knots are left as they are.
delete from subject_code_merge m
where exists (select 1 from subject_code_merge o
              where o.tenant_id = m.tenant_id and (o.old_code = m.new_code or o.new_code = m.old_code));

-- Each target with its sources: (tenant, code) → the code it ends up with.
create temporary table subject_code_group on commit drop as
select tenant_id, old_code as code, new_code from subject_code_merge
union
select tenant_id, new_code, new_code from subject_code_merge;

-- The target subjects, named as the document named them when new.
insert into academic_subjects (tenant_id, code, name)
select distinct on (tenant_id, new_code) tenant_id, new_code, name
from subject_code_merge
order by tenant_id, new_code, old_code
on conflict (tenant_id, code) do nothing;

-- Grades: keep one row per natural key of the merged subject, then move.
delete from grades g
using (
    select g.tenant_id, g.student_id, g.subject_code, g.year, g.term, g.assessment,
           row_number() over (
               partition by g.tenant_id, g.student_id, m.new_code, g.year, g.term, g.assessment
               order by g.updated_at desc, (g.subject_code = m.new_code) desc, g.subject_code
           ) as rank
    from grades g
    join subject_code_group m on m.tenant_id = g.tenant_id and m.code = g.subject_code
) r
where r.rank > 1
  and (g.tenant_id, g.student_id, g.subject_code, g.year, g.term, g.assessment)
    = (r.tenant_id, r.student_id, r.subject_code, r.year, r.term, r.assessment);

update grades g set subject_code = m.new_code
from subject_code_merge m
where g.tenant_id = m.tenant_id and g.subject_code = m.old_code;

-- Attendance per period (no foreign key, same natural key idea).
delete from attendance_periods p
using (
    select p.tenant_id, p.student_id, p.subject_code, p.year, p.term,
           row_number() over (
               partition by p.tenant_id, p.student_id, m.new_code, p.year, p.term
               order by p.updated_at desc, (p.subject_code = m.new_code) desc, p.subject_code
           ) as rank
    from attendance_periods p
    join subject_code_group m on m.tenant_id = p.tenant_id and m.code = p.subject_code
) r
where r.rank > 1
  and (p.tenant_id, p.student_id, p.subject_code, p.year, p.term)
    = (r.tenant_id, r.student_id, r.subject_code, r.year, r.term);

update attendance_periods p set subject_code = m.new_code
from subject_code_merge m
where p.tenant_id = m.tenant_id and p.subject_code = m.old_code;

-- Attendance per day.
delete from attendance_days d
using (
    select d.tenant_id, d.student_id, d.day, d.subject_code,
           row_number() over (
               partition by d.tenant_id, d.student_id, d.day, m.new_code
               order by d.updated_at desc, (d.subject_code = m.new_code) desc, d.subject_code
           ) as rank
    from attendance_days d
    join subject_code_group m on m.tenant_id = d.tenant_id and m.code = d.subject_code
) r
where r.rank > 1
  and (d.tenant_id, d.student_id, d.day, d.subject_code)
    = (r.tenant_id, r.student_id, r.day, r.subject_code);

update attendance_days d set subject_code = m.new_code
from subject_code_merge m
where d.tenant_id = m.tenant_id and d.subject_code = m.old_code;

-- Subject alerts: one per (rule, student) may take the new code, so the
-- next evaluation finds it instead of opening (and sending) a new one.
update alerts a set scope = pick.new_code
from (
    select distinct on (a.tenant_id, a.rule_id, a.student_id, m.new_code) a.id, m.new_code
    from alerts a
    join subject_code_merge m on m.tenant_id = a.tenant_id and m.old_code = a.scope
    where not exists (select 1 from alerts t
                      where t.tenant_id = a.tenant_id and t.rule_id = a.rule_id
                        and t.student_id = a.student_id and t.scope = m.new_code)
    order by a.tenant_id, a.rule_id, a.student_id, m.new_code, a.changed_at desc, a.id
) pick
where a.id = pick.id;

-- The old subjects, now without grades.
delete from academic_subjects s
using subject_code_merge m
where s.tenant_id = m.tenant_id and s.code = m.old_code;
