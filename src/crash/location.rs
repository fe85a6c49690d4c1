//! Which traceback frame is the project's own: the deepest frame in a project file is where an
//! agent can act, whatever library frames lie below it.

use super::traceback::Frame;
use super::{Location, ProjectFiles};

/// The deepest (last printed) frame in the project's own files.
pub(super) fn project_location(frames: &[Frame], project: &ProjectFiles) -> Option<Location> {
    frames.iter().rev().find_map(|frame| {
        let file = project_file(&frame.path, project)?;
        Some(Location {
            file,
            line: frame.line,
            source: frame.source.clone().unwrap_or_default(),
        })
    })
}

/// The frame path as the project names it, when the frame is the project's: a relative path,
/// a path under the root, or one ending in a listed project file; never an installed package or
/// the standard library.
fn project_file(path: &str, project: &ProjectFiles) -> Option<String> {
    let normalized = path.replace('\\', "/");
    if normalized.starts_with('<') || is_installed_code(&normalized) {
        return None;
    }
    if let Some(root) = project.root.as_ref().and_then(|root| root.to_str()) {
        let root = root.replace('\\', "/");
        let root = root.trim_end_matches('/');
        if let Some(relative) = normalized
            .strip_prefix(root)
            .and_then(|rest| rest.strip_prefix('/'))
        {
            return Some(relative.to_string());
        }
    }
    let listed = project.files.iter().find(|file| {
        let file = file.trim_start_matches("./");
        normalized == file || normalized.ends_with(&format!("/{file}"))
    });
    if let Some(file) = listed {
        return Some(file.clone());
    }
    let is_absolute = normalized.starts_with('/')
        || normalized.starts_with('~')
        || normalized.as_bytes().get(1) == Some(&b':');
    (!is_absolute).then(|| normalized.trim_start_matches("./").to_string())
}

fn is_installed_code(path: &str) -> bool {
    if path.contains("site-packages/") || path.contains("dist-packages/") {
        return true;
    }
    // The standard library: .../lib/python3.11/..., .../lib64/python3.6/...
    path.split('/').collect::<Vec<_>>().windows(2).any(|pair| {
        (pair[0] == "lib" || pair[0] == "lib64")
            && pair[1].strip_prefix("python").is_some_and(|version| {
                version.starts_with(|character: char| character.is_ascii_digit())
            })
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn frame(path: &str, line: usize) -> Frame {
        Frame {
            path: path.to_string(),
            line,
            function: None,
            source: Some(format!("line {line}")),
        }
    }

    #[test]
    fn the_deepest_project_frame_wins_over_library_frames() {
        let frames = [
            frame("/home/me/proj/train.py", 10),
            frame("/home/me/proj/model.py", 20),
            frame(
                "/usr/lib/python3.11/site-packages/torch/nn/functional.py",
                30,
            ),
            frame("/usr/lib/python3.11/contextlib.py", 40),
        ];
        let project = ProjectFiles {
            root: Some(PathBuf::from("/home/me/proj/")),
            files: Vec::new(),
        };
        let location = project_location(&frames, &project).unwrap();
        assert_eq!((location.file.as_str(), location.line), ("model.py", 20));
        assert_eq!(location.source, "line 20");
    }

    #[test]
    fn listed_files_and_relative_paths_are_the_projects() {
        let by_list = ProjectFiles {
            root: None,
            files: vec!["train.py".to_string()],
        };
        assert_eq!(
            project_file("/elsewhere/run/train.py", &by_list).as_deref(),
            Some("train.py")
        );
        assert_eq!(project_file("/elsewhere/run/other.py", &by_list), None);
        assert_eq!(
            project_file("./nets/gpNet.py", &ProjectFiles::default()).as_deref(),
            Some("nets/gpNet.py")
        );
        assert_eq!(project_file("<string>", &ProjectFiles::default()), None);
        assert_eq!(
            project_file("C:\\Users\\x\\lib\\site-packages\\torch\\a.py", &by_list),
            None
        );
    }
}
