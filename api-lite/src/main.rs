//! `api-lite` binary: parse the command line, load settings, start logging,
//! then serve (`run` in lib.rs) or run one admin command (`cli.rs`). An error
//! ends the process with one line on stderr (`error: …`, its causes joined by
//! `: `) and exit status 1 — no backtrace, whatever `RUST_BACKTRACE` says.

use anyhow::Context;
use clap::Parser;

use api_lite::cli::{self, Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let args = Cli::parse();
    let settings = jobs::Settings::load()?;
    // Held until `main` returns: dropping it flushes the OTLP exporter, if any.
    let _telemetry = jobs::telemetry::init_with("api-lite", &settings.telemetry);
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = tokio::net::TcpListener::bind(&settings.api.listen)
                .await
                .with_context(|| {
                    format!("cannot listen on api.listen = {}", settings.api.listen)
                })?;
            api_lite::run(settings, listener, jobs::shutdown::signal()).await?;
        }
        cmd => {
            // A revoked key must stop working on every replica: bump the epoch they poll.
            let revokes = matches!(cmd, Command::Keys(cli::KeysCmd::Revoke { .. }));
            let pool = jobs::store::connect_system(&settings.database)
                .await
                .with_context(|| {
                    format!(
                        "cannot reach postgres at {}",
                        jobs::config::redact_url(&settings.database.url)
                    )
                })?;
            println!("{}", cli::execute(cmd, &pool).await?);
            if revokes {
                let engine = jobs::engine::Engine::connect(settings.engine_config())
                    .await
                    .with_context(|| {
                        format!(
                            "key revoked, but replicas may accept it for up to auth.key_cache_ttl_ms: cannot reach redis at {}",
                            jobs::config::redact_url(&settings.redis.url)
                        )
                    })?;
                engine
                    .bump_auth_epoch()
                    .await
                    .context("key revoked, but the auth epoch could not be bumped")?;
            }
        }
    }
    Ok(())
}
