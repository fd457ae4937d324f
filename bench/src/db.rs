//! A throw-away PostgreSQL database for one bench run: dropped if left over, created, migrated,
//! and dropped again at the end (`BenchDb::drop`), shared by the alerts, events and campaigns
//! benches.

use anyhow::{Context, Result};
use sqlx::postgres::{PgPool, PgPoolOptions};

pub struct BenchDb {
    admin: PgPool,
    name: &'static str,
    pub pool: PgPool,
    /// The new database's URL (for processes the bench starts).
    pub url: String,
}

impl BenchDb {
    /// `admin_url` names any database of the server (the new one is created beside it).
    pub async fn create(admin_url: &str, name: &'static str, connections: u32) -> Result<BenchDb> {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(admin_url)
            .await
            .context("admin database")?;
        sqlx::query(&format!("drop database if exists {name} with (force)"))
            .execute(&admin)
            .await?;
        sqlx::query(&format!("create database {name}"))
            .execute(&admin)
            .await?;
        let (server, _) = admin_url
            .rsplit_once('/')
            .context("admin url has a database")?;
        let url = format!("{server}/{name}");
        let pool = PgPoolOptions::new()
            .max_connections(connections)
            .connect(&url)
            .await?;
        jobs::store::MIGRATOR.run(&pool).await?;
        Ok(BenchDb {
            admin,
            name,
            pool,
            url,
        })
    }

    /// Closes the pool and drops the database.
    pub async fn drop(self) -> Result<()> {
        self.pool.close().await;
        sqlx::query(&format!(
            "drop database if exists {} with (force)",
            self.name
        ))
        .execute(&self.admin)
        .await?;
        Ok(())
    }
}
