//! Deciding a failed run's class: which part of the log speaks (the last exception, what the
//! process printed after it, the chain behind it, the exit status) and in which order.

use std::collections::HashMap;

use super::advice::{memory_knob, quote, AdviceContext};
use super::location::project_location;
use super::patterns::{Pattern, PatternDb};
use super::template::one_line;
use super::traceback::{ExceptionRecord, ParsedLog};
use super::UNCLASSIFIED;
use super::{Diagnosis, ExitInfo, KnobHint, Location, PatternSource, ProjectFiles, CLASSES};

/// Classes whose evidence, printed as the log's last line after an exception, is the verdict on
/// the run: the script's own fast-fail (`FAIL`), the OOM killer (`Killed`). Anything else printed
/// after an exception (a segfault at shutdown, other ranks' watchdogs) follows from it.
const VERDICT_CLASSES: &[&str] = &["nan_inf", "oom_host"];

/// The text a pattern decided on, and the exception record it belongs to (if any).
struct Decision<'a> {
    pattern: &'a Pattern,
    text: String,
    record: Option<usize>,
}

/// Classifies a failed run's log and gives one fix.
///
/// Order of evidence: dfh's own timeout; the log's last line when it is a verdict printed after
/// the last exception line (a `FAIL` fast-fail, `Killed`); the last exception (the last one
/// wins); the end of what was printed after it; the exceptions chained behind it; the project's
/// learned patterns anywhere; the fallback for any exception; the exit signal.
pub fn diagnose(
    log: &str,
    exit: &ExitInfo,
    db: &PatternDb,
    project: &ProjectFiles,
    knobs: &[KnobHint],
) -> Diagnosis {
    let parsed = db.parser().parse(log);
    if exit.timed_out {
        return timed_out(&parsed);
    }
    if let Some(decision) = decide(&parsed, db) {
        return render(&decision, &parsed, db, project, knobs);
    }
    from_exit_status(exit, &parsed, knobs).unwrap_or_else(|| unclassified(&parsed, project))
}

fn decide<'a>(parsed: &ParsedLog, db: &'a PatternDb) -> Option<Decision<'a>> {
    let specific = |text: &str| db.best_match(text).filter(|pattern| !pattern.is_fallback());
    let decision = |pattern, text: &str, record| Decision {
        pattern,
        text: text.to_string(),
        record,
    };
    if let Some(line) = parsed.terminal_line() {
        let verdict =
            specific(line).filter(|pattern| VERDICT_CLASSES.contains(&pattern.class.as_str()));
        if let Some(pattern) = verdict {
            return Some(decision(pattern, line, None));
        }
    }
    let records = &parsed.records;
    let last = records.len().checked_sub(1);
    if let Some(last) = last {
        if let Some(pattern) = specific(&records[last].text) {
            return Some(decision(pattern, &records[last].text, Some(last)));
        }
    }
    let tail = parsed.tail_text();
    if let Some(pattern) = specific(&tail) {
        return Some(decision(pattern, &tail, None));
    }
    if let Some(last) = last {
        // A launcher's wrapper (torchrun's ChildFailedError) says nothing of the failure: any
        // earlier exception may be the child's. Otherwise only the chain behind the last counts.
        let wrapper = records[last].exception.ends_with("ChildFailedError");
        let mut index = last;
        while index > 0 && (wrapper || records[index].chained) {
            index -= 1;
            if let Some(pattern) = specific(&records[index].text) {
                return Some(decision(pattern, &records[index].text, Some(index)));
            }
        }
    }
    let everything = parsed.meaningful_text();
    if let Some(pattern) = db.best_project_match(&everything) {
        return Some(decision(pattern, &everything, None));
    }
    let last = last?;
    let pattern = db.best_match(&records[last].text)?;
    Some(decision(pattern, &records[last].text, Some(last)))
}

fn render(
    decision: &Decision,
    parsed: &ParsedLog,
    db: &PatternDb,
    project: &ProjectFiles,
    knobs: &[KnobHint],
) -> Diagnosis {
    let pattern = decision.pattern;
    let captures = pattern.regex.captures(&decision.text);
    let matched_line = captures
        .as_ref()
        .and_then(|captures| captures.get(0))
        .map_or(decision.text.as_str(), |found| {
            line_around(&decision.text, found.start())
        });
    let named: HashMap<String, String> = captures
        .as_ref()
        .map(|captures| {
            pattern
                .regex
                .capture_names()
                .flatten()
                .filter_map(|name| {
                    Some((name.to_string(), captures.name(name)?.as_str().to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let record: Option<&ExceptionRecord> = decision.record.map(|index| &parsed.records[index]);
    let location = decision
        .record
        .and_then(|index| chain_location(&parsed.records, index, project));
    let evidence = record.map_or(matched_line, |record| record.header.as_str());
    let context = AdviceContext {
        class: &pattern.class,
        matched_line,
        evidence,
        exception: record.map_or("", |record| record.exception.as_str()),
        message: record.map_or("", |record| record.message.as_str()),
        decided_text: &decision.text,
        location: location.as_ref(),
        captures: named,
        knobs,
        extractors: db.extractors(),
    };
    let cause = pattern.cause.render(|name| context.value(name));
    let fix = pattern.fix.render(|name| context.value(name));
    Diagnosis {
        class: pattern.class.clone(),
        cause,
        evidence: quote(evidence),
        location,
        fix,
        pattern_source: pattern.source,
    }
}

fn line_around(text: &str, byte: usize) -> &str {
    let start = text[..byte].rfind('\n').map_or(0, |newline| newline + 1);
    let end = text[byte..]
        .find('\n')
        .map_or(text.len(), |newline| byte + newline);
    &text[start..end]
}

/// The deepest project frame of the record's traceback, or of the exceptions chained behind it.
fn chain_location(
    records: &[ExceptionRecord],
    index: usize,
    project: &ProjectFiles,
) -> Option<Location> {
    let mut index = index;
    loop {
        if let Some(location) = project_location(&records[index].frames, project) {
            return Some(location);
        }
        if index == 0 || !records[index].chained {
            return None;
        }
        index -= 1;
    }
}

/// The line that best stands for the log: the last exception, else its last meaningful line.
fn last_words(parsed: &ParsedLog) -> String {
    if let Some(line) = parsed.terminal_line() {
        return quote(line);
    }
    parsed
        .records
        .last()
        .map_or_else(|| "(no output)".to_string(), |record| quote(&record.header))
}

fn timed_out(parsed: &ParsedLog) -> Diagnosis {
    let evidence = last_words(parsed);
    Diagnosis {
        class: "timeout".to_string(),
        cause: one_line(&format!(
            "dfh's timeout stopped the run; its last line: {evidence}"
        )),
        evidence,
        location: None,
        fix: "Make the training loop stop once DFH_BUDGET_SECONDS have passed, or revert the \
              change that slowed each step."
            .to_string(),
        pattern_source: PatternSource::ExitStatus,
    }
}

fn from_exit_status(exit: &ExitInfo, parsed: &ParsedLog, knobs: &[KnobHint]) -> Option<Diagnosis> {
    // A shell reports a signal as 128 + N; Python's subprocess as -N.
    let signal = exit.signal.or_else(|| match exit.code? {
        code if (129..160).contains(&code) => Some(code - 128),
        code if code < 0 => Some(-code),
        _ => None,
    })?;
    let (class, cause, fix) = match signal {
        libc_signal::KILL => (
            "oom_host",
            "The process was killed by SIGKILL without a traceback: on Linux that is most often \
             the kernel's OOM killer (host memory ran out)."
                .to_string(),
            format!("Cut host memory use: {}.", memory_knob(knobs)),
        ),
        libc_signal::SEGV => (
            "other",
            "The process died of a segmentation fault (SIGSEGV) in native code.".to_string(),
            "Revert the change and try a different idea; a crash in native code is rarely worth \
             debugging inside an experiment."
                .to_string(),
        ),
        signal => (
            "other",
            format!("The process was killed by signal {signal} without a traceback."),
            "Revert the change and try a different idea; if the signal came from outside (a \
             scheduler, a person), rerun the experiment once."
                .to_string(),
        ),
    };
    let mut evidence = format!("exit by signal {signal}");
    if let Some(line) = parsed.terminal_line() {
        evidence = format!("{evidence}; last line: {}", quote(line));
    }
    Some(Diagnosis {
        class: class.to_string(),
        cause,
        evidence,
        location: None,
        fix,
        pattern_source: PatternSource::ExitStatus,
    })
}

/// Signal numbers (Linux), kept here so the module needs no libc binding.
mod libc_signal {
    pub(super) const KILL: i32 = 9;
    pub(super) const SEGV: i32 = 11;
}

fn unclassified(parsed: &ParsedLog, project: &ProjectFiles) -> Diagnosis {
    let evidence = last_words(parsed);
    let location = parsed
        .records
        .len()
        .checked_sub(1)
        .and_then(|last| chain_location(&parsed.records, last, project));
    Diagnosis {
        class: UNCLASSIFIED.to_string(),
        cause: one_line(&format!("No known failure pattern matches: {evidence}")),
        evidence,
        location,
        fix: format!(
            "dfh does not know this failure yet: fix it by hand or revert; once you know the fix, \
             teach it: dfh crash learn --class C --pattern RE --fix TEXT --from N (C is one of: {})",
            CLASSES.join(", ")
        ),
        pattern_source: PatternSource::None,
    }
}
