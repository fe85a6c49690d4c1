//! Fuzz target: the rule expression language and checks/rules.toml. The input is a rule
//! expression or a rules file, then a line `---`, then the Python source whose constants the
//! rules read.
#![no_main]

use std::collections::BTreeMap;

use dfh::python::rules::{evaluate_expr_text, evaluate_rules, load_rule_set};
use dfh::python::{parse_knobs, Expression, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (head, source) = text
        .split_once("\n---\n")
        .unwrap_or((text, "DEPTH = 12\nLR = 0.02\n"));
    let knobs = parse_knobs("train.py", source);
    let mut values: BTreeMap<String, Value> = knobs
        .iter()
        .map(|knob| (knob.name.clone(), knob.value.clone()))
        .collect();
    values.insert("ZERO".into(), Value::Int(0));
    values.insert("BIG".into(), Value::Int(i64::MAX));
    values.insert("SMALL".into(), Value::Int(i64::MIN));
    values.insert("NAN".into(), Value::Float(f64::NAN));
    values.insert("WORD".into(), Value::Str("adamw".into()));
    values.insert("NOTHING".into(), Value::None);
    values.insert(
        "SHAPE".into(),
        Value::List(vec![Value::Int(-1), Value::Bool(true), Value::Float(0.5)]),
    );
    if let Ok(expression) = Expression::parse(head) {
        let _ = expression.names();
        let _ = expression.evaluate_with_map(&values);
        let _ = evaluate_expr_text(head, &knobs);
    }
    if let Ok(rule_set) = load_rule_set(head, "checks/rules.toml") {
        let _ = evaluate_rules(&rule_set.rules, &knobs);
        if let Some(memory) = &rule_set.memory {
            let _ = memory.estimate_gb.evaluate_with_map(&values);
        }
    }
});
