//! The `tailor` command line: one subcommand per pipeline stage.

use clap::Parser;
use mimalloc::MiMalloc;

mod cli;

// candle and the readers allocate many short-lived buffers; glibc's allocator spent most of a
// training run in the kernel where a caching allocator does not.
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() -> std::process::ExitCode {
    quiet_on_closed_stdout();
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

/// `println!` panics when stdout's reader has gone (`tailor kb show … | head -1`); that reader
/// has what it wanted, so such a panic ends the run quietly with success, and any other panic
/// is reported as before.
fn quiet_on_closed_stdout() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.contains("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(0);
        }
        report(info);
    }));
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
