//! `worker`: runs job handlers. `worker [--queues a,b]`; settings from
//! `config/` and `TAREFA__*` (see README).

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "worker",
    about = "Tarefa worker: runs the jobs of the queues it serves"
)]
struct Cli {
    /// Comma-separated queues to serve (default: `worker.queues`, else all).
    #[arg(long, value_delimiter = ',')]
    queues: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = jobs::Settings::load()?;
    // Held until `main` returns: dropping it flushes the OTLP exporter, if any.
    let _telemetry = jobs::telemetry::init_with("worker", &settings.telemetry);
    worker::run(settings, cli.queues, jobs::shutdown::signal()).await
}
