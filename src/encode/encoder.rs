//! The BERT-family sentence encoder: a model directory and a candle device in, unit-length
//! sentence vectors (or per-token states for mention pooling) out.
//!
//! Texts are tokenized once, grouped by length into batches, run through tailor's BERT forward
//! pass ([`super::bert`], on candle tensors) and pooled; results come back in input order whatever the batching did.

use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config;
use sha2::Digest;

use super::batching::{batches, Batch};
use super::bert::Bert;
use super::error::{EncodeError, Result};
use super::model_dir::ModelFiles;
use super::pooling::mean_pool_batch;
use super::states::{MentionVectors, TokenStates};
use super::tokenize::TextTokenizer;
use super::work::{EncoderWork, LayerCost, WorkTotals};

/// How texts are cut and grouped.
#[derive(Debug, Clone, Copy)]
pub struct EncoderOptions {
    /// Tokens per text, special tokens included; longer texts are truncated. Default 128, which
    /// covers a sentence and is twice as fast as 256 (the sentence-transformers setting of
    /// all-MiniLM-L6-v2, and its trained limit). Capped at the model's position embeddings.
    pub max_len: usize,
    /// Texts per forward pass. Default 16: on CPU, with attention computed per text and head in
    /// cache, 64 ran about as fast at 128 tokens and 20% faster at 32 tokens (2 threads), and
    /// 16 keeps a pass's buffers a quarter the size. Raise it on a GPU, where a pass costs
    /// little more for more rows.
    pub batch_size: usize,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            max_len: 128,
            batch_size: 16,
        }
    }
}

/// A loaded encoder. Cheap to share by reference; encoding takes `&self`.
pub struct Encoder {
    model: Bert,
    tokenizer: TextTokenizer,
    device: Device,
    options: EncoderOptions,
    dim: usize,
    fingerprint: String,
    cost: LayerCost,
    work: EncoderWork,
}

impl Encoder {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device, options: EncoderOptions) -> Result<Self> {
        let started = Instant::now();
        let files = ModelFiles::in_dir(dir)?;
        let config = read_config(&files.config)?;
        let max_len = options.max_len.clamp(2, config.max_position_embeddings);
        let options = EncoderOptions { max_len, ..options };
        let tokenizer = TextTokenizer::load(&files.tokenizer, max_len)?;

        // Safety: the weights file is mapped read-only and not modified while the model lives.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(&[&files.weights], DType::F32, device)
                .map_err(|e| EncodeError::bad(&files.weights, e))?
        };
        let model = Bert::load(vb, &config).map_err(|e| EncodeError::bad(&files.weights, e))?;
        let fingerprint = fingerprint(&files)?;
        tracing::info!(
            dir = %dir.display(),
            dim = config.hidden_size,
            layers = config.num_hidden_layers,
            max_len,
            secs = format!("{:.2}", started.elapsed().as_secs_f64()),
            "encoder loaded"
        );
        Ok(Encoder {
            model,
            tokenizer,
            device: device.clone(),
            options,
            dim: config.hidden_size,
            fingerprint,
            cost: LayerCost::of(&config),
            work: EncoderWork::default(),
        })
    }

    /// The length of every vector this encoder returns.
    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn options(&self) -> EncoderOptions {
        self.options
    }

    /// A hash that changes with the model: its config and tokenizer bytes and weights size.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// What this encoder has computed since it was loaded, over every thread sharing it.
    pub fn work(&self) -> WorkTotals {
        self.work.totals()
    }

    /// One unit-length sentence vector per text, in input order.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let tokens = self.tokenizer.tokenize(texts)?;
        let mut out = vec![Vec::new(); texts.len()];
        for batch in self.batches(&tokens)? {
            let states = self.forward(&batch)?;
            let pooled: Vec<Vec<f32>> =
                mean_pool_batch(&states, &batch.attention_mask)?.to_vec2()?;
            for (row, vector) in batch.rows.into_iter().zip(pooled) {
                out[row] = vector;
            }
        }
        Ok(out)
    }

    /// The final-layer state of every token of every text, with the tokens' character offsets,
    /// from one encoder pass; several mentions of one text are then pooled without re-encoding.
    pub fn token_states(&self, texts: &[&str]) -> Result<Vec<TokenStates>> {
        let tokens = self.tokenizer.tokenize(texts)?;
        let mut out: Vec<Option<TokenStates>> = (0..texts.len()).map(|_| None).collect();
        for batch in self.batches(&tokens)? {
            let states = self.forward(&batch)?.to_device(&Device::Cpu)?;
            for (r, &row) in batch.rows.iter().enumerate() {
                let t = &tokens[row];
                let flat: Vec<f32> = states
                    .get(r)?
                    .narrow(0, 0, t.len())?
                    .flatten_all()?
                    .to_vec1()?;
                out[row] = Some(TokenStates::new(
                    flat,
                    self.dim,
                    t.offsets.clone(),
                    t.special.clone(),
                    texts[row].chars().count(),
                ));
            }
        }
        Ok(out
            .into_iter()
            .map(|s| s.expect("every row is in a batch"))
            .collect())
    }

    /// The sentence vector of `text` and one vector per mention span (character offsets),
    /// all from a single encoder pass; see [`TokenStates::span_vector`] for truncated spans.
    pub fn mention_vectors(&self, text: &str, spans: &[(usize, usize)]) -> Result<MentionVectors> {
        let mut out = self.mention_vectors_batch(&[text], &[spans.to_vec()])?;
        Ok(out.pop().expect("one text in, one out"))
    }

    /// [`Encoder::mention_vectors`] for many texts at once, batched by length; `spans[i]`
    /// holds the mentions of `texts[i]`.
    pub fn mention_vectors_batch(
        &self,
        texts: &[&str],
        spans: &[Vec<(usize, usize)>],
    ) -> Result<Vec<MentionVectors>> {
        assert_eq!(texts.len(), spans.len(), "one span list per text");
        let states = self.token_states(texts)?;
        states
            .iter()
            .zip(spans)
            .map(|(states, spans)| {
                let mentions = spans
                    .iter()
                    .map(|&(start, end)| states.span_vector(start, end))
                    .collect::<Result<Vec<_>>>()?;
                Ok(MentionVectors {
                    sentence: states.sentence_vector(),
                    mentions,
                })
            })
            .collect()
    }

    fn batches(&self, tokens: &[super::tokenize::Tokens]) -> Result<Vec<Batch>> {
        batches(
            tokens,
            self.options.batch_size,
            self.tokenizer.pad_id(),
            &self.device,
        )
    }

    fn forward(&self, batch: &Batch) -> Result<Tensor> {
        let started = Instant::now();
        let states = self.model.forward(
            &batch.input_ids,
            &batch.token_type_ids,
            &batch.attention_mask,
        )?;
        let rows = batch.rows.len();
        self.work.record(
            rows,
            batch.tokens,
            batch.width,
            self.cost.flops(rows, batch.width),
            started.elapsed(),
        );
        Ok(states)
    }
}

fn fingerprint(files: &ModelFiles) -> Result<String> {
    let mut hasher = sha2::Sha256::new();
    for path in [&files.config, &files.tokenizer] {
        hasher.update(std::fs::read(path).map_err(|e| EncodeError::io(path, e))?);
    }
    let weights =
        std::fs::metadata(&files.weights).map_err(|e| EncodeError::io(&files.weights, e))?;
    hasher.update(weights.len().to_le_bytes());
    Ok(hex::encode(hasher.finalize()))
}

fn read_config(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).map_err(|e| EncodeError::io(path, e))?;
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| EncodeError::bad(path, e))
}
