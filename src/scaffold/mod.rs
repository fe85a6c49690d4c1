//! `dfh init`: the layout of a harnessed project, written into an existing repository.
//! Nothing that exists is ever overwritten; what was kept is reported.

pub mod detect;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::{self, Config, Goal, MetricConfig, RunConfig};
use crate::import::{
    import_results, GoalHint, ImportOptions, ImportReport, ImportedStatus, SkippedLine,
};
use crate::journal::{Event, Imported, Initialized, ReadonlyAccepted};
use crate::lock::ProjectLock;
use crate::pipeline::preflight::hash_files;
use crate::project::{now, paths, Project, ProjectError};
use crate::vcs::Git;

/// Values given on the command line; each replaces what detection would find.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    pub command: Option<String>,
    pub metric: Option<String>,
    pub pattern: Option<String>,
    pub goal: Option<Goal>,
    pub editable: Vec<String>,
    pub readonly: Vec<String>,
}

/// What was imported from a results.tsv that existed before `dfh init`.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub rows: usize,
    pub metric_column: String,
    /// The original file, kept byte for byte.
    pub original: String,
    pub skipped: Vec<SkippedLine>,
    pub duplicates: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub root: PathBuf,
    pub created: Vec<String>,
    pub kept: Vec<String>,
    pub command: String,
    pub metric: String,
    pub goal: Goal,
    pub editable: Vec<String>,
    pub readonly: Vec<String>,
    /// Read-only files whose new content was accepted on a second `dfh init`.
    pub accepted: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<ImportSummary>,
    pub warnings: Vec<String>,
}

pub fn init(dir: &Path, options: &InitOptions) -> Result<InitReport> {
    let root = Git::discover(dir).ok_or_else(|| ProjectError::NotGit(dir.display().to_string()))?;
    std::fs::create_dir_all(root.join(paths::DFH_DIR))
        .with_context(|| format!("cannot create {}", root.join(paths::DFH_DIR).display()))?;
    let _lock = ProjectLock::acquire(&root.join(paths::LOCK), "dfh init")?;
    let mut report = InitReport {
        root: root.clone(),
        created: Vec::new(),
        kept: Vec::new(),
        command: String::new(),
        metric: String::new(),
        goal: Goal::Minimize,
        editable: Vec::new(),
        readonly: Vec::new(),
        accepted: Vec::new(),
        imported: None,
        warnings: Vec::new(),
    };
    let previous = read_previous_results(&root, options)?;

    let config_path = root.join(config::FILE_NAME);
    let config = if config_path.exists() {
        report.kept.push(config::FILE_NAME.into());
        Config::load(&config_path)?
    } else {
        let hint = previous.as_ref().map(|(_, found)| found);
        let config = configure(&root, options, hint, &mut report.warnings);
        let text = config::render_default(&config.run, &config.metric);
        // The rendered file must read back as the same configuration.
        Config::parse(&text, config::FILE_NAME)?;
        write_new(&root, config::FILE_NAME, &text, &mut report)?;
        config
    };
    report.command = config.run.command.clone();
    report.metric = config.metric.name.clone();
    report.goal = config.metric.goal;
    report.editable = config.run.editable.clone();
    report.readonly = config.run.readonly.clone();
    for file in config.run.editable.iter().chain(&config.run.readonly) {
        if !root.join(file).exists() {
            report.warnings.push(format!(
                "{file} is listed in dfh.toml but does not exist; create it or fix [run] in dfh.toml"
            ));
        }
    }

    for (path, text) in templates(&config) {
        let text = if path == paths::RULES {
            text + &rules_for(&root, &config)
        } else {
            text
        };
        write_new(&root, path, &text, &mut report)?;
    }
    let helper = diag_helper_path(&config);
    write_new(&root, &helper, crate::diagnostics::DFH_DIAG_PY, &mut report)?;
    std::fs::create_dir_all(root.join(paths::LOGS))?;
    std::fs::create_dir_all(root.join(paths::METRICS))?;
    exclude(&root)?;

    let project = Project::with_config(root.clone(), config);
    record_init(&project, &mut report)?;
    if let Some((bytes, _)) = previous {
        report.imported = Some(import_previous(&project, options, &bytes)?);
    }
    if !root.join(paths::RESULTS).exists() {
        std::fs::write(
            root.join(paths::RESULTS),
            crate::results::header(&project.config.metric.name),
        )?;
        report.created.push(paths::RESULTS.into());
    }
    if project.git.head_commit()?.is_none() {
        report.warnings.push(
            "the repository has no commit yet; commit your training script (`git add -A && git commit -m initial`) before `dfh run`".into(),
        );
    }
    Ok(report)
}

/// Builds the configuration from detection and flags.
fn configure(
    root: &Path,
    options: &InitOptions,
    previous: Option<&ImportReport>,
    warnings: &mut Vec<String>,
) -> Config {
    let detected = detect::detect(root);
    let run = RunConfig {
        command: options.command.clone().unwrap_or(detected.command),
        editable: if options.editable.is_empty() {
            vec![detected.training_file.unwrap_or_else(|| "train.py".into())]
        } else {
            options.editable.clone()
        },
        readonly: if options.readonly.is_empty() {
            detected.readonly
        } else {
            options.readonly.clone()
        },
        ..RunConfig::default()
    };
    let mut metric = MetricConfig::default();
    match (&options.metric, detected.metric) {
        (Some(name), _) => {
            metric.name = name.clone();
            metric.goal = detect::goal_of(&name.to_ascii_lowercase()).unwrap_or(Goal::Minimize);
        }
        (None, Some((name, goal))) => {
            metric.name = name;
            metric.goal = goal;
        }
        (None, None) if previous.is_some_and(|report| report.has_header) => {
            if let Some(report) = previous {
                metric.name = report.metric.clone();
                metric.goal = match report.goal_hint {
                    Some(GoalHint::Maximize) => Goal::Maximize,
                    _ => Goal::Minimize,
                };
            }
        }
        (None, None) => warnings.push(
            "no metric print (`print(f\"val_bpb: {...}\")`) found in the training files; assumed val_bpb (lower is better). Set [metric] name in dfh.toml or pass --metric".into(),
        ),
    }
    if let Some(goal) = options.goal {
        metric.goal = goal;
    }
    if let Some(pattern) = &options.pattern {
        metric.pattern = pattern.clone();
    }
    Config {
        run,
        metric,
        ..Config::default()
    }
}

fn templates(config: &Config) -> Vec<(&'static str, String)> {
    let list = |items: &[String]| {
        if items.is_empty() {
            "(none)".to_string()
        } else {
            items
                .iter()
                .map(|item| format!("`{item}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let fill = |text: &str| {
        text.replace("{metric}", &config.metric.name)
            .replace(
                "{goal_word}",
                match config.metric.goal {
                    Goal::Minimize => "minimize",
                    Goal::Maximize => "maximize",
                },
            )
            .replace("{command}", &config.run.command)
            .replace("{editable}", &list(&config.run.editable))
            .replace("{readonly}", &list(&config.run.readonly))
            .replace("{budget}", &config.run.budget)
    };
    vec![
        (
            paths::PROGRAM,
            fill(include_str!("../../assets/templates/program.md")),
        ),
        (
            paths::ARCHITECTURE,
            fill(include_str!("../../assets/templates/architecture.md")),
        ),
        (
            paths::CONSTRAINTS,
            fill(include_str!("../../assets/templates/constraints.md")),
        ),
        (
            paths::STRATEGY,
            fill(include_str!("../../assets/templates/strategy.md")),
        ),
        (
            paths::HYPOTHESES,
            fill(include_str!("../../assets/templates/hypotheses.md")),
        ),
        (
            "docs/papers/README.md",
            include_str!("../../assets/templates/papers-README.md").into(),
        ),
        (
            paths::RULES,
            include_str!("../../assets/templates/rules.toml").into(),
        ),
        (
            paths::FAILURES,
            include_str!("../../assets/templates/failures.toml").into(),
        ),
    ]
}

/// dfh_diag.py goes next to the training script, so `import dfh_diag` works from it.
fn diag_helper_path(config: &Config) -> String {
    let script = config
        .run
        .editable
        .first()
        .map(String::as_str)
        .unwrap_or("train.py");
    match Path::new(script)
        .parent()
        .and_then(|parent| parent.to_str())
    {
        Some(parent) if !parent.is_empty() => format!("{parent}/{}", paths::DIAG_HELPER),
        _ => paths::DIAG_HELPER.to_string(),
    }
}

/// Real rules for the constants this project has: autoresearch's batch-size arithmetic,
/// nanoGPT's head divisibility.
fn rules_for(root: &Path, config: &Config) -> String {
    let mut knobs = Vec::new();
    for file in config.run.readonly.iter().chain(&config.run.editable) {
        if let Ok(source) = std::fs::read_to_string(root.join(file)) {
            knobs.extend(crate::python::parse_knobs(file, &source));
        }
    }
    let has = |name: &str| knobs.iter().any(|knob| knob.name == name);
    let mut text = String::new();
    let mut rule = |name: &str, expr: &str, message: &str| {
        text.push_str(&format!(
            "\n[[rule]]\nname = \"{name}\"\nexpr = \"{expr}\"\nmessage = \"{message}\"\n"
        ));
    };
    // Name only knobs an experiment may change in the fix.
    let editable = |name: &str| {
        knobs
            .iter()
            .rev()
            .find(|knob| knob.name == name)
            .is_some_and(|knob| config.run.editable.contains(&knob.file))
    };
    let update = |names: &[&str]| {
        let places: Vec<String> = names
            .iter()
            .filter(|name| editable(name))
            .map(|name| format!("{name} on {{line:{name}}}"))
            .collect();
        if places.is_empty() {
            "Change the constants it names.".to_string()
        } else {
            format!("Update {}.", places.join(" or "))
        }
    };
    if has("TOTAL_BATCH_SIZE") && has("DEVICE_BATCH_SIZE") && has("MAX_SEQ_LEN") {
        rule(
            "batch-divides",
            "TOTAL_BATCH_SIZE % (DEVICE_BATCH_SIZE * MAX_SEQ_LEN) == 0",
            &format!(
                "TOTAL_BATCH_SIZE is {{TOTAL_BATCH_SIZE}} but must be a multiple of DEVICE_BATCH_SIZE * MAX_SEQ_LEN = {{DEVICE_BATCH_SIZE * MAX_SEQ_LEN}}. {}",
                update(&["DEVICE_BATCH_SIZE", "TOTAL_BATCH_SIZE"])
            ),
        );
    }
    for (embedding, heads) in [
        ("n_embd", "n_head"),
        ("N_EMBD", "N_HEAD"),
        ("MODEL_DIM", "NUM_HEADS"),
    ] {
        if has(embedding) && has(heads) {
            rule(
                "heads-divide-width",
                &format!("{embedding} % {heads} == 0"),
                &format!(
                    "{embedding} is {{{embedding}}} but must be divisible by {heads} = {{{heads}}} (the head size {embedding} / {heads} must be whole). {}",
                    update(&[embedding, heads])
                ),
            );
        }
    }
    if text.is_empty() {
        text
    } else {
        format!("\n# Rules for this project's constants, written by `dfh init`.{text}")
    }
}

/// Writes `relative` only when it does not exist; reports which.
fn write_new(root: &Path, relative: &str, text: &str, report: &mut InitReport) -> Result<()> {
    let path = root.join(relative);
    if path.exists() {
        report.kept.push(relative.into());
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    report.created.push(relative.into());
    Ok(())
}

/// results.tsv, metrics/ and .dfh/ stay out of git, through .git/info/exclude.
fn exclude(root: &Path) -> Result<()> {
    let git_dir = Git::new(root).git_dir()?;
    let path = git_dir.join("info/exclude");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let missing: Vec<&str> = ["/results.tsv", "/metrics/", "/.dfh/", "/report/"]
        .into_iter()
        .filter(|entry| !existing.lines().any(|line| line.trim() == *entry))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(git_dir.join("info"))?;
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# dfh\n");
    for entry in missing {
        text.push_str(entry);
        text.push('\n');
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// An existing results.tsv that dfh did not write, read before anything changes.
fn read_previous_results(
    root: &Path,
    options: &InitOptions,
) -> Result<Option<(Vec<u8>, ImportReport)>> {
    let path = root.join(paths::RESULTS);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(None);
    };
    let journal = crate::journal::Journal::new(root.join(paths::JOURNAL));
    let already = journal
        .load()?
        .events
        .iter()
        .any(|event| matches!(event, Event::Initialized(_)));
    if already || bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let header_only = String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .count()
        <= 1;
    if header_only {
        return Ok(None);
    }
    let import_options = ImportOptions {
        metric: options.metric.clone(),
    };
    let report = import_results(&bytes, &import_options)
        .map_err(|error| anyhow::anyhow!("results.tsv: {error}"))?;
    Ok(Some((bytes, report)))
}

/// Imports the rows as experiments 1..n, keeping the original byte for byte.
fn import_previous(
    project: &Project,
    options: &InitOptions,
    bytes: &[u8],
) -> Result<ImportSummary> {
    let original = format!("{}/results.tsv", paths::IMPORTED);
    std::fs::create_dir_all(project.path(paths::IMPORTED))?;
    if !project.path(&original).exists() {
        std::fs::write(project.path(&original), bytes)
            .with_context(|| format!("cannot keep a copy of results.tsv at {original}"))?;
    }
    // Read the configured metric's column when the file has it, else let the importer choose.
    let configured = ImportOptions {
        metric: Some(
            options
                .metric
                .clone()
                .unwrap_or_else(|| project.config.metric.name.clone()),
        ),
    };
    let report = match import_results(bytes, &configured) {
        Ok(report) => report,
        Err(_) => import_results(
            bytes,
            &ImportOptions {
                metric: options.metric.clone(),
            },
        )
        .map_err(|error| anyhow::anyhow!("results.tsv: {error}"))?,
    };
    let at = now();
    let mut events = Vec::with_capacity(report.rows.len());
    let mut rows = Vec::with_capacity(report.rows.len());
    for (index, row) in report.rows.iter().enumerate() {
        let status = match &row.status {
            ImportedStatus::Keep => "keep".to_string(),
            ImportedStatus::Discard => "discard".to_string(),
            ImportedStatus::Crash => "crash".to_string(),
            ImportedStatus::Timeout => "timeout".to_string(),
            ImportedStatus::Other(text) => text.clone(),
        };
        rows.push((index as u32 + 1, status.clone(), row));
        events.push(Event::Imported(Imported {
            at: at.clone(),
            experiment: index as u32 + 1,
            commit: row.commit.clone(),
            value: row.value,
            status,
            description: row.description.clone(),
            memory_gb: row.memory_gb,
            seconds: row.seconds,
        }));
    }
    project.journal.append(&events)?;
    let results_rows: Vec<crate::results::Row<'_>> = rows
        .iter()
        .map(|(number, status, row)| crate::results::Row {
            commit: row.commit.as_deref().unwrap_or(""),
            value: row.value,
            memory_gb: row.memory_gb,
            status,
            description: &row.description,
            experiment: *number,
            direction: "",
            seconds: row.seconds,
        })
        .collect();
    let path = project.path(paths::RESULTS);
    let temporary = project.path(".dfh/results.tsv.new");
    let _ = std::fs::remove_file(&temporary);
    crate::results::append(&temporary, &project.config.metric.name, &results_rows)?;
    std::fs::rename(&temporary, &path).context("cannot replace results.tsv")?;
    Ok(ImportSummary {
        rows: report.rows.len(),
        metric_column: report.metric,
        original,
        skipped: report.skipped,
        duplicates: report.duplicates,
    })
}

/// Journals `initialized` once; later inits accept changed read-only files.
fn record_init(project: &Project, report: &mut InitReport) -> Result<()> {
    let (state, _) = project.load()?;
    let hashes = hash_files(&project.root, &project.config.run.readonly);
    match &state.initialized {
        None => {
            let branch = project.git.current_branch()?.unwrap_or_default();
            let base_commit = project.git.head_commit()?.unwrap_or_default();
            project.journal.append(&[Event::Initialized(Initialized {
                at: now(),
                branch,
                base_commit,
                editable: project.config.run.editable.clone(),
                readonly_hashes: hashes,
            })])?;
        }
        Some(_) if hashes != state.readonly_hashes => {
            report.accepted = hashes
                .iter()
                .filter(|(file, hash)| state.readonly_hashes.get(*file) != Some(*hash))
                .map(|(file, _)| file.clone())
                .collect();
            project
                .journal
                .append(&[Event::ReadonlyAccepted(ReadonlyAccepted {
                    at: now(),
                    readonly_hashes: hashes,
                })])?;
        }
        Some(_) => {}
    }
    Ok(())
}
