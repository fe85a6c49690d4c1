//! `dfh mcp` over a real stdio pipe: initialize, tools/list, tools/call, progress, refusals.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{alive, wait_for, TestEnv};

const TOOLS: [&str; 9] = [
    "dfh_brief",
    "dfh_plan",
    "dfh_check",
    "dfh_run",
    "dfh_learn",
    "dfh_status",
    "dfh_diag",
    "dfh_crash",
    "dfh_distill",
];

/// An MCP client speaking to a real `dfh mcp` child.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    next_id: u64,
    /// Notifications received while waiting for responses.
    notifications: Vec<Value>,
}

impl Client {
    fn start(env: &TestEnv) -> Self {
        let mut child = env
            .command(&["mcp"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dfh mcp");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            stdin: child.stdin.take(),
            child,
            lines,
            next_id: 0,
            notifications: Vec::new(),
        }
    }

    fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{message}").expect("write to dfh mcp");
        stdin.flush().expect("flush");
    }

    fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to dfh mcp");
    }

    /// The next message from the server that is not a notification.
    fn response(&mut self) -> Value {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(120))
                .expect("a message from dfh mcp within 120 s");
            let message: Value = serde_json::from_str(&line).unwrap_or_else(|error| {
                panic!("server wrote a line that is not JSON ({error}): {line}")
            });
            assert_eq!(message["jsonrpc"], "2.0", "{message}");
            if message.get("id").is_some() {
                return message;
            }
            self.notifications.push(message);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.response();
        assert_eq!(response["id"], id, "{response}");
        response
    }

    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        let response = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        response["result"].clone()
    }

    fn initialize(&mut self, version: &str) -> Value {
        let response = self.request(
            "initialize",
            json!({
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "dfh-tests", "version": "1.0.0"},
            }),
        );
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        response
    }

    /// Closes stdin and waits for the server to exit; returns its exit code.
    fn finish(mut self) -> i32 {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait for dfh mcp");
        status.code().unwrap_or(-1)
    }
}

fn text_of(result: &Value) -> String {
    result["content"]
        .as_array()
        .expect("content array")
        .iter()
        .filter(|block| block["type"] == "text")
        .map(|block| block["text"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn mcp_initialize_list_and_call_over_a_stdio_pipe() {
    let env = TestEnv::autoresearch();
    let mut client = Client::start(&env);

    let initialized = client.initialize("2025-06-18");
    let result = &initialized["result"];
    assert_eq!(result["protocolVersion"], "2025-06-18", "{initialized}");
    assert!(result["capabilities"]["tools"].is_object(), "{initialized}");
    assert_eq!(result["serverInfo"]["name"], "dfh");
    assert!(result["instructions"]
        .as_str()
        .unwrap()
        .contains("dfh_plan"));

    let listed = client.request("tools/list", json!({}));
    let tools = listed["result"]["tools"].as_array().expect("tools").clone();
    let names: Vec<&str> = tools
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), TOOLS.len(), "{names:?}");
    for name in TOOLS {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let tool = |name: &str| {
        tools
            .iter()
            .find(|tool| tool["name"] == name)
            .unwrap()
            .clone()
    };
    let brief = tool("dfh_brief");
    assert_eq!(brief["inputSchema"]["type"], "object");
    assert_eq!(
        brief["inputSchema"]["properties"]["tokens"]["type"],
        "integer"
    );
    assert!(brief["description"].as_str().unwrap().contains("context"));
    let plan = tool("dfh_plan");
    assert_eq!(
        plan["inputSchema"]["required"],
        json!(["title", "hypothesis", "expected", "inspired_by"])
    );
    assert_eq!(
        plan["inputSchema"]["properties"]["inspired_by"]["type"],
        "array"
    );
    assert_eq!(plan["inputSchema"]["additionalProperties"], false);
    assert_eq!(
        tool("dfh_learn")["inputSchema"]["properties"]["experiment"]["type"],
        "integer"
    );

    // dfh_status returns exactly what `dfh --json status` prints.
    let status = client.call("dfh_status", json!({}));
    assert_eq!(status["isError"], false, "{status}");
    assert_eq!(status["structuredContent"], env.status());
    let from_text: Value = serde_json::from_str(&text_of(&status)).unwrap();
    assert_eq!(from_text, env.status());

    // dfh_brief returns the brief within the budget it was given.
    let brief = client.call("dfh_brief", json!({"tokens": 400}));
    assert_eq!(brief["isError"], false, "{brief}");
    let content = &brief["structuredContent"];
    assert!(content["tokens"].as_u64().unwrap() <= 400, "{content}");
    assert!(
        content["text"].as_str().unwrap().contains("dfh plan"),
        "{content}"
    );

    // dfh_plan writes the hypothesis like `dfh plan` does.
    let planned = client.call(
        "dfh_plan",
        json!({
            "title": "baseline",
            "hypothesis": "The unchanged script sets the reference.",
            "expected": "val_bpb ~0.9",
            "inspired_by": ["docs/strategy.md"],
            "risk": "none",
        }),
    );
    assert_eq!(planned["isError"], false, "{planned}");
    assert_eq!(planned["structuredContent"]["experiment"], 1, "{planned}");
    assert!(env.read("docs/hypotheses.md").contains("baseline"));

    // Arguments that break the schema come back as a tool error the agent can read.
    let missing = client.call(
        "dfh_plan",
        json!({"title": "x", "hypothesis": "y", "expected": "z"}),
    );
    assert_eq!(missing["isError"], true);
    assert!(
        text_of(&missing).contains("missing argument `inspired_by`"),
        "{missing}"
    );

    // A refusal (exit 3) is a tool error carrying the teaching message: one pending
    // hypothesis at a time.
    let second = client.call(
        "dfh_plan",
        json!({
            "title": "second",
            "hypothesis": "A change.",
            "expected": "val_bpb ~0.8",
            "inspired_by": "docs/strategy.md",
        }),
    );
    assert_eq!(second["isError"], true, "{second}");
    let text = text_of(&second);
    assert!(text.starts_with("dfh plan refused: "), "{text}");
    assert!(text.contains("`dfh run`"), "{text}");
    assert!(second.get("structuredContent").is_none(), "{second}");

    // An unknown tool and an unknown method are JSON-RPC errors; garbage is a parse error.
    let unknown = client.request(
        "tools/call",
        json!({"name": "dfh_nothing", "arguments": {}}),
    );
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    let method = client.request("resources/list", json!({}));
    assert_eq!(method["error"]["code"], -32601, "{method}");
    client.send_raw("this is not json");
    let garbage = client.response();
    assert_eq!(garbage["error"]["code"], -32700, "{garbage}");
    assert_eq!(garbage["id"], Value::Null);
    let ping = client.request("ping", json!({}));
    assert_eq!(ping["result"], json!({}));

    assert_eq!(client.finish(), 0);
}

#[test]
fn mcp_offers_its_newest_version_to_an_unknown_one() {
    let env = TestEnv::autoresearch();
    let mut client = Client::start(&env);
    let initialized = client.initialize("1999-01-01");
    assert_eq!(initialized["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(client.finish(), 0);
}

#[test]
fn mcp_run_reports_progress_and_returns_the_outcome() {
    let env = TestEnv::autoresearch();
    let mut client = Client::start(&env);
    client.initialize("2025-11-25");

    // Nothing planned: the run is refused with the fix.
    let refused = client.call("dfh_run", json!({}));
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(text_of(&refused).contains("dfh plan"), "{refused}");

    env.plan("baseline");
    let response = client.request(
        "tools/call",
        json!({"name": "dfh_run", "arguments": {}, "_meta": {"progressToken": "run-1"}}),
    );
    let result = &response["result"];
    assert_eq!(result["isError"], false, "{response}");
    assert_eq!(result["structuredContent"]["experiment"], 1);
    assert_eq!(result["structuredContent"]["status"], "keep", "{response}");
    let progress: Vec<&Value> = client
        .notifications
        .iter()
        .filter(|message| message["method"] == "notifications/progress")
        .collect();
    assert!(
        !progress.is_empty(),
        "no progress for a run: {:?}",
        client.notifications
    );
    for notification in &progress {
        assert_eq!(notification["params"]["progressToken"], "run-1");
        assert!(notification["params"]["progress"].is_number());
    }
    assert_eq!(env.status()["best"]["experiment"], 1);
    assert_eq!(client.finish(), 0);
}

#[test]
fn mcp_answers_every_request_piped_before_stdin_closes() {
    let env = TestEnv::autoresearch();
    let input = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "sh", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "dfh_status"}}),
        json!({"jsonrpc": "2.0", "id": "last", "method": "tools/list"}),
    ]
    .iter()
    .map(ToString::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let mut child = env
        .command(&["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let responses: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let ids: Vec<&Value> = responses.iter().map(|response| &response["id"]).collect();
    assert_eq!(ids, [&json!(1), &json!(2), &json!("last")]);
    assert_eq!(responses[0]["result"]["protocolVersion"], "2025-03-26");
    assert_eq!(
        responses[1]["result"]["structuredContent"]["experiments"],
        0
    );
}

#[test]
fn mcp_cancellation_stops_a_running_experiment() {
    let env = TestEnv::autoresearch();
    // A training script that hangs after telling us its pid.
    env.write(
        "train.py",
        "import os, time\nopen(os.path.join('..', 'train.pid'), 'w').write(str(os.getpid()))\ntime.sleep(120)\nprint('val_bpb: 0.5')\n",
    );
    env.plan("baseline");
    let mut client = Client::start(&env);
    client.initialize("2025-11-25");
    client.send(&json!({
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "dfh_run", "arguments": {}, "_meta": {"progressToken": 7}},
    }));
    let pid_file = env.root.parent().unwrap().join("train.pid");
    assert!(
        wait_for(60.0, || pid_file.exists()),
        "training never started"
    );
    let pid: i32 = wait_pid(&pid_file);
    assert!(alive(pid));

    client.send(&json!({
        "jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 7, "reason": "the user changed their mind"},
    }));
    // The cancelled call gets no response; the next request does.
    client.next_id = 7;
    let ping = client.request("ping", json!({}));
    assert_eq!(ping["result"], json!({}));
    assert!(
        wait_for(30.0, || !alive(pid)),
        "training {pid} survived the cancellation"
    );
    assert!(client
        .notifications
        .iter()
        .any(|message| message["params"]["progressToken"] == 7));
    assert_eq!(client.finish(), 0);
}

fn wait_pid(path: &std::path::Path) -> i32 {
    let mut pid = None;
    wait_for(10.0, || {
        pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok());
        pid.is_some()
    });
    pid.expect("a pid in train.pid")
}
