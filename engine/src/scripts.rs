//! The engine's Lua scripts, each prefixed with `scripts/common.lua`.
//! `redis::Script` runs them by SHA (EVALSHA) and loads them on NOSCRIPT,
//! so a restarted Redis needs nothing from us.

use std::sync::LazyLock;

use redis::Script;

macro_rules! script {
    ($file:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("scripts/common.lua"),
                "\n",
                include_str!($file)
            ))
        })
    };
}

pub(crate) static PUSH: LazyLock<Script> = script!("scripts/push.lua");
pub(crate) static CLAIM: LazyLock<Script> = script!("scripts/claim.lua");
pub(crate) static ACK: LazyLock<Script> = script!("scripts/ack.lua");
pub(crate) static RENEW: LazyLock<Script> = script!("scripts/renew.lua");
pub(crate) static RESCUE: LazyLock<Script> = script!("scripts/rescue.lua");
pub(crate) static CONTROL: LazyLock<Script> = script!("scripts/control.lua");
pub(crate) static RETENTION: LazyLock<Script> = script!("scripts/retention.lua");
pub(crate) static RATE: LazyLock<Script> = script!("scripts/rate.lua");
pub(crate) static QUOTA: LazyLock<Script> = script!("scripts/quota.lua");
pub(crate) static FLOWS: LazyLock<Script> = script!("scripts/flows.lua");

/// An invocation of `script` on the keys under `base`. Besides the base, each
/// script declares `<base>~`, a key that never exists: on a cluster, while the
/// queue's slot migrates (a resharding), two declared keys both missing make
/// Redis answer TRYAGAIN, which the cluster client retries, instead of running
/// the script against half-moved keys. A stable slot runs it as usual.
pub(crate) fn on<'a>(script: &'a Script, base: &str) -> redis::ScriptInvocation<'a> {
    let mut inv = script.key(base);
    inv.key(format!("{base}~"));
    inv
}
