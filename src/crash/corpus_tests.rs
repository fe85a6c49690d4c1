//! The advisor against the public crash corpus (real tracebacks with labelled classes), and the
//! behaviours a user relies on: last exception wins, noise ignored, exit-status fallbacks,
//! project frames, knob-naming fixes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use super::*;

fn shared_dir() -> PathBuf {
    std::env::var_os("DFH_SHARED_DIR")
        .map(Into::into)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

#[derive(serde::Deserialize)]
struct CorpusEntry {
    id: String,
    class: String,
    traceback: String,
}

fn corpus() -> Vec<CorpusEntry> {
    let path = shared_dir().join("crash-corpus/public.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The built-in database, compiled once for all tests (compiling it is slow in debug builds).
pub(super) fn builtin_database() -> &'static PatternDb {
    static DATABASE: std::sync::OnceLock<PatternDb> = std::sync::OnceLock::new();
    DATABASE.get_or_init(|| PatternDb::builtin().unwrap())
}

fn crashed() -> ExitInfo {
    ExitInfo {
        code: Some(1),
        ..ExitInfo::default()
    }
}

fn classify(log: &str) -> Diagnosis {
    let database = builtin_database();
    diagnose(log, &crashed(), database, &ProjectFiles::default(), &[])
}

#[test]
fn public_corpus_top1_accuracy_is_at_least_90_percent() {
    let database = builtin_database();
    let entries = corpus();
    assert!(entries.len() >= 90, "corpus has {} entries", entries.len());
    let mut per_class: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut correct = 0;
    let mut durations = Vec::new();
    for entry in &entries {
        let started = Instant::now();
        let diagnosis = diagnose(
            &entry.traceback,
            &crashed(),
            database,
            &ProjectFiles::default(),
            &[],
        );
        durations.push(started.elapsed());
        let tally = per_class.entry(&entry.class).or_default();
        tally.1 += 1;
        if diagnosis.class == entry.class {
            correct += 1;
            tally.0 += 1;
        } else {
            eprintln!(
                "MISS {}: got {} ({})",
                entry.id, diagnosis.class, diagnosis.evidence
            );
        }
    }
    for (class, (right, total)) in &per_class {
        eprintln!("{class:<26} {right}/{total}");
    }
    durations.sort();
    let accuracy = correct as f64 / entries.len() as f64;
    eprintln!(
        "top-1 accuracy {correct}/{} = {:.1}%; median diagnose time {:?} (max {:?})",
        entries.len(),
        accuracy * 100.0,
        durations[durations.len() / 2],
        durations[durations.len() - 1]
    );
    assert!(
        accuracy >= 0.90,
        "top-1 accuracy {accuracy:.3} is below 0.90"
    );
}

const OOM_TRACEBACK: &str = r#"Traceback (most recent call last):
  File "/home/me/proj/train.py", line 300, in <module>
    loss = model(x, y)
  File "/home/me/proj/train.py", line 120, in forward
    att = q @ k.transpose(-2, -1)
  File "/opt/conda/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1511, in _call_impl
    return forward_call(*args, **kwargs)
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.1 GiB of which 1.2 GiB is free.
"#;

#[test]
fn chained_exceptions_resolve_to_the_cause_behind_a_generic_wrapper() {
    let log = "Traceback (most recent call last):\n  File \"train.py\", line 9, in step\n    out = layer(x)\nRuntimeError: mat1 and mat2 shapes cannot be multiplied (4x768 and 512x512)\n\nThe above exception was the direct cause of the following exception:\n\nTraceback (most recent call last):\n  File \"train.py\", line 20, in <module>\n    run()\n  File \"train.py\", line 15, in run\n    raise TrainingFailed('step failed') from error\nTrainingFailed: step failed\n";
    let diagnosis = classify(log);
    assert_eq!(diagnosis.class, "shape_mismatch");
    let location = diagnosis.location.unwrap();
    assert_eq!((location.file.as_str(), location.line), ("train.py", 9));
}

#[test]
fn in_a_chain_the_last_specific_exception_wins() {
    let log = "Traceback (most recent call last):\n  File \"train.py\", line 3, in <module>\n    x = cache['k']\nKeyError: 'k'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"train.py\", line 5, in <module>\n    x = torch.load('ckpt.pt')\nFileNotFoundError: [Errno 2] No such file or directory: 'ckpt.pt'\n";
    let diagnosis = classify(log);
    assert_eq!(diagnosis.class, "file_not_found");
    assert_eq!(
        diagnosis.evidence,
        "FileNotFoundError: [Errno 2] No such file or directory: 'ckpt.pt'"
    );
    assert_eq!(diagnosis.location.unwrap().line, 5);
}

#[test]
fn the_last_of_several_tracebacks_wins() {
    let log = format!(
        "Traceback (most recent call last):\n  File \"eval.py\", line 4, in <module>\n    import wandb\nModuleNotFoundError: No module named 'wandb'\nwandb disabled, continuing\nstep 1 loss 3.2\n{OOM_TRACEBACK}"
    );
    assert_eq!(classify(&log).class, "oom_gpu");
}

#[test]
fn noise_lines_never_decide() {
    let log = format!(
        "{OOM_TRACEBACK}/x/torch/utils/checkpoint.py:61: UserWarning: None of the inputs have requires_grad=True. Gradients will be None\n  warnings.warn(\nnanobind: leaked 12 instances!\n/x/y.py:3: FutureWarning: `torch.cuda.amp.GradScaler(args...)` is deprecated; NameError soon\n"
    );
    let diagnosis = classify(&log);
    assert_eq!(diagnosis.class, "oom_gpu");
    assert!(diagnosis.evidence.starts_with("torch.OutOfMemoryError"));
    let only_noise =
        "/x.py:1: DeprecationWarning: old api: index out of range\nnanobind: leaked 3 types!\n";
    assert_eq!(classify(only_noise).class, UNCLASSIFIED);
}

#[test]
fn killed_without_traceback_is_host_oom() {
    let log = "step 120 loss 2.91\nstep 121 loss 2.90\nKilled\n";
    let diagnosis = classify(log);
    assert_eq!(diagnosis.class, "oom_host");
    assert_eq!(diagnosis.pattern_source, PatternSource::Builtin);
    let by_signal = diagnose(
        "step 1 loss 2.0\n",
        &ExitInfo {
            code: None,
            signal: Some(9),
            timed_out: false,
        },
        builtin_database(),
        &ProjectFiles::default(),
        &[],
    );
    assert_eq!(by_signal.class, "oom_host");
    assert_eq!(by_signal.pattern_source, PatternSource::ExitStatus);
    let segfault = classify("step 1\nSegmentation fault (core dumped)\n");
    assert_eq!(segfault.class, "other");
}

#[test]
fn the_timeout_flag_means_timeout() {
    let exit = ExitInfo {
        code: None,
        signal: Some(15),
        timed_out: true,
    };
    let diagnosis = diagnose(
        "step 9000 loss 1.2\n",
        &exit,
        builtin_database(),
        &ProjectFiles::default(),
        &[],
    );
    assert_eq!(diagnosis.class, "timeout");
    assert!(diagnosis.fix.contains("DFH_BUDGET_SECONDS"));
}

#[test]
fn autoresearch_fast_fail_is_nan_inf() {
    let knobs = [KnobHint {
        name: "MATRIX_LR".to_string(),
        value: "0.04".to_string(),
        file: "train.py".to_string(),
        line: 31,
    }];
    let diagnosis = diagnose(
        "step 00012 | loss: nan | lrm: 1.00\nFAIL\n",
        &crashed(),
        builtin_database(),
        &ProjectFiles::default(),
        &knobs,
    );
    assert_eq!(diagnosis.class, "nan_inf");
    assert!(
        diagnosis
            .fix
            .contains("MATRIX_LR = 0.04 at train.py:31 (to 0.02)"),
        "{}",
        diagnosis.fix
    );
}

#[test]
fn a_fast_fail_after_a_logged_traceback_is_still_the_verdict() {
    let log = format!("{OOM_TRACEBACK}retrying with a smaller batch\nstep 5 | loss: inf\nFAIL\n");
    assert_eq!(classify(&log).class, "nan_inf");
    let by_shell_code = diagnose(
        "step 1\n",
        &ExitInfo {
            code: Some(137),
            ..ExitInfo::default()
        },
        builtin_database(),
        &ProjectFiles::default(),
        &[],
    );
    assert_eq!(by_shell_code.class, "oom_host");
}

#[test]
fn the_deepest_project_frame_is_reported_not_site_packages() {
    let project = ProjectFiles {
        root: Some(PathBuf::from("/home/me/proj")),
        files: vec!["train.py".to_string()],
    };
    let database = builtin_database();
    let diagnosis = diagnose(OOM_TRACEBACK, &crashed(), database, &project, &[]);
    let location = diagnosis.location.unwrap();
    assert_eq!(location.file, "train.py");
    assert_eq!(location.line, 120);
    assert_eq!(location.source, "att = q @ k.transpose(-2, -1)");
}

#[test]
fn an_oom_fix_names_the_batch_knob() {
    let knobs = [
        KnobHint {
            name: "N_LAYER".to_string(),
            value: "12".to_string(),
            file: "train.py".to_string(),
            line: 30,
        },
        KnobHint {
            name: "DEVICE_BATCH_SIZE".to_string(),
            value: "128".to_string(),
            file: "train.py".to_string(),
            line: 42,
        },
    ];
    let diagnosis = diagnose(
        OOM_TRACEBACK,
        &crashed(),
        builtin_database(),
        &ProjectFiles::default(),
        &knobs,
    );
    assert_eq!(diagnosis.class, "oom_gpu");
    assert!(
        diagnosis
            .fix
            .contains("DEVICE_BATCH_SIZE = 128 at train.py:42: halve it (to 64)"),
        "{}",
        diagnosis.fix
    );
    assert!(diagnosis.cause.contains("CUDA out of memory"));
}

#[test]
fn a_shape_fix_names_the_knobs_whose_values_are_in_the_shapes() {
    let knobs = [
        KnobHint {
            name: "N_EMBD".to_string(),
            value: "768".to_string(),
            file: "train.py".to_string(),
            line: 12,
        },
        KnobHint {
            name: "HEAD_DIM".to_string(),
            value: "128".to_string(),
            file: "train.py".to_string(),
            line: 13,
        },
    ];
    let log = "Traceback (most recent call last):\n  File \"train.py\", line 88, in forward\n    x = self.proj(x)\nRuntimeError: mat1 and mat2 shapes cannot be multiplied (64x768 and 512x512)\n";
    let diagnosis = diagnose(
        log,
        &crashed(),
        builtin_database(),
        &ProjectFiles::default(),
        &knobs,
    );
    assert_eq!(diagnosis.class, "shape_mismatch");
    assert!(
        diagnosis.fix.contains("64x768 and 512x512"),
        "{}",
        diagnosis.fix
    );
    assert!(
        diagnosis
            .fix
            .contains("N_EMBD = 768 at train.py:12 appears in them"),
        "{}",
        diagnosis.fix
    );
    assert!(!diagnosis.fix.contains("HEAD_DIM"));
    assert!(diagnosis.fix.contains("train.py:88"));
}

#[test]
fn an_import_fix_names_the_module_and_forbids_new_dependencies() {
    let diagnosis = classify("ModuleNotFoundError: No module named 'flash_attn'\n");
    assert_eq!(diagnosis.class, "import_error");
    assert!(diagnosis.fix.contains("`flash_attn`"), "{}", diagnosis.fix);
    assert!(diagnosis.fix.contains("may not add a dependency"));
}

#[test]
fn rank_prefixes_and_cpp_stacks_are_tolerated() {
    let log = "[rank0]: Traceback (most recent call last):\n[rank0]:   File \"/w/train.py\", line 50, in <module>\n[rank0]:     main()\n[rank0]: RuntimeError: CUDA error: device-side assert triggered\n[rank0]: Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.\n[rank0]: Exception raised from c10_cuda_check_implementation at ../c10/cuda/CUDAException.cpp:43 (most recent call first):\n[rank0]: frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x57 (0x7f in /x/libc10.so)\n[rank0]: frame #1: <unknown function> + 0x1c3 (0x7f in /x/libc10_cuda.so)\n";
    assert_eq!(classify(log).class, "cuda_device_assert");
}

#[test]
fn a_nccl_watchdog_timeout_is_timeout_and_other_nccl_failures_are_distributed() {
    let watchdog = "[rank1]:[E ProcessGroupNCCL.cpp:616] [Rank 1] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=12, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600321 milliseconds before timing out.\n";
    assert_eq!(classify(watchdog).class, "timeout");
    let nccl = "torch.distributed.DistBackendError: NCCL error in: ProcessGroupNCCL.cpp:1970, unhandled system error, NCCL version 2.20.5\n";
    assert_eq!(classify(nccl).class, "distributed_nccl");
}

#[test]
fn a_killed_dataloader_worker_is_dataloader_worker() {
    let log = "RuntimeError: DataLoader worker (pid 4242) is killed by signal: Killed.\n";
    assert_eq!(classify(log).class, "dataloader_worker");
}

#[test]
fn the_diagnosis_serializes_for_json_output() {
    let project = ProjectFiles {
        root: Some(PathBuf::from("/home/me/proj")),
        files: Vec::new(),
    };
    let database = builtin_database();
    let diagnosis = diagnose(OOM_TRACEBACK, &crashed(), database, &project, &[]);
    let value = serde_json::to_value(diagnosis).unwrap();
    assert_eq!(value["class"], "oom_gpu");
    assert_eq!(value["pattern_source"], "builtin");
    assert_eq!(value["location"]["line"], 120);
}
