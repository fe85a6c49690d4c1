//! The batch script of one experiment: `assets/slurm/job.sh` with every value single-quoted,
//! so no path, environment value or command text is ever re-read as shell syntax.

use std::path::Path;

use crate::executor::{ExecutorError, RunSpec};

const TEMPLATE: &str = include_str!("../../../assets/slurm/job.sh");

/// The script text for `spec`, writing its exit code to `exit_file`.
pub fn render(spec: &RunSpec, exit_file: &Path) -> Result<String, ExecutorError> {
    let mut exports = String::new();
    for (key, value) in &spec.env {
        if !valid_name(key) {
            return Err(ExecutorError::EnvironmentName(key.clone()));
        }
        exports.push_str(&format!("export {key}={}\n", quote(value)));
    }
    let values = [
        ("@DIR@", quote(&spec.dir.display().to_string())),
        ("@EXPORTS@", exports.trim_end().to_string()),
        ("@COMMAND@", quote(&spec.command)),
        ("@EXIT_FILE@", quote(&exit_file.display().to_string())),
    ];
    Ok(substitute(TEMPLATE, &values))
}

/// Replaces each placeholder in one pass: a value that contains a placeholder's name is
/// never substituted again.
fn substitute(template: &str, values: &[(&str, String)]) -> String {
    let mut output = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some((position, name, value)) = values
        .iter()
        .filter_map(|(name, value)| rest.find(name).map(|position| (position, *name, value)))
        .min_by_key(|(position, _, _)| *position)
    {
        output.push_str(&rest[..position]);
        output.push_str(value);
        rest = &rest[position + name.len()..];
    }
    output.push_str(rest);
    output
}

/// A POSIX shell word that reads back as exactly `text`.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    fn spec(command: &str, value: &str) -> RunSpec {
        RunSpec {
            command: command.into(),
            dir: PathBuf::from("/work/my project"),
            env: vec![("DFH_NOTE".into(), value.into())],
            log: PathBuf::from("/work/my project/.dfh/logs/1.log"),
            timeout: Duration::from_secs(60),
            grace: Duration::from_secs(5),
        }
    }

    #[test]
    fn values_are_quoted_once() {
        let text = render(
            &spec(
                "python3 train.py --tag '@DIR@'",
                "it's $HOME `id` @COMMAND@",
            ),
            Path::new("/work/my project/.dfh/logs/1.exitcode"),
        )
        .unwrap();
        assert!(text.contains("cd '/work/my project' || exit 1"), "{text}");
        assert!(
            text.contains(r"export DFH_NOTE='it'\''s $HOME `id` @COMMAND@'"),
            "{text}"
        );
        assert!(
            text.contains(r"sh -c 'python3 train.py --tag '\''@DIR@'\'''"),
            "{text}"
        );
        assert!(!text.contains("@EXPORTS@") && !text.contains("@EXIT_FILE@"));
    }

    #[test]
    fn the_script_runs_the_command_with_the_values_intact() {
        let dir = tempfile::tempdir().unwrap();
        let exit_file = dir.path().join("exit code");
        let mut spec = spec(
            r#"printf '%s' "$DFH_NOTE"; exit 3"#,
            "a'b $X `y` \"z\"\nline",
        );
        spec.dir = dir.path().to_path_buf();
        let text = render(&spec, &exit_file).unwrap();
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(&text)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "a'b $X `y` \"z\"\nline"
        );
        assert_eq!(std::fs::read_to_string(&exit_file).unwrap(), "3\n");
    }

    #[test]
    fn bad_variable_names_are_refused() {
        let mut spec = spec("true", "");
        spec.env = vec![("A;B".into(), String::new())];
        assert!(render(&spec, Path::new("/x")).is_err());
    }
}
