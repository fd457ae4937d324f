//! Ops control: cancel, retry, delete a job; pause/resume a queue; shared rate
//! limits; progress. Each job action is one atomic Lua call (`control.lua`).

use std::time::Duration;

use redis::AsyncCommands;

use super::job::CancelOutcome;
use super::keys::valid_token;
use super::{scripts, Engine, EngineError};

impl Engine {
    async fn control(&self, action: &str, queue: &str, id: &str) -> Result<String, EngineError> {
        if !valid_token(id) {
            return Ok("not_found".into());
        }
        let mut conn = self.conn.clone();
        Ok(scripts::on(&scripts::CONTROL, self.keys(queue).base())
            .arg(action)
            .arg(id)
            .invoke_async(&mut conn)
            .await?)
    }

    /// Cancel: a job that has not started becomes `cancelled`; a running one gets its token fired.
    pub async fn cancel(&self, queue: &str, id: &str) -> Result<CancelOutcome, EngineError> {
        Ok(match self.control("cancel", queue, id).await?.as_str() {
            "cancelled" => CancelOutcome::Cancelled,
            "cancel_requested" => CancelOutcome::CancelRequested,
            "already_final" => CancelOutcome::AlreadyFinal,
            _ => CancelOutcome::NotFound,
        })
    }

    /// Dead (or cancelled) → queued again with a fresh attempt budget. `false` if it was not dead/cancelled.
    pub async fn retry(&self, queue: &str, id: &str) -> Result<bool, EngineError> {
        Ok(self.control("retry", queue, id).await? == "queued")
    }

    /// Removes a job that is not running. `false` if missing or running.
    pub async fn delete(&self, queue: &str, id: &str) -> Result<bool, EngineError> {
        Ok(self.control("delete", queue, id).await? == "deleted")
    }

    /// Pause/resume fetching for every worker of `queue` (pushes are still
    /// accepted). Idle workers look again within a second; resuming wakes them.
    pub async fn set_paused(&self, queue: &str, paused: bool) -> Result<(), EngineError> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        if paused {
            let _: () = conn.hset(keys.meta(), "paused", "1").await?;
        } else {
            let _: () = redis::pipe()
                .hdel(keys.meta(), "paused")
                .ignore()
                .rpush(keys.wake(), &["1"; 8])
                .ignore()
                .ltrim(keys.wake(), 0, 63)
                .ignore()
                .query_async(&mut conn)
                .await?;
        }
        Ok(())
    }

    /// Whether `queue` is paused.
    pub async fn is_paused(&self, queue: &str) -> Result<bool, EngineError> {
        let mut conn = self.conn.clone();
        let v: Option<String> = conn.hget(self.keys(queue).meta(), "paused").await?;
        Ok(v.as_deref() == Some("1"))
    }

    /// A shared rate limit, enforced by every worker of `queue` (GCRA in the
    /// claim script): `key` is `*` (the whole queue) or a job's `rate_key`
    /// (or its part before the first `:`, e.g. `whatsapp` for `whatsapp:<tenant>`,
    /// which then limits each tenant's bucket separately). `count = 0` removes it.
    pub async fn set_rate_limit(
        &self,
        queue: &str,
        key: &str,
        count: u32,
        per: Duration,
    ) -> Result<(), EngineError> {
        if key.is_empty() || key.contains('|') {
            return Err(EngineError::Invalid(
                "rate-limit key must be non-empty".into(),
            ));
        }
        let mut conn = self.conn.clone();
        let field = format!("rl:{key}");
        if count == 0 {
            let _: () = conn.hdel(self.keys(queue).meta(), field).await?;
        } else {
            let per_ms = per.as_millis().max(1) as u64;
            let _: () = conn
                .hset(self.keys(queue).meta(), field, format!("{count}:{per_ms}"))
                .await?;
        }
        Ok(())
    }

    /// Records handler progress on a job (0-100 and a message); ignored for a job that is gone.
    pub async fn set_progress(
        &self,
        queue: &str,
        id: &str,
        percent: u8,
        message: &str,
    ) -> Result<(), EngineError> {
        let key = self.keys(queue).job(id);
        let mut conn = self.conn.clone();
        let _: () = redis::Script::new("if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'pg', ARGV[1], 'pm', ARGV[2]) end return 1")
            .key(key)
            .arg(percent.min(100))
            .arg(message)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())?;
        Ok(())
    }
}
