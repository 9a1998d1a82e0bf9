//! `tailor serve`: the linker behind an HTTP JSON API (see `tailor::link::serve`).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use tailor::disambiguate::{PriorScorer, Scorer};
use tailor::link::serve::{serve, LinkService, ServeLimits};

use super::model::{LoadedModels, ModelArgs};
use super::retrieval::{load, RetrievalArgs};
use super::values::{at_least_one, share};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    retrieval: RetrievalArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Address to listen on; port 0 picks a free port (the chosen address is logged).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = ServeLimits::default().max_body_bytes,
          value_parser = at_least_one::<usize>)]
    max_body_bytes: usize,
    /// Most documents in one request.
    #[arg(long, default_value_t = ServeLimits::default().max_batch,
          value_parser = at_least_one::<usize>)]
    max_batch: usize,
    /// Largest document text in bytes.
    #[arg(long, default_value_t = ServeLimits::default().max_doc_bytes,
          value_parser = at_least_one::<usize>)]
    max_doc_bytes: usize,
    /// Seconds a connection may take to send a request head, after it opens or after its last
    /// answer, before it is closed; also the most a request body may take to arrive whole
    /// after its head (then the answer is 408 and the connection is closed).
    #[arg(long, default_value_t = ServeLimits::default().read_timeout.as_secs(),
          value_parser = at_least_one::<u64>)]
    read_timeout: u64,
    /// Seconds the requests in flight get to finish after SIGINT or SIGTERM; connections still
    /// open then are dropped and the server exits.
    #[arg(long, default_value_t = ServeLimits::default().shutdown_grace.as_secs())]
    shutdown_grace: u64,
    /// With --prior-only: leave a mention unlinked when its best prior is below this.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    nil_threshold: f32,
    /// Candidates returned per mention (0: only the chosen entity).
    #[arg(long, default_value_t = tailor::link::DEFAULT_OUTPUT_CANDIDATES)]
    output_candidates: usize,
}

pub fn run(args: ServeArgs) -> Result<()> {
    let (kb, mut retriever) = load(&args.retrieval)?;
    // The prior scores context candidates zero: finding them would be wasted work.
    retriever.context &= !args.model.prior_only;
    // The KB lives as long as the server, and the model borrows it.
    let kb: &'static tailor::kb::Kb = Box::leak(Box::new(kb));
    let scorer: Box<dyn Scorer> = if args.model.prior_only {
        Box::new(PriorScorer {
            nil_threshold: args.nil_threshold,
        })
    } else {
        let mut models = LoadedModels::load(&args.model, kb, &args.retrieval.kb, false)?;
        Box::new(models.scorers.remove(0))
    };
    let service = Arc::new(LinkService {
        kb,
        retriever,
        scorer,
        output_candidates: args.output_candidates,
        limits: ServeLimits {
            max_body_bytes: args.max_body_bytes,
            max_batch: args.max_batch,
            max_doc_bytes: args.max_doc_bytes,
            read_timeout: std::time::Duration::from_secs(args.read_timeout),
            shutdown_grace: std::time::Duration::from_secs(args.shutdown_grace),
        },
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("binding {}", args.addr))?;
        let local = listener.local_addr()?;
        tracing::info!("listening on http://{local}");
        eprintln!("listening on http://{local}");
        serve(service, listener).await.context("serving")?;
        tracing::info!("stopped");
        Ok(())
    })
}
