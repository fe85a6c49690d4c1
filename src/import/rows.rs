//! The import itself: lines into a table, the table into rows, every line not imported
//! accounted for in `skipped` or `duplicates`.

use std::collections::HashSet;

use super::columns::{column_names, looks_like_header, resolve, Columns, MetricChoiceError};
use super::goal::{goal_from_name, goal_from_rows};
use super::names::is_description_name;
use super::text::{
    decode, detect_delimiter, is_comment_or_blank, is_divider, split_cells, split_lines, Delimiter,
    Line,
};
use super::values::{
    is_hex_commit, known_status, read_number, read_status, status_in_description, Cell,
};
use super::{
    GoalHint, ImportError, ImportOptions, ImportReport, ImportedRow, ImportedStatus, SkippedLine,
};

/// A line of the table after the header, split into cells.
struct TableLine {
    number: usize,
    cells: Vec<String>,
}

/// A row before its status is settled.
struct PendingRow {
    row: ImportedRow,
    status: Option<ImportedStatus>,
}

pub(super) fn import(bytes: &[u8], options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let decoded = decode(bytes);
    let lines = split_lines(&decoded);
    let content: Vec<&Line> = lines
        .iter()
        .filter(|line| !is_comment_or_blank(&line.text))
        .collect();
    let delimiter = detect_delimiter(
        content
            .iter()
            .filter(|line| !is_divider(&line.text))
            .map(|line| line.text.as_str()),
    );
    let mut skipped = Vec::new();
    let mut duplicates = Vec::new();
    let (header, table) = read_table(&content, delimiter, &mut skipped, &mut duplicates);
    if table.is_empty() {
        skipped.sort_by_key(|line| line.line);
        return Err(ImportError::NoRows { skipped });
    }

    // Rows wider than the header get `columnN` names for their extra cells, unless the
    // header ends with a description, which then holds the unquoted separators.
    let description_last = header
        .as_ref()
        .and_then(|header| header.last())
        .is_some_and(|name| is_description_name(name));
    let column_count = match &header {
        Some(header) if description_last => header.len(),
        Some(header) => header.len().max(usual_width(&table)),
        None => usual_width(&table),
    };
    let all_cells: Vec<Vec<String>> = table.iter().map(|line| line.cells.clone()).collect();
    let columns = resolve(
        header.as_deref(),
        &all_cells,
        column_count,
        options.metric.as_deref(),
    )
    .map_err(|error| {
        let columns = column_names(header.as_deref(), column_count);
        match error {
            MetricChoiceError::Unknown => ImportError::UnknownMetric {
                requested: options.metric.clone().unwrap_or_default(),
                columns,
            },
            MetricChoiceError::NotFound => ImportError::MetricNotFound { columns },
        }
    })?;

    let mut pending = Vec::new();
    for line in table {
        let fitted = fit(line.cells, &columns, delimiter)
            .and_then(|cells| read_row(line.number, &cells, &columns));
        match fitted {
            Ok(row) => pending.push(row),
            Err(reason) => skipped.push(SkippedLine {
                line: line.number,
                reason,
            }),
        }
    }
    skipped.sort_by_key(|line| line.line);
    if pending.is_empty() {
        return Err(ImportError::NoRows { skipped });
    }

    let metric = columns
        .names
        .get(columns.metric)
        .cloned()
        .unwrap_or_default();
    let goal_hint = goal_from_name(&metric).or_else(|| {
        goal_from_rows(pending.iter().filter_map(|pending| {
            pending
                .status
                .as_ref()
                .map(|status| (status, pending.row.value))
        }))
    });
    Ok(ImportReport {
        metric,
        metric_column: columns.metric + 1,
        has_header: header.is_some(),
        columns: columns.names,
        goal_hint,
        rows: settle_statuses(pending, goal_hint),
        skipped,
        duplicates,
    })
}

/// Finds the header (the first line with two cells or more, unless it reads as data) and the
/// table lines after it, setting aside dividers, banners, repeated headers and duplicates.
fn read_table(
    content: &[&Line],
    delimiter: Delimiter,
    skipped: &mut Vec<SkippedLine>,
    duplicates: &mut Vec<usize>,
) -> (Option<Vec<String>>, Vec<TableLine>) {
    let mut header: Option<(String, Vec<String>)> = None;
    let mut table_started = false;
    let mut seen = HashSet::new();
    let mut table = Vec::new();
    for line in content {
        let text = line.text.trim();
        if is_divider(text) {
            // A markdown table's rule line is part of the table's syntax.
            if !(delimiter == Delimiter::Pipe && text.starts_with('|')) {
                skip(
                    skipped,
                    line.number,
                    "a divider line, not a row".to_string(),
                );
            }
            continue;
        }
        let width = header.as_ref().map_or(usize::MAX, |(_, cells)| cells.len());
        let cells = split_cells(&line.text, delimiter, width);
        if !table_started {
            if cells.len() < 2 {
                skip(
                    skipped,
                    line.number,
                    "a title or banner line before the table".to_string(),
                );
                continue;
            }
            table_started = true;
            if looks_like_header(&cells) {
                header = Some((text.to_string(), cells));
                continue;
            }
        }
        if header
            .as_ref()
            .is_some_and(|(header_text, _)| header_text == text)
        {
            skip(skipped, line.number, "the header line repeated".to_string());
            continue;
        }
        if !seen.insert(text.to_string()) {
            duplicates.push(line.number);
            continue;
        }
        table.push(TableLine {
            number: line.number,
            cells,
        });
    }
    (header.map(|(_, cells)| cells), table)
}

fn skip(skipped: &mut Vec<SkippedLine>, line: usize, reason: String) {
    skipped.push(SkippedLine { line, reason });
}

/// The most common number of cells in a line (the widest on a tie).
fn usual_width(table: &[TableLine]) -> usize {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for line in table {
        match counts
            .iter_mut()
            .find(|(width, _)| *width == line.cells.len())
        {
            Some((_, count)) => *count += 1,
            None => counts.push((line.cells.len(), 1)),
        }
    }
    counts
        .iter()
        .max_by_key(|(width, count)| (*count, *width))
        .map_or(0, |(width, _)| *width)
}

/// Brings a line to the table's width: pads a short line that still reaches the metric, drops
/// blank extra cells, and gives extra cells to a description in the last column.
fn fit(
    mut cells: Vec<String>,
    columns: &Columns,
    delimiter: Delimiter,
) -> Result<Vec<String>, String> {
    let width = columns.names.len();
    let separator = match delimiter {
        Delimiter::Tab => "tab",
        Delimiter::Comma => "comma",
        Delimiter::Pipe => "`|`",
        Delimiter::Whitespace => "space",
    };
    if cells.len() == width {
        return Ok(cells);
    }
    if cells.len() == 1 {
        return Err(format!(
            "one field only, no {separator} between values; a row needs the table's {width} \
             columns ({})",
            columns.names.join(", ")
        ));
    }
    if cells.len() < width {
        if cells.len() > columns.metric {
            cells.resize(width, String::new());
            return Ok(cells);
        }
        return Err(format!(
            "{} of the table's {width} columns; the metric column `{}` (column {}) is missing",
            cells.len(),
            columns.names.get(columns.metric).map_or("", String::as_str),
            columns.metric + 1
        ));
    }
    let extra_blank = cells.iter().skip(width).all(|cell| cell.trim().is_empty());
    if extra_blank {
        cells.truncate(width);
        return Ok(cells);
    }
    if width > 0 && columns.description == Some(width - 1) {
        let joiner = match delimiter {
            Delimiter::Tab => "\t",
            Delimiter::Comma => ",",
            Delimiter::Pipe => "|",
            Delimiter::Whitespace => " ",
        };
        let tail = cells.split_off(width - 1).join(joiner);
        cells.push(tail);
        // A shifted row shows itself by a status cell that is no status word.
        let status_cell = columns.status.and_then(|index| cells.get(index));
        if status_cell.is_none_or(|cell| cell.trim().is_empty() || known_status(cell).is_some()) {
            return Ok(cells);
        }
    }
    Err(format!(
        "{} columns but the table has {width}; a value probably holds an unquoted {separator}: \
         quote that value (\"...\") or remove the extra separator",
        cells.len()
    ))
}

fn read_row(line: usize, cells: &[String], columns: &Columns) -> Result<PendingRow, String> {
    let cell = |index: Option<usize>| {
        index
            .and_then(|index| cells.get(index))
            .map_or("", |c| c.trim())
    };
    let description = cell(columns.description).to_string();
    let status = columns
        .status
        .and_then(|index| cells.get(index))
        .and_then(|text| read_status(text))
        .or_else(|| status_in_description(&description));
    let failed = matches!(
        status,
        Some(ImportedStatus::Crash | ImportedStatus::Timeout)
    );
    let decided = matches!(status, Some(ImportedStatus::Keep | ImportedStatus::Discard));
    let placeholder = !decided && every_number_is_zero(cells, columns);

    let metric_text = cell(Some(columns.metric));
    let value = match read_number(metric_text) {
        Cell::Number(number) if failed && (number == 0.0 || number.is_nan()) => None,
        Cell::Number(number) if placeholder && number == 0.0 => None,
        Cell::Number(number) => Some(number),
        Cell::NoValue => None,
        Cell::Text if failed => None,
        Cell::Text => {
            let shown: String = metric_text.chars().take(40).collect();
            return Err(format!(
                "the metric `{}` is `{shown}`, not a number; write a number, or leave the cell \
                 empty or `N/A` for a run that produced none",
                columns.names.get(columns.metric).map_or("", String::as_str)
            ));
        }
    };
    let figure = |column: Option<(usize, f64)>| {
        let (index, scale) = column?;
        match read_number(cell(Some(index))) {
            Cell::Number(number) if number == 0.0 && (failed || value.is_none()) => None,
            Cell::Number(number) if number.is_finite() => Some(number * scale),
            _ => None,
        }
    };
    let commit = cell(columns.commit);
    let row = ImportedRow {
        line,
        commit: (!commit.is_empty()).then(|| commit.to_string()),
        commit_is_hex: is_hex_commit(commit),
        value,
        memory_gb: figure(columns.memory),
        seconds: figure(columns.seconds),
        status: ImportedStatus::Other(String::new()),
        status_inferred: false,
        description,
    };
    Ok(PendingRow { row, status })
}

/// True when the row's numbers (outside the commit, status and description) are all zero.
fn every_number_is_zero(cells: &[String], columns: &Columns) -> bool {
    let text_columns = [columns.commit, columns.status, columns.description];
    let mut numbers = cells
        .iter()
        .enumerate()
        .filter(|(index, _)| !text_columns.contains(&Some(*index)))
        .filter_map(|(_, cell)| match read_number(cell) {
            Cell::Number(number) => Some(number),
            _ => None,
        })
        .peekable();
    numbers.peek().is_some() && numbers.all(|number| number == 0.0)
}

/// Gives every row its status; a row the file gave none gets one inferred (see the module
/// documentation), judged against the last kept value before it.
fn settle_statuses(pending: Vec<PendingRow>, goal: Option<GoalHint>) -> Vec<ImportedRow> {
    let mut best: Option<f64> = None;
    let mut rows = Vec::with_capacity(pending.len());
    for PendingRow { mut row, status } in pending {
        row.status_inferred = status.is_none();
        row.status = status.unwrap_or_else(|| infer_status(row.value, best, goal));
        if let (ImportedStatus::Keep, Some(value)) = (&row.status, row.value) {
            if value.is_finite() {
                best = Some(value);
            }
        }
        rows.push(row);
    }
    rows
}

fn infer_status(value: Option<f64>, best: Option<f64>, goal: Option<GoalHint>) -> ImportedStatus {
    let Some(value) = value else {
        return ImportedStatus::Crash;
    };
    let better = match (best, goal) {
        (_, None) => return ImportedStatus::Other("unknown".to_string()),
        (None, Some(_)) => value.is_finite(),
        (Some(best), Some(GoalHint::Minimize)) => value < best,
        (Some(best), Some(GoalHint::Maximize)) => value > best,
    };
    if better {
        ImportedStatus::Keep
    } else {
        ImportedStatus::Discard
    }
}
