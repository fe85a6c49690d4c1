//! Check (d): a memory estimate from the rules file against a limit, or against the GPU's
//! total memory read from nvidia-smi when no limit is set.

use std::process::{Command, Stdio};

use crate::python::{self, Knob, MemoryEstimate};

pub struct MemoryOutcome {
    pub estimate_gb: f64,
    pub failure: Option<String>,
    pub note: Option<String>,
}

pub fn check_memory(memory: &MemoryEstimate, knobs: &[Knob]) -> Result<MemoryOutcome, String> {
    let text = memory.estimate_gb.text().to_string();
    let value = python::evaluate_expr_text(&text, knobs).map_err(|error| {
        format!(
            "{}:{}: [memory] estimate_gb = \"{text}\" cannot be evaluated: {error}. Fix the expression to use the constants of the training files",
            memory.file, memory.line
        )
    })?;
    let Some(estimate_gb) = value.as_f64() else {
        return Err(format!(
            "{}:{}: [memory] estimate_gb = \"{text}\" gives {value}, not a number of GB",
            memory.file, memory.line
        ));
    };
    let (limit, source) = match memory.limit_gb {
        Some(limit) => (
            Some(limit),
            format!("limit_gb = {limit} in {}", memory.file),
        ),
        None => (
            gpu_total_gb(),
            "the GPU's total memory (nvidia-smi)".to_string(),
        ),
    };
    let Some(limit) = limit else {
        return Ok(MemoryOutcome {
            estimate_gb,
            failure: None,
            note: Some(format!(
                "memory estimate {estimate_gb:.1} GB not checked: set limit_gb in [memory] of {} (no GPU found by nvidia-smi)",
                memory.file
            )),
        });
    };
    let failure = (estimate_gb > limit).then(|| {
        let names: Vec<String> = memory
            .estimate_gb
            .names()
            .iter()
            .filter_map(|name| knobs.iter().rev().find(|knob| &knob.name == name))
            .map(|knob| format!("{} = {} ({})", knob.name, knob.value, knob.location()))
            .collect();
        format!(
            "estimated memory {estimate_gb:.1} GB ({text}) exceeds {limit:.1} GB, {source}. Reduce one of: {}",
            if names.is_empty() { "the constants in the estimate".to_string() } else { names.join("; ") }
        )
    });
    Ok(MemoryOutcome {
        estimate_gb,
        failure,
        note: None,
    })
}

/// Total memory of the first GPU in GB, when nvidia-smi answers.
pub fn gpu_total_gb() -> Option<f64> {
    let output = Command::new("nvidia-smi")
        .args(["--query-gpu=memory.total", "--format=csv,noheader,nounits"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let megabytes: f64 = text.lines().next()?.trim().parse().ok()?;
    Some(megabytes / 1024.0)
}
