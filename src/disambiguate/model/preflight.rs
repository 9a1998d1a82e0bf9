//! Checks a training run passes before it writes anything: a resumed run keeps the
//! interrupted run's settings, and the splits are large enough to train on.

use std::path::Path;

use crate::disambiguate::weak::WeakOptions;

use super::error::{ModelError, Result};
use super::store::{ModelConfig, CONFIG_FILE, LAST_WEIGHTS_FILE, MODEL_DIR};

/// Refuses to resume the run in `dir` when its settings differ from the interrupted one's.
pub(super) fn refuse_change(dir: &Path, previous: &ModelConfig, now: &ModelConfig) -> Result<()> {
    match resume_change(previous, now) {
        None => Ok(()),
        Some(change) => Err(ModelError::bad(
            dir,
            format!(
                "cannot resume: {change}; rerun with the interrupted run's settings, or remove {} \
                 to start over",
                dir.display()
            ),
        )),
    }
}

/// Refuses `--resume` when there is nothing to resume (no `staging`) and `out` is a finished
/// model: training anew would replace it without a word.
pub fn refuse_resuming_nothing(out: &Path, staging: &Path) -> Result<()> {
    if staging.exists() || !out.join(CONFIG_FILE).exists() {
        return Ok(());
    }
    Err(ModelError::bad(
        out,
        format!(
            "--resume: no interrupted run to resume ({} does not exist) and this is a finished \
             model; train without --resume to replace it",
            staging.display()
        ),
    ))
}

/// Refuses to resume from `staging` (a run's `OUT.partial`) unless it is a checkpoint of
/// `tailor train`: the full model's settings and last weights, which a run writes after its
/// first epoch, and nothing a run does not write. Resuming anything else (an empty directory, a
/// user's files of that name) would train into it and ship its files inside the model.
pub fn check_checkpoint(staging: &Path) -> Result<()> {
    let missing: Vec<&str> = [CONFIG_FILE, LAST_WEIGHTS_FILE]
        .into_iter()
        .filter(|name| !staging.join(name).is_file())
        .collect();
    let mut foreign = Vec::new();
    for entry in std::fs::read_dir(staging).map_err(|e| ModelError::io(staging, e))? {
        let name = entry.map_err(|e| ModelError::io(staging, e))?.file_name();
        let name = name.to_string_lossy().into_owned();
        if !MODEL_DIR.names.contains(&name.as_str()) {
            foreign.push(name);
        }
    }
    foreign.sort();
    let what = match (missing.is_empty(), foreign.is_empty()) {
        (true, true) => return Ok(()),
        (false, _) => format!(
            "it holds no {} (a run writes them after its first epoch)",
            missing.join(" and ")
        ),
        (true, false) => format!(
            "it holds {}, which training does not write",
            foreign.join(", ")
        ),
    };
    Err(ModelError::bad(
        staging,
        format!(
            "cannot resume: not a checkpoint of `tailor train`: {what}; remove {} to start over",
            staging.display()
        ),
    ))
}

/// Fewest training mentions a model is fitted on: below this the fusion layers learn the few
/// examples by heart and the run only looks like training.
pub const MIN_TRAINING_MENTIONS: usize = 10;
/// Fewest held-out mentions: the best epoch is chosen on them, and one mention cannot tell
/// epochs apart.
pub const MIN_HOLDOUT_MENTIONS: usize = 2;

/// Refuses splits too small to train on, before anything is written, naming the settings that
/// would make them larger.
pub(super) fn check_split_sizes(
    weak_labels: Option<&WeakOptions>,
    training: usize,
    holdout: usize,
    dropped: usize,
) -> Result<()> {
    if training >= MIN_TRAINING_MENTIONS && holdout >= MIN_HOLDOUT_MENTIONS {
        return Ok(());
    }
    let fix = match weak_labels {
        Some(weak) => format!(
            "raise the weak-label budget (--max-examples, now {}) or the held-out share \
             (--holdout, now {})",
            weak.max_examples, weak.holdout
        ),
        None => "give more labelled sentences".into(),
    };
    Err(ModelError::Training(format!(
        "{training} training and {holdout} held-out mentions (after dropping {dropped} whose \
         gold is not among the candidates) are too few: training needs at least \
         {MIN_TRAINING_MENTIONS} and {MIN_HOLDOUT_MENTIONS}; {fix}"
    )))
}

/// The first setting in which a run to resume differs from the interrupted one, as
/// "`options.seed` was 17, now 3". Only the number of epochs may change: weights trained on other
/// labels, candidates, texts or shapes cannot be continued.
fn resume_change(previous: &ModelConfig, now: &ModelConfig) -> Option<String> {
    let settings = |c: &ModelConfig| {
        let mut v = serde_json::to_value(c).unwrap_or_default();
        if let Some(map) = v.as_object_mut() {
            for progress in ["history", "best_epoch"] {
                map.remove(progress);
            }
            if let Some(options) = map.get_mut("options").and_then(|o| o.as_object_mut()) {
                options.remove("epochs");
            }
        }
        v
    };
    let (was, is) = (settings(previous), settings(now));
    let (Some(was), Some(is)) = (was.as_object(), is.as_object()) else {
        return None;
    };
    let mut keys: Vec<&String> = was.keys().chain(is.keys()).collect();
    keys.sort();
    keys.dedup();
    // settings before what follows from them: a new seed changes the held-out count too, and
    // the seed is what the user changed
    const DERIVED: [&str; 2] = ["training_mentions", "holdout_mentions"];
    keys.sort_by_key(|k| DERIVED.contains(&k.as_str()));
    let null = serde_json::Value::Null;
    for key in keys {
        let (a, b) = (was.get(key).unwrap_or(&null), is.get(key).unwrap_or(&null));
        if a == b {
            continue;
        }
        // name the inner setting where both are objects
        if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
            let inner = a.keys().chain(b.keys()).find(|k| a.get(*k) != b.get(*k));
            if let Some(k) = inner {
                return Some(format!(
                    "`{key}.{k}` was {}, now {}",
                    a.get(k).unwrap_or(&null),
                    b.get(k).unwrap_or(&null)
                ));
            }
        }
        return Some(format!("`{key}` was {a}, now {b}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_resumes_only_with_the_interrupted_runs_settings() {
        let previous = ModelConfig::read(Path::new("models/default")).unwrap();
        let mut now = previous.clone();
        now.history.clear();
        now.best_epoch = None;
        now.options.epochs += 4;
        assert_eq!(
            resume_change(&previous, &now),
            None,
            "more epochs continue the run"
        );
        now.options.relations_in_text = 4;
        assert_eq!(
            resume_change(&previous, &now).as_deref(),
            Some("`options.relations_in_text` was 0, now 4")
        );
        let mut now = previous.clone();
        now.shape.hidden += 1;
        assert!(resume_change(&previous, &now)
            .unwrap()
            .starts_with("`shape.hidden`"));
        let mut now = previous.clone();
        now.options.seed += 1;
        now.holdout_mentions += 1;
        assert!(
            resume_change(&previous, &now)
                .unwrap()
                .starts_with("`options.seed`"),
            "the setting is named, not the count that follows from it"
        );
        let mut now = previous.clone();
        now.encoder_fingerprint = Some("other".into());
        assert!(resume_change(&previous, &now)
            .unwrap()
            .starts_with("`encoder_fingerprint`"));
    }

    #[test]
    fn only_a_training_checkpoint_is_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join("m.partial");
        std::fs::create_dir(&staging).unwrap();
        let err = check_checkpoint(&staging).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "{}: cannot resume: not a checkpoint of `tailor train`: it holds no config.json \
                 and last.safetensors",
                staging.display()
            )) && err.ends_with(&format!("remove {} to start over", staging.display())),
            "{err}"
        );
        std::fs::write(staging.join("notes.txt"), b"mine").unwrap();
        std::fs::write(staging.join(CONFIG_FILE), b"{}").unwrap();
        let err = check_checkpoint(&staging).unwrap_err().to_string();
        assert!(
            err.contains("it holds no last.safetensors (a run writes them"),
            "{err}"
        );
        std::fs::write(staging.join(LAST_WEIGHTS_FILE), b"weights").unwrap();
        let err = check_checkpoint(&staging).unwrap_err().to_string();
        assert!(
            err.contains("it holds notes.txt, which training does not write"),
            "{err}"
        );
        std::fs::remove_file(staging.join("notes.txt")).unwrap();
        std::fs::create_dir_all(staging.join("kg/transe")).unwrap();
        std::fs::create_dir_all(staging.join("ablations/text-only")).unwrap();
        check_checkpoint(&staging).unwrap();
    }
}
