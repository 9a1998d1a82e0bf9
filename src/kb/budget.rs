//! The error budget of `--max-errors`: malformed records are either fatal (the default) or
//! counted, logged and written to a rejects file, never dropped silently.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::error::{KbError, RecordAt, Result};

pub struct ErrorBudget {
    limit: u64,
    count: u64,
    rejects: Option<(PathBuf, BufWriter<File>)>,
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
                let file = File::create(path).map_err(|e| KbError::io(path, e))?;
                Some((path.to_path_buf(), BufWriter::new(file)))
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
        if let (Some((path, out)), KbError::BadRecord { at, message }) = (&mut self.rejects, &err) {
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

    pub fn finish(mut self) -> Result<u64> {
        if let Some((path, out)) = &mut self.rejects {
            out.flush().map_err(|e| KbError::io(path.as_path(), e))?;
        }
        Ok(self.count)
    }
}
