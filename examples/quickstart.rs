//! The quickstart: the AWS CLI documentation's MusicCollection table, in process.
//!
//! Run it with `cargo run --example quickstart [DIRECTORY]` (default `./tidestore-quickstart`).
//! It creates the table, puts songs, reads one back, updates one under a condition (and
//! shows a condition failing), queries an artist's songs — printing each response as the
//! AWS CLI would — then closes and reopens the database to show that the writes survived.

use tidestore::{
    AttributeValue, CreateTableInput, Database, Error, GetItemInput, Item, PutItemInput,
    QueryInput, RestoreTableFromBackupInput, RestoreTableToPointInTimeInput, ReturnValue,
    ScalarAttributeType, ScanInput, UpdateContinuousBackupsInput, UpdateItemInput,
};

fn item(json: &str) -> Item {
    serde_json::from_str(json).expect("the example's items are valid DynamoDB JSON")
}

fn print(label: &str, value: &impl serde::Serialize) {
    let json = serde_json::to_string_pretty(value).expect("outputs serialize");
    println!("== {label}\n{json}\n");
}

fn main() -> Result<(), Error> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tidestore-quickstart".into());
    let db = Database::open(&dir)?;
    println!("opened database in {dir}\n");

    // aws dynamodb create-table --table-name MusicCollection \
    //   --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=SongTitle,AttributeType=S \
    //   --key-schema AttributeName=Artist,KeyType=HASH AttributeName=SongTitle,KeyType=RANGE \
    //   --provisioned-throughput ReadCapacityUnits=5,WriteCapacityUnits=5
    if db.describe_table("MusicCollection").is_err() {
        let table = db.create_table(
            CreateTableInput::new("MusicCollection")
                .hash_key("Artist", ScalarAttributeType::S)
                .range_key("SongTitle", ScalarAttributeType::S)
                .provisioned(5, 5),
        )?;
        print(
            "create-table",
            &serde_json::json!({ "TableDescription": table }),
        );
    }

    for song in [
        r#"{"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Call Me Today"}, "AlbumTitle": {"S": "Somewhat Famous"}, "Year": {"N": "2015"}}"#,
        r#"{"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Scared of My Shadow"}, "AlbumTitle": {"S": "Blue Sky Blues"}, "Year": {"N": "2012"}}"#,
        r#"{"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Happy Day"}, "AlbumTitle": {"S": "Songs About Life"}, "Awards": {"N": "10"}}"#,
    ] {
        db.put_item(PutItemInput::new("MusicCollection", item(song)))?;
    }
    println!("put 3 songs\n");

    let key = item(r#"{"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Happy Day"}}"#);
    let got = db.get_item(GetItemInput::new("MusicCollection", key.clone()))?;
    print("get-item", &got);

    // aws dynamodb update-item ... --update-expression "SET AlbumTitle = :newval, Awards = Awards + :inc"
    //   --condition-expression "attribute_exists(Awards)" --return-values ALL_NEW
    let updated = db.update_item(
        UpdateItemInput::for_key("MusicCollection", key.clone())
            .update_expression("SET AlbumTitle = :newval, Awards = Awards + :inc")
            .condition_expression("attribute_exists(Awards)")
            .expression_attribute_value(":newval", AttributeValue::s("Updated Album Title"))
            .expression_attribute_value(":inc", 1)
            .return_values(ReturnValue::AllNew),
    )?;
    print("update-item (condition held)", &updated);

    let refused = db.put_item(
        PutItemInput::new("MusicCollection", key)
            .condition_expression("attribute_not_exists(Artist)"),
    );
    match refused {
        Err(e @ Error::ConditionalCheckFailed { .. }) => {
            println!("== put-item with attribute_not_exists(Artist)\n{e}\n")
        }
        other => panic!("the condition should have failed, got {other:?}"),
    }

    // aws dynamodb query --key-condition-expression "Artist = :a AND begins_with(SongTitle, :t)"
    let songs = db.query(
        QueryInput::table("MusicCollection")
            .key_condition_expression("Artist = :a AND begins_with(SongTitle, :t)")
            .expression_attribute_value(":a", AttributeValue::s("No One You Know"))
            .expression_attribute_value(":t", AttributeValue::s("C")),
    )?;
    print("query", &songs);

    // aws dynamodb create-backup --table-name MusicCollection --backup-name MusicCollectionBackup
    let backup = db.create_backup("MusicCollection", "MusicCollectionBackup")?;
    print("create-backup", &backup);
    let arn = backup.backup_details.backup_arn;
    // A write after the backup was requested: not in the backup.
    let late_title = format!(
        "Written after backup {}",
        arn.rsplit('/').next().unwrap_or("")
    );
    let mut late = item(r#"{"Artist": {"S": "Acme Band"}}"#);
    late.insert("SongTitle".into(), AttributeValue::s(late_title.as_str()));
    db.put_item(PutItemInput::new("MusicCollection", late))?;
    let built = db.wait_for_backup(&arn, std::time::Duration::from_secs(30))?;
    print("describe-backup", &db.describe_backup(&arn)?);
    let target = "MusicCollectionRestored";
    if db.describe_table(target).is_ok() {
        db.delete_table(target)?; // left by an earlier run in the same directory
    }
    let restored = db.restore_table_from_backup(RestoreTableFromBackupInput::new(&arn, target))?;
    print("restore-table-from-backup", &restored);
    let in_restore = db.scan(ScanInput::new(target))?;
    println!(
        "{target} holds {} items (the backup's {}); the song written after the backup is {}\n",
        in_restore.count,
        built.source_table_details.item_count,
        if in_restore
            .items
            .iter()
            .any(|i| i["SongTitle"] == AttributeValue::s(late_title.as_str()))
        {
            "in it (wrong!)"
        } else {
            "not in it"
        }
    );

    // aws dynamodb update-continuous-backups --table-name MusicCollection \
    //   --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true
    let pitr =
        db.update_continuous_backups(UpdateContinuousBackupsInput::new("MusicCollection", true))?;
    print("update-continuous-backups", &pitr);
    let noon = db
        .describe_continuous_backups("MusicCollection")?
        .continuous_backups_description
        .point_in_time_recovery_description
        .latest_restorable_date_time
        .unwrap_or_default();
    std::thread::sleep(std::time::Duration::from_millis(2));
    let mut later = item(r#"{"Artist": {"S": "Acme Band"}}"#);
    later.insert(
        "SongTitle".into(),
        AttributeValue::s(format!("Written after {}", noon.to_iso8601())),
    );
    db.put_item(PutItemInput::new("MusicCollection", later))?;
    // aws dynamodb restore-table-to-point-in-time --source-table-name MusicCollection \
    //   --target-table-name MusicCollectionAtNoon --restore-date-time <noon>
    let target = "MusicCollectionAtNoon";
    if db.describe_table(target).is_ok() {
        db.delete_table(target)?;
    }
    let restored = db.restore_table_to_point_in_time(RestoreTableToPointInTimeInput::at(
        "MusicCollection",
        target,
        noon,
    ))?;
    print("restore-table-to-point-in-time", &restored);
    println!(
        "{target} holds {} items, MusicCollection {}: the song written after {} is only in the source\n",
        db.describe_table(target)?.item_count,
        db.describe_table("MusicCollection")?.item_count,
        noon.to_iso8601()
    );

    // Close the database and open it again: every acknowledged write is back, recovered from
    // the write-ahead log (and snapshots, once the log has grown).
    drop(db);
    let db = Database::open(&dir)?;
    let key = item(r#"{"Artist": {"S": "Acme Band"}, "SongTitle": {"S": "Happy Day"}}"#);
    let after = db.get_item(GetItemInput::new("MusicCollection", key))?;
    print("get-item after reopening the database", &after);
    let count = db.describe_table("MusicCollection")?.item_count;
    println!("MusicCollection holds {count} items after the reopen");
    let backups = db.list_backups(Default::default())?;
    println!(
        "{} backups listed after the reopen",
        backups.backup_summaries.len()
    );
    Ok(())
}
