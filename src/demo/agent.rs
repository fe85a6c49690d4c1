//! The demo's scripted agent (`dfh demo-agent`, hidden): plays a plausible night through the
//! same path as any external agent — it reads DFH_STEP and DFH_EXPERIMENT, edits the files and
//! calls the dfh binary. Its moves include a rule break, a configuration error caught by a
//! pre-train check, a crash that is diagnosed and retried, and a distillation.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

/// One planned experiment of the script.
struct Move {
    title: &'static str,
    hypothesis: &'static str,
    /// Predicted val_loss as a factor of the best so far.
    factor: f64,
    inspired_by: &'static str,
    risk: &'static str,
    direction: &'static str,
    /// Knob edits of train.py.
    edits: &'static [(&'static str, &'static str)],
    /// A forbidden edit of a read-only file, undone by the harness.
    cheat: Option<(&'static str, &'static str, &'static str)>,
    /// The edits of a fix step (after a refusal) or a retry (after a crash).
    fix: &'static [(&'static str, &'static str)],
}

const MOVES: &[Move] = &[
    Move {
        title: "Heavy-ball momentum 0.9",
        hypothesis: "Plain SGD is too slow to fit the target in 12 epochs; momentum 0.9 multiplies the effective step along low-curvature directions.",
        factor: 0.6,
        inspired_by: "docs/papers/momentum.md",
        risk: "The effective step lr/(1-mu) = 0.5 may overshoot.",
        direction: "optimizer",
        edits: &[("MOMENTUM", "0.9")],
        cheat: None,
        fix: &[],
    },
    Move {
        title: "Wider hidden layer",
        hypothesis: "Twice the hidden units make the landscape easier to optimize, as the width literature reports for two-layer networks.",
        factor: 0.9,
        inspired_by: "docs/papers/width.md; Experiment 2",
        risk: "Each step costs twice as much in pure Python.",
        direction: "architecture",
        edits: &[("HIDDEN", "24")],
        cheat: None,
        fix: &[],
    },
    Move {
        title: "Higher learning rate with momentum",
        hypothesis: "If momentum made the run faster but still not converged, a larger base step should finish the job.",
        factor: 0.9,
        inspired_by: "Experiment 2",
        risk: "Divergence: lr/(1-mu) doubles to 1.0.",
        direction: "optimizer",
        edits: &[("LEARNING_RATE", "0.1")],
        cheat: None,
        fix: &[],
    },
    Move {
        title: "Weight decay against overfitting",
        hypothesis: "A small L2 penalty should reduce the gap between train and validation loss.",
        factor: 0.95,
        inspired_by: "Experiment 2",
        risk: "Too much decay underfits.",
        direction: "regularization",
        edits: &[("WEIGHT_DECAY", "0.001")],
        // Shrinking the validation set would flatter every number: the harness must refuse it.
        cheat: Some(("prepare.py", "N_VAL = 192", "N_VAL = 32")),
        fix: &[("WEIGHT_DECAY", "0.0005")],
    },
    Move {
        title: "Batch of 40 for less gradient noise",
        hypothesis: "Slightly larger batches average more gradient noise per step with momentum on.",
        factor: 0.95,
        inspired_by: "Experiment 2",
        risk: "Fewer steps per epoch.",
        direction: "optimizer",
        // 384 is not a multiple of 40: the rule whole-batches refuses it before training.
        edits: &[("BATCH_SIZE", "40")],
        cheat: None,
        fix: &[("BATCH_SIZE", "48")],
    },
    Move {
        title: "GELU activation",
        hypothesis: "A smooth non-saturating activation keeps gradients alive where tanh saturates.",
        factor: 0.9,
        inspired_by: "docs/papers/initialization.md",
        risk: "The activation may not be implemented in train.py.",
        direction: "architecture",
        // Not in ACTIVATIONS: a KeyError, diagnosed; the retry switches to the implemented SiLU.
        edits: &[("ACTIVATION", "\"gelu\"")],
        cheat: None,
        fix: &[("ACTIVATION", "\"silu\"")],
    },
    Move {
        title: "More epochs",
        hypothesis: "The loss is still falling at the end of the run; more passes should lower it further within the budget.",
        factor: 0.9,
        inspired_by: "Experiment 2",
        risk: "Overfitting the 384 samples.",
        direction: "schedule",
        edits: &[("EPOCHS", "20")],
        cheat: None,
        fix: &[],
    },
    Move {
        title: "Smaller initialization",
        hypothesis: "Starting closer to linear suits a smooth target and speeds up the first epochs.",
        factor: 0.95,
        inspired_by: "docs/papers/initialization.md",
        risk: "Vanishing signal early on.",
        direction: "init",
        edits: &[("INIT_SCALE", "0.5")],
        cheat: None,
        fix: &[],
    },
    Move {
        title: "Momentum 0.95",
        hypothesis: "Momentum was the most productive change; pushing it further may help again.",
        factor: 0.95,
        inspired_by: "Experiment 2; docs/papers/momentum.md",
        risk: "The effective step grows to 20x the base step.",
        direction: "optimizer",
        edits: &[("MOMENTUM", "0.95")],
        cheat: None,
        fix: &[],
    },
    Move {
        title: "Lower learning rate with high momentum",
        hypothesis: "The strategy ranks the optimizer first; a smaller base step under momentum should reduce the seed-to-seed spread.",
        factor: 0.97,
        inspired_by: "docs/strategy.md#priorities",
        risk: "Slower progress within the epochs.",
        direction: "optimizer",
        edits: &[("LEARNING_RATE", "0.03")],
        cheat: None,
        fix: &[],
    },
    Move {
        title: "Hidden 16",
        hypothesis: "A middle width may keep most of the gain of a wider layer at lower cost.",
        factor: 0.97,
        inspired_by: "docs/strategy.md#priorities; docs/papers/width.md",
        risk: "Little difference from 12.",
        direction: "architecture",
        edits: &[("HIDDEN", "16")],
        cheat: None,
        fix: &[],
    },
    Move {
        title: "ReLU activation",
        hypothesis: "ReLU avoids tanh saturation entirely.",
        factor: 0.97,
        inspired_by: "docs/strategy.md#priorities",
        risk: "Dead units in a 12-unit layer.",
        direction: "architecture",
        edits: &[("ACTIVATION", "\"relu\"")],
        cheat: None,
        fix: &[],
    },
];

/// The move for experiment `number` (experiment 1 is the harness's baseline).
fn move_for(number: u32) -> &'static Move {
    let index = (number.saturating_sub(2) as usize) % MOVES.len();
    &MOVES[index]
}

/// One step of the scripted agent, in the project directory.
pub fn step(dir: &Path) -> Result<()> {
    let step = std::env::var(crate::env::STEP).unwrap_or_default();
    let number: u32 = std::env::var(crate::env::EXPERIMENT)
        .ok()
        .and_then(|text| text.parse().ok())
        .context("DFH_EXPERIMENT is not set: dfh demo-agent is run by `dfh loop`")?;
    let chosen = move_for(number);
    match step.as_str() {
        "plan" => plan(dir, number, chosen),
        "fix" | "retry" => edit(dir, chosen.fix),
        "learn" => learn(dir, number, chosen),
        "distill" => distill(dir),
        other => Err(anyhow::anyhow!("unknown step `{other}`")),
    }
}

fn dfh(dir: &Path, args: &[&str]) -> Result<String> {
    let exe = std::env::current_exe().context("cannot find the dfh executable")?;
    let output = Command::new(exe)
        .arg("--json")
        .args(args)
        .current_dir(dir)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        eprintln!(
            "dfh {} exited {}: {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(stdout)
}

fn best(dir: &Path) -> Option<f64> {
    let status: serde_json::Value = serde_json::from_str(&dfh(dir, &["status"]).ok()?).ok()?;
    status["best"]["value"].as_f64()
}

fn plan(dir: &Path, number: u32, chosen: &Move) -> Result<()> {
    let expected = match best(dir) {
        Some(best) => format!("val_loss ~{:.4}", best * chosen.factor),
        None => "val_loss ~0.5".into(),
    };
    let title = chosen.title.to_string();
    dfh(
        dir,
        &[
            "plan",
            "--title",
            &title,
            "--hypothesis",
            chosen.hypothesis,
            "--expected",
            &expected,
            "--inspired-by",
            chosen.inspired_by,
            "--risk",
            chosen.risk,
            "--direction",
            chosen.direction,
        ],
    )?;
    if let Some((file, from, to)) = chosen.cheat {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)?;
        std::fs::write(&path, text.replace(from, to))?;
    }
    let _ = number;
    edit(dir, chosen.edits)
}

/// Sets `NAME = value` lines of train.py.
fn edit(dir: &Path, edits: &[(&str, &str)]) -> Result<()> {
    let path = dir.join("train.py");
    let text = std::fs::read_to_string(&path)?;
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for (name, value) in edits {
        let prefix = format!("{name} = ");
        if let Some(line) = lines.iter_mut().find(|line| line.starts_with(&prefix)) {
            *line = format!("{prefix}{value}");
        }
    }
    std::fs::write(&path, lines.join("\n") + "\n")?;
    Ok(())
}

fn learn(dir: &Path, number: u32, chosen: &Move) -> Result<()> {
    let shown: serde_json::Value =
        serde_json::from_str(&dfh(dir, &["show", &number.to_string()])?).unwrap_or_default();
    let phase = shown["status"].as_str().unwrap_or("?");
    let value = shown["value"].as_f64();
    let before = shown["best_before"].as_f64();
    let knobs: Vec<String> = chosen
        .edits
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let text = match (phase, value, before) {
        (_, _, None) if number == 1 => {
            "Baseline: plain SGD underfits (val_loss ~0.53); the optimizer is the first suspect.".to_string()
        }
        (_, _, Some(_)) if shown["attempts"].as_u64().unwrap_or(1) > 1 => format!(
            "{} crashed first ({}); the advisor's one fix ran but gave val_loss {} against {:.4}: not worth more time.",
            chosen.title,
            shown["crash_class"].as_str().unwrap_or("crash"),
            value.map(|value| format!("{value:.4}")).unwrap_or_else(|| "none".into()),
            before.unwrap_or_default()
        ),
        ("keep", Some(value), Some(before)) => format!(
            "{} works: val_loss {value:.4} from {before:.4}, confirmed by a second seed. Keep {} as the new default.",
            chosen.title,
            knobs.join(", ")
        ),
        ("discard", Some(value), Some(before)) => format!(
            "{} does not help (val_loss {value:.4} vs best {before:.4}): {} is not the bottleneck here.",
            chosen.title,
            knobs.join(", ")
        ),
        ("crash" | "timeout" | "abandoned", _, _) => format!(
            "{} failed ({}); the advisor's fix applied; do not spend more on it.",
            chosen.title,
            shown["crash_class"].as_str().unwrap_or("crash")
        ),
        _ => format!("{}: {phase}.", chosen.title),
    };
    dfh(dir, &["learn", &number.to_string(), &text])?;
    Ok(())
}

/// Fills the agent sections of docs/strategy.md from the auto section's figures.
fn distill(dir: &Path) -> Result<()> {
    let path = dir.join("docs/strategy.md");
    let text = std::fs::read_to_string(&path)?;
    let figures: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.contains("dfh:auto:start"))
        .filter(|line| line.contains(" in ") && line.contains(" of "))
        .take(3)
        .collect();
    let best = best(dir)
        .map(|value| format!("{value:.4}"))
        .unwrap_or_else(|| "?".into());
    let sections = [
        ("## Current best", format!("val_loss {best}: momentum 0.9 on plain SGD made the difference; the other changes were within noise or worse.")),
        ("## Priorities", "1. Optimizer settings around momentum (learning rate, momentum value): the only direction that paid off.\n2. Width between 12 and 24, cheaply.\n3. Leave activations alone: GELU is not implemented and SiLU gave nothing.".to_string()),
        ("## Explored", "Momentum (kept), width 24, lr 0.1, weight decay, batch 48, SiLU, 20 epochs, smaller init.".to_string()),
        ("## Observations", if figures.is_empty() { "Most gains came from the optimizer.".to_string() } else { figures.iter().map(|line| line.trim().trim_start_matches("- ").to_string()).collect::<Vec<_>>().join("\n") }),
    ];
    // Only the agent's part, after the auto section, is edited.
    let marker = "<!-- dfh:auto:end -->";
    let split = text
        .find(marker)
        .map_or(0, |position| position + marker.len());
    let (auto, agent) = text.split_at(split);
    let mut updated = agent.to_string();
    for (heading, body) in sections {
        let needle = format!("\n{heading}\n");
        if let Some(start) = updated.find(&needle) {
            let after = start + needle.len() - 1;
            let end = updated[after..]
                .find("\n## ")
                .map_or(updated.len(), |offset| after + offset);
            updated.replace_range(after..end, &format!("\n{body}\n"));
        }
    }
    std::fs::write(&path, format!("{auto}{updated}"))?;
    Ok(())
}
