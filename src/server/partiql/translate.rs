//! A parsed PartiQL statement as the one DynamoDB request that does its work: a SELECT whose
//! `WHERE` pins the partition key with `=` is a Query, any other SELECT a Scan; INSERT is a
//! PutItem that must not replace an item; UPDATE an UpdateItem of an item that must exist;
//! DELETE a DeleteItem.
//!
//! A global index's multi-attribute key (up to four partition and four sort attributes) makes
//! a Query as DynamoDB's Query takes it: `=` on every partition attribute, then `=` on a
//! prefix of the sort attributes, then at most one range condition on the next one.
//!
//! The request is written in DynamoDB's own JSON (expression strings with `#n`/`:v`
//! placeholders), and read into the library's input by the same decoder the wire uses, so
//! every check the library makes of a Query or a PutItem (types of key values, sizes,
//! reserved names) is made of the statement too, in the same words.
//!
//! `ORDER BY` the sort key sets the Query's direction (`ScanIndexForward`); a Scan has no
//! order to give, so it is refused there.
//!
//! For example, with `pk` the partition key, `SELECT a FROM "t" WHERE pk = ? AND b > 3`
//! becomes a Query with `KeyConditionExpression: #n0 = :v0`,
//! `FilterExpression: (#n1 > :v1)` and `ProjectionExpression: #n2`.

use serde_json::{json, Map, Value};

use super::parse::{
    Comparator, Condition, Data, Function, Literal, Member, Operand, OrderBy, Path, Sign, Statement,
};

/// The key attributes of a table or an index, each kind in the key schema's order: one
/// partition attribute and at most one sort attribute, but up to four of each in a global
/// index's multi-attribute key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// The partition key's attributes (at least one).
    pub partition: Vec<String>,
    /// The sort key's attributes (none if there is no sort key).
    pub sort: Vec<String>,
}

impl Keys {
    /// The first partition attribute: the one a write's `attribute_exists` names (a table's
    /// key, which writes address, has exactly one).
    fn first_partition(&self) -> Result<&str, String> {
        (self.partition.first())
            .map(String::as_str)
            .ok_or_else(|| "The table has no partition key".to_owned())
    }

    /// Whether `name` is one of the key's attributes.
    fn holds(&self, name: &str) -> bool {
        self.partition.iter().chain(&self.sort).any(|k| k == name)
    }
}

/// The request a statement becomes.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Which operation: `Query`, `Scan`, `PutItem`, `UpdateItem`, `DeleteItem`, or a
    /// transaction's `ConditionCheck`.
    pub operation: &'static str,
    /// Its JSON body, as a DynamoDB client would send it.
    pub body: Value,
}

/// Translates `statement`, with `parameters` for its `?`s, against `keys`: those of the index
/// a SELECT reads, else of the table. Errors are ValidationException messages.
pub fn translate(
    statement: &Statement,
    parameters: &[Value],
    keys: &Keys,
) -> Result<Request, String> {
    let mut names = Placeholders::new(parameters);
    match statement {
        Statement::Select {
            projection,
            table,
            index,
            condition,
            order,
        } => {
            let mut body = json!({ "TableName": table });
            if let Some(index) = index {
                body["IndexName"] = json!(index);
            }
            let conjuncts = condition.as_ref().map(conjuncts).unwrap_or_default();
            let operation = match key_condition(&conjuncts, keys) {
                Some((key, rest)) => {
                    let mut parts = Vec::new();
                    for (path, value) in key.partition {
                        parts.push(format!("{} = {}", names.path(path)?, names.operand(value)?));
                    }
                    for sort in &key.sort {
                        parts.push(names.condition(sort)?);
                    }
                    body["KeyConditionExpression"] = json!(parts.join(" AND "));
                    if let Some(filter) = names.conjunction(&rest)? {
                        body["FilterExpression"] = json!(filter);
                    }
                    "Query"
                }
                None => {
                    if let Some(filter) = names.conjunction(&conjuncts)? {
                        body["FilterExpression"] = json!(filter);
                    }
                    "Scan"
                }
            };
            if !order.is_empty() && !reads_forward(order, keys, operation)? {
                body["ScanIndexForward"] = json!(false);
            }
            if let Some(paths) = projection {
                let paths: Result<Vec<String>, String> =
                    paths.iter().map(|p| names.path(p)).collect();
                body["ProjectionExpression"] = json!(paths?.join(", "));
            }
            Ok(names.finish(operation, body))
        }
        Statement::Insert { table, item } => {
            let item = names.value(item)?;
            if item.get("M").is_none() {
                return Err(
                    "INSERT's VALUE must be a map of the item's attributes: { 'name': value, … }"
                        .into(),
                );
            }
            let partition = names.name(keys.first_partition()?);
            let body = json!({
                "TableName": table,
                "Item": item["M"],
                // DynamoDB's INSERT never replaces an item: refused as a duplicate instead.
                "ConditionExpression": format!("attribute_not_exists({partition})"),
            });
            Ok(names.finish("PutItem", body))
        }
        Statement::Update {
            table,
            set,
            remove,
            condition,
            returning,
        } => {
            let (key, rest) = item_key(condition, keys, &mut names)?;
            // SET's assignments, and the set functions as the ADD and DELETE actions they
            // stand for.
            let (mut assignments, mut adds, mut deletes) = (Vec::new(), Vec::new(), Vec::new());
            for (path, data) in set {
                let target = names.path(path)?;
                match data {
                    Data::Term(term) => {
                        assignments.push(format!("{target} = {}", names.operand(term)?));
                    }
                    Data::Arithmetic(a, sign, b) => {
                        let sign = match sign {
                            Sign::Plus => '+',
                            Sign::Minus => '-',
                        };
                        let (a, b) = (names.operand(a)?, names.operand(b)?);
                        assignments.push(format!("{target} = {a} {sign} {b}"));
                    }
                    Data::ListAppend(a, b) => {
                        let (a, b) = (names.operand(a)?, names.operand(b)?);
                        assignments.push(format!("{target} = list_append({a}, {b})"));
                    }
                    Data::SetAdd(of, value) | Data::SetDelete(of, value) => {
                        // ADD and DELETE change the set they name; a set function of
                        // another attribute has no such action to stand for.
                        if of != path {
                            return Err(
                                "tidestore supports set_add and set_delete only of the attribute they assign (SET a = set_add(a, …))"
                                    .into(),
                            );
                        }
                        let action = format!("{target} {}", names.literal(value)?);
                        match data {
                            Data::SetAdd(..) => adds.push(action),
                            _ => deletes.push(action),
                        }
                    }
                }
            }
            let removes: Result<Vec<String>, String> =
                remove.iter().map(|p| names.path(p)).collect();
            let clauses: Vec<String> = [
                ("SET", assignments),
                ("REMOVE", removes?),
                ("ADD", adds),
                ("DELETE", deletes),
            ]
            .into_iter()
            .filter(|(_, actions)| !actions.is_empty())
            .map(|(clause, actions)| format!("{clause} {}", actions.join(", ")))
            .collect();
            // DynamoDB's UPDATE never creates an item: one that does not exist fails the
            // condition (ConditionalCheckFailedException), as it does there.
            let partition = keys.first_partition()?;
            let mut conditions = vec![format!("attribute_exists({})", names.name(partition))];
            conditions.extend(names.conjunction(&rest)?);
            let mut body = json!({
                "TableName": table,
                "Key": key,
                "UpdateExpression": clauses.join(" "),
                "ConditionExpression": conditions.join(" AND "),
            });
            if let Some(returning) = returning {
                body["ReturnValues"] = json!(returning.return_values());
            }
            Ok(names.finish("UpdateItem", body))
        }
        Statement::Delete {
            table,
            condition,
            returning,
        } => {
            let (key, rest) = item_key(condition, keys, &mut names)?;
            let mut body = json!({ "TableName": table, "Key": key });
            if let Some(condition) = names.conjunction(&rest)? {
                body["ConditionExpression"] = json!(condition);
            }
            if let Some(returning) = returning {
                body["ReturnValues"] = json!(returning.return_values());
            }
            Ok(names.finish("DeleteItem", body))
        }
        Statement::Exists { table, condition } => {
            // A ConditionCheck of the item named: it must exist, and meet the rest.
            let (key, rest) = item_key(condition, keys, &mut names)?;
            let partition = keys.first_partition()?;
            let mut conditions = vec![format!("attribute_exists({})", names.name(partition))];
            conditions.extend(names.conjunction(&rest)?);
            let body = json!({
                "TableName": table,
                "Key": key,
                "ConditionExpression": conditions.join(" AND "),
            });
            Ok(names.finish("ConditionCheck", body))
        }
    }
}

/// A SELECT in a batch or a transaction as the GetItem it stands for: such a SELECT reads
/// one item, so its `WHERE` must be `=` on each key attribute and nothing else, and it may not
/// name an index. `Ok(None)` when it is not such a SELECT (the caller words the refusal: the
/// batch and the transaction word it differently); errors are ValidationException messages.
pub fn translate_get(
    statement: &Statement,
    parameters: &[Value],
    keys: &Keys,
) -> Result<Option<Request>, String> {
    let Statement::Select {
        projection,
        table,
        index: None,
        condition: Some(condition),
        order,
    } = statement
    else {
        return Ok(None);
    };
    if !order.is_empty() {
        // A SELECT with an ORDER BY is a Query, even of one item.
        return Ok(None);
    }
    let mut names = Placeholders::new(parameters);
    let Ok((key, rest)) = item_key(condition, keys, &mut names) else {
        return Ok(None);
    };
    if !rest.is_empty() {
        return Ok(None);
    }
    let mut body = json!({ "TableName": table, "Key": key });
    if let Some(paths) = projection {
        let paths: Result<Vec<String>, String> = paths.iter().map(|p| names.path(p)).collect();
        body["ProjectionExpression"] = json!(paths?.join(", "));
    }
    Ok(Some(names.finish("GetItem", body)))
}

/// Whether a SELECT's `ORDER BY` reads its Query forward (`ScanIndexForward`) or backward.
/// DynamoDB keeps a partition's items in sort-key order, so only a Query has an order to
/// give: the `WHERE` pins the partition key (whose attributes `ORDER BY` may then name, to
/// no effect: they have one value), and the sort key's attributes are named from the first,
/// in the key's order, all one way. Anything else is refused, never sorted by hand.
/// (The messages are tidestore's wording: DynamoDB's were not found in its documentation.)
fn reads_forward(order: &[OrderBy], keys: &Keys, operation: &str) -> Result<bool, String> {
    if operation != "Query" {
        return Err(
            "ORDER BY needs a WHERE that pins the partition key with =: only the items \
             of one partition have an order"
                .into(),
        );
    }
    let mut descending = None;
    let mut sort = keys.sort.iter();
    for by in order {
        let name = &by.path.name;
        if !keys.holds(name) {
            return Err(format!(
                "ORDER BY names only key attributes of the table or index read: {name} is not one"
            ));
        }
        if !by.path.members.is_empty() {
            return Err(format!(
                "ORDER BY names key attributes, not paths into them: {name} has no members"
            ));
        }
        if keys.partition.contains(name) {
            continue;
        }
        if sort.next() != Some(name) {
            return Err(format!(
                "ORDER BY names the sort key's attributes in the key's order, from the first: \
                 not {name} here"
            ));
        }
        if descending
            .replace(by.descending)
            .is_some_and(|d| d != by.descending)
        {
            return Err(
                "ORDER BY orders every sort key attribute the same way (ASC or DESC)".into(),
            );
        }
    }
    Ok(descending != Some(true))
}

/// The parts of a condition joined by its top-level ANDs.
fn conjuncts(condition: &Condition) -> Vec<&Condition> {
    match condition {
        Condition::And(left, right) => {
            let mut parts = conjuncts(left);
            parts.extend(conjuncts(right));
            parts
        }
        other => vec![other],
    }
}

/// A Query's key condition: each partition attribute's path and value, and the sort
/// attributes' conditions (equalities on a prefix of them, the last one possibly a range),
/// each with its attribute on the left, as a key condition writes it.
struct KeyCondition<'a> {
    partition: Vec<(&'a Path, &'a Operand)>,
    sort: Vec<Condition>,
}

/// The key condition `conjuncts` hold, and the conjuncts left for the filter; `None` when
/// they do not make a Query: a partition attribute without exactly one `= value`, a sort
/// attribute with two conditions, or a key attribute used in a way a key condition cannot
/// hold (a Query's filter may not name a key attribute, so such a statement is a Scan,
/// whose filter may). The sort conditions taken are DynamoDB's: `=` on the sort attributes
/// in the key's order, until one has a range condition (which ends them) or none.
fn key_condition<'a>(
    conjuncts: &[&'a Condition],
    keys: &Keys,
) -> Option<(KeyCondition<'a>, Vec<&'a Condition>)> {
    let mut taken = vec![false; conjuncts.len()];
    // The one conjunct meeting `matches`, marked taken; `None` for none, and an `Err` for
    // more than one (no Query then).
    let mut take_one = |matches: &dyn Fn(&Condition) -> bool| -> Result<Option<usize>, ()> {
        let mut found = (0..conjuncts.len()).filter(|&i| matches(conjuncts[i]));
        let first = found.next();
        if found.next().is_some() {
            return Err(());
        }
        if let Some(i) = first {
            taken[i] = true;
        }
        Ok(first)
    };
    let mut partition = Vec::new();
    for name in &keys.partition {
        let i = take_one(&|c| equality(c, name).is_some()).ok()??;
        partition.push(equality(conjuncts[i], name)?);
    }
    let mut sort = Vec::new();
    for name in &keys.sort {
        let Some(i) = take_one(&|c| is_sort_condition(c, name)).ok()? else {
            break;
        };
        sort.push(attribute_first(conjuncts[i]));
        if equality(conjuncts[i], name).is_none() {
            break;
        }
    }
    let rest: Vec<&Condition> = (conjuncts.iter().zip(&taken))
        .filter(|(_, taken)| !**taken)
        .map(|(conjunct, _)| *conjunct)
        .collect();
    if rest.iter().any(|conjunct| names_key(conjunct, keys)) {
        return None;
    }
    Some((KeyCondition { partition, sort }, rest))
}

/// `name = value` (or `value = name`) with `name` a top-level attribute: its path and value.
fn equality<'a>(condition: &'a Condition, name: &str) -> Option<(&'a Path, &'a Operand)> {
    match condition {
        Condition::Compare(Operand::Path(path), Comparator::Eq, value @ Operand::Value(_))
        | Condition::Compare(value @ Operand::Value(_), Comparator::Eq, Operand::Path(path))
            if is_attribute(path, name) =>
        {
            Some((path, value))
        }
        _ => None,
    }
}

/// Whether `condition` is one a Query's key condition can hold for sort key `name`: the
/// attribute compared with a value on either side (`3 < s` as well as `s > 3`, as the
/// partition's `'a' = p` is taken as well as `p = 'a'`), BETWEEN or begins_with.
fn is_sort_condition(condition: &Condition, name: &str) -> bool {
    match condition {
        Condition::Compare(Operand::Path(path), comparator, Operand::Value(_))
        | Condition::Compare(Operand::Value(_), comparator, Operand::Path(path)) => {
            is_attribute(path, name) && *comparator != Comparator::Ne
        }
        Condition::Between(Operand::Path(path), Operand::Value(_), Operand::Value(_))
        | Condition::Function(Function::BeginsWith, path, Operand::Value(_)) => {
            is_attribute(path, name)
        }
        _ => false,
    }
}

/// A sort key's condition with the attribute on the left: `3 < s` is `s > 3`.
fn attribute_first(condition: &Condition) -> Condition {
    match condition {
        Condition::Compare(value @ Operand::Value(_), comparator, path @ Operand::Path(_)) => {
            Condition::Compare(path.clone(), comparator.flipped(), value.clone())
        }
        other => other.clone(),
    }
}

fn is_attribute(path: &Path, name: &str) -> bool {
    path.name == name && path.members.is_empty()
}

/// Whether `condition` names one of the key attributes anywhere.
fn names_key(condition: &Condition, keys: &Keys) -> bool {
    let is_key = |path: &Path| keys.holds(&path.name);
    let operand = |operand: &Operand| match operand {
        Operand::Path(path) | Operand::Size(path) => is_key(path),
        Operand::Value(_) => false,
    };
    match condition {
        Condition::And(a, b) | Condition::Or(a, b) => names_key(a, keys) || names_key(b, keys),
        Condition::Not(a) => names_key(a, keys),
        Condition::Compare(a, _, b) => operand(a) || operand(b),
        Condition::Between(a, b, c) => operand(a) || operand(b) || operand(c),
        Condition::In(a, values) => operand(a) || values.iter().any(operand),
        Condition::Exists(path) | Condition::NotExists(path) => is_key(path),
        Condition::Function(_, path, value) => is_key(path) || operand(value),
    }
}

/// The item's key that the conjuncts of `condition` pin with `=` (UPDATE and DELETE act on
/// one item, named by its whole key), and the conjuncts left as the write's condition.
fn item_key<'a>(
    condition: &'a Condition,
    keys: &Keys,
    names: &mut Placeholders<'_>,
) -> Result<(Map<String, Value>, Vec<&'a Condition>), String> {
    let mut key = Map::new();
    let mut rest = Vec::new();
    let key_names: Vec<&String> = keys.partition.iter().chain(&keys.sort).collect();
    for conjunct in conjuncts(condition) {
        let pinned = key_names.iter().find_map(|name| {
            let (_, value) = equality(conjunct, name)?;
            Some((*name, value))
        });
        match pinned {
            Some((name, Operand::Value(value))) if !key.contains_key(name) => {
                key.insert(name.clone(), names.value(value)?);
            }
            _ => rest.push(conjunct),
        }
    }
    if key.len() != key_names.len() {
        return Err(
            "Where clause does not contain a mandatory equality on all key attributes".into(),
        );
    }
    Ok((key, rest))
}

/// The `#n` and `:v` placeholders of the expressions being written, and the values of the
/// statement's `?`s.
struct Placeholders<'p> {
    parameters: &'p [Value],
    names: Map<String, Value>,
    values: Map<String, Value>,
}

impl<'p> Placeholders<'p> {
    fn new(parameters: &'p [Value]) -> Self {
        Placeholders {
            parameters,
            names: Map::new(),
            values: Map::new(),
        }
    }

    /// The placeholder of attribute name `name` (one per distinct name: DynamoDB refuses
    /// a placeholder left unused, and a name given twice would be one).
    fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| n.as_str() == Some(name)) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), json!(name));
        placeholder
    }

    fn path(&mut self, path: &Path) -> Result<String, String> {
        let mut text = self.name(&path.name);
        for member in &path.members {
            match member {
                Member::Name(name) => {
                    text.push('.');
                    text.push_str(&self.name(name));
                }
                Member::Index(index) => text.push_str(&format!("[{index}]")),
            }
        }
        Ok(text)
    }

    /// The placeholder of a value written in the statement.
    fn literal(&mut self, literal: &Literal) -> Result<String, String> {
        let value = self.value(literal)?;
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        Ok(placeholder)
    }

    /// A literal as DynamoDB's JSON form of an attribute value.
    fn value(&self, literal: &Literal) -> Result<Value, String> {
        Ok(match literal {
            Literal::String(s) => json!({ "S": s }),
            Literal::Number(n) => json!({ "N": n }),
            Literal::Bool(b) => json!({ "BOOL": b }),
            Literal::Null => json!({ "NULL": true }),
            Literal::Parameter(i) => self
                .parameters
                .get(*i)
                .cloned()
                .ok_or("Number of parameters in request and statement don't match.")?,
            Literal::Map(entries) => {
                let mut map = Map::new();
                for (key, value) in entries {
                    map.insert(key.clone(), self.value(value)?);
                }
                json!({ "M": map })
            }
            Literal::List(values) => {
                let values: Result<Vec<Value>, String> =
                    values.iter().map(|v| self.value(v)).collect();
                json!({ "L": values? })
            }
            Literal::Set(values) => {
                let values: Vec<Value> = (values.iter())
                    .map(|v| self.value(v))
                    .collect::<Result<_, _>>()?;
                // A set holds strings, numbers or binaries, all of one type.
                let set_type = ["S", "N", "B"]
                    .into_iter()
                    .find(|t| values.iter().all(|v| v.get(*t).is_some()))
                    .filter(|_| !values.is_empty())
                    .ok_or(
                        "A set (<< … >>) must hold strings, numbers or binaries, all of one type",
                    )?;
                let members: Vec<Value> = values.iter().map(|v| v[set_type].clone()).collect();
                json!({ format!("{set_type}S"): members })
            }
        })
    }

    fn operand(&mut self, operand: &Operand) -> Result<String, String> {
        match operand {
            Operand::Path(path) => self.path(path),
            Operand::Value(literal) => self.literal(literal),
            Operand::Size(path) => Ok(format!("size({})", self.path(path)?)),
        }
    }

    /// `conjuncts` joined by AND, `None` if there are none.
    fn conjunction(&mut self, conjuncts: &[&Condition]) -> Result<Option<String>, String> {
        let parts: Result<Vec<String>, String> =
            conjuncts.iter().map(|c| self.condition(c)).collect();
        let parts = parts?;
        Ok((!parts.is_empty()).then(|| parts.join(" AND ")))
    }

    /// A condition in DynamoDB's expression language, parenthesised so that the
    /// statement's grouping is kept whatever the precedence.
    fn condition(&mut self, condition: &Condition) -> Result<String, String> {
        Ok(match condition {
            Condition::And(a, b) => format!("({} AND {})", self.condition(a)?, self.condition(b)?),
            Condition::Or(a, b) => format!("({} OR {})", self.condition(a)?, self.condition(b)?),
            Condition::Not(a) => format!("(NOT {})", self.condition(a)?),
            Condition::Compare(a, comparator, b) => {
                let comparator = comparator.symbol();
                format!("({} {comparator} {})", self.operand(a)?, self.operand(b)?)
            }
            Condition::Between(a, low, high) => format!(
                "({} BETWEEN {} AND {})",
                self.operand(a)?,
                self.operand(low)?,
                self.operand(high)?
            ),
            Condition::In(a, values) => {
                let a = self.operand(a)?;
                let values: Result<Vec<String>, String> =
                    values.iter().map(|v| self.operand(v)).collect();
                format!("({a} IN ({}))", values?.join(", "))
            }
            Condition::Exists(path) => format!("attribute_exists({})", self.path(path)?),
            Condition::NotExists(path) => format!("attribute_not_exists({})", self.path(path)?),
            Condition::Function(function, path, value) => {
                let function = match function {
                    Function::BeginsWith => "begins_with",
                    Function::Contains => "contains",
                    Function::AttributeType => "attribute_type",
                };
                format!("{function}({}, {})", self.path(path)?, self.operand(value)?)
            }
        })
    }

    /// The request, with the placeholders used.
    fn finish(self, operation: &'static str, mut body: Value) -> Request {
        if !self.names.is_empty() {
            body["ExpressionAttributeNames"] = Value::Object(self.names);
        }
        if !self.values.is_empty() {
            body["ExpressionAttributeValues"] = Value::Object(self.values);
        }
        Request { operation, body }
    }
}
