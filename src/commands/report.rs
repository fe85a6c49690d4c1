//! `dfh report`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use super::Context;
use crate::journal::{Event, ReportRead};
use crate::printer::Render;
use crate::project::now;
use crate::redact::redact;
use crate::report::{self, Counts, ReportOptions, Since};

/// The morning read: writes report/morning.md (the research narrative since the last read)
/// and report/index.html (one self-contained page: narrative, charts, every experiment).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Where the report starts: `last` (after the last --mark-read), a date (2026-01-31 or
    /// RFC 3339) or an experiment number (that experiment and later).
    #[arg(long, default_value = "last", value_name = "last|DATE|N")]
    since: String,
    /// The folder to write to, inside the project.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Record that this report was read: the next `--since last` report starts after it.
    #[arg(long)]
    mark_read: bool,
}

#[derive(Debug, Serialize)]
pub struct ReportView {
    pub markdown: PathBuf,
    pub html: PathBuf,
    pub since: String,
    pub first: Option<u32>,
    pub last: Option<u32>,
    pub counts: Counts,
    pub best_from: Option<f64>,
    pub best_to: Option<f64>,
    /// The experiment the read marker moved to, with --mark-read.
    pub marked_read: Option<u32>,
}

pub fn run(context: &Context, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    let since = Since::parse(&args.since)?;
    let out = report::resolve_out(&project.root, &context.dir, args.out.as_deref())?;
    let built = report::build(
        &project,
        &ReportOptions {
            since,
            noise_sigma: None,
        },
    )?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let markdown = out.join("morning.md");
    let html = out.join("index.html");
    report::refuse_link(&markdown)?;
    report::refuse_link(&html)?;
    // The page quotes hypotheses, results and diffs: no secret of the environment goes in.
    std::fs::write(&markdown, redact(&built.markdown).as_bytes())
        .with_context(|| format!("cannot write {}", markdown.display()))?;
    std::fs::write(&html, redact(&built.html).as_bytes())
        .with_context(|| format!("cannot write {}", html.display()))?;
    let narrative = built.narrative;
    let marked_read = match (args.mark_read, narrative.last) {
        (true, Some(last)) => {
            project.journal.append(&[Event::ReportRead(ReportRead {
                at: now(),
                through_experiment: last,
            })])?;
            Some(last)
        }
        _ => None,
    };
    context.printer.render(&ReportView {
        markdown,
        html,
        since: narrative.since,
        first: narrative.first,
        last: narrative.last,
        counts: narrative.counts,
        best_from: narrative.best.from,
        best_to: narrative.best.to,
        marked_read,
    });
    Ok(ExitCode::SUCCESS)
}

impl Render for ReportView {
    fn human(&self) -> String {
        let mut lines = vec![
            format!("wrote {}", self.markdown.display()),
            format!("wrote {}", self.html.display()),
            format!(
                "{}: {} experiments ({} kept, {} discarded, {} crashed, {} rejected)",
                self.since,
                self.counts.ran,
                self.counts.kept,
                self.counts.discarded,
                self.counts.crashed,
                self.counts.rejected
            ),
        ];
        if let Some(last) = self.marked_read {
            lines.push(format!(
                "marked read through experiment {last}; the next report starts at {}",
                last + 1
            ));
        }
        lines.join("\n")
    }
}
