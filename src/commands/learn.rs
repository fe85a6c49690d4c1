//! `dfh learn N TEXT`.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::Context;
use crate::method::planning;
use crate::printer::Render;

/// Write the Learning line of experiment N: what its result teaches, and why.
#[derive(Debug, Args)]
pub struct LearnArgs {
    /// The experiment number.
    number: u32,
    /// One or two sentences.
    #[arg(required = true, num_args = 1..)]
    text: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LearnView {
    pub experiment: u32,
    pub text: String,
}

pub fn run(context: &Context, args: LearnArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    let text = args.text.join(" ");
    for warning in planning::learn(&project, args.number, &text)? {
        context.printer.talk(&format!("warning: {warning}"));
    }
    context.printer.render(&LearnView {
        experiment: args.number,
        text,
    });
    Ok(ExitCode::SUCCESS)
}

impl Render for LearnView {
    fn human(&self) -> String {
        format!("learning recorded for experiment {}\nnext: `dfh status`, then plan the next experiment", self.experiment)
    }
}
