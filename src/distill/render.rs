//! The auto section of docs/strategy.md: the distillation's figures as markdown, bounded in
//! length whatever the length of the history (lists keep their most telling items).

use super::stats::{sentence, signed, Stats};

/// Items shown per list; the rest are counted.
const DIRECTIONS_SHOWN: usize = 12;
const MOVES_SHOWN: usize = 10;
const IDEAS_SHOWN: usize = 6;
const PLATEAUS_SHOWN: usize = 3;
const CRASHES_SHOWN: usize = 8;
/// Longest learning or title quoted, in characters.
const QUOTE_CHARACTERS: usize = 240;

/// Shortens `text` to one line of at most `limit` characters.
pub fn one_line(text: &str, limit: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= limit {
        return flat;
    }
    let mut cut: String = flat.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A metric value with six significant digits, trailing zeros trimmed: `0.971234`, `12.5`.
pub fn number(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return value.to_string();
    }
    let digits = (5 - value.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{value:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

pub fn render(stats: &Stats, metric: &str, after_experiment: u32, at: &str) -> String {
    let mut out = vec![format!(
        "_Rewritten by `dfh distill` after experiment {after_experiment} ({at}); {} experiments with a result, {} kept, {} crashed. Gain = improvement over the best before, positive is better._",
        stats.finished, stats.kept, stats.crashed
    )];
    out.push(String::new());
    out.push("### Best and its trajectory".into());
    match &stats.best {
        None => out.push("No kept experiment yet.".into()),
        Some(best) => {
            let first = &stats.trajectory[0];
            out.push(format!(
                "{metric} {} — #{} {}. {} kept experiments moved it from {} (#{}):",
                number(best.value),
                best.experiment,
                one_line(&best.title, QUOTE_CHARACTERS),
                stats.trajectory.len(),
                number(first.value),
                first.experiment
            ));
            let skipped = stats.trajectory.len().saturating_sub(MOVES_SHOWN);
            if skipped > 0 {
                out.push(format!("- … {skipped} earlier moves"));
            }
            for step in &stats.trajectory[skipped..] {
                out.push(format!(
                    "- #{} {} ({}) {}",
                    step.experiment,
                    number(step.value),
                    step.gain.map(signed).unwrap_or_else(|| "baseline".into()),
                    one_line(&step.title, QUOTE_CHARACTERS)
                ));
            }
            let mut largest: Vec<_> = stats
                .trajectory
                .iter()
                .filter_map(|step| step.gain.map(|gain| (step.experiment, gain)))
                .collect();
            largest.sort_by(|a, b| b.1.total_cmp(&a.1));
            if largest.len() > MOVES_SHOWN {
                let listed: Vec<String> = largest
                    .iter()
                    .take(3)
                    .map(|(experiment, gain)| format!("#{experiment} {}", signed(*gain)))
                    .collect();
                out.push(format!("Largest moves: {}.", listed.join(", ")));
            }
        }
    }
    for (title, groups) in [
        ("Directions, by productivity", &stats.directions),
        ("Code regions, by productivity", &stats.regions),
    ] {
        out.push(String::new());
        out.push(format!("### {title}"));
        if groups.is_empty() {
            out.push("None recorded yet.".into());
        }
        for group in groups.iter().take(DIRECTIONS_SHOWN) {
            out.push(format!("- {}: {}", group.name, sentence(group)));
        }
        if groups.len() > DIRECTIONS_SHOWN {
            let rest: Vec<&str> = groups[DIRECTIONS_SHOWN..]
                .iter()
                .take(20)
                .map(|group| group.name.as_str())
                .collect();
            out.push(format!(
                "- … {} more, least productive last: {}",
                groups.len() - DIRECTIONS_SHOWN,
                rest.join(", ")
            ));
        }
    }
    out.push(String::new());
    out.push("### Runs without improvement".into());
    let mut plateaus: Vec<_> = stats.plateaus.iter().take(PLATEAUS_SHOWN).collect();
    if let Some(current) = stats.plateaus.iter().find(|plateau| plateau.current) {
        if !plateaus.contains(&current) {
            plateaus.push(current);
        }
    }
    if plateaus.is_empty() {
        out.push("None: every experiment so far improved the best.".into());
    }
    for plateau in plateaus {
        out.push(format!(
            "- #{}–#{}: {} experiments without improvement{}",
            plateau.first,
            plateau.last,
            plateau.length,
            if plateau.current { ", still going" } else { "" }
        ));
    }
    out.push(String::new());
    out.push("### Crash classes".into());
    if stats.crash_classes.is_empty() {
        out.push("No crashes.".into());
    }
    for class in stats.crash_classes.iter().take(CRASHES_SHOWN) {
        let numbers: Vec<String> = class
            .experiments
            .iter()
            .map(|number| format!("#{number}"))
            .collect();
        let mut line = format!(
            "- {}: {} ({}){}",
            class.class,
            class.count,
            numbers.join(", "),
            if class.recurs() { ", recurs" } else { "" }
        );
        if class.untaught() {
            line.push_str(" — no pattern knows it: teach one with `dfh crash learn`");
        } else if let Some(fix) = &class.fix {
            line.push_str(&format!(" — fix: {}", one_line(fix, QUOTE_CHARACTERS)));
        }
        out.push(line);
    }
    out.push(String::new());
    out.push("### Prediction calibration".into());
    match &stats.calibration {
        None => out.push("No prediction with a result yet (state one in `Expected outcome:`).".into()),
        Some(calibration) => out.push(format!(
            "{} predictions with a result: mean absolute error {:.4}; outcomes fell short of the prediction in {} of {} ({} by {:.4} on average); the direction (better or not) was right in {} of {}.",
            calibration.count,
            calibration.mean_absolute_error,
            calibration.fell_short,
            calibration.count,
            if calibration.mean_optimism >= 0.0 { "optimistic" } else { "pessimistic" },
            calibration.mean_optimism.abs(),
            calibration.direction_right,
            calibration.count
        )),
    }
    out.push(String::new());
    out.push("### Explored, by direction".into());
    if stats.explored.is_empty() {
        out.push("Nothing explored yet.".into());
    }
    for explored in stats.explored.iter().take(DIRECTIONS_SHOWN) {
        let kept = explored
            .ideas
            .iter()
            .filter(|idea| idea.outcome == "keep")
            .count();
        out.push(format!(
            "#### {} ({kept} of {} kept)",
            explored.direction,
            explored.ideas.len()
        ));
        let skipped = explored.ideas.len().saturating_sub(IDEAS_SHOWN);
        if skipped > 0 {
            out.push(format!(
                "- … {skipped} earlier (`dfh show N` for any of them)"
            ));
        }
        for idea in &explored.ideas[skipped..] {
            let mut line = format!(
                "- #{} {}{} {}",
                idea.experiment,
                idea.outcome,
                idea.gain
                    .map(|gain| format!(" {}", signed(gain)))
                    .unwrap_or_default(),
                one_line(&idea.title, QUOTE_CHARACTERS)
            );
            if let Some(learning) = &idea.learning {
                line.push_str(&format!(
                    " — Learning: {}",
                    one_line(learning, QUOTE_CHARACTERS)
                ));
            }
            out.push(line);
        }
    }
    out.join("\n")
}
