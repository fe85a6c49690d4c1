//! `dfh init` imports the real results.tsv logs of ../shared/results-tsv as experiments.

use std::collections::BTreeMap;

use crate::support::{shared_dir, TestEnv, TRAIN};

/// (file, rows, metric column, [(status, count)]) — counted by hand from each file.
/// (file, rows, metric column, [(status, count)]).
type Expected = (
    &'static str,
    usize,
    &'static str,
    &'static [(&'static str, usize)],
);

const EXPECTED: &[Expected] = &[
    (
        "pimlock__autoresearch-spark.tsv",
        134,
        "val_bpb",
        &[("keep", 25), ("discard", 109)],
    ),
    (
        "Djordje-Stojanovic__TrainRTX5070.tsv",
        66,
        "val_bpb",
        &[("keep", 19), ("discard", 40), ("crash", 7)],
    ),
    (
        "0xedev__auto-researchtrading.tsv",
        66,
        "score",
        &[("keep", 3), ("discard", 63)],
    ),
    (
        "miolini__autoresearch-macos.tsv",
        55,
        "compression_score",
        &[("keep", 9), ("discard", 42), ("crash", 1), ("marker", 3)],
    ),
    (
        "aroughidea__autoresearch-win-rtx.tsv",
        40,
        "val_bpb",
        &[("keep", 14), ("discard", 13), ("missing", 13)],
    ),
    (
        "anaclumos__parameter-golf.tsv",
        25,
        "val_bpb",
        &[
            ("keep", 14),
            ("discard", 5),
            ("crash", 5),
            ("size_violation", 1),
        ],
    ),
    (
        "Entrpi__autoresearch-everywhere.tsv",
        10,
        "val_bpb",
        &[("keep", 5), ("discard", 2), ("crash", 3)],
    ),
    (
        "BilalHaneefQ__autoresearch.tsv",
        17,
        "rmse",
        &[("keep", 9), ("discard", 8)],
    ),
    (
        "DanRWilloughby__auto-researchtrading.tsv",
        103,
        "score",
        &[("keep", 44), ("discard", 59)],
    ),
    (
        "EthanBobbyTR__mamba-auto-full.tsv",
        59,
        "val_bpb",
        &[("keep", 28), ("discard", 30), ("crash", 1)],
    ),
    (
        "BDEvan5__credit-risk-ml.tsv",
        74,
        "roc_auc",
        &[("keep", 13), ("discard", 61)],
    ),
    (
        "pytorch__helion.tsv",
        32,
        "column6",
        &[("keep", 23), ("discard", 7), ("MATCH", 2)],
    ),
];

#[test]
fn every_real_log_imports_with_its_rows_and_statuses() {
    let folder = shared_dir().join("results-tsv");
    assert!(
        folder.exists(),
        "the fixtures folder {} is missing",
        folder.display()
    );
    for (file, rows, metric, statuses) in EXPECTED {
        let original = std::fs::read(folder.join(file)).unwrap();
        let env = TestEnv::with_files(&[("train.py", TRAIN)]);
        std::fs::write(env.path("results.tsv"), &original).unwrap();
        let run = env.dfh_ok(&["init"]);
        assert!(
            run.stdout.contains(&format!(
                "imported {rows} experiments from results.tsv (metric column `{metric}`)"
            )),
            "{file}: {}",
            run.stdout
        );
        // The original is kept byte for byte.
        assert_eq!(
            std::fs::read(env.path(".dfh/imported/results.tsv")).unwrap(),
            original,
            "{file}"
        );
        let status = env.status();
        assert_eq!(status["experiments"], *rows, "{file}");
        let counts: BTreeMap<String, usize> =
            serde_json::from_value(status["counts"].clone()).unwrap();
        let expected: BTreeMap<String, usize> = statuses
            .iter()
            .map(|(name, count)| (name.to_string(), *count))
            .collect();
        assert_eq!(counts, expected, "{file}");
        // dfh's own results.tsv now holds one row per imported experiment.
        let written = env.read("results.tsv");
        assert_eq!(written.lines().count(), rows + 1, "{file}");
        assert!(written.starts_with("commit\t"), "{file}");
    }
}

#[test]
fn unreadable_lines_are_reported_by_number() {
    let env = TestEnv::with_files(&[("train.py", TRAIN)]);
    env.write(
        "results.tsv",
        "commit\tval_bpb\tmemory_gb\tstatus\tdescription\na1b2c3d\t0.99\t44.0\tkeep\tbaseline\n=== banner ===\nb2c3d4e\tabc\t44.0\tdiscard\tbroken value\n",
    );
    let run = env.dfh_ok(&["init"]);
    assert!(
        run.stdout.contains("results.tsv:3: not imported"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("results.tsv:4: not imported"),
        "{}",
        run.stdout
    );
    assert_eq!(env.status()["experiments"], 1);
}
