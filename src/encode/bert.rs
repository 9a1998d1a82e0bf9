//! tailor's BERT forward pass for inference: token ids, segment ids and an attention mask in,
//! the final-layer state of every token out, from a Hugging Face BERT checkpoint's weights.
//!
//! Why our own: the encoder is most of what linking costs on a CPU, and a general model
//! implementation leaves speed behind at inference. This one keeps the hidden states as one
//! `(texts · tokens, hidden)` matrix, projects queries, keys and values with a single matrix
//! product per layer (their weights are stacked at load time, with the `1/√head_dim` score
//! scale folded into the query rows), turns the padding mask into an additive bias once per
//! batch. On the CPU the layers run over plain buffers with fused kernels
//! ([`super::bert_cpu`]); on other devices as candle ops.

use candle_core::{DType, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct};

use super::bert_cpu::{run_layers, Affine, CpuLayer, NormWeights};
use super::kernels::MASKED_BIAS;

/// A loaded BERT encoder (embeddings and transformer layers; no pooler, no heads).
pub struct Bert {
    embeddings: Embeddings,
    layers: Layers,
    heads: usize,
    act: HiddenAct,
}

/// The transformer layers, as candle tensors or, on the CPU with the exact GELU, as the plain
/// buffers the CPU kernels read (one copy of the weights either way).
enum Layers {
    Ops(Vec<Layer>),
    Cpu(Vec<CpuLayer>),
}

struct Embeddings {
    words: Tensor,
    positions: Tensor,
    segments: Tensor,
    norm: Norm,
}

struct Layer {
    /// Query, key and value projections stacked into one `(3 · hidden, hidden)` weight.
    qkv: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    up: Linear,
    down: Linear,
    output_norm: Norm,
}

struct Norm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl Norm {
    fn load(vb: VarBuilder, size: usize, eps: f64) -> candle_core::Result<Self> {
        Ok(Norm {
            weight: vb.get(size, "weight")?,
            bias: vb.get(size, "bias")?,
            eps: eps as f32,
        })
    }

    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm(xs, &self.weight, &self.bias, self.eps)
    }
}

fn linear(vb: VarBuilder, out: usize, inp: usize) -> candle_core::Result<Linear> {
    Ok(Linear::new(
        vb.get((out, inp), "weight")?,
        Some(vb.get(out, "bias")?),
    ))
}

impl Bert {
    /// Loads the weights under `vb` (at the root or under `bert.`, as checkpoints differ).
    pub fn load(vb: VarBuilder, config: &Config) -> candle_core::Result<Self> {
        let cpu = vb.device().is_cpu() && config.hidden_act == HiddenAct::Gelu;
        Self::load_for(vb, config, cpu)
    }

    /// [`Bert::load`], with the CPU kernels (`cpu`, which needs CPU tensors and the exact
    /// GELU) or candle ops.
    fn load_for(vb: VarBuilder, config: &Config, cpu: bool) -> candle_core::Result<Self> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let h = config.hidden_size;
        if h % config.num_attention_heads != 0 {
            candle_core::bail!(
                "hidden size {h} is not a multiple of {} heads",
                config.num_attention_heads
            );
        }
        let head_dim = h / config.num_attention_heads;
        let emb = vb.pp("embeddings");
        let embeddings = Embeddings {
            words: emb.get((config.vocab_size, h), "word_embeddings.weight")?,
            positions: emb.get(
                (config.max_position_embeddings, h),
                "position_embeddings.weight",
            )?,
            segments: emb.get((config.type_vocab_size, h), "token_type_embeddings.weight")?,
            norm: Norm::load(emb.pp("LayerNorm"), h, config.layer_norm_eps)?,
        };
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), config, head_dim))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let layers = if cpu {
            Layers::Cpu(layers.iter().map(Layer::to_cpu).collect::<Result<_, _>>()?)
        } else {
            Layers::Ops(layers)
        };
        Ok(Bert {
            embeddings,
            layers,
            heads: config.num_attention_heads,
            act: config.hidden_act,
        })
    }

    /// Final-layer states `(texts, tokens, hidden)` of `(texts, tokens)` u32 token ids and
    /// segment ids, with `mask` (any numeric type) 1 over real tokens and 0 over padding.
    pub fn forward(
        &self,
        ids: &Tensor,
        segments: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let (texts, len) = ids.dims2()?;
        // mask · 1e30 − 1e30: exactly 0 over real tokens, MASKED_BIAS over padding.
        let bias = mask
            .to_dtype(DType::F32)?
            .affine(-MASKED_BIAS as f64, MASKED_BIAS as f64)?;
        let mut xs = self.embeddings.forward(ids, segments)?;
        match &self.layers {
            Layers::Ops(layers) => {
                for layer in layers {
                    xs = layer.forward(&xs, &bias, self, texts, len)?;
                }
            }
            Layers::Cpu(layers) => {
                let hidden = xs.dim(1)?;
                let mut states: Vec<f32> = xs.flatten_all()?.to_vec1()?;
                let bias: Vec<f32> = bias.flatten_all()?.to_vec1()?;
                run_layers(layers, &mut states, &bias, texts, self.heads);
                xs = Tensor::from_vec(states, (texts * len, hidden), xs.device())?;
            }
        }
        xs.reshape((texts, len, ()))
    }
}

impl Embeddings {
    /// `(texts · tokens, hidden)` normalized sums of word, position and segment embeddings.
    fn forward(&self, ids: &Tensor, segments: &Tensor) -> candle_core::Result<Tensor> {
        let (texts, len) = ids.dims2()?;
        let words = self.words.index_select(&ids.flatten_all()?, 0)?;
        let segments = self.segments.index_select(&segments.flatten_all()?, 0)?;
        let positions = self.positions.narrow(0, 0, len)?;
        let sum = (words + segments)?
            .reshape((texts, len, ()))?
            .broadcast_add(&positions)?;
        self.norm.forward(&sum.reshape((texts * len, ()))?)
    }
}

impl Layer {
    fn load(vb: VarBuilder, config: &Config, head_dim: usize) -> candle_core::Result<Self> {
        let (h, inter, eps) = (
            config.hidden_size,
            config.intermediate_size,
            config.layer_norm_eps,
        );
        let own = vb.pp("attention.self");
        let scale = 1.0 / (head_dim as f64).sqrt();
        let part = |name: &str, scale: f64| -> candle_core::Result<(Tensor, Tensor)> {
            let l = linear(own.pp(name), h, h)?;
            let bias = l.bias().expect("loaded with a bias");
            Ok(((l.weight() * scale)?, (bias * scale)?))
        };
        let (q, k, v) = (
            part("query", scale)?,
            part("key", 1.0)?,
            part("value", 1.0)?,
        );
        let qkv = Linear::new(
            Tensor::cat(&[&q.0, &k.0, &v.0], 0)?,
            Some(Tensor::cat(&[&q.1, &k.1, &v.1], 0)?),
        );
        Ok(Layer {
            qkv,
            attention_out: linear(vb.pp("attention.output.dense"), h, h)?,
            attention_norm: Norm::load(vb.pp("attention.output.LayerNorm"), h, eps)?,
            up: linear(vb.pp("intermediate.dense"), inter, h)?,
            down: linear(vb.pp("output.dense"), h, inter)?,
            output_norm: Norm::load(vb.pp("output.LayerNorm"), h, eps)?,
        })
    }

    /// One transformer layer on `(texts · len, hidden)` states, `bias` the `(texts, len)`
    /// additive key bias.
    fn forward(
        &self,
        xs: &Tensor,
        bias: &Tensor,
        model: &Bert,
        texts: usize,
        len: usize,
    ) -> candle_core::Result<Tensor> {
        let qkv = self.qkv.forward(xs)?;
        let context = attention_ops(&qkv, bias, model.heads, texts, len)?;
        let attended = self
            .attention_norm
            .forward(&(self.attention_out.forward(&context)? + xs)?)?;

        let up = self.up.forward(&attended)?;
        let up = match model.act {
            HiddenAct::Gelu => up.gelu_erf()?,
            HiddenAct::GeluApproximate => up.gelu()?,
            HiddenAct::Relu => up.relu()?,
        };
        self.output_norm
            .forward(&(self.down.forward(&up)? + attended)?)
    }

    /// The same weights as plain buffers for [`run_layers`].
    fn to_cpu(&self) -> candle_core::Result<CpuLayer> {
        let affine = |l: &Linear| Affine::from_tensors(l.weight(), l.bias().expect("a bias"));
        let norm = |n: &Norm| NormWeights::from_tensors(&n.weight, &n.bias, n.eps);
        Ok(CpuLayer {
            qkv: affine(&self.qkv)?,
            attention_out: affine(&self.attention_out)?,
            attention_norm: norm(&self.attention_norm)?,
            up: affine(&self.up)?,
            down: affine(&self.down)?,
            output_norm: norm(&self.output_norm)?,
        })
    }
}

/// Attention from the packed `(texts · len, 3 · hidden)` projection with candle ops, for
/// devices without the CPU kernels: the same result as [`super::kernels::attention`].
fn attention_ops(
    qkv: &Tensor,
    bias: &Tensor,
    heads: usize,
    texts: usize,
    len: usize,
) -> candle_core::Result<Tensor> {
    let head_dim = qkv.dim(1)? / (3 * heads);
    let split = qkv
        .reshape((texts, len, 3, heads, head_dim))?
        .permute((2, 0, 3, 1, 4))?;
    let part = |i| split.get(i)?.contiguous();
    let (q, k, v) = (part(0)?, part(1)?, part(2)?);
    let scores = q
        .matmul(&k.t()?)?
        .broadcast_add(&bias.reshape((texts, 1, 1, len))?)?;
    let probs = candle_nn::ops::softmax_last_dim(&scores)?;
    probs
        .matmul(&v)?
        .transpose(1, 2)?
        .reshape((texts * len, heads * head_dim))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use std::collections::HashMap;

    fn config() -> Config {
        serde_json::from_str(
            r#"{"vocab_size": 50, "hidden_size": 32, "num_hidden_layers": 2,
                "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu",
                "hidden_dropout_prob": 0.1, "max_position_embeddings": 16,
                "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
                "pad_token_id": 0}"#,
        )
        .unwrap()
    }

    /// Random weights under the checkpoint's names.
    fn weights(config: &Config) -> HashMap<String, Tensor> {
        let dev = Device::Cpu;
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let mut w = HashMap::new();
        let mut put = |name: String, shape: &[usize]| {
            let t = Tensor::randn(0f32, 0.3, shape, &dev).unwrap();
            w.insert(name, t);
        };
        put(
            "embeddings.word_embeddings.weight".into(),
            &[config.vocab_size, h],
        );
        put("embeddings.position_embeddings.weight".into(), &[16, h]);
        put("embeddings.token_type_embeddings.weight".into(), &[2, h]);
        put("embeddings.LayerNorm.weight".into(), &[h]);
        put("embeddings.LayerNorm.bias".into(), &[h]);
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            for (name, out, inp) in [
                ("attention.self.query", h, h),
                ("attention.self.key", h, h),
                ("attention.self.value", h, h),
                ("attention.output.dense", h, h),
                ("intermediate.dense", i, h),
                ("output.dense", h, i),
            ] {
                put(format!("{p}.{name}.weight"), &[out, inp]);
                put(format!("{p}.{name}.bias"), &[out]);
            }
            for n in ["attention.output.LayerNorm", "output.LayerNorm"] {
                put(format!("{p}.{n}.weight"), &[h]);
                put(format!("{p}.{n}.bias"), &[h]);
            }
        }
        w
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar()
            .unwrap()
    }

    #[test]
    fn fused_qkv_equals_the_three_projections() {
        let config = config();
        let w = weights(&config);
        let vb = VarBuilder::from_tensors(w.clone(), DType::F32, &Device::Cpu);
        let layer = Layer::load(vb.pp("encoder.layer.0"), &config, 8).unwrap();
        let xs = Tensor::randn(0f32, 1., (5, 32), &Device::Cpu).unwrap();
        let packed = layer.qkv.forward(&xs).unwrap();
        for (i, name) in ["query", "key", "value"].iter().enumerate() {
            let p = format!("encoder.layer.0.attention.self.{name}");
            let alone = Linear::new(
                w[&format!("{p}.weight")].clone(),
                Some(w[&format!("{p}.bias")].clone()),
            )
            .forward(&xs)
            .unwrap();
            let scale = if i == 0 { 1.0 / 8f64.sqrt() } else { 1.0 };
            let want = (alone * scale).unwrap();
            let got = packed.narrow(1, i * 32, 32).unwrap();
            assert!(max_diff(&got, &want) < 1e-5, "{name}");
        }
    }

    #[test]
    fn fused_kernels_match_candle_ops_with_padding() {
        let config = config();
        let w = weights(&config);
        let dev = Device::Cpu;
        let load = |cpu| {
            let vb = VarBuilder::from_tensors(w.clone(), DType::F32, &dev);
            Bert::load_for(vb, &config, cpu).unwrap()
        };
        let (fused, plain) = (load(true), load(false));
        let ids = Tensor::new(&[[1u32, 7, 9, 3, 2], [1, 4, 2, 0, 0]], &dev).unwrap();
        let segments = ids.zeros_like().unwrap();
        let mask = Tensor::new(&[[1u8, 1, 1, 1, 1], [1, 1, 1, 0, 0]], &dev).unwrap();
        let a = fused.forward(&ids, &segments, &mask).unwrap();
        let b = plain.forward(&ids, &segments, &mask).unwrap();
        assert_eq!(a.dims(), &[2, 5, 32]);
        assert!(max_diff(&a, &b) < 1e-4, "{}", max_diff(&a, &b));

        // Padding changes nothing about the real tokens of the padded text.
        let short = Tensor::new(&[[1u32, 4, 2]], &dev).unwrap();
        let alone = fused
            .forward(
                &short,
                &short.zeros_like().unwrap(),
                &short.ones_like().unwrap(),
            )
            .unwrap();
        let padded = a.get(1).unwrap().narrow(0, 0, 3).unwrap();
        assert!(max_diff(&alone.get(0).unwrap(), &padded) < 1e-4);
    }
}
