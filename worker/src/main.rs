//! `worker`: runs job handlers. `worker [--queues a,b]`; settings from
//! `config/` and `TAREFA__*` (see README).
//!
//! `worker extract [flags] <file.pdf>` is the document extractor that the
//! `documents.extract` kind runs as a rlimited subprocess of this same binary:
//! it prints one JSON line (`{"ok": ...}` or `{"error": {code, message}}`),
//! exits 0 either way (2 on bad arguments), and starts no runtime, loads no
//! settings and touches no network.

use clap::{Parser, Subcommand};

mod alloc;

/// mimalloc for the worker, the system allocator for `worker extract` (see `alloc`).
#[global_allocator]
static ALLOC: alloc::WorkerAlloc = alloc::WorkerAlloc::new();

#[derive(Parser)]
#[command(
    name = "worker",
    about = "Tarefa worker: runs the jobs of the queues it serves"
)]
struct Cli {
    /// Comma-separated queues to serve (default: `worker.queues`, else all).
    #[arg(long, value_delimiter = ',')]
    queues: Vec<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Extract one PDF and print the result as one JSON line (see `documents::cli`):
    /// [--max-pages N] [--max-inflated-bytes N] [--no-ocr] [--languages por+eng]
    /// [--dpi 300] [--grade-scale-max 10] [--doc-type boletim|historico] <path>
    Extract {
        /// Flags and the file, passed to the extractor as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// An error ends the process with one line on stderr (`error: …` and its
/// causes) and status 1, never a backtrace.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Extract { args }) = cli.command {
        std::process::exit(documents::cli::run(&args));
    }
    let served = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(serve(cli.queues)));
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(queues: Vec<String>) -> anyhow::Result<()> {
    let settings = jobs::Settings::load()?;
    // Held until `main` returns: dropping it flushes the OTLP exporter, if any.
    let _telemetry = jobs::telemetry::init_with("worker", &settings.telemetry);
    worker::run(settings, queues, jobs::shutdown::signal()).await
}
