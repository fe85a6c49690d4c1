//! Changed lines per file from a unified diff (`git diff -U0`), in new-file line numbers, so
//! a change can be mapped to the regions it touches.

use std::collections::BTreeMap;

/// New-file line numbers that each file's diff adds or changes, sorted and deduplicated.
///
/// A deletion that nothing replaces has no new-file line: it maps to the new-file line just
/// before the place it was removed from (line 1 at the top of the file), which lies in the
/// same function whenever the deletion was inside one. A deleted file maps to an empty list.
pub fn changed_lines_from_diff(unified_diff: &str) -> BTreeMap<String, Vec<usize>> {
    let mut files: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut old_path: Option<String> = None;
    let mut current: Option<String> = None;
    let mut new_line = 0usize;
    let mut in_hunk = false;
    let (mut old_left, mut new_left) = (0usize, 0usize);
    let mut pending_deletion = false;
    let mut changed: Vec<usize> = Vec::new();
    for line in unified_diff.lines() {
        let is_hunk_body = in_hunk && matches!(line.as_bytes().first(), Some(b'+' | b'-'));
        if !is_hunk_body && pending_deletion {
            changed.push(new_line.saturating_sub(1).max(1));
            pending_deletion = false;
        }
        if line.starts_with("diff --git ") {
            flush(&mut files, current.take(), &mut changed);
            in_hunk = false;
            old_path = None;
            continue;
        }
        if let Some(path) = line.strip_prefix("--- ").filter(|_| !in_hunk) {
            old_path = diff_path(path, "a/");
            continue;
        }
        if let Some(path) = line.strip_prefix("+++ ").filter(|_| !in_hunk) {
            flush(&mut files, current.take(), &mut changed);
            match diff_path(path, "b/") {
                Some(new_path) => current = Some(new_path),
                // A deleted file: known, but it has no new lines.
                None => flush(&mut files, old_path.clone(), &mut Vec::new()),
            }
            continue;
        }
        if let Some(header) = line.strip_prefix("@@ ") {
            match parse_hunk_header(header) {
                Some(hunk) => {
                    (new_line, old_left, new_left) = hunk;
                    in_hunk = current.is_some() && (old_left > 0 || new_left > 0);
                }
                None => in_hunk = false,
            }
            continue;
        }
        if !in_hunk {
            continue;
        }
        match line.as_bytes().first() {
            Some(b'+') => {
                changed.push(new_line.max(1));
                new_line += 1;
                new_left = new_left.saturating_sub(1);
                pending_deletion = false;
            }
            Some(b'-') => {
                old_left = old_left.saturating_sub(1);
                pending_deletion = true;
            }
            Some(b' ') | None => {
                new_line += 1;
                old_left = old_left.saturating_sub(1);
                new_left = new_left.saturating_sub(1);
            }
            // `\ No newline at end of file` and anything unknown.
            _ => {}
        }
        if old_left == 0 && new_left == 0 {
            in_hunk = false;
        }
    }
    if pending_deletion {
        changed.push(new_line.saturating_sub(1).max(1));
    }
    flush(&mut files, current, &mut changed);
    files
}

/// A file's content before a diff, recovered from the diff and its content now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldText {
    Known(String),
    /// The diff creates the file.
    Absent,
    /// The diff does not tell (binary, or it no longer matches the file): ask git.
    Unknown,
}

/// The content of `path` before `unified_diff` (as `git diff -U0` writes it), found by
/// undoing the diff's hunks on `current`, the content after it. Each hunk's added lines must
/// match `current` where the hunk says they are, so a file edited since the diff was taken
/// answers `Unknown` rather than a wrong text.
pub fn old_text(unified_diff: &str, path: &str, current: &str) -> OldText {
    let Some(section) = file_section(unified_diff, path) else {
        // Not in the diff: unchanged.
        return OldText::Known(current.to_string());
    };
    let mut lines = section.split('\n').peekable();
    let mut now: Vec<&str> = current.split_inclusive('\n').collect();
    let mut old = String::with_capacity(current.len());
    let mut position = 0;
    let mut hunks = 0;
    while let Some(line) = lines.next() {
        if line.starts_with("Binary files ") || line.starts_with("GIT binary patch") {
            return OldText::Unknown;
        }
        if line == "--- /dev/null" {
            return OldText::Absent;
        }
        let Some(header) = line.strip_prefix("@@ ") else {
            continue;
        };
        let Some((start, added)) = new_range(header) else {
            return OldText::Unknown;
        };
        hunks += 1;
        // For an empty new side, `start` is the line after which the old lines stood.
        let first = if added == 0 {
            start
        } else {
            start.saturating_sub(1)
        };
        if first < position || first + added > now.len() {
            return OldText::Unknown;
        }
        now[position..first]
            .iter()
            .for_each(|line| old.push_str(line));
        let mut seen_added = 0;
        let mut last_removed = false;
        while let Some(body) = lines.peek() {
            if let Some(removed) = body.strip_prefix('-') {
                old.push_str(removed);
                old.push('\n');
                last_removed = true;
            } else if let Some(added_line) = body.strip_prefix('+') {
                let Some(line) = now.get(first + seen_added) else {
                    return OldText::Unknown;
                };
                if line.strip_suffix('\n').unwrap_or(line) != added_line {
                    return OldText::Unknown;
                }
                seen_added += 1;
                last_removed = false;
            } else if body.starts_with("\\ ") {
                // `\ No newline at end of file`: after a removed line, the old file ended
                // without one; after an added line it speaks of the new file.
                if last_removed {
                    old.pop();
                }
            } else {
                break;
            }
            lines.next();
        }
        if seen_added != added {
            return OldText::Unknown;
        }
        position = first + added;
    }
    if hunks == 0 && section.contains("new file mode") {
        return OldText::Absent;
    }
    now.drain(..position);
    now.iter().for_each(|line| old.push_str(line));
    OldText::Known(old)
}

/// The part of a multi-file diff about `path` (from its `diff --git` line to the next one).
fn file_section<'a>(unified_diff: &'a str, path: &str) -> Option<&'a str> {
    let mut start = None;
    let mut offset = 0;
    for line in unified_diff.split_inclusive('\n') {
        if line.starts_with("diff --git ") {
            if let Some(begin) = start {
                return Some(&unified_diff[begin..offset]);
            }
        }
        if start.is_none() {
            let trimmed = line.trim_end();
            let header = trimmed.starts_with("diff --git ")
                && (trimmed.ends_with(&format!(" b/{path}"))
                    || trimmed.ends_with(&format!(" \"b/{path}\"")));
            if header {
                start = Some(offset);
                offset += line.len();
                continue;
            }
            let names_path = trimmed
                .strip_prefix("+++ ")
                .or_else(|| trimmed.strip_prefix("--- "))
                .and_then(|name| {
                    diff_path(name, if trimmed.starts_with('+') { "b/" } else { "a/" })
                })
                .is_some_and(|name| name == path);
            if names_path {
                start = Some(
                    unified_diff[..offset]
                        .rfind("diff --git ")
                        .unwrap_or(offset),
                );
            }
        }
        offset += line.len();
    }
    start.map(|begin| &unified_diff[begin..])
}

/// `-a,b +c,d`: the new side's start and count.
fn new_range(header: &str) -> Option<(usize, usize)> {
    let mut parts = header.split_whitespace();
    parts.next()?.strip_prefix('-')?;
    parse_range(parts.next()?.strip_prefix('+')?)
}

fn flush(files: &mut BTreeMap<String, Vec<usize>>, path: Option<String>, changed: &mut Vec<usize>) {
    let Some(path) = path else {
        changed.clear();
        return;
    };
    let lines = files.entry(path).or_default();
    lines.append(changed);
    lines.sort_unstable();
    lines.dedup();
}

/// `-a,b +c,d`: the first new line (for an empty new side `+9,0`, the line after which the
/// deletion happened, plus one, so the counter points at the next new line) and the counts of
/// old and new lines the hunk holds.
fn parse_hunk_header(header: &str) -> Option<(usize, usize, usize)> {
    let mut parts = header.split_whitespace();
    let (_, old_count) = parse_range(parts.next()?.strip_prefix('-')?)?;
    let (start, new_count) = parse_range(parts.next()?.strip_prefix('+')?)?;
    let first = if new_count == 0 { start + 1 } else { start };
    Some((first, old_count, new_count))
}

fn parse_range(text: &str) -> Option<(usize, usize)> {
    let mut numbers = text.split(',');
    let start: usize = numbers.next()?.parse().ok()?;
    let count: usize = match numbers.next() {
        Some(count) => count.parse().ok()?,
        None => 1,
    };
    Some((start, count))
}

fn diff_path(text: &str, prefix: &str) -> Option<String> {
    let text = text.split('\t').next().unwrap_or(text).trim_end();
    if text == "/dev/null" {
        return None;
    }
    let unquoted = match text
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => text.to_string(),
    };
    Some(
        unquoted
            .strip_prefix(prefix)
            .map(str::to_string)
            .unwrap_or(unquoted),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "\
diff --git a/train.py b/train.py
index 1111111..2222222 100644
--- a/train.py
+++ b/train.py
@@ -25 +25 @@ HEAD_DIM = N_EMBD // N_HEAD
-ROTARY_DIM = HEAD_DIM
+ROTARY_DIM = 32
@@ -60,2 +59,0 @@ class GPTConfig:
-    a = 1
-    b = 2
@@ -0,0 +1,2 @@
+# header
+import sys
@@ -120,0 +124,3 @@ def forward(
+    x = 1
+    y = 2
+    z = 3
diff --git a/old.py b/old.py
deleted file mode 100644
--- a/old.py
+++ /dev/null
@@ -1,2 +0,0 @@
-x = 1
-y = 2
diff --git \"a/with space.py\" \"b/with space.py\"
--- \"a/with space.py\"
+++ \"b/with space.py\"
@@ -3,3 +3,3 @@
 keep
-old
+new
 keep
";

    #[test]
    fn maps_added_changed_and_deleted_lines_to_new_file_lines() {
        let files = changed_lines_from_diff(DIFF);
        assert_eq!(
            files.get("train.py").unwrap(),
            &vec![1, 2, 25, 59, 124, 125, 126]
        );
        assert_eq!(files.get("old.py").unwrap(), &Vec::<usize>::new());
        assert_eq!(files.get("with space.py").unwrap(), &vec![4]);
        assert_eq!(files.len(), 3);
    }

    /// The old text `old_text` recovers is the one git had, for edits of every shape.
    #[test]
    fn undoing_a_diff_recovers_the_old_text() {
        let old = "A = 1\nB = 2\nC = 3\nD = 4\nE = 5\n";
        let cases = [
            // (new text, diff -U0 from old to new)
            (
                "A = 1\nB = 20\nC = 3\nD = 4\nE = 5\n",
                "@@ -2 +2 @@\n-B = 2\n+B = 20\n",
            ),
            ("A = 1\nD = 4\nE = 5\n", "@@ -2,2 +1,0 @@\n-B = 2\n-C = 3\n"),
            (
                "X = 0\nA = 1\nB = 2\nC = 3\nD = 4\nE = 5\n",
                "@@ -0,0 +1 @@\n+X = 0\n",
            ),
            (
                "A = 1\nB = 2\nC = 3\nD = 4\nE = 5\nF = 6\n",
                "@@ -5,0 +6 @@\n+F = 6\n",
            ),
            (
                "A = 9\nB = 2\nC = 3\nE = 5\nG = 7\n",
                "@@ -1 +1 @@\n-A = 1\n+A = 9\n@@ -4 +3,0 @@\n-D = 4\n@@ -5,0 +5 @@\n+G = 7\n",
            ),
            (
                "",
                "@@ -1,5 +0,0 @@\n-A = 1\n-B = 2\n-C = 3\n-D = 4\n-E = 5\n",
            ),
        ];
        for (new, hunks) in cases {
            let diff = format!("diff --git a/train.py b/train.py\nindex 1..2 100644\n--- a/train.py\n+++ b/train.py\n{hunks}");
            assert_eq!(
                old_text(&diff, "train.py", new),
                OldText::Known(old.into()),
                "{hunks}"
            );
        }
    }

    #[test]
    fn undoing_a_diff_keeps_a_missing_last_newline_and_other_files_apart() {
        let diff = "diff --git a/model.py b/model.py\n--- a/model.py\n+++ b/model.py\n@@ -1 +1 @@\n-Z = 1\n+Z = 2\ndiff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -2 +2 @@\n-B = 2\n\\ No newline at end of file\n+B = 3\n";
        assert_eq!(
            old_text(diff, "train.py", "A = 1\nB = 3\n"),
            OldText::Known("A = 1\nB = 2".into())
        );
        assert_eq!(
            old_text(diff, "model.py", "Z = 2\n"),
            OldText::Known("Z = 1\n".into())
        );
        assert_eq!(
            old_text(diff, "other.py", "Q = 1\n"),
            OldText::Known("Q = 1\n".into())
        );
    }

    #[test]
    fn undoing_a_diff_says_when_it_cannot() {
        let created = "diff --git a/new.py b/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+X = 1\n";
        assert_eq!(old_text(created, "new.py", "X = 1\n"), OldText::Absent);
        let binary =
            "diff --git a/train.py b/train.py\nBinary files a/train.py and b/train.py differ\n";
        assert_eq!(old_text(binary, "train.py", "x"), OldText::Unknown);
        // The file changed again after the diff was taken.
        let diff = "diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-A = 1\n+A = 2\n";
        assert_eq!(old_text(diff, "train.py", "A = 3\n"), OldText::Unknown);
        assert_eq!(old_text(diff, "train.py", ""), OldText::Unknown);
    }

    #[test]
    fn ignores_text_that_is_not_a_diff() {
        assert!(changed_lines_from_diff("hello\n+++\n@@ nonsense @@\n+x\n").is_empty());
    }
}
