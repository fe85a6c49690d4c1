//! In-process figures: the journal fold and its snapshot, hypotheses.md, the brief's own
//! work, the crash advisor over the public corpus, and the plain loop's token count.

use std::path::Path;
use std::time::Instant;

use dfh::brief::{self, tokens, Input};
use dfh::config::Config;
use dfh::journal::{Journal, Phase, State};

use super::measure::{self, ms, thousands, Runner};

pub fn journal(dir: &Path) -> String {
    let journal = Journal::new(dir.join(".dfh/journal.jsonl"));
    let snapshot = dir.join(".dfh/state.snapshot");
    let journal_bytes = std::fs::metadata(journal.path()).map_or(0, |meta| meta.len());
    let full = measure::in_process(9, || {
        let loaded = journal.load().unwrap();
        std::hint::black_box(State::fold(&loaded.events));
    });
    let _ = std::fs::remove_file(&snapshot);
    let write = measure::in_process(1, || {
        std::hint::black_box(journal.fold(&snapshot).unwrap());
    });
    let snapshot_bytes = std::fs::metadata(&snapshot).map_or(0, |meta| meta.len());
    let mut from_snapshot = true;
    let cached = measure::in_process(9, || {
        let folded = journal.fold(&snapshot).unwrap();
        from_snapshot &= folded.from_snapshot;
        std::hint::black_box(folded);
    });
    assert!(from_snapshot, "the snapshot was not used");
    let outline = measure::in_process(9, || {
        let folded = journal.fold_outline(&snapshot).unwrap();
        from_snapshot &= folded.from_snapshot;
        std::hint::black_box(folded);
    });
    assert!(from_snapshot, "the outline was not used");
    let run_view = measure::in_process(9, || {
        let folded = journal.fold_run(&snapshot).unwrap();
        from_snapshot &= folded.from_snapshot;
        std::hint::black_box(folded);
    });
    assert!(from_snapshot, "the run view was not used");
    format!(
        "10,000 experiments: a {:.1} MB journal of {} lines; `.dfh/state.snapshot` {:.1} MB \
         (bincode of the folded state, of its outline — every experiment with only the fields \
         `dfh status` reads — and of its run view — the outline plus what `dfh run` reads of every \
         experiment, and the best and unsettled experiments whole —, checked against the \
         journal's first and last 4 KiB before its offset).\n\n| figure | measured |\n|---|---:|\n\
         | read and fold the whole journal, median of 9 | {} |\n\
         | first load: full fold and snapshot write | {} |\n\
         | load from the snapshot (+ empty tail), median of 9 | {} |\n\
         | load the outline only (`dfh status`), median of 9 | {} |\n\
         | load the run view (`dfh run`), median of 9 | {} |\n\n\
         Every command that reads the state (`brief`, `plan`, `show`, ...) pays the \
         whole-state line, `dfh status` the outline's, `dfh run` the run view's; the snapshot is rewritten once the tail \
         after it passes 64 KiB (about 50 experiments), so the tail costs at most about a \
         millisecond more.\n",
        journal_bytes as f64 / 1e6,
        thousands(std::fs::read(journal.path()).map_or(0, |bytes| {
            bytes.iter().filter(|byte| **byte == b'\n').count()
        })),
        snapshot_bytes as f64 / 1e6,
        ms(full.median),
        ms(write.median),
        ms(cached.median),
        ms(outline.median),
        ms(run_view.median),
    )
}

pub fn figures(dir: &Path) -> String {
    // In a fresh process: this one loaded the tokenizer for the token table already.
    let loads: Vec<std::time::Duration> = (0..5)
        .map(|_| {
            let mut command = std::process::Command::new(std::env::current_exe().unwrap());
            command.arg("--tokenizer-only");
            let nanos: u64 = measure::sample(command, None)
                .stdout
                .trim()
                .parse()
                .unwrap();
            std::time::Duration::from_nanos(nanos)
        })
        .collect();
    let tokenizer = measure::Figure::from_durations(loads).median;
    tokens::load().unwrap();
    let hypotheses = dfh::synthetic::history(10_000).hypotheses;
    let mut entries = 0;
    let parse = measure::in_process(9, || {
        entries = dfh::hypothesis::parse(&hypotheses).entries.len();
    });
    let config = Config::load(&dir.join("dfh.toml")).unwrap();
    let loaded = Journal::new(dir.join(".dfh/journal.jsonl")).load().unwrap();
    let state = State::fold(&loaded.events);
    let strategy = std::fs::read_to_string(dir.join("docs/strategy.md")).ok();
    let build = measure::in_process(9, || {
        let input = Input {
            state: &state,
            config: &config,
            strategy: strategy.as_deref(),
            noise_sigma: None,
        };
        std::hint::black_box(brief::build(&input, config.brief.tokens).unwrap());
    });
    format!(
        "| figure | measured | target |\n|---|---:|---:|\n\
         | tokenizer load (o200k_base, once per process, fresh process, median of 5) | {} | reported apart |\n\
         | `dfh brief`'s own work at 10,000 experiments (statistics, sections, budget), tokenizer loaded, median of 9 | {} | ≤ 30 ms |\n\
         | parse hypotheses.md of {} entries ({:.1} MB), median of 9 | {} | ≤ 100 ms |\n\n\
         `dfh brief` loads the tokenizer on a second thread while the state loads, so a process \
         pays about the larger of the two.\n",
        ms(tokenizer),
        ms(build.median),
        thousands(entries),
        hypotheses.len() as f64 / 1e6,
        ms(parse.median),
    )
}

#[derive(serde::Deserialize)]
struct CorpusEntry {
    class: String,
    traceback: String,
}

pub fn crash_corpus(runner: &Runner, scratch: &Path) -> String {
    let shared = std::env::var_os("DFH_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let path = shared.join("crash-corpus/public.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return format!(
            "Skipped: no corpus at {} (set DFH_SHARED_DIR).\n",
            path.display()
        );
    };
    let entries: Vec<CorpusEntry> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let start = Instant::now();
    let database = dfh::crash::PatternDb::builtin().unwrap();
    let compile = start.elapsed();
    let exit = dfh::crash::ExitInfo {
        code: Some(1),
        ..Default::default()
    };
    let files = dfh::crash::ProjectFiles::default();
    let mut correct = 0;
    let mut durations = Vec::new();
    for entry in &entries {
        let start = Instant::now();
        let diagnosis = dfh::crash::diagnose(&entry.traceback, &exit, &database, &files, &[]);
        durations.push(start.elapsed());
        correct += usize::from(diagnosis.class == entry.class);
    }
    let per = measure::Figure::from_durations(durations);
    let dir = super::projects::synthetic(runner, &scratch.join("crash"), 0);
    let input = entries[0].traceback.as_bytes();
    let whole: Vec<_> = (0..9)
        .map(|_| {
            measure::sample(
                runner.command(&dir, &runner.dfh, &["crash", "-"]),
                Some(input),
            )
        })
        .collect();
    let whole = measure::Figure::of(&whole);
    format!(
        "The public corpus (`crash-corpus/public.jsonl`, {} real tracebacks with labelled \
         classes), built-in patterns.\n\n| figure | measured | target |\n|---|---:|---:|\n\
         | classification per traceback, median (max {}) | {} | ≤ 1 ms |\n\
         | top-1 accuracy | {correct}/{} = {:.1} % | |\n\
         | compiling the built-in patterns (once per process) | {} | |\n\
         | `dfh crash -` with one traceback on stdin, whole process, median of 9 | {} ({}) | |\n",
        entries.len(),
        ms(per.max),
        ms(per.median),
        entries.len(),
        100.0 * correct as f64 / entries.len().max(1) as f64,
        ms(compile),
        ms(whole.median),
        measure::mb(whole.peak_kb),
    )
}

/// Tokens of what a plain loop makes the agent read: results.tsv and the kept commits' log.
pub fn plain_loop_tokens(dir: &Path) -> usize {
    let loaded = Journal::new(dir.join(".dfh/journal.jsonl")).load().unwrap();
    let state = State::fold(&loaded.events);
    let mut text = dfh::results::header("val_bpb");
    let mut log = Vec::new();
    for experiment in state.finished() {
        let commit = experiment.commit.clone().unwrap_or_default();
        text.push_str(&dfh::results::render(&dfh::results::Row {
            commit: &commit,
            value: experiment.value,
            memory_gb: experiment.memory_gb,
            status: experiment.phase.label(),
            description: &experiment.title,
            experiment: experiment.number,
            direction: experiment.direction().unwrap_or_default(),
            seconds: experiment.seconds,
        }));
        if experiment.phase == Phase::Done(dfh::journal::Outcome::Keep) {
            log.push(format!(
                "{} exp {}: {}",
                &commit[..7.min(commit.len())],
                experiment.number,
                experiment.title
            ));
        }
    }
    log.push("0000000 initial".into());
    log.reverse();
    text.push_str(&log.join("\n"));
    tokens::count(&text).unwrap()
}
