//! Check (a): the editable Python files compile. One `python3` compiles them all; it can be
//! started early (`SyntaxCheck::start`) so its start-up overlaps the harness's other work.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::refusal::Refusal;

/// A syntax check in flight.
pub struct SyntaxCheck {
    child: Option<Child>,
    spawn_failed: bool,
}

impl SyntaxCheck {
    /// Starts compiling the editable Python files that exist.
    pub fn start(root: &Path, editable: &[String]) -> Self {
        let files: Vec<&String> = editable
            .iter()
            .filter(|file| file.ends_with(".py") && root.join(file).exists())
            .collect();
        if files.is_empty() {
            return Self {
                child: None,
                spawn_failed: false,
            };
        }
        // -I -S: no site packages, user site or PYTHON* variables. compile() needs none of
        // them, and importing site-packages is most of a python3 start (~40 ms of ~50 with a
        // large environment).
        let child = Command::new("python3")
            .args(["-I", "-S", "-c", SCRIPT])
            .args(files)
            .current_dir(root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        match child {
            Ok(child) => Self {
                child: Some(child),
                spawn_failed: false,
            },
            Err(_) => Self {
                child: None,
                spawn_failed: true,
            },
        }
    }

    /// Waits for the check; refuses the first file that does not compile, with file:line.
    pub fn finish(mut self) -> Result<(), Refusal> {
        if self.spawn_failed {
            return Err(Refusal::new(
                "cannot run python3 to check the syntax of the editable files; install Python 3",
            ));
        }
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let mut text = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            let _ = stdout.read_to_string(&mut text);
        }
        let status = child.wait();
        if status.is_ok_and(|status| status.success()) {
            return Ok(());
        }
        let mut parts = text.trim().splitn(4, '\t');
        let file = parts.next().unwrap_or("?").to_string();
        let line = parts.next().unwrap_or("?").to_string();
        let message = parts.next().unwrap_or("invalid syntax").to_string();
        let source = parts.next().unwrap_or("").trim().to_string();
        let quoted = if source.is_empty() {
            String::new()
        } else {
            format!(": `{source}`")
        };
        Err(Refusal::new(format!(
            "{file}:{line}: {message}{quoted}. Fix the syntax on line {line} of {file} and run again"
        )))
    }
}

impl Drop for SyntaxCheck {
    fn drop(&mut self) {
        // A check started but never finished (a refusal came first) leaves no zombie behind.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Refuses the first editable Python file that does not compile, with file:line and the line.
pub fn check(root: &Path, editable: &[String]) -> Result<(), Refusal> {
    SyntaxCheck::start(root, editable).finish()
}

/// Prints `file\tline\tmessage\tsource` for the first syntax error; exit 1.
const SCRIPT: &str = r#"
import sys
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as handle:
            compile(handle.read(), path, "exec")
    except SyntaxError as error:
        source = (error.text or "").strip().replace("\t", " ")
        print(f"{path}\t{error.lineno}\t{error.msg}\t{source}")
        sys.exit(1)
"#;
