//! Random operation sequences run against the memory store and the reference store, every
//! answer compared. The one freedom the memory store has: it may forget, at any time,
//! what can never matter again (a session past a deadline, an expired denial or epoch),
//! where the reference keeps it until `sweep`. When it does, the reference forgets it too,
//! so later answers are compared exactly again; after each `sweep` the counts must agree.

use proptest::prelude::*;
use proptest::sample::Index;

use crate::session::{ClientBinding, ClientCheck};
use crate::store::reference::ReferenceStore;

use super::*;

const USERS: u8 = 3;

#[derive(Debug, Clone)]
enum Op {
    /// `new_session_id` (the memory store's), then `create` in both.
    Login(New),
    /// A memory-store reservation, filled later by `FillReservation` (or never).
    Reserve,
    FillReservation(Index, New),
    /// `create` under an id the caller chose.
    CreateOwn(u8, New),
    Touch(Who, bool, Option<BindingCheck>, i64),
    Get(Who),
    Rotate(Who, Token, i64, BindingCheck),
    RevokeSession(Who),
    RevokeUser(u8, i64),
    UserNotBefore(u8),
    Deny(u8, i64),
    IsDenied(u8),
    Sweep,
    Advance(i64),
    Stats,
}

#[derive(Debug, Clone)]
struct New {
    user: u8,
    binding: ClientBinding,
    idle: i64,
    lifetime: i64,
}

/// A session id the sequence knows, or one it does not.
#[derive(Debug, Clone)]
enum Who {
    Known(Index),
    /// A known id with other random bits: same place, other session.
    Forged(Index),
    Unknown(u128),
}

/// The refresh token presented to `rotate`.
#[derive(Debug, Clone)]
enum Token {
    Current,
    Previous,
    /// Any jti the session ever had.
    Old(Index),
    Random,
}

fn digest() -> impl Strategy<Value = Option<[u8; 32]>> {
    prop_oneof![Just(None), (1u8..3).prop_map(|b| Some([b; 32]))]
}

fn binding() -> impl Strategy<Value = ClientBinding> {
    prop_oneof![
        3 => Just(ClientBinding::default()),
        1 => (digest(), digest()).prop_map(|(client, jkt)| ClientBinding { client, jkt }),
    ]
}

fn presented() -> impl Strategy<Value = BindingCheck> {
    let check = prop_oneof![
        Just(ClientCheck::Skip),
        Just(ClientCheck::Require),
        Just(ClientCheck::RequireOrRevoke)
    ];
    (digest(), digest(), check).prop_map(|(client, jkt, client_check)| BindingCheck {
        presented: ClientBinding { client, jkt },
        client_check,
    })
}

fn new() -> impl Strategy<Value = New> {
    (0..USERS, binding(), 1i64..30, 1i64..100).prop_map(|(user, binding, idle, lifetime)| New {
        user,
        binding,
        idle,
        lifetime,
    })
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        8 => any::<Index>().prop_map(Who::Known),
        1 => any::<Index>().prop_map(Who::Forged),
        1 => any::<u128>().prop_map(Who::Unknown),
    ]
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        4 => Just(Token::Current),
        2 => Just(Token::Previous),
        1 => any::<Index>().prop_map(Token::Old),
        1 => Just(Token::Random),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => new().prop_map(Op::Login),
        1 => Just(Op::Reserve),
        1 => (any::<Index>(), new()).prop_map(|(i, n)| Op::FillReservation(i, n)),
        1 => (0u8..4, new()).prop_map(|(id, n)| Op::CreateOwn(id, n)),
        8 => (who(), any::<bool>(), proptest::option::of(presented()), 1i64..30)
            .prop_map(|(w, slide, p, idle)| Op::Touch(w, slide, p, idle)),
        2 => who().prop_map(Op::Get),
        5 => (who(), token(), 0i64..10, presented())
            .prop_map(|(w, t, grace, p)| Op::Rotate(w, t, grace, p)),
        2 => who().prop_map(Op::RevokeSession),
        1 => (0..USERS, 0i64..60).prop_map(|(u, keep)| Op::RevokeUser(u, keep)),
        1 => (0..USERS).prop_map(Op::UserNotBefore),
        2 => (0u8..6, 0i64..40).prop_map(|(j, ttl)| Op::Deny(j, ttl)),
        2 => (0u8..6).prop_map(Op::IsDenied),
        1 => Just(Op::Sweep),
        4 => (0i64..20).prop_map(Op::Advance),
        1 => Just(Op::Stats),
    ]
}

/// The two stores, the clock, and what the sequence has handed out.
struct Run {
    memory: MemoryStore,
    reference: ReferenceStore,
    now: i64,
    sids: Vec<Id>,
    reserved: Vec<Id>,
    /// Every refresh jti each session had, in order.
    jtis: std::collections::HashMap<Id, Vec<Id>>,
    next_jti: u128,
}

fn user(u: u8) -> String {
    format!("user-{u}")
}

impl Run {
    fn new() -> Run {
        Run {
            memory: MemoryStore::new(),
            reference: ReferenceStore::default(),
            now: 1_000,
            sids: Vec::new(),
            reserved: Vec::new(),
            jtis: Default::default(),
            next_jti: 1,
        }
    }

    fn jti(&mut self) -> Id {
        self.next_jti += 1;
        Id(self.next_jti << 64 | 0xa5)
    }

    fn sid(&self, who: &Who) -> Id {
        let known =
            |i: &Index| (!self.sids.is_empty()).then(|| self.sids[i.index(self.sids.len())]);
        match who {
            Who::Known(i) => known(i).unwrap_or(Id(0)),
            Who::Forged(i) => known(i).map_or(Id(0), |sid| Id(sid.0 ^ (1 << 90))),
            Who::Unknown(id) => Id(*id),
        }
    }

    fn create(&mut self, sid: Id, new: &New) {
        let jti = self.jti();
        let mut s = Session::new(sid, user(new.user), jti, self.now, new.idle, new.lifetime);
        s.binding = new.binding;
        self.memory.create(s.clone(), self.now).unwrap();
        self.reference.create(s, self.now).unwrap();
        self.jtis.insert(sid, vec![jti]);
        if !self.sids.contains(&sid) {
            self.sids.push(sid);
        }
    }

    /// Whether the reference holds `sid` but it is over (so the memory store may not).
    fn forgettable(&self, sid: Id) -> bool {
        self.reference
            .peek(sid)
            .is_some_and(|s| s.is_dead(self.now))
    }

    fn forget(&self, sid: Id) {
        self.reference.forget(sid);
    }

    fn step(&mut self, op: &Op) -> std::result::Result<(), TestCaseError> {
        let now = self.now;
        match op {
            Op::Login(new) => {
                let sid = self.memory.new_session_id(now).unwrap();
                self.create(sid, new);
            }
            Op::Reserve => self.reserved.push(self.memory.new_session_id(now).unwrap()),
            Op::FillReservation(i, new) => {
                if !self.reserved.is_empty() {
                    let sid = self.reserved.remove(i.index(self.reserved.len()));
                    self.create(sid, new);
                }
            }
            Op::CreateOwn(id, new) => self.create(Id(u128::from(*id) + 1), new),
            Op::Touch(who, slide, presented, idle) => {
                let sid = self.sid(who);
                let forgettable = self.forgettable(sid);
                let m = self
                    .memory
                    .touch(sid, now, *idle, *slide, presented.as_ref());
                let r = self
                    .reference
                    .touch(sid, now, *idle, *slide, presented.as_ref());
                self.agree(sid, forgettable, m == Err(Error::SessionUnknown), &m, &r)?;
            }
            Op::Get(who) => {
                let sid = self.sid(who);
                let forgettable = self.forgettable(sid);
                let (m, r) = (self.memory.get(sid), self.reference.get(sid));
                self.agree(sid, forgettable, m == Ok(None), &m, &r)?;
            }
            Op::Rotate(who, token, grace, presented) => {
                let sid = self.sid(who);
                let held = self.reference.peek(sid);
                let jti = match (token, &held) {
                    (Token::Current, Some(s)) => s.current_jti,
                    (Token::Previous, Some(s)) => s.previous_jti.unwrap_or(Id(7)),
                    (Token::Old(i), Some(_)) => {
                        let all = &self.jtis[&sid];
                        all[i.index(all.len())]
                    }
                    _ => Id(0xdead),
                };
                let next = self.jti();
                let forgettable = self.forgettable(sid);
                let m = self
                    .memory
                    .rotate(sid, jti, next, now, 10, *grace, presented);
                let r = self
                    .reference
                    .rotate(sid, jti, next, now, 10, *grace, presented);
                if matches!(r, Ok(RotateOutcome::Rotated { .. })) {
                    self.jtis.entry(sid).or_default().push(next);
                }
                self.agree(sid, forgettable, m == Err(Error::SessionUnknown), &m, &r)?;
            }
            Op::RevokeSession(who) => {
                let sid = self.sid(who);
                let forgettable = self.forgettable(sid);
                let m = self.memory.revoke_session(sid);
                let r = self.reference.revoke_session(sid);
                self.agree(sid, forgettable, m == Ok(RevokeOutcome::Unknown), &m, &r)?;
            }
            Op::RevokeUser(u, keep) => {
                let held = self.reference.sessions_of(&user(*u));
                let may_be_forgotten: Vec<Id> = held
                    .iter()
                    .filter(|s| s.is_dead(now) && !s.revoked)
                    .map(|s| s.sid)
                    .collect();
                let m = self.memory.revoke_user(&user(*u), now, now + keep).unwrap();
                let r = self
                    .reference
                    .revoke_user(&user(*u), now, now + keep)
                    .unwrap();
                prop_assert!(
                    m <= r && m + may_be_forgotten.len() >= r,
                    "revoke_user: memory {m}, reference {r}"
                );
                if m < r {
                    // Some of those the memory store had forgotten: find which.
                    for sid in may_be_forgotten {
                        if self.memory.get(sid).unwrap().is_none() {
                            self.forget(sid);
                        }
                    }
                }
            }
            Op::UserNotBefore(u) => {
                let m = self.memory.user_not_before(&user(*u)).unwrap();
                let r = self.reference.user_not_before(&user(*u)).unwrap();
                let expired = self
                    .reference
                    .epoch(&user(*u))
                    .is_some_and(|(_, t)| t <= now);
                if m != r {
                    prop_assert!(m.is_none() && expired, "user_not_before: {m:?} {r:?}");
                    self.reference.forget_epoch(&user(*u));
                }
            }
            Op::Deny(j, ttl) => {
                let jti = format!("jti-{j}");
                let expired = self.reference.denied_until(&jti).is_some_and(|t| t <= now);
                let m = self.memory.deny_jti(&jti, now + ttl, now).unwrap();
                let r = self.reference.deny_jti(&jti, now + ttl, now).unwrap();
                if m != r {
                    prop_assert!(m && !r && expired, "deny_jti: {m} {r}");
                    self.reference.forget_denied(&jti);
                    self.reference.deny_jti(&jti, now + ttl, now).unwrap();
                }
            }
            Op::IsDenied(j) => {
                let jti = format!("jti-{j}");
                let expired = self.reference.denied_until(&jti).is_some_and(|t| t <= now);
                let m = self.memory.is_denied(&jti).unwrap();
                let r = self.reference.is_denied(&jti).unwrap();
                if m != r {
                    prop_assert!(!m && expired, "is_denied: {m} {r}");
                    self.reference.forget_denied(&jti);
                }
            }
            Op::Sweep => {
                let m = self.memory.sweep(now).unwrap();
                let r = self.reference.sweep(now).unwrap();
                prop_assert!(m <= r, "sweep: memory {m}, reference {r}");
                // Both hold exactly what still matters now.
                prop_assert_eq!(
                    self.memory.stats().unwrap(),
                    self.reference.stats().unwrap()
                );
            }
            Op::Advance(secs) => self.now += secs,
            Op::Stats => {
                let (m, r) = (
                    self.memory.stats().unwrap(),
                    self.reference.stats().unwrap(),
                );
                prop_assert!(m.sessions <= r.sessions, "{m:?} {r:?}");
                prop_assert!(m.revoked_sessions <= r.revoked_sessions, "{m:?} {r:?}");
                prop_assert!(m.denied_jtis <= r.denied_jtis, "{m:?} {r:?}");
                prop_assert!(m.user_epochs <= r.user_epochs, "{m:?} {r:?}");
            }
        }
        Ok(())
    }

    /// The same answer; or the memory store forgot `sid` (answered `forgot`), which it may
    /// only once the session is over: then the reference forgets it too.
    fn agree<T: PartialEq + std::fmt::Debug>(
        &self,
        sid: Id,
        forgettable: bool,
        forgot: bool,
        m: &T,
        r: &T,
    ) -> std::result::Result<(), TestCaseError> {
        if m == r {
            return Ok(());
        }
        prop_assert!(
            forgot && forgettable,
            "memory answered {m:?}, reference {r:?} for {sid:?} at {}",
            self.now
        );
        self.forget(sid);
        Ok(())
    }
}

proptest! {
    #![proptest_config(super::prop_config(128))]

    #[test]
    fn the_memory_store_answers_as_the_reference_store_does(
        ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 30 } else { 300 }),
    ) {
        let mut run = Run::new();
        for op in &ops {
            run.step(op)?;
        }
        run.step(&Op::Sweep)?;
    }
}
