-- Console sign-in throttling (api-lite console/session.rs) counts an e-mail's
-- recent failed sign-ins since its last successful one from the audit trail.
create index audit_log_sign_ins on audit_log (target, action, at desc)
    where action in ('login', 'login_failed');
