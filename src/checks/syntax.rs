//! Check (a): the editable Python files compile, via `python3 -m py_compile`.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::refusal::Refusal;

/// Refuses the first editable Python file that does not compile, with file:line and the line.
pub fn check(root: &Path, editable: &[String]) -> Result<(), Refusal> {
    for file in editable.iter().filter(|file| file.ends_with(".py")) {
        let path = root.join(file);
        if !path.exists() {
            continue;
        }
        let output = Command::new("python3")
            .args(["-c", SCRIPT])
            .arg(&path)
            .current_dir(root)
            .stdin(Stdio::null())
            .output();
        let Ok(output) = output else {
            return Err(Refusal::new(
                "cannot run python3 to check the syntax of the editable files; install Python 3",
            ));
        };
        if output.status.success() {
            continue;
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let mut parts = text.trim().splitn(3, '\t');
        let line = parts.next().unwrap_or("?").to_string();
        let message = parts.next().unwrap_or("invalid syntax").to_string();
        let source = parts.next().unwrap_or("").trim().to_string();
        let quoted = if source.is_empty() {
            String::new()
        } else {
            format!(": `{source}`")
        };
        return Err(Refusal::new(format!(
            "{file}:{line}: {message}{quoted}. Fix the syntax on line {line} of {file} and run again; no training was started"
        )));
    }
    Ok(())
}

/// Prints `line\tmessage\tsource` for a syntax error; exit 1.
const SCRIPT: &str = r#"
import sys
path = sys.argv[1]
try:
    with open(path, "rb") as handle:
        compile(handle.read(), path, "exec")
except SyntaxError as error:
    source = (error.text or "").strip().replace("\t", " ")
    print(f"{error.lineno}\t{error.msg}\t{source}")
    sys.exit(1)
"#;
