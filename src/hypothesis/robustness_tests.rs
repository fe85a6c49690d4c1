//! Property tests (no input makes the parser, the predictor or the edits panic; edits insert
//! and keep every other byte) and the 10,000-entry speed measurement.

use proptest::prelude::*;

use super::edit::{append_result, mark_abandoned, set_learning};
use super::parse::parse;
use super::prediction::extract_prediction;
use super::reference::references;

fn markdown_like() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("## Experiment 7 — t\n".to_string()),
        Just("### Experiment 8: u\n".to_string()),
        Just("## Experiment — x\n".to_string()),
        Just("### Result\n".to_string()),
        Just("Hypothesis: ".to_string()),
        Just("**Risk:** ".to_string()),
        Just("- Expected: val_bpb ~0.98".to_string()),
        Just("Learning: l\n".to_string()),
        Just("Learning (update): m\n".to_string()),
        Just("Abandoned: a\n".to_string()),
        Just("```\n".to_string()),
        Just("---\n".to_string()),
        Just("<!-- c -->\n".to_string()),
        Just("    indented\n".to_string()),
        Just("> ".to_string()),
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just("#".to_string()),
        "\\PC{0,12}",
    ];
    prop::collection::vec(fragment, 0..40).prop_map(|fragments| fragments.concat())
}

proptest! {
    #[test]
    fn parser_never_panics_and_lines_are_in_range(text in markdown_like()) {
        let log = parse(&text);
        let lines = text.split('\n').count();
        for entry in &log.entries {
            prop_assert!(entry.line <= entry.end_line && entry.end_line <= lines);
        }
        for problem in &log.problems {
            prop_assert!(problem.line >= 1 && problem.line <= lines);
        }
    }

    #[test]
    fn parser_never_panics_on_any_string(text in any::<String>()) {
        let _log = parse(&text);
        let _references = references(&text);
    }

    #[test]
    fn prediction_never_panics(text in any::<String>(), best in any::<f64>(), minimize in any::<bool>()) {
        let _prediction = extract_prediction(&text, "val_bpb", Some(best), minimize);
        let _prediction = extract_prediction(&text, &text, None, minimize);
    }

    #[test]
    fn prediction_never_panics_on_numeric_text(text in "[-+−~≈<>→ .%0-9a-z_@]{0,40}") {
        if let Some(prediction) = extract_prediction(&text, "val_bpb", Some(0.99), true) {
            prop_assert!(prediction.value.is_finite());
        }
    }

    #[test]
    fn edits_insert_and_keep_every_other_byte(prefix in markdown_like(), suffix in markdown_like()) {
        let text = format!("{prefix}\n## Experiment 99 — target\nHypothesis: h\n{suffix}");
        let edits = [
            append_result(&text, 99, "keep"),
            set_learning(&text, 99, "learned"),
            mark_abandoned(&text, 99, "why"),
        ];
        for edited in edits.into_iter().flatten() {
            let (original, edited) = (text.as_bytes(), edited.as_bytes());
            let prefix = original.iter().zip(edited).take_while(|(left, right)| left == right).count();
            let suffix = original[prefix..]
                .iter()
                .rev()
                .zip(edited.iter().rev())
                .take_while(|(left, right)| left == right)
                .count();
            prop_assert_eq!(prefix + suffix, original.len());
        }
    }
}

/// `cargo test --release -- --ignored --nocapture speed` prints the figure.
#[test]
#[ignore = "a timing, meaningful in release mode only"]
fn speed_of_ten_thousand_entries() {
    let mut text = String::from("# Hypotheses\n\nThe running log.\n\n");
    for number in 1..=10_000 {
        text.push_str(&format!(
            "## Experiment {number} — Deeper energy head {number}\n\
             **Hypothesis:** A 2-layer energy head may model the energy landscape\n\
             better than the current single linear layer.\n\
             - Expected outcome: val_bpb improves from 0.991 to ~0.985.\n\
             - Inspired by: docs/papers/energy_transformer.md; Experiment {}\n\
             Risk: More parameters may slow convergence within the budget.\n\
             Direction: energy-head\n\n\
             ### Result\n\
             val_bpb: 0.9871 (previous best: 0.9912) · keep · 301 s\n\
             Diagnostics: metrics/abc1234.json — energy_loss flat after step 200\n\
             Learning: Deeper heads help only with a higher learning rate.\n\n",
            number.max(2) - 1
        ));
    }
    let runs = 20;
    let mut fastest = std::time::Duration::MAX;
    for _ in 0..runs {
        let started = std::time::Instant::now();
        let log = parse(&text);
        fastest = fastest.min(started.elapsed());
        assert_eq!(log.entries.len(), 10_000);
        assert_eq!(log.problems, vec![]);
    }
    let mut baseline = std::time::Duration::MAX;
    for _ in 0..runs {
        let started = std::time::Instant::now();
        let events = pulldown_cmark::Parser::new_ext(&text, pulldown_cmark::Options::empty())
            .into_offset_iter()
            .count();
        baseline = baseline.min(started.elapsed());
        assert!(events > 0);
    }
    println!(
        "pulldown-cmark events alone: {:.1} ms",
        baseline.as_secs_f64() * 1e3
    );
    println!(
        "parsed 10,000 entries ({:.1} MB) in {:.1} ms (fastest of {runs})",
        text.len() as f64 / 1e6,
        fastest.as_secs_f64() * 1e3
    );
    if !cfg!(debug_assertions) {
        assert!(fastest.as_millis() <= 100, "{fastest:?}");
    }
}
