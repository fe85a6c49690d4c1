//! Tests of the append-only edits: exact output, byte preservation, CRLF, and refusals.

use super::edit::{
    append_entry, append_result, mark_abandoned, render_entry, set_learning, EditError, NewEntry,
};
use super::parse::parse;

const LOG: &str = "# Hypotheses\n\nKeep this header.\n\n## Experiment 14 — Deeper energy head\nHypothesis: deeper is better\nExpected outcome: val_bpb ~0.985\nInspired by: Experiment 9\n\n## Experiment 15 — Wider\n**Hypothesis:** wider is better\n";

/// `edited` is `original` with exactly `expected` inserted at one place: every other byte kept.
fn assert_inserted(original: &str, edited: &str, expected: &str) {
    let (original, edited, expected) =
        (original.as_bytes(), edited.as_bytes(), expected.as_bytes());
    assert_eq!(edited.len(), original.len() + expected.len());
    let found = (0..=original.len()).any(|position| {
        edited[..position] == original[..position]
            && &edited[position..position + expected.len()] == expected
            && edited[position + expected.len()..] == original[position..]
    });
    assert!(
        found,
        "{:?} is not {:?} plus {:?}",
        String::from_utf8_lossy(edited),
        String::from_utf8_lossy(original),
        String::from_utf8_lossy(expected)
    );
}

#[test]
fn append_result_inserts_before_the_next_entry_and_keeps_every_other_byte() {
    let edited = append_result(LOG, 14, "val_bpb: 0.9871 (previous best: 0.9912) · keep · 301 s\nDiagnostics: metrics/abc1234.json\n");
    let Ok(edited) = edited else {
        panic!("{edited:?}")
    };
    assert_eq!(
        edited,
        "# Hypotheses\n\nKeep this header.\n\n## Experiment 14 — Deeper energy head\nHypothesis: deeper is better\nExpected outcome: val_bpb ~0.985\nInspired by: Experiment 9\n\n### Result\nval_bpb: 0.9871 (previous best: 0.9912) · keep · 301 s\nDiagnostics: metrics/abc1234.json\n\n## Experiment 15 — Wider\n**Hypothesis:** wider is better\n"
    );
    assert_inserted(LOG, &edited, "\n### Result\nval_bpb: 0.9871 (previous best: 0.9912) · keep · 301 s\nDiagnostics: metrics/abc1234.json\n"
    );
    let log = parse(&edited);
    assert_eq!(
        log.entries[0].result.as_ref().map(|result| result.line),
        Some(10)
    );
    assert_eq!(log.entries[1].result, None);
    assert_eq!(
        log.entries[1].hypothesis,
        parse(LOG).entries[1].hypothesis.clone().map(|mut field| {
            field.line += 4;
            field
        })
    );
}

#[test]
fn append_result_does_not_repeat_a_given_heading_and_escapes_headings() {
    let edited = append_result(LOG, 15, "### Result\n## not a heading\nkeep");
    let Ok(edited) = edited else {
        panic!("{edited:?}")
    };
    assert_inserted(LOG, &edited, "\n### Result\n\\## not a heading\nkeep\n");
    assert_eq!(parse(&edited).entries.len(), 2);
}

#[test]
fn edits_keep_crlf_and_a_missing_final_newline() {
    let crlf = LOG.replace('\n', "\r\n");
    let edited = append_result(&crlf, 14, "keep");
    let Ok(edited) = edited else {
        panic!("{edited:?}")
    };
    assert_inserted(&crlf, &edited, "\r\n### Result\r\nkeep\r\n");
    let bare = "## Experiment 1 — a\nHypothesis: h";
    let edited = append_result(bare, 1, "discard");
    assert_eq!(
        edited,
        Ok("## Experiment 1 — a\nHypothesis: h\n\n### Result\ndiscard\n".into())
    );
}

#[test]
fn a_result_goes_before_a_separator_rule() {
    let text = "## Experiment 1 — a\nHypothesis: h\n\n---\n\n## Experiment 2 — b\n";
    let edited = append_result(text, 1, "keep");
    assert_eq!(
        edited,
        Ok("## Experiment 1 — a\nHypothesis: h\n\n### Result\nkeep\n\n---\n\n## Experiment 2 — b\n"
            .into())
    );
}

#[test]
fn set_learning_appends_to_the_result_of_an_entry_followed_by_others() {
    let with_result = append_result(LOG, 14, "val_bpb: 0.9871 · keep");
    let Ok(with_result) = with_result else {
        panic!("{with_result:?}")
    };
    let learned = set_learning(&with_result, 14, "Deeper heads help\nonly with 3x lr.");
    let Ok(learned) = learned else {
        panic!("{learned:?}")
    };
    assert_inserted(
        &with_result,
        &learned,
        "Learning: Deeper heads help only with 3x lr.\n",
    );
    assert!(learned.contains(
        "val_bpb: 0.9871 · keep\nLearning: Deeper heads help only with 3x lr.\n\n## Experiment 15"
    ));
    let updated = set_learning(&learned, 14, "Also with 2x.");
    let Ok(updated) = updated else {
        panic!("{updated:?}")
    };
    assert_inserted(&learned, &updated, "Learning (update): Also with 2x.\n");
    let log = parse(&updated);
    let entry = &log.entries[0];
    assert_eq!(
        entry.learning.as_ref().map(|field| field.text.as_str()),
        Some("Also with 2x.")
    );
    assert_eq!(entry.earlier_learnings.len(), 1);
    assert_eq!(log.entries[1].learning, None);
    assert_eq!(log.entries[1].problems, vec![]);
}

#[test]
fn refusals_say_what_to_do() {
    let message = |result: Result<String, EditError>| match result {
        Err(error) => error.to_string(),
        Ok(text) => panic!("expected a refusal, got:\n{text}"),
    };
    assert_eq!(
        message(set_learning(LOG, 14, "x")),
        "Experiment 14 has no Result block yet (docs/hypotheses.md:5): a learning follows a \
         result. Run the experiment with `dfh run` first."
    );
    assert_eq!(
        message(append_result(LOG, 16, "keep")),
        "docs/hypotheses.md has no Experiment 16. Experiments in it: 14–15."
    );
    let with_result = append_result(LOG, 14, "keep").unwrap_or_default();
    assert_eq!(
        message(append_result(&with_result, 14, "keep")),
        "Experiment 14 already has a Result block (docs/hypotheses.md:10) and dfh never \
         rewrites one. Record what happened since with `dfh learn 14 TEXT`."
    );
    assert_eq!(
        message(set_learning(&with_result, 14, "  \n ")),
        "the learning is empty: write what the experiment taught, e.g. `Separate LR confirmed \
         effective; make it the default`."
    );
    let twice = "## Experiment 3 — a\n\n## Experiment 3 — b\n";
    assert_eq!(
        message(mark_abandoned(twice, 3, "x")),
        "Experiment 3 heads more than one entry of docs/hypotheses.md (lines 1, 3); renumber \
         the later heading to the next free number, then retry."
    );
    assert_eq!(
        message(append_result("", 1, "keep")),
        "docs/hypotheses.md has no Experiment 1. It has no experiment yet: add one with `dfh plan`."
    );
}

#[test]
fn mark_abandoned_appends_once() {
    let abandoned = mark_abandoned(LOG, 14, "crashed twice: CUDA OOM");
    let Ok(abandoned) = abandoned else {
        panic!("{abandoned:?}")
    };
    assert_inserted(LOG, &abandoned, "Abandoned: crashed twice: CUDA OOM\n");
    let entry = &parse(&abandoned).entries[0];
    assert_eq!(entry.abandoned.as_ref().map(|field| field.line), Some(9));
    assert_eq!(
        mark_abandoned(&abandoned, 14, "again"),
        Err(EditError::AlreadyAbandoned {
            number: 14,
            line: 9
        })
    );
}

fn new_entry() -> NewEntry {
    NewEntry {
        title: "Deeper energy head".into(),
        hypothesis: "A 2-layer head\nmay help.".into(),
        expected: "val_bpb ~0.985".into(),
        inspired_by: "docs/papers/energy_transformer.md".into(),
        risk: Some("Slower convergence.".into()),
        direction: Some("energy-head".into()),
        again: None,
    }
}

#[test]
fn render_entry_writes_one_line_per_field_and_parses_back() {
    let rendered = render_entry(16, &new_entry());
    assert_eq!(
        rendered,
        "## Experiment 16 — Deeper energy head\nHypothesis: A 2-layer head may help.\nExpected \
         outcome: val_bpb ~0.985\nInspired by: docs/papers/energy_transformer.md\nRisk: Slower \
         convergence.\nDirection: energy-head\n"
    );
    let entry = &parse(&rendered).entries[0];
    assert_eq!(
        entry.hypothesis.as_ref().map(|field| field.text.as_str()),
        Some("A 2-layer head may help.")
    );
    assert_eq!(entry.again, None);
}

#[test]
fn append_entry_separates_by_one_blank_line_in_the_file_endings() {
    let rendered = render_entry(16, &new_entry());
    assert_eq!(append_entry("", &rendered), rendered);
    for file in ["# H", "# H\n", "# H\n\n"] {
        assert_eq!(
            append_entry(file, &rendered),
            format!("# H\n\n{rendered}"),
            "{file:?}"
        );
    }
    let crlf = append_entry("# H\r\n", &rendered);
    assert_eq!(
        crlf,
        format!("# H\r\n\r\n{}", rendered.replace('\n', "\r\n"))
    );
    let appended = append_entry(LOG, &rendered);
    assert_inserted(LOG, &appended, &format!("\n{rendered}"));
    assert_eq!(parse(&appended).entries.len(), 3);
}
