//! Code regions of a Python file (functions, classes, methods, module constants) with their
//! line ranges, so a diff can be named by what it touches ("GPT.forward", "DEPTH").

use serde::Serialize;

use super::lexer::{tokenize, LogicalLine, Tokenized};
use super::statements::{block_header, classify_assignment, is_decorator, BlockKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    Function,
    Class,
    Method,
    Constant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    pub kind: RegionKind,
    /// `train`, `GPT`, `GPT.forward` or `DEPTH`.
    pub name: String,
    /// 1-based inclusive line range; a block starts at its first decorator.
    pub start: usize,
    pub end: usize,
}

impl Region {
    fn contains(&self, line: usize) -> bool {
        (self.start..=self.end).contains(&line)
    }
}

/// Name reported for changed lines outside every region.
pub const MODULE_REGION: &str = "<module>";

/// Top-level functions and classes, the methods of classes, and module-level assignments,
/// in file order (a class comes before its methods).
pub fn scan_regions(source: &str) -> Vec<Region> {
    let tokenized = tokenize(source);
    let lines = &tokenized.lines;
    let mut regions = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let Some(block) = read_block(source, &tokenized, index, 0) else {
            if let Some(line) = lines.get(index) {
                if line.indent == 0 {
                    constant_regions(source, &tokenized, line, &mut regions);
                }
            }
            index += 1;
            continue;
        };
        regions.push(Region {
            kind: match block.kind {
                BlockKind::Function => RegionKind::Function,
                BlockKind::Class => RegionKind::Class,
            },
            name: block.name.clone(),
            start: block.start,
            end: block.end,
        });
        if block.kind == BlockKind::Class {
            method_regions(source, &tokenized, &block, &mut regions);
        }
        index = block.next;
    }
    regions
}

/// A `def` or `class` block found at logical line `first` (on its decorators, if any).
struct Block {
    kind: BlockKind,
    name: String,
    start: usize,
    end: usize,
    /// Index of the header's logical line.
    header: usize,
    /// Index of the first logical line after the block.
    next: usize,
}

/// Reads a block at `first` whose lines sit at exactly `indent`; `None` when there is none.
fn read_block(source: &str, tokenized: &Tokenized, first: usize, indent: usize) -> Option<Block> {
    let lines = &tokenized.lines;
    let mut header = first;
    while lines.get(header).is_some_and(|line| {
        line.indent == indent && is_decorator(source, tokenized.line_tokens(line))
    }) {
        header += 1;
    }
    let header_line = lines.get(header).filter(|line| line.indent == indent)?;
    let (kind, name) = block_header(source, tokenized.line_tokens(header_line))?;
    let mut next = header + 1;
    let mut end = header_line.end_line;
    while let Some(line) = lines.get(next).filter(|line| line.indent > indent) {
        end = line.end_line;
        next += 1;
    }
    Some(Block {
        kind,
        name: name.text(source).to_string(),
        start: lines.get(first)?.start_line,
        end,
        header,
        next,
    })
}

fn method_regions(source: &str, tokenized: &Tokenized, class: &Block, regions: &mut Vec<Region>) {
    let lines = &tokenized.lines;
    let Some(body_indent) = lines.get(class.header + 1).map(|line| line.indent) else {
        return;
    };
    let mut index = class.header + 1;
    while index < class.next {
        match read_block(source, tokenized, index, body_indent) {
            Some(block) => {
                if block.kind == BlockKind::Function {
                    regions.push(Region {
                        kind: RegionKind::Method,
                        name: format!("{}.{}", class.name, block.name),
                        start: block.start,
                        end: block.end,
                    });
                }
                index = block.next;
            }
            None => index += 1,
        }
    }
}

fn constant_regions(
    source: &str,
    tokenized: &Tokenized,
    line: &LogicalLine,
    regions: &mut Vec<Region>,
) {
    let Some(assignment) = classify_assignment(source, tokenized.line_tokens(line)) else {
        return;
    };
    for name in assignment.names() {
        regions.push(Region {
            kind: RegionKind::Constant,
            name: name.text(source).to_string(),
            start: line.start_line,
            end: line.end_line,
        });
    }
}

/// Names of the regions that `changed_lines` touch, in file order, each once: a method as
/// `Class.method`, a class line outside its methods as the class. Lines outside every region
/// give `<module>`, reported only when nothing else was touched.
pub fn regions_touched(source: &str, changed_lines: &[usize]) -> Vec<String> {
    let regions = scan_regions(source);
    let mut touched: Vec<&Region> = Vec::new();
    let mut outside = false;
    for &line in changed_lines {
        let method = regions
            .iter()
            .find(|region| region.kind == RegionKind::Method && region.contains(line));
        match method.or_else(|| regions.iter().find(|region| region.contains(line))) {
            Some(region) => {
                if !touched.iter().any(|seen| std::ptr::eq(*seen, region)) {
                    touched.push(region);
                }
            }
            None => outside = true,
        }
    }
    touched.sort_by_key(|region| (region.start, region.kind == RegionKind::Method));
    let mut names: Vec<String> = Vec::new();
    for region in touched {
        if !names.contains(&region.name) {
            names.push(region.name.clone());
        }
    }
    if names.is_empty() && outside {
        names.push(MODULE_REGION.to_string());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/gpt_train.py");

    fn shown(regions: &[Region]) -> Vec<(RegionKind, &str, usize, usize)> {
        regions
            .iter()
            .map(|r| (r.kind, r.name.as_str(), r.start, r.end))
            .collect()
    }

    #[test]
    fn regions_of_the_fixture() {
        use RegionKind::{Class, Constant, Function, Method};
        let regions = scan_regions(FIXTURE);
        let expected = vec![
            (Constant, "DEPTH", 20, 20),
            (Constant, "N_EMBD", 21, 21),
            (Constant, "N_HEAD", 22, 22),
            (Constant, "HEAD_DIM", 23, 23),
            (Constant, "SEQ_LEN", 24, 24),
            (Constant, "ROTARY_DIM", 25, 25),
            (Constant, "TOTAL_BATCH_SIZE", 26, 26),
            (Constant, "TOTAL_TOKENS", 27, 27),
            (Constant, "LEARNING_RATE", 28, 28),
            (Constant, "WEIGHT_DECAY", 29, 29),
            (Constant, "BETAS", 30, 30),
            (Constant, "WARMUP_ITERS", 31, 31),
            (Constant, "DEVICE", 32, 32),
            (Constant, "DATA_DIR", 33, 33),
            (Constant, "DTYPE", 34, 34),
            (Constant, "COMPILE", 35, 35),
            (Constant, "EVAL_SCHEDULE", 36, 40),
            (Constant, "batch_size", 41, 41),
            (Constant, "MAX_STEPS", 42, 42),
            (Constant, "HELP", 43, 45),
            (Class, "GPTConfig", 48, 59),
            (Class, "CausalSelfAttention", 62, 78),
            (Method, "CausalSelfAttention.__init__", 65, 70),
            (Method, "CausalSelfAttention.forward", 73, 78),
            (Class, "MLP", 81, 88),
            (Method, "MLP.__init__", 82, 85),
            (Method, "MLP.forward", 87, 88),
            (Class, "Block", 91, 100),
            (Method, "Block.__init__", 92, 95),
            (Method, "Block.forward", 97, 100),
            (Class, "GPT", 103, 148),
            (Method, "GPT.__init__", 109, 118),
            (Method, "GPT.forward", 120, 131),
            (Method, "GPT.count_parameters", 133, 135),
            (Method, "GPT.configure_optimizers", 137, 142),
            (Method, "GPT.generate", 144, 148),
            (Function, "estimate_loss", 151, 159),
            (Function, "get_lr", 162, 167),
            (Function, "parse_args", 170, 184),
            (Function, "train", 187, 200),
        ];
        assert_eq!(shown(&regions), expected);
    }

    #[test]
    fn touched_regions_name_methods_classes_and_constants() {
        assert_eq!(regions_touched(FIXTURE, &[125]), ["GPT.forward"]);
        // A nested function belongs to its method.
        assert_eq!(
            regions_touched(FIXTURE, &[116, 125, 124]),
            ["GPT.__init__", "GPT.forward"]
        );
        // The class docstring is in the class, outside every method.
        assert_eq!(regions_touched(FIXTURE, &[106]), ["GPT"]);
        assert_eq!(
            regions_touched(FIXTURE, &[195, 25, 133]),
            ["ROTARY_DIM", "GPT.count_parameters", "train"]
        );
        assert_eq!(regions_touched(FIXTURE, &[5, 13]), ["<module>"]);
        assert_eq!(regions_touched(FIXTURE, &[13, 38]), ["EVAL_SCHEDULE"]);
        assert_eq!(regions_touched(FIXTURE, &[72]), ["CausalSelfAttention"]);
        assert!(regions_touched(FIXTURE, &[]).is_empty());
    }

    #[test]
    fn odd_layouts() {
        let source = "def f(): return 1\nclass A: pass\n@decorate\n\n@other(\n  1)\ndef g(\n  a,\n):\n\n\n    return a\n# trailing comment\n";
        let regions = scan_regions(source);
        assert_eq!(
            shown(&regions),
            [
                (RegionKind::Function, "f", 1, 1),
                (RegionKind::Class, "A", 2, 2),
                (RegionKind::Function, "g", 3, 12)
            ]
        );
        let windows = "\u{feff}X = 1\r\ndef f():\r\n    return 2\r\n\r\n# end\r\n";
        assert_eq!(
            shown(&scan_regions(windows)),
            [
                (RegionKind::Constant, "X", 1, 1),
                (RegionKind::Function, "f", 2, 3)
            ]
        );
        let tabs = "class T:\n\tdef a(self):\n\t\treturn 1\n\tdef b(self): pass\n";
        let regions = scan_regions(tabs);
        assert_eq!(
            shown(&regions),
            [
                (RegionKind::Class, "T", 1, 4),
                (RegionKind::Method, "T.a", 2, 3),
                (RegionKind::Method, "T.b", 4, 4)
            ]
        );
    }
}
