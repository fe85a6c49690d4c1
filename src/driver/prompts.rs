//! The prompts of agent steps: `assets/prompts/<step>.md`, overridable by a file of the same
//! name in docs/prompts/, with `{{placeholders}}` filled in.

use crate::project::Project;

const PLAN: &str = include_str!("../../assets/prompts/plan.md");
const FIX: &str = include_str!("../../assets/prompts/fix.md");
const RETRY: &str = include_str!("../../assets/prompts/retry.md");
const LEARN: &str = include_str!("../../assets/prompts/learn.md");
const DISTILL: &str = include_str!("../../assets/prompts/distill.md");

/// The template of `step`: the project's own docs/prompts/<step>.md when present.
pub fn template(project: &Project, step: &str) -> String {
    if let Ok(text) = std::fs::read_to_string(project.path(&format!("docs/prompts/{step}.md"))) {
        return text;
    }
    match step {
        "fix" => FIX,
        "retry" => RETRY,
        "learn" => LEARN,
        "distill" => DISTILL,
        _ => PLAN,
    }
    .to_string()
}

/// Fills `{{name}}` placeholders; unknown ones are left as they are.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = template.to_string();
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders() {
        assert_eq!(
            fill("a {{x}} b {{y}} {{z}}", &[("x", "1"), ("y", "2")]),
            "a 1 b 2 {{z}}"
        );
        assert!(PLAN.contains("{{brief}}") && PLAN.contains("{{experiment}}"));
    }
}
