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

    #[test]
    fn ignores_text_that_is_not_a_diff() {
        assert!(changed_lines_from_diff("hello\n+++\n@@ nonsense @@\n+x\n").is_empty());
    }
}
