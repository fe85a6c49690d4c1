//! The importer end to end on small made-up files: one quirk each.

use super::*;

fn import(text: &str) -> ImportReport {
    import_with(text, None).unwrap_or_else(|error| panic!("{error}"))
}

fn import_with(text: &str, metric: Option<&str>) -> Result<ImportReport, ImportError> {
    import_results(
        text.as_bytes(),
        &ImportOptions {
            metric: metric.map(str::to_string),
        },
    )
}

fn values(report: &ImportReport) -> Vec<Option<f64>> {
    report.rows.iter().map(|row| row.value).collect()
}

fn statuses(report: &ImportReport) -> Vec<ImportedStatus> {
    report.rows.iter().map(|row| row.status.clone()).collect()
}

#[test]
fn quoted_tsv_field_with_tab_and_doubled_quotes() {
    let report = import(
        "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n\
         abc1234\t1.5\t4.0\tkeep\t\"args=\"\"--lr 0.1\"\"\tand more\"\n",
    );
    assert_eq!(report.rows.len(), 1);
    assert_eq!(report.rows[0].description, "args=\"--lr 0.1\"\tand more");
    assert_eq!(report.rows[0].memory_gb, Some(4.0));
}

#[test]
fn comma_separated_file_with_quoted_commas() {
    let report = import(
        "commit,val_loss,status,description\n\
         abc1234,2.5,keep,\"baseline, default lr\"\n\
         def5678,2.4,discard,\"wider, slower\"\n",
    );
    assert_eq!(report.metric, "val_loss");
    assert_eq!(report.rows[0].description, "baseline, default lr");
    assert_eq!(
        statuses(&report),
        vec![ImportedStatus::Keep, ImportedStatus::Discard]
    );
}

#[test]
fn crlf_and_lf_mixed() {
    let report = import("commit\tloss\tstatus\r\nabc1234\t1.0\tkeep\r\nbcd2345\t1.2\tdiscard\nfff0000\t0.9\tkeep\r\n");
    assert_eq!(
        statuses(&report),
        vec![
            ImportedStatus::Keep,
            ImportedStatus::Discard,
            ImportedStatus::Keep
        ]
    );
    assert_eq!(
        report.rows.iter().map(|row| row.line).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
}

#[test]
fn crash_sentinels_read_as_no_value() {
    let report = import(
        "commit\tval_bpb\tmemory_gb\tstatus\tdescription\n\
         a000001\tN/A\t\tcrash\tna\n\
         a000002\tNA\t\tcrash\tna\n\
         a000003\tFAILED\t\tfail\tfailed\n\
         a000004\t-999\t0.0\tdiscard\tsentinel\n\
         a000005\t\t\tcrash\tempty\n\
         a000006\t0.000000\t0.0\tcrash\tzero on crash\n\
         a000007\tnan\t3.0\tcrash\tnan on crash\n\
         a000008\tnan\t3.0\tdiscard\tdiverged\n\
         a000009\t0.0\t3.0\tkeep\ta real zero\n\
         a000010\t1.25\t3.0\ttimeout\tvalue before the kill\n",
    );
    let values = values(&report);
    assert_eq!(values[..7], [None, None, None, None, None, None, None]);
    assert!(
        values[7].is_some_and(f64::is_nan),
        "nan on a discard row is a diverged run"
    );
    assert_eq!(values[8..], [Some(0.0), Some(1.25)]);
    assert_eq!(report.rows[3].memory_gb, None);
    assert_eq!(report.rows[2].status, ImportedStatus::Crash);
    assert_eq!(report.rows[9].status, ImportedStatus::Timeout);
}

#[test]
fn headerless_autoresearch_order() {
    let report = import("abc1234\t1.50\t4.4\tkeep\tbaseline\nbcd2345\t1.40\t4.5\tkeep\tdeeper\n");
    assert!(!report.has_header);
    assert_eq!(
        (report.metric.as_str(), report.metric_column),
        ("column2", 2)
    );
    assert_eq!(report.rows[1].memory_gb, Some(4.5));
    assert_eq!(report.rows[1].description, "deeper");
    assert_eq!(report.goal_hint, Some(GoalHint::Minimize));
}

#[test]
fn headerless_metric_chosen_by_number() {
    let text = "1\t2048\t3.1\t0.8\tWIN\tfast\n2\t2048\t3.3\t1.2\tMISS\tslow\n";
    assert_eq!(import(text).metric_column, 4);
    let chosen = import_with(text, Some("column3")).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(values(&chosen), vec![Some(3.1), Some(3.3)]);
    let error = import_with(text, Some("9")).err();
    let message = error.map(|error| error.to_string()).unwrap_or_default();
    assert!(message.contains("column1, column2, column3"), "{message}");
    assert!(message.contains("--metric NAME"), "{message}");
}

#[test]
fn status_opening_the_description_when_no_status_column() {
    let report = import(
        "commit\trmse\tdescription\n\
         a000001\t10\tbaseline — ridge\n\
         a000002\t9\tkeep — boosted trees\n\
         a000003\t11\tdiscard: overfit\n",
    );
    assert_eq!(
        statuses(&report),
        vec![
            ImportedStatus::Keep,
            ImportedStatus::Keep,
            ImportedStatus::Discard
        ]
    );
    assert!(report.rows.iter().all(|row| !row.status_inferred));
    assert_eq!(report.rows[1].description, "keep — boosted trees");
}

#[test]
fn status_inferred_when_the_file_gives_none() {
    let report = import(
        "commit\tval_loss\tnotes\n\
         a000001\t1.0\tbaseline run\n\
         a000002\t0.9\tlower lr\n\
         a000003\t0.95\twider\n\
         a000004\t\tout of memory\n",
    );
    assert_eq!(
        statuses(&report),
        vec![
            ImportedStatus::Keep,
            ImportedStatus::Keep,
            ImportedStatus::Discard,
            ImportedStatus::Crash
        ]
    );
    assert!(report.rows.iter().all(|row| row.status_inferred));
    let unknown = import("commit\tquality\nabc1234\t1.0\n");
    assert_eq!(
        statuses(&unknown),
        vec![ImportedStatus::Other("unknown".into())]
    );
    assert_eq!(unknown.goal_hint, None);
}

#[test]
fn identical_line_imported_once_and_reported() {
    let report = import(
        "commit\tscore\tstatus\n\
         abc1234\t1.0\tkeep\n\
         abc1234\t1.0\tkeep\n\
         abc1234\t1.1\tdiscard\n",
    );
    assert_eq!(
        report.rows.len(),
        2,
        "same commit with another value is another row"
    );
    assert_eq!(report.duplicates, vec![3]);
}

#[test]
fn commits_that_are_not_git_hashes_keep_their_text() {
    let report =
        import("commit\tloss\tstatus\nabc1234-dirty\t1\tkeep\nexp0\t2\tdiscard\n\t3\tdiscard\n");
    let commits: Vec<(Option<&str>, bool)> = report
        .rows
        .iter()
        .map(|row| (row.commit.as_deref(), row.commit_is_hex))
        .collect();
    assert_eq!(
        commits,
        vec![
            (Some("abc1234-dirty"), false),
            (Some("exp0"), false),
            (None, false)
        ]
    );
}

#[test]
fn unreadable_lines_are_reported_with_number_and_reason() {
    let report = import(
        "Results of the overnight run\n\
         # a comment\n\
         commit\tval_bpb\tmemory_gb\tstatus\tdescription\n\
         =====================\n\
         abc1234\t1.5\t4.0\tkeep\tbaseline\n\
         abc1235\tbroken\t4.0\tdiscard\tbad metric\n\
         just some words\n\
         abc1236\t1.4\t4.0\textra\tcolumn\tkeep\n\
         commit\tval_bpb\tmemory_gb\tstatus\tdescription\n\
         \n\
         abc1237\t1.3\t4.0\tkeep\tgood\t\t\n\
         abc1238\t1.35\n",
    );
    let skipped: Vec<usize> = report.skipped.iter().map(|line| line.line).collect();
    assert_eq!(skipped, vec![1, 4, 6, 7, 8, 9]);
    assert!(
        report.skipped[2].reason.contains("`broken`"),
        "{:?}",
        report.skipped[2]
    );
    assert!(
        report.skipped[4].reason.contains("unquoted tab"),
        "{:?}",
        report.skipped[4]
    );
    let lines: Vec<usize> = report.rows.iter().map(|row| row.line).collect();
    assert_eq!(lines, vec![5, 11, 12]);
    assert_eq!(
        report.rows[2].status,
        ImportedStatus::Discard,
        "padded; worse than 1.3"
    );
    assert!(report.rows[2].status_inferred);
}

#[test]
fn description_in_last_column_takes_unquoted_tabs() {
    let report = import("commit\tloss\tstatus\tdescription\nabc1234\t1.0\tkeep\tone\ttwo\n");
    assert_eq!(report.rows[0].description, "one\ttwo");
}

#[test]
fn metric_option_by_name() {
    let text = "commit\tval_bpb\tfinal_loss\tstatus\nabc1234\t1.5\t3.2\tkeep\n";
    let report = import_with(text, Some("final_loss")).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(
        (report.metric.as_str(), values(&report)),
        ("final_loss", vec![Some(3.2)])
    );
    let error = import_with(text, Some("val_acc")).err();
    assert_eq!(
        error,
        Some(ImportError::UnknownMetric {
            requested: "val_acc".into(),
            columns: vec![
                "commit".into(),
                "val_bpb".into(),
                "final_loss".into(),
                "status".into()
            ],
        })
    );
}

#[test]
fn markdown_table() {
    let report = import(
        "| commit | pass@1 | status | description |\n\
         |---|---|---|---|\n\
         | abc1234 | 0.15 | keep | baseline |\n\
         | bcd2345 | 0.18 | keep | better prompt |\n",
    );
    assert_eq!(report.metric, "pass@1");
    assert_eq!(report.goal_hint, Some(GoalHint::Maximize));
    assert_eq!(values(&report), vec![Some(0.15), Some(0.18)]);
    assert!(report.skipped.is_empty());
}

#[test]
fn nothing_to_import_is_an_error_that_teaches() {
    assert!(matches!(
        import_with("", None),
        Err(ImportError::NoRows { .. })
    ));
    assert!(matches!(
        import_with("# only\n\n", None),
        Err(ImportError::NoRows { .. })
    ));
    assert!(matches!(
        import_with("commit\tval_bpb\tstatus\n", None),
        Err(ImportError::NoRows { .. })
    ));
    let all_text = import_with("commit\tmodel\tstatus\nabc1234\tridge\tkeep\n", None);
    let message = all_text
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("columns found: commit, model, status"),
        "{message}"
    );
    let broken = import_with("commit\tloss\tstatus\nabc\toops\tkeep\n", None);
    let message = broken
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(
        message.contains("line 2: the metric `loss` is `oops`"),
        "{message}"
    );
}
