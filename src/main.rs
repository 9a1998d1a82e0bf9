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
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
