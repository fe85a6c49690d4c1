//! `dfh report`: the morning read of a real night — real runs, real git, real python3 — and
//! the page opened in a real headless chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::TestEnv;

/// A night: baseline, a kept gain with a learning, a discarded try with a learning, a change
/// the pre-train checks reject, a second kept gain, and a crash.
fn night() -> TestEnv {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.plan("higher lr");
    env.set_lr("0.2");
    env.dfh_ok(&["run"]);
    env.dfh_ok(&[
        "learn",
        "2",
        "Doubling LR helped: the model was under-trained.",
    ]);
    env.plan("lower lr");
    env.set_lr("0.05");
    env.dfh_ok(&["run"]);
    env.dfh_ok(&["learn", "3", "Halving LR hurt; stay above 0.2."]);
    env.plan("even higher lr");
    let good = env.read("train.py");
    env.write("train.py", "LR = (0.3\n");
    assert_eq!(env.dfh(&["run"]).code, 3, "a syntax error is rejected");
    env.write("train.py", &good);
    env.set_lr("0.3");
    env.dfh_ok(&["run"]);
    env.plan("broken");
    env.write(
        "train.py",
        "print('step 1')\nraise RuntimeError('mat1 and mat2 shapes cannot be multiplied (4x8 and 16x4)')\n",
    );
    env.dfh_ok(&["run"]);
    env
}

fn report_json(env: &TestEnv, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "report"];
    all.extend_from_slice(args);
    serde_json::from_str(&env.dfh_ok(&all).stdout).unwrap()
}

/// metrics/<commit>.json with one training curve, as the pipeline writes it.
fn write_curves(env: &TestEnv, experiment: u32, values: &[f64]) {
    let commit = env.git(&["rev-parse", &format!("refs/dfh/exp/{experiment}")]);
    let document = serde_json::json!({
        "experiment": experiment,
        "commit": commit,
        "status": "keep",
        "metric": {"name": "val_bpb", "value": 0.8, "goal": "minimize", "best_before": null},
        "training_curves": {"task_loss": {
            "steps": (0..values.len()).collect::<Vec<_>>(),
            "values": values,
            "original_count": values.len(),
        }},
        "harness": {"wall_seconds": 1.0, "exit_code": 0, "timed_out": false,
                    "peak_rss_mb": null, "gpu_peak_memory_mb": null},
    });
    env.write(
        &format!("metrics/{commit}.json"),
        &serde_json::to_string_pretty(&document).unwrap(),
    );
}

#[test]
fn the_morning_read_tells_the_night() {
    let env = night();
    write_curves(&env, 1, &[3.0, 2.5, 2.2, 2.1]);
    write_curves(&env, 4, &[3.0, 2.0, 1.6, 1.4]);
    let json = report_json(&env, &[]);
    assert_eq!(json["counts"]["ran"], 5, "{json}");
    assert_eq!(json["counts"]["kept"], 3);
    assert_eq!(json["counts"]["discarded"], 1);
    assert_eq!(json["counts"]["crashed"], 1);
    assert_eq!(json["counts"]["rejected"], 1);
    assert_eq!(json["best_from"], 0.9);
    assert_eq!(json["best_to"], 0.7);

    let morning = env.read("report/morning.md");
    assert!(morning.contains("5 experiments ran (1–5)"), "{morning}");
    assert!(
        morning.contains("3 kept, 1 discarded, 1 crashed or timed out"),
        "{morning}"
    );
    assert!(
        morning.contains("Best val_bpb: 0.9 (#1) → 0.7 (#4)"),
        "{morning}"
    );
    assert!(morning.contains("### #2 — higher lr"), "{morning}");
    assert!(morning.contains("### #4 — even higher lr"), "{morning}");
    assert!(
        morning.contains("**Hypothesis:** A change that tests one idea."),
        "{morning}"
    );
    assert!(
        morning.contains("**Learning:** Doubling LR helped: the model was under-trained."),
        "{morning}"
    );
    assert!(morning.contains("Pre-train checks rejected 1 change"));
    assert!(morning.contains("No distillation happened"), "{morning}");
    assert!(morning.contains("## Prediction calibration"));

    let page = env.read("report/index.html");
    for id in [
        "chart-progress",
        "chart-directions",
        "chart-curves",
        "chart-seconds",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(
        page.contains("task_loss · best #4"),
        "curves of the best run"
    );
    assert!(
        page.contains("task_loss · baseline #1"),
        "and of the baseline"
    );
    // The kept experiment's diff, from refs/dfh/exp/2 (autoescaped: + and - stay as they are).
    assert!(page.contains("-LR = 0.1\n+LR = 0.2"), "diff of #2");
    assert!(page.contains("Halving LR hurt; stay above 0.2."));
    assert!(!page.contains("<script"), "the page runs no script");
    assert!(!page.contains("http://") || only_svg_namespace(&page));
}

/// The only absolute URL a page may hold is the SVG namespace (it is never fetched).
fn only_svg_namespace(page: &str) -> bool {
    page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
        .find("http")
        .is_none()
}

#[test]
fn agent_text_is_escaped_everywhere() {
    let env = TestEnv::autoresearch();
    env.dfh_ok(&[
        "plan",
        "--title",
        "<script>alert(1)</script>",
        "--hypothesis",
        "Tags like <b>this</b> stay text.",
        "--expected",
        "val_bpb ~0.85",
        "--inspired-by",
        "docs/strategy.md",
        "--direction",
        "<img src=x onerror=alert(2)>",
    ]);
    env.dfh_ok(&["run"]);
    env.dfh_ok(&[
        "learn",
        "1",
        "<iframe src=\"http://evil.example\"></iframe>",
    ]);
    env.dfh_ok(&["report"]);
    let page = env.read("report/index.html");
    assert!(!page.contains("<script"), "title ran as markup");
    assert!(!page.contains("<img"), "direction ran as markup");
    assert!(!page.contains("<iframe"), "learning ran as markup");
    assert!(!page.contains("<b>this"), "hypothesis ran as markup");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;"),
        "the title shows as text"
    );
    let morning = env.read("report/morning.md");
    assert!(!morning.contains("<script"), "{morning}");
    assert!(morning.contains("&lt;script&gt;alert(1)"), "{morning}");
}

#[test]
fn mark_read_moves_the_start_of_the_next_report() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.plan("higher lr");
    env.set_lr("0.2");
    env.dfh_ok(&["run"]);
    let first = report_json(&env, &["--mark-read"]);
    assert_eq!(first["counts"]["ran"], 2);
    assert_eq!(first["marked_read"], 2);
    assert!(env
        .journal_events()
        .iter()
        .any(|event| event["event"] == "report_read" && event["through_experiment"] == 2));

    env.plan("even higher lr");
    env.set_lr("0.3");
    env.dfh_ok(&["run"]);
    let second = report_json(&env, &[]);
    assert_eq!(second["first"], 3, "{second}");
    assert_eq!(second["counts"]["ran"], 1);
    assert_eq!(second["best_from"], 0.8);
    assert_eq!(second["best_to"], 0.7);
    let morning = env.read("report/morning.md");
    assert!(
        morning.contains("since the last read (through experiment 2)"),
        "{morning}"
    );
    assert!(morning.contains("### #3 — even higher lr"));
    assert!(!morning.contains("### #2"), "{morning}");

    // --since overrides the marker; earlier experiments stay in the page's table, folded.
    let everything = report_json(&env, &["--since", "1"]);
    assert_eq!(everything["counts"]["ran"], 3);
    let page = env.read("report/index.html");
    assert!(
        page.contains("this period: experiments 1–3 (3)"),
        "table groups"
    );
}

#[test]
fn the_same_journal_gives_the_same_bytes() {
    let env = night();
    env.dfh_ok(&["report", "--out", "a"]);
    env.dfh_ok(&["report", "--out", "b"]);
    assert_eq!(env.read("a/index.html"), env.read("b/index.html"));
    assert_eq!(env.read("a/morning.md"), env.read("b/morning.md"));
}

#[test]
fn out_must_stay_inside_the_project() {
    let env = TestEnv::autoresearch();
    let run = env.dfh(&["report", "--out", "../elsewhere"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("leaves the project"), "{}", run.stderr);
    assert!(!env.path("../elsewhere").exists());
    let bad = env.dfh(&["report", "--since", "yesterday-ish"]);
    assert_ne!(bad.code, 0);
    assert!(
        bad.stderr.contains("--since yesterday-ish"),
        "{}",
        bad.stderr
    );
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
}

/// What a headless chromium run left: its exit code, stdout and stderr.
struct Headless {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Runs chromium detached from this test process: a subshell that this process never waits
/// for runs it and writes its exit code to a file. Waiting for chromium ourselves would add
/// its peak memory to RUSAGE_CHILDREN, which another test reads to bound dfh's memory.
fn headless(chromium: &Path, scratch: &Path, name: &str, args: &[&str], page: &str) -> Headless {
    let profile = scratch.join(format!("profile-{name}"));
    let (stdout, stderr, done) = (
        scratch.join(format!("{name}.out")),
        scratch.join(format!("{name}.err")),
        scratch.join(format!("{name}.done")),
    );
    let mut command = vec![
        quote(&chromium.display().to_string()),
        "--headless".into(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-background-networking".into(),
        "--hide-scrollbars".into(),
        quote(&format!("--user-data-dir={}", profile.display())),
    ];
    command.extend(args.iter().map(|arg| quote(arg)));
    command.push(quote(page));
    let script = format!(
        "( {} >{} 2>{}; echo $? >{}.tmp; mv {}.tmp {} ) </dev/null >/dev/null 2>&1 &",
        command.join(" "),
        quote(&stdout.display().to_string()),
        quote(&stderr.display().to_string()),
        quote(&done.display().to_string()),
        quote(&done.display().to_string()),
        quote(&done.display().to_string()),
    );
    let status = Command::new("sh").arg("-c").arg(script).status().unwrap();
    assert!(status.success());
    assert!(
        crate::support::wait_for(120.0, || done.exists()),
        "chromium did not finish within 120 s"
    );
    let read = |path: &Path| {
        String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
    };
    Headless {
        code: read(&done).trim().parse().ok(),
        stdout: read(&stdout),
        stderr: read(&stderr),
    }
}

#[test]
fn chromium_renders_the_page_offline() {
    let Some(chromium) = chromium() else {
        let required = std::env::var("DFH_REQUIRE_SYSTEM_TESTS").is_ok_and(|value| value == "1");
        assert!(
            !required,
            "chromium is missing and DFH_REQUIRE_SYSTEM_TESTS=1: apt-get install -y chromium"
        );
        eprintln!(
            "skipped: chromium is not installed (apt-get install -y chromium to run this test)"
        );
        return;
    };
    let env = night();
    write_curves(&env, 1, &[3.0, 2.5, 2.2, 2.1]);
    write_curves(&env, 4, &[3.0, 2.0, 1.6, 1.4]);
    env.dfh_ok(&["report"]);
    let page = format!("file://{}", env.path("report/index.html").display());
    let saved = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    std::fs::create_dir_all(&saved).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let net_log = scratch.path().join("netlog.json");

    let dump = headless(
        &chromium,
        scratch.path(),
        "dom",
        &[
            "--dump-dom",
            &format!("--log-net-log={}", net_log.display()),
        ],
        &page,
    );
    assert_eq!(dump.code, Some(0), "{}", dump.stderr);
    let dom = dump.stdout;
    std::fs::write(saved.join("dom.html"), &dom).unwrap();
    for id in [
        "chart-progress",
        "chart-directions",
        "chart-curves",
        "chart-seconds",
    ] {
        assert!(
            dom.contains(&format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\""
            )),
            "the DOM lacks the chart {id}"
        );
    }
    assert!(dom.contains("<div id=\"experiments\">"), "the table");
    assert_eq!(
        dom.matches("<tr class=\"st-").count(),
        5,
        "one table row per experiment"
    );
    assert!(dom.contains("even higher lr"));

    // Every request in the net log came from the browser itself ("not an origin"), none from
    // the page (whose file:// origin would show as "null").
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&net_log).unwrap()).unwrap();
    let start_job = &log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
    let fetched: Vec<String> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| &event["type"] == start_job)
        .filter(|event| event["params"]["url"].is_string())
        .filter(|event| event["params"]["initiator"] != "not an origin")
        .map(|event| event["params"]["url"].to_string())
        .collect();
    assert!(fetched.is_empty(), "the page fetched {fetched:?}");

    let screenshot = saved.join("report.png");
    let shot = headless(
        &chromium,
        scratch.path(),
        "shot",
        &[
            "--window-size=1280,4000",
            &format!("--screenshot={}", screenshot.display()),
        ],
        &page,
    );
    assert_eq!(shot.code, Some(0), "{}", shot.stderr);
    let png = std::fs::read(&screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    assert!(png.len() > 20_000, "the screenshot shows a page");
}
