//! The twelve real results.tsv files in shared/results-tsv, each read with its true counts
//! (worked out from the files with awk, not from this importer's output).

use super::*;

fn shared_dir() -> std::path::PathBuf {
    std::env::var_os("DFH_SHARED_DIR")
        .map(Into::into)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

fn import_file(name: &str, metric: Option<&str>) -> ImportReport {
    let path = shared_dir().join("results-tsv").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let options = ImportOptions {
        metric: metric.map(str::to_string),
    };
    import_results(&bytes, &options).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// What a file must give.
struct Expected {
    rows: usize,
    metric: &'static str,
    metric_column: usize,
    goal: GoalHint,
    keep: usize,
    discard: usize,
    crash: usize,
    other: &'static [(&'static str, usize)],
    /// Rows whose metric reads as no value.
    no_value: usize,
}

fn check(name: &str, expected: &Expected) -> ImportReport {
    let report = import_file(name, None);
    let count = |wanted: &ImportedStatus| {
        report
            .rows
            .iter()
            .filter(|row| &row.status == wanted)
            .count()
    };
    assert_eq!(report.rows.len(), expected.rows, "{name}: rows");
    assert_eq!(report.metric, expected.metric, "{name}: metric");
    assert_eq!(
        report.metric_column, expected.metric_column,
        "{name}: metric column"
    );
    assert_eq!(report.goal_hint, Some(expected.goal), "{name}: goal");
    assert_eq!(count(&ImportedStatus::Keep), expected.keep, "{name}: keep");
    assert_eq!(
        count(&ImportedStatus::Discard),
        expected.discard,
        "{name}: discard"
    );
    assert_eq!(
        count(&ImportedStatus::Crash),
        expected.crash,
        "{name}: crash"
    );
    assert_eq!(count(&ImportedStatus::Timeout), 0, "{name}: timeout");
    for (other, number) in expected.other {
        assert_eq!(
            count(&ImportedStatus::Other(other.to_string())),
            *number,
            "{name}: {other}"
        );
    }
    let statuses: usize = expected.keep
        + expected.discard
        + expected.crash
        + expected
            .other
            .iter()
            .map(|(_, number)| number)
            .sum::<usize>();
    assert_eq!(
        statuses, expected.rows,
        "{name}: the expected statuses cover every row"
    );
    let no_value = report.rows.iter().filter(|row| row.value.is_none()).count();
    assert_eq!(no_value, expected.no_value, "{name}: rows without a value");
    assert!(
        report.skipped.is_empty(),
        "{name}: skipped {:?}",
        report.skipped
    );
    assert!(
        report.rows.iter().all(|row| !row.status_inferred),
        "{name}: inferred a status"
    );
    report
}

fn row(report: &ImportReport, line: usize) -> &ImportedRow {
    let found = report.rows.iter().find(|row| row.line == line);
    found.unwrap_or_else(|| panic!("no row from line {line}"))
}

#[test]
fn pimlock_autoresearch_five_columns() {
    let expected = Expected {
        rows: 134,
        metric: "val_bpb",
        metric_column: 2,
        goal: GoalHint::Minimize,
        keep: 25,
        discard: 109,
        crash: 0,
        other: &[],
        no_value: 0,
    };
    let report = check("pimlock__autoresearch-spark.tsv", &expected);
    let first = row(&report, 2);
    assert_eq!(first.commit.as_deref(), Some("69401db"));
    assert!(first.commit_is_hex);
    assert_eq!((first.value, first.memory_gb), (Some(1.879448), Some(44.0)));
    assert_eq!(first.description, "baseline");
    assert!(report.duplicates.is_empty());
}

#[test]
fn djordje_eleven_columns_and_all_zero_crash_rows() {
    let expected = Expected {
        rows: 66,
        metric: "val_bpb",
        metric_column: 2,
        goal: GoalHint::Minimize,
        keep: 19,
        discard: 40,
        crash: 7,
        other: &[],
        no_value: 7,
    };
    let report = check("Djordje-Stojanovic__TrainRTX5070.tsv", &expected);
    let crash = row(&report, 17);
    assert_eq!(crash.commit.as_deref(), Some("7b1c5a1"));
    assert_eq!(
        (crash.status.clone(), crash.value, crash.memory_gb),
        (ImportedStatus::Crash, None, None)
    );
    assert!(crash
        .description
        .starts_with("weight tying (lm_head.weight=wte.weight)"));
    assert!(row(&report, 2).description.contains("loss 1.50→5.15"));
}

#[test]
fn oxedev_uppercase_statuses_exp_commits_and_minus_999() {
    let expected = Expected {
        rows: 66,
        metric: "score",
        metric_column: 2,
        goal: GoalHint::Maximize,
        keep: 3,
        discard: 63,
        crash: 0,
        other: &[],
        no_value: 33,
    };
    let report = check("0xedev__auto-researchtrading.tsv", &expected);
    let baseline = row(&report, 2);
    assert_eq!(baseline.commit.as_deref(), Some("exp0"));
    assert!(!baseline.commit_is_hex);
    assert_eq!(
        (baseline.status.clone(), baseline.value),
        (ImportedStatus::Keep, None)
    );
    assert_eq!(row(&report, 26).value, Some(-3.632));
}

#[test]
fn miolini_markers_pending_commits_and_negative_values() {
    let expected = Expected {
        rows: 55,
        metric: "compression_score",
        metric_column: 2,
        goal: GoalHint::Maximize,
        keep: 9,
        discard: 42,
        crash: 1,
        other: &[("marker", 3)],
        no_value: 4,
    };
    let report = check("miolini__autoresearch-macos.tsv", &expected);
    assert_eq!(
        report.rows.iter().filter(|row| !row.commit_is_hex).count(),
        2
    );
    let marker = row(&report, 36);
    assert_eq!(marker.commit.as_deref(), Some("PENDING"));
    assert_eq!(
        (marker.status.clone(), marker.value),
        (ImportedStatus::Other("marker".into()), None)
    );
    assert_eq!(row(&report, 12).value, Some(-0.014182));
}

#[test]
fn aroughidea_timestamp_first_and_missing_rows() {
    let expected = Expected {
        rows: 40,
        metric: "val_bpb",
        metric_column: 3,
        goal: GoalHint::Minimize,
        keep: 14,
        discard: 13,
        crash: 0,
        other: &[("missing", 13)],
        no_value: 13,
    };
    let report = check("aroughidea__autoresearch-win-rtx.tsv", &expected);
    assert_eq!(
        report
            .rows
            .iter()
            .filter(|row| row.memory_gb.is_some())
            .count(),
        24
    );
    let first = row(&report, 2);
    assert_eq!(
        (first.commit.as_deref(), first.value),
        (Some("ea5db6e"), Some(0.819446))
    );
}

#[test]
fn anaclumos_index_first_kept_reverted_and_na() {
    let expected = Expected {
        rows: 25,
        metric: "val_bpb",
        metric_column: 3,
        goal: GoalHint::Minimize,
        keep: 14,
        discard: 5,
        crash: 5,
        other: &[("size_violation", 1)],
        no_value: 5,
    };
    let report = check("anaclumos__parameter-golf.tsv", &expected);
    assert_eq!(row(&report, 11).value, Some(3.79526483));
    assert_eq!(row(&report, 2).commit.as_deref(), Some("878fbc8"));
}

#[test]
fn entrpi_quoted_fields_and_mixed_line_endings() {
    let expected = Expected {
        rows: 10,
        metric: "val_bpb",
        metric_column: 2,
        goal: GoalHint::Minimize,
        keep: 5,
        discard: 2,
        crash: 3,
        other: &[],
        no_value: 3,
    };
    let report = check("Entrpi__autoresearch-everywhere.tsv", &expected);
    for row in &report.rows {
        assert!(
            row.description.starts_with("run_tag="),
            "{}",
            row.description
        );
        assert!(
            row.description.ends_with("args=\"--preset m5-balanced\"")
                || row.description.contains("args=\"--preset m5-"),
            "{}",
            row.description
        );
        assert!(!row.description.contains('\r'));
    }
    assert!(row(&report, 4)
        .description
        .ends_with("--total-batch-size 4096\""));
}

#[test]
fn bilal_status_opens_the_description() {
    let expected = Expected {
        rows: 17,
        metric: "rmse",
        metric_column: 2,
        goal: GoalHint::Minimize,
        keep: 9,
        discard: 8,
        crash: 0,
        other: &[],
        no_value: 0,
    };
    let report = check("BilalHaneefQ__autoresearch.tsv", &expected);
    let dart = row(&report, 6);
    assert_eq!(
        (dart.commit.as_deref(), dart.commit_is_hex),
        (Some("exp4_dart"), false)
    );
    assert_eq!(dart.status, ImportedStatus::Discard);
    assert_eq!(row(&report, 2).value, Some(1606506.0));
}

#[test]
fn danrwilloughby_comment_lines_before_header() {
    let expected = Expected {
        rows: 103,
        metric: "score",
        metric_column: 2,
        goal: GoalHint::Maximize,
        keep: 44,
        discard: 59,
        crash: 0,
        other: &[],
        no_value: 0,
    };
    let report = check("DanRWilloughby__auto-researchtrading.tsv", &expected);
    assert_eq!(report.rows.first().map(|row| row.line), Some(6));
    assert_eq!(
        report.rows.iter().filter(|row| row.commit_is_hex).count(),
        86
    );
}

#[test]
fn ethanbobbytr_row_logged_twice_is_imported_once() {
    let expected = Expected {
        rows: 59,
        metric: "val_bpb",
        metric_column: 2,
        goal: GoalHint::Minimize,
        keep: 28,
        discard: 30,
        crash: 1,
        other: &[],
        no_value: 1,
    };
    let report = check("EthanBobbyTR__mamba-auto-full.tsv", &expected);
    assert_eq!(report.duplicates, vec![22]);
    assert_eq!(
        report
            .rows
            .iter()
            .filter(|row| row.commit.as_deref() == Some("db5d493"))
            .count(),
        1
    );
    assert_eq!(row(&report, 3).memory_gb, None);
}

#[test]
fn bdevan5_higher_is_better() {
    let expected = Expected {
        rows: 74,
        metric: "roc_auc",
        metric_column: 2,
        goal: GoalHint::Maximize,
        keep: 13,
        discard: 61,
        crash: 0,
        other: &[],
        no_value: 0,
    };
    check("BDEvan5__credit-risk-ml.tsv", &expected);
}

#[test]
fn pytorch_helion_no_header_no_commit() {
    let expected = Expected {
        rows: 32,
        metric: "column6",
        metric_column: 6,
        goal: GoalHint::Minimize,
        keep: 23,
        discard: 7,
        crash: 0,
        other: &[("MATCH", 2)],
        no_value: 0,
    };
    let report = check("pytorch__helion.tsv", &expected);
    assert!(!report.has_header);
    let first = row(&report, 1);
    assert_eq!((first.commit.as_deref(), first.value), (None, Some(0.792)));
    assert_eq!(first.description, "into sk=16 bs=[16, 256, 128]");
    let by_number = import_file("pytorch__helion.tsv", Some("4"));
    assert_eq!(
        (by_number.metric.as_str(), by_number.metric_column),
        ("column4", 4)
    );
    assert_eq!(
        by_number.rows.first().and_then(|row| row.value),
        Some(3.878)
    );
}
