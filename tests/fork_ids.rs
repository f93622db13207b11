//! Ids come from per-thread blocks of OS randomness: a forked child (a gunicorn worker)
//! must never hand out the ids its parent will.
#![cfg(unix)]

use keyfob::session::Id;

#[test]
fn a_forked_child_never_repeats_the_parents_ids() {
    // Draw one id so this thread holds a partly used block when it forks.
    let _ = Id::random().unwrap();
    let mut fds = [0i32; 2];
    // SAFETY: plain POSIX calls; the child only draws ids, writes them and exits.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let pid = libc::fork();
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let mut out = [b'0'; 32 * 8];
            for chunk in out.chunks_mut(32) {
                if let Ok(id) = Id::random() {
                    chunk.copy_from_slice(&id.to_hex());
                }
            }
            libc::write(fds[1], out.as_ptr().cast(), out.len());
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut got = [0u8; 32 * 8];
        let mut read = 0;
        while read < got.len() {
            let n = libc::read(fds[0], got[read..].as_mut_ptr().cast(), got.len() - read);
            assert!(n > 0, "child wrote nothing");
            read += n as usize;
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        let zero = Id::parse(&"0".repeat(32)).unwrap();
        let child: Vec<Id> = got
            .chunks(32)
            .map(|c| Id::parse(std::str::from_utf8(c).unwrap()).expect("hex id"))
            .collect();
        let parent: Vec<Id> = (0..8).map(|_| Id::random().unwrap()).collect();
        for id in &child {
            assert_ne!(*id, zero);
            assert!(!parent.contains(id), "child repeated a parent id");
        }
    }
}

#[test]
fn ids_are_distinct_across_many_blocks() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..10_000 {
        assert!(seen.insert(Id::random().unwrap()));
    }
}
