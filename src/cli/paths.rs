//! Guards on where a command writes: never onto, or into, what the same run reads.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// The path as the file system resolves it; a path that does not exist yet resolves through
/// its parent, so `out/new.jsonl` and `./out/new.jsonl` compare equal.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            resolved(parent).join(name)
        }
        _ => path.to_path_buf(),
    }
}

/// Refuses an output that is one of the run's inputs or lies inside an input directory (a KB,
/// a model): written aside and renamed, it would replace what the run read.
pub fn refuse_overwriting(flag: &str, out: &Path, reads: &[&Path]) -> Result<()> {
    let target = resolved(out);
    for read in reads {
        let source = resolved(read);
        if target == source {
            bail!(
                "{flag} {} is also read by this run: writing it would destroy it",
                out.display()
            );
        }
        if source.is_dir() && target.starts_with(&source) {
            bail!(
                "{flag} {} is inside {}, which this run reads",
                out.display(),
                read.display()
            );
        }
    }
    Ok(())
}

/// Refuses an output directory that holds one of the run's inputs: it is replaced whole once
/// the output is complete, which would delete the input with it.
pub fn refuse_inputs_inside(flag: &str, out: &Path, reads: &[&Path]) -> Result<()> {
    let target = resolved(out);
    for read in reads {
        let source = resolved(read);
        if source != target && source.starts_with(&target) {
            bail!(
                "{flag} {} holds {}, which this run reads: the output replaces the directory \
                 whole, so name another",
                out.display(),
                read.display()
            );
        }
    }
    Ok(())
}

/// `path` without `.` components: `kb/.` names the directory `kb`, and the rename that puts
/// an output in place needs that name (`rename(staging, "kb/.")` fails after all the work).
pub fn normalized(path: &Path) -> PathBuf {
    let clean: PathBuf = path.components().collect();
    if clean.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        clean
    }
}

/// Refuses an output directory that is the current directory or one above it: an output
/// deserves a directory of its own.
pub fn refuse_current_dir(flag: &str, out: &Path) -> Result<()> {
    let here = resolved(Path::new("."));
    if here.starts_with(resolved(out)) {
        bail!(
            "{flag} {} is the current directory or one above it: name a directory of its own",
            out.display()
        );
    }
    Ok(())
}

/// The directories tailor's commands write, each by a file it always holds, which no other
/// output goes into: their next run would find a file they did not write (and refuse), or, for
/// a file output, one of their own files would be replaced. A link run's directory is told by
/// [`tailor::link::refuse_inside_run`].
const OUTPUT_MARKERS: [(&str, &str); 5] = [
    (tailor::kb::store::KB_DIR.marker, "a KB store"),
    (tailor::embed::EMBEDDINGS_DIR.marker, "embeddings"),
    (tailor::disambiguate::model::MODEL_DIR.marker, "a model"),
    ("fetch.json", "a fetched text encoder"),
    ("metrics.json", "an evaluation report"),
];

/// What kind of tailor output `dir` is, if any.
fn output_kind_of(dir: &Path) -> Option<&'static str> {
    OUTPUT_MARKERS
        .iter()
        .find(|(marker, _)| dir.join(marker).exists())
        .map(|(_, what)| *what)
}

/// Refuses a report directory that is another command's output (an earlier report is fine).
pub fn refuse_inside_outputs(flag: &str, dir: &Path) -> Result<()> {
    tailor::link::refuse_inside_run(&dir.join("metrics.json"))?;
    match output_kind_of(dir) {
        Some(what) if what != "an evaluation report" => {
            bail!(
                "{flag} {} is {what}: name a directory of its own",
                dir.display()
            )
        }
        _ => Ok(()),
    }
}

/// Refuses a file output (`--records`, `--rejects`, `link --out FILE`) that would land in a
/// directory tailor wrote: it would replace one of that output's files, or be a stranger there.
pub fn refuse_file_in_outputs(flag: &str, file: &Path) -> Result<()> {
    tailor::link::refuse_inside_run(file)?;
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Some(what) = output_kind_of(dir) {
        bail!(
            "{flag} {} is inside {}, which is {what}: write it somewhere of its own",
            file.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Refuses, before any work, an output directory that holds something other than an earlier
/// output of the same kind (marked by `marker`): the finished output replaces it whole.
pub fn refuse_replacing(flag: &str, out: &Path, kind: &tailor::persist::OutputDir) -> Result<()> {
    refuse_current_dir(flag, out)?;
    if let Err(e) = tailor::persist::check_replaceable(out, kind) {
        bail!("{flag} {} {e}", out.display());
    }
    Ok(())
}

/// True when `path` is `dir` or lies inside it, however either is spelled.
pub fn within(path: &Path, dir: &Path) -> bool {
    resolved(path).starts_with(resolved(dir))
}

/// True when two paths name the same file, however they are spelled.
pub fn same_file(a: &Path, b: &Path) -> bool {
    resolved(a) == resolved(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_onto_or_into_an_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        std::fs::write(&input, "{}").unwrap();
        let kb = dir.path().join("kb");
        std::fs::create_dir(&kb).unwrap();
        let spelled_apart = dir.path().join("kb/../in.jsonl");
        let err = refuse_overwriting("--out", &spelled_apart, &[&input]).unwrap_err();
        assert!(err.to_string().contains("also read"), "{err}");
        let err = refuse_overwriting("--out", &kb.join("entities.parquet"), &[&kb]).unwrap_err();
        assert!(err.to_string().contains("inside"), "{err}");
        let fine = dir.path().join("new/out.jsonl");
        assert!(refuse_overwriting("--out", &fine, &[&input, &kb]).is_ok());
        assert!(same_file(&input, &spelled_apart));
    }
}
