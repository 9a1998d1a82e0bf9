//! Whole-stage checks on tiny graphs: gradients against finite differences, structure TransE
//! must recover, and resume against an uninterrupted run.

use candle_core::Device;

use super::data::{Row, TripleData};
use super::eval::{evaluate, filter_from};
use super::loss::{Loss, LossKind};
use super::model::{ModelKind, Norm};
use super::sample::{Corruption, Sampler};
use super::step::{batch, BatchSpec, GradPath, Grads};
use super::train::{Params, TrainConfig, Trainer};

fn config(model: ModelKind, norm: Norm) -> TrainConfig {
    TrainConfig {
        model,
        dim: 6,
        norm,
        reciprocal: false,
        loss: Loss {
            kind: LossKind::SelfAdversarial,
            margin: 3.0,
            temperature: 1.0,
        },
        negatives: 3,
        corruption: Corruption::Bernoulli,
        filtered_negatives: false,
        epochs: 4,
        batch_size: 64,
        lr: 0.1,
        seed: 7,
        eval_every: 0,
        valid_sample: 0,
        patience: 0,
    }
}

fn tiny() -> Vec<Row> {
    vec![
        [0, 0, 1],
        [1, 0, 2],
        [2, 1, 0],
        [3, 1, 4],
        [4, 0, 5],
        [5, 1, 3],
        [1, 1, 4],
    ]
}

/// Batch loss and slot gradients of `params` on `triples`, with fixed negatives.
fn loss_and_grads(cfg: &TrainConfig, params: &Params, triples: &[Row]) -> Grads {
    grads_by(cfg, params, triples, GradPath::Explicit)
}

fn grads_by(cfg: &TrainConfig, params: &Params, triples: &[Row], path: GradPath) -> Grads {
    let sampler = Sampler::new(triples, 6, 2, cfg.corruption, false);
    let spec = BatchSpec {
        triples,
        seed: 3,
        epoch: 1,
        first_chunk: 0,
        negatives: cfg.negatives,
    };
    let mut g = Grads::default();
    batch(&params.view(), &cfg.loss, &sampler, &spec, path, &mut g).unwrap();
    g
}

fn check_gradients(model: ModelKind, norm: Norm) {
    let mut cfg = config(model, norm);
    // constant adversarial weights, so the gradient is that of the loss as written
    cfg.loss.temperature = 0.0;
    check_gradients_of(&cfg);
}

fn check_gradients_of(cfg: &TrainConfig) {
    let (model, norm) = (cfg.model, cfg.norm);
    let cfg = cfg.clone();
    let triples = tiny();
    let mut params = Params::init(&cfg, 6, 2);
    // biases start at 0; give them values so the check sees them enter the distances
    for (i, b) in params.bias.data.iter_mut().enumerate() {
        *b = 0.4 * ((i * 5 % 7) as f32 / 7.0 - 0.5);
    }
    let g = loss_and_grads(&cfg, &params, &triples);

    let d = cfg.dim;
    let mut dense = vec![0.0f64; params.entity.data.len()];
    for (slot, &row) in g.ent_rows.iter().enumerate() {
        for i in 0..d {
            dense[row as usize * d + i] += g.ent[slot * d + i] as f64;
        }
    }
    // the loss's central difference along one parameter must match the hand gradient
    let check = |table: &str, pick: fn(&mut Params) -> &mut Vec<f32>, idx: usize, hand: f64| {
        let eps = 1e-2f32;
        let (mut up, mut dn) = (params.clone(), params.clone());
        pick(&mut up)[idx] += eps;
        pick(&mut dn)[idx] -= eps;
        let fd = (loss_and_grads(&cfg, &up, &triples).loss
            - loss_and_grads(&cfg, &dn, &triples).loss)
            / (2.0 * eps as f64);
        let tol = 2e-2 * fd.abs().max(hand.abs()) + 2e-3;
        assert!(
            (fd - hand).abs() < tol,
            "{model:?} {norm:?} {table}[{idx}]: fd {fd} vs {hand}"
        );
    };
    for idx in [0, 5, 7, 13, 20, 33] {
        check("entity", |p| &mut p.entity.data, idx, dense[idx]);
    }

    if model == ModelKind::Hyperbolic {
        let mut bias = vec![0.0f64; params.bias.data.len()];
        for (slot, &row) in g.ent_rows.iter().enumerate() {
            bias[row as usize] += g.bias[slot] as f64;
        }
        assert!(bias.iter().any(|&b| b != 0.0), "no bias gradient");
        for (idx, &hand) in bias.iter().enumerate() {
            check("bias", |p| &mut p.bias.data, idx, hand);
        }
    } else {
        assert!(params.bias.data.is_empty() && g.bias.iter().all(|&b| b == 0.0));
    }

    let w = params.relation.width;
    let mut rel = vec![0.0f64; params.relation.data.len()];
    for (slot, &row) in g.rel_rows.iter().enumerate() {
        for i in 0..w {
            rel[row as usize * w + i] += g.rel[slot * w + i] as f64;
        }
    }
    if cfg.reciprocal {
        let inverse = &rel[2 * w..];
        assert!(inverse.iter().any(|&g| g != 0.0), "no inverse-row gradient");
    }
    let last = params.relation.data.len() - 1;
    // `2 * w + 2` is in an inverse row where the table has them
    for idx in [0, 3, w + 1, (2 * w + 2).min(last), last] {
        check("relation", |p| &mut p.relation.data, idx, rel[idx]);
    }
}

/// `d loss / d raw curvature` by central differences.
fn curvature_fd(cfg: &TrainConfig, params: &Params, triples: &[Row]) -> f64 {
    let eps = 1e-2f32;
    let (mut up, mut dn) = (params.clone(), params.clone());
    up.curvature_raw += eps;
    dn.curvature_raw -= eps;
    (loss_and_grads(cfg, &up, triples).loss - loss_and_grads(cfg, &dn, triples).loss)
        / (2.0 * eps as f64)
}

#[test]
fn hyperbolic_hand_gradient_matches_candle_autograd() {
    let mut cfg = config(ModelKind::Hyperbolic, Norm::L2);
    cfg.loss.temperature = 0.0;
    let triples = tiny();
    let mut params = Params::init(&cfg, 6, 2);
    // move away from the initial point, where scales are near 1 and curvature exactly 1
    for (i, x) in params.entity.data.iter_mut().enumerate() {
        *x += 0.3 * ((i * 37 % 11) as f32 / 11.0 - 0.5);
    }
    for (i, x) in params.relation.data.iter_mut().enumerate() {
        *x += 0.2 * ((i * 13 % 7) as f32 / 7.0 - 0.5);
    }
    for (i, b) in params.bias.data.iter_mut().enumerate() {
        *b = 0.5 * ((i * 3 % 5) as f32 / 5.0 - 0.5);
    }
    params.curvature_raw = super::model::curvature_raw(0.6);
    let hand = loss_and_grads(&cfg, &params, &triples);
    let auto = grads_by(&cfg, &params, &triples, GradPath::Autograd(&Device::Cpu));
    assert!(
        (hand.loss - auto.loss).abs() < 1e-4 * auto.loss.abs().max(1.0),
        "{} vs {}",
        hand.loss,
        auto.loss
    );
    assert_eq!(hand.ent_rows, auto.ent_rows);
    let close = |a: f32, b: f32| (a - b).abs() <= 1e-3 * a.abs().max(b.abs()) + 1e-4;
    for (i, (a, b)) in hand.ent.iter().zip(&auto.ent).enumerate() {
        assert!(
            close(*a, *b),
            "entity slot value {i}: hand {a} vs candle {b}"
        );
    }
    assert_eq!(hand.bias.len(), auto.bias.len());
    assert!(hand.bias.iter().any(|&b| b != 0.0));
    for (i, (a, b)) in hand.bias.iter().zip(&auto.bias).enumerate() {
        assert!(close(*a, *b), "bias slot {i}: hand {a} vs candle {b}");
    }
    for (i, (a, b)) in hand.rel.iter().zip(&auto.rel).enumerate() {
        assert!(
            close(*a, *b),
            "relation slot value {i}: hand {a} vs candle {b}"
        );
    }
    assert!(
        close(hand.curvature, auto.curvature),
        "{} vs {}",
        hand.curvature,
        auto.curvature
    );
    let fd = curvature_fd(&cfg, &params, &triples);
    assert!(
        (fd - hand.curvature as f64).abs() < 2e-2 * fd.abs() + 2e-3,
        "fd {fd}"
    );
}

#[test]
fn transe_gradients_match_finite_differences() {
    check_gradients(ModelKind::Transe, Norm::L2);
    check_gradients(ModelKind::Transe, Norm::L1);
}

#[test]
fn hyperbolic_gradients_match_finite_differences() {
    check_gradients(ModelKind::Hyperbolic, Norm::L2);
}

#[test]
fn reciprocal_transe_gradients_match_finite_differences() {
    for norm in [Norm::L2, Norm::L1] {
        let mut cfg = config(ModelKind::Transe, norm);
        cfg.loss.temperature = 0.0;
        cfg.reciprocal = true;
        check_gradients_of(&cfg);
    }
}

#[test]
fn softmax_loss_gradients_match_finite_differences() {
    for (model, norm, reciprocal) in [
        (ModelKind::Transe, Norm::L2, false),
        (ModelKind::Transe, Norm::L1, true),
        (ModelKind::Hyperbolic, Norm::L2, false),
    ] {
        let mut cfg = config(model, norm);
        cfg.loss = Loss {
            kind: LossKind::Softmax,
            margin: 0.0,
            temperature: 0.8,
        };
        cfg.reciprocal = reciprocal;
        check_gradients_of(&cfg);
    }
}

/// A chain `i -> i + 1` and its two-step chord: `e_i = i * r` satisfies both exactly.
fn ring() -> TripleData {
    let n = 24u32;
    let mut train = Vec::new();
    for i in 0..n - 2 {
        train.push([i, 0, i + 1]);
        train.push([i, 1, i + 2]);
    }
    TripleData {
        entities: (0..n).map(|i| format!("E{i}")).collect(),
        relations: vec!["next".into(), "skip".into()],
        train,
        ..Default::default()
    }
}

#[test]
fn transe_recovers_a_chain() {
    let data = ring();
    let mut cfg = config(ModelKind::Transe, Norm::L2);
    cfg.dim = 8;
    cfg.loss = Loss {
        kind: LossKind::Margin,
        margin: 1.0,
        temperature: 1.0,
    };
    cfg.epochs = 300;
    cfg.lr = 0.5;

    cfg.negatives = 8;
    cfg.batch_size = 16;
    cfg.corruption = Corruption::Uniform;
    cfg.filtered_negatives = true;
    let trainer = Trainer {
        cfg,
        data: &data,
        device: Device::Cpu,
        checkpoint: None,
        progress: false,
    };
    let (params, _) = trainer.run(false).unwrap();
    let m = evaluate(&params.view(), &data.train, &filter_from(&[&data.train]));
    // random ranking over 24 entities: mean rank 12.5, MRR about 0.16. The anchor itself is
    // not filtered, so Hits@1 is only high once `h + r` sits nearer `t` than `h`.
    assert!(m.hits1 >= 0.8 && m.mrr >= 0.9 && m.hits3 == 1.0, "{m:?}");
}

#[test]
fn resume_equals_an_uninterrupted_run() {
    for (model, reciprocal) in [
        (ModelKind::Transe, false),
        (ModelKind::Transe, true),
        (ModelKind::Hyperbolic, false),
    ] {
        let data = ring();
        let dir = tempfile::tempdir().unwrap();
        let cfg = TrainConfig {
            reciprocal,
            ..config(model, Norm::L1)
        };
        let run = |epochs: u64, ckpt: &str, resume: bool| {
            let trainer = Trainer {
                cfg: TrainConfig {
                    epochs,
                    ..cfg.clone()
                },
                data: &data,
                device: Device::Cpu,
                checkpoint: Some(dir.path().join(ckpt)),
                progress: false,
            };
            trainer.run(resume).unwrap()
        };
        let (whole, _) = run(4, "a", false);
        run(2, "b", false);
        let (resumed, state) = run(4, "b", true);
        assert_eq!(state.epochs_done, 4);
        assert_eq!(state.history.len(), 4);
        assert_eq!(whole, resumed, "{model:?} reciprocal {reciprocal}");
    }
}

#[test]
fn a_damaged_checkpoint_is_named_with_what_to_do() {
    let data = ring();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("transe.checkpoint.safetensors");
    let trainer = |epochs: u64| Trainer {
        cfg: TrainConfig {
            epochs,
            ..config(ModelKind::Transe, Norm::L1)
        },
        data: &data,
        device: Device::Cpu,
        checkpoint: Some(path.clone()),
        progress: false,
    };
    trainer(1).run(false).unwrap();
    let whole = std::fs::read(&path).unwrap();
    let header = 8 + u64::from_le_bytes(whole[..8].try_into().unwrap()) as usize;
    for (damage, bytes, reason) in [
        ("cut in its header", &whole[..100], "("),
        ("cut in its tables", &whole[..header + 40], "(safetensors: "),
        ("not a checkpoint", &b"garbage\n"[..], "("),
    ] {
        std::fs::write(&path, bytes).unwrap();
        let advice = format!("{}: the checkpoint cannot be read {reason}", path.display());
        let err = trainer(2).run(true).unwrap_err().to_string();
        assert!(
            err.starts_with(&advice)
                && err.ends_with("so the run cannot resume from it: remove it to start over"),
            "{damage}: {err}"
        );
        if damage != "cut in its tables" {
            let err = super::checkpoint::read_progress(&path)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&advice) && err.ends_with("remove it to start over"),
                "{damage}: {err}"
            );
        }
    }
    std::fs::write(&path, &whole[..100]).unwrap();
    let err = super::checkpoint::read_progress(&path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("(it is cut short)"), "{err}");
}

#[test]
fn a_checkpoint_under_a_folder_not_made_yet_is_written() {
    // A first run of `tailor embed --out out/emb/transe` on a fresh clone has no `out/emb`.
    let data = ring();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not/made/yet.checkpoint");
    let trainer = Trainer {
        cfg: TrainConfig {
            epochs: 1,
            ..config(ModelKind::Transe, Norm::L1)
        },
        data: &data,
        device: Device::Cpu,
        checkpoint: Some(path.clone()),
        progress: false,
    };
    trainer.run(false).unwrap();
    assert!(path.exists());
}

#[test]
fn biases_survive_the_store_and_old_stores_load_as_zero() {
    let data = ring();
    let cfg = TrainConfig {
        epochs: 3,
        ..config(ModelKind::Hyperbolic, Norm::L2)
    };
    let trainer = Trainer {
        cfg: cfg.clone(),
        data: &data,
        device: Device::Cpu,
        checkpoint: None,
        progress: false,
    };
    let (params, state) = trainer.run(false).unwrap();
    assert!(
        params.bias.data.iter().any(|&b| b != 0.0),
        "biases never moved"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("emb");
    let manifest = super::store::EmbedManifest::new(&cfg, &data, &params, &state);
    assert!(manifest.entity_bias);
    super::store::save(&out, &params, &data, &manifest).unwrap();

    let emb = super::store::Embeddings::load(&out).unwrap();
    for (i, id) in data.entities.iter().enumerate() {
        assert_eq!(emb.entity_bias(id), Some(params.bias.data[i]));
    }
    let filter = filter_from(&[&data.train]);
    let trained = evaluate(&params.view(), &data.train, &filter);
    assert_eq!(evaluate(&emb.view(), &data.train, &filter), trained);

    // the same store written before the model had biases: the entity file lacks the table
    let path = out.join("entities.safetensors");
    let f = super::tensors::read(&path).unwrap();
    let tables: Vec<super::tensors::Named> = f
        .tables
        .iter()
        .filter(|(name, _)| name.as_str() != "bias")
        .map(|(name, (shape, values))| super::tensors::Named {
            name,
            shape: shape.clone(),
            values,
        })
        .collect();
    assert_eq!(tables.len(), f.tables.len() - 1);
    super::tensors::write(&path, &tables, f.metadata.clone(), false).unwrap();
    let old = super::store::Embeddings::load(&out).unwrap();
    assert_eq!(old.entity_bias(&data.entities[0]), Some(0.0));
    assert!(old.view().bias.is_empty());
    let unbiased = Params {
        bias: super::optim::Table::new(vec![0.0; data.entities.len()], 1),
        ..params.clone()
    };
    assert_eq!(
        evaluate(&old.view(), &data.train, &filter),
        evaluate(&unbiased.view(), &data.train, &filter)
    );
}

#[test]
fn reciprocal_transe_survives_the_store_and_old_stores_load_without_it() {
    let data = ring();
    for reciprocal in [true, false] {
        let cfg = TrainConfig {
            epochs: 3,
            reciprocal,
            ..config(ModelKind::Transe, Norm::L1)
        };
        let trainer = Trainer {
            cfg: cfg.clone(),
            data: &data,
            device: Device::Cpu,
            checkpoint: None,
            progress: false,
        };
        let (params, state) = trainer.run(false).unwrap();
        let rows = if reciprocal { 4 } else { 2 };
        assert_eq!(params.relation.rows(), rows);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("emb");
        let manifest = super::store::EmbedManifest::new(&cfg, &data, &params, &state);
        super::store::save(&out, &params, &data, &manifest).unwrap();
        let emb = super::store::Embeddings::load(&out).unwrap();
        assert_eq!(emb.relation_ids().len(), rows);
        assert_eq!(
            emb.relation("next/inverse").is_some(),
            reciprocal,
            "{:?}",
            emb.relation_ids()
        );
        let filter = filter_from(&[&data.train]);
        let trained = evaluate(&params.view(), &data.train, &filter);
        assert_eq!(evaluate(&emb.view(), &data.train, &filter), trained);

        if !reciprocal {
            // a manifest written before the option: neither it nor its config has the field
            let path = out.join("manifest.json");
            let mut json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            json.as_object_mut().unwrap().remove("reciprocal").unwrap();
            json["config"]
                .as_object_mut()
                .unwrap()
                .remove("reciprocal")
                .unwrap();
            std::fs::write(&path, json.to_string()).unwrap();
            let old = super::store::Embeddings::load(&out).unwrap();
            assert!(!old.manifest.reciprocal && !old.manifest.config.reciprocal);
            assert_eq!(evaluate(&old.view(), &data.train, &filter), trained);
        }
    }
}
