//! Tests of the parser against the ways agents actually write entries.

use super::entry::{Entry, ResultStatus};
use super::parse::parse;

const HYPOTHESIS: &str =
    "A 2-layer energy head may model the energy landscape better than the current linear layer.";
const EXPECTED: &str = "val_bpb improves from 0.991 to ~0.985.";
const INSPIRED: &str = "docs/papers/energy_transformer.md; Experiment 9";
const RISK: &str = "More parameters may slow convergence within the budget.";

type Record = (u32, String, [Option<String>; 6]);

fn record(entry: &Entry) -> Record {
    let text = |field: &Option<super::entry::Field>| field.as_ref().map(|field| field.text.clone());
    (
        entry.number,
        entry.title.clone(),
        [
            text(&entry.hypothesis),
            text(&entry.expected),
            text(&entry.inspired_by),
            text(&entry.risk),
            text(&entry.direction),
            text(&entry.again),
        ],
    )
}

fn canonical(risk: bool) -> Record {
    (
        14,
        "Deeper energy head".to_string(),
        [
            Some(HYPOTHESIS.to_string()),
            Some(EXPECTED.to_string()),
            Some(INSPIRED.to_string()),
            risk.then(|| RISK.to_string()),
            Some("energy-head".to_string()),
            None,
        ],
    )
}

fn only_entry(text: &str) -> Entry {
    let log = parse(text);
    assert_eq!(log.problems, vec![], "{text}");
    let entry = log.entry(14).cloned();
    let Some(entry) = entry else {
        panic!("no experiment 14 in:\n{text}")
    };
    assert_eq!(entry.problems, vec![], "{text}");
    entry
}

const VARIANTS: &[&str] = &[
    // 1. the design's own form
    "## Experiment 14 — Deeper energy head\nHypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\nExpected outcome: val_bpb improves from 0.991 to ~0.985.\nInspired by: docs/papers/energy_transformer.md; Experiment 9\nRisk: More parameters may slow convergence within the budget.\nDirection: energy-head\n",
    // 2. en dash
    "## Experiment 14 – Deeper energy head\nHypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\nExpected outcome: val_bpb improves from 0.991 to ~0.985.\nInspired by: docs/papers/energy_transformer.md; Experiment 9\nRisk: More parameters may slow convergence within the budget.\nDirection: energy-head\n",
    // 3. hyphen, level 3
    "### Experiment 14 - Deeper energy head\nHypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\nExpected outcome: val_bpb improves from 0.991 to ~0.985.\nInspired by: docs/papers/energy_transformer.md; Experiment 9\nRisk: More parameters may slow convergence within the budget.\nDirection: energy-head\n",
    // 4. `Exp 14:` colon
    "## Exp 14: Deeper energy head\nHypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\nExpected outcome: val_bpb improves from 0.991 to ~0.985.\nInspired by: docs/papers/energy_transformer.md; Experiment 9\nRisk: More parameters may slow convergence within the budget.\nDirection: energy-head\n",
    // 5. bold labels with the colon inside
    "## Experiment 14 — Deeper energy head\n**Hypothesis:** A 2-layer energy head may model the energy landscape better than the current linear layer.\n**Expected outcome:** val_bpb improves from 0.991 to ~0.985.\n**Inspired by:** docs/papers/energy_transformer.md; Experiment 9\n**Risk:** More parameters may slow convergence within the budget.\n**Direction:** energy-head\n",
    // 6. bold labels with the colon outside, blank lines between
    "## Experiment 14 — Deeper energy head\n\n**Hypothesis**: A 2-layer energy head may model the energy landscape better than the current linear layer.\n\n**Expected outcome**: val_bpb improves from 0.991 to ~0.985.\n\n**Inspired by**: docs/papers/energy_transformer.md; Experiment 9\n\n**Risk**: More parameters may slow convergence within the budget.\n\n**Direction**: energy-head\n",
    // 7. list items, mixed markers and bold
    "## Experiment 14 — Deeper energy head\n- Hypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\n- **Expected outcome:** val_bpb improves from 0.991 to ~0.985.\n* Inspired by: docs/papers/energy_transformer.md; Experiment 9\n* **Risk:** More parameters may slow convergence within the budget.\n+ Direction: energy-head\n",
    // 8. wrapped lines, list continuation indented
    "## Experiment 14 — Deeper energy head\nHypothesis: A 2-layer energy head may model the energy landscape\nbetter than the current linear layer.\nExpected outcome: val_bpb improves\n  from 0.991 to ~0.985.\n- Inspired by: docs/papers/energy_transformer.md;\n  Experiment 9\nRisk: More parameters may slow\nconvergence within the budget.\nDirection: energy-head\n",
    // 9. CRLF
    "## Experiment 14 — Deeper energy head\r\nHypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\r\nExpected outcome: val_bpb improves from 0.991 to ~0.985.\r\nInspired by: docs/papers/energy_transformer.md; Experiment 9\r\nRisk: More parameters may slow convergence within the budget.\r\nDirection: energy-head\r\n",
    // 10. label case and synonyms
    "## experiment 14 — Deeper energy head\nhypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\nExpected Outcome: val_bpb improves from 0.991 to ~0.985.\nINSPIRED BY: docs/papers/energy_transformer.md; Experiment 9\nrisks: More parameters may slow convergence within the budget.\nDIRECTION: energy-head\n",
    // 11. `Expected:` and `Inspired-by:`, extra blank lines, trailing spaces
    "## Experiment 14 — Deeper energy head\n\n\nHypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.   \n\n\n\nExpected: val_bpb improves from 0.991 to ~0.985.\t\nInspired-by: docs/papers/energy_transformer.md; Experiment 9\n\n\nRisk: More parameters may slow convergence within the budget.\nDirection:   energy-head  \n\n\n",
    // 12. one sub-heading per field
    "## Experiment 14 — Deeper energy head\n### Hypothesis\nA 2-layer energy head may model the energy landscape better than the current linear layer.\n### Expected outcome\nval_bpb improves from 0.991 to ~0.985.\n### Inspired by\ndocs/papers/energy_transformer.md; Experiment 9\n### Risk\nMore parameters may slow convergence within the budget.\n### Direction\nenergy-head\n",
    // 13. a file header and neighbours
    "# Hypotheses\n\nRunning log. Hypothesis: this is the header, not an entry.\n\n## Experiment 13 — Wider MLP\nHypothesis: wider is better.\n\n## Experiment 14 — Deeper energy head\nHypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\nExpected outcome: val_bpb improves from 0.991 to ~0.985.\nInspired by: docs/papers/energy_transformer.md; Experiment 9\nRisk: More parameters may slow convergence within the budget.\nDirection: energy-head\n\n## Experiment 15 — Next\nHypothesis: later.\n",
    // 14. fields in another order
    "## Experiment 14 — Deeper energy head\nDirection: energy-head\nInspired by: docs/papers/energy_transformer.md; Experiment 9\nHypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\nRisk: More parameters may slow convergence within the budget.\nExpected outcome: val_bpb improves from 0.991 to ~0.985.\n",
    // 15. the label alone on its line, the value below
    "## Experiment 14 — Deeper energy head\n**Hypothesis:**\nA 2-layer energy head may model the energy landscape better than the current linear layer.\n\n**Expected outcome:**\nval_bpb improves from 0.991 to ~0.985.\n\n**Inspired by:**\ndocs/papers/energy_transformer.md; Experiment 9\n\n**Risk:**\nMore parameters may slow convergence within the budget.\n\n**Direction:**\nenergy-head\n",
    // 16. numbered list and a `---` separator right under the last field
    "## Experiment 14 — Deeper energy head\n1. Hypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\n2. Expected outcome: val_bpb improves from 0.991 to ~0.985.\n3. Inspired by: docs/papers/energy_transformer.md; Experiment 9\n4. Risk: More parameters may slow convergence within the budget.\n5. Direction: energy-head\n---\n",
    // 17. bold title in the heading, `Experiment #14`, no trailing newline
    "## Experiment #14 — **Deeper energy head**\nHypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\nExpected outcome: val_bpb improves from 0.991 to ~0.985.\nInspired by: docs/papers/energy_transformer.md; Experiment 9\nRisk: More parameters may slow convergence within the budget.\nDirection: energy-head",
    // 18. blockquoted fields and underscore bold
    "## Experiment 14 — Deeper energy head\n> __Hypothesis:__ A 2-layer energy head may model the energy landscape better than the current linear layer.\n> __Expected outcome:__ val_bpb improves from 0.991 to ~0.985.\n> __Inspired by:__ docs/papers/energy_transformer.md; Experiment 9\n> __Risk:__ More parameters may slow convergence within the budget.\n> __Direction:__ energy-head\n",
    // 19. a fenced code block (with a fake heading and label) between fields
    "## Experiment 14 — Deeper energy head\nHypothesis: A 2-layer energy head may model the energy landscape better than the current linear layer.\n```python\n## Experiment 99 — not a heading\nRisk: not a label\n```\nExpected outcome: val_bpb improves from 0.991 to ~0.985.\nInspired by: docs/papers/energy_transformer.md; Experiment 9\nRisk: More parameters may slow convergence within the budget.\nDirection: energy-head\n",
];

#[test]
fn every_variant_parses_to_the_same_record() {
    for variant in VARIANTS {
        assert_eq!(
            record(&only_entry(variant)),
            canonical(true),
            "variant:\n{variant}"
        );
    }
}

#[test]
fn missing_risk_parses_with_risk_absent() {
    let text = "## Experiment 14 — Deeper energy head\n- **Hypothesis:** A 2-layer energy head may\n  model the energy landscape better than the current linear layer.\n- **Expected:** val_bpb improves from 0.991 to ~0.985.\n- **Inspired by:** docs/papers/energy_transformer.md; Experiment 9\n- **Direction:** energy-head\n";
    assert_eq!(record(&only_entry(text)), canonical(false));
}

#[test]
fn lines_point_at_labels_heading_and_last_content() {
    let entry = only_entry(VARIANTS[12]);
    assert_eq!(entry.line, 8);
    assert_eq!(entry.hypothesis.map(|field| field.line), Some(9));
    assert_eq!(entry.direction.map(|field| field.line), Some(13));
    assert_eq!(entry.end_line, 13);
    let separated = only_entry(VARIANTS[15]);
    assert_eq!(
        separated.end_line, 6,
        "the `---` under the last field is not content"
    );
}

#[test]
fn reads_result_learning_updates_and_abandonment() {
    let text = "## Experiment 14 — Deeper energy head\nHypothesis: h\n\n### Result\nval_bpb: 0.9871 (previous best: 0.9912) · keep · 301 s\nDiagnostics: metrics/abc1234.json — energy_loss flat\nLearning: Deeper heads help\nwhen the lr is scaled.\nLearning (update): Only with 3x lr.\nAbandoned: superseded by 15\n\n## Experiment 15 — Seed\nHypothesis: x\n### Results\nStatus: discard\n";
    let log = parse(text);
    assert_eq!(log.problems, vec![]);
    let entry = &log.entries[0];
    let result = entry.result.clone();
    let Some(result) = result else {
        panic!("no result")
    };
    assert_eq!((result.line, result.end_line), (4, 10));
    assert_eq!(
        result.text,
        "val_bpb: 0.9871 (previous best: 0.9912) · keep · 301 s\nDiagnostics: metrics/abc1234.json — energy_loss flat"
    );
    assert_eq!(result.status, Some(ResultStatus::Keep));
    assert_eq!(
        entry.learning.as_ref().map(|field| field.text.as_str()),
        Some("Only with 3x lr.")
    );
    assert_eq!(
        entry.earlier_learnings[0].text,
        "Deeper heads help when the lr is scaled."
    );
    assert_eq!(entry.abandoned.as_ref().map(|field| field.line), Some(10));
    let second = log.entries[1]
        .result
        .as_ref()
        .and_then(|result| result.status);
    assert_eq!(second, Some(ResultStatus::Discard));
}

#[test]
fn duplicate_label_is_a_problem_on_its_line() {
    let text = "## Experiment 14 — Deeper energy head\nHypothesis: h\nRisk: a\nRisk: b\n";
    let entry = &parse(text).entries[0];
    assert_eq!(
        entry.risk.as_ref().map(|field| field.text.as_str()),
        Some("a")
    );
    assert_eq!(entry.problems.len(), 1);
    assert_eq!(entry.problems[0].line, 4);
    assert_eq!(
        entry.problems[0].to_string(),
        "docs/hypotheses.md:4: `Risk:` appears twice in Experiment 14 (lines 3 and 4). Keep one \
         `Risk:` line: merge this text into line 3 and delete line 4."
    );
}

#[test]
fn heading_without_number_and_reused_number_are_problems() {
    let text = "## Experiment 3 — a\nHypothesis: h\n\n## Experiment — Deeper head\nHypothesis: h\n\n## Experiment 3 — again\n";
    let log = parse(text);
    let messages: Vec<String> = log.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "docs/hypotheses.md:4: heading `## Experiment — Deeper head` has no experiment \
             number, so dfh cannot track it. Number it: `## Experiment 4 — Deeper head` (4 is \
             the next free number)."
                .to_string(),
            "docs/hypotheses.md:7: Experiment 3 appears twice (lines 1 and 7). Each experiment \
             needs its own number: renumber this heading to `## Experiment 4 — again`."
                .to_string(),
        ]
    );
    assert_eq!(
        log.entries.len(),
        2,
        "the unnumbered heading is not an entry"
    );
}

#[test]
fn a_higher_heading_ends_the_entry_and_a_second_result_is_a_problem() {
    let text = "## Experiment 1 — a\nHypothesis: h\n### Result\nkeep\n### Result\nmore\n\n## Notes\nHypothesis: not part of it\n";
    let log = parse(text);
    let entry = &log.entries[0];
    assert_eq!(entry.end_line, 6);
    assert_eq!(
        entry.hypothesis.as_ref().map(|field| field.text.as_str()),
        Some("h")
    );
    assert_eq!(entry.problems.len(), 1);
    assert!(entry.problems[0]
        .message
        .starts_with("Experiment 1 has a second Result block"));
    assert_eq!(
        entry.result.as_ref().map(|result| result.text.as_str()),
        Some("keep\nmore")
    );
}

#[test]
fn a_paragraph_after_a_blank_line_is_prose_unless_the_field_is_still_empty() {
    let text = "## Experiment 14 — Deeper energy head\nHypothesis: deeper is better\n\nI also \
                looked at the curves, they look fine.\n\n**Risk:**\n\nslower\nconvergence\n\n\
                ### Inspired by\nExperiment 9\n\nand docs/strategy.md\n";
    let entry = only_entry(text);
    let text_of =
        |field: &Option<super::entry::Field>| field.as_ref().map(|field| field.text.clone());
    assert_eq!(
        text_of(&entry.hypothesis).as_deref(),
        Some("deeper is better")
    );
    assert_eq!(text_of(&entry.risk).as_deref(), Some("slower convergence"));
    assert_eq!(
        text_of(&entry.inspired_by).as_deref(),
        Some("Experiment 9 and docs/strategy.md")
    );
}

fn shared_dir() -> std::path::PathBuf {
    std::env::var_os("DFH_SHARED_DIR")
        .map(Into::into)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// The two entries the seed text shows, cut out of it as an agent would have written them.
#[test]
fn the_seed_examples_parse() {
    let path = shared_dir().join("seed/dark-factory-harness.txt");
    let seed = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
    let cut = |first: &str, last: &str| -> String {
        let lines: Vec<&str> = seed.lines().collect();
        let start = lines.iter().position(|line| line.starts_with(first));
        let Some(start) = start else {
            panic!("no {first:?} in the seed")
        };
        let length = lines[start..]
            .iter()
            .position(|line| line.starts_with(last));
        let Some(length) = length else {
            panic!("no {last:?} in the seed")
        };
        lines[start..=start + length].join("\n")
    };
    let fourteen = cut("## Experiment 14", "Risk:");
    let thirty_one = cut("## Experiment 31", "with 3x backbone LR");
    let log = parse(&format!("{fourteen}\n\n{thirty_one}\n"));
    assert_eq!(log.problems, vec![]);
    let [fourteen, thirty_one] = log.entries.as_slice() else {
        panic!("{log:?}")
    };
    let text_of =
        |field: &Option<super::entry::Field>| field.as_ref().map(|field| field.text.clone());
    assert_eq!(
        text_of(&fourteen.inspired_by).as_deref(),
        Some(
            "Energy transformer paper (docs/papers/energy_transformer.md) reports diminishing \
              returns beyond 3 layers for energy heads of this size."
        )
    );
    assert_eq!(
        text_of(&fourteen.expected).as_deref(),
        Some("Energy calibration score improves from 0.72 to ~0.78.")
    );
    assert_eq!(fourteen.risk.as_ref().map(|field| field.line), Some(7));
    let result = thirty_one.result.as_ref();
    assert_eq!(
        result.map(|result| result.status),
        Some(Some(ResultStatus::Keep))
    );
    assert_eq!(
        result.map(|result| result.text.as_str()),
        Some("val_accuracy: 0.152 (previous best: 0.135)\nStatus: keep")
    );
    assert_eq!(
        text_of(&thirty_one.learning).as_deref(),
        Some(
            "Separate LR confirmed effective. Energy head converges faster with 3x backbone LR. \
             Update strategy.md to make this the new default."
        )
    );
}
