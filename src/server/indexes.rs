//! The secondary-index members of `CreateTable` and `UpdateTable` (and the restores' index
//! overrides, which hold CreateTable's shapes) as the wire carries them, read the way
//! DynamoDB reads them before the library's types see them.
//!
//! The library's types are stricter than the wire: a [`Projection`](crate::Projection) always
//! has a type, and a [`GlobalSecondaryIndexUpdate`](crate::GlobalSecondaryIndexUpdate)
//! is exactly one action. DynamoDB's model lets both be looser (`ProjectionType` is optional,
//! and each `GlobalSecondaryIndexUpdate` has three optional actions), and DynamoDB refuses
//! what its model lets through with its own messages, after the model's checks:
//!
//! | The wire | DynamoDB's refusal (each after "One or more parameter values were invalid: ") |
//! |---|---|
//! | a `Projection` without `ProjectionType` | `Unknown ProjectionType: null` |
//! | an update with none of `Create`, `Update`, `Delete` | `One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null` |
//! | an update with more than one of them | `Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object` |
//!
//! [`settle`] rewrites such a request into one the library's types read (a projection of
//! type `ALL`, the update's first action or none) and keeps DynamoDB's refusal; the handler
//! reads the rewritten request, so that a member of the wrong shape elsewhere is still the
//! model's error first, and then answers the refusal instead of calling the library. Nothing
//! the library stores changes. (Not quite first: the actions dropped from an update with
//! several are not read, so one of the wrong type there is refused as one action too many,
//! where DynamoDB may well answer its type first.)

use serde_json::{Map, Value};

use super::protocol::WireError;

const INVALID: &str = "One or more parameter values were invalid: ";

/// The actions a `GlobalSecondaryIndexUpdate` may carry, in DynamoDB's model.
const ACTIONS: [&str; 3] = ["Create", "Update", "Delete"];

/// DynamoDB's refusal of a `GlobalSecondaryIndexUpdate` with no action.
const NO_ACTION: &str = "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null";

/// DynamoDB's refusal of a `GlobalSecondaryIndexUpdate` with more than one action.
const SEVERAL_ACTIONS: &str =
    "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object";

/// The request whose index members [`settle`] reads: each has its own, and a member of the
/// other's is not in its model, so it is ignored as any such member is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TableRequest {
    /// `LocalSecondaryIndexes` and `GlobalSecondaryIndexes`.
    CreateTable,
    /// `GlobalSecondaryIndexUpdates`.
    UpdateTable,
    /// A restore's `LocalSecondaryIndexOverride` and `GlobalSecondaryIndexOverride`, which
    /// hold the shapes CreateTable's index members hold.
    Restore,
}

/// Rewrites `body`, a `request`, into a shape the library's types read, and answers
/// DynamoDB's refusal of what it rewrote, if anything.
pub(super) fn settle(request: TableRequest, body: &mut Value) -> Option<WireError> {
    let Value::Object(fields) = body else {
        return None;
    };
    let mut refusal = None;
    match request {
        TableRequest::CreateTable => {
            for member in ["LocalSecondaryIndexes", "GlobalSecondaryIndexes"] {
                for index in entries(fields, member) {
                    settle_projection(index, &mut refusal);
                }
            }
        }
        TableRequest::Restore => {
            for member in [
                "LocalSecondaryIndexOverride",
                "GlobalSecondaryIndexOverride",
            ] {
                for index in entries(fields, member) {
                    settle_projection(index, &mut refusal);
                }
            }
        }
        TableRequest::UpdateTable => {
            settle_updates(fields, &mut refusal);
            for update in entries(fields, "GlobalSecondaryIndexUpdates") {
                if let Some(Value::Object(create)) = update.get_mut("Create") {
                    settle_projection(create, &mut refusal);
                }
            }
        }
    }
    refusal.map(|message: String| WireError::validation(format!("{INVALID}{message}")))
}

/// The objects in the list `member` of `fields` (none if it is absent or not a list).
fn entries<'a>(
    fields: &'a mut Map<String, Value>,
    member: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    let list = match fields.get_mut(member) {
        Some(Value::Array(list)) => list.as_mut_slice(),
        _ => &mut [],
    };
    list.iter_mut().filter_map(Value::as_object_mut)
}

/// Keeps one action of each `GlobalSecondaryIndexUpdate`, dropping members the model does not
/// define (DynamoDB ignores them) and updates with no action left.
fn settle_updates(fields: &mut Map<String, Value>, refusal: &mut Option<String>) {
    let Some(Value::Array(updates)) = fields.get_mut("GlobalSecondaryIndexUpdates") else {
        return;
    };
    updates.retain_mut(|update| {
        let Value::Object(members) = update else {
            return true;
        };
        members.retain(|name, value| ACTIONS.contains(&name.as_str()) && !value.is_null());
        let (kept, refused) = match members.len() {
            0 => (false, NO_ACTION),
            1 => return true,
            _ => (true, SEVERAL_ACTIONS),
        };
        if let Some(first) = ACTIONS.iter().find(|a| members.contains_key(**a)) {
            members.retain(|name, _| name == first);
        }
        refusal.get_or_insert_with(|| refused.to_owned());
        kept
    });
}

/// Gives a `Projection` without `ProjectionType` the type `ALL`, refusing it as DynamoDB does.
fn settle_projection(index: &mut Map<String, Value>, refusal: &mut Option<String>) {
    let Some(Value::Object(projection)) = index.get_mut("Projection") else {
        return;
    };
    if projection.get("ProjectionType").is_none_or(Value::is_null) {
        projection.insert("ProjectionType".into(), Value::from("ALL"));
        refusal.get_or_insert_with(|| "Unknown ProjectionType: null".to_owned());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refusal_of(body: Value) -> (Value, Option<String>) {
        let request = match body.get("GlobalSecondaryIndexUpdates") {
            Some(_) => TableRequest::UpdateTable,
            None => TableRequest::CreateTable,
        };
        refused_as(request, body)
    }

    fn refused_as(request: TableRequest, mut body: Value) -> (Value, Option<String>) {
        let refusal = settle(request, &mut body).and_then(|e| e.message);
        (body, refusal)
    }

    /// Each request's index members are read, not the other's: those are members its model
    /// lacks, which are ignored (a review found an UpdateTable refused for a
    /// `GlobalSecondaryIndexes` member it does not have).
    #[test]
    fn only_the_requests_own_index_members_are_read() {
        let index = json!({"IndexName": "i", "Projection": {}});
        let update = json!({"TableName": "T", "GlobalSecondaryIndexes": [index.clone()],
                            "LocalSecondaryIndexes": [index.clone()]});
        assert_eq!(
            refused_as(TableRequest::UpdateTable, update.clone()),
            (update, None)
        );
        let create =
            json!({"TableName": "T", "GlobalSecondaryIndexUpdates": [{}, {"Create": index}]});
        assert_eq!(
            refused_as(TableRequest::CreateTable, create.clone()),
            (create, None)
        );
    }

    /// A projection without a type, in either kind of index at creation or in an index
    /// created by `UpdateTable`, is DynamoDB's `Unknown ProjectionType: null` (Alternator's
    /// `test_gsi_missing_projection_type`, which passes on DynamoDB); the request becomes
    /// one the library reads.
    #[test]
    fn a_projection_without_a_type_is_refused_as_an_unknown_projection_type_null() {
        let index = json!({"IndexName": "i", "Projection": {},
                           "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}]});
        for body in [
            json!({"TableName": "T", "GlobalSecondaryIndexes": [index.clone()]}),
            json!({"TableName": "T", "LocalSecondaryIndexes": [index.clone()]}),
            json!({"TableName": "T", "GlobalSecondaryIndexUpdates": [{"Create": index.clone()}]}),
        ] {
            let (settled, refusal) = refusal_of(body.clone());
            assert_eq!(
                refusal.as_deref(),
                Some("One or more parameter values were invalid: Unknown ProjectionType: null"),
                "{body}"
            );
            assert!(settled.to_string().contains(r#""ProjectionType":"ALL""#));
        }
        let typed = json!({"TableName": "T", "GlobalSecondaryIndexes": [
            {"IndexName": "i", "Projection": {"ProjectionType": "KEYS_ONLY"}}]});
        assert_eq!(refusal_of(typed.clone()), (typed, None));
    }

    /// A restore's index overrides hold CreateTable's index shapes and are read so: one
    /// whose projection has no type is `Unknown ProjectionType: null`, not the `Member must
    /// not be null` of a member DynamoDB's model requires (it does not require this one).
    #[test]
    fn a_restores_index_override_without_a_projection_type_is_refused_as_at_creation() {
        let index = json!({"IndexName": "i", "Projection": {},
                           "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}]});
        for member in [
            "GlobalSecondaryIndexOverride",
            "LocalSecondaryIndexOverride",
        ] {
            let body = json!({"TargetTableName": "T", member: [index.clone()]});
            let (settled, refusal) = refused_as(TableRequest::Restore, body);
            assert_eq!(
                refusal.as_deref(),
                Some("One or more parameter values were invalid: Unknown ProjectionType: null"),
                "{member}"
            );
            assert!(settled.to_string().contains(r#""ProjectionType":"ALL""#));
        }
        let create = json!({"TableName": "T", "GlobalSecondaryIndexes": [index]});
        assert_eq!(
            refused_as(TableRequest::Restore, create.clone()),
            (create, None)
        );
    }

    /// A `GlobalSecondaryIndexUpdate` with no action (members the model lacks do not count)
    /// or with several is refused in DynamoDB's words (Alternator's
    /// `test_gsi_updatetable_errors`, which passes on DynamoDB); one action passes unchanged.
    #[test]
    fn an_index_update_without_exactly_one_action_is_refused_in_dynamodbs_words() {
        let none = "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null";
        let several = "One or more parameter values were invalid: Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object";
        let create = json!({"IndexName": "i", "Projection": {"ProjectionType": "ALL"}});
        for (update, refused) in [
            (json!({}), none),
            (json!({"Dog": create.clone()}), none),
            (json!({"Delete": null}), none),
            (
                json!({"Create": create.clone(), "Delete": {"IndexName": "j"}}),
                several,
            ),
        ] {
            let body = json!({"TableName": "T", "GlobalSecondaryIndexUpdates": [update.clone()]});
            let (settled, refusal) = refusal_of(body);
            assert_eq!(refusal.as_deref(), Some(refused), "{update}");
            for update in settled["GlobalSecondaryIndexUpdates"]
                .as_array()
                .into_iter()
                .flatten()
            {
                assert_eq!(update.as_object().map(Map::len), Some(1), "{settled}");
            }
        }
        let one = json!({"TableName": "T", "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "j"}}]});
        assert_eq!(refusal_of(one.clone()), (one, None));
    }
}
