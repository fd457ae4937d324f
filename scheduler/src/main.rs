//! The `scheduler` binary: loads settings, starts logging, runs the
//! scheduler until Ctrl-C or SIGTERM. Everything else is in `lib.rs`. An
//! error ends it with one line on stderr (`error: …`) and status 1, no backtrace.

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
    let settings = jobs::Settings::load()?;
    // Held until `main` returns: dropping it flushes the OTLP exporter, if any.
    let _telemetry = jobs::telemetry::init_with("scheduler", &settings.telemetry);
    scheduler::run(settings, jobs::shutdown::signal()).await?;
    Ok(())
}
