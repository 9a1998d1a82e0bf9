//! What an encoder has done so far: texts, tokens, padded positions, time in the forward pass
//! and the floating-point operations that pass costs, counted as it runs.
//!
//! Why: on a CPU the encoder is most of what linking with the model costs, so a run should be
//! able to say how much of its time went there and how close the encoder came to the machine's
//! matrix-multiply rate. Counters are atomics, so every thread sharing one encoder adds to them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use candle_transformers::models::bert::Config;

/// Multiply-adds per token of one BERT-family layer, split into the part that grows with the
/// sequence length (attention scores and their weighted sum) and the part that does not.
#[derive(Debug, Clone, Copy)]
pub struct LayerCost {
    layers: u64,
    /// FLOPs per token of the projections and the feed-forward block.
    dense_per_token: u64,
    /// FLOPs per token per position attended to.
    attention_per_position: u64,
}

impl LayerCost {
    pub fn of(config: &Config) -> Self {
        let (h, i) = (config.hidden_size as u64, config.intermediate_size as u64);
        LayerCost {
            layers: config.num_hidden_layers as u64,
            // Q, K, V (one stacked product) and the output projection (4 h²) and the two
            // feed-forward matrices (2 h i), each a multiply and an add.
            dense_per_token: 2 * (4 * h * h + 2 * h * i),
            // `q · k` and `p · v` over the hidden width.
            attention_per_position: 2 * 2 * h,
        }
    }

    /// FLOPs of one forward pass over `rows` texts padded to `width` tokens.
    pub fn flops(&self, rows: usize, width: usize) -> u64 {
        let positions = (rows * width) as u64;
        self.layers
            * positions
            * (self.dense_per_token + self.attention_per_position * width as u64)
    }
}

/// Running totals of an encoder's work.
#[derive(Debug, Default)]
pub struct EncoderWork {
    texts: AtomicU64,
    tokens: AtomicU64,
    padded: AtomicU64,
    flops: AtomicU64,
    nanos: AtomicU64,
}

/// A snapshot of [`EncoderWork`].
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct WorkTotals {
    pub texts: u64,
    /// Real tokens, special tokens included.
    pub tokens: u64,
    /// Positions computed, padding included.
    pub padded_positions: u64,
    pub flops: u64,
    pub seconds: f64,
}

impl WorkTotals {
    /// The rate the forward passes ran at, in GFLOP/s.
    pub fn gflops(&self) -> f64 {
        self.flops as f64 / self.seconds.max(1e-9) / 1e9
    }
}

impl EncoderWork {
    pub fn record(&self, rows: usize, tokens: usize, width: usize, flops: u64, took: Duration) {
        self.texts.fetch_add(rows as u64, Ordering::Relaxed);
        self.tokens.fetch_add(tokens as u64, Ordering::Relaxed);
        self.padded
            .fetch_add((rows * width) as u64, Ordering::Relaxed);
        self.flops.fetch_add(flops, Ordering::Relaxed);
        self.nanos
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
    }

    pub fn totals(&self) -> WorkTotals {
        WorkTotals {
            texts: self.texts.load(Ordering::Relaxed),
            tokens: self.tokens.load(Ordering::Relaxed),
            padded_positions: self.padded.load(Ordering::Relaxed),
            flops: self.flops.load(Ordering::Relaxed),
            seconds: self.nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minilm_costs_what_its_shape_says() {
        // all-MiniLM-L6-v2: 6 layers, hidden 384, feed-forward 1536.
        let config: Config = serde_json::from_str(
            r#"{"vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6,
                "num_attention_heads": 12, "intermediate_size": 1536, "hidden_act": "gelu",
                "hidden_dropout_prob": 0.1, "max_position_embeddings": 512,
                "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
                "pad_token_id": 0}"#,
        )
        .unwrap();
        let cost = LayerCost::of(&config);
        // per token per layer: 2 (4·384² + 2·384·1536) = 3,538,944, plus 1,536 per position
        assert_eq!(cost.flops(1, 1), 6 * (3_538_944 + 1_536));
        assert_eq!(cost.flops(2, 10), 6 * 20 * (3_538_944 + 1_536 * 10));
    }

    #[test]
    fn totals_add_up_across_records() {
        let work = EncoderWork::default();
        work.record(2, 15, 8, 100, Duration::from_millis(500));
        work.record(1, 3, 3, 50, Duration::from_millis(250));
        let t = work.totals();
        assert_eq!(
            (t.texts, t.tokens, t.padded_positions, t.flops),
            (3, 18, 19, 150)
        );
        assert!((t.seconds - 0.75).abs() < 1e-9);
        assert!((t.gflops() - 150.0 / 0.75 / 1e9).abs() < 1e-12);
    }
}
