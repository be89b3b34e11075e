//! The bytes of a table's definition ([`TableSchema`]).
//!
//! A schema is logged (`CreateTable`, `UpdateTable`, `RestoreTable` records) and written
//! in snapshot and backup metadata, so its bytes must stay readable by every later build.
//! It has two layouts; the codec is bincode's standard configuration (`format/codec.rs`):
//!
//! ```text
//! v0 := name:string id:string created:varint key attribute_definitions local_indexes
//!       global_indexes billing_mode throughput stream stream_label restored_from pitr
//! v1 := 255:u8  1:u8  v0  table_class:(0:u8 | 1:u8 class:varint updated:(0:u8 | 1:u8 ms:varint))
//!       deletion_protection:u8
//! v2 := 255:u8  2:u8  v0  table_class  deletion_protection  streams:(count:varint StreamEpoch*count)
//! v3 := 255:u8  3:u8  v0  table_class  deletion_protection  streams
//!       pay_per_request_set:(0:u8 | 1:u8 ms:varint)
//! StreamEpoch := label:string  view:varint  enabled:varint  disabled:(0:u8 | 1:u8 lsn:varint ms:varint)
//! ```
//!
//! (class: 0 STANDARD, 1 STANDARD_INFREQUENT_ACCESS.) v0 is every schema written before
//! table classes and deletion protection existed, and is still what a schema that uses
//! neither is written as, byte for byte — so such a table's files and records are unchanged
//! and an older build reads them. v1 is written only when one is set, v2 only when the
//! table has or had a stream (view: 0 NEW_IMAGE, 1 OLD_IMAGE, 2 NEW_AND_OLD_IMAGES,
//! 3 KEYS_ONLY), v3 only once an `UpdateTable` changed the billing mode. A v0 or v1 schema with a stream enabled reads as having one stream enabled at LSN 0:
//! no record before this build holds what a stream needs, so it has none to show. A v0 schema starts
//! with its name's length, a bincode varint, whose first byte is never 255
//! ([`SCHEMA_V1_MARK`]), so one byte tells the layouts apart.

use crate::model::schema::{StreamEpoch, TableSchema};

/// The first byte of a v1 schema (see the module's doc): a varint never starts with it.
const SCHEMA_V1_MARK: u8 = 255;
/// The layout version after the mark, with table classes and deletion protection.
const SCHEMA_V1: u8 = 1;
/// The layout version after the mark, with streams.
const SCHEMA_V2: u8 = 2;
/// The layout version after the mark, with when PAY_PER_REQUEST was last set.
const SCHEMA_V3: u8 = 3;

impl bincode::Encode for TableSchema {
    fn encode<E: bincode::enc::Encoder>(
        &self,
        e: &mut E,
    ) -> std::result::Result<(), bincode::error::EncodeError> {
        let v3 = self.pay_per_request_set.is_some();
        let v2 = v3 || !self.streams.is_empty();
        let v1 = v2 || self.table_class.is_some() || self.deletion_protection;
        if v1 {
            SCHEMA_V1_MARK.encode(e)?;
            let version = match (v3, v2) {
                (true, _) => SCHEMA_V3,
                (false, true) => SCHEMA_V2,
                (false, false) => SCHEMA_V1,
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
        let (mut v2, mut v3) = (false, false);
        let name = if v1 {
            match u8::decode(d)? {
                SCHEMA_V1 => {}
                SCHEMA_V2 => v2 = true,
                SCHEMA_V3 => (v2, v3) = (true, true),
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
                    key: KeyShape {
                        hash: attribute("pk", ScalarAttributeType::S),
                        range: Some(attribute("sk", ScalarAttributeType::N)),
                    },
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

    #[test]
    fn an_unknown_layout_version_or_a_cut_schema_is_refused() {
        let mut schema = schemas().remove(0);
        schema.deletion_protection = true;
        let mut bytes = encode(&schema);
        bytes[1] = 2;
        assert!(decode(&bytes).is_err());
        let bytes = v0_bytes(&schema);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
