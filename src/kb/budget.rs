//! The error budget of `--max-errors`: malformed records are either fatal (the default) or
//! counted, logged and written to a rejects file, never dropped silently. The rejects file is
//! written aside and put in place only when the ingest has read every source, so a failed run
//! leaves no partial list (and no earlier list is replaced by one).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::error::{KbError, RecordAt, Result};
use crate::interrupt::Partial;

/// Where the skipped records go: the target, and the file written aside for it.
struct Rejects {
    path: PathBuf,
    out: BufWriter<NamedTempFile>,
    _partial: Partial,
}

pub struct ErrorBudget {
    limit: u64,
    count: u64,
    rejects: Option<Rejects>,
}

#[derive(serde::Serialize)]
struct Reject<'a> {
    file: String,
    line: u64,
    error: &'a str,
    record: &'a str,
}

impl ErrorBudget {
    /// A budget of `limit` bad records; each skipped one goes to `rejects` when given.
    pub fn new(limit: u64, rejects: Option<&Path>) -> Result<Self> {
        let rejects = match rejects {
            Some(path) => {
                let (tmp, partial) = crate::persist::aside(path, ".rejects.partial-")
                    .map_err(|e| KbError::io(path, e))?;
                Some(Rejects {
                    path: path.to_path_buf(),
                    out: BufWriter::new(tmp),
                    _partial: partial,
                })
            }
            None => None,
        };
        Ok(ErrorBudget {
            limit,
            count: 0,
            rejects,
        })
    }

    /// Absorbs a record error within the budget, or returns it. Other errors pass through.
    pub fn absorb(&mut self, err: KbError, record: &str) -> Result<()> {
        if !err.is_record_error() {
            return Err(err);
        }
        if self.count >= self.limit {
            return Err(if self.limit == 0 {
                err
            } else {
                KbError::TooManyErrors {
                    count: self.count + 1,
                    limit: self.limit,
                    last: Box::new(err),
                }
            });
        }
        self.count += 1;
        tracing::warn!("skipped bad record: {err}");
        if let (Some(Rejects { path, out, .. }), KbError::BadRecord { at, message }) =
            (&mut self.rejects, &err)
        {
            let RecordAt { path: file, line } = at;
            let reject = Reject {
                file: file.display().to_string(),
                line: *line,
                error: message,
                record,
            };
            serde_json::to_writer(&mut *out, &reject).expect("reject serializes");
            out.write_all(b"\n")
                .map_err(|e| KbError::io(path.as_path(), e))?;
        }
        Ok(())
    }

    /// Puts the rejects file in place; the count of skipped records.
    pub fn finish(self) -> Result<u64> {
        if let Some(Rejects { path, out, .. }) = self.rejects {
            let io = |e| KbError::io(path.as_path(), e);
            let tmp = out.into_inner().map_err(|e| io(e.into_error()))?;
            crate::persist::persist(tmp, &path).map_err(io)?;
        }
        Ok(self.count)
    }
}
