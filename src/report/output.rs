//! Where a report is written: `report/` at the project root by default, or `--out DIR`, which
//! must stay inside the project (a path that leaves it, even through a symbolic link, is
//! refused).

use std::path::{Component, Path, PathBuf};

use crate::refusal::Refusal;

/// The default output folder, relative to the project root.
pub const OUT_DEFAULT: &str = "report";

/// Resolves `out` (relative to `base`, the directory dfh runs in) and checks that it stays
/// inside `root`.
/// The default is checked too: a `report` that an agent replaced with a link to elsewhere is
/// refused like an explicit `--out`.
pub fn resolve_out(root: &Path, base: &Path, out: Option<&Path>) -> Result<PathBuf, Refusal> {
    let (out, joined) = match out {
        None => (Path::new(OUT_DEFAULT), root.join(OUT_DEFAULT)),
        Some(out) if out.is_absolute() => (out, out.to_path_buf()),
        Some(out) => (out, base.join(out)),
    };
    let mut normal = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    // Symbolic links: the deepest existing ancestor must itself resolve inside the project.
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut existing = normal.as_path();
    while !existing.exists() {
        match existing.parent() {
            Some(parent) => existing = parent,
            None => break,
        }
    }
    let resolved = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    let suffix = normal.strip_prefix(existing).unwrap_or(Path::new(""));
    let target = resolved.join(suffix);
    if !target.starts_with(&root) || target == root {
        return Err(Refusal::new(format!(
            "--out {} leaves the project (it resolves to {}); a report is written inside the project it describes. Pass a folder under {}, e.g. `--out report`",
            out.display(),
            target.display(),
            root.display()
        )));
    }
    Ok(target)
}

/// Refuses to write `path` through a symbolic link, which could point outside the project.
pub fn refuse_link(path: &Path) -> Result<(), Refusal> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => Err(Refusal::new(format!(
            "{} is a symbolic link; dfh writes its report only to plain files inside the project. Remove the link (`rm {}`) and run `dfh report` again",
            path.display(),
            path.display()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_are_accepted_and_escapes_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("docs")).unwrap();
        assert_eq!(
            resolve_out(&root, &root, None).unwrap(),
            root.join("report")
        );
        assert_eq!(
            resolve_out(&root, &root.join("docs"), Some(Path::new("../out/x"))).unwrap(),
            root.join("out/x")
        );
        assert!(resolve_out(&root, &root, Some(Path::new("../elsewhere"))).is_err());
        assert!(resolve_out(&root, &root, Some(Path::new("/tmp/report"))).is_err());
        assert!(resolve_out(&root, &root, Some(Path::new("."))).is_err());
        std::os::unix::fs::symlink(std::env::temp_dir(), root.join("link")).unwrap();
        assert!(resolve_out(&root, &root, Some(Path::new("link/report"))).is_err());
        std::os::unix::fs::symlink(std::env::temp_dir(), root.join("report")).unwrap();
        assert!(resolve_out(&root, &root, None).is_err());
        assert!(refuse_link(&root.join("report")).is_err());
        assert!(refuse_link(&root.join("docs")).is_ok());
    }
}
