//! Opening source files: transparent decompression by extension, line-numbered reading that
//! reports invalid UTF-8 with its position, and a byte progress bar on terminals.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use super::error::{KbError, Result};

/// Opens `path` for reading, decompressing `.gz`, `.bz2` and `.zst` by extension.
///
/// The progress bar, when given, advances by compressed bytes read from disk, so it reaches
/// 100% exactly when the file is consumed whatever the compression ratio.
pub fn open_source(path: &Path, progress: Option<&ProgressBar>) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| KbError::io(path, e))?;
    let raw: Box<dyn Read> = match progress {
        Some(bar) => {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            bar.set_length(len);
            bar.set_position(0);
            Box::new(bar.wrap_read(file))
        }
        None => Box::new(file),
    };
    let name = path.to_string_lossy();
    let reader: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(raw))
    } else if name.ends_with(".bz2") {
        Box::new(bzip2::read::MultiBzDecoder::new(raw))
    } else if name.ends_with(".zst") {
        Box::new(zstd::Decoder::new(raw).map_err(|e| KbError::io(path, e))?)
    } else {
        raw
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, reader)))
}

/// A progress bar for reading one file, drawn only when stderr is a terminal.
pub fn file_progress(path: &Path) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:30!} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("static template"),
    );
    bar.set_message(
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    bar
}

/// Reads a source line by line, keeping the 1-based line number and checking UTF-8.
pub struct Lines {
    path: PathBuf,
    reader: Box<dyn BufRead>,
    buf: Vec<u8>,
    line: u64,
    bytes: u64,
}

impl Lines {
    pub fn open(path: &Path, progress: Option<&ProgressBar>) -> Result<Self> {
        Ok(Self::new(path, open_source(path, progress)?))
    }

    pub fn new(path: &Path, reader: Box<dyn BufRead>) -> Self {
        Lines {
            path: path.to_path_buf(),
            reader,
            buf: Vec::with_capacity(1 << 16),
            line: 0,
            bytes: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Uncompressed bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    /// The next line without its `\n` or `\r\n`, with its line number; `None` at the end.
    ///
    /// Invalid UTF-8 is a record error naming the line and the byte offset within it.
    pub fn next_line(&mut self) -> Option<Result<(u64, &str)>> {
        self.buf.clear();
        match self.reader.read_until(b'\n', &mut self.buf) {
            Ok(0) => None,
            Ok(n) => {
                self.line += 1;
                self.bytes += n as u64;
                let mut end = self.buf.len();
                if end > 0 && self.buf[end - 1] == b'\n' {
                    end -= 1;
                }
                if end > 0 && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                match std::str::from_utf8(&self.buf[..end]) {
                    Ok(text) => Some(Ok((self.line, text))),
                    Err(e) => Some(Err(KbError::bad(
                        &self.path,
                        self.line,
                        format!("invalid UTF-8 at byte {} of the line", e.valid_up_to() + 1),
                    ))),
                }
            }
            Err(e) => Some(Err(KbError::io(&self.path, e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn lines_of(bytes: &'static [u8]) -> Lines {
        Lines::new(Path::new("mem.txt"), Box::new(Cursor::new(bytes)))
    }

    #[test]
    fn strips_crlf_and_counts_lines() {
        let mut lines = lines_of(b"a\tb\r\nc\n\nd");
        let mut seen = Vec::new();
        while let Some(item) = lines.next_line() {
            let (n, text) = item.unwrap();
            seen.push((n, text.to_string()));
        }
        let expected = [(1, "a\tb"), (2, "c"), (3, ""), (4, "d")];
        let expected: Vec<_> = expected.iter().map(|(n, t)| (*n, t.to_string())).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let mut lines = lines_of(b"ok\nbad \xff here\n");
        assert!(lines.next_line().unwrap().is_ok());
        let err = lines.next_line().unwrap().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("mem.txt:2"), "{text}");
        assert!(text.contains("invalid UTF-8 at byte 5"), "{text}");
    }

    #[test]
    fn reads_gzip_by_extension() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt.gz");
        let mut enc = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(b"hello\nworld\n").unwrap();
        enc.finish().unwrap();
        let mut lines = Lines::open(&path, None).unwrap();
        assert_eq!(lines.next_line().unwrap().unwrap().1, "hello");
        assert_eq!(lines.next_line().unwrap().unwrap().1, "world");
        assert!(lines.next_line().is_none());
    }
}
