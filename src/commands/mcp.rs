//! `dfh mcp`.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use super::Context;
use crate::mcp::{self, Setup};

/// Serve the dfh commands as Model Context Protocol tools over stdio (dfh_brief, dfh_plan,
/// dfh_check, dfh_run, dfh_learn, dfh_status, dfh_diag, dfh_crash, dfh_distill). Register it
/// with your agent as the command `dfh mcp`, started in the project.
#[derive(Debug, Args)]
pub struct McpArgs {}

pub fn run(context: &Context, _args: McpArgs) -> anyhow::Result<ExitCode> {
    let dfh = std::env::current_exe().context("cannot find the dfh binary to run tools with")?;
    let dir = std::path::absolute(&context.dir)
        .with_context(|| format!("cannot resolve {}", context.dir.display()))?;
    let setup = Setup { dfh, dir };
    let stdin = std::io::BufReader::new(std::io::stdin());
    match mcp::serve(stdin, std::io::stdout().lock(), setup) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The client went away: nothing is left to answer.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(error) => Err(error).context("the MCP connection failed"),
    }
}
