//! Writes the committed seed corpora under fuzz/seeds/ from real inputs: the shared crash
//! corpus and results.tsv logs, the test fixtures, the embedded templates and a synthetic
//! history. Run from fuzz/: `DFH_SHARED_DIR=/work/shared cargo run --example make_seeds`.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use dfh::config::{Config, MetricConfig, RunConfig};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
    let folder = Path::new("seeds").join(target);
    fs::create_dir_all(&folder)?;
    fs::write(folder.join(name), bytes)?;
    Ok(())
}

fn main() -> Result<()> {
    let root = PathBuf::from("..");
    let shared = PathBuf::from(std::env::var("DFH_SHARED_DIR").unwrap_or("/work/shared".into()));
    let gpt_train = fs::read_to_string(root.join("tests/fixtures/gpt_train.py"))?;
    let rules = fs::read_to_string(root.join("assets/templates/rules.toml"))?;

    // Hypotheses: a generated log, the entry template, and a log with results and edits.
    let history = dfh::synthetic::history(50);
    write("hypothesis", "synthetic-50.md", &history.hypotheses)?;
    write(
        "hypothesis",
        "template.md",
        dfh::hypothesis::template(1, "val_bpb"),
    )?;
    let small = dfh::synthetic::history(4);
    write("hypothesis", "synthetic-4.md", &small.hypotheses)?;

    // Journal: a synthetic history's events, one JSON object a line, and a torn copy.
    let mut journal = String::new();
    for event in &small.events {
        journal.push_str(&serde_json::to_string(event)?);
        journal.push('\n');
    }
    write("journal", "synthetic-4.jsonl", &journal)?;
    write("journal", "torn.jsonl", &journal[..journal.len() * 2 / 3])?;

    // Python sources: the GPT fixture and a file with argparse flags and a dataclass.
    write("python_source", "gpt_train.py", &gpt_train)?;
    write(
        "python_source",
        "argparse_dataclass.py",
        "import argparse\nfrom dataclasses import dataclass\n\n@dataclass\nclass GPTConfig:\n    \
         n_layer: int = 12\n    n_head: int = 6  # heads\n    dropout: float = 0.0\n\n\
         parser = argparse.ArgumentParser()\nparser.add_argument('--lr', '-l', type=float, \
         default=3e-4)\nparser.add_argument('--depth', type=int, default=8, nargs='+')\n\
         parser.add_argument('--flag', action='store_true')\nBATCH = (64, 32) if True else [1]\n\
         NAME = f\"run-{BATCH}\"\n\ndef train(x):\n    return x * 2\n",
    )?;
    write(
        "python_source",
        "diff.patch",
        "diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -10,3 +10,4 @@\n \
         DEPTH = 8\n-LR = 0.02\n+LR = 0.04\n+WARMUP = 0.1\n",
    )?;

    // Rules: the template rules and expressions, over the GPT fixture.
    write(
        "rules",
        "template-rules.toml",
        format!("{rules}\n---\n{gpt_train}"),
    )?;
    for (index, expression) in [
        "DEPTH * 64 % n_head == 0 and LR < 0.1",
        "max(BIG, 2) + len(SHAPE) // ZERO",
        "WORD in ['adamw', 'muon'] or not NOTHING",
        "SMALL - 1 < -2 ** 63 and abs(NAN) != NAN",
        "min([x for x in SHAPE]) if DEPTH else round(LR * 1e3, 2)",
    ]
    .iter()
    .enumerate()
    {
        write(
            "rules",
            &format!("expression-{index}.txt"),
            format!("{expression}\n---\n{gpt_train}"),
        )?;
    }
    write(
        "rules",
        "memory.toml",
        "[[rule]]\nname = \"heads\"\nexpr = \"n_embd % n_head == 0\"\nwhen = \"n_head > 0\"\n\
         message = \"n_embd {n_embd} is not a multiple of n_head {n_head}\"\nseverity = \"warning\"\n\n\
         [memory]\nestimate_gb = \"DEPTH * 1.5 + 2\"\nlimit_gb = 80\n",
    )?;

    // Tracebacks: every entry of the shared crash corpus.
    let corpus = fs::read_to_string(shared.join("crash-corpus/public.jsonl"))?;
    for line in corpus.lines().filter(|line| !line.trim().is_empty()) {
        let entry: serde_json::Value = serde_json::from_str(line)?;
        let id = entry["id"].as_str().unwrap_or("entry");
        let traceback = entry["traceback"].as_str().unwrap_or_default();
        write("traceback", &format!("{id}.log"), traceback)?;
    }

    // Config: the default dfh.toml and a full one.
    let run = RunConfig::default();
    let metric = MetricConfig::default();
    write(
        "config",
        "default.toml",
        dfh::config::render_default(&run, &metric),
    )?;
    write(
        "config",
        "full.toml",
        "[run]\ncommand = \"uv run train.py\"\neditable = [\"train.py\"]\nreadonly = [\"prepare.py\"]\n\
         budget = \"5m\"\ntimeout = \"1h 30m\"\n\n[metric]\nname = \"val_bpb\"\ngoal = \"minimize\"\n\
         pattern = '^val_bpb:\\s*([-+0-9.eE]+)'\nrepeats = 3\n\n[distill]\nevery = 10\n\n\
         [executor]\nkind = \"local\"\n",
    )?;
    let _ = Config::parse("", "dfh.toml");

    // TFRecord: the fixture file, its record payloads for the framed path, and JSONL events.
    let tfevents = fs::read(root.join("tests/fixtures/scalars.tfevents"))?;
    write("tfrecord", "scalars.tfevents", &tfevents)?;
    let mut payloads = Vec::new();
    let mut offset = 0;
    while offset + 12 <= tfevents.len() {
        let mut length = [0u8; 8];
        length.copy_from_slice(&tfevents[offset..offset + 8]);
        let length = u64::from_le_bytes(length) as usize;
        let start = offset + 12;
        let Some(payload) = tfevents.get(start..start + length) else {
            break;
        };
        if !payloads.is_empty() {
            payloads.extend_from_slice(b"RECORD");
        }
        payloads.extend_from_slice(payload);
        offset = start + length + 4;
    }
    write("tfrecord", "payloads.bin", &payloads)?;
    write(
        "tfrecord",
        "events.jsonl",
        "{\"series\": \"training_curves/task_loss\", \"step\": 120, \"value\": 2.31}\n\
         {\"series\": \"lr\", \"step\": 1, \"value\": \"nan\"}\n\
         {\"section\": \"eval\", \"values\": {\"pass@1\": 0.15, \"loss\": \"-inf\"}}\n{\"series\": \"torn",
    )?;

    // Results: every shared results.tsv log.
    for entry in fs::read_dir(shared.join("results-tsv"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "tsv") {
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned());
            write(
                "import_results",
                &name.unwrap_or_default(),
                fs::read(&path)?,
            )?;
        }
    }
    Ok(())
}
