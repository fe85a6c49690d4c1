//! The MCP tools: one per dfh command, each declared once as data. The declaration gives the
//! tool's JSON Schema for `tools/list` and turns validated arguments into the argument vector
//! of the real command, so a tool runs exactly the code path of `dfh <verb> --json`.

use serde_json::{json, Map, Value};

/// How an argument reaches the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `--flag=value`; a list repeats the flag, a switch is `--flag` when true.
    Flag(&'static str),
    /// A positional value, after `--` so text that starts with `-` stays text.
    Positional,
    /// Written to the command's stdin.
    Stdin,
}

/// The JSON type of an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    TextList,
    Count,
    Switch,
}

#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub target: Target,
    pub required: bool,
    pub description: &'static str,
}

#[derive(Debug)]
pub struct Tool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// The dfh subcommand words.
    pub command: &'static [&'static str],
    pub read_only: bool,
    /// True for a command that may run long enough to deserve progress notifications.
    pub long: bool,
    pub params: &'static [Param],
}

const fn param(
    name: &'static str,
    kind: Kind,
    target: Target,
    required: bool,
    description: &'static str,
) -> Param {
    Param {
        name,
        kind,
        target,
        required,
        description,
    }
}

pub const TOOLS: &[Tool] = &[
    Tool {
        name: "dfh_brief",
        title: "Brief",
        description: "The agent's whole context for the next step (program, best result, recent experiments, strategy, what to do next), within the configured token budget. Call it first, and again after any context loss.",
        command: &["brief"],
        read_only: true,
        long: false,
        params: &[param(
            "tokens",
            Kind::Count,
            Target::Flag("--tokens"),
            false,
            "The token budget (o200k_base); default [brief] tokens in dfh.toml.",
        )],
    },
    Tool {
        name: "dfh_status",
        title: "Status",
        description: "Where things stand: the best result, counts by status, the last five experiments and the next step. Also settles a run that an earlier, killed dfh left unfinished.",
        command: &["status"],
        read_only: true,
        long: false,
        params: &[],
    },
    Tool {
        name: "dfh_plan",
        title: "Plan an experiment",
        description: "Write the hypothesis of the next experiment before any code changes. inspired_by must cite a paper summary under docs/, a recorded experiment (\"Experiment 9\") or docs/strategy.md; an ungrounded plan is refused with the fix.",
        command: &["plan"],
        read_only: false,
        long: false,
        params: &[
            param("title", Kind::Text, Target::Flag("--title"), true, "A short title: \"Deeper energy head\"."),
            param("hypothesis", Kind::Text, Target::Flag("--hypothesis"), true, "What you expect to happen and why."),
            param("expected", Kind::Text, Target::Flag("--expected"), true, "The predicted outcome, with the metric's value: \"val_bpb ~0.985\"."),
            param("inspired_by", Kind::TextList, Target::Flag("--inspired-by"), true, "What motivates it: docs/papers/x.md, \"Experiment 9\", docs/strategy.md (one or more)."),
            param("risk", Kind::Text, Target::Flag("--risk"), false, "What could go wrong."),
            param("direction", Kind::Text, Target::Flag("--direction"), false, "A tag for the research direction, e.g. \"optimizer\"."),
            param("again", Kind::Text, Target::Flag("--again"), false, "Why this differs from an earlier experiment that tried the same change."),
            param("lane", Kind::Count, Target::Flag("--lane"), false, "Plan for lane K (1, 2, ...): creates its worktree .dfh/lanes/K at the best, or moves it there."),
        ],
    },
    Tool {
        name: "dfh_check",
        title: "Check",
        description: "All pre-train checks on the pending change, without training: syntax, rules with teaching messages, memory estimate, the project's own check script.",
        command: &["check"],
        read_only: true,
        long: true,
        params: &[],
    },
    Tool {
        name: "dfh_run",
        title: "Run the experiment",
        description: "Run the pending experiment: checks, commit, train within the budget, keep or discard, record. Long: reports progress when the call carries a progressToken. A refusal is returned as an error whose text says exactly what to change.",
        command: &["run"],
        read_only: false,
        long: true,
        params: &[
            param("timeout", Kind::Text, Target::Flag("--timeout"), false, "Override the hard timeout of dfh.toml for this run, e.g. \"15m\"."),
            param("retry", Kind::Switch, Target::Flag("--retry"), false, "Rerun the experiment that crashed or timed out, after applying the advised fix (once)."),
            param("lane", Kind::Count, Target::Flag("--lane"), false, "Run lane K's pending experiment in its worktree .dfh/lanes/K while other lanes run."),
        ],
    },
    Tool {
        name: "dfh_learn",
        title: "Record a learning",
        description: "Write the Learning line of an experiment: what its result teaches, and why, in one or two sentences.",
        command: &["learn"],
        read_only: false,
        long: false,
        params: &[
            param("experiment", Kind::Count, Target::Positional, true, "The experiment number."),
            param("text", Kind::Text, Target::Positional, true, "One or two sentences."),
        ],
    },
    Tool {
        name: "dfh_diag",
        title: "Diagnostics",
        description: "An experiment's diagnostics (curves, gradient norms, flags) against the best experiment or another one.",
        command: &["diag"],
        read_only: true,
        long: false,
        params: &[
            param("experiment", Kind::Count, Target::Positional, true, "The experiment number."),
            param("vs", Kind::Count, Target::Flag("--vs"), false, "Compare with this experiment instead of the best."),
        ],
    },
    Tool {
        name: "dfh_crash",
        title: "Crash advisor",
        description: "Classify a traceback and give one fix: the last run's by default, a log file's, or a traceback given as text.",
        command: &["crash"],
        read_only: true,
        long: false,
        params: &[
            param("file", Kind::Text, Target::Positional, false, "A log or traceback file to read instead of the last run's log."),
            param("traceback", Kind::Text, Target::Stdin, false, "A traceback as text (instead of file)."),
        ],
    },
    Tool {
        name: "dfh_distill",
        title: "Distill",
        description: "Open a distillation (review the history, then update docs/strategy.md), or close it with done once strategy.md is written.",
        command: &["distill"],
        read_only: false,
        long: false,
        params: &[param("done", Kind::Switch, Target::Flag("--done"), false, "Close the open distillation.")],
    },
];

pub fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|tool| tool.name == name)
}

impl Tool {
    /// The entry of `tools/list`.
    pub fn describe(&self) -> Value {
        let mut properties = Map::new();
        for param in self.params {
            let mut schema = match param.kind {
                Kind::Text => json!({"type": "string"}),
                Kind::TextList => {
                    json!({"type": "array", "items": {"type": "string"}, "minItems": 1})
                }
                Kind::Count => json!({"type": "integer", "minimum": 0}),
                Kind::Switch => json!({"type": "boolean"}),
            };
            schema["description"] = json!(param.description);
            properties.insert(param.name.into(), schema);
        }
        let required: Vec<&str> = self
            .params
            .iter()
            .filter(|param| param.required)
            .map(|param| param.name)
            .collect();
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false,
            },
            "annotations": {
                "title": self.title,
                "readOnlyHint": self.read_only,
                "destructiveHint": false,
                "openWorldHint": false,
            },
        })
    }

    /// Validates `arguments` against the schema and builds the command's arguments and stdin.
    /// The error says which argument is wrong and what it should be.
    pub fn invocation(&self, arguments: Option<&Value>) -> Result<Invocation, String> {
        let empty = Map::new();
        let given = match arguments {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(map)) => map,
            Some(_) => return Err("arguments must be a JSON object".into()),
        };
        if let Some(unknown) = given
            .keys()
            .find(|key| !self.params.iter().any(|param| param.name == key.as_str()))
        {
            let known: Vec<&str> = self.params.iter().map(|param| param.name).collect();
            return Err(format!(
                "unknown argument `{unknown}`; {} takes {}",
                self.name,
                if known.is_empty() {
                    "no arguments".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
        let mut flags: Vec<String> = self.command.iter().map(|word| word.to_string()).collect();
        let mut positionals = Vec::new();
        let mut stdin = None;
        for param in self.params {
            let Some(value) = given.get(param.name).filter(|value| !value.is_null()) else {
                if param.required {
                    return Err(format!(
                        "missing argument `{}`: {}",
                        param.name, param.description
                    ));
                }
                continue;
            };
            let values = self.values(param, value)?;
            match param.target {
                Target::Flag(flag) if param.kind == Kind::Switch => {
                    if values.first().is_some_and(|value| value == "true") {
                        flags.push(flag.into());
                    }
                }
                Target::Flag(flag) => {
                    flags.extend(values.iter().map(|value| format!("{flag}={value}")));
                }
                Target::Positional => positionals.extend(values),
                Target::Stdin => stdin = values.into_iter().next(),
            }
        }
        if stdin.is_some() {
            // `-` tells the command to read stdin; it takes the place of the positional.
            if !positionals.is_empty() {
                let names: Vec<&str> = self.params.iter().map(|param| param.name).collect();
                return Err(format!("give one of {}, not several", names.join(" or ")));
            }
            positionals.push("-".into());
        }
        if !positionals.is_empty() {
            flags.push("--".into());
            flags.extend(positionals);
        }
        Ok(Invocation {
            arguments: flags,
            stdin,
        })
    }

    /// The argument's value as command-line words, or why it does not fit the schema.
    fn values(&self, param: &Param, value: &Value) -> Result<Vec<String>, String> {
        let wrong =
            |expected: &str| format!("argument `{}` must be {expected}, not {value}", param.name);
        let text = |value: &Value| -> Result<String, String> {
            let text = value.as_str().ok_or_else(|| wrong("a string"))?;
            if text.contains('\0') {
                return Err(format!(
                    "argument `{}` contains a NUL character",
                    param.name
                ));
            }
            Ok(text.to_string())
        };
        match param.kind {
            Kind::Text => Ok(vec![text(value)?]),
            // A single string is read as a one-element list: agents often send one citation.
            Kind::TextList => match value {
                Value::Array(items) if !items.is_empty() => items.iter().map(text).collect(),
                Value::Array(_) => Err(wrong("a non-empty array of strings")),
                Value::String(_) => Ok(vec![text(value)?]),
                _ => Err(wrong("an array of strings")),
            },
            Kind::Count => value
                .as_u64()
                .map(|number| vec![number.to_string()])
                .ok_or_else(|| wrong("a non-negative integer")),
            Kind::Switch => value
                .as_bool()
                .map(|switch| vec![switch.to_string()])
                .ok_or_else(|| wrong("true or false")),
        }
    }
}

/// What to run for one tool call.
#[derive(Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The arguments after `dfh --json -C DIR`.
    pub arguments: Vec<String>,
    pub stdin: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_arguments_become_flags_with_values_attached() {
        let tool = find("dfh_plan").unwrap();
        let invocation = tool
            .invocation(Some(&json!({
                "title": "-x first",
                "hypothesis": "h",
                "expected": "val_bpb ~0.9",
                "inspired_by": ["docs/strategy.md", "Experiment 2"],
            })))
            .unwrap();
        assert_eq!(
            invocation.arguments,
            [
                "plan",
                "--title=-x first",
                "--hypothesis=h",
                "--expected=val_bpb ~0.9",
                "--inspired-by=docs/strategy.md",
                "--inspired-by=Experiment 2"
            ]
        );
    }

    #[test]
    fn positionals_follow_a_double_dash() {
        let tool = find("dfh_learn").unwrap();
        let invocation = tool
            .invocation(Some(&json!({"experiment": 3, "text": "--help is text"})))
            .unwrap();
        assert_eq!(invocation.arguments, ["learn", "--", "3", "--help is text"]);
    }

    #[test]
    fn bad_arguments_are_named() {
        let tool = find("dfh_learn").unwrap();
        let error = tool
            .invocation(Some(&json!({"experiment": -1, "text": "x"})))
            .unwrap_err();
        assert!(
            error.contains("`experiment` must be a non-negative integer"),
            "{error}"
        );
        let error = tool.invocation(Some(&json!({"text": "x"}))).unwrap_err();
        assert!(error.contains("missing argument `experiment`"), "{error}");
        let error = tool
            .invocation(Some(&json!({"experiment": 1, "text": "x", "force": true})))
            .unwrap_err();
        assert!(error.contains("unknown argument `force`"), "{error}");
    }

    #[test]
    fn a_traceback_goes_to_stdin_in_place_of_the_file() {
        let tool = find("dfh_crash").unwrap();
        let invocation = tool
            .invocation(Some(&json!({"traceback": "Traceback ..."})))
            .unwrap();
        assert_eq!(invocation.arguments, ["crash", "--", "-"]);
        assert_eq!(invocation.stdin.as_deref(), Some("Traceback ..."));
        let last = tool.invocation(None).unwrap();
        assert_eq!(last.arguments, ["crash"]);
        assert!(tool
            .invocation(Some(&json!({"traceback": "t", "file": "x.log"})))
            .is_err());
    }

    #[test]
    fn switches_appear_only_when_true() {
        let tool = find("dfh_run").unwrap();
        let on = tool.invocation(Some(&json!({"retry": true}))).unwrap();
        assert_eq!(on.arguments, ["run", "--retry"]);
        let off = tool.invocation(Some(&json!({"retry": false}))).unwrap();
        assert_eq!(off.arguments, ["run"]);
    }

    #[test]
    fn every_schema_is_a_closed_object() {
        for tool in TOOLS {
            let entry = tool.describe();
            assert_eq!(entry["inputSchema"]["type"], "object");
            assert_eq!(entry["inputSchema"]["additionalProperties"], false);
            for required in entry["inputSchema"]["required"].as_array().unwrap() {
                assert!(entry["inputSchema"]["properties"][required.as_str().unwrap()].is_object());
            }
        }
    }
}
