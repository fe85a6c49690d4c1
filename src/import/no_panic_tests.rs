//! The importer never panics: arbitrary bytes, table-like noise, and mutated real files.

use proptest::prelude::*;

use super::*;

fn real_files() -> &'static [Vec<u8>] {
    static FILES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let shared = std::env::var_os("DFH_SHARED_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
        let mut paths: Vec<_> = std::fs::read_dir(shared.join("results-tsv"))
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                    .collect()
            })
            .unwrap_or_default();
        paths.retain(|path| path.extension().is_some_and(|extension| extension == "tsv"));
        paths.sort();
        paths
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .collect()
    })
}

/// Checks what holds for any successful import.
fn check_report(bytes: &[u8], metric: Option<String>) {
    let Ok(report) = import_results(bytes, &ImportOptions { metric }) else {
        return;
    };
    assert!(!report.rows.is_empty());
    assert!((1..=report.columns.len()).contains(&report.metric_column));
    let lines: Vec<usize> = report.rows.iter().map(|row| row.line).collect();
    assert!(
        lines.windows(2).all(|pair| pair[0] < pair[1]),
        "rows out of order: {lines:?}"
    );
    for skipped in &report.skipped {
        assert!(
            !lines.contains(&skipped.line),
            "line {} imported and skipped",
            skipped.line
        );
    }
    assert!(serde_json::to_string(&report).is_ok());
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Insert { at: usize, text: &'static str },
    Delete { at: usize, length: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pieces = prop::sample::select(vec![
        "\t",
        "\n",
        "\r",
        "\r\n",
        "\"",
        "\"\"",
        ",",
        "|",
        "#",
        "-999",
        "nan",
        "N/A",
        "crash",
        "keep —",
        "\t\t\t",
        "é",
        "\u{feff}",
        "0.000000",
        "commit\tval_bpb\n",
        "\0",
        "\u{2014}",
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        (any::<usize>(), pieces).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (any::<usize>(), 0usize..200).prop_map(|(at, length)| Mutation::Delete { at, length }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let length = bytes.len().max(1);
    match mutation {
        Mutation::Flip { at, byte } => {
            if let Some(slot) = bytes.get_mut(at % length) {
                *slot = *byte;
            }
        }
        Mutation::Insert { at, text } => {
            let at = (at % (bytes.len() + 1)).min(bytes.len());
            bytes.splice(at..at, text.bytes());
        }
        Mutation::Delete { at, length: count } => {
            let start = (at % length).min(bytes.len());
            let end = (start + count).min(bytes.len());
            bytes.drain(start..end);
        }
        Mutation::Truncate { at } => bytes.truncate(at % length),
    }
}

fn metric_option() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[a-z0-9#@_ ]{0,10}")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..1500),
        metric in metric_option(),
    ) {
        check_report(&bytes, metric);
    }

    #[test]
    fn table_like_noise_never_panics(
        pieces in prop::collection::vec(prop::sample::select(vec![
            "\t", "\n", "\r\n", ",", "\"", "|", "# c\n", "commit", "val_bpb", "status",
            "description", "abc1234", "exp1", "1.5", "0.000000", "-999", "nan", "N/A", "keep",
            "discard", "crash", "timeout", "MATCH", "keep — ", "===", "  ", "7", "memory_gb",
        ]), 0..120),
        metric in metric_option(),
    ) {
        check_report(pieces.concat().as_bytes(), metric);
    }

    #[test]
    fn mutated_real_files_never_panic(
        file in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..8),
        metric in metric_option(),
    ) {
        let files = real_files();
        prop_assume!(!files.is_empty());
        let mut bytes = file.get(files).clone();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        check_report(&bytes, metric);
    }
}

#[test]
fn the_real_files_are_found_for_mutation() {
    assert_eq!(real_files().len(), 12);
}
