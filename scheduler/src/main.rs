//! The `scheduler` binary: loads settings, starts logging, runs the
//! scheduler until Ctrl-C or SIGTERM. Everything else is in `lib.rs`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = jobs::Settings::load()?;
    // Held until `main` returns: dropping it flushes the OTLP exporter, if any.
    let _telemetry = jobs::telemetry::init_with("scheduler", &settings.telemetry);
    scheduler::run(settings, jobs::shutdown::signal()).await?;
    Ok(())
}
