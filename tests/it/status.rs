//! `dfh status` read from the snapshot's outline says exactly what the whole journal says.

use crate::support::TestEnv;

#[test]
fn status_from_the_outline_is_status_from_the_whole_journal() {
    let env = TestEnv::synthetic(300);
    let snapshot = env.path(".dfh/state.snapshot");
    let _ = std::fs::remove_file(&snapshot);
    let whole = env.status();
    assert!(
        snapshot.exists(),
        "a first read of a long journal writes the snapshot"
    );
    assert_eq!(env.status(), whole, "read from the outline");
    // Events after the snapshot are folded onto the outline.
    env.dfh_ok(&["learn", "300", "the outline keeps learnings apart"]);
    env.dfh_ok(&["learn", "12", "an old experiment learns late"]);
    let _ = env.dfh(&["distill"]);
    let from_outline = env.status();
    std::fs::remove_file(&snapshot).unwrap();
    assert_eq!(from_outline, env.status(), "after the tail");
    assert_ne!(from_outline, whole, "the tail changed the status");
}
