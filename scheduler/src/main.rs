//! The `scheduler` binary: loads settings, starts logging, runs the
//! scheduler until Ctrl-C or SIGTERM. Everything else is in `lib.rs`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = jobs::Settings::load()?;
    jobs::telemetry::init("scheduler");
    scheduler::run(settings, jobs::shutdown::signal()).await?;
    Ok(())
}
