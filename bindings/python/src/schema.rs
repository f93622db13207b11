//! The fields of `keyfob::Config` and the kind of value each takes, learnt from its
//! `Deserialize` implementation: a probe deserializer records the field list serde passes
//! to `deserialize_struct`, then which `deserialize_*` each field's type asks for. So every
//! field of `src/config.rs` becomes a Python kwarg without a list kept here.

use std::cell::Cell;
use std::fmt;
use std::sync::OnceLock;

use keyfob::Config;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;

/// The kind of value a config field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    /// Any unsigned integer (u8..u64, usize).
    Unsigned,
    Str,
    /// `Option<String>`.
    OptionalStr,
    /// `Option<u64>` (and the other unsigned widths).
    OptionalUnsigned,
    /// A map of name to text (key ids to keys).
    StrMap,
    /// Anything else: not settable from Python.
    Other,
}

/// `(field name, kind)` for every field of `Config`, in declaration order.
pub(crate) fn config_fields() -> &'static [(&'static str, Kind)] {
    static FIELDS: OnceLock<Vec<(&'static str, Kind)>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        struct_fields()
            .iter()
            .map(|&name| (name, field_kind(name)))
            .collect()
    })
}

/// The error the probes stop deserialization with; what they learnt is in their cells.
#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probe stop")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop
    }
}

/// Which field the struct probe offers (None: offer none, only record the field list).
struct StructProbe<'a> {
    fields: &'a Cell<&'static [&'static str]>,
    offer: Option<&'static str>,
    kind: &'a Cell<Kind>,
}

fn struct_fields() -> &'static [&'static str] {
    let fields = Cell::new(&[][..]);
    let kind = Cell::new(Kind::Other);
    let _ = Config::deserialize(StructProbe {
        fields: &fields,
        offer: None,
        kind: &kind,
    });
    fields.get()
}

fn field_kind(name: &'static str) -> Kind {
    let fields = Cell::new(&[][..]);
    let kind = Cell::new(Kind::Other);
    let _ = Config::deserialize(StructProbe {
        fields: &fields,
        offer: Some(name),
        kind: &kind,
    });
    kind.get()
}

impl<'de> Deserializer<'de> for StructProbe<'_> {
    type Error = Stop;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        self.fields.set(fields);
        match self.offer {
            None => Err(Stop),
            Some(field) => visitor.visit_map(OneField {
                field: Some(field),
                kind: self.kind,
            }),
        }
    }

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A map with one key whose value is the kind probe.
struct OneField<'a> {
    field: Option<&'static str>,
    kind: &'a Cell<Kind>,
}

impl<'de> MapAccess<'de> for OneField<'_> {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Stop> {
        match self.field.take() {
            Some(field) => seed
                .deserialize(IntoDeserializer::<Stop>::into_deserializer(field))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        seed.deserialize(KindProbe {
            kind: self.kind,
            in_option: false,
        })
    }
}

/// Records the kind a value's type asks for, then stops.
struct KindProbe<'a> {
    kind: &'a Cell<Kind>,
    in_option: bool,
}

impl KindProbe<'_> {
    fn found<T>(&self, kind: Kind) -> Result<T, Stop> {
        self.kind.set(match (self.in_option, kind) {
            (false, kind) => kind,
            (true, Kind::Str) => Kind::OptionalStr,
            (true, Kind::Unsigned) => Kind::OptionalUnsigned,
            (true, _) => Kind::Other,
        });
        Err(Stop)
    }
}

impl<'de> Deserializer<'de> for KindProbe<'_> {
    type Error = Stop;

    fn deserialize_bool<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        self.found(Kind::Bool)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        self.found(Kind::Unsigned)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        self.found(Kind::Unsigned)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        self.found(Kind::Unsigned)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        self.found(Kind::Unsigned)
    }
    fn deserialize_str<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        self.found(Kind::Str)
    }
    fn deserialize_string<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        self.found(Kind::Str)
    }
    fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        self.found(Kind::StrMap)
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        if self.in_option {
            return self.found(Kind::Other);
        }
        visitor.visit_some(KindProbe {
            kind: self.kind,
            in_option: true,
        })
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        self.found(Kind::Other)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u128 f32 f64 char bytes byte_buf unit unit_struct seq tuple
        tuple_struct struct enum identifier ignored_any
    }
}
