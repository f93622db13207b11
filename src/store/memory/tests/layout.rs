//! How a place is laid out, and the values kept in it.

use super::super::place::INLINE_USER_ID;
use super::super::place::{first_line_end, Hot, Locked, Packed, Place, PlaceRef, State, UserId};
use crate::session::Id;

#[test]
fn a_place_is_two_cache_lines_with_the_hot_fields_in_the_first() {
    // A slab place is what every live session costs (plus its user id).
    assert_eq!(std::mem::size_of::<Place>(), 128);
    assert_eq!(std::mem::align_of::<Place>(), 64);
    assert!(first_line_end() <= 64, "{}", first_line_end());
    assert_eq!(std::mem::size_of::<UserId>(), 24);
    assert_eq!(std::mem::size_of::<Locked>(), 80);
}

#[test]
fn zero_bytes_are_a_vacant_place() {
    // SAFETY: the claim under test: every field is valid as zero bytes (atomics, integers,
    // `None` boxes, `UserId::None`).
    let place: Place = unsafe { std::mem::zeroed() };
    assert_eq!(place.hot(), Place::vacant().hot());
    assert_eq!(
        place.hot(),
        Hot {
            id: Packed::NONE,
            state: State::Free,
            bound: false,
            revoked: false,
            idle_deadline: 0,
            absolute_deadline: 0,
        }
    );
    // SAFETY: no `PlaceMut` of this local place exists.
    let seen = unsafe { PlaceRef::new(&place) };
    assert!(seen.locked().user_id.as_str().is_none());
    assert!(seen.locked().binding.is_none());
}

#[test]
fn user_ids_short_and_long_read_back() {
    for id in [
        "",
        "42",
        "user-123456789012345678",
        "ü-ä",
        &"x".repeat(23),
        &"é".repeat(40),
    ] {
        let kept = UserId::new(id.to_owned());
        assert_eq!(kept.as_str(), Some(id));
        assert_eq!(
            matches!(kept, UserId::Inline { .. }),
            id.len() <= INLINE_USER_ID,
            "{id}"
        );
    }
}

#[test]
fn packed_ids_round_trip() {
    let id = Id(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
    assert_eq!(Packed::of(id).id(), id);
    assert_eq!(Packed::of_option(None).option(), None);
    assert_eq!(Packed::of_option(Some(id)).option(), Some(id));
}
