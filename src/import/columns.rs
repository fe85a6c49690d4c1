//! Which column means what: the header or its absence, the metric column (named, chosen by the
//! user, or detected), and the commit, status, description, memory and seconds columns.
//!
//! Columns are matched by name, never by position, except in a file without a header, where
//! the cells' contents decide.

use super::names::{
    is_description_name, is_memory_name, memory_scale, name_score, name_words, normalize_name,
    seconds_scale, COMMIT_NAMES, DESCRIPTION_NAMES, KNOWN_METRICS, METRIC_WORDS, NOT_METRIC_WORDS,
    STATUS_NAMES,
};
use super::values::{is_hex_commit, known_status, read_number, Cell};

/// The meaning of each column that the importer reads.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Columns {
    /// Header names, or `column1`.. for a file without a header.
    pub names: Vec<String>,
    pub metric: usize,
    pub commit: Option<usize>,
    pub status: Option<usize>,
    pub description: Option<usize>,
    /// Column and the factor that turns its unit into GB.
    pub memory: Option<(usize, f64)>,
    /// Column and the factor that turns its unit into seconds.
    pub seconds: Option<(usize, f64)>,
}

/// Why no metric column could be chosen.
#[derive(Debug, PartialEq)]
pub(super) enum MetricChoiceError {
    /// The user's `metric` option names no column.
    Unknown,
    /// No column looks like a metric.
    NotFound,
}

/// A first line is a header when none of its cells is a number and it either names a known
/// column or holds no status word (a data row of a crashed run may have no number at all).
pub(super) fn looks_like_header(cells: &[String]) -> bool {
    let has_number = cells
        .iter()
        .any(|cell| matches!(read_number(cell), Cell::Number(_)));
    if has_number {
        return false;
    }
    let names_a_column = cells.iter().any(|cell| {
        let name = normalize_name(cell);
        COMMIT_NAMES.contains(&name.as_str())
            || STATUS_NAMES.contains(&name.as_str())
            || DESCRIPTION_NAMES.contains(&name.as_str())
            || KNOWN_METRICS.contains(&name.as_str())
    });
    names_a_column || !cells.iter().any(|cell| known_status(cell).is_some())
}

/// Works out every column's meaning from the header (or `None`) and the data rows' cells.
pub(super) fn resolve(
    header: Option<&[String]>,
    rows: &[Vec<String>],
    column_count: usize,
    requested_metric: Option<&str>,
) -> Result<Columns, MetricChoiceError> {
    let names = column_names(header, column_count);
    let profiles: Vec<Profile> = (0..names.len()).map(|index| profile(rows, index)).collect();
    let mut columns = match header {
        Some(_) => roles_by_name(&names, &profiles),
        None => roles_by_content(&profiles),
    };
    columns.names = names;
    columns.metric = match requested_metric {
        Some(requested) => find_requested(&columns.names, requested)?,
        None if header.is_some() => metric_by_name(&columns, &profiles)?,
        None => metric_by_content(&columns, &profiles)?,
    };
    let metric = columns.metric;
    if columns.memory.is_some_and(|(index, _)| index == metric) {
        columns.memory = None;
    }
    if columns.seconds.is_some_and(|(index, _)| index == metric) {
        columns.seconds = None;
    }
    Ok(columns)
}

/// Header names, trimmed, then `columnN` for any column the header does not name (all of them
/// in a file without a header).
pub(super) fn column_names(header: Option<&[String]>, column_count: usize) -> Vec<String> {
    let named = header.unwrap_or_default();
    let total = column_count.max(named.len());
    (0..total)
        .map(|index| match named.get(index) {
            Some(name) => name.trim().to_string(),
            None => format!("column{}", index + 1),
        })
        .collect()
}

/// What a column's cells look like.
#[derive(Debug, Default, Clone)]
struct Profile {
    filled: usize,
    numbers: usize,
    fractional: usize,
    hex_commits: usize,
    statuses: usize,
    text_length: usize,
}

impl Profile {
    fn mostly(&self, count: usize) -> bool {
        self.filled > 0 && count * 2 >= self.filled
    }
    fn numeric(&self) -> bool {
        self.numbers > 0 && self.mostly(self.numbers)
    }
}

fn profile(rows: &[Vec<String>], index: usize) -> Profile {
    let mut profile = Profile::default();
    for cell in rows.iter().filter_map(|cells| cells.get(index)) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        profile.filled += 1;
        profile.text_length += cell.len();
        if let Cell::Number(number) = read_number(cell) {
            profile.numbers += 1;
            if number.fract() != 0.0 {
                profile.fractional += 1;
            }
        } else if is_hex_commit(cell) || cell.ends_with("-dirty") {
            profile.hex_commits += 1;
        }
        if known_status(cell).is_some() {
            profile.statuses += 1;
        }
    }
    profile
}

fn empty_columns() -> Columns {
    Columns {
        names: Vec::new(),
        metric: 0,
        commit: None,
        status: None,
        description: None,
        memory: None,
        seconds: None,
    }
}

fn roles_by_name(names: &[String], profiles: &[Profile]) -> Columns {
    let mut columns = empty_columns();
    for (index, name) in names.iter().enumerate() {
        let name = normalize_name(name);
        let words: Vec<&str> = name_words(&name).collect();
        if columns.commit.is_none() && COMMIT_NAMES.contains(&name.as_str()) {
            columns.commit = Some(index);
        } else if columns.status.is_none() && STATUS_NAMES.contains(&name.as_str()) {
            columns.status = Some(index);
        } else if columns.description.is_none() && is_description_name(&name) {
            columns.description = Some(index);
        } else if columns.memory.is_none() && is_memory_name(&name) {
            columns.memory = Some((index, memory_scale(&words)));
        } else if columns.seconds.is_none() {
            columns.seconds = seconds_scale(&words).map(|scale| (index, scale));
        }
    }
    // A status column named otherwise (`result`, `keep?`) is found by what it holds.
    if columns.status.is_none() {
        columns.status = status_by_content(profiles, &columns);
    }
    if columns.description.is_none() {
        let bookkeeping = |index: usize| {
            names.get(index).is_none_or(|name| {
                let name = normalize_name(name);
                let excluded = name_words(&name)
                    .any(|word| NOT_METRIC_WORDS.contains(&word) || METRIC_WORDS.contains(&word));
                excluded || KNOWN_METRICS.contains(&name.as_str())
            })
        };
        columns.description = description_by_content(profiles, &columns, bookkeeping);
    }
    columns
}

/// The text column with the longest cells on average, among those `excluded` lets through.
fn description_by_content(
    profiles: &[Profile],
    columns: &Columns,
    excluded: impl Fn(usize) -> bool,
) -> Option<usize> {
    profiles
        .iter()
        .enumerate()
        .filter(|(index, profile)| {
            !is_role(columns, *index)
                && !excluded(*index)
                && profile.filled > 0
                && !profile.numeric()
        })
        .max_by_key(|(index, profile)| (profile.text_length / profile.filled, *index))
        .map(|(index, _)| index)
}

fn status_by_content(profiles: &[Profile], columns: &Columns) -> Option<usize> {
    profiles
        .iter()
        .enumerate()
        .filter(|(index, profile)| {
            Some(*index) != columns.commit
                && Some(*index) != columns.description
                && profile.statuses > 0
                && profile.mostly(profile.statuses)
                && !profile.numeric()
        })
        .max_by_key(|(index, profile)| (profile.statuses, std::cmp::Reverse(*index)))
        .map(|(index, _)| index)
}

fn is_role(columns: &Columns, index: usize) -> bool {
    [columns.commit, columns.status, columns.description].contains(&Some(index))
        || columns.memory.is_some_and(|(column, _)| column == index)
        || columns.seconds.is_some_and(|(column, _)| column == index)
}

/// The `metric` option: a column name (case and punctuation ignored), or a 1-based column
/// number written `6`, `column6`, `col 6` or `#6`.
fn find_requested(names: &[String], requested: &str) -> Result<usize, MetricChoiceError> {
    let wanted = requested.trim();
    if let Some(index) = names
        .iter()
        .position(|name| name.trim().eq_ignore_ascii_case(wanted))
    {
        return Ok(index);
    }
    let normalized = normalize_name(wanted);
    if let Some(index) = names
        .iter()
        .position(|name| normalize_name(name) == normalized)
    {
        return Ok(index);
    }
    let lower = wanted.to_lowercase();
    let digits = ["column", "col", "#"]
        .iter()
        .find_map(|prefix| lower.strip_prefix(prefix))
        .unwrap_or(&lower)
        .trim_start_matches([' ', '_', '-']);
    match digits.parse::<usize>() {
        Ok(number) if (1..=names.len()).contains(&number) => Ok(number - 1),
        _ => Err(MetricChoiceError::Unknown),
    }
}

fn metric_by_name(columns: &Columns, profiles: &[Profile]) -> Result<usize, MetricChoiceError> {
    let mut best: Option<(i32, usize)> = None;
    for (index, name) in columns.names.iter().enumerate() {
        if is_role(columns, index) {
            continue;
        }
        let has_numbers = profiles
            .get(index)
            .is_some_and(|profile| profile.numbers > 0);
        let Some(mut score) = name_score(&normalize_name(name), has_numbers) else {
            continue;
        };
        // autoresearch writes the metric second, after the commit.
        if index == 1 && columns.commit == Some(0) {
            score += 50;
        }
        if best.is_none_or(|(best_score, _)| score > best_score) {
            best = Some((score, index));
        }
    }
    best.map(|(_, index)| index)
        .ok_or(MetricChoiceError::NotFound)
}

/// Without a header: a commit column of hex names, a status column of status words, the
/// longest text column as the description.
fn roles_by_content(profiles: &[Profile]) -> Columns {
    let mut columns = empty_columns();
    columns.commit = profiles
        .iter()
        .position(|profile| profile.hex_commits > 0 && profile.mostly(profile.hex_commits));
    columns.status = status_by_content(profiles, &columns);
    columns.description = description_by_content(profiles, &columns, |_| false);
    // autoresearch's own order without its header: commit, metric, memory_gb, status.
    let autoresearch_order = columns.commit == Some(0)
        && columns.status == Some(3)
        && profiles.get(2).is_some_and(Profile::numeric);
    if autoresearch_order {
        columns.memory = Some((2, 1.0));
    }
    columns
}

/// Without a header: autoresearch's second column after a commit; otherwise the fractional
/// numeric column nearest before the status (the figure that decided it), else the last one.
fn metric_by_content(columns: &Columns, profiles: &[Profile]) -> Result<usize, MetricChoiceError> {
    let numeric = |index: usize| {
        !is_role(columns, index) && profiles.get(index).is_some_and(Profile::numeric)
    };
    if columns.commit == Some(0) && numeric(1) {
        return Ok(1);
    }
    let candidates: Vec<usize> = (0..profiles.len())
        .filter(|&index| numeric(index))
        .collect();
    let fractional: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&index| {
            profiles
                .get(index)
                .is_some_and(|profile| profile.fractional > 0)
        })
        .collect();
    let pool = if fractional.is_empty() {
        candidates
    } else {
        fractional
    };
    let before_status = columns
        .status
        .and_then(|status| pool.iter().copied().rfind(|&index| index < status));
    before_status
        .or_else(|| pool.last().copied())
        .ok_or(MetricChoiceError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|cell| cell.to_string()).collect()
    }

    #[test]
    fn header_detection() {
        assert!(looks_like_header(&strings(&[
            "commit", "val_bpb", "status"
        ])));
        assert!(looks_like_header(&strings(&["run", "quality", "note"])));
        assert!(!looks_like_header(&strings(&["abc1234", "0.99", "keep"])));
        assert!(!looks_like_header(&strings(&[
            "abc1234", "", "crash", "OOM"
        ])));
    }

    #[test]
    fn metric_chosen_by_name_not_position() {
        let header = strings(&[
            "timestamp",
            "commit",
            "val_bpb",
            "memory_gb",
            "status",
            "desc",
        ]);
        let rows = vec![strings(&[
            "2026-01-01",
            "abc1234",
            "0.9",
            "4.4",
            "keep",
            "x",
        ])];
        let columns = resolve(Some(&header), &rows, 6, None);
        let columns = columns.unwrap_or_else(|error| panic!("{error:?}"));
        assert_eq!(columns.metric, 2);
        assert_eq!(columns.commit, Some(1));
        assert_eq!(columns.memory, Some((3, 1.0)));
        assert_eq!(columns.status, Some(4));
        assert_eq!(columns.description, Some(5));
    }

    #[test]
    fn generic_numeric_column_when_no_known_name() {
        let header = strings(&["commit", "num_steps", "quality", "verdict", "notes"]);
        let rows = vec![strings(&["abc1234", "100", "0.5", "keep", "x"])];
        let columns = resolve(Some(&header), &rows, 5, None);
        assert_eq!(
            columns.map(|columns| (columns.metric, columns.status)),
            Ok((2, Some(3)))
        );
    }

    #[test]
    fn requested_metric_by_name_or_number() {
        let names = strings(&["a", "Val BPB", "c"]);
        assert_eq!(find_requested(&names, "val_bpb"), Ok(1));
        assert_eq!(find_requested(&names, "3"), Ok(2));
        assert_eq!(find_requested(&names, "column1"), Ok(0));
        assert_eq!(find_requested(&names, "col 2"), Ok(1));
        assert_eq!(find_requested(&names, "4"), Err(MetricChoiceError::Unknown));
        assert_eq!(
            find_requested(&names, "loss"),
            Err(MetricChoiceError::Unknown)
        );
    }

    #[test]
    fn seconds_and_memory_units() {
        let header = strings(&[
            "commit",
            "loss",
            "peak_mem_mb",
            "train_minutes",
            "tok_per_sec",
        ]);
        let rows = vec![strings(&["abc1234", "0.5", "2048", "5", "100"])];
        let columns = resolve(Some(&header), &rows, 5, None);
        let columns = columns.unwrap_or_else(|error| panic!("{error:?}"));
        assert_eq!(columns.memory, Some((2, 1.0 / 1024.0)));
        assert_eq!(columns.seconds, Some((3, 60.0)));
    }
}
