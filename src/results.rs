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
}
