//! Property tests: every entry point of the module returns on arbitrary text without
//! panicking, and the scan of a long training script stays fast.

use proptest::prelude::*;

use super::*;

const PYTHON_PIECES: [&str; 48] = [
    "def ",
    "class ",
    "async ",
    "@",
    "dataclass",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    "=",
    "==",
    "**",
    "//",
    "-",
    "+",
    "*",
    "/",
    "%",
    "~",
    "<",
    ">=",
    " if ",
    " else ",
    " and ",
    " not ",
    " in ",
    "\n",
    "\n    ",
    "\t",
    "\\\n",
    "#",
    "'",
    "\"",
    "\"\"\"",
    "'''",
    "r'",
    "f\"",
    "DEPTH",
    "x",
    "add_argument",
    "0x1F",
    "5e-4",
    "1_000",
    "None",
];

fn python_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PYTHON_PIECES.to_vec()), 0..80)
        .prop_map(|pieces| pieces.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), python_soup(), "[ -~\n\t]{0,200}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(400)
    ))]

    #[test]
    fn source_scanners_never_panic(source in any_text()) {
        let knobs = parse_knobs("train.py", &source);
        let regions = scan_regions(&source);
        for region in &regions {
            prop_assert!(region.start <= region.end);
        }
        let lines: Vec<usize> = (0..40).collect();
        let _ = regions_touched(&source, &lines);
        let mut knobs = knobs;
        apply_command_flags(&mut knobs, &source);
        let _ = changed_lines_from_diff(&source);
    }

    #[test]
    fn expressions_never_panic(text in any_text()) {
        if let Ok(expression) = Expression::parse(&text) {
            let _ = expression.evaluate(&|name| Some(Value::Int(name.len() as i64 - 3)));
        }
        let _ = MessageTemplate::parse(&text);
    }

    #[test]
    fn arithmetic_on_any_numbers_never_panics(
        a in any::<i64>(),
        b in any::<i64>(),
        x in any::<f64>(),
        operator in prop::sample::select(vec!["+", "-", "*", "/", "//", "%", "**", "<", "=="]),
    ) {
        let environment = |name: &str| match name {
            "A" => Some(Value::Int(a)),
            "B" => Some(Value::Int(b)),
            "X" => Some(Value::Float(x)),
            _ => None,
        };
        for text in [
            format!("A {operator} B"),
            format!("X {operator} A"),
            format!("B {operator} X"),
            format!("-A {operator} -B"),
            format!("round(X) {operator} int(X) + abs(A)"),
        ] {
            let expression = Expression::parse(&text);
            prop_assert!(expression.is_ok(), "{}", text);
            if let Ok(expression) = expression {
                let _ = expression.evaluate(&environment);
            }
        }
    }

    #[test]
    fn rules_loading_never_panics(text in any_text()) {
        let _ = load_rules(&text, "checks/rules.toml");
        let wrapped = format!("[[rule]]\nname = \"r\"\nexpr = '''{text}'''\nmessage = '''{text}'''\n");
        if let Ok(rules) = load_rules(&wrapped, "checks/rules.toml") {
            let knobs = parse_knobs("train.py", "A = 1\nB = 'x'\n");
            let _ = evaluate_rules(&rules, &knobs);
        }
    }
}

/// A 650-line script: the fixture three times over, plus filler constants.
fn long_script() -> String {
    let fixture = include_str!("../../tests/fixtures/gpt_train.py");
    let mut script = fixture.repeat(3);
    let mut index = 0;
    while script.lines().count() < 650 {
        script.push_str(&format!("EXTRA_{index} = {index} * 2  # filler\n"));
        index += 1;
    }
    script
}

#[test]
fn long_script_scans_completely() {
    let script = long_script();
    assert_eq!(script.lines().count(), 650);
    let regions = scan_regions(&script);
    assert_eq!(
        regions
            .iter()
            .filter(|region| region.name == "GPT.forward")
            .count(),
        3
    );
    let knobs = parse_knobs("train.py", &script);
    assert!(knobs
        .iter()
        .any(|knob| knob.name == "EXTRA_37" && knob.value == Value::Int(74)));
}

/// Run with `cargo test --release -- --ignored --nocapture scan_speed` to see the figure.
#[test]
#[ignore = "timing figure; run in release"]
fn scan_speed() {
    let script = long_script();
    let rounds = 200;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        let knobs = parse_knobs("train.py", &script);
        let regions = scan_regions(&script);
        assert!(!knobs.is_empty() && !regions.is_empty());
    }
    let each = started.elapsed() / rounds;
    println!("knobs + regions of a 650-line train.py: {each:?} per scan");
    assert!(each < std::time::Duration::from_millis(10));
}

#[test]
fn deep_nesting_and_huge_lines_are_handled() {
    let deep = format!(
        "X = {}1{}\ndef f():\n    pass\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(parse_knobs("train.py", &deep).is_empty());
    let names: Vec<String> = scan_regions(&deep)
        .into_iter()
        .map(|region| region.name)
        .collect();
    assert_eq!(names, ["X", "f"]);
    let unclosed = format!("X = {}\nY = 2\n", "[".repeat(50_000));
    assert!(parse_knobs("train.py", &unclosed).is_empty());
    let toml = format!(
        "[[rule]]\nname = \"d\"\nexpr = {}1{}\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    assert!(load_rules(&toml, "checks/rules.toml").is_err());
    let long_sum = format!("X = {}\n", vec!["1"; 100_000].join(" + "));
    assert!(parse_knobs("train.py", &long_sum).is_empty());
}
