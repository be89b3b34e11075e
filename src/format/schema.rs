//! The bytes of a table's definition ([`TableSchema`]).
//!
//! A schema is logged (`CreateTable`, `UpdateTable`, `RestoreTable` records) and written
//! in snapshot and backup metadata, so its bytes must stay readable by every later build.
//! It has six layouts, each a superset of the one before; the codec is bincode's standard
//! configuration (`format/codec.rs`):
//!
//! ```text
//! v0 := name:string id:string created:varint key attribute_definitions local_indexes
//!       global_indexes billing_mode throughput stream stream_label restored_from pitr
//! v1 := 255:u8  1:u8  v0  table_class:(0:u8 | 1:u8 class:varint updated:(0:u8 | 1:u8 ms:varint))
//!       deletion_protection:u8
//! v2 := 255:u8  2:u8  v0  table_class  deletion_protection  streams:(count:varint StreamEpoch*count)
//! v3 := 255:u8  3:u8  v0  table_class  deletion_protection  streams
//!       pay_per_request_set:(0:u8 | 1:u8 ms:varint)
//! v4 := 255:u8  4:u8  v0  table_class  deletion_protection  streams  pay_per_request_set
//!       on_demand:Units  warm:Units  global_settings:(count:varint (on_demand:Units warm:Units)*count)
//! v5 := 255:u8  5:u8  (v4's fields after the version, in which some index's Key is multi)
//! Key := hash:KeyAttribute  (0:u8 | 1:u8 range:KeyAttribute
//!                            | 2:u8 more_hash:(count:varint KeyAttribute*count)
//!                                   range:(count:varint KeyAttribute*count))
//! KeyAttribute := name:string  type:varint
//! StreamEpoch := label:string  view:varint  enabled:varint  disabled:(0:u8 | 1:u8 lsn:varint ms:varint)
//! Units := 0:u8 | 1:u8 read:(0:u8 | 1:u8 zigzag:varint) write:(0:u8 | 1:u8 zigzag:varint)
//! Index := name:string kind:varint key projection throughput:(0:u8 | 1:u8 read:varint write:varint)
//! ```
//!
//! (class: 0 STANDARD, 1 STANDARD_INFREQUENT_ACCESS.) v0 is every schema written before
//! table classes and deletion protection existed, and is still what a schema that uses
//! neither is written as, byte for byte — so such a table's files and records are unchanged
//! and an older build reads them. v1 is written only when one is set, v2 only when the
//! table has or had a stream (view: 0 NEW_IMAGE, 1 OLD_IMAGE, 2 NEW_AND_OLD_IMAGES,
//! 3 KEYS_ONLY), v3 only once an `UpdateTable` changed the billing mode, v4 only while the
//! table or a global index has on-demand maximums (`OnDemandThroughput`, Units as max read
//! and max write request units) or a requested warm throughput (`WarmThroughput`, Units as
//! read and write units per second): `global_settings` has one entry per global index, in
//! the order of `global_indexes`. Every index (the `Index` of `global_indexes` and
//! `local_indexes` in v0) keeps the layout it always had, whatever the version, so the
//! settings of the global ones ride in v4's tail. A v0 or v1 schema with a stream enabled reads as having one stream enabled at LSN 0:
//! no record before this build holds what a stream needs, so it has none to show. A v0 schema starts
//! with its name's length, a bincode varint, whose first byte is never 255
//! ([`SCHEMA_V1_MARK`]), so one byte tells the layouts apart.
//!
//! A Key (of the table or an index; type: 0 S, 1 N, 2 B) with one partition and at most one
//! sort attribute is tag 0 or 1, the bytes the derived encoding always wrote. A global index's
//! multi-attribute key (up to four partition and four sort attributes) is tag 2: its first
//! partition attribute before the tag as always, the other partition attributes (0 to 3)
//! and then all its sort attributes (0 to 4) after it. Tag 2 is written only for a key
//! tag 0 or 1 cannot hold, and only in v5, which is written exactly when some global index
//! has such a key: a build before v5 then refuses the schema as a layout it does not know
//! rather than misreading it, and every schema without one is written as before.

use crate::model::schema::{
    IndexSchema, KeyAttribute, KeyShape, OnDemandThroughput, StreamEpoch, TableSchema,
    WarmThroughput, MAX_INDEX_KEY_ATTRIBUTES,
};

/// The first byte of a v1 schema (see the module's doc): a varint never starts with it.
const SCHEMA_V1_MARK: u8 = 255;
/// The layout version after the mark, with table classes and deletion protection.
const SCHEMA_V1: u8 = 1;
/// The layout version after the mark, with streams.
const SCHEMA_V2: u8 = 2;
/// The layout version after the mark, with when PAY_PER_REQUEST was last set.
const SCHEMA_V3: u8 = 3;
/// The layout version after the mark, with on-demand maximums and warm throughput.
const SCHEMA_V4: u8 = 4;
/// The layout version after the mark whose index keys may be multi-attribute ([`KEY_MULTI`]).
const SCHEMA_V5: u8 = 5;

/// A Key's tag after its first partition attribute: no sort attribute.
const KEY_NO_RANGE: u8 = 0;
/// A Key's tag: one sort attribute follows.
const KEY_ONE_RANGE: u8 = 1;
/// A Key's tag: the other partition attributes, then the sort attributes, follow as lists.
const KEY_MULTI: u8 = 2;

impl bincode::Encode for KeyShape {
    fn encode<E: bincode::enc::Encoder>(
        &self,
        e: &mut E,
    ) -> std::result::Result<(), bincode::error::EncodeError> {
        // hash:KeyAttribute, then the tag: 0 and 1 are the derived `Option<KeyAttribute>`
        // of every build before multi-attribute keys, byte for byte.
        self.partition().encode(e)?;
        if self.is_multi_attribute() {
            KEY_MULTI.encode(e)?;
            self.hash[1..].encode(e)?;
            self.range.encode(e)
        } else {
            self.sort().encode(e)
        }
    }
}

/// Reads a list of at most `most` key attributes, refusing a longer count before
/// allocating anything for it (the count is untrusted).
fn key_attributes<Context, D: bincode::de::Decoder<Context = Context>>(
    d: &mut D,
    most: usize,
) -> std::result::Result<Vec<KeyAttribute>, bincode::error::DecodeError> {
    use bincode::Decode;
    let count = u64::decode(d)?;
    if count > most as u64 {
        return Err(bincode::error::DecodeError::Other(
            "a key with more attributes than a key may have",
        ));
    }
    (0..count).map(|_| KeyAttribute::decode(d)).collect()
}

impl<Context> bincode::Decode<Context> for KeyShape {
    fn decode<D: bincode::de::Decoder<Context = Context>>(
        d: &mut D,
    ) -> std::result::Result<Self, bincode::error::DecodeError> {
        let first = KeyAttribute::decode(d)?;
        let shape = match u8::decode(d)? {
            KEY_NO_RANGE => KeyShape::simple(first, None),
            KEY_ONE_RANGE => KeyShape::simple(first, Some(KeyAttribute::decode(d)?)),
            KEY_MULTI => {
                let mut hash = vec![first];
                hash.extend(key_attributes(d, MAX_INDEX_KEY_ATTRIBUTES - 1)?);
                let range = key_attributes(d, MAX_INDEX_KEY_ATTRIBUTES)?;
                let shape = KeyShape { hash, range };
                // Only one way to write each key: tag 2 never holds what 0 or 1 can.
                if !shape.is_multi_attribute() {
                    return Err(bincode::error::DecodeError::Other(
                        "a one-attribute key written as a multi-attribute one",
                    ));
                }
                shape
            }
            _ => {
                return Err(bincode::error::DecodeError::Other(
                    "a key of a kind this build does not know",
                ))
            }
        };
        let names: std::collections::BTreeSet<&str> =
            shape.attributes().map(|a| a.name.as_str()).collect();
        if names.len() != shape.hash.len() + shape.range.len() {
            return Err(bincode::error::DecodeError::Other(
                "a key that names an attribute twice",
            ));
        }
        Ok(shape)
    }
}

bincode::impl_borrow_decode!(KeyShape);

impl bincode::Encode for IndexSchema {
    fn encode<E: bincode::enc::Encoder>(
        &self,
        e: &mut E,
    ) -> std::result::Result<(), bincode::error::EncodeError> {
        // The layout every build wrote (it was derived): the settings are the schema's v4 tail.
        self.name.encode(e)?;
        self.kind.encode(e)?;
        bincode::Encode::encode(&self.key, e)?;
        self.projection.encode(e)?;
        self.throughput.encode(e)
    }
}

impl<Context> bincode::Decode<Context> for IndexSchema {
    fn decode<D: bincode::de::Decoder<Context = Context>>(
        d: &mut D,
    ) -> std::result::Result<Self, bincode::error::DecodeError> {
        use bincode::Decode;
        Ok(IndexSchema {
            name: Decode::decode(d)?,
            kind: Decode::decode(d)?,
            key: Decode::decode(d)?,
            projection: Decode::decode(d)?,
            throughput: Decode::decode(d)?,
            on_demand: None,
            warm: None,
        })
    }
}

bincode::impl_borrow_decode!(IndexSchema);

/// One global index's entry in v4's `global_settings`.
type IndexSettings = (Option<OnDemandThroughput>, Option<WarmThroughput>);

impl bincode::Encode for TableSchema {
    fn encode<E: bincode::enc::Encoder>(
        &self,
        e: &mut E,
    ) -> std::result::Result<(), bincode::error::EncodeError> {
        let v5 = (self.global_indexes.iter()).any(|i| i.key.is_multi_attribute());
        let v4 = v5 || self.has_throughput_settings();
        let v3 = v4 || self.pay_per_request_set.is_some();
        let v2 = v3 || !self.streams.is_empty();
        let v1 = v2 || self.table_class.is_some() || self.deletion_protection;
        if v1 {
            SCHEMA_V1_MARK.encode(e)?;
            let version = match (v4, v3, v2) {
                (true, _, _) if v5 => SCHEMA_V5,
                (true, _, _) => SCHEMA_V4,
                (false, true, _) => SCHEMA_V3,
                (false, false, true) => SCHEMA_V2,
                (false, false, false) => SCHEMA_V1,
            };
            version.encode(e)?;
        }
        self.name.encode(e)?;
        self.id.encode(e)?;
        self.created.encode(e)?;
        bincode::Encode::encode(&self.key, e)?;
        self.attribute_definitions.encode(e)?;
        self.local_indexes.encode(e)?;
        self.global_indexes.encode(e)?;
        self.billing_mode.encode(e)?;
        self.throughput.encode(e)?;
        self.stream.encode(e)?;
        self.stream_label.encode(e)?;
        self.restored_from.encode(e)?;
        self.pitr.encode(e)?;
        if v1 {
            self.table_class.encode(e)?;
            self.deletion_protection.encode(e)?;
        }
        if v2 {
            self.streams.encode(e)?;
        }
        if v3 {
            self.pay_per_request_set.encode(e)?;
        }
        if v4 {
            // on_demand:Units  warm:Units  global_settings: one (on_demand, warm) per
            // global index, in `global_indexes` order.
            self.on_demand.encode(e)?;
            self.warm.encode(e)?;
            let settings: Vec<IndexSettings> = (self.global_indexes.iter())
                .map(|i| (i.on_demand, i.warm))
                .collect();
            settings.encode(e)?;
        }
        Ok(())
    }
}

impl<Context> bincode::Decode<Context> for TableSchema {
    fn decode<D: bincode::de::Decoder<Context = Context>>(
        d: &mut D,
    ) -> std::result::Result<Self, bincode::error::DecodeError> {
        use bincode::Decode;
        let first = u8::decode(d)?;
        let v1 = first == SCHEMA_V1_MARK;
        let (mut v2, mut v3, mut v4, mut v5) = (false, false, false, false);
        let name = if v1 {
            match u8::decode(d)? {
                SCHEMA_V1 => {}
                SCHEMA_V2 => v2 = true,
                SCHEMA_V3 => (v2, v3) = (true, true),
                SCHEMA_V4 => (v2, v3, v4) = (true, true, true),
                SCHEMA_V5 => (v2, v3, v4, v5) = (true, true, true, true),
                _ => {
                    return Err(bincode::error::DecodeError::Other(
                        "a table schema of a layout this build does not know",
                    ))
                }
            }
            String::decode(d)?
        } else {
            string_after(first, d)?
        };
        let mut schema = TableSchema {
            name,
            id: Decode::decode(d)?,
            created: Decode::decode(d)?,
            key: Decode::decode(d)?,
            attribute_definitions: Decode::decode(d)?,
            local_indexes: Decode::decode(d)?,
            global_indexes: Decode::decode(d)?,
            billing_mode: Decode::decode(d)?,
            throughput: Decode::decode(d)?,
            stream: Decode::decode(d)?,
            stream_label: Decode::decode(d)?,
            restored_from: Decode::decode(d)?,
            pitr: Decode::decode(d)?,
            streams: Vec::new(),
            table_class: None,
            deletion_protection: false,
            pay_per_request_set: None,
            on_demand: None,
            warm: None,
        };
        if v1 {
            schema.table_class = Decode::decode(d)?;
            schema.deletion_protection = Decode::decode(d)?;
        }
        if v2 {
            schema.streams = Decode::decode(d)?;
        } else if let (Some(spec), Some(label)) = (schema.stream, &schema.stream_label) {
            if let Some(view) = spec.stream_view_type {
                schema.streams.push(StreamEpoch {
                    label: label.clone(),
                    view,
                    enabled: 0,
                    disabled: None,
                });
            }
        }
        if v3 {
            schema.pay_per_request_set = Decode::decode(d)?;
        }
        if v4 {
            schema.on_demand = Decode::decode(d)?;
            schema.warm = Decode::decode(d)?;
            let settings: Vec<IndexSettings> = Decode::decode(d)?;
            if settings.len() != schema.global_indexes.len() {
                return Err(bincode::error::DecodeError::Other(
                    "a table schema whose index settings do not match its global indexes",
                ));
            }
            for (index, (on_demand, warm)) in schema.global_indexes.iter_mut().zip(settings) {
                (index.on_demand, index.warm) = (on_demand, warm);
            }
        }
        // Only a global index's key may have several attributes, and only v5 writes one.
        let multi_global = (schema.global_indexes.iter()).any(|i| i.key.is_multi_attribute());
        let multi_elsewhere = schema.key.is_multi_attribute()
            || (schema.local_indexes.iter()).any(|i| i.key.is_multi_attribute());
        if multi_elsewhere || multi_global != v5 {
            return Err(bincode::error::DecodeError::Other(
                "a table schema with a multi-attribute key where none may be",
            ));
        }
        Ok(schema)
    }
}

bincode::impl_borrow_decode!(TableSchema);

/// A bincode string whose length varint's first byte, `first`, was already read: the rest
/// of the varint (little-endian u16, u32 or u64 after the markers 251, 252, 253), then the
/// UTF-8 bytes.
fn string_after<D: bincode::de::Decoder>(
    first: u8,
    d: &mut D,
) -> std::result::Result<String, bincode::error::DecodeError> {
    use bincode::de::read::Reader;
    use bincode::error::DecodeError;
    let mut wide = [0u8; 8];
    let len = match first {
        0..=250 => u64::from(first),
        251..=253 => {
            let width = 2 << (first - 251);
            d.reader().read(&mut wide[..width])?;
            u64::from_le_bytes(wide)
        }
        _ => return Err(DecodeError::Other("a string length that is no varint")),
    };
    let len = usize::try_from(len).map_err(|_| DecodeError::Other("a string too long"))?;
    d.claim_bytes_read(len)?;
    let mut bytes = vec![0u8; len];
    d.reader().read(&mut bytes)?;
    String::from_utf8(bytes).map_err(|_| DecodeError::Other("a string that is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::clock::Timestamp;
    use crate::model::schema::*;

    /// The schema as every build before table classes wrote it (the derived encoding).
    #[derive(bincode::Encode)]
    struct V0<'a> {
        name: &'a str,
        id: &'a str,
        created: Timestamp,
        key: &'a KeyShape,
        attribute_definitions: &'a [AttributeDefinition],
        local_indexes: &'a [IndexSchema],
        global_indexes: &'a [IndexSchema],
        billing_mode: BillingMode,
        throughput: Option<ProvisionedThroughput>,
        stream: Option<StreamSpecification>,
        stream_label: Option<&'a str>,
        restored_from: Option<&'a RestoreSummary>,
        pitr: Option<PitrSettings>,
    }

    fn v0_bytes(s: &TableSchema) -> Vec<u8> {
        let v0 = V0 {
            name: &s.name,
            id: &s.id,
            created: s.created,
            key: &s.key,
            attribute_definitions: &s.attribute_definitions,
            local_indexes: &s.local_indexes,
            global_indexes: &s.global_indexes,
            billing_mode: s.billing_mode,
            throughput: s.throughput,
            stream: s.stream,
            stream_label: s.stream_label.as_deref(),
            restored_from: s.restored_from.as_ref(),
            pitr: s.pitr,
        };
        bincode::encode_to_vec(&v0, bincode::config::standard()).expect("encode")
    }

    fn encode(s: &TableSchema) -> Vec<u8> {
        bincode::encode_to_vec(s, bincode::config::standard()).expect("encode")
    }

    fn decode(bytes: &[u8]) -> std::result::Result<TableSchema, bincode::error::DecodeError> {
        let (schema, used) = bincode::decode_from_slice(bytes, bincode::config::standard())?;
        assert_eq!(used, bytes.len(), "every byte read");
        Ok(schema)
    }

    /// Names of 3 and 255 characters: a length below 251 is one varint byte, above it three.
    fn schemas() -> Vec<TableSchema> {
        ["abc", &"n".repeat(255)]
            .into_iter()
            .map(|name| {
                let attribute = |name: &str, ty| KeyAttribute {
                    name: name.into(),
                    ty,
                };
                TableSchema {
                    name: name.into(),
                    id: "4a4d1b51-5d0a-4d3e-9d4e-0f1e2d3c4b5a".into(),
                    created: Timestamp(1_700_000_000_123),
                    key: KeyShape::simple(
                        attribute("pk", ScalarAttributeType::S),
                        Some(attribute("sk", ScalarAttributeType::N)),
                    ),
                    attribute_definitions: vec![
                        AttributeDefinition::new("pk", ScalarAttributeType::S),
                        AttributeDefinition::new("sk", ScalarAttributeType::N),
                    ],
                    local_indexes: Vec::new(),
                    global_indexes: Vec::new(),
                    billing_mode: BillingMode::Provisioned,
                    throughput: Some(ProvisionedThroughput::new(5, 5)),
                    stream: Some(StreamSpecification::new(true)),
                    stream_label: Some("2023-11-14T22:13:20.123".into()),
                    streams: Vec::new(),
                    restored_from: None,
                    pitr: None,
                    table_class: None,
                    deletion_protection: false,
                    pay_per_request_set: None,
                    on_demand: None,
                    warm: None,
                }
            })
            .collect()
    }

    #[test]
    fn a_schema_without_class_or_protection_is_written_and_read_as_before() {
        for schema in schemas() {
            let old = v0_bytes(&schema);
            assert_eq!(encode(&schema), old, "byte for byte the old layout");
            assert_eq!(decode(&old).expect("v0 reads"), schema);
        }
    }

    #[test]
    fn streams_round_trip_in_the_v2_layout_and_an_older_enabled_stream_reads_as_one() {
        for mut schema in schemas() {
            let view = StreamViewType::NewAndOldImages;
            schema.stream = Some(StreamSpecification::new(true).stream_view_type(view));
            let old = v0_bytes(&schema);
            let read = decode(&old).expect("v0 reads");
            let label = schema.stream_label.clone().expect("a label");
            let enabled_at_zero = StreamEpoch {
                label,
                view,
                enabled: 0,
                disabled: None,
            };
            assert_eq!(read.streams, std::slice::from_ref(&enabled_at_zero));
            let ended = StreamEpoch {
                disabled: Some((7, Timestamp(9))),
                ..enabled_at_zero
            };
            schema.streams = vec![ended, read.streams[0].clone()];
            schema.deletion_protection = true;
            assert_round_trips_whole_only(&schema, SCHEMA_V2);
        }
    }

    /// `schema` is written in layout `version` and reads back as it was, and no cut of its
    /// bytes reads.
    fn assert_round_trips_whole_only(schema: &TableSchema, version: u8) {
        let bytes = encode(schema);
        assert_eq!(bytes[..2], [SCHEMA_V1_MARK, version]);
        assert_eq!(&decode(&bytes).expect("reads"), schema);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn the_time_pay_per_request_was_set_round_trips_in_the_v3_layout_with_streams_or_none() {
        for mut schema in schemas() {
            schema.pay_per_request_set = Some(Timestamp(1_700_000_123_456));
            let view = StreamViewType::KeysOnly;
            schema.stream = Some(StreamSpecification::new(true).stream_view_type(view));
            let epochs = decode(&v0_bytes(&schema)).expect("v0").streams;
            assert_eq!(epochs.len(), 1);
            for streams in [Vec::new(), epochs] {
                schema.streams = streams;
                assert_round_trips_whole_only(&schema, SCHEMA_V3);
            }
        }
    }

    #[test]
    fn class_and_protection_round_trip_in_the_v1_layout() {
        for mut schema in schemas() {
            schema.deletion_protection = true;
            let bytes = encode(&schema);
            assert_eq!(bytes[..2], [SCHEMA_V1_MARK, SCHEMA_V1]);
            assert_eq!(decode(&bytes).expect("v1 reads"), schema);
            schema.deletion_protection = false;
            schema.table_class = Some(TableClassSetting {
                class: TableClass::StandardInfrequentAccess,
                updated: Some(Timestamp(9)),
            });
            assert_eq!(decode(&encode(&schema)).expect("v1 reads"), schema);
        }
    }

    /// A v3 schema with a global index, as the encoder wrote it before v4 existed (bytes
    /// captured from that build): one with every v1–v3 field set.
    fn v3_fixture() -> TableSchema {
        let attribute = |name: &str, ty| KeyAttribute {
            name: name.into(),
            ty,
        };
        TableSchema {
            name: "Orders".into(),
            id: "0f6b9c3e-2d41-4c8a-9e57-1a2b3c4d5e6f".into(),
            created: Timestamp(1_700_000_000_123),
            key: KeyShape::simple(
                attribute("pk", ScalarAttributeType::S),
                Some(attribute("sk", ScalarAttributeType::N)),
            ),
            attribute_definitions: vec![
                AttributeDefinition::new("pk", ScalarAttributeType::S),
                AttributeDefinition::new("sk", ScalarAttributeType::N),
                AttributeDefinition::new("g", ScalarAttributeType::S),
            ],
            local_indexes: Vec::new(),
            global_indexes: vec![IndexSchema {
                name: "byG".into(),
                kind: IndexKind::Global,
                key: KeyShape::simple(attribute("g", ScalarAttributeType::S), None),
                projection: Projection::include(["a", "b"]),
                throughput: Some(ProvisionedThroughput::new(3, 4)),
                on_demand: None,
                warm: None,
            }],
            billing_mode: BillingMode::Provisioned,
            throughput: Some(ProvisionedThroughput::new(5, 6)),
            stream: None,
            stream_label: None,
            streams: vec![StreamEpoch {
                label: "2023-11-14T22:13:20.123".into(),
                view: StreamViewType::KeysOnly,
                enabled: 7,
                disabled: Some((9, Timestamp(1_700_000_000_999))),
            }],
            restored_from: None,
            pitr: Some(PitrSettings {
                period_days: 35,
                since: Timestamp(1_700_000_000_500),
            }),
            table_class: Some(TableClassSetting {
                class: TableClass::StandardInfrequentAccess,
                updated: Some(Timestamp(1_700_000_000_600)),
            }),
            deletion_protection: true,
            pay_per_request_set: Some(Timestamp(1_700_000_000_700)),
            on_demand: None,
            warm: None,
        }
    }

    /// [`v3_fixture`]'s bytes, written by the build before v4 (commit c0d00ba).
    const V3_FIXTURE: &str = "ff03064f72646572732430663662396333652d326434312d346338612d396535372d316132623363346435653666fd7b68e5cf8b01000002706b000102736b010302706b0002736b010167000001036279470101670000020201610162010304000105060000000123fdf469e5cf8b010000010101fd586ae5cf8b010000010117323032332d31312d31345432323a31333a32302e31323303070109fde76be5cf8b01000001fdbc6ae5cf8b010000";

    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn v3_bytes_written_before_v4_still_read_and_are_still_written() {
        let bytes = unhex(V3_FIXTURE);
        assert_eq!(bytes[..2], [SCHEMA_V1_MARK, SCHEMA_V3]);
        assert_eq!(decode(&bytes).expect("v3 reads"), v3_fixture());
        assert_eq!(encode(&v3_fixture()), bytes, "byte for byte the v3 layout");
    }

    #[test]
    fn on_demand_maximums_and_warm_throughput_round_trip_in_the_v4_layout() {
        let settings = [
            (
                Some(OnDemandThroughput::new().max_read_request_units(100)),
                None,
                None,
            ),
            (
                None,
                Some(WarmThroughput::new().write_units_per_second(4_500)),
                None,
            ),
            (
                None,
                None,
                Some(OnDemandThroughput::new().max_write_request_units(i64::MAX)),
            ),
        ];
        for (on_demand, warm, index_on_demand) in settings {
            let mut schema = v3_fixture();
            schema.on_demand = on_demand;
            schema.warm = warm;
            schema.global_indexes[0].on_demand = index_on_demand;
            schema.global_indexes[0].warm = warm;
            assert_round_trips_whole_only(&schema, SCHEMA_V4);
            // v4 carries everything before it, even without a billing-mode change.
            schema.pay_per_request_set = None;
            schema.streams.clear();
            assert_round_trips_whole_only(&schema, SCHEMA_V4);
        }
        for mut schema in schemas() {
            schema.on_demand = Some(OnDemandThroughput::new().max_read_request_units(1));
            assert_round_trips_whole_only(&schema, SCHEMA_V4);
        }
    }

    #[test]
    fn v4_settings_for_another_number_of_global_indexes_are_refused() {
        let mut schema = v3_fixture();
        schema.warm = Some(WarmThroughput::new().read_units_per_second(20_000));
        let mut bytes = encode(&schema);
        // The last byte is `global_settings`' entries for the one index: (None, None) is
        // two zero bytes after the count 1.
        let n = bytes.len();
        assert_eq!(bytes[n - 3..], [1, 0, 0]);
        bytes.truncate(n - 3);
        bytes.push(0);
        assert!(decode(&bytes).is_err(), "no entries for one index");
    }

    /// An index as every build before v4 wrote it: derived, field by field.
    #[derive(bincode::Encode)]
    struct DerivedIndex<'a> {
        name: &'a str,
        kind: IndexKind,
        key: &'a KeyShape,
        projection: &'a Projection,
        throughput: Option<ProvisionedThroughput>,
    }

    #[test]
    fn every_index_shape_is_written_as_the_derived_encoding_wrote_it() {
        let schema = crate::api::tables::CreateTableInput::new("shapes")
            .hash_key("pk", ScalarAttributeType::S)
            .range_key("sk", ScalarAttributeType::N)
            .provisioned(5, 6)
            .local_index("byL", "l", ScalarAttributeType::B, Projection::keys_only())
            .local_index(
                "byM",
                "m",
                ScalarAttributeType::S,
                Projection::include(["x"]),
            )
            .global_index(
                "byG",
                ("g", ScalarAttributeType::S),
                None,
                Projection::all(),
            )
            .global_index(
                "byH",
                ("h", ScalarAttributeType::N),
                Some(("sk", ScalarAttributeType::N)),
                Projection::include(["x", "y"]),
            )
            .to_schema(Timestamp(1_700_000_000_000))
            .expect("schema");
        let indexes = (schema.local_indexes.iter()).chain(&schema.global_indexes);
        for index in indexes {
            let mut index = index.clone();
            for settings in [false, true] {
                if settings {
                    index.on_demand = Some(OnDemandThroughput::new().max_read_request_units(9));
                    index.warm = Some(WarmThroughput::new().write_units_per_second(9_000));
                }
                let derived = DerivedIndex {
                    name: &index.name,
                    kind: index.kind,
                    key: &index.key,
                    projection: &index.projection,
                    throughput: index.throughput,
                };
                let config = bincode::config::standard();
                assert_eq!(
                    bincode::encode_to_vec(&index, config).expect("encode"),
                    bincode::encode_to_vec(&derived, config).expect("encode"),
                    "{} (settings: {settings})",
                    index.name
                );
            }
        }
    }

    #[test]
    fn a_v4_tail_with_a_hostile_count_of_index_settings_is_corruption_without_allocating_it() {
        let mut schema = v3_fixture();
        schema.warm = Some(WarmThroughput::new().read_units_per_second(20_000));
        let mut bytes = encode(&schema);
        let n = bytes.len();
        assert_eq!(bytes[n - 3..], [1, 0, 0]);
        bytes.truncate(n - 3);
        // A count of u64::MAX (varint marker 253, then eight bytes), and no entries.
        bytes.push(253);
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        let decoded = crate::format::codec::decode::<TableSchema>(&bytes, "schema");
        assert!(
            matches!(decoded, Err(crate::error::Error::Corruption(_))),
            "{decoded:?}"
        );
    }

    #[test]
    fn an_unknown_layout_version_or_a_cut_schema_is_refused() {
        let mut schema = schemas().remove(0);
        schema.deletion_protection = true;
        let mut bytes = encode(&schema);
        bytes[1] = 2;
        assert!(decode(&bytes).is_err());
        bytes[1] = SCHEMA_V5 + 1;
        assert!(decode(&bytes).is_err());
        let bytes = v0_bytes(&schema);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    /// [`v3_fixture`] with its global index keyed on (g, pk) and sorted by (sk, h).
    fn multi_attribute_fixture() -> TableSchema {
        let attribute = |name: &str, ty| KeyAttribute {
            name: name.into(),
            ty,
        };
        let mut schema = v3_fixture();
        schema
            .attribute_definitions
            .push(AttributeDefinition::new("h", ScalarAttributeType::B));
        schema.global_indexes[0].key = KeyShape {
            hash: vec![
                attribute("g", ScalarAttributeType::S),
                attribute("pk", ScalarAttributeType::S),
            ],
            range: vec![
                attribute("sk", ScalarAttributeType::N),
                attribute("h", ScalarAttributeType::B),
            ],
        };
        schema
    }

    #[test]
    fn a_multi_attribute_index_key_round_trips_in_the_v5_layout_and_no_cut_reads() {
        let mut schema = multi_attribute_fixture();
        assert_round_trips_whole_only(&schema, SCHEMA_V5);
        // Every count of partition (1 to 4) and sort (0 to 4) attributes but the ones a
        // one-attribute key is.
        let attribute = |i: usize| KeyAttribute {
            name: format!("a{i}"),
            ty: ScalarAttributeType::S,
        };
        for hashes in 1..=MAX_INDEX_KEY_ATTRIBUTES {
            for ranges in 0..=MAX_INDEX_KEY_ATTRIBUTES {
                schema.global_indexes[0].key = KeyShape {
                    hash: (0..hashes).map(attribute).collect(),
                    range: (hashes..hashes + ranges).map(attribute).collect(),
                };
                let version = match hashes > 1 || ranges > 1 {
                    true => SCHEMA_V5,
                    false => SCHEMA_V4,
                };
                if version == SCHEMA_V4 {
                    schema.warm = Some(WarmThroughput::new().read_units_per_second(20_000));
                }
                assert_round_trips_whole_only(&schema, version);
                schema.warm = None;
            }
        }
    }

    #[test]
    fn a_one_attribute_index_key_is_written_as_before_multi_attribute_keys() {
        // The v3 fixture's bytes, captured before multi-attribute keys, are still written.
        assert_eq!(encode(&v3_fixture()), unhex(V3_FIXTURE));
        let bytes = encode(&multi_attribute_fixture());
        assert_eq!(bytes[..2], [SCHEMA_V1_MARK, SCHEMA_V5]);
    }

    /// Bytes a v5 encoder never writes: a multi-attribute key in an older layout, on the
    /// table's key, written with tag 2 though one-attribute, with too many attributes (a
    /// hostile count, refused before anything is allocated for it), or a name twice.
    #[test]
    fn a_multi_attribute_key_where_none_may_be_or_out_of_bounds_is_refused() {
        let config = bincode::config::standard();
        let key_bytes = |key: &KeyShape| bincode::encode_to_vec(key, config).expect("encode");
        let schema = multi_attribute_fixture();
        let index_key = key_bytes(&schema.global_indexes[0].key);
        let bytes = encode(&schema);
        let at = (bytes.windows(index_key.len()))
            .position(|w| w == index_key)
            .expect("the index key's bytes");

        let mut older = bytes.clone();
        older[1] = SCHEMA_V4;
        assert!(decode(&older).is_err(), "a multi-attribute key in v4");

        let mut table_key = schema.clone();
        table_key.key = schema.global_indexes[0].key.clone();
        assert!(decode(&encode(&table_key)).is_err(), "on the table's key");

        let mut local = schema.clone();
        let mut index = local.global_indexes.remove(0);
        index.kind = IndexKind::Local;
        local.local_indexes.push(index);
        local.warm = Some(WarmThroughput::new().read_units_per_second(20_000));
        assert!(decode(&encode(&local)).is_err(), "on a local index");

        // Tag 2 with no other partition attribute and one sort attribute.
        let first = &schema.global_indexes[0].key.hash[0];
        let mut simple = bincode::encode_to_vec(first, config).expect("encode");
        simple.extend([KEY_MULTI, 0, 1]);
        simple.extend(bincode::encode_to_vec(first, config).expect("encode"));
        let read = bincode::decode_from_slice::<KeyShape, _>(&simple, config);
        assert!(read.is_err(), "a one-attribute key as tag 2");

        // Four more partition attributes (five in all), five sort attributes, and a count
        // of u64::MAX with nothing after it.
        let attribute_bytes = bincode::encode_to_vec(first, config).expect("encode");
        for (more_hash, range) in [(4u8, 0u8), (0, 5)] {
            let mut too_many = attribute_bytes.clone();
            too_many.extend([KEY_MULTI, more_hash]);
            for _ in 0..more_hash {
                too_many.extend(&attribute_bytes);
            }
            too_many.push(range);
            for _ in 0..range {
                too_many.extend(&attribute_bytes);
            }
            let read = bincode::decode_from_slice::<KeyShape, _>(&too_many, config);
            assert!(
                read.is_err(),
                "{more_hash} more partition, {range} sort attributes"
            );
        }
        let counts_at = at + attribute_bytes.len() + 1;
        assert_eq!(bytes[counts_at - 1], KEY_MULTI);
        let mut hostile = bytes[..counts_at].to_vec();
        hostile.push(253);
        hostile.extend_from_slice(&u64::MAX.to_le_bytes());
        let decoded = crate::format::codec::decode::<TableSchema>(&hostile, "schema");
        assert!(
            matches!(decoded, Err(crate::error::Error::Corruption(_))),
            "{decoded:?}"
        );

        let mut twice = schema.clone();
        twice.global_indexes[0].key.range[1].name = "g".into();
        assert!(decode(&encode(&twice)).is_err(), "a name twice");
    }
}
