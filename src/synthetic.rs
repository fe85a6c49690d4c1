//! A synthetic research history of any length, for benchmarks and scale tests: the journal
//! events and the hypotheses.md that a plausible night (or a month of nights) would leave.
//!
//! Deterministic for a given size: a small linear congruential generator drives it.

use std::collections::BTreeMap;

use crate::journal::{Decided, Event, Finished, Initialized, Learned, Outcome, Planned, Started};

const DIRECTIONS: &[&str] = &[
    "optimizer",
    "architecture",
    "attention",
    "schedule",
    "regularization",
    "data",
    "init",
];
const REGIONS: &[&str] = &[
    "GPT.forward",
    "CausalSelfAttention.forward",
    "MLP",
    "DEPTH",
    "MATRIX_LR",
    "WARMUP_RATIO",
    "setup_optimizer",
    "Block.__init__",
];
const CRASHES: &[&str] = &["oom_gpu", "shape_mismatch", "nan_inf", "dtype_mismatch"];

struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn unit(&mut self) -> f64 {
        (self.next() % 1_000_000) as f64 / 1_000_000.0
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// A history of `experiments` decided experiments (the first is the baseline).
pub struct History {
    pub events: Vec<Event>,
    pub hypotheses: String,
}

pub fn history(experiments: u32) -> History {
    let mut random = Random(42);
    let at = |number: u32| {
        format!(
            "2026-01-{:02}T{:02}:{:02}:00Z",
            1 + number / 1440 % 28,
            number / 60 % 24,
            number % 60
        )
    };
    let mut events = vec![Event::Initialized(Initialized {
        at: at(0),
        branch: "main".into(),
        base_commit: "0".repeat(40),
        editable: vec!["train.py".into()],
        readonly_hashes: BTreeMap::from([("prepare.py".into(), "missing".into())]),
    })];
    let mut hypotheses = String::from("# Hypotheses\n\n");
    let mut best = 1.0_f64;
    for number in 1..=experiments {
        let direction = if number == 1 {
            "baseline"
        } else {
            random.pick(DIRECTIONS)
        };
        let region = random.pick(REGIONS);
        let title = if number == 1 {
            "baseline".to_string()
        } else {
            format!("{direction}: adjust {region} (variant {})", number % 97)
        };
        let predicted = best - 0.002 - random.unit() * 0.004;
        let inspired_by = if number == 1 {
            "docs/strategy.md".to_string()
        } else {
            format!("Experiment {}", 1 + random.next() % u64::from(number - 1))
        };
        let commit = format!("{:040x}", u128::from(number) * 0x9e37_79b9_7f4a_7c15);
        let parent = format!(
            "{:040x}",
            u128::from(number.saturating_sub(1)) * 0x9e37_79b9_7f4a_7c15
        );
        events.push(Event::Planned(Planned {
            at: at(number),
            experiment: number,
            title: title.clone(),
            hypothesis: format!("Changing {region} should help because the {direction} results so far point that way."),
            expected: format!("val_bpb ~{predicted:.4}"),
            inspired_by: inspired_by.clone(),
            risk: Some("may slow convergence within the budget".into()),
            direction: Some(direction.into()),
            again: None,
            prediction: Some(predicted),
            line: None,
            lane: None,
        }));
        events.push(Event::Started(Started {
            at: at(number),
            experiment: number,
            attempt: 1,
            run: 1,
            commit: commit.clone(),
            parent,
            branch: "main".into(),
            log: format!(".dfh/logs/{number}.log"),
            seed: 1,
            harness_pid: 1,
            child_pid: None,
            child_start: None,
            job_id: None,
            lane: None,
        }));
        let roll = random.unit();
        let (outcome, value) = if number == 1 {
            (Outcome::Keep, Some(best))
        } else if roll < 0.08 {
            (Outcome::Crash, None)
        } else {
            let value = best + (random.unit() - 0.8) * 0.01;
            if value < best {
                (Outcome::Keep, Some(value))
            } else {
                (Outcome::Discard, Some(value))
            }
        };
        let seconds = 290.0 + random.unit() * 20.0;
        events.push(Event::Finished(Finished {
            at: at(number),
            experiment: number,
            attempt: 1,
            run: 1,
            value,
            exit_code: Some(if outcome == Outcome::Crash { 1 } else { 0 }),
            seconds,
            log: format!(".dfh/logs/{number}.log"),
            ..Finished::default()
        }));
        let best_before = (number > 1).then_some(best);
        events.push(Event::Decided(Decided {
            at: at(number),
            experiment: number,
            attempt: 1,
            outcome,
            commit,
            value,
            best_before,
            seconds,
            memory_gb: Some(44.0),
            reason: match outcome {
                Outcome::Keep => "gain over the best".into(),
                Outcome::Crash => "the training command exited with code 1".into(),
                _ => "not lower than the best".into(),
            },
            crash_class: (outcome == Outcome::Crash).then(|| random.pick(CRASHES).to_string()),
            fix: None,
            regions: vec![region.to_string()],
            knobs: Vec::new(),
            flags: Vec::new(),
            metrics: None,
            change_hash: None,
        }));
        let learning = format!(
            "{direction} via {region}: {} ({}).",
            outcome.as_str(),
            value
                .map(|value| format!("{value:.4}"))
                .unwrap_or_else(|| "no value".into())
        );
        events.push(Event::Learned(Learned {
            at: at(number),
            experiment: number,
            text: learning.clone(),
        }));
        if let (Outcome::Keep, Some(value)) = (outcome, value) {
            best = value;
        }
        hypotheses.push_str(&format!(
            "## Experiment {number} — {title}\nHypothesis: Changing {region} should help.\nExpected outcome: val_bpb ~{predicted:.4}\nInspired by: {inspired_by}\nRisk: may slow convergence\nDirection: {direction}\n\n### Result\nval_bpb: {} · {} · {seconds:.0} s\nLearning: {learning}\n\n",
            value.map(|value| format!("{value:.4}")).unwrap_or_else(|| "none".into()),
            outcome.as_str()
        ));
    }
    History { events, hypotheses }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::State;

    #[test]
    fn a_history_folds_into_its_experiments_with_a_best() {
        let history = history(200);
        let state = State::fold(&history.events);
        assert_eq!(state.experiments.len(), 200);
        let best = state.best.expect("a best");
        assert!(best.value < 1.0);
        let parsed = crate::hypothesis::parse(&history.hypotheses);
        assert_eq!(parsed.entries.len(), 200);
    }
}
