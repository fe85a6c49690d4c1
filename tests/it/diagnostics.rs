//! Give the agent eyes: metrics/<commit>.json after every run, automatic flags and `dfh diag`,
//! from real python3 training scripts that use dfh_diag.

use crate::support::TestEnv;

/// A training script using dfh_diag; `body` runs inside the step loop with `step` and `run`.
fn script(body: &str, lr: &str) -> String {
    format!(
        r#"import math, os
import dfh_diag
LR = {lr}
run = dfh_diag.Run()
for step in range(200):
{body}
run.eval({{"pass@1": 0.15, "pass@10": 0.4}})
run.section("energy_calibration", {{"separation": 0.42}})
run.summary(val_bpb=1.0 - LR, training_seconds=0.2)
"#
    )
}

const CLEAN: &str = "    run.log(step, task_loss=3.0 * math.exp(-step / 50.0) + 0.5, energy_loss=2.0 - step / 250.0)";

fn project(body: &str) -> TestEnv {
    let env = TestEnv::with_files(&[("train.py", &script(body, "0.1"))]);
    env.dfh_ok(&["init"]);
    env.git(&["add", "dfh_diag.py"]);
    env.git(&["commit", "-qm", "diagnostics helper"]);
    env
}

fn metrics(env: &TestEnv, number: u32) -> serde_json::Value {
    let show: serde_json::Value =
        serde_json::from_str(&env.dfh_ok(&["--json", "show", &number.to_string()]).stdout).unwrap();
    let path = show["metrics"].as_str().expect("metrics path");
    serde_json::from_str(&env.read(path)).unwrap()
}

#[test]
fn a_run_writes_curves_eval_sections_and_harness_figures() {
    let env = project(CLEAN);
    env.plan("baseline");
    let run = env.dfh_ok(&["run"]);
    assert!(
        !run.stdout.contains("flag:"),
        "a clean run has no flags: {}",
        run.stdout
    );
    let doc = metrics(&env, 1);
    assert_eq!(doc["experiment"], 1);
    assert_eq!(doc["status"], "keep");
    assert_eq!(doc["metric"]["name"], "val_bpb");
    assert_eq!(doc["metric"]["value"], 0.9);
    let task = &doc["training_curves"]["task_loss"];
    assert_eq!(task["steps"].as_array().unwrap().len(), 200);
    assert_eq!(task["original_count"], 200);
    assert_eq!(doc["eval"]["pass@1"], 0.15);
    assert_eq!(doc["energy_calibration"]["separation"], 0.42);
    assert_eq!(doc["harness"]["exit_code"], 0);
    assert_eq!(doc["harness"]["timed_out"], false);
    assert!(doc["harness"]["wall_seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(doc["summary"]["training_seconds"], 0.2);
    // The commit in the file name is the experiment's commit.
    let commit = env.git(&["rev-parse", "refs/dfh/exp/1"]);
    assert!(env.path(&format!("metrics/{commit}.json")).exists());
}

#[test]
fn a_crash_at_step_50_keeps_the_curves_to_step_50() {
    let env = project(CLEAN);
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.plan("crashes midway");
    env.write(
        "train.py",
        &script(
            &format!("{CLEAN}\n    if step == 50:\n        raise RuntimeError('boom')"),
            "0.2",
        ),
    );
    env.dfh_ok(&["run"]);
    let doc = metrics(&env, 2);
    assert_eq!(doc["status"], "crash");
    let steps = doc["training_curves"]["task_loss"]["steps"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(steps.len(), 51);
    assert_eq!(steps.last().unwrap(), 50);
    assert_eq!(doc["harness"]["exit_code"], 1);
}

fn flags_of(body: &str) -> (String, serde_json::Value) {
    let env = project(body);
    env.plan("baseline");
    let run = env.dfh_ok(&["run"]);
    (run.stdout, metrics(&env, 1)["flags"].clone())
}

#[test]
fn nan_divergence_flat_and_spike_flags_come_from_real_runs() {
    let (stdout, flags) = flags_of(
        "    run.log(step, task_loss=float('nan') if step >= 120 else 2.0 - step / 200.0)",
    );
    assert_eq!(flags[0]["kind"], "non_finite", "{flags}");
    assert!(
        stdout.contains("flag: ") && stdout.contains("120"),
        "{stdout}"
    );

    let (_, flags) = flags_of(
        "    run.log(step, task_loss=2.0 - step / 100.0 if step < 100 else 1.0 + (step - 100) / 20.0)",
    );
    assert!(
        flags
            .as_array()
            .unwrap()
            .iter()
            .any(|flag| flag["kind"] == "divergence"),
        "{flags}"
    );

    let (_, flags) =
        flags_of("    run.log(step, energy_loss=3.0 - step / 40.0 if step < 80 else 1.0)");
    let flat = flags
        .as_array()
        .unwrap()
        .iter()
        .find(|flag| flag["kind"] == "flat")
        .expect("flat");
    assert!(
        flat["message"].as_str().unwrap().contains("energy_loss"),
        "{flat}"
    );

    let (_, flags) = flags_of(
        "    run.log(step, task_loss=2.0 - step / 200.0)\n    run._write({'series': 'gradient_norms/backbone', 'step': step, 'value': 500.0 if step == 150 else 1.0 + 0.01 * (step % 7)})",
    );
    assert!(
        flags
            .as_array()
            .unwrap()
            .iter()
            .any(|flag| flag["kind"] == "gradient_spike"),
        "{flags}"
    );
}

#[test]
fn diag_compares_a_run_with_the_best() {
    let env = project(CLEAN);
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.plan("drop the energy loss");
    env.write(
        "train.py",
        &script(
            "    run.log(step, task_loss=3.0 * math.exp(-step / 40.0) + 0.6)",
            "0.05",
        ),
    );
    env.dfh_ok(&["run"]);
    let run = env.dfh_ok(&["diag", "2"]);
    assert!(run.stdout.contains("task_loss"), "{}", run.stdout);
    assert!(run.stdout.contains("energy_loss"), "{}", run.stdout);
    assert!(
        run.stdout.lines().count() <= 45,
        "short enough to paste:\n{}",
        run.stdout
    );
    let doc = metrics(&env, 2);
    assert!(
        doc["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|flag| flag["kind"] == "missing_series"),
        "the best run had energy_loss: {}",
        doc["flags"]
    );
    let json: serde_json::Value =
        serde_json::from_str(&env.dfh_ok(&["--json", "diag", "2", "--vs", "1"]).stdout).unwrap();
    assert!(json.is_object());
}

#[test]
fn gradient_norms_are_logged_with_real_torch() {
    let python = std::env::var("DFH_TORCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_torch = std::process::Command::new(&python)
        .args(["-c", "import torch"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !has_torch {
        let message = format!(
            "PyTorch is not importable by `{python}` (set DFH_TORCH_PYTHON to a python with torch)"
        );
        if std::env::var("DFH_REQUIRE_SYSTEM_TESTS").is_ok_and(|value| value == "1") {
            panic!("{message}");
        }
        eprintln!("skipped: {message}");
        return;
    }
    let train = r#"import torch, dfh_diag
torch.manual_seed(0)
backbone = torch.nn.Linear(8, 8)
head = torch.nn.Linear(8, 1)
model = torch.nn.Sequential(backbone, torch.nn.ReLU(), head)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
run = dfh_diag.Run()
x = torch.randn(64, 8)
y = x.sum(dim=1, keepdim=True)
for step in range(30):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    run.grad_norms(step, model, groups={"backbone": backbone, "head": head})
    optimizer.step()
    run.log(step, task_loss=loss.item())
run.summary(val_bpb=loss.item())
"#;
    let env = TestEnv::with_files(&[("train.py", train)]);
    env.dfh_ok(&[
        "init",
        "--command",
        &format!("{python} train.py"),
        "--metric",
        "val_bpb",
    ]);
    env.git(&["add", "dfh_diag.py"]);
    env.git(&["commit", "-qm", "helper"]);
    env.plan("baseline");
    let run = env.dfh_ok(&["run"]);
    assert!(run.stdout.contains("keep"), "{}", run.stdout);
    let doc = metrics(&env, 1);
    for group in ["backbone", "head"] {
        let values = doc["gradient_norms"][group]["values"].as_array().unwrap();
        assert_eq!(values.len(), 30, "{group}");
        assert!(values[0].as_f64().unwrap() > 0.0, "{group}");
    }
}
