//! Every Redis key and job-hash field name the engine uses, in one place.
//!
//! All keys of one queue share the hash tag `{<prefix>:<queue>}` so that a
//! queue lives in one Redis Cluster slot and every Lua script touches one slot.
//! Scripts receive the queue's base (`{tarefa:emails}:`) and append suffixes;
//! they also declare `<base>~`, a key that never exists, so that a script
//! meets TRYAGAIN while its slot migrates (`scripts::on`):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `j:<id>` | HASH | the job (fields below) |
//! | `s` | ZSET | scheduled first runs and rate-limited jobs, score = due ms |
//! | `r` | ZSET | `retrying` jobs waiting for their next attempt, score = due ms |
//! | `ring:<prio>` | LIST | tenants with waiting jobs at that priority (round-robin) |
//! | `t:<prio>:<tenant>` | LIST | ready entries of one tenant, oldest first: the job id and what a claim needs, NUL-separated (`common.lua`) |
//! | `q` | LIST | waiting suspects (a worker vanished while holding them), each run alone |
//! | `l` | ZSET | leases, one per claim: member `<worker>\|<seq>`, score = deadline ms |
//! | `lb:<worker>\|<seq>` | STRING | that claim's jobs: ids, a newline, their attempts (space-separated) |
//! | `ok` | LIST | succeeded ids, newest first (trimmed by retention) |
//! | `dead`, `cx` | ZSET | dead / cancelled ids, score = finished ms |
//! | `cxr` | SET | running ids whose cancellation was asked |
//! | `cxq` | HASH | `<id>\|<created>` → entries of cancelled or deleted waiting jobs still in their list (the claim drops them) |
//! | `m` | HASH | queue meta: `paused`, `queued` and `running` counts, `rl:<key>` limits |
//! | `rl:<key>` | STRING | GCRA state of one rate-limit bucket |
//! | `i:<tenant>:<key>` | STRING | idempotency key → first job id (with TTL) |
//! | `w` | LIST | wake-up tokens: a push wakes an idle worker blocked on BLPOP |
//! | `wk` | ZSET | worker id → last heartbeat ms |
//! | `wseq`, `wa` | STRING, HASH | worker aliases: a counter, and alias → worker id |
//! | `st:<minute>` | HASH | per-minute outcome counts, `wait_sum`, `wait_n` (expire after 2 h; the console's last hour) |
//! | `cc:<key>` | HASH | holders of a concurrency key's slots: job id → `<worker alias>\|<since ms>` (`*`: the queue's) |
//! | `ch` | HASH | job id → the concurrency keys it holds (released when its delivery ends) |
//! | `cw:<key>`, `cwk` | LIST, SET | jobs parked until a slot of `key` frees (`<id>\|<created>`), and the keys with parked jobs |
//! | `b:<batch>` | HASH | a batch: tenant, state, total, pending, succeeded, dead, cancelled, callbacks |
//! | `bm:<batch>` | LIST | a batch's member ids |
//! | `bs` | ZSET | batch ids, score = created ms |
//! | `fx` | HASH | job id → 1 while a flow hook waits for its final state (batch member, parent) |
//! | `kids:<id>` | LIST | children waiting for job `id` to succeed (`after`) |

/// Job-hash field names (short: they are stored once per job). Fields at
/// their default are not stored, and every reader (Lua and Rust) defaults an
/// absent one, which also reads hashes written before that rule.
pub mod field {
    pub const KIND: &str = "k";
    pub const TENANT: &str = "t";
    pub const PAYLOAD: &str = "p";
    pub const STATUS: &str = "s";
    /// Absent = `normal` (push stores it only for `high` and `low`).
    pub const PRIORITY: &str = "pr";
    pub const ATTEMPTS: &str = "a";
    /// Absent = [`DEFAULT_MAX_ATTEMPTS`](super::super::job::DEFAULT_MAX_ATTEMPTS).
    pub const MAX_ATTEMPTS: &str = "ma";
    pub const CREATED: &str = "c";
    /// Due time of a scheduled, retried or snoozed job; absent = due at `c`.
    pub const RUN_AT: &str = "r";
    pub const STARTED: &str = "st";
    pub const FINISHED: &str = "f";
    pub const ERROR: &str = "e";
    pub const REASON: &str = "rs";
    pub const RESULT: &str = "res";
    pub const PROGRESS: &str = "pg";
    pub const PROGRESS_MSG: &str = "pm";
    /// The short alias (`wa` hash) of the worker that ran the job last.
    pub const WORKER: &str = "w";
    /// The seq of the claim that delivered it last (with `w`, names its lease
    /// `<worker>|<seq>`): lets the ack of a claim's last job find a job whose
    /// outcome a failover lost (ack.lua).
    pub const CLAIM: &str = "l";
    pub const CANCEL: &str = "cx";
    pub const IDEMPOTENCY_KEY: &str = "ik";
    pub const RATE_KEY: &str = "rk";
    /// Failed attempts, a JSON array of the last 20 `{attempt, at, reason, error}`.
    pub const ERROR_HISTORY: &str = "eh";
    /// Deliveries that ended with the worker gone (counted by the rescuer).
    pub const CRASHES: &str = "d";
    /// W3C `traceparent` of the request that enqueued the job (the job's span is its child).
    pub const TRACE: &str = "tp";
    /// Global concurrency key (`cl:<key>` limits in the queue meta).
    pub const CONCURRENCY_KEY: &str = "ck";
    /// The batch the job belongs to.
    pub const BATCH: &str = "bt";
    /// The parent job this one runs after (a chain).
    pub const AFTER: &str = "af";
    /// Present while the job waits for its parent.
    pub const AWAITING: &str = "aw";
}

/// Key names of one queue.
#[derive(Clone, Debug)]
pub struct QueueKeys {
    base: String,
}

impl QueueKeys {
    pub fn new(prefix: &str, queue: &str) -> QueueKeys {
        QueueKeys {
            base: format!("{{{prefix}:{queue}}}:"),
        }
    }

    /// The common prefix every script receives as `KEYS[1]`.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn job(&self, id: &str) -> String {
        format!("{}j:{id}", self.base)
    }
    pub fn scheduled(&self) -> String {
        format!("{}s", self.base)
    }
    pub fn retry(&self) -> String {
        format!("{}r", self.base)
    }
    pub fn ring(&self, prio: &str) -> String {
        format!("{}ring:{prio}", self.base)
    }
    pub fn tenant_list(&self, prio: &str, tenant: &str) -> String {
        format!("{}t:{prio}:{tenant}", self.base)
    }
    pub fn suspects(&self) -> String {
        format!("{}q", self.base)
    }
    pub fn leases(&self) -> String {
        format!("{}l", self.base)
    }
    /// The jobs of one claim's lease (`<worker>|<seq>`, a member of `l`).
    pub fn lease_jobs(&self, lease: &str) -> String {
        format!("{}lb:{lease}", self.base)
    }
    pub fn succeeded(&self) -> String {
        format!("{}ok", self.base)
    }
    pub fn dead(&self) -> String {
        format!("{}dead", self.base)
    }
    pub fn cancelled(&self) -> String {
        format!("{}cx", self.base)
    }
    pub fn cancel_requests(&self) -> String {
        format!("{}cxr", self.base)
    }
    pub fn meta(&self) -> String {
        format!("{}m", self.base)
    }
    /// Pub/sub channel: a job id each time a cancel of a claimed or running job is asked.
    pub fn cancel_channel(&self) -> String {
        format!("{}cxp", self.base)
    }

    pub fn wake(&self) -> String {
        format!("{}w", self.base)
    }
    pub fn worker_aliases(&self) -> String {
        format!("{}wa", self.base)
    }
    pub fn worker_seq(&self) -> String {
        format!("{}wseq", self.base)
    }
    pub fn workers(&self) -> String {
        format!("{}wk", self.base)
    }
    /// Holders of the concurrency slots of `key` (`*`: the whole queue).
    pub fn slot_holders(&self, key: &str) -> String {
        format!("{}cc:{key}", self.base)
    }
    /// Jobs parked until a slot of `key` frees.
    pub fn parked(&self, key: &str) -> String {
        format!("{}cw:{key}", self.base)
    }
    pub fn batch(&self, id: &str) -> String {
        format!("{}b:{id}", self.base)
    }
    pub fn batch_members(&self, id: &str) -> String {
        format!("{}bm:{id}", self.base)
    }
    pub fn batches(&self) -> String {
        format!("{}bs", self.base)
    }
    pub fn stats(&self, minute: i64) -> String {
        format!("{}st:{minute}", self.base)
    }
}

/// Key names of one tenant's intake limits (`limits.rs`). Every key shares the
/// hash tag `{<prefix>:lim:<tenant>}` so one script checks a key's and its
/// tenant's buckets in one slot:
///
/// | key | type | holds |
/// |---|---|---|
/// | `r:<bucket>` | STRING | GCRA theoretical arrival time (ms) of one rate bucket (`t` the tenant, `k:<key id>` an API key) |
/// | `up:<yyyymmdd>` | STRING | bytes uploaded that UTC day (expires after 2 days) |
#[derive(Clone, Debug)]
pub struct LimitKeys {
    base: String,
}

impl LimitKeys {
    pub fn new(prefix: &str, tenant: &str) -> LimitKeys {
        LimitKeys {
            base: format!("{{{prefix}:lim:{tenant}}}:"),
        }
    }

    /// The common prefix the limit scripts receive as `KEYS[1]`.
    pub fn base(&self) -> &str {
        &self.base
    }
    /// Suffix (after `base`) of a rate bucket.
    pub fn rate_suffix(bucket: &str) -> String {
        format!("r:{bucket}")
    }
    /// Suffix (after `base`) of one UTC day's upload counter.
    pub fn upload_suffix(day: &str) -> String {
        format!("up:{day}")
    }
}

/// STRING: a counter bumped whenever an API key is revoked or changed;
/// api-lite replicas poll it and drop their key caches when it moves.
pub fn auth_epoch(prefix: &str) -> String {
    format!("{prefix}:auth:epoch")
}

/// Ids and tenants end up inside key names and lease members: keep them plain.
pub fn valid_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Concurrency keys are tokens that may also hold `:` (`ocr:<tenant>`).
pub fn valid_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_a_queue_shares_its_hash_tag() {
        let k = QueueKeys::new("tarefa", "emails");
        for key in [
            k.job("x"),
            k.scheduled(),
            k.ring("high"),
            k.tenant_list("low", "t1"),
            k.leases(),
            k.suspects(),
            k.meta(),
        ] {
            assert!(key.starts_with("{tarefa:emails}:"), "{key}");
        }
    }

    #[test]
    fn a_tenants_limit_keys_share_its_hash_tag() {
        let k = LimitKeys::new("tarefa", "t1");
        assert_eq!(k.base(), "{tarefa:lim:t1}:");
        assert_eq!(LimitKeys::rate_suffix("k:abc"), "r:k:abc");
    }

    #[test]
    fn tokens_reject_separators() {
        assert!(valid_token("01JABCDEF-xyz_1.2"));
        assert!(!valid_token("a|b"));
        assert!(!valid_token("a:b"));
        assert!(!valid_token(""));
        assert!(!valid_token(&"x".repeat(129)));
    }
}
