//! "Did you mean" suggestions: known names close to a misspelt one.

/// Up to `limit` candidates near `wanted` (edit distance ignoring case, or one containing the
/// other), closest first.
pub(crate) fn close_names<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a str>,
    limit: usize,
) -> Vec<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .filter(|candidate| *candidate != wanted)
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let distance = edit_distance(&wanted_lower, &lower);
            let longest = wanted_lower.chars().count().max(lower.chars().count());
            let contains = lower.len() >= 3
                && wanted_lower.len() >= 3
                && (lower.contains(&wanted_lower) || wanted_lower.contains(&lower));
            let close = distance <= (longest / 3).max(1);
            (close || contains).then_some((distance, candidate))
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored
        .into_iter()
        .take(limit)
        .map(|(_, candidate)| candidate)
        .collect()
}

/// Levenshtein distance over characters; long inputs are cut, so the cost stays small.
fn edit_distance(left: &str, right: &str) -> usize {
    let left: Vec<char> = left.chars().take(64).collect();
    let right: Vec<char> = right.chars().take(64).collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    let mut current = vec![0; right.len() + 1];
    for (i, left_char) in left.iter().enumerate() {
        current[0] = i + 1;
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != right_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_misspellings_and_case_slips() {
        let known = ["NUM_HEADS", "N_HEAD", "SEQ_LEN", "ROTARY_DIM", "DEPTH"];
        assert_eq!(
            close_names("NUM_HEAD", known.iter().copied(), 3),
            ["NUM_HEADS", "N_HEAD"]
        );
        assert_eq!(
            close_names("seq_len", known.iter().copied(), 3),
            ["SEQ_LEN"]
        );
        assert!(close_names("BATCH", known.iter().copied(), 3).is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
