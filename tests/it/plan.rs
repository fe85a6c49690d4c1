//! Plan before you perturb: `dfh plan`, hand-written entries, Result blocks, learnings and the
//! "has it been tried?" check, on real projects.

use crate::support::TestEnv;

fn plan_args<'a>(title: &'a str, inspired_by: &'a str) -> Vec<&'a str> {
    vec![
        "plan",
        "--title",
        title,
        "--hypothesis",
        "A higher learning rate converges faster within the budget.",
        "--expected",
        "val_bpb ~0.85",
        "--inspired-by",
        inspired_by,
        "--risk",
        "may diverge",
        "--direction",
        "optimizer",
    ]
}

#[test]
fn plan_appends_a_valid_entry_and_run_writes_its_result() {
    let env = TestEnv::autoresearch();
    env.experiment("baseline", None);
    env.dfh_ok(&["learn", "1", "The", "baseline", "sets", "0.9."]);
    let run = env.dfh_ok(&plan_args("Higher LR", "Experiment 1"));
    assert!(
        run.stdout.starts_with("planned experiment 2: Higher LR"),
        "{}",
        run.stdout
    );
    env.set_lr("0.2");
    env.dfh_ok(&["run"]);
    let text = env.read("docs/hypotheses.md");
    let entry = &text[text.find("## Experiment 2 — Higher LR").expect("entry 2")..];
    assert!(entry.contains("Inspired by: Experiment 1"), "{entry}");
    assert!(entry.contains("Direction: optimizer"), "{entry}");
    assert!(
        entry.contains("### Result\nval_bpb: 0.8 (previous best: 0.9) · keep ·"),
        "{entry}"
    );
    assert!(entry.contains("Diagnostics: metrics/"), "{entry}");
    assert!(text.contains("Learning: The baseline sets 0.9."), "{text}");
    let show: serde_json::Value =
        serde_json::from_str(&env.dfh_ok(&["--json", "show", "2"]).stdout).unwrap();
    assert_eq!(show["plan"]["prediction"], 0.85);
    assert_eq!(show["regions"][0], "LR");
    assert_eq!(show["knobs"][0], "LR=0.2");
}

#[test]
fn a_citation_that_does_not_resolve_is_refused_with_what_exists() {
    let env = TestEnv::autoresearch();
    env.write("docs/papers/muon.md", "# Muon\n");
    let run = env.dfh(&plan_args("Muon", "docs/papers/adam.md"));
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("docs/papers/adam.md"), "{}", run.stderr);
    assert!(run.stderr.contains("docs/papers/muon.md"), "{}", run.stderr);
    let run = env.dfh(&plan_args("Escape", "../../etc/passwd"));
    assert_eq!(run.code, 3, "{}", run.stderr);
    let run = env.dfh(&plan_args("Future", "Experiment 7"));
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("Experiment 7"), "{}", run.stderr);
    // Nothing was written or journaled by the refusals.
    assert!(!env.read("docs/hypotheses.md").contains("## Experiment 1 —"));
    assert_eq!(env.status()["experiments"], 0);
    env.dfh_ok(&plan_args("Muon", "docs/papers/muon.md"));
}

#[test]
fn one_pending_hypothesis_at_a_time() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    let run = env.dfh(&plan_args("second", "docs/strategy.md"));
    assert_eq!(run.code, 3);
    assert!(
        run.stderr
            .contains("experiment 1 (baseline) is already planned"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_hand_written_entry_is_adopted_when_valid() {
    let env = TestEnv::autoresearch();
    env.experiment("baseline", None);
    let mut text = env.read("docs/hypotheses.md");
    text.push_str(
        "\n## Experiment 2: Double the learning rate\n\n- **Hypothesis:** a higher LR\n  converges faster.\n- **Expected outcome:** val_bpb improves from 0.9 to ~0.8\n- **Inspired by:** Experiment 1\n- **Risk:** divergence\n- **Direction:** optimizer\n",
    );
    env.write("docs/hypotheses.md", &text);
    let refused = env.dfh(&plan_args("another", "docs/strategy.md"));
    assert_eq!(refused.code, 3);
    assert!(
        refused
            .stderr
            .contains("Experiment 2 is already written there"),
        "{}",
        refused.stderr
    );
    env.set_lr("0.2");
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout.starts_with("experiment 2 keep"),
        "{}",
        run.stdout
    );
    assert_eq!(
        env.git(&["log", "-1", "--format=%s"]),
        "exp 2: Double the learning rate"
    );
    let show: serde_json::Value =
        serde_json::from_str(&env.dfh_ok(&["--json", "show", "2"]).stdout).unwrap();
    assert_eq!(show["plan"]["prediction"], 0.8);
    assert_eq!(show["plan"]["direction"], "optimizer");
}

#[test]
fn an_invalid_hand_written_entry_is_refused_with_its_line() {
    let env = TestEnv::autoresearch();
    let mut text = env.read("docs/hypotheses.md");
    let line = text.lines().count() + 2;
    text.push_str("\n## Experiment 1 — baseline\nHypothesis: the reference\n");
    env.write("docs/hypotheses.md", &text);
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("docs/hypotheses.md:{line}:")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Expected outcome"), "{}", run.stderr);
    assert!(!env.path(".dfh/logs/1.log").exists());
}

#[test]
fn run_without_a_hypothesis_shows_the_filled_template() {
    let env = TestEnv::autoresearch();
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("## Experiment 1"), "{}", run.stderr);
    assert!(run.stderr.contains("Inspired by:"), "{}", run.stderr);
    assert!(run.stderr.contains("val_bpb"), "{}", run.stderr);
}

#[test]
fn learn_writes_into_an_entry_that_has_others_after_it() {
    let env = TestEnv::autoresearch();
    env.experiment("baseline", None);
    env.experiment("second", Some("0.05"));
    env.dfh_ok(&["learn", "1", "Baseline learning."]);
    let text = env.read("docs/hypotheses.md");
    let first = text
        .find("Learning: Baseline learning.")
        .expect("learning written");
    let second = text.find("## Experiment 2").expect("entry 2");
    assert!(first < second, "the learning belongs to entry 1:\n{text}");
    let events = env.journal_events();
    assert!(events
        .iter()
        .any(|event| event["event"] == "learned" && event["experiment"] == 1));
}

#[test]
fn an_exact_repeat_of_a_discarded_change_is_refused() {
    let env = TestEnv::autoresearch();
    env.experiment("baseline", None);
    env.experiment("lower lr", Some("0.05"));
    env.dfh_ok(&["learn", "2", "Lower LR hurts: 0.95."]);
    env.plan("lower lr again");
    env.set_lr("0.05");
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("this exact change was tried before: #2 lower lr (discard"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Lower LR hurts"), "{}", run.stderr);
    assert!(run.stderr.contains("Again:"), "{}", run.stderr);
    assert!(env.read(".dfh/journal.jsonl").contains("\"tried-before\""));
    assert!(
        !env.path(".dfh/logs/3.log").exists(),
        "no training may start"
    );
}

/// Plans experiment 3: the lower learning rate of experiment 2 again, saying why.
fn plan_again(env: &TestEnv) {
    env.dfh_ok(&[
        "plan",
        "--title",
        "lower lr with the new data",
        "--hypothesis",
        "The data changed, so a lower LR may help now.",
        "--expected",
        "val_bpb ~0.85",
        "--inspired-by",
        "Experiment 2",
        "--again",
        "prepare.py now produces more data",
    ]);
}

#[test]
fn again_lets_a_repeat_run_and_shows_the_earlier_outcome() {
    let env = TestEnv::autoresearch();
    env.experiment("baseline", None);
    env.experiment("lower lr", Some("0.05"));
    plan_again(&env);
    env.set_lr("0.05");
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout
            .contains("tried before: the same change was tried in #2 lower lr (discard"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("tried before: LR=0.05 was tried in #2"),
        "{}",
        run.stdout
    );
}

/// docs/hypotheses.md grows by an entry per experiment (about 3 MB at 10,000): dfh reads only
/// its end to write a Result, and every byte before the entry survives, multi-byte characters
/// at the edge of what it reads included. An entry followed by more text than that is still
/// found.
#[test]
fn results_are_written_into_a_long_hypotheses_file() {
    let env = TestEnv::autoresearch();
    let path = "docs/hypotheses.md";
    let preamble: String = (0..3000)
        .map(|line| format!("- note {line}: σ-scaled warm-up, β₂ = 0.95 — see docs/papers\n"))
        .collect();
    let original = env.read(path);
    env.write(path, &format!("{original}\n{preamble}"));
    let before = env.read(path);
    assert!(before.len() > 150 * 1024);
    env.experiment("baseline", None);
    let text = env.read(path);
    assert!(
        text.starts_with(&before),
        "the text before the entry changed"
    );
    let entry = &text[text.find("## Experiment 1 — baseline").expect("entry 1")..];
    assert!(entry.contains("### Result\nval_bpb: 0.9"), "{entry}");

    // An entry followed by 100 KB of the agent's notes.
    let run = env.dfh_ok(&plan_args("Higher LR", "Experiment 1"));
    assert!(
        run.stdout.contains("planned experiment 2"),
        "{}",
        run.stdout
    );
    let planned = env.read(path);
    let notes: String = preamble
        .lines()
        .take(2000)
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(notes.len() > 100 * 1024);
    env.write(path, &format!("{planned}\n{notes}"));
    env.set_lr("0.2");
    env.dfh_ok(&["run"]);
    let text = env.read(path);
    let entry = &text[text.find("## Experiment 2 — Higher LR").expect("entry 2")..];
    assert_eq!(entry.matches("### Result").count(), 1, "{entry}");
    assert!(text[..text.find("## Experiment 2").unwrap()].starts_with(&before));
}

/// `dfh run` reads a cut-down state from the snapshot (every field only of the experiments a
/// run takes up or compares against): what was tried long ago, and what was learned from it,
/// is still found there.
#[test]
fn a_run_on_a_snapshot_still_knows_what_was_tried_and_learned() {
    let env = TestEnv::autoresearch();
    env.experiment("baseline", None);
    env.experiment("lower lr", Some("0.05"));
    // A learning longer than the tail the snapshot allows: the next command writes one.
    let long = format!(
        "Lower LR hurts: 0.95. {}",
        "Details of the loss curve. ".repeat(3000)
    );
    env.dfh_ok(&["learn", "2", &long]);
    plan_again(&env);
    let snapshot = std::fs::read(env.path(".dfh/state.snapshot")).expect("a snapshot");
    assert!(snapshot.starts_with(b"DFHSNAP3"));
    env.set_lr("0.05");
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout.contains(
            "the same change was tried in #2 lower lr (discard, val_bpb 0.95): Lower LR hurts"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("LR=0.05 was tried in #2"),
        "{}",
        run.stdout
    );
    // The experiment itself is recorded whole.
    let show: serde_json::Value =
        serde_json::from_str(&env.dfh_ok(&["--json", "show", "3"]).stdout).unwrap();
    assert_eq!(show["knobs"][0], "LR=0.05");
    assert_eq!(show["plan"]["again"], "prepare.py now produces more data");
}
