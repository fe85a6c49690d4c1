//! Parses docs/hypotheses.md into entries. pulldown-cmark finds the headings, code blocks, HTML
//! and rules (with byte offsets mapped to lines); the text lines between them are read for
//! labels, so a field survives however the agent formatted it (plain, bold, list item, wrapped).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::entry::{Entry, Field, HypothesisLog, Problem, ResultBlock, ResultStatus};
use super::labels::{self, HeadingKind, Label};
use super::lines::LineIndex;

#[derive(Debug, Clone, PartialEq)]
enum LineKind {
    Text,
    Heading {
        level: u8,
        text: String,
    },
    /// Code or HTML: content of the entry, never read for labels.
    Opaque,
    /// A thematic break or a setext underline: not content.
    Rule,
}

/// Parses a whole docs/hypotheses.md. Text before the first experiment heading is ignored.
pub fn parse(text: &str) -> HypothesisLog {
    let index = LineIndex::new(text);
    let kinds = classify_lines(text, &index);
    let mut log = HypothesisLog {
        entries: Vec::new(),
        problems: Vec::new(),
    };
    let mut unnumbered: Vec<(usize, String, u8)> = Vec::new();
    let mut current: Option<Builder> = None;
    for (line, kind) in kinds.iter().enumerate().skip(1) {
        if let LineKind::Heading {
            level,
            text: heading,
        } = kind
        {
            match labels::classify_heading(heading) {
                HeadingKind::Experiment { number, title } => {
                    finish(&mut current, &mut log);
                    current = Some(Builder::new(number, title, line, *level));
                }
                HeadingKind::ExperimentWithoutNumber => {
                    finish(&mut current, &mut log);
                    unnumbered.push((line, heading.clone(), *level));
                }
                HeadingKind::Other => {
                    let ends_entry = current
                        .as_mut()
                        .is_some_and(|builder| !builder.sub_heading(line, *level, heading));
                    if ends_entry {
                        finish(&mut current, &mut log);
                    }
                }
            }
            continue;
        }
        let Some(builder) = current.as_mut() else {
            continue;
        };
        match kind {
            LineKind::Text => {
                let content = index.line_text(text, line);
                if content.trim().is_empty() {
                    builder.blank_line();
                } else {
                    builder.text_line(line, content);
                }
            }
            LineKind::Opaque => builder.mark_content(line),
            LineKind::Rule | LineKind::Heading { .. } => {}
        }
    }
    finish(&mut current, &mut log);
    report_unnumbered(&mut log, &unnumbered);
    report_duplicate_numbers(&mut log);
    log
}

/// Marks every line (index 1..=count) as text, heading, opaque or rule.
fn classify_lines(text: &str, index: &LineIndex) -> Vec<LineKind> {
    let mut kinds = vec![LineKind::Text; index.line_count() + 1];
    let mut heading: Option<(u8, usize, String)> = None;
    let last_line = |end: usize, start: usize| index.line_of(end.saturating_sub(1).max(start));
    for (event, range) in Parser::new_ext(text, Options::empty()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level as u8, range.start, String::new()));
            }
            Event::Text(fragment) | Event::Code(fragment) | Event::InlineHtml(fragment) => {
                if let Some((_, _, heading_text)) = heading.as_mut() {
                    heading_text.push_str(&fragment);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some((_, _, heading_text)) = heading.as_mut() {
                    heading_text.push(' ');
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let Some((level, start, heading_text)) = heading.take() else {
                    continue;
                };
                let first = index.line_of(start);
                let last = last_line(range.end, start);
                let source = index.line_text(text, first).trim_start();
                let atx = source.trim_start_matches('>').trim_start().starts_with('#');
                if atx {
                    kinds[first] = LineKind::Heading {
                        level,
                        text: heading_text,
                    };
                } else if last > first {
                    // A setext heading is almost always a field line followed by `---` the
                    // agent meant as a separator: keep the text, drop the underline.
                    kinds[last] = LineKind::Rule;
                }
            }
            Event::Start(Tag::CodeBlock(_)) | Event::Start(Tag::HtmlBlock) => {
                let first = index.line_of(range.start);
                for kind in &mut kinds[first..=last_line(range.end, range.start)] {
                    *kind = LineKind::Opaque;
                }
            }
            Event::Rule => kinds[index.line_of(range.start)] = LineKind::Rule,
            _ => {}
        }
    }
    kinds
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Nothing,
    Field(Label),
    ResultText,
}

struct Builder {
    entry: Entry,
    level: u8,
    /// The heading level of the open result block (7 for an inline `Result:`), if one is open.
    result_level: Option<u8>,
    target: Target,
    /// A blank line came since the last text line: an unlabeled paragraph after it is prose,
    /// not more of a field already written on its label line.
    after_blank: bool,
    /// The open field was started by a heading (`### Hypothesis`): its paragraphs all belong.
    field_from_heading: bool,
    result_lines: Vec<String>,
}

impl Builder {
    fn new(number: u32, title: String, line: usize, level: u8) -> Self {
        let entry = Entry {
            number,
            title,
            line,
            hypothesis: None,
            expected: None,
            inspired_by: None,
            risk: None,
            direction: None,
            again: None,
            result: None,
            learning: None,
            earlier_learnings: Vec::new(),
            abandoned: None,
            end_line: line,
            problems: Vec::new(),
        };
        Builder {
            entry,
            level,
            result_level: None,
            target: Target::Nothing,
            after_blank: false,
            field_from_heading: false,
            result_lines: Vec::new(),
        }
    }

    fn mark_content(&mut self, line: usize) {
        self.entry.end_line = line;
        if self.result_level.is_some() {
            if let Some(result) = self.entry.result.as_mut() {
                result.end_line = line;
            }
        }
    }

    /// A heading inside the entry that is not an experiment heading. Returns false when it ends
    /// the entry (a heading as high as the entry's own that is neither a field nor a result).
    fn sub_heading(&mut self, line: usize, level: u8, heading: &str) -> bool {
        match labels::lookup_label(heading) {
            Some(Label::Result) => {
                self.start_result(line, level);
                self.mark_content(line);
                return true;
            }
            Some(label) if label != Label::Other => {
                self.mark_content(line);
                self.start_field(label, line, "");
                self.field_from_heading = true;
                return true;
            }
            _ => {}
        }
        if level <= self.level {
            return false;
        }
        if self
            .result_level
            .is_some_and(|result_level| level <= result_level)
        {
            self.result_level = None;
        }
        self.mark_content(line);
        self.target = Target::Nothing;
        if self.result_level.is_some() {
            self.result_lines.push(heading.trim().to_string());
            self.target = Target::ResultText;
        }
        true
    }

    fn blank_line(&mut self) {
        self.after_blank = true;
    }

    fn text_line(&mut self, line: usize, content: &str) {
        self.mark_content(line);
        let paragraph_break = std::mem::take(&mut self.after_blank);
        if let Some((written, rest)) = labels::split_label(content) {
            match labels::lookup_label(written) {
                Some(Label::Result) => {
                    self.start_result(line, 7);
                    if !rest.is_empty() {
                        self.result_lines.push(rest.to_string());
                    }
                    return;
                }
                Some(Label::Other) | None if self.result_level.is_some() => {
                    self.result_lines
                        .push(labels::strip_markers(content).to_string());
                    self.target = Target::ResultText;
                    return;
                }
                Some(Label::Other) => {
                    self.target = Target::Nothing;
                    return;
                }
                Some(label) => {
                    self.start_field(label, line, rest);
                    self.field_from_heading = false;
                    return;
                }
                None => {}
            }
        }
        if let (true, false, Target::Field(label)) =
            (paragraph_break, self.field_from_heading, self.target)
        {
            let written = self.field_slot(label).as_ref();
            if written.is_some_and(|field| !field.text.is_empty()) {
                self.target = match self.result_level {
                    Some(_) => Target::ResultText,
                    None => Target::Nothing,
                };
            }
        }
        let continuation = labels::strip_markers(content);
        match self.target {
            Target::Field(label) => {
                if let Some(field) = self.field_slot(label).as_mut() {
                    if !field.text.is_empty() {
                        field.text.push(' ');
                    }
                    field.text.push_str(continuation);
                }
            }
            Target::ResultText => self.result_lines.push(continuation.to_string()),
            Target::Nothing => {}
        }
    }

    fn start_result(&mut self, line: usize, level: u8) {
        self.result_level = Some(level);
        self.target = Target::ResultText;
        match &self.entry.result {
            Some(first) => {
                let message = format!(
                    "Experiment {} has a second Result block (the first is on line {}). \
                     An entry holds one result: move these lines into the first block and \
                     delete this heading.",
                    self.entry.number, first.line
                );
                self.entry.problems.push(Problem::new(line, message));
            }
            None => {
                self.entry.result = Some(ResultBlock {
                    line,
                    end_line: line,
                    text: String::new(),
                    status: None,
                });
            }
        }
    }

    fn start_field(&mut self, label: Label, line: usize, rest: &str) {
        let new_field = Field {
            text: rest.to_string(),
            line,
        };
        if label == Label::LearningUpdate {
            if let Some(previous) = self.entry.learning.replace(new_field) {
                self.entry.earlier_learnings.push(previous);
            }
            self.target = Target::Field(Label::Learning);
            return;
        }
        let number = self.entry.number;
        let slot = self.field_slot(label);
        match slot {
            Some(existing) => {
                let message = format!(
                    "`{name}:` appears twice in Experiment {number} (lines {first} and {line}). \
                     Keep one `{name}:` line: merge this text into line {first} and delete \
                     line {line}.",
                    name = label.name(),
                    first = existing.line,
                );
                self.entry.problems.push(Problem::new(line, message));
                self.target = Target::Nothing;
            }
            None => {
                *slot = Some(new_field);
                self.target = Target::Field(label);
            }
        }
    }

    fn field_slot(&mut self, label: Label) -> &mut Option<Field> {
        let entry = &mut self.entry;
        match label {
            Label::Hypothesis => &mut entry.hypothesis,
            Label::Expected => &mut entry.expected,
            Label::InspiredBy => &mut entry.inspired_by,
            Label::Risk => &mut entry.risk,
            Label::Direction => &mut entry.direction,
            Label::Again => &mut entry.again,
            Label::Learning | Label::LearningUpdate => &mut entry.learning,
            // `Result` and `Other` never reach here: they open a result block or end a field.
            Label::Abandoned | Label::Result | Label::Other => &mut entry.abandoned,
        }
    }

    fn finish(mut self) -> Entry {
        let entry = &mut self.entry;
        for field in [
            &mut entry.hypothesis,
            &mut entry.expected,
            &mut entry.inspired_by,
            &mut entry.risk,
            &mut entry.direction,
            &mut entry.again,
            &mut entry.learning,
            &mut entry.abandoned,
        ]
        .into_iter()
        .flatten()
        {
            field.text = field.text.trim().to_string();
        }
        if let Some(result) = entry.result.as_mut() {
            result.text = self.result_lines.join("\n");
            result.status = status_of(&result.text);
        }
        self.entry
    }
}

fn finish(current: &mut Option<Builder>, log: &mut HypothesisLog) {
    if let Some(builder) = current.take() {
        log.entries.push(builder.finish());
    }
}

/// The status a result states: a `Status: keep` line, or a `· keep ·` segment.
fn status_of(text: &str) -> Option<ResultStatus> {
    let word = |word: &str| match word.trim().trim_end_matches('.').to_lowercase().as_str() {
        "keep" | "kept" => Some(ResultStatus::Keep),
        "discard" | "discarded" => Some(ResultStatus::Discard),
        "crash" | "crashed" => Some(ResultStatus::Crash),
        "timeout" | "timed out" => Some(ResultStatus::Timeout),
        _ => None,
    };
    let labelled = text.lines().find_map(|line| {
        let (label, rest) = labels::split_label(line)?;
        (labels::normalize(label) == "status")
            .then(|| word(rest))
            .flatten()
    });
    labelled.or_else(|| {
        text.lines()
            .flat_map(|line| line.split(['·', '|']))
            .find_map(word)
    })
}

fn report_unnumbered(log: &mut HypothesisLog, unnumbered: &[(usize, String, u8)]) {
    let next = log.next_number();
    for (line, heading, level) in unnumbered {
        let title = title_after_word(heading);
        let title = if title.is_empty() {
            "<short title>"
        } else {
            title
        };
        let hashes = "#".repeat(usize::from(*level));
        let message = format!(
            "heading `{hashes} {heading}` has no experiment number, so dfh cannot track it. \
             Number it: `{hashes} Experiment {next} — {title}` ({next} is the next free number).",
            heading = heading.trim(),
        );
        log.problems.push(Problem::new(*line, message));
    }
}

/// `Experiment N — Deeper head` -> `Deeper head`.
fn title_after_word(heading: &str) -> &str {
    let mut words = heading.trim().splitn(2, char::is_whitespace);
    let _experiment_word = words.next();
    let rest = words.next().unwrap_or("").trim_start();
    let rest = match rest.split_once(char::is_whitespace) {
        Some((placeholder, after))
            if ["n", "x", "nn", "#n", "?", "<n>"]
                .contains(&placeholder.to_lowercase().as_str()) =>
        {
            after
        }
        _ => rest,
    };
    rest.trim_start_matches(|character: char| "—–-:|# ".contains(character))
        .trim()
}

fn report_duplicate_numbers(log: &mut HypothesisLog) {
    let next = log.next_number();
    let mut first_lines = std::collections::BTreeMap::new();
    for entry in &log.entries {
        match first_lines.get(&entry.number) {
            None => {
                first_lines.insert(entry.number, entry.line);
            }
            Some(first) => {
                let message = format!(
                    "Experiment {number} appears twice (lines {first} and {line}). Each \
                     experiment needs its own number: renumber this heading to \
                     `## Experiment {next} — {title}`.",
                    number = entry.number,
                    line = entry.line,
                    title = entry.title,
                );
                log.problems.push(Problem::new(entry.line, message));
            }
        }
    }
}
