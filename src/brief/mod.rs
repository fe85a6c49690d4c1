//! The brief ("context fog"): the agent's entire context for its next step, within a token
//! budget counted with a real tokenizer and never exceeded. Sections come in priority
//! order; when the budget is short, whole lines are cut, lowest priority first. Every list
//! is bounded, so its size does not grow with the history.

pub mod sections;
pub mod tokens;

use serde::Serialize;

pub use sections::{Input, Section};
pub use tokens::TokenizerError;

#[derive(Debug, Clone, Serialize)]
pub struct Brief {
    /// Tokens of `text` as printed (o200k_base).
    pub tokens: usize,
    pub budget: usize,
    pub encoding: &'static str,
    /// The sections that remain, in priority order.
    pub sections: Vec<SectionView>,
    /// What was cut to fit, lowest priority first.
    pub cut: Vec<Cut>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    pub name: &'static str,
    pub lines: usize,
    pub tokens: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cut {
    pub section: &'static str,
    pub lines: usize,
    /// True when the whole section went.
    pub whole: bool,
}

/// Builds the brief and cuts it to `budget` tokens.
/// The brief of `project` as it stands, within `budget` tokens.
pub fn for_project(project: &crate::project::Project, budget: usize) -> anyhow::Result<Brief> {
    // Parsing the tokenizer's table takes longer than reading a long journal: do both at once.
    let loading = std::thread::spawn(|| tokens::load().map(|_| ()));
    let (state, _) = project.load()?;
    let strategy = std::fs::read_to_string(project.path(crate::project::paths::STRATEGY)).ok();
    let _ = loading.join();
    let input = Input {
        state: &state,
        config: &project.config,
        strategy: strategy.as_deref(),
        noise_sigma: state.noise.as_ref().map(|floor| floor.sigma),
    };
    let mut all = sections::sections(&input);
    if let Some(lane) = project.lane {
        // Right after "next": what the other lanes are trying, so this one tries something else.
        all.insert(1.min(all.len()), sections::lanes_section(&state, lane));
    }
    Ok(fit(all, budget)?)
}

pub fn build(input: &Input<'_>, budget: usize) -> Result<Brief, TokenizerError> {
    fit(sections::sections(input), budget)
}

fn join(sections: &[Section]) -> String {
    let mut text = String::new();
    for section in sections {
        for line in &section.lines {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// Cuts whole lines, from the end of the lowest-priority section up, until the text fits.
pub fn fit(mut sections: Vec<Section>, budget: usize) -> Result<Brief, TokenizerError> {
    let mut line_tokens: Vec<Vec<usize>> = sections
        .iter()
        .map(|section| {
            section
                .lines
                .iter()
                .map(|line| tokens::count(&format!("{line}\n")))
                .collect()
        })
        .collect::<Result<_, _>>()?;
    let original: Vec<usize> = sections.iter().map(|section| section.lines.len()).collect();
    let mut estimate: usize = line_tokens.iter().flatten().sum();
    // Per-line counts add up to about the whole text's count; the exact count of the joined
    // text decides, and each round cuts at least one more line until it fits.
    let (text, total) = loop {
        let text = join(&sections);
        let total = tokens::count(&text)?;
        if total <= budget {
            break (text, total);
        }
        while let Some(index) = sections
            .iter()
            .rposition(|section| !section.lines.is_empty())
        {
            let section = &mut sections[index];
            let counts = &mut line_tokens[index];
            section.lines.pop();
            estimate = estimate.saturating_sub(counts.pop().unwrap_or(0));
            if section.lines.len() <= section.header {
                section.lines.clear();
                estimate = estimate.saturating_sub(counts.drain(..).sum::<usize>());
            }
            if estimate <= budget {
                break;
            }
        }
    };
    let cut = sections
        .iter()
        .zip(&original)
        .rev()
        .filter(|(section, original)| section.lines.len() < **original)
        .map(|(section, original)| Cut {
            section: section.name,
            lines: original - section.lines.len(),
            whole: section.lines.is_empty(),
        })
        .collect();
    let views = sections
        .iter()
        .zip(&line_tokens)
        .filter(|(section, _)| !section.lines.is_empty())
        .map(|(section, counts)| SectionView {
            name: section.name,
            lines: section.lines.len(),
            tokens: counts.iter().sum(),
        })
        .collect();
    Ok(Brief {
        tokens: total,
        budget,
        encoding: tokens::ENCODING,
        sections: views,
        cut,
        text,
    })
}
