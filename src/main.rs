//! The `tailor` command line: one subcommand per pipeline stage.

use clap::Parser;
use mimalloc::MiMalloc;

mod cli;

// candle and the readers allocate many short-lived buffers; glibc's allocator spent most of a
// training run in the kernel where a caching allocator does not.
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(args.verbose, args.quiet);
    // `serve` writes nothing aside and shuts down gracefully on the same signals by itself.
    if !matches!(args.command, cli::Command::Serve(_)) {
        if let Err(e) = tailor::interrupt::install() {
            tracing::warn!("an interrupted run will leave its partly written outputs: {e}");
        }
    }
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // A reader that stopped reading (`| head`) has what it wanted: end quietly, as Unix
        // tools do.
        Err(err) if broken_pipe(&err) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", message(&err));
            std::process::ExitCode::FAILURE
        }
    }
}

/// True when the run failed writing to a pipe whose reader has gone.
fn broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line, leaving out a cause that an error's own message
/// already quotes (library errors name their source in their message).
fn message(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
