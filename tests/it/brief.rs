//! `dfh brief`: the agent's whole context within its token budget, at any history length.

use crate::support::TestEnv;

const SECTIONS: [&str; 8] = [
    "next",
    "goal",
    "priorities",
    "recent",
    "directions",
    "regions",
    "learnings",
    "failures",
];

fn brief(env: &TestEnv, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "brief"];
    all.extend_from_slice(args);
    serde_json::from_str(&env.dfh_ok(&all).stdout).expect("brief JSON")
}

fn names(brief: &serde_json::Value) -> Vec<String> {
    brief["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|section| section["name"].as_str().expect("name").to_string())
        .collect()
}

/// Counts with the same tokenizer, independently of the brief's own count.
fn tokens(text: &str) -> usize {
    dfh::brief::tokens::count(text).expect("tokenizer")
}

#[test]
fn the_brief_fits_its_budget_at_ten_a_thousand_and_ten_thousand_experiments() {
    let mut sizes = Vec::new();
    for experiments in [10, 1_000, 10_000] {
        let env = TestEnv::synthetic(experiments);
        let human = env.dfh_ok(&["brief"]).stdout;
        assert!(tokens(&human) <= 1500, "{experiments}: {}", tokens(&human));
        let json = brief(&env, &[]);
        assert_eq!(json["budget"], 1500);
        assert_eq!(json["encoding"], "o200k_base");
        let text = json["text"].as_str().unwrap();
        assert_eq!(text, human);
        assert_eq!(json["tokens"].as_u64().unwrap() as usize, tokens(text));
        assert_eq!(
            names(&json),
            SECTIONS,
            "{experiments}: every section has room"
        );
        assert_eq!(json["cut"], serde_json::json!([]), "{experiments}");
        assert!(
            text.starts_with("next: dfh distill\n") || text.starts_with("next: dfh run --retry\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!("history: {experiments} experiments with a result")),
            "{text}"
        );
        assert!(text.contains("noise floor: not measured"), "{text}");
        assert!(
            text.contains(&format!("- #{experiments} ")),
            "the latest experiment: {text}"
        );
        sizes.push(tokens(text));
        // A tight budget cuts whole lines, lowest priority first, and never exceeds it.
        for budget in [400, 120, 30, 5] {
            let json = brief(&env, &["--tokens", &budget.to_string()]);
            let text = json["text"].as_str().unwrap();
            assert!(tokens(text) <= budget, "{experiments} in {budget}: {text}");
            let kept = names(&json);
            assert_eq!(
                kept[..],
                SECTIONS[..kept.len()],
                "cut from the bottom: {kept:?}"
            );
            let cut: Vec<&str> = json["cut"]
                .as_array()
                .unwrap()
                .iter()
                .map(|cut| cut["section"].as_str().unwrap())
                .collect();
            assert!(!cut.is_empty() && cut[0] == "failures", "{cut:?}");
            for line in text.lines() {
                assert!(
                    human.lines().any(|whole| whole == line),
                    "lines are cut whole: {line}"
                );
            }
        }
    }
    // Its size does not grow with the history.
    assert!(sizes[2] < sizes[0] + 300, "{sizes:?}");
}

#[test]
fn the_brief_follows_the_loop_and_shows_the_strategy_and_open_failures() {
    let env = TestEnv::autoresearch();
    let program = env.read("program.md");
    let first_step = program
        .lines()
        .find(|line| line.starts_with("1. "))
        .unwrap();
    assert!(first_step.starts_with("1. `dfh brief`"), "{program}");
    assert!(program.contains("Do not read results.tsv"), "{program}");
    assert!(program.lines().count() <= 100);
    let text = env.dfh_ok(&["brief"]).stdout;
    assert!(
        text.starts_with("next: dfh plan --title baseline"),
        "{text}"
    );
    assert!(text.contains("best: none yet"), "{text}");
    assert!(text.contains("priorities: none written yet"), "{text}");

    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.dfh_ok(&["learn", "1", "The unchanged script reaches 0.9."]);
    env.plan("broken");
    env.write("train.py", "raise SystemExit(3)\n");
    env.dfh_ok(&["run"]);
    let text = env.dfh_ok(&["brief"]).stdout;
    assert!(text.starts_with("next: dfh run --retry"), "{text}");
    assert!(text.contains("- open: #2 crash (unclassified)"), "{text}");
    assert!(
        text.contains("- untaught: 1 crashes no pattern explains (unclassified, latest #2)"),
        "{text}"
    );
    assert!(
        text.contains("- #1: The unchanged script reaches 0.9."),
        "{text}"
    );

    let strategy = env.read("docs/strategy.md");
    env.write(
        "docs/strategy.md",
        &strategy.replace(
            "## Priorities\n",
            "## Priorities\n<!-- ranked -->\n1. Raise LR: the metric follows it.\n2. Then depth.\n",
        ),
    );
    let text = env.dfh_ok(&["brief"]).stdout;
    assert!(
        text.contains("priorities (docs/strategy.md:10):\n1. Raise LR: the metric follows it.\n2. Then depth.\n"),
        "{text}"
    );
}
