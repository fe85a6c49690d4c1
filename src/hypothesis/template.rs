//! The entry template that refusals show, filled with the experiment number, the metric and
//! whatever the agent already wrote, so the fix can be copied as it stands.

pub(crate) const TITLE: &str = "<short title of the change>";
pub(crate) const HYPOTHESIS: &str = "<what you change, and why it should help>";
pub(crate) const EXPECTED_VALUE: &str = "<the value you predict>";
pub(crate) const INSPIRED_BY: &str =
    "<docs/papers/NAME.md, Experiment N (a recorded one), or docs/strategy.md#section>";
pub(crate) const RISK: &str = "<what could go wrong, and how you would see it>";
pub(crate) const DIRECTION: &str = "<a short slug naming the research direction, e.g. energy-head>";

/// Texts an entry already has; `None` shows the placeholder.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Filled<'text> {
    pub(crate) title: Option<&'text str>,
    pub(crate) hypothesis: Option<&'text str>,
    pub(crate) expected: Option<&'text str>,
    pub(crate) inspired_by: Option<&'text str>,
    pub(crate) risk: Option<&'text str>,
    pub(crate) direction: Option<&'text str>,
}

/// The blank entry template for experiment `number`, predicting `metric`.
pub fn template(number: u32, metric: &str) -> String {
    filled_template(number, metric, &Filled::default())
}

pub(crate) fn filled_template(number: u32, metric: &str, filled: &Filled) -> String {
    let or = |text: Option<&str>, placeholder: &str| {
        text.filter(|text| !text.trim().is_empty())
            .unwrap_or(placeholder)
            .to_string()
    };
    let expected = format!("{metric} ~{EXPECTED_VALUE}");
    format!(
        "## Experiment {number} — {}\nHypothesis: {}\nExpected outcome: {}\nInspired by: {}\n\
         Risk: {}\nDirection: {}\n",
        or(filled.title, TITLE),
        or(filled.hypothesis, HYPOTHESIS),
        or(filled.expected, &expected),
        or(filled.inspired_by, INSPIRED_BY),
        or(filled.risk, RISK),
        or(filled.direction, DIRECTION),
    )
}

/// True when a field still holds a template placeholder.
pub(crate) fn holds_placeholder(text: &str) -> bool {
    [
        TITLE,
        HYPOTHESIS,
        EXPECTED_VALUE,
        INSPIRED_BY,
        RISK,
        DIRECTION,
    ]
    .iter()
    .any(|placeholder| text.contains(placeholder))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_template_names_number_metric_and_every_field() {
        assert_eq!(
            template(15, "val_bpb"),
            "## Experiment 15 — <short title of the change>\n\
             Hypothesis: <what you change, and why it should help>\n\
             Expected outcome: val_bpb ~<the value you predict>\n\
             Inspired by: <docs/papers/NAME.md, Experiment N (a recorded one), or \
             docs/strategy.md#section>\n\
             Risk: <what could go wrong, and how you would see it>\n\
             Direction: <a short slug naming the research direction, e.g. energy-head>\n"
        );
    }

    #[test]
    fn the_template_parses_and_is_recognised_as_placeholders() {
        let log = super::super::parse::parse(&template(3, "pass@1"));
        let entry = &log.entries[0];
        assert_eq!(entry.number, 3);
        let texts = [
            &entry.hypothesis,
            &entry.expected,
            &entry.inspired_by,
            &entry.risk,
        ];
        for field in texts {
            assert!(field
                .as_ref()
                .is_some_and(|field| holds_placeholder(&field.text)));
        }
        assert!(holds_placeholder(&entry.title));
    }
}
