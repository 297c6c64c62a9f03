//! Conformance test of a graceful shutdown's `close`.

use super::new_project;
use crate::Store;

/// `close` succeeds with writes just acknowledged, and a second `close` (a
/// shutdown path reached twice) succeeds too.
pub async fn close_after_writes_succeeds_and_can_repeat<S: Store>(store: &S) {
    let p = store
        .create_project(new_project("closing"))
        .await
        .expect("create");
    assert_eq!(
        store
            .project_by_name("closing")
            .await
            .expect("read")
            .map(|q| q.id),
        Some(p.id)
    );
    store.close().await.expect("close");
    store.close().await.expect("close again");
}
