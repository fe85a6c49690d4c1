//! Tests of the state snapshot: snapshot plus tail folds to the full fold, and every kind of
//! invalid snapshot falls back to the full fold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;

/// A synthetic history with every kind of event, an unknown event and an unreadable line.
fn every_kind(experiments: u32) -> Vec<String> {
    let history = crate::synthetic::history(experiments);
    let mut lines = Vec::new();
    let json = |event: &Event| serde_json::to_string(event).unwrap();
    let at = String::from("2026-02-01T00:00:00Z");
    for event in &history.events {
        lines.push(json(event));
        let number = match event {
            Event::Started(started) => {
                lines.push(json(&Event::Launched(Launched {
                    at: at.clone(),
                    experiment: started.experiment,
                    child_pid: Some(4000 + started.experiment),
                    child_start: Some(77),
                    job_id: (started.experiment % 5 == 0).then(|| "42".into()),
                    node: None,
                })));
                continue;
            }
            Event::Decided(decided) => decided.experiment,
            _ => continue,
        };
        let extra = match number % 11 {
            1 => Event::Rejected(Rejected {
                at: at.clone(),
                experiment: number,
                stage: "checks".into(),
                reason: format!("rule {number}"),
            }),
            2 => Event::ReadonlyAccepted(ReadonlyAccepted {
                at: at.clone(),
                readonly_hashes: BTreeMap::from([("prepare.py".into(), format!("h{number}"))]),
            }),
            3 => Event::Imported(Imported {
                at: at.clone(),
                experiment: 100_000 + number,
                commit: None,
                value: Some(0.5),
                status: if number % 2 == 0 { "keep" } else { "weird" }.into(),
                description: "imported row".into(),
                memory_gb: None,
                seconds: Some(3.0),
            }),
            4 => Event::Interrupted(Interrupted {
                at: at.clone(),
                experiment: number,
                attempt: 1,
                reason: "signal 15".into(),
            }),
            5 => Event::Abandoned(Abandoned {
                at: at.clone(),
                experiment: number,
                reason: "dead end".into(),
            }),
            6 => Event::NoiseMeasured(NoiseMeasured {
                at: at.clone(),
                floor: crate::decide::noise::NoiseFloor {
                    experiment: number,
                    values: vec![0.9, 0.91],
                    mean: 0.905,
                    sigma: 0.007,
                },
            }),
            7 => Event::DistillOpened(DistillOpened {
                at: at.clone(),
                after_experiment: number,
                sections_hash: "abc".into(),
            }),
            8 => Event::Distilled(Distilled {
                at: at.clone(),
                after_experiment: number,
                summary: format!("Priorities: {number}"),
            }),
            9 => Event::ReportRead(ReportRead {
                at: at.clone(),
                through_experiment: number,
            }),
            _ => {
                lines.push(r#"{"event":"from_a_newer_dfh","at":"x"}"#.into());
                lines.push("not json at all".into());
                continue;
            }
        };
        lines.push(json(&extra));
    }
    // A run in progress at the end: `started` and `launched` without `finished`.
    lines.push(json(&Event::Started(Started {
        at,
        experiment: experiments,
        attempt: 2,
        run: 1,
        commit: "c".repeat(40),
        parent: "p".repeat(40),
        branch: "main".into(),
        log: "l".into(),
        seed: 3,
        harness_pid: 9,
        child_pid: None,
        child_start: None,
        job_id: None,
        lane: None,
    })));
    lines
}

struct Setup {
    _dir: tempfile::TempDir,
    journal: Journal,
    snapshot: PathBuf,
}

fn setup(lines: &[String]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::new(dir.path().join("journal.jsonl"));
    std::fs::write(journal.path(), lines.join("\n") + "\n").unwrap();
    let snapshot = dir.path().join("state.snapshot");
    Setup {
        _dir: dir,
        journal,
        snapshot,
    }
}

/// The state as JSON with every field: two states are the same when these are equal.
fn canonical(state: &State) -> String {
    let _encoding = snapshot::Encoding::start();
    serde_json::to_string(state).unwrap()
}

fn full(journal: &Journal) -> (String, String) {
    let loaded = journal.load().unwrap();
    (
        canonical(&State::fold(&loaded.events)),
        format!("{:?}", loaded.skipped),
    )
}

fn folded(journal: &Journal, snapshot: &Path) -> (String, String, bool) {
    let folded = journal.fold(snapshot).unwrap();
    (
        canonical(&folded.state),
        format!("{:?}", folded.skipped),
        folded.from_snapshot,
    )
}

/// Writes a snapshot of the journal's first `lines` lines; returns the bytes it covers.
fn snapshot_after(setup: &Setup, lines: usize) -> usize {
    let text = std::fs::read(setup.journal.path()).unwrap();
    let bytes: usize = text
        .split_inclusive(|byte| *byte == b'\n')
        .take(lines)
        .map(<[u8]>::len)
        .sum();
    let prefix = Journal::new(setup.journal.path().with_extension("prefix"));
    std::fs::write(prefix.path(), &text[..bytes]).unwrap();
    let loaded = prefix.load().unwrap();
    let position = Position {
        bytes: bytes as u64,
        lines,
    };
    let mut state = State::fold(&loaded.events);
    snapshot::write(
        &setup.snapshot,
        setup.journal.path(),
        &mut state,
        &loaded.skipped,
        position,
    )
    .unwrap();
    bytes
}

#[test]
fn snapshot_plus_tail_is_the_full_fold_at_any_split() {
    let lines = every_kind(300);
    let setup = setup(&lines);
    let expected = full(&setup.journal);
    let mut seed = 7_u64;
    let mut splits = vec![1, lines.len() - 1, lines.len()];
    for _ in 0..25 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        splits.push(1 + (seed >> 33) as usize % lines.len());
    }
    for split in splits {
        snapshot_after(&setup, split);
        let (state, skipped, from_snapshot) = folded(&setup.journal, &setup.snapshot);
        assert!(from_snapshot, "snapshot after line {split} was not used");
        assert!(state == expected.0, "state differs with a split at {split}");
        assert_eq!(skipped, expected.1, "split at {split}");
    }
}

#[test]
fn a_long_tail_writes_a_snapshot_the_next_fold_uses() {
    let lines = every_kind(300);
    let setup = setup(&lines);
    let (state, _, from_snapshot) = folded(&setup.journal, &setup.snapshot);
    assert!(!from_snapshot);
    assert!(setup.snapshot.exists());
    let (again, _, from_snapshot) = folded(&setup.journal, &setup.snapshot);
    assert!(from_snapshot);
    assert!(again == state);
    // A torn last line stays outside the snapshot and is reported on every read.
    let mut text = std::fs::read_to_string(setup.journal.path()).unwrap();
    text.push_str(r#"{"event":"learned","at":"#);
    std::fs::write(setup.journal.path(), &text).unwrap();
    let folded = setup.journal.fold(&setup.snapshot).unwrap();
    assert!(folded.from_snapshot);
    assert!(folded
        .skipped
        .last()
        .is_some_and(|line| line.reason.contains("torn")));
    assert_eq!(format!("{:?}", folded.skipped), full(&setup.journal).1);
}

/// Checks that after `spoil` the snapshot is ignored and the state is the full fold.
/// `spoil` gets the number of journal bytes the snapshot covers.
fn falls_back(spoil: impl FnOnce(&Setup, usize)) {
    let lines = every_kind(200);
    let setup = setup(&lines);
    let covered = snapshot_after(&setup, lines.len() * 2 / 3);
    let mut file = std::fs::File::open(setup.journal.path()).unwrap();
    assert!(snapshot::read(&setup.snapshot, &mut file, snapshot::Part::Whole).is_some());
    assert!(snapshot::read(&setup.snapshot, &mut file, snapshot::Part::Outline).is_some());
    spoil(&setup, covered);
    let (state, skipped, from_snapshot) = folded(&setup.journal, &setup.snapshot);
    assert!(!from_snapshot, "an invalid snapshot was used");
    let expected = full(&setup.journal);

    assert!(state == expected.0);
    assert_eq!(skipped, expected.1);
}

#[test]
fn a_truncated_journal_falls_back_to_the_full_fold() {
    falls_back(|setup, _| {
        let text = std::fs::read_to_string(setup.journal.path()).unwrap();
        let kept: Vec<&str> = text.lines().take(text.lines().count() / 2).collect();
        std::fs::write(setup.journal.path(), kept.join("\n") + "\n").unwrap();
    });
}

#[test]
fn a_journal_edited_in_the_middle_falls_back_to_the_full_fold() {
    falls_back(|setup, _| {
        let text = std::fs::read_to_string(setup.journal.path()).unwrap();
        let edited = text.replacen("\"title\":\"", "\"title\":\"edited ", 20);
        std::fs::write(setup.journal.path(), edited).unwrap();
    });
}

#[test]
fn a_journal_edited_before_the_offset_without_changing_its_length_falls_back() {
    falls_back(|setup, covered| {
        // One byte of the last line the snapshot covers.
        let mut bytes = std::fs::read(setup.journal.path()).unwrap();
        bytes[covered - 3] ^= 1;
        std::fs::write(setup.journal.path(), bytes).unwrap();
    });
}

#[test]
fn a_snapshot_from_another_project_falls_back_to_the_full_fold() {
    falls_back(|setup, _| {
        // The same history under another `initialized` event: another project.
        let text = std::fs::read_to_string(setup.journal.path()).unwrap();
        let other = text.replacen("\"branch\":\"main\"", "\"branch\":\"trunk\"", 1);
        assert_eq!(other.len(), text.len() + 1);
        std::fs::write(setup.journal.path(), other).unwrap();
    });
    falls_back(|setup, _| {
        let text = std::fs::read_to_string(setup.journal.path()).unwrap();
        let other = text.replacen(&"0".repeat(40), &"1".repeat(40), 1);
        assert_eq!(other.len(), text.len());
        std::fs::write(setup.journal.path(), other).unwrap();
    });
}

#[test]
fn a_corrupt_snapshot_falls_back_to_the_full_fold() {
    for position in [0, 5, 12, 40, 1000, 20_000] {
        falls_back(|setup, _| {
            let mut bytes = std::fs::read(&setup.snapshot).unwrap();
            let index = position.min(bytes.len() - 1);
            bytes[index] ^= 0x5a;
            std::fs::write(&setup.snapshot, bytes).unwrap();
        });
    }
    falls_back(|setup, _| {
        let bytes = std::fs::read(&setup.snapshot).unwrap();
        std::fs::write(&setup.snapshot, &bytes[..bytes.len() / 2]).unwrap();
    });
    falls_back(|setup, _| std::fs::write(&setup.snapshot, b"").unwrap());
}

/// The outline of a state, as JSON with every field.
fn outline_canonical(state: &State) -> String {
    canonical(&snapshot::outline(&mut state.clone()))
}

#[test]
fn the_outline_plus_tail_outlines_the_full_fold_at_any_split() {
    let lines = every_kind(300);
    let setup = setup(&lines);
    let loaded = setup.journal.load().unwrap();
    let whole = canonical(&State::fold(&loaded.events));
    let expected = outline_canonical(&State::fold(&loaded.events));
    let length = std::fs::metadata(setup.journal.path()).unwrap().len() as usize;
    let mut short_tails = 0;
    for split in (lines.len() / 2..=lines.len()).rev().step_by(7) {
        let covered = snapshot_after(&setup, split);
        let folded = setup.journal.fold_outline(&setup.snapshot).unwrap();
        assert!(
            folded.from_snapshot,
            "snapshot after line {split} was not used"
        );
        assert!(
            outline_canonical(&folded.state) == expected,
            "outline differs with a split at {split}"
        );
        assert_eq!(
            format!("{:?}", folded.skipped),
            format!("{:?}", loaded.skipped)
        );
        if length - covered <= snapshot::REWRITE_AFTER as usize {
            assert!(
                canonical(&folded.state) != whole,
                "the outline was not read"
            );
            short_tails += 1;
        } else {
            assert!(
                canonical(&folded.state) == whole,
                "a long tail needs the whole state"
            );
        }
    }
    assert!(short_tails > 3, "too few splits read the outline");
}

/// The run view of a state, as JSON with every field.
fn run_canonical(state: &State) -> String {
    canonical(&snapshot::run_view(&mut state.clone()))
}

/// What `dfh run` reads is the same from the run view plus any short tail as from the whole
/// fold: every experiment's run fields, and every field of the best and of each experiment
/// not settled for good.
#[test]
fn the_run_view_plus_tail_gives_what_a_run_reads_at_any_split() {
    let lines = every_kind(300);
    let setup = setup(&lines);
    let loaded = setup.journal.load().unwrap();
    let full = State::fold(&loaded.events);
    let expected = run_canonical(&full);
    let whole = canonical(&full);
    let length = std::fs::metadata(setup.journal.path()).unwrap().len() as usize;
    let mut short_tails = 0;
    for split in (lines.len() / 2..=lines.len()).rev().step_by(7) {
        let covered = snapshot_after(&setup, split);
        if length - covered > snapshot::REWRITE_AFTER as usize {
            continue;
        }
        let folded = setup.journal.fold_run(&setup.snapshot).unwrap();
        assert!(
            folded.from_snapshot,
            "snapshot after line {split} was not used"
        );
        assert!(
            canonical(&folded.state) != whole,
            "the run view was not read (split at {split})"
        );
        assert!(
            run_canonical(&folded.state) == expected,
            "run view differs with a split at {split}"
        );
        let best = full.best.as_ref().map(|best| best.experiment);
        let mut whole_records = 0;
        for (number, experiment) in &full.experiments {
            let unsettled = matches!(
                experiment.phase,
                Phase::Pending | Phase::Running | Phase::Done(Outcome::Crash | Outcome::Timeout)
            );
            if unsettled || Some(*number) == best {
                let view = &folded.state.experiments[number];
                assert_eq!(canonical_of(view), canonical_of(experiment), "#{number}");
                whole_records += 1;
            }
        }
        assert!(whole_records > 10, "too few whole records: {whole_records}");
        short_tails += 1;
    }
    assert!(short_tails > 3, "too few splits read the run view");
}

fn canonical_of(experiment: &Experiment) -> String {
    let _encoding = snapshot::Encoding::start();
    serde_json::to_string(experiment).unwrap()
}

#[test]
fn a_long_tail_after_the_outline_reads_the_whole_state() {
    let lines = every_kind(300);
    let setup = setup(&lines);
    snapshot_after(&setup, 10);
    let folded = setup.journal.fold_outline(&setup.snapshot).unwrap();
    assert!(canonical(&folded.state) == full(&setup.journal).0);
    // ... and rewrites the snapshot, so that the next read takes the outline.
    let folded = setup.journal.fold_outline(&setup.snapshot).unwrap();
    assert!(folded.from_snapshot);
}

#[test]
fn the_run_time_hash_is_the_compile_time_hash() {
    let bytes: Vec<u8> = (0..1000_u32).map(|index| (index * 7 % 251) as u8).collect();
    for length in [0, 1, 7, 31, 32, 33, 64, 65, 999, 1000] {
        assert_eq!(
            snapshot::hash(3, &bytes[..length]),
            snapshot::hash_bytes(3, &bytes[..length]),
            "{length} bytes"
        );
    }
}
