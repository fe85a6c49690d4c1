//! The one place that writes to the terminal: stdout is data, stderr is talk.
//!
//! Progress lines appear only on a terminal and never with `--json` or `--quiet`. A closed
//! stdout (`dfh status | head -1`) is not an error: output simply stops. Everything written
//! passes through `redact`, so no secret of the environment reaches an agent or a terminal.

use std::io::{IsTerminal, Write};

use serde::Serialize;

/// A value a command prints: one human rendering, one JSON rendering.
pub trait Render: Serialize {
    fn human(&self) -> String;
}

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub json: bool,
    pub quiet: bool,
    progress: bool,
}

impl Printer {
    pub fn new(json: bool, quiet: bool) -> Self {
        let progress = !json && !quiet && std::io::stderr().is_terminal();
        Self {
            json,
            quiet,
            progress,
        }
    }

    /// Prints a command's result on stdout, as JSON with `--json`.
    pub fn render<T: Render>(&self, value: &T) {
        if self.json {
            self.json_line(value);
        } else {
            self.data(&value.human());
        }
    }

    pub fn json_line<T: Serialize>(&self, value: &T) {
        // Redacted string by string, so a masked value never breaks the JSON around it.
        let rendered = serde_json::to_value(value).and_then(|mut value| {
            crate::redact::redact_json(&mut value);
            serde_json::to_string(&value)
        });
        match rendered {
            Ok(text) => self.write_stdout(&text),
            Err(error) => self.talk(&format!("dfh: cannot render JSON: {error}")),
        }
    }

    /// Data on stdout, followed by a newline when it lacks one.
    pub fn data(&self, text: &str) {
        self.write_stdout(&crate::redact::redact(text));
    }

    fn write_stdout(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = stdout.write_all(b"\n");
        }
        let _ = stdout.flush();
    }

    /// A message on stderr (warnings, notes); silenced by `--quiet`.
    pub fn talk(&self, text: &str) {
        if !self.quiet {
            self.error(text);
        }
    }

    /// An error on stderr, never silenced.
    pub fn error(&self, text: &str) {
        let text = crate::redact::redact(text);
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{text}");
    }

    /// A one-line live status on a terminal, rewritten in place.
    pub fn progress(&self, text: &str) {
        if self.progress {
            let text = crate::redact::redact(text);
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K{text}");
            let _ = stderr.flush();
        }
    }

    pub fn clear_progress(&self) {
        if self.progress {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K");
            let _ = stderr.flush();
        }
    }
}
