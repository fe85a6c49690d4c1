//! `dfh distill`: due every `[distill] every` experiments, plan and run refused until done,
//! the agent's text outside the markers kept byte for byte, `--done` checks the synthesis.

use crate::support::TestEnv;

/// Plans, runs and learns experiment `number`, which sets LR (the metric is 1 - LR).
fn experiment(env: &TestEnv, number: u32, lr: &str) {
    env.plan(&format!("lr {lr}"));
    env.set_lr(lr);
    env.dfh_ok(&["run"]);
    env.dfh_ok(&["learn", &number.to_string(), "LR moves val_bpb directly."]);
}

fn fill_priorities(env: &TestEnv) {
    let text = env.read("docs/strategy.md");
    env.write(
        "docs/strategy.md",
        &text.replacen(
            "## Priorities\n",
            "## Priorities\n1. Learning rate: every raise so far improved val_bpb.\n",
            1,
        ),
    );
}

#[test]
fn distillation_is_enforced_at_ten_experiments() {
    let env = TestEnv::autoresearch();
    let rates = [
        "0.1", "0.11", "0.12", "0.13", "0.05", "0.14", "0.15", "0.16", "0.17",
    ];
    for (index, lr) in (1..).zip(rates) {
        experiment(&env, index, lr);
    }
    assert_eq!(env.status()["next"]["action"], "plan");
    // The tenth is planned before distillation is due, so it may run.
    env.plan("lr 9");
    env.set_lr("0.18");
    env.dfh_ok(&["run"]);
    env.dfh_ok(&["learn", "10", "Still climbing."]);
    let status = env.status();
    assert_eq!(status["next"]["action"], "distill");
    assert_eq!(status["next"]["command"], "dfh distill");

    let refused = env.dfh(&[
        "plan",
        "--title",
        "more",
        "--hypothesis",
        "h",
        "--expected",
        "val_bpb ~0.8",
        "--inspired-by",
        "Experiment 10",
    ]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "`dfh plan` waits for a distillation: 10 experiments (#1–#10) finished since the last one (dfh.toml [distill] every = 10)"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("Run `dfh distill`"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("`dfh distill --done`"),
        "{}",
        refused.stderr
    );

    let opened = env.dfh_ok(&["distill"]);
    assert!(
        opened
            .stdout
            .starts_with("distillation open after experiment 10"),
        "{}",
        opened.stdout
    );
    for section in [
        "## Current best",
        "## Priorities",
        "## Explored",
        "## Observations",
    ] {
        assert!(opened.stdout.contains(section), "{}", opened.stdout);
    }
    assert_eq!(env.status()["next"]["command"], "dfh distill --done");
    let still = env.dfh(&[
        "plan",
        "--title",
        "x",
        "--hypothesis",
        "h",
        "--expected",
        "e",
        "--inspired-by",
        "Experiment 1",
    ]);
    assert_eq!(still.code, 3);
    assert!(
        still.stderr.contains("A distillation is open since"),
        "{}",
        still.stderr
    );

    fill_priorities(&env);
    let closed = env.dfh_ok(&["distill", "--done"]);
    assert!(
        closed.stdout.starts_with("distilled after experiment 10"),
        "{}",
        closed.stdout
    );
    assert!(
        closed
            .stdout
            .contains("still empty: ## Current best, ## Explored, ## Observations"),
        "{}",
        closed.stdout
    );
    let events = env.journal_events();
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|event| event["event"].as_str())
        .collect();
    assert!(
        kinds.ends_with(&["distill_opened", "distilled"]),
        "{kinds:?}"
    );
    assert_eq!(events.last().unwrap()["after_experiment"], 10);

    // Plans go on; the next distillation is due ten experiments later.
    env.plan("after the distillation");
    assert_eq!(env.status()["next"]["action"], "run");
}

#[test]
fn run_is_refused_when_a_distillation_became_due_with_a_plan_pending() {
    let env = TestEnv::autoresearch();
    experiment(&env, 1, "0.1");
    experiment(&env, 2, "0.2");
    env.plan("pending");
    let config = env.read("dfh.toml");
    env.write("dfh.toml", &config.replace("every = 10", "every = 2"));
    assert_eq!(env.status()["next"]["action"], "distill");
    let refused = env.dfh(&["run"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("`dfh run` waits for a distillation: 2 experiments"),
        "{}",
        refused.stderr
    );
    env.dfh_ok(&["distill"]);
    fill_priorities(&env);
    env.dfh_ok(&["distill", "--done"]);
    env.set_lr("0.3");
    env.dfh_ok(&["run"]);
}

#[test]
fn done_refuses_an_untouched_file_and_empty_priorities() {
    let env = TestEnv::synthetic(12);
    let refused = env.dfh(&["distill", "--done"]);
    assert_eq!(refused.code, 3);
    assert!(
        refused.stderr.contains("no distillation is open"),
        "{}",
        refused.stderr
    );

    env.dfh_ok(&["distill"]);
    let untouched = env.dfh(&["distill", "--done"]);
    assert_eq!(untouched.code, 3, "{}", untouched.stderr);
    assert!(
        untouched
            .stderr
            .contains("docs/strategy.md is unchanged outside the dfh:auto markers"),
        "{}",
        untouched.stderr
    );
    // Reopening refreshes the figures but keeps comparing with the text at the first open.
    env.dfh_ok(&["distill"]);
    assert_eq!(env.dfh(&["distill", "--done"]).code, 3);

    let text = env.read("docs/strategy.md");
    env.write(
        "docs/strategy.md",
        &text.replace("## Observations\n", "## Observations\nOOM recurs.\n"),
    );
    let empty = env.dfh(&["--json", "distill", "--done"]);
    assert_eq!(empty.code, 3);
    assert!(
        empty.stderr.contains("`## Priorities` is empty"),
        "{}",
        empty.stderr
    );
    let line = env
        .read("docs/strategy.md")
        .lines()
        .position(|line| line == "## Priorities")
        .unwrap()
        + 1;
    assert!(
        empty.stderr.contains(&format!("docs/strategy.md:{line}:")),
        "{}",
        empty.stderr
    );

    fill_priorities(&env);
    let closed: serde_json::Value =
        serde_json::from_str(&env.dfh_ok(&["--json", "distill", "--done"]).stdout).unwrap();
    assert_eq!(closed["after_experiment"], 12);
    assert_eq!(
        closed["empty_sections"],
        serde_json::json!(["## Current best", "## Explored"])
    );
    assert_eq!(env.status()["next"]["action"], "plan");
}

#[test]
fn the_agents_text_outside_the_markers_survives_five_rewrites_byte_for_byte() {
    let env = TestEnv::synthetic(30);
    let before =
        "# Strategy — ours\r\n\r\nNotes with trailing spaces   \n\t<!-- a comment of ours -->\n";
    let after = "\n## Current best\n0.97 — ünïcode ✓\n\n## Priorities\r\n1. optimizer\n\n## Explored\n## Observations\nno final newline";
    let auto_start = "<!-- dfh:auto:start -->";
    let auto_end = "<!-- dfh:auto:end -->";
    env.write(
        "docs/strategy.md",
        &format!("{before}{auto_start}\nold figures\n{auto_end}{after}"),
    );
    for round in 0..5 {
        env.dfh_ok(&["distill"]);
        let text = env.read("docs/strategy.md");
        let prefix = format!("{before}{auto_start}");
        assert!(text.starts_with(&prefix), "round {round}:\n{text}");
        let suffix = format!("{auto_end}{after}");
        assert!(text.ends_with(&suffix), "round {round}");
        assert!(
            text.contains("### Directions, by productivity"),
            "round {round}"
        );
        assert!(!text.contains("old figures"));
        // The agent edits its own section between distillations.
        let edited = text.replacen("1. optimizer", &format!("1. optimizer (round {round})"), 1);
        env.write("docs/strategy.md", &edited);
        env.dfh_ok(&["distill", "--done"]);
        let after_done = env.read("docs/strategy.md");
        assert_eq!(after_done, edited, "--done writes nothing");
        env.write("docs/strategy.md", &text);
    }
}

#[test]
fn missing_markers_are_refused_with_the_fix() {
    let env = TestEnv::synthetic(10);
    env.write(
        "docs/strategy.md",
        "# My strategy\n\n## Priorities\n1. mine\n",
    );
    let refused = env.dfh(&["distill"]);
    assert_eq!(refused.code, 3);
    assert!(
        refused
            .stderr
            .contains("<!-- dfh:auto:start -->\n<!-- dfh:auto:end -->"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        env.read("docs/strategy.md"),
        "# My strategy\n\n## Priorities\n1. mine\n"
    );
}
