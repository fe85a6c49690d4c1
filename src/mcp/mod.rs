//! `dfh mcp`: the dfh commands as Model Context Protocol tools over stdio.
//!
//! A small JSON-RPC 2.0 server: one JSON message a line on stdin and stdout (never batches),
//! `initialize` (protocol version negotiation) -> `notifications/initialized` -> `tools/list`
//! -> `tools/call`. Each call runs the dfh binary itself with `--json`, so a tool is exactly
//! its command; a refusal (exit 3) comes back as a tool result with `isError` and the teaching
//! message, an unknown tool or a malformed message as a JSON-RPC error. While a call runs, the
//! server still answers `ping`, honours `notifications/cancelled`, and sends
//! `notifications/progress` when the call carried a `progressToken`.

mod child;
pub mod tools;

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use child::{Finished, Running};
use tools::Tool;

/// Protocol revisions this server speaks, newest first; the newest is offered to a client
/// that asks for one we do not know.
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// Time between progress notifications of a running tool.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// How often a running child is polled while no message arrives.
const POLL: Duration = Duration::from_millis(50);

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

const INSTRUCTIONS: &str = include_str!("../../assets/agent/mcp-instructions.md");

enum Incoming {
    Line(String),
    End,
}

/// Where the tools run: the dfh binary and the project directory.
#[derive(Debug, Clone)]
pub struct Setup {
    pub dfh: PathBuf,
    pub dir: PathBuf,
}

/// Serves MCP on `input`/`output` until `input` ends and every request read is answered.
pub fn serve<R, W>(input: R, output: W, setup: Setup) -> std::io::Result<()>
where
    R: BufRead + Send + 'static,
    W: Write,
{
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in input.lines() {
            let Ok(line) = line else { break };
            if sender.send(Incoming::Line(line)).is_err() {
                return;
            }
        }
        let _ = sender.send(Incoming::End);
    });
    let mut server = Server {
        output,
        setup,
        incoming: receiver,
        pending: VecDeque::new(),
        ended: false,
    };
    server.run()
}

struct Server<W> {
    output: W,
    setup: Setup,
    incoming: Receiver<Incoming>,
    /// Messages that arrived while a tool ran, handled after it.
    pending: VecDeque<String>,
    ended: bool,
}

/// A JSON-RPC error: code and message.
type RpcError = (i64, String);

impl<W: Write> Server<W> {
    fn run(&mut self) -> std::io::Result<()> {
        loop {
            let line = match self.pending.pop_front() {
                Some(line) => line,
                None if self.ended => return Ok(()),
                None => match self.incoming.recv() {
                    Ok(Incoming::Line(line)) => line,
                    Ok(Incoming::End) | Err(_) => {
                        self.ended = true;
                        continue;
                    }
                },
            };
            self.handle(&line)?;
        }
    }

    fn handle(&mut self, line: &str) -> std::io::Result<()> {
        if line.trim().is_empty() {
            return Ok(());
        }
        let message: Value = match serde_json::from_str(line) {
            Ok(message) => message,
            Err(error) => {
                return self.send_error(Value::Null, (PARSE_ERROR, format!("not JSON: {error}")))
            }
        };
        let Value::Object(message) = message else {
            return self.send_error(
                Value::Null,
                (
                    INVALID_REQUEST,
                    "send one JSON-RPC object a line; batches are not supported".into(),
                ),
            );
        };
        let method = message.get("method").and_then(Value::as_str);
        let (Some(method), Some(id)) = (method, message.get("id").cloned()) else {
            // A notification (initialized, cancelled for a call already answered) or a
            // response to a request this server never sends: nothing to answer.
            return Ok(());
        };
        if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return self.send_error(id, (INVALID_REQUEST, "jsonrpc must be \"2.0\"".into()));
        }
        let params = message.get("params");
        let result = match method {
            "initialize" => Ok(initialize(params)),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({
                "tools": tools::TOOLS.iter().map(Tool::describe).collect::<Vec<_>>(),
            })),
            "tools/call" => return self.call(id, params),
            other => Err((
                METHOD_NOT_FOUND,
                format!("method `{other}` is not supported: dfh serves tools only (tools/list, tools/call)"),
            )),
        };
        match result {
            Ok(result) => self.send_result(id, result),
            Err(error) => self.send_error(id, error),
        }
    }

    fn call(&mut self, id: Value, params: Option<&Value>) -> std::io::Result<()> {
        let name = params
            .and_then(|params| params.get("name"))
            .and_then(Value::as_str);
        let Some(name) = name else {
            return self.send_error(id, (INVALID_PARAMS, "tools/call needs params.name".into()));
        };
        let Some(tool) = tools::find(name) else {
            return self.send_error(
                id,
                (
                    INVALID_PARAMS,
                    format!("unknown tool `{name}`; tools/list names the tools"),
                ),
            );
        };
        let token = params
            .and_then(|params| params.get("_meta"))
            .and_then(|meta| meta.get("progressToken"))
            .filter(|token| token.is_string() || token.is_i64() || token.is_u64())
            .cloned();
        let invocation = match tool.invocation(params.and_then(|params| params.get("arguments"))) {
            Ok(invocation) => invocation,
            Err(message) => {
                return self.send_result(id, error_result(format!("invalid arguments: {message}")))
            }
        };
        let mut running = match Running::start(&self.setup.dfh, &self.setup.dir, &invocation) {
            Ok(running) => running,
            Err(error) => {
                let text = format!("cannot start {}: {error}", self.setup.dfh.display());
                return self.send_result(id, error_result(text));
            }
        };
        let started = Instant::now();
        let mut last_progress = None;
        if tool.long {
            self.progress(token.as_ref(), &mut last_progress, 0.0, tool)?;
        }
        let mut next_tick = started + PROGRESS_EVERY;
        let mut cancelled = false;
        let finished = loop {
            if let Some(finished) = running.poll()? {
                break finished;
            }
            if self.ended {
                std::thread::sleep(POLL);
            } else {
                match self.incoming.recv_timeout(POLL) {
                    Ok(Incoming::Line(line)) => {
                        cancelled |= self.during_call(&line, &id, &running)?;
                    }
                    Ok(Incoming::End) | Err(RecvTimeoutError::Disconnected) => self.ended = true,
                    Err(RecvTimeoutError::Timeout) => {}
                }
            }
            if Instant::now() >= next_tick {
                next_tick += PROGRESS_EVERY;
                let elapsed = started.elapsed().as_secs_f64().floor();
                self.progress(token.as_ref(), &mut last_progress, elapsed, tool)?;
            }
        };
        if cancelled {
            // The spec asks for no response to a cancelled request.
            return Ok(());
        }
        self.send_result(id, tool_result(tool, &finished))
    }

    /// A message that arrived while a tool runs: a ping is answered, a cancellation of this
    /// call stops the child (returns true), anything else waits for the call to end.
    fn during_call(&mut self, line: &str, id: &Value, running: &Running) -> std::io::Result<bool> {
        let parsed: Option<Map<String, Value>> = serde_json::from_str(line).ok();
        let method = parsed
            .as_ref()
            .and_then(|message| message.get("method"))
            .and_then(Value::as_str);
        match (method, parsed.as_ref()) {
            (Some("notifications/cancelled"), Some(message))
                if message
                    .get("params")
                    .and_then(|params| params.get("requestId"))
                    == Some(id) =>
            {
                running.terminate();
                Ok(true)
            }
            (Some("ping"), Some(message)) if message.get("id").is_some() => {
                let ping_id = message.get("id").cloned().unwrap_or(Value::Null);
                self.send_result(ping_id, json!({}))?;
                Ok(false)
            }
            _ => {
                self.pending.push_back(line.to_string());
                Ok(false)
            }
        }
    }

    fn progress(
        &mut self,
        token: Option<&Value>,
        last: &mut Option<f64>,
        elapsed: f64,
        tool: &Tool,
    ) -> std::io::Result<()> {
        let Some(token) = token else { return Ok(()) };
        // Progress must increase with every notification.
        if last.is_some_and(|last| elapsed <= last) {
            return Ok(());
        }
        *last = Some(elapsed);
        let verb = tool.command.join(" ");
        let message = if elapsed == 0.0 {
            format!("dfh {verb} started")
        } else {
            format!("dfh {verb}: {elapsed:.0} s elapsed")
        };
        self.send(&json!({
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {"progressToken": token, "progress": elapsed, "message": message},
        }))
    }

    fn send_result(&mut self, id: Value, result: Value) -> std::io::Result<()> {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}))
    }

    fn send_error(&mut self, id: Value, (code, message): RpcError) -> std::io::Result<()> {
        self.send(&json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": code, "message": message},
        }))
    }

    fn send(&mut self, message: &Value) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.output, message)?;
        self.output.write_all(b"\n")?;
        self.output.flush()
    }
}

fn initialize(params: Option<&Value>) -> Value {
    let requested = params
        .and_then(|params| params.get("protocolVersion"))
        .and_then(Value::as_str);
    let version = requested
        .and_then(|requested| PROTOCOL_VERSIONS.iter().find(|known| **known == requested))
        .unwrap_or(&PROTOCOL_VERSIONS[0]);
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {
            "name": "dfh",
            "title": "Dark Factory Harness",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "instructions": INSTRUCTIONS.trim(),
    })
}

fn error_result(text: String) -> Value {
    json!({"content": [{"type": "text", "text": text}], "isError": true})
}

/// The tool result of a finished command: its `--json` output as text and structured
/// content, or the error (a refusal's teaching message above all) with `isError`.
fn tool_result(tool: &Tool, finished: &Finished) -> Value {
    let stdout = finished.stdout.trim();
    let talk = finished.stderr.trim();
    let parsed: Option<Value> = serde_json::from_str(stdout).ok();
    let verb = tool.command.join(" ");
    if finished.code == Some(0) {
        let mut content = vec![json!({"type": "text", "text": stdout})];
        if !talk.is_empty() {
            content
                .push(json!({"type": "text", "text": format!("notes from dfh {verb}:\n{talk}")}));
        }
        let mut result = json!({"content": content, "isError": false});
        if let Some(object @ Value::Object(_)) = parsed {
            result["structuredContent"] = object;
        }
        return result;
    }
    let error = parsed
        .as_ref()
        .and_then(|value| value.get("error"))
        .and_then(Value::as_str);
    let message = match error {
        Some(error) => error.to_string(),
        None if talk.is_empty() => stdout.to_string(),
        // The command's own label (`refused: `, `error: `) would repeat ours.
        None => talk
            .lines()
            .map(|line| {
                line.strip_prefix("refused: ")
                    .or_else(|| line.strip_prefix("error: "))
                    .unwrap_or(line)
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let what = match (finished.code, finished.signal) {
        (Some(3), _) => "refused".to_string(),
        (Some(2), _) => "usage error".to_string(),
        (Some(code), _) => format!("failed (exit {code})"),
        (None, Some(signal)) => format!("stopped by signal {signal}"),
        (None, None) => "ended without a status".to_string(),
    };
    let mut result = error_result(format!("dfh {verb} {what}: {message}"));
    // A command that reports its refusal as a full view (`dfh check`) keeps it readable.
    if error.is_none() && parsed.as_ref().is_some_and(Value::is_object) {
        if let Some(Value::Array(content)) = result.get_mut("content") {
            content.push(json!({"type": "text", "text": stdout}));
        }
    }
    result
}
