//! The engine behind Sentinel (a master, a replica and three Sentinels the
//! test starts itself): a worker and a producer follow a SIGKILLed master to
//! the promoted replica without restarting, and with `replicated` durability
//! no accepted job is lost; without a replica, a `replicated` push is an error
//! the caller sees.

mod common;
#[path = "common/topology.rs"]
mod topology;

use serde_json::json;
use tarefa_engine::servers::{own_server, OwnSentinels};
use tarefa_engine::testing::{test_settings, RedisPrefix, TestEngine};
use tarefa_engine::{Durability, EngineError, EngineSettings, NewJob};
use topology::*;

fn replicated() -> EngineSettings {
    EngineSettings {
        durability: Durability::Replicated,
        replica_wait_ms: 500,
        ..test_settings()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_follows_a_sentinel_failover_and_replicated_loses_no_accepted_job() {
    let mut set = OwnSentinels::start();
    let t = TestEngine::on(RedisPrefix::on(&set.url()), replicated()).await;
    let queues = vec!["s".to_string()];
    let runs = Runs::default();
    let _worker = t.serve("s", 8, counting_handler(runs.clone()));
    let producer = Producer::start(t.engine.clone(), queues.clone());
    accepted_more(&producer, 300).await;
    let old = set.master.port;
    set.kill_master_and_wait_failover();
    // The old master comes back; the Sentinels make it the new master's replica.
    set.master.start();
    tarefa_engine::servers::wait_until(std::time::Duration::from_secs(30), || {
        set.master
            .replication()
            .get("master_link_status")
            .map(String::as_str)
            == Some("up")
    });
    assert_eq!(set.named_master(), Some(set.replica.port));
    assert_ne!(set.named_master(), Some(old));
    // The same worker and producer carry on with the new master.
    accepted_more(&producer, 300).await;
    let (accepted, refused) = producer.stop().await;
    quiet(&t.engine, &queues).await;
    let tally = tally(&t.engine, &accepted, &runs).await;
    eprintln!("sentinel replicated: {tally:?}, refused pushes {refused}");
    assert_eq!(tally.lost, 0, "{tally:?}");
    assert!(tally.other.is_empty(), "{:?}", tally.other);
    assert_eq!(tally.succeeded, tally.accepted);
    assert_eq!(tally.never_ran, 0);
}

#[tokio::test]
async fn a_replicated_push_without_a_replica_is_an_error_the_caller_sees() {
    let (server, dir) = own_server();
    let t = TestEngine::on(RedisPrefix::on(&server.url()), replicated()).await;
    let err = t
        .engine
        .push(NewJob::new("r", "c.work", "tenant-a", json!({})))
        .await
        .expect_err("no replica acknowledged it");
    assert!(
        matches!(&err, EngineError::NotReplicated { queue, waited_ms: 500 } if queue == "r"),
        "{err}"
    );
    // The same push with async durability is acknowledged.
    let a = TestEngine::on(RedisPrefix::on(&server.url()), test_settings()).await;
    assert!(a
        .engine
        .push(NewJob::new("r", "c.work", "tenant-a", json!({})))
        .await
        .is_ok());
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
