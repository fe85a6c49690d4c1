//! Resolves the references of an `Inspired by` field: a file under docs/ that exists, a
//! recorded experiment, or docs/strategy.md (optionally `#section`). A reference that does not
//! resolve, or that leaves the project (`..`, an absolute path, a symlink out), is refused with
//! what does exist.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use super::entry::Problem;
use super::reference::{is_windows_absolute, references, Reference};

/// What citations resolve against.
#[derive(Debug, Clone)]
pub struct CitationContext {
    pub project_root: PathBuf,
    /// Experiments with a finished result (kept, discarded, crashed): the only ones citable.
    pub recorded_experiments: BTreeSet<u32>,
    /// True once a distillation finished (`State::distillations > 0`): before it, the
    /// agent's sections of docs/strategy.md are the empty template and cannot be cited.
    pub strategy_distilled: bool,
}

/// A reference that resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Citation {
    /// A file under docs/ (paper summaries and the like), by its path from the project root.
    Document {
        path: String,
        section: Option<String>,
    },
    Experiment {
        number: u32,
    },
    Strategy {
        section: Option<String>,
    },
}

/// The citations of one field: what resolved, and a problem for each reference that did not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Citations {
    pub resolved: Vec<Citation>,
    pub errors: Vec<Problem>,
}

const STRATEGY_FILE: &str = "docs/strategy.md";

/// Resolves every reference of an `Inspired by` field written on `line`.
pub fn resolve_citations(text: &str, line: usize, context: &CitationContext) -> Citations {
    let resolver = Resolver::new(context);
    let mut citations = Citations::default();
    let references = references(text);
    for reference in &references {
        match resolver.resolve(reference) {
            Ok(Some(citation)) => {
                if !citations.resolved.contains(&citation) {
                    citations.resolved.push(citation);
                }
            }
            Ok(None) => {}
            Err(message) => citations.errors.push(Problem::new(line, message)),
        }
    }
    if citations.resolved.is_empty() && citations.errors.is_empty() {
        let has_url = references
            .iter()
            .any(|reference| matches!(reference, Reference::Url(_)));
        citations
            .errors
            .push(Problem::new(line, resolver.nothing_cited(text, has_url)));
    }
    citations
}

struct Resolver<'context> {
    context: &'context CitationContext,
    root: PathBuf,
}

impl<'context> Resolver<'context> {
    fn new(context: &'context CitationContext) -> Self {
        let root = context
            .project_root
            .canonicalize()
            .unwrap_or_else(|_| context.project_root.clone());
        Resolver { context, root }
    }

    fn resolve(&self, reference: &Reference) -> Result<Option<Citation>, String> {
        match reference {
            Reference::Url(_) => Ok(None),
            Reference::Experiment { written, number } => self.experiment(written, *number),
            Reference::Path {
                written,
                path,
                anchor,
            } => self.document(written, path, anchor),
        }
    }

    fn experiment(&self, written: &str, number: Option<u32>) -> Result<Option<Citation>, String> {
        let recorded = &self.context.recorded_experiments;
        match number {
            Some(number) if recorded.contains(&number) => Ok(Some(Citation::Experiment { number })),
            _ if recorded.is_empty() => Err(format!(
                "`{written}` is not a recorded experiment: no experiment has finished yet. Cite \
                 a paper summary under docs/papers/ or docs/strategy.md instead."
            )),
            _ => Err(format!(
                "`{written}` is not a recorded experiment: only finished experiments can be \
                 cited. Recorded: {}.",
                ranges(recorded)
            )),
        }
    }

    fn document(
        &self,
        written: &str,
        path: &str,
        anchor: &Option<String>,
    ) -> Result<Option<Citation>, String> {
        let example = self.example_paper();
        if path.starts_with(['/', '~', '\\']) || is_windows_absolute(path) {
            return Err(format!(
                "`{written}` is an absolute path. Cite files inside the project by their path \
                 from its root, e.g. `{example}`."
            ));
        }
        let relative = path.trim_start_matches("./");
        // `docs/...` and `../...` are read from the project root; `papers/x.md` from docs/.
        let candidates: Vec<String> =
            if relative.starts_with("docs/") || relative.starts_with("../") {
                vec![relative.to_string()]
            } else if relative.contains('/') {
                vec![format!("docs/{relative}")]
            } else {
                vec![
                    format!("docs/{relative}"),
                    format!("docs/papers/{relative}"),
                ]
            };
        for candidate in &candidates {
            let Some(lexical) = normalize(Path::new(candidate)) else {
                return Err(format!(
                    "`{written}` leads outside the project. Cite a file under docs/, e.g. \
                     `{example}`."
                ));
            };
            if !lexical.starts_with("docs") {
                return Err(not_under_docs(written, &example));
            }
            let full = self.root.join(&lexical);
            if full.symlink_metadata().is_err() {
                continue;
            }
            let Ok(canonical) = full.canonicalize() else {
                return Err(format!(
                    "`{written}` is a symlink that points to nothing. Replace it with the file \
                     itself or cite another one. {}",
                    self.papers_sentence()
                ));
            };
            let Ok(inside) = canonical.strip_prefix(&self.root) else {
                return Err(format!(
                    "`{written}` resolves outside the project (it is a symlink). Copy the summary \
                     into docs/papers/ instead of linking to it."
                ));
            };
            if !inside.starts_with("docs") {
                return Err(not_under_docs(written, &example));
            }
            if canonical.is_dir() {
                return Err(format!(
                    "`{written}` is a directory: cite one file in it. {}",
                    self.papers_sentence()
                ));
            }
            let display = lexical.to_string_lossy().replace('\\', "/");
            if display == STRATEGY_FILE && anchor.is_some() && !self.context.strategy_distilled {
                return Err(format!(
                    "`{written}` is not written yet: the sections of docs/strategy.md are filled \
                     at the first distillation (`dfh distill`, then `dfh distill --done`). Cite \
                     `docs/strategy.md` alone, a paper summary or a recorded experiment until \
                     then."
                ));
            }
            let section = match anchor {
                Some(anchor) => Some(self.section(written, &display, &canonical, anchor)?),
                None => None,
            };
            return Ok(Some(if display == STRATEGY_FILE {
                Citation::Strategy { section }
            } else {
                Citation::Document {
                    path: display,
                    section,
                }
            }));
        }
        let shown = candidates.first().map_or(written, String::as_str);
        if shown == STRATEGY_FILE {
            return Err(format!(
                "`{written}` does not exist yet: `dfh init` writes docs/strategy.md and \
                 `dfh distill --done` fills it. Cite a paper summary or a recorded experiment \
                 until then. {}",
                self.papers_sentence()
            ));
        }
        Err(format!(
            "`{shown}` does not exist. {}",
            self.papers_sentence()
        ))
    }

    /// Checks `#anchor` against the heading slugs of the cited file.
    fn section(
        &self,
        written: &str,
        display: &str,
        file: &Path,
        anchor: &str,
    ) -> Result<String, String> {
        let text = std::fs::read_to_string(file).map_err(|error| {
            format!("`{written}`: cannot read {display} ({error}) to find the section.")
        })?;
        let wanted = slug(anchor);
        let sections = heading_slugs(&text);
        if sections.contains(&wanted) {
            return Ok(wanted);
        }
        if sections.is_empty() {
            return Err(format!(
                "`{written}`: {display} has no sections (no headings). Cite `{display}` alone."
            ));
        }
        let listed: Vec<String> = sections
            .iter()
            .map(|section| format!("#{section}"))
            .collect();
        Err(format!(
            "`{written}` names no section of {display}. Its sections: {}. Cite one of these, \
             or `{display}` alone.",
            listed.join(", ")
        ))
    }

    fn papers(&self) -> Vec<String> {
        let Ok(directory) = std::fs::read_dir(self.root.join("docs/papers")) else {
            return Vec::new();
        };
        let mut papers: Vec<String> = directory
            .flatten()
            .filter_map(|item| item.file_name().into_string().ok())
            .filter(|name| name.ends_with(".md") && !name.eq_ignore_ascii_case("README.md"))
            .map(|name| format!("docs/papers/{name}"))
            .collect();
        papers.sort();
        papers
    }

    fn papers_sentence(&self) -> String {
        let papers = self.papers();
        if papers.is_empty() {
            return "docs/papers/ holds no paper summaries yet: write one \
                    (docs/papers/<name>.md: the paper's claim, its numbers, what to try here) and \
                    cite it."
                .to_string();
        }
        format!("Paper summaries that exist: {}.", listing(&papers))
    }

    fn example_paper(&self) -> String {
        self.papers()
            .into_iter()
            .next()
            .unwrap_or_else(|| "docs/papers/<name>.md".to_string())
    }

    fn nothing_cited(&self, text: &str, has_url: bool) -> String {
        let url_hint = if has_url {
            " A URL is not a citation dfh can check: summarize the paper into \
             docs/papers/<name>.md and cite that."
        } else {
            ""
        };
        let recorded = &self.context.recorded_experiments;
        let experiments = if recorded.is_empty() {
            "none recorded yet".to_string()
        } else {
            format!("recorded: {}", ranges(recorded))
        };
        let strategy = match std::fs::read_to_string(self.root.join(STRATEGY_FILE)) {
            Ok(strategy) => {
                let sections: Vec<String> = heading_slugs(&strategy)
                    .iter()
                    .map(|section| format!("#{section}"))
                    .collect();
                format!("sections: {}", listing(&sections))
            }
            Err(_) => "not written yet".to_string(),
        };
        let papers = self.papers();
        let papers = if papers.is_empty() {
            "none yet".to_string()
        } else {
            listing(&papers)
        };
        let example = match recorded.last() {
            Some(number) => format!("{}; Experiment {number}", self.example_paper()),
            None => self.example_paper(),
        };
        format!(
            "`Inspired by: {text}` cites nothing dfh can check.{url_hint} Cite at least one of: \
             a paper summary under docs/papers/ ({papers}), a recorded experiment as \
             `Experiment N` ({experiments}), or `docs/strategy.md#section` ({strategy}). For \
             example: `Inspired by: {example}`."
        )
    }
}

fn not_under_docs(written: &str, example: &str) -> String {
    format!(
        "`{written}` is not under docs/: cite paper summaries, docs/strategy.md or recorded \
         experiments, e.g. `{example}`."
    )
}

/// Removes `.` and resolves `..` without touching the disk; `None` when it climbs above the
/// start (out of the project).
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => normalized.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !normalized.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(normalized)
}

/// GitHub's heading anchor: lower case, spaces to `-`, punctuation other than `-`/`_` dropped.
pub(crate) fn slug(heading: &str) -> String {
    heading
        .trim()
        .trim_start_matches('#')
        .to_lowercase()
        .chars()
        .filter_map(|character| match character {
            ' ' => Some('-'),
            character if character.is_alphanumeric() || "-_".contains(character) => Some(character),
            _ => None,
        })
        .collect()
}

pub(crate) fn heading_slugs(markdown: &str) -> Vec<String> {
    let mut slugs = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new_ext(markdown, Options::empty()) {
        match event {
            Event::Start(Tag::Heading { .. }) => current = Some(String::new()),
            Event::Text(text) | Event::Code(text) => {
                if let Some(heading) = current.as_mut() {
                    heading.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(heading) = current.take() {
                    slugs.push(slug(&heading));
                }
            }
            _ => {}
        }
    }
    slugs
}

/// `1–9, 11, 14–20`.
pub(crate) fn ranges(numbers: &BTreeSet<u32>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut run: Option<(u32, u32)> = None;
    for &number in numbers {
        run = match run {
            Some((start, end)) if end.checked_add(1) == Some(number) => Some((start, number)),
            Some(previous) => {
                parts.push(run_text(previous));
                Some((number, number))
            }
            None => Some((number, number)),
        };
    }
    if let Some(last) = run {
        parts.push(run_text(last));
    }
    parts.join(", ")
}

fn run_text((start, end): (u32, u32)) -> String {
    if start == end {
        start.to_string()
    } else {
        format!("{start}–{end}")
    }
}

fn listing(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}
