//! `dfh guard`'s judgement: which files an agent's edit tool may touch.
//!
//! The payload is the JSON an agent's pre-tool hook writes on stdin: Claude Code's
//! `PreToolUse` (`tool_input.file_path`, `notebook_path`), Gemini CLI's `BeforeTool`
//! (`tool_input.file_path`) and Codex's `PreToolUse` for `apply_patch` (the patch text in
//! `tool_input.command`, whose `*** Add/Update/Delete File:` and `*** Move to:` headers name
//! the files). Shell commands are not read: a hook cannot parse what a shell will write.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::config::RunConfig;

/// The tool call a hook reports, reduced to what the guard judges.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct HookCall {
    pub tool: String,
    /// The paths as the tool gave them, absolute or relative to `cwd`.
    pub paths: Vec<String>,
    pub cwd: Option<PathBuf>,
}

/// One path the guard refuses, and why, with what the agent may edit instead.
#[derive(Debug, Clone, Serialize)]
pub struct Blocked {
    pub path: String,
    pub reason: String,
}

/// Reads a hook payload. An error means the text is not a hook payload at all.
pub fn parse_payload(text: &str) -> Result<HookCall, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| format!("not JSON ({error})"))?;
    let Value::Object(payload) = value else {
        return Err("not a JSON object".into());
    };
    let text_of = |key: &str| payload.get(key).and_then(Value::as_str);
    let mut call = HookCall {
        tool: text_of("tool_name").unwrap_or_default().to_string(),
        paths: Vec::new(),
        cwd: text_of("cwd").map(PathBuf::from),
    };
    match payload.get("tool_input") {
        Some(Value::Object(input)) => {
            for key in ["file_path", "notebook_path", "path", "absolute_path"] {
                if let Some(path) = input.get(key).and_then(Value::as_str) {
                    call.paths.push(path.to_string());
                }
            }
            for key in ["command", "patch", "input"] {
                if let Some(text) = input.get(key).and_then(Value::as_str) {
                    call.paths.extend(patch_paths(text));
                }
            }
        }
        Some(Value::String(text)) => call.paths.extend(patch_paths(text)),
        _ => {}
    }
    call.paths.dedup();
    Ok(call)
}

/// The files an `apply_patch` envelope touches; none when the text is not a patch.
pub fn patch_paths(text: &str) -> Vec<String> {
    if !text.contains("*** Begin Patch") {
        return Vec::new();
    }
    const HEADERS: &[&str] = &[
        "*** Add File: ",
        "*** Update File: ",
        "*** Delete File: ",
        "*** Move to: ",
    ];
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            HEADERS
                .iter()
                .find_map(|header| line.strip_prefix(header))
                .map(|path| path.trim().to_string())
        })
        .filter(|path| !path.is_empty())
        .collect()
}

/// Judges every path of `call` against the project at `root`; `base` resolves relative paths
/// when the payload has no `cwd`. `run` is None when dfh.toml cannot be read: the harness's
/// own files are still guarded.
pub fn judge(root: &Path, run: Option<&RunConfig>, call: &HookCall, base: &Path) -> Vec<Blocked> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let base = call
        .cwd
        .as_deref()
        .filter(|cwd| cwd.is_absolute())
        .unwrap_or(base);
    let editable: &[String] = run.map(|run| run.editable.as_slice()).unwrap_or_default();
    let readonly: &[String] = run.map(|run| run.readonly.as_slice()).unwrap_or_default();
    let may_edit = format!(
        "You may edit {} (the experiment) and docs/ (hypotheses.md, strategy.md, papers/).",
        if editable.is_empty() {
            "the files in [run] editable of dfh.toml".to_string()
        } else {
            editable.join(", ")
        }
    );
    let mut blocked = Vec::new();
    for path in &call.paths {
        let resolved = resolve(path, base);
        let why = match resolved.strip_prefix(&root) {
            Ok(relative) => {
                let relative = slash_path(relative);
                reason(&relative, resolved.exists(), editable, readonly)
            }
            Err(_) => Some(format!(
                "outside the project ({}); an experiment changes only the project's editable files",
                root.display()
            )),
        };
        if let Some(why) = why {
            blocked.push(Blocked {
                path: path.clone(),
                reason: format!("{path} is {why}. {may_edit}"),
            });
        }
    }
    blocked
}

/// Why `relative` (a path inside the project, with `/`) may not be edited, or None.
fn reason(
    relative: &str,
    exists: bool,
    editable: &[String],
    readonly: &[String],
) -> Option<String> {
    let under = |folder: &str| relative == folder || relative.starts_with(&format!("{folder}/"));
    if relative.is_empty() {
        return Some("the project folder itself, not a file".into());
    }
    if let Some(inside) = in_lane(relative) {
        // A lane's worktree (.dfh/lanes/k) is a copy of the project: the same rules apply.
        return reason(inside, exists, editable, readonly);
    }
    if readonly
        .iter()
        .any(|file| under(file.trim_end_matches('/')))
    {
        return Some("read-only ([run] readonly in dfh.toml): its hash is recorded, and a change invalidates every experiment".into());
    }
    let harness = match relative {
        "dfh.toml" => Some("the harness configuration, which only the human changes; propose a change in docs/strategy.md instead"),
        "program.md" => Some("the research program the human wrote for you; read it, do not rewrite it"),
        "results.tsv" => Some("written by dfh after every run; `dfh status` and `dfh show N` read it for you"),
        "dfh_diag.py" => Some("the harness's diagnostics helper, which the training script imports"),
        ".mcp.json" => Some("your agent's configuration, which the human owns"),
        _ if under(".dfh") || under("metrics") || under("report") => Some("written by dfh itself; `dfh status`, `dfh show N` and `dfh diag N` read it for you"),
        _ if under("checks") => Some("the harness's pre-train checks; a new failure pattern goes in through `dfh crash learn`"),
        _ if under(".git") => Some("git's own data; dfh commits every experiment for you"),
        _ if under(".claude") || under(".codex") || under(".gemini") => Some("your agent's configuration, which the human owns"),
        _ => None,
    };
    if let Some(harness) = harness {
        return Some(harness.into());
    }
    if editable
        .iter()
        .any(|file| under(file.trim_end_matches('/')))
        || under("docs")
    {
        return None;
    }
    let lower = relative.to_ascii_lowercase();
    let note = [".md", ".txt", ".rst"]
        .iter()
        .any(|suffix| lower.ends_with(suffix));
    if !note && (exists || is_code(relative)) {
        return Some("outside the editable files ([run] editable in dfh.toml); `dfh run` would refuse the change".into());
    }
    None
}

/// The path inside a lane's worktree, for a path under `.dfh/lanes/<k>/`.
fn in_lane(relative: &str) -> Option<&str> {
    let rest = relative.strip_prefix(".dfh/lanes/")?;
    let (lane, inside) = rest.split_once('/')?;
    (crate::lanes::parse(lane).is_ok() && !inside.is_empty()).then_some(inside)
}

/// Code or configuration a run could import (the same list `dfh run` refuses when new).
fn is_code(path: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        "py", "pyx", "pxd", "c", "cc", "cpp", "cu", "cuh", "h", "hpp", "sh", "yaml", "yml", "toml",
        "cfg", "ini",
    ];
    Path::new(path)
        .extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| EXTENSIONS.contains(&extension))
}

/// An absolute path with `.` and `..` removed and its deepest existing ancestor resolved
/// through symlinks, so `a/../dfh.toml` and a symlinked checkout compare as they are.
fn resolve(path: &str, base: &Path) -> PathBuf {
    let joined = base.join(path);
    let mut normal = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    let mut existing = normal.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let mut resolved = canonical;
            for part in rest.iter().rev() {
                resolved.push(part);
            }
            return resolved;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return normal,
        }
    }
}

fn slash_path(relative: &Path) -> String {
    relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_codex_patch_names_every_file() {
        let patch = "*** Begin Patch\n*** Update File: train.py\n@@\n-a\n+b\n*** Add File: notes/x.py\n+x\n  *** Delete File: prepare.py\n*** Update File: a.py\n*** Move to: b.py\n*** End Patch";
        assert_eq!(
            patch_paths(patch),
            ["train.py", "notes/x.py", "prepare.py", "a.py", "b.py"]
        );
        assert!(patch_paths("echo hi").is_empty());
    }

    #[test]
    fn payload_shapes_of_each_agent() {
        let claude = r#"{"tool_name":"Edit","cwd":"/p","tool_input":{"file_path":"/p/train.py","old_string":"a","new_string":"b"}}"#;
        let call = parse_payload(claude).unwrap();
        assert_eq!(call.tool, "Edit");
        assert_eq!(call.paths, ["/p/train.py"]);
        let notebook = r#"{"tool_name":"NotebookEdit","tool_input":{"notebook_path":"n.ipynb"}}"#;
        assert_eq!(parse_payload(notebook).unwrap().paths, ["n.ipynb"]);
        let codex = r#"{"tool_name":"apply_patch","tool_input":{"command":"*** Begin Patch\n*** Update File: dfh.toml\n*** End Patch"}}"#;
        assert_eq!(parse_payload(codex).unwrap().paths, ["dfh.toml"]);
        assert!(parse_payload("not json").is_err());
        assert!(parse_payload("[1]").is_err());
        assert!(parse_payload("{}").unwrap().paths.is_empty());
    }

    #[test]
    fn reasons_follow_the_harness_layout() {
        let editable = ["train.py".to_string()];
        let readonly = ["prepare.py".to_string()];
        let judge = |path: &str, exists: bool| reason(path, exists, &editable, &readonly);
        assert!(judge("train.py", true).is_none());
        assert!(judge("docs/hypotheses.md", true).is_none());
        assert!(judge("docs/papers/new.md", false).is_none());
        assert!(judge("scratch.md", false).is_none());
        assert!(judge("prepare.py", true).unwrap().contains("read-only"));
        assert!(judge("dfh.toml", true).is_some());
        assert!(judge("checks/rules.toml", true).is_some());
        assert!(judge(".dfh/journal.jsonl", true).is_some());
        assert!(judge("metrics/abc.json", false).is_some());
        assert!(judge("results.tsv", true).is_some());
        assert!(judge("program.md", true).is_some());
        assert!(judge("dfh_diag.py", true).is_some());
        assert!(judge(".claude/settings.json", true).is_some());
        assert!(judge("model.py", false).unwrap().contains("editable"));
        assert!(judge("data.bin", true).is_some());
        assert!(judge("image.png", false).is_none());
        // In a lane's worktree, the same rules.
        assert!(judge(".dfh/lanes/2/train.py", true).is_none());
        assert!(judge(".dfh/lanes/2/prepare.py", true)
            .unwrap()
            .contains("read-only"));
        assert!(judge(".dfh/lanes/2/dfh.toml", true).is_some());
        assert!(judge(".dfh/lanes/x/train.py", true).is_some());
        assert!(judge(".dfh/lanes/2.lock", true).is_some());
    }
}
