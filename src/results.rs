//! results.tsv: one row per finished experiment, autoresearch's columns first so its
//! notebooks still read it: `commit <metric> memory_gb status description`, then
//! `exp direction seconds`.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// One row of results.tsv.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub commit: &'a str,
    pub value: Option<f64>,
    pub memory_gb: Option<f64>,
    pub status: &'a str,
    pub description: &'a str,
    pub experiment: u32,
    pub direction: &'a str,
    pub seconds: Option<f64>,
}

pub fn header(metric: &str) -> String {
    format!(
        "commit\t{}\tmemory_gb\tstatus\tdescription\texp\tdirection\tseconds\n",
        clean(metric)
    )
}

pub fn render(row: &Row<'_>) -> String {
    let short: String = row.commit.chars().take(7).collect();
    // autoresearch writes 0.000000 for a run without a value; its notebooks expect a number.
    let value = match row.value {
        Some(value) if value.is_finite() => format!("{value:.6}"),
        Some(value) => value.to_string().to_lowercase(),
        None => "0.000000".into(),
    };
    format!(
        "{short}\t{value}\t{:.1}\t{}\t{}\t{}\t{}\t{}\n",
        row.memory_gb.unwrap_or(0.0),
        row.status,
        clean(row.description),
        row.experiment,
        clean(row.direction),
        row.seconds
            .map(|seconds| format!("{seconds:.1}"))
            .unwrap_or_default(),
    )
}

/// Appends rows, writing the header first when the file is new or empty.
/// A failed write (a full disk) is cut off, so the file never keeps half a row.
pub fn append(path: &Path, metric: &str, rows: &[Row<'_>]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    let length = file.metadata()?.len();
    let mut text = String::new();
    if length == 0 {
        text.push_str(&header(metric));
    } else if !ends_with_newline(&mut file, length)? {
        // A row cut off by hand or by an older dfh: ours starts on a line of its own.
        text.push('\n');
    }
    for row in rows {
        text.push_str(&render(row));
    }
    let written =
        crate::env::write_all(&mut file, path, text.as_bytes()).and_then(|()| file.sync_data());
    if written.is_err() {
        let _ = file.set_len(length);
    }
    written
}

/// Adds a row in experiment order: appended, unless rows of later experiments are already
/// there (a lane that finished first), in which case it goes before them and the file is
/// replaced whole through a temporary file.
pub fn insert(path: &Path, metric: &str, row: &Row<'_>) -> std::io::Result<()> {
    if last_experiment(path).is_none_or(|last| last <= row.experiment) {
        return append(path, metric, std::slice::from_ref(row));
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return append(path, metric, std::slice::from_ref(row))
        }
        Err(error) => return Err(error),
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut at = lines.len();
    while at > 1 {
        match row_experiment(lines[at - 1]) {
            Some(experiment) if experiment > row.experiment => at -= 1,
            _ => break,
        }
    }
    if at == lines.len() {
        return append(path, metric, std::slice::from_ref(row));
    }
    let mut updated = lines[..at].concat();
    updated.push_str(&render(row));
    updated.push_str(&lines[at..].concat());
    if !updated.ends_with('\n') {
        updated.push('\n');
    }
    let temporary = path.with_extension("tsv.dfh-new");
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        crate::env::write_all(&mut file, &temporary, updated.as_bytes())?;
        file.sync_data()
    });
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}

/// The experiment of the last row, read from the file's last 4 KiB.
fn last_experiment(path: &Path) -> Option<u32> {
    let mut file = std::fs::File::open(path).ok()?;
    let length = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(length.saturating_sub(4096)))
        .ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    row_experiment(text.lines().rev().find(|line| !line.trim().is_empty())?)
}

/// The experiment of a row: its `exp` column, the sixth.
fn row_experiment(line: &str) -> Option<u32> {
    line.trim_end().split('\t').nth(5)?.parse().ok()
}

fn ends_with_newline(file: &mut std::fs::File, length: u64) -> std::io::Result<bool> {
    file.seek(SeekFrom::Start(length - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Tabs and line breaks would split a cell; they become spaces.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_autoresearch_columns_first() {
        let row = Row {
            commit: "abcdef1234",
            value: Some(0.9979),
            memory_gb: Some(44.0),
            status: "keep",
            description: "baseline\twith tab",
            experiment: 1,
            direction: "",
            seconds: Some(301.04),
        };
        assert_eq!(
            render(&row),
            "abcdef1\t0.997900\t44.0\tkeep\tbaseline with tab\t1\t\t301.0\n"
        );
        assert_eq!(
            header("val_bpb"),
            "commit\tval_bpb\tmemory_gb\tstatus\tdescription\texp\tdirection\tseconds\n"
        );
    }

    fn row(experiment: u32) -> Row<'static> {
        Row {
            commit: "abcdef1234",
            value: Some(0.9),
            memory_gb: None,
            status: "keep",
            description: "idea",
            experiment,
            direction: "",
            seconds: Some(1.0),
        }
    }

    #[test]
    fn a_row_finished_late_goes_before_later_experiments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.tsv");
        for experiment in [1, 2, 4, 5, 3, 6] {
            insert(&path, "val_bpb", &row(experiment)).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let order: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|line| line.split('\t').nth(5).unwrap())
            .collect();
        assert_eq!(order, ["1", "2", "3", "4", "5", "6"]);
        assert!(text.starts_with("commit\tval_bpb"));
        assert!(!dir.path().join("results.tsv.dfh-new").exists());
    }
}
