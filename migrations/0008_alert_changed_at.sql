-- An alert's `last_seen_at` was rewritten for every holding alert at every
-- evaluation (390,000 rows a day for a 100,000-student school). It now moves
-- only when what the rule saw (`details`) changes, so it is renamed to say so.
alter table alerts rename column last_seen_at to changed_at;
