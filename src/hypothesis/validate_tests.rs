//! Tests of validation and citation rules against a real project layout in a temp dir.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::citation::{resolve_citations, Citation, CitationContext};
use super::entry::Entry;
use super::parse::parse;
use super::prediction::PredictionKind;
use super::reference::references;
use super::validate::{validate, ValidationContext};

struct Project {
    directory: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let directory = tempfile::tempdir().unwrap_or_else(|error| panic!("tempdir: {error}"));
        let project = Project { directory };
        project.write(
            "docs/papers/energy_transformer.md",
            "# Energy transformer\n",
        );
        project.write("docs/papers/urm.md", "# URM\n## Method\n");
        project.write(
            "docs/strategy.md",
            "# Strategy\n## Current best\n## Priorities\n",
        );
        project.write("docs/architecture.md", "# Architecture\n");
        project.write("train.py", "print('train')\n");
        project
    }

    fn root(&self) -> &Path {
        self.directory.path()
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.root().join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|error| panic!("mkdir: {error}"));
        }
        fs::write(path, text).unwrap_or_else(|error| panic!("write: {error}"));
    }

    fn citations(&self) -> CitationContext {
        CitationContext {
            project_root: self.root().to_path_buf(),
            recorded_experiments: (1..=9).chain([11]).collect(),
            strategy_distilled: true,
        }
    }

    fn context(&self) -> ValidationContext {
        ValidationContext {
            citations: self.citations(),
            metric: "val_bpb".to_string(),
            goal_minimize: true,
            best: Some(0.991),
        }
    }

    /// The messages `Inspired by: TEXT` gets, or the citations when it resolves.
    fn cite(&self, text: &str) -> Result<Vec<Citation>, Vec<String>> {
        let citations = resolve_citations(text, 7, &self.citations());
        if citations.errors.is_empty() {
            return Ok(citations.resolved);
        }
        Err(citations
            .errors
            .iter()
            .map(|problem| problem.message.clone())
            .collect())
    }
}

fn entry(text: &str) -> Entry {
    let log = parse(text);
    log.entries
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no entry in {text}"))
}

const VALID: &str = "## Experiment 14 — Deeper energy head\nHypothesis: A 2-layer energy head may help.\nExpected outcome: val_bpb improves from 0.991 to ~0.985.\nInspired by: docs/papers/energy_transformer.md; Experiment 9\nRisk: Slower convergence.\nDirection: energy-head\n";

fn paper(path: &str) -> Citation {
    Citation::Document {
        path: path.to_string(),
        section: None,
    }
}

#[test]
fn a_complete_entry_is_valid_with_its_citations_and_prediction() {
    let project = Project::new();
    let validation = validate(&entry(VALID), &project.context());
    assert_eq!(validation.errors, vec![]);
    assert_eq!(validation.warnings, vec![]);
    assert!(validation.is_valid());
    assert_eq!(
        validation.citations,
        vec![
            paper("docs/papers/energy_transformer.md"),
            Citation::Experiment { number: 9 }
        ]
    );
    let prediction = validation
        .prediction
        .map(|prediction| (prediction.value, prediction.kind));
    assert_eq!(prediction, Some((0.985, PredictionKind::Absolute)));
}

#[test]
fn missing_required_fields_are_errors_that_show_the_filled_template() {
    let project = Project::new();
    let text = "## Experiment 14 — Deeper energy head\nRisk: Slower convergence.\nDirection: energy-head\n";
    let validation = validate(&entry(text), &project.context());
    let messages: Vec<String> = validation.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "docs/hypotheses.md:1: Experiment 14 has no `Hypothesis:` line. Add it under the \
             heading, e.g. `Hypothesis: A 2-layer energy head may model the energy landscape \
             better.`. The entry with every field:\n\
             ## Experiment 14 — Deeper energy head\n\
             Hypothesis: <what you change, and why it should help>\n\
             Expected outcome: val_bpb ~<the value you predict>\n\
             Inspired by: <docs/papers/NAME.md, Experiment N (a recorded one), or \
             docs/strategy.md#section>\n\
             Risk: Slower convergence.\n\
             Direction: energy-head\n"
                .to_string(),
            "docs/hypotheses.md:1: Experiment 14 has no `Expected outcome:` line. Add it under \
             the heading, e.g. `Expected outcome: val_bpb ~0.985`."
                .to_string(),
            "docs/hypotheses.md:1: Experiment 14 has no `Inspired by:` line. Add it under the \
             heading, e.g. `Inspired by: docs/papers/energy_transformer.md; Experiment 9`."
                .to_string(),
        ]
    );
}

#[test]
fn empty_fields_placeholders_and_titles_are_errors() {
    let project = Project::new();
    let text = "## Experiment 14\nHypothesis:\nExpected outcome: val_bpb ~<the value you predict>\nInspired by: Experiment 9\n";
    let validation = validate(&entry(text), &project.context());
    let messages: Vec<String> = validation.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "docs/hypotheses.md:1: the heading of Experiment 14 has no title. Name the change \
             after a dash: `## Experiment 14 — Deeper energy head`; it becomes the commit \
             message `exp 14: <title>`."
                .to_string(),
            "docs/hypotheses.md:2: `Hypothesis:` of Experiment 14 is empty. Write it on the same \
             line, e.g. `Hypothesis: A 2-layer energy head may model the energy landscape \
             better.`."
                .to_string(),
            "docs/hypotheses.md:3: `Expected outcome:` of Experiment 14 still holds the \
             template's placeholder. Replace it with your own text, e.g. `Expected outcome: \
             val_bpb ~0.985`."
                .to_string(),
        ]
    );
}

#[test]
fn duplicate_labels_refuse_the_entry() {
    let project = Project::new();
    let text = format!("{VALID}Risk: again\n");
    let validation = validate(&entry(&text), &project.context());
    assert_eq!(validation.errors.len(), 1);
    assert_eq!(validation.errors[0].line, 7);
    assert!(validation.errors[0]
        .message
        .starts_with("`Risk:` appears twice in Experiment 14"));
}

#[test]
fn risk_direction_and_prediction_are_warnings() {
    let project = Project::new();
    let text = "## Experiment 14 — Deeper energy head\nHypothesis: h\nExpected outcome: energy head learns faster\nInspired by: Experiment 9\n";
    let validation = validate(&entry(text), &project.context());
    assert_eq!(validation.errors, vec![]);
    let warnings: Vec<String> = validation
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        warnings,
        vec![
            "docs/hypotheses.md:1: Experiment 14 states no `Risk:`. Name what could go wrong, \
             e.g. `Risk: More parameters may slow convergence within the budget.`; a stated risk \
             makes a failure informative."
                .to_string(),
            "docs/hypotheses.md:1: Experiment 14 states no `Direction:`. Add a short slug, e.g. \
             `Direction: energy-head`: distillation ranks directions by how often they paid off."
                .to_string(),
            "docs/hypotheses.md:3: Expected outcome states no value of val_bpb: calibration will \
             skip this experiment. Write e.g. `val_bpb ~0.985` (the best so far is 0.991)."
                .to_string(),
        ]
    );
    let mut before_baseline = project.context();
    before_baseline.best = None;
    let change = "## Experiment 1 — a\nHypothesis: h\nExpected outcome: val_bpb improves by 0.004\nInspired by: docs/strategy.md\nRisk: r\nDirection: d\n";
    let validation = validate(&entry(change), &before_baseline);
    let warnings: Vec<&str> = validation
        .warnings
        .iter()
        .map(|problem| problem.message.as_str())
        .collect();
    assert_eq!(
        warnings,
        vec![
            "Expected outcome states a change but no best val_bpb is recorded yet, so there is \
             nothing to apply it to: calibration will skip this experiment. Write the value \
             itself, e.g. `val_bpb ~0.985`."
        ]
    );
}

#[test]
fn citations_resolve_papers_experiments_and_strategy_sections() {
    let project = Project::new();
    let strategy = |section: Option<&str>| Citation::Strategy {
        section: section.map(Into::into),
    };
    let cases: Vec<(&str, Vec<Citation>)> = vec![
        ("docs/papers/urm.md", vec![paper("docs/papers/urm.md")]),
        ("papers/urm.md", vec![paper("docs/papers/urm.md")]),
        ("urm.md", vec![paper("docs/papers/urm.md")]),
        (
            "./docs/architecture.md",
            vec![paper("docs/architecture.md")],
        ),
        (
            "docs/papers/urm.md#method",
            vec![Citation::Document {
                path: "docs/papers/urm.md".into(),
                section: Some("method".into()),
            }],
        ),
        ("Experiment 9", vec![Citation::Experiment { number: 9 }]),
        (
            "exp 11, #3",
            vec![
                Citation::Experiment { number: 11 },
                Citation::Experiment { number: 3 },
            ],
        ),
        (
            "Experiments 3, 5 and 9",
            vec![3, 5, 9]
                .into_iter()
                .map(|number| Citation::Experiment { number })
                .collect(),
        ),
        ("docs/strategy.md", vec![strategy(None)]),
        ("strategy.md#Priorities", vec![strategy(Some("priorities"))]),
        (
            "docs/strategy.md#current-best",
            vec![strategy(Some("current-best"))],
        ),
        (
            "Energy transformer paper (docs/papers/energy_transformer.md) reports diminishing \
             returns beyond 3 layers, as Experiment 9 showed.",
            vec![
                paper("docs/papers/energy_transformer.md"),
                Citation::Experiment { number: 9 },
            ],
        ),
        (
            "[URM](docs/papers/urm.md), `exp 4`",
            vec![
                paper("docs/papers/urm.md"),
                Citation::Experiment { number: 4 },
            ],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(project.cite(text), Ok(expected), "{text}");
    }
}

#[test]
fn citations_that_do_not_resolve_are_refused_with_what_exists() {
    let project = Project::new();
    let papers =
        "Paper summaries that exist: docs/papers/energy_transformer.md, docs/papers/urm.md.";
    let cases: Vec<(&str, String)> =
        vec![
        ("docs/papers/energy.md", format!("`docs/papers/energy.md` does not exist. {papers}")),
        ("energy.md; Experiment 9", format!("`docs/energy.md` does not exist. {papers}")),
        (
            "Experiment 42",
            "`Experiment 42` is not a recorded experiment: only finished experiments can be \
             cited. Recorded: 1–9, 11."
                .to_string(),
        ),
        (
            "#10",
            "`#10` is not a recorded experiment: only finished experiments can be cited. \
             Recorded: 1–9, 11."
                .to_string(),
        ),
        (
            "docs/strategy.md#prioritiez",
            "`docs/strategy.md#prioritiez` names no section of docs/strategy.md. Its sections: \
             #strategy, #current-best, #priorities. Cite one of these, or `docs/strategy.md` \
             alone."
                .to_string(),
        ),
        (
            "../secret.md",
            "`../secret.md` leads outside the project. Cite a file under docs/, e.g. \
             `docs/papers/energy_transformer.md`."
                .to_string(),
        ),
        (
            "docs/papers/../../../etc/passwd.md",
            "`docs/papers/../../../etc/passwd.md` leads outside the project. Cite a file under \
             docs/, e.g. `docs/papers/energy_transformer.md`."
                .to_string(),
        ),
        (
            "/etc/passwd",
            "`/etc/passwd` is an absolute path. Cite files inside the project by their path from \
             its root, e.g. `docs/papers/energy_transformer.md`."
                .to_string(),
        ),
        (
            "docs/../train.py",
            "`docs/../train.py` is not under docs/: cite paper summaries, docs/strategy.md or \
             recorded experiments, e.g. `docs/papers/energy_transformer.md`."
                .to_string(),
        ),
        (
            "docs/papers",
            format!("`docs/papers` is a directory: cite one file in it. {papers}"),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(project.cite(text), Err(vec![expected]), "{text}");
    }
}

#[test]
fn a_symlink_out_of_the_project_is_refused_and_one_inside_docs_is_not() {
    let project = Project::new();
    let outside = tempfile::tempdir().unwrap_or_else(|error| panic!("tempdir: {error}"));
    let secret = outside.path().join("secret.md");
    fs::write(&secret, "# secret\n").unwrap_or_else(|error| panic!("write: {error}"));
    let link = project.root().join("docs/papers/evil.md");
    std::os::unix::fs::symlink(&secret, link).unwrap_or_else(|error| panic!("symlink: {error}"));
    assert_eq!(
        project.cite("docs/papers/evil.md"),
        Err(vec![
            "`docs/papers/evil.md` resolves outside the project (it is a symlink). Copy \
                  the summary into docs/papers/ instead of linking to it."
                .to_string()
        ])
    );
    let inside = project.root().join("docs/papers/alias.md");
    std::os::unix::fs::symlink(project.root().join("docs/papers/urm.md"), inside)
        .unwrap_or_else(|error| panic!("symlink: {error}"));
    assert_eq!(
        project.cite("docs/papers/alias.md"),
        Ok(vec![paper("docs/papers/alias.md")])
    );
}

#[test]
fn citing_nothing_checkable_lists_every_kind_of_reference() {
    let project = Project::new();
    assert_eq!(
        project.cite("Energy transformer paper, https://arxiv.org/abs/2302.07253"),
        Err(vec![
            "`Inspired by: Energy transformer paper, https://arxiv.org/abs/2302.07253` \
                  cites nothing dfh can check. A URL is not a citation dfh can check: summarize \
                  the paper into docs/papers/<name>.md and cite that. Cite at least one of: a \
                  paper summary under docs/papers/ (docs/papers/energy_transformer.md, \
                  docs/papers/urm.md), a recorded experiment as `Experiment N` (recorded: 1–9, \
                  11), or `docs/strategy.md#section` (sections: #strategy, #current-best, \
                  #priorities). For example: `Inspired by: docs/papers/energy_transformer.md; \
                  Experiment 11`."
                .to_string()
        ])
    );
}

#[test]
fn a_fresh_project_explains_what_can_be_cited_yet() {
    let directory = tempfile::tempdir().unwrap_or_else(|error| panic!("tempdir: {error}"));
    let context = CitationContext {
        project_root: directory.path().to_path_buf(),
        recorded_experiments: BTreeSet::new(),
        strategy_distilled: false,
    };
    let messages = |text: &str| -> Vec<String> {
        let citations = resolve_citations(text, 3, &context);
        citations
            .errors
            .into_iter()
            .map(|problem| problem.message)
            .collect()
    };
    assert_eq!(
        messages("docs/strategy.md#priorities; Experiment 1"),
        vec![
            "`docs/strategy.md#priorities` does not exist yet: `dfh init` writes \
             docs/strategy.md and `dfh distill --done` fills it. Cite a paper summary or a \
             recorded experiment until then. docs/papers/ holds no paper summaries yet: write \
             one (docs/papers/<name>.md: the paper's claim, its numbers, what to try here) and \
             cite it."
                .to_string(),
            "`Experiment 1` is not a recorded experiment: no experiment has finished yet. Cite a \
             paper summary under docs/papers/ or docs/strategy.md instead."
                .to_string(),
        ]
    );
}

#[test]
fn references_are_found_inside_prose() {
    let found = references("see `docs/papers/a.md#x`, exp. 3 and #4; https://x.org/5.md");
    assert_eq!(found.len(), 4, "{found:?}");
}

#[test]
fn strategy_sections_resolve_only_after_the_first_distillation() {
    let project = Project::new();
    let mut context = project.citations();
    context.strategy_distilled = false;
    let before = resolve_citations("docs/strategy.md#priorities", 4, &context);
    assert_eq!(before.errors.len(), 1);
    assert!(
        before.errors[0].message.contains("first distillation"),
        "{}",
        before.errors[0].message
    );
    let whole = resolve_citations("docs/strategy.md", 4, &context);
    assert!(whole.errors.is_empty(), "the file alone is always citable");
    context.strategy_distilled = true;
    let after = resolve_citations("docs/strategy.md#priorities", 4, &context);
    assert_eq!(
        after.resolved,
        vec![Citation::Strategy {
            section: Some("priorities".into())
        }]
    );
}
