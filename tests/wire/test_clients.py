"""The real AWS clients against `tidestore serve`: boto3 and the AWS CLI v1, for DynamoDB
and for DynamoDB Streams (boto3's `dynamodbstreams` client, `aws dynamodbstreams`) on the
same endpoint.

Run by tests/wire.rs, which starts a server and sets TIDESTORE_ENDPOINT (and, for the
Signatures class, TIDESTORE_AUTH_KEY/TIDESTORE_AUTH_SECRET of a server started with --auth).
"""

import datetime
import gzip
import hashlib
import hmac
import json
import os
import re
import subprocess
import time
import unittest
import urllib.request

import boto3
import botocore.config
import botocore.exceptions

ENDPOINT = os.environ.get("TIDESTORE_ENDPOINT", "http://127.0.0.1:8000")
REGION = "us-east-1"
# No retries: an error must come back once, at once, with DynamoDB's name.
NO_RETRIES = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})


def client(key="x", secret="y", region=REGION, validate=True):
    """A DynamoDB client; `validate=False` sends what botocore would refuse (an empty
    S3SseKmsKeyId) to the server."""
    return boto3.client(
        "dynamodb",
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=NO_RETRIES.merge(botocore.config.Config(parameter_validation=validate)),
    )


def streams_client(key="x", secret="y", validate=True):
    """A DynamoDB Streams client on the same endpoint; `validate=False` sends what botocore
    would refuse (a too-short StreamArn, an unknown ShardIteratorType) to the server."""
    return boto3.client(
        "dynamodbstreams",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=NO_RETRIES.merge(botocore.config.Config(parameter_validation=validate)),
    )


def cli(*args, service="dynamodb"):
    """Runs `aws SERVICE ARGS --endpoint-url …`; its parsed JSON output (or None)."""
    out = subprocess.run(
        ["aws", service, *args, "--endpoint-url", ENDPOINT, "--region", REGION],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if out.returncode != 0:
        raise CliError(out.returncode, out.stderr)
    return json.loads(out.stdout) if out.stdout.strip() else None


class CliError(Exception):
    def __init__(self, code, stderr):
        super().__init__(f"exit {code}: {stderr}")
        self.code = code
        self.stderr = stderr


def error_code(e):
    return e.response["Error"]["Code"]


class Clients(unittest.TestCase):
    def setUp(self):
        if os.environ.get("TIDESTORE_AUTH_KEY"):
            self.skipTest("the server checks signatures")
        self.ddb = client()

    def make_music(self, name):
        cli(
            "create-table",
            "--table-name", name,
            "--attribute-definitions", "AttributeName=Artist,AttributeType=S", "AttributeName=SongTitle,AttributeType=S",
            "--key-schema", "AttributeName=Artist,KeyType=HASH", "AttributeName=SongTitle,KeyType=RANGE",
            "--provisioned-throughput", "ReadCapacityUnits=5,WriteCapacityUnits=5",
        )
        cli("wait", "table-exists", "--table-name", name)

    def test_the_seeds_create_backup_command_answers_the_seeds_shape(self):
        self.make_music("MusicCollection")
        self.ddb.put_item(
            TableName="MusicCollection",
            Item={"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Call Me Today"}},
        )
        # The CLI page's example, verbatim (plus the endpoint).
        out = cli("create-backup", "--table-name", "MusicCollection", "--backup-name", "MusicCollectionBackup")
        details = out["BackupDetails"]
        self.assertEqual(set(details), {"BackupArn", "BackupName", "BackupSizeBytes", "BackupStatus", "BackupType", "BackupCreationDateTime"})
        self.assertRegex(details["BackupArn"], r"^arn:aws:dynamodb:us-east-1:\d{12}:table/MusicCollection/backup/\d{14}-[0-9a-f]{8}$")
        self.assertEqual(details["BackupName"], "MusicCollectionBackup")
        self.assertIn(details["BackupStatus"], ("CREATING", "AVAILABLE"))
        self.assertEqual(details["BackupType"], "USER")
        self.assertIsInstance(details["BackupSizeBytes"], int)
        self.assertIsInstance(details["BackupCreationDateTime"], float)
        millis = int(details["BackupArn"].split("/backup/")[1].split("-")[0])
        self.assertAlmostEqual(millis / 1000, details["BackupCreationDateTime"], places=3)
        arn = details["BackupArn"]
        for _ in range(200):
            described = cli("describe-backup", "--backup-arn", arn)["BackupDescription"]
            if described["BackupDetails"]["BackupStatus"] == "AVAILABLE":
                break
            time.sleep(0.05)
        self.assertEqual(described["BackupDetails"]["BackupStatus"], "AVAILABLE")
        self.assertEqual(described["SourceTableDetails"]["TableName"], "MusicCollection")
        self.assertEqual(described["SourceTableDetails"]["ItemCount"], 1)
        listed = cli("list-backups", "--table-name", "MusicCollection")["BackupSummaries"]
        self.assertEqual([b["BackupArn"] for b in listed], [arn])
        restored = cli("restore-table-from-backup", "--target-table-name", "MusicRestored", "--backup-arn", arn)
        self.assertEqual(restored["TableDescription"]["TableName"], "MusicRestored")
        cli("wait", "table-exists", "--table-name", "MusicRestored")
        self.assertEqual(self.ddb.scan(TableName="MusicRestored")["Count"], 1)
        deleted = cli("delete-backup", "--backup-arn", arn)
        self.assertEqual(deleted["BackupDescription"]["BackupDetails"]["BackupStatus"], "DELETED")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.describe_backup(BackupArn=arn)
        self.assertEqual(error_code(e.exception), "BackupNotFoundException")

    def test_items_with_expressions_return_values_and_condition_failures(self):
        self.make_music("Items")
        key = {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Happy Day"}}
        self.ddb.put_item(TableName="Items", Item={**key, "Awards": {"N": "1"}}, ConditionExpression="attribute_not_exists(Artist)")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.put_item(
                TableName="Items", Item=key, ConditionExpression="attribute_not_exists(Artist)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        self.assertEqual(error_code(e.exception), "ConditionalCheckFailedException")
        self.assertEqual(e.exception.response["Item"]["Awards"], {"N": "1"})
        updated = self.ddb.update_item(
            TableName="Items", Key=key,
            UpdateExpression="SET #y = :y ADD Awards :one",
            ExpressionAttributeNames={"#y": "Year"},
            ExpressionAttributeValues={":y": {"N": "2015"}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )
        self.assertEqual(updated["Attributes"]["Awards"], {"N": "2"})
        got = self.ddb.get_item(TableName="Items", Key=key, ProjectionExpression="#y", ExpressionAttributeNames={"#y": "Year"})
        self.assertEqual(got["Item"], {"Year": {"N": "2015"}})
        self.assertEqual(self.ddb.get_item(TableName="Items", Key={**key, "SongTitle": {"S": "Nope"}}).get("Item"), None)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.update_item(TableName="Items", Key=key, UpdateExpression="SET Year = :y", ExpressionAttributeValues={":y": {"N": "1"}})
        self.assertEqual(error_code(e.exception), "ValidationException")
        self.assertIn("reserved keyword: Year", e.exception.response["Error"]["Message"])
        old = self.ddb.delete_item(TableName="Items", Key=key, ReturnValues="ALL_OLD")
        self.assertEqual(old["Attributes"]["Year"], {"N": "2015"})

    def test_query_and_scan_paginate_in_the_cli_and_boto3(self):
        self.make_music("Pages")
        for i in range(25):
            self.ddb.put_item(TableName="Pages", Item={"Artist": {"S": "A" if i % 5 else "B"}, "SongTitle": {"S": f"s{i:02}"}, "N": {"N": str(i)}})
        out = cli("query", "--table-name", "Pages", "--key-condition-expression", "Artist = :a", "--expression-attribute-values", '{":a": {"S": "A"}}', "--page-size", "3")
        self.assertEqual(out["Count"], 20)
        self.assertEqual([i["SongTitle"]["S"] for i in out["Items"]], sorted(i["SongTitle"]["S"] for i in out["Items"]))
        out = cli("scan", "--table-name", "Pages", "--filter-expression", "N >= :ten", "--expression-attribute-values", '{":ten": {"N": "10"}}', "--page-size", "4")
        self.assertEqual((out["Count"], out["ScannedCount"]), (15, 25))
        pages = self.ddb.get_paginator("query").paginate(
            TableName="Pages", KeyConditionExpression="Artist = :b", ExpressionAttributeValues={":b": {"S": "B"}}, Limit=2, ScanIndexForward=False)
        titles = [i["SongTitle"]["S"] for page in pages for i in page["Items"]]
        self.assertEqual(titles, ["s20", "s15", "s10", "s05", "s00"])
        segments = [self.ddb.scan(TableName="Pages", Segment=s, TotalSegments=3)["Count"] for s in range(3)]
        self.assertEqual(sum(segments), 25)

    def test_functions_take_a_value_or_a_second_path_first_as_dynamodb_does(self):
        # The requests of ScyllaDB's Alternator tests (test_condition_expression.py), which
        # DynamoDB answers so: the guide names a path first, the service takes any operand.
        self.make_music("Functions")
        key = {"Artist": {"S": "A"}, "SongTitle": {"S": "1"}}
        self.ddb.put_item(TableName="Functions", Item={**key, "a": {"S": "hello"}})

        def update(condition, values):
            self.ddb.update_item(
                TableName="Functions", Key=key, UpdateExpression="SET c = :val",
                ConditionExpression=condition, ExpressionAttributeValues=values)

        update("attribute_type(:val, :type)", {":val": {"N": "0"}, ":type": {"S": "N"}})
        update("begins_with(:str, a)", {":val": {"S": "he"}, ":str": {"S": "hellohi"}})
        update("begins_with(a, c)", {":val": {"N": "5"}})
        self.assertEqual(self.ddb.get_item(TableName="Functions", Key=key)["Item"]["c"], {"N": "5"})
        update("contains(:names, a)", {":val": {"N": "6"}, ":names": {"SS": ["hello", "world"]}})
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            update("contains(:names, a)", {":val": {"N": "7"}, ":names": {"SS": ["hi"]}})
        self.assertEqual(error_code(e.exception), "ConditionalCheckFailedException")
        # The type must still be an expression attribute value.
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            update("attribute_type(a, b)", {":val": {"N": "1"}})
        self.assertEqual(error_code(e.exception), "ValidationException")
        # A key condition's begins_with still wants the sort key first.
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.query(
                TableName="Functions", KeyConditionExpression="Artist = :a AND begins_with(:t, SongTitle)",
                ExpressionAttributeValues={":a": {"S": "A"}, ":t": {"S": "1x"}})
        self.assertEqual(error_code(e.exception), "ValidationException")
        self.assertIn("requires a document path", e.exception.response["Error"]["Message"])
        self.assertEqual(self.ddb.get_item(TableName="Functions", Key=key)["Item"]["c"], {"N": "6"})

    def test_batches_and_transactions(self):
        self.make_music("Batch")
        self.ddb.batch_write_item(RequestItems={"Batch": [
            {"PutRequest": {"Item": {"Artist": {"S": "A"}, "SongTitle": {"S": str(i)}}}} for i in range(10)
        ]})
        got = self.ddb.batch_get_item(RequestItems={"Batch": {"Keys": [{"Artist": {"S": "A"}, "SongTitle": {"S": str(i)}} for i in (1, 3, 11)], "ProjectionExpression": "SongTitle"}})
        self.assertEqual(sorted(i["SongTitle"]["S"] for i in got["Responses"]["Batch"]), ["1", "3"])
        self.assertEqual(got["UnprocessedKeys"], {})
        key = {"Artist": {"S": "A"}, "SongTitle": {"S": "1"}}
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.transact_write_items(TransactItems=[
                {"ConditionCheck": {"TableName": "Batch", "Key": key, "ConditionExpression": "attribute_not_exists(Artist)"}},
                {"Put": {"TableName": "Batch", "Item": {"Artist": {"S": "A"}, "SongTitle": {"S": "new"}}}},
            ])
        self.assertEqual(error_code(e.exception), "TransactionCanceledException")
        self.assertEqual([r["Code"] for r in e.exception.response["CancellationReasons"]], ["ConditionalCheckFailed", "None"])
        self.ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "Batch", "Key": key, "UpdateExpression": "SET Plays = :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": "Batch", "Key": {"Artist": {"S": "A"}, "SongTitle": {"S": "2"}}}},
        ])
        read = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": "Batch", "Key": key, "ProjectionExpression": "Plays"}},
            {"Get": {"TableName": "Batch", "Key": {"Artist": {"S": "A"}, "SongTitle": {"S": "2"}}}},
        ])
        self.assertEqual([r.get("Item") for r in read["Responses"]], [{"Plays": {"N": "1"}}, None])

    def test_a_client_request_token_makes_a_transaction_idempotent(self):
        self.make_music("Idempotent")
        key = {"Artist": {"S": "A"}, "SongTitle": {"S": "1"}}
        def increment(by, token, **extra):
            return self.ddb.transact_write_items(ClientRequestToken=token, TransactItems=[
                {"Update": {"TableName": "Idempotent", "Key": key, "UpdateExpression": "ADD Plays :by",
                            "ExpressionAttributeValues": {":by": {"N": str(by)}}}},
            ], **extra)
        increment(1, "token-1")
        again = increment(1, "token-1", ReturnConsumedCapacity="TOTAL")
        self.assertEqual(again["ConsumedCapacity"][0]["ReadCapacityUnits"], 1.0)
        item = self.ddb.get_item(TableName="Idempotent", Key=key)["Item"]
        self.assertEqual(item["Plays"], {"N": "1"})
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            increment(2, "token-1")
        self.assertEqual(error_code(e.exception), "IdempotentParameterMismatchException")
        # boto3 gives every transaction a fresh token of its own when none is given.
        increment(1, "token-2")
        self.ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "Idempotent", "Key": key, "UpdateExpression": "ADD Plays :by",
                        "ExpressionAttributeValues": {":by": {"N": "1"}}}},
        ])
        item = self.ddb.get_item(TableName="Idempotent", Key=key)["Item"]
        self.assertEqual(item["Plays"], {"N": "3"})

    def test_consumed_capacity_comes_back_as_dynamodb_reports_it(self):
        self.make_music("Capacity")
        # The CLI page's put-item example: a small item is one write unit.
        song = '{"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Call Me Today"}, "AlbumTitle": {"S": "Somewhat Famous"}}'
        out = cli("put-item", "--table-name", "Capacity", "--item", song, "--return-consumed-capacity", "TOTAL")
        self.assertEqual(out, {"ConsumedCapacity": {"TableName": "Capacity", "CapacityUnits": 1.0}})
        # 6 + 1 + 9 + 1 + 6 + 2,000 = 2,023 bytes: two 1 KB write units, one 4 KB read unit.
        key = {"Artist": {"S": "A"}, "SongTitle": {"S": "s"}}
        put = self.ddb.put_item(TableName="Capacity", Item={**key, "Lyrics": {"S": "x" * 2000}}, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(put["ConsumedCapacity"], {"TableName": "Capacity", "CapacityUnits": 2.0})
        get = self.ddb.get_item(TableName="Capacity", Key=key, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(get["ConsumedCapacity"], {"TableName": "Capacity", "CapacityUnits": 0.5})
        get = self.ddb.get_item(TableName="Capacity", Key=key, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(get["ConsumedCapacity"], {"TableName": "Capacity", "CapacityUnits": 1.0})
        self.assertNotIn("ConsumedCapacity", self.ddb.get_item(TableName="Capacity", Key=key))
        query = self.ddb.query(
            TableName="Capacity", KeyConditionExpression="Artist = :a", ExpressionAttributeValues={":a": {"S": "A"}}, ReturnConsumedCapacity="INDEXES")
        self.assertEqual(query["ConsumedCapacity"], {"TableName": "Capacity", "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.5}})
        read = self.ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "Capacity", "Key": key}}], ReturnConsumedCapacity="TOTAL")
        self.assertEqual(read["ConsumedCapacity"], [{"TableName": "Capacity", "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}])

    def test_tables_update_list_and_delete_with_waiters(self):
        self.make_music("Ddl")
        described = self.ddb.describe_table(TableName="Ddl")["Table"]
        self.assertEqual(described["TableStatus"], "ACTIVE")
        self.assertRegex(described["TableId"], r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertIsInstance(described["CreationDateTime"], datetime.datetime)
        self.assertNotIn("LastUpdateToPayPerRequestDateTime", described["BillingModeSummary"])
        self.ddb.update_table(TableName="Ddl", BillingMode="PAY_PER_REQUEST")
        summary = self.ddb.describe_table(TableName="Ddl")["Table"]["BillingModeSummary"]
        self.assertEqual(summary["BillingMode"], "PAY_PER_REQUEST")
        # When the update set it: not before the table's creation.
        self.assertGreaterEqual(summary["LastUpdateToPayPerRequestDateTime"], described["CreationDateTime"])
        self.assertIn("Ddl", cli("list-tables")["TableNames"])
        cli("delete-table", "--table-name", "Ddl")
        cli("wait", "table-not-exists", "--table-name", "Ddl")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.describe_table(TableName="Ddl")
        self.assertEqual(error_code(e.exception), "ResourceNotFoundException")

    def test_deletion_protection_and_table_class(self):
        self.ddb.create_table(
            TableName="Guarded",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            TableClass="STANDARD_INFREQUENT_ACCESS",
            DeletionProtectionEnabled=True,
        )
        table = self.ddb.describe_table(TableName="Guarded")["Table"]
        self.assertEqual(table["TableClassSummary"], {"TableClass": "STANDARD_INFREQUENT_ACCESS"})
        # Created on demand: since its creation, as DynamoDB reports it.
        self.assertEqual(table["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"], table["CreationDateTime"])
        self.assertTrue(table["DeletionProtectionEnabled"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.delete_table(TableName="Guarded")
        self.assertEqual(error_code(e.exception), "ValidationException")
        self.assertEqual(
            e.exception.response["Error"]["Message"],
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
        )
        updated = cli("update-table", "--table-name", "Guarded", "--no-deletion-protection-enabled", "--table-class", "STANDARD")
        self.assertFalse(updated["TableDescription"]["DeletionProtectionEnabled"])
        summary = updated["TableDescription"]["TableClassSummary"]
        self.assertEqual(summary["TableClass"], "STANDARD")
        self.assertIsInstance(summary["LastUpdateDateTime"], (int, float))
        self.ddb.delete_table(TableName="Guarded")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.create_table(
                TableName="BadClass",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                TableClass="GLACIER",
            )
        self.assertEqual(error_code(e.exception), "ValidationException")

    def test_encryption_at_rest_takes_the_default_and_refuses_kms(self):
        def create(name, sse):
            return self.ddb.create_table(
                TableName=name,
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                SSESpecification=sse,
            )

        with self.assertRaises(botocore.exceptions.ClientError) as e:
            create("Kms", {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/aws/dynamodb"})
        self.assertEqual(error_code(e.exception), "ValidationException")
        self.assertIn("SSESpecification", e.exception.response["Error"]["Message"])
        created = create("OwnedKey", {"Enabled": False})["TableDescription"]
        # A key AWS owns: DynamoDB describes no SSEDescription for it.
        self.assertNotIn("SSEDescription", created)
        # UpdateTable takes the default alone (nothing changes) and refuses KMS.
        updated = self.ddb.update_table(TableName="OwnedKey", SSESpecification={"Enabled": False})
        self.assertNotIn("SSEDescription", updated["TableDescription"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.update_table(TableName="OwnedKey", SSESpecification={"Enabled": True, "SSEType": "KMS"})
        self.assertEqual(error_code(e.exception), "ValidationException")
        self.assertIn("SSESpecification", e.exception.response["Error"]["Message"])
        self.ddb.delete_table(TableName="OwnedKey")

    def test_item_collection_metrics_are_reported_for_tables_with_a_local_index(self):
        self.ddb.create_table(
            TableName="Collections",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "alt")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            LocalSecondaryIndexes=[{
                "IndexName": "ByAlt",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "alt", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }],
            BillingMode="PAY_PER_REQUEST",
        )
        self.make_music("NoLocalIndex")
        expected = {"ItemCollectionKey": {"pk": {"S": "a"}}, "SizeEstimateRangeGB": [0.0, 1.0]}
        item = {"pk": {"S": "a"}, "sk": {"S": "1"}, "alt": {"S": "x"}}
        put = self.ddb.put_item(TableName="Collections", Item=item, ReturnItemCollectionMetrics="SIZE")
        self.assertEqual(put["ItemCollectionMetrics"], expected)
        plain = self.ddb.put_item(TableName="NoLocalIndex", Item={"Artist": {"S": "a"}, "SongTitle": {"S": "b"}},
                                  ReturnItemCollectionMetrics="SIZE")
        self.assertNotIn("ItemCollectionMetrics", plain)
        batch = self.ddb.batch_write_item(RequestItems={"Collections": [
            {"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
        ]}, ReturnItemCollectionMetrics="SIZE")
        self.assertEqual(batch["ItemCollectionMetrics"], {"Collections": [expected]})
        transaction = self.ddb.transact_write_items(TransactItems=[
            {"Delete": {"TableName": "Collections", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}}},
        ], ReturnItemCollectionMetrics="SIZE")
        self.assertEqual(transaction["ItemCollectionMetrics"], {"Collections": [expected]})

    def test_point_in_time_recovery(self):
        self.make_music("Pitr")
        out = self.ddb.update_continuous_backups(TableName="Pitr", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        self.assertEqual(out["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "ENABLED")
        self.ddb.put_item(TableName="Pitr", Item={"Artist": {"S": "A"}, "SongTitle": {"S": "kept"}})
        restored = self.ddb.restore_table_to_point_in_time(SourceTableName="Pitr", TargetTableName="PitrNow", UseLatestRestorableTime=True)
        self.assertEqual(restored["TableDescription"]["TableName"], "PitrNow")
        self.assertEqual(self.ddb.scan(TableName="PitrNow")["Count"], 1)
        described = self.ddb.describe_continuous_backups(TableName="Pitr")["ContinuousBackupsDescription"]
        window = described["PointInTimeRecoveryDescription"]
        self.assertLessEqual(window["EarliestRestorableDateTime"], window["LatestRestorableDateTime"])

    def test_on_demand_and_warm_throughput_are_honoured_and_described(self):
        # boto3: a table and an index with on-demand maximums and warm throughput.
        created = self.ddb.create_table(
            TableName="Capped",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            OnDemandThroughput={"MaxReadRequestUnits": 100},
            GlobalSecondaryIndexes=[{
                "IndexName": "ByG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "OnDemandThroughput": {"MaxWriteRequestUnits": 50},
                "WarmThroughput": {"ReadUnitsPerSecond": 13000},
            }],
        )["TableDescription"]
        self.assertEqual(created["OnDemandThroughput"], {"MaxReadRequestUnits": 100})
        # DynamoDB's CreateTable answer has WarmThroughput only when the request set it.
        self.assertNotIn("WarmThroughput", created)
        table = self.ddb.describe_table(TableName="Capped")["Table"]
        self.assertEqual(table["WarmThroughput"], {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"})
        index = table["GlobalSecondaryIndexes"][0]
        self.assertEqual(index["OnDemandThroughput"], {"MaxWriteRequestUnits": 50})
        self.assertEqual(index["WarmThroughput"], {"ReadUnitsPerSecond": 13000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"})
        # A member given replaces its maximum, -1 removes it, one left out keeps it.
        self.ddb.update_table(TableName="Capped", OnDemandThroughput={"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 70})
        self.assertEqual(self.ddb.describe_table(TableName="Capped")["Table"]["OnDemandThroughput"], {"MaxWriteRequestUnits": 70})
        self.ddb.update_table(TableName="Capped", OnDemandThroughput={"MaxWriteRequestUnits": -1})
        self.assertNotIn("OnDemandThroughput", self.ddb.describe_table(TableName="Capped")["Table"])
        # The AWS CLI's own options: a higher warm throughput for the table and the index.
        cli("update-table", "--table-name", "Capped", "--warm-throughput", "ReadUnitsPerSecond=15000,WriteUnitsPerSecond=5000")
        cli("update-table", "--table-name", "Capped", "--global-secondary-index-updates",
            json.dumps([{"Update": {"IndexName": "ByG", "OnDemandThroughput": {"MaxReadRequestUnits": 9}}}]))
        table = cli("describe-table", "--table-name", "Capped")["Table"]
        self.assertEqual(table["WarmThroughput"], {"ReadUnitsPerSecond": 15000, "WriteUnitsPerSecond": 5000, "Status": "ACTIVE"})
        self.assertEqual(table["GlobalSecondaryIndexes"][0]["OnDemandThroughput"], {"MaxReadRequestUnits": 9, "MaxWriteRequestUnits": 50})
        # Refusals: lower warm throughput, maximums on a provisioned table, out of range.
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.update_table(TableName="Capped", WarmThroughput={"ReadUnitsPerSecond": 14000})
        self.assertEqual(error_code(e.exception), "ValidationException")
        self.assertEqual(
            e.exception.response["Error"]["Message"],
            "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is lower than current WarmThroughput, decreasing WarmThroughput is not supported",
        )
        self.make_music("Provisioned")
        self.assertEqual(
            self.ddb.describe_table(TableName="Provisioned")["Table"]["WarmThroughput"],
            {"ReadUnitsPerSecond": 5, "WriteUnitsPerSecond": 5, "Status": "ACTIVE"},
        )
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.update_table(TableName="Provisioned", OnDemandThroughput={"MaxReadRequestUnits": 10})
        self.assertEqual(
            e.exception.response["Error"]["Message"],
            "One or more parameter values were invalid: MaxReadRequestUnits for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED",
        )
        with self.assertRaises(CliError) as e:
            cli("update-table", "--table-name", "Capped", "--on-demand-throughput", "MaxReadRequestUnits=0")
        self.assertIn("ValidationException", e.exception.stderr)
        self.assertIn("Requested MaxReadRequestUnits for OnDemandThroughput for table is outside of valid range", e.exception.stderr)

    def test_restores_carry_on_demand_maximums_or_their_override(self):
        self.ddb.create_table(
            TableName="CappedSource",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            OnDemandThroughput={"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 200},
        )
        self.ddb.put_item(TableName="CappedSource", Item={"pk": {"S": "a"}})
        self.ddb.update_continuous_backups(TableName="CappedSource", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        arn = self.ddb.create_backup(TableName="CappedSource", BackupName="Capped")["BackupDetails"]["BackupArn"]
        for _ in range(200):
            described = self.ddb.describe_backup(BackupArn=arn)["BackupDescription"]
            if described["BackupDetails"]["BackupStatus"] == "AVAILABLE":
                break
            time.sleep(0.05)
        self.assertEqual(described["SourceTableDetails"]["OnDemandThroughput"], {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 200})
        self.ddb.restore_table_from_backup(TargetTableName="CappedKept", BackupArn=arn)
        self.assertEqual(
            self.ddb.describe_table(TableName="CappedKept")["Table"]["OnDemandThroughput"],
            {"MaxReadRequestUnits": 100, "MaxWriteRequestUnits": 200},
        )
        restored = self.ddb.restore_table_from_backup(
            TargetTableName="CappedOverridden", BackupArn=arn, OnDemandThroughputOverride={"MaxReadRequestUnits": 5},
        )["TableDescription"]
        self.assertEqual(restored["OnDemandThroughput"], {"MaxReadRequestUnits": 5, "MaxWriteRequestUnits": 200})
        self.ddb.restore_table_to_point_in_time(
            SourceTableName="CappedSource", TargetTableName="CappedPitr", UseLatestRestorableTime=True,
            OnDemandThroughputOverride={"MaxWriteRequestUnits": -1},
        )
        self.assertEqual(self.ddb.describe_table(TableName="CappedPitr")["Table"]["OnDemandThroughput"], {"MaxReadRequestUnits": 100})
        self.assertEqual(self.ddb.scan(TableName="CappedPitr")["Count"], 1)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.restore_table_from_backup(
                TargetTableName="CappedBad", BackupArn=arn, BillingModeOverride="PROVISIONED",
                ProvisionedThroughputOverride={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                OnDemandThroughputOverride={"MaxReadRequestUnits": 5},
            )
        self.assertEqual(error_code(e.exception), "ValidationException")
        self.assertEqual(
            e.exception.response["Error"]["Message"],
            "Invalid Request: Cannot override MaxReadRequestUnits for OnDemandThroughput unless BillingModeOverride is PAY_PER_REQUEST",
        )

    def test_tags_are_kept_listed_and_removed(self):
        self.make_music("Tagged")
        arn = self.ddb.describe_table(TableName="Tagged")["Table"]["TableArn"]
        self.assertEqual(self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"], [])
        self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Owner", "Value": "blueTeam"}])
        # The developer guide's example, as the CLI sends it: no output on success.
        self.assertIsNone(cli("tag-resource", "--resource-arn", arn, "--tags", "Key=Env,Value=prod"))
        listed = cli("list-tags-of-resource", "--resource-arn", arn)
        self.assertEqual(listed, {"Tags": [{"Key": "Env", "Value": "prod"}, {"Key": "Owner", "Value": "blueTeam"}]})
        self.ddb.untag_resource(ResourceArn=arn, TagKeys=["Env", "NotThere"])
        self.assertEqual(self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"], [{"Key": "Owner", "Value": "blueTeam"}])
        self.ddb.create_table(
            TableName="TaggedAtBirth",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=[{"Key": "Team", "Value": "red"}],
        )
        born = self.ddb.describe_table(TableName="TaggedAtBirth")["Table"]["TableArn"]
        self.assertEqual(self.ddb.list_tags_of_resource(ResourceArn=born)["Tags"], [{"Key": "Team", "Value": "red"}])
        refusals = [
            (lambda: self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "aws:cost", "Value": "x"}]),
             "ValidationException", "Tag Key cannot be prefixed with aws:, Key: aws:cost"),
            (lambda: self.ddb.tag_resource(ResourceArn=arn + "/index/gsi", Tags=[{"Key": "k", "Value": "v"}]),
             "ValidationException", f"Invalid TableArn: Invalid ResourceArn provided as input {arn}/index/gsi"),
            (lambda: self.ddb.tag_resource(ResourceArn=arn.replace("Tagged", "Missing"), Tags=[{"Key": "k", "Value": "v"}]),
             "ResourceNotFoundException", f"Requested resource not found: ResourceArn: {arn.replace('Tagged', 'Missing')} not found"),
            (lambda: self.ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]),
             "ValidationException", "Number of Tags exceed the current limit for the provided ResourceArn"),
        ]
        for call, code, message in refusals:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                call()
            self.assertEqual((error_code(e.exception), e.exception.response["Error"]["Message"]), (code, message))
        self.assertEqual(len(self.ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]), 1)

    def test_resource_policies_are_put_got_and_deleted_with_dynamodbs_revisions(self):
        def document(action):
            return json.dumps({"Version": "2012-10-17", "Statement": [
                {"Principal": {"AWS": "000000000000"}, "Effect": "Allow", "Action": [action], "Resource": "*"}]})

        self.ddb.create_table(
            TableName="Governed",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            ResourcePolicy=document("dynamodb:*"),
        )
        arn = self.ddb.describe_table(TableName="Governed")["Table"]["TableArn"]
        got = self.ddb.get_resource_policy(ResourceArn=arn)
        self.assertEqual(got["Policy"], document("dynamodb:*"))
        first = got["RevisionId"]
        self.assertRegex(first, r"^[0-9]{13}$")
        # The same document again: the same revision; another: a later one.
        self.assertEqual(self.ddb.put_resource_policy(ResourceArn=arn, Policy=document("dynamodb:*"))["RevisionId"], first)
        second = self.ddb.put_resource_policy(
            ResourceArn=arn, Policy=document("dynamodb:GetItem"), ExpectedRevisionId=first,
            ConfirmRemoveSelfResourceAccess=True)["RevisionId"]
        self.assertGreater(second, first)
        # The CLI as the developer guide shows it.
        self.assertEqual(cli("get-resource-policy", "--resource-arn", arn),
                         {"Policy": document("dynamodb:GetItem"), "RevisionId": second})
        refusals = [
            (lambda: self.ddb.put_resource_policy(ResourceArn=arn, Policy=document("x"), ExpectedRevisionId="NO_POLICY"),
             "PolicyNotFoundException",
             f"Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for table Governed, but a policy exists with revision id {second}."),
            (lambda: self.ddb.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=first),
             "PolicyNotFoundException",
             f"Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id {first}, but the policy associated to target table Governed has revision id {second}."),
            (lambda: self.ddb.put_resource_policy(ResourceArn=arn, Policy="not json"),
             "ValidationException", None),
            (lambda: self.ddb.put_resource_policy(ResourceArn=arn, Policy="{" + " " * 20479 + "}"),
             "ValidationException", None),
            (lambda: self.ddb.get_resource_policy(ResourceArn=arn + "x"),
             "ResourceNotFoundException", "Requested resource not found: Table: Governedx not found"),
        ]
        for call, code, message in refusals:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                call()
            self.assertEqual(error_code(e.exception), code)
            if message is not None:
                self.assertEqual(e.exception.response["Error"]["Message"], message)
        deleted = self.ddb.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=second)
        self.assertEqual(deleted["RevisionId"], second)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.get_resource_policy(ResourceArn=arn)
        self.assertEqual(error_code(e.exception), "PolicyNotFoundException")
        # Deleting where there is none: no error, and no revision.
        self.assertNotIn("RevisionId", self.ddb.delete_resource_policy(ResourceArn=arn))

    def test_time_to_live_is_enabled_described_and_refused_as_dynamodb_does(self):
        self.make_music("Expiring")
        self.assertEqual(self.ddb.describe_time_to_live(TableName="Expiring")["TimeToLiveDescription"], {"TimeToLiveStatus": "DISABLED"})
        out = cli("update-time-to-live", "--table-name", "Expiring", "--time-to-live-specification", "Enabled=true,AttributeName=expires")
        self.assertEqual(out, {"TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"}})
        described = cli("describe-time-to-live", "--table-name", "Expiring")
        self.assertEqual(described, {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}})
        refusals = [
            ({"Enabled": True, "AttributeName": "expires"}, "TimeToLive is already enabled"),
            ({"Enabled": False, "AttributeName": "other"}, "TimeToLive is active on a different AttributeName: current AttributeName is expires"),
            # The server keeps DynamoDB's one change per hour.
            ({"Enabled": False, "AttributeName": "expires"}, "Time to live has been modified multiple times within a fixed interval"),
        ]
        for spec, message in refusals:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                self.ddb.update_time_to_live(TableName="Expiring", TimeToLiveSpecification=spec)
            self.assertEqual((error_code(e.exception), e.exception.response["Error"]["Message"]), ("ValidationException", message))
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.describe_time_to_live(TableName="NoSuchTable")
        self.assertEqual(error_code(e.exception), "ResourceNotFoundException")

    def test_errors_come_back_once_with_dynamodbs_names(self):
        started = time.monotonic()
        with self.assertRaises(CliError) as e:
            cli("describe-table", "--table-name", "NoSuchTable")
        self.assertIn("ResourceNotFoundException", e.exception.stderr)
        with self.assertRaises(CliError) as e:
            cli("describe-backup", "--backup-arn", "arn:aws:dynamodb:us-east-1:000000000000:table/Missing/backup/01576616366715-b4e58d3a")
        self.assertIn("BackupNotFoundException", e.exception.stderr)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.create_backup(TableName="NoSuchTable", BackupName="NoSuchBackup")
        self.assertEqual(error_code(e.exception), "TableNotFoundException")
        self.assertLess(time.monotonic() - started, 20, "no client spun in retries")
        endpoints = self.ddb.describe_endpoints()["Endpoints"]
        self.assertEqual(endpoints[0]["CachePeriodInMinutes"], 1440)
        # The one endpoint is the host the client addressed, as DynamoDB names itself.
        self.assertEqual(endpoints[0]["Address"], ENDPOINT.split("://", 1)[1])
        self.assertIn("AccountMaxReadCapacityUnits", self.ddb.describe_limits())


S3_DIR = os.environ.get("TIDESTORE_S3_DIR")
IMPORT_TABLE = json.dumps({
    "TableName": "PLACEHOLDER",
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
})


def import_table(table, bucket, prefix, compression="NONE", *extra):
    """`aws dynamodb import-table` of DynamoDB JSON into a new table `table`."""
    return cli(
        "import-table",
        "--s3-bucket-source", f"S3Bucket={bucket},S3KeyPrefix={prefix}",
        "--input-format", "DYNAMODB_JSON",
        "--input-compression-type", compression,
        "--table-creation-parameters", IMPORT_TABLE.replace("PLACEHOLDER", table),
        *extra,
    )["ImportTableDescription"]


def wait_for_import(arn, most_seconds=60):
    """Polls `aws dynamodb describe-import` until the import is no longer IN_PROGRESS."""
    deadline = time.monotonic() + most_seconds
    while True:
        description = cli("describe-import", "--import-arn", arn)["ImportTableDescription"]
        if description["ImportStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return description
        time.sleep(0.1)


def export_lines(first, count):
    """`count` lines of DynamoDB JSON, as DynamoDB's export writes them."""
    return "".join(
        json.dumps({"Item": {"pk": {"S": f"k{i:05}"}, "n": {"N": str(i)}}}) + "\n"
        for i in range(first, first + count)
    )


class Imports(unittest.TestCase):
    """ImportTable from the server's --s3-dir (TIDESTORE_S3_DIR), DescribeImport and
    ListImports, through the AWS CLI and boto3."""

    @classmethod
    def setUpClass(cls):
        if not S3_DIR or os.environ.get("TIDESTORE_AUTH_KEY"):
            raise unittest.SkipTest("the server has no --s3-dir")
        # A plain export in two files, and a gzip'd one in two, under their own prefixes;
        # a file beside them that the prefixes leave out.
        data = os.path.join(S3_DIR, "exports", "AWSDynamoDB", "plain", "data")
        os.makedirs(data, exist_ok=True)
        with open(os.path.join(data, "b.json"), "w") as f:
            f.write(export_lines(50, 50))
        with open(os.path.join(data, "a.json"), "w") as f:
            # The last line without its line end: the next file's first is not joined to it.
            f.write(export_lines(0, 50).rstrip("\n"))
        zipped = os.path.join(S3_DIR, "exports", "AWSDynamoDB", "zipped", "data")
        os.makedirs(zipped, exist_ok=True)
        for name, first in [("0.json.gz", 0), ("1.json.gz", 120)]:
            with gzip.open(os.path.join(zipped, name), "wt") as f:
                f.write(export_lines(first, 120))
        with open(os.path.join(S3_DIR, "exports", "AWSDynamoDB", "other.json"), "w") as f:
            f.write("not an item\n")
        # The same lines plain (in two files, the first without its last line end) and
        # gzip'd, for ProcessedSizeBytes.
        lines = export_lines(300, 30)
        sized = os.path.join(S3_DIR, "exports", "sized")
        os.makedirs(os.path.join(sized, "plain"), exist_ok=True)
        os.makedirs(os.path.join(sized, "zipped"), exist_ok=True)
        cut = lines.index("\n", len(lines) // 2)
        with open(os.path.join(sized, "plain", "a.json"), "w") as f:
            f.write(lines[:cut])
        with open(os.path.join(sized, "plain", "b.json"), "w") as f:
            f.write(lines[cut:])
        with gzip.open(os.path.join(sized, "zipped", "0.json.gz"), "wt") as f:
            f.write(lines)
        # 5 lines of 3 keys (ScyllaDB's test_import's duplicates, run against AWS).
        dupes = os.path.join(S3_DIR, "exports", "dupes")
        os.makedirs(dupes, exist_ok=True)
        with open(os.path.join(dupes, "0.json"), "w") as f:
            for key, which in [("dup1", "first"), ("dup2", "first"), ("unique", "only"),
                               ("dup1", "second"), ("dup2", "second")]:
                f.write(json.dumps({"Item": {"pk": {"S": key}, "which": {"S": which}}}) + "\n")
        # CSV: two files with their own headers (in other column orders), one line in error;
        # a gzip'd one; tab-separated ones without headers, for a HeaderList.
        csv_dir = os.path.join(S3_DIR, "exports", "csv", "plain")
        os.makedirs(csv_dir, exist_ok=True)
        with open(os.path.join(csv_dir, "a.csv"), "w", newline="") as f:
            f.write('pk,n,note\r\nk1,1,"a ""quoted"" note, with a comma"\r\nk2,2,\r\n')
        with open(os.path.join(csv_dir, "b.csv"), "w", newline="") as f:
            f.write("note,pk,n\nplain,k3,3\nbad,k4,not-a-number\nmultiline?,k5\n")
        zipped_csv = os.path.join(S3_DIR, "exports", "csv", "zipped")
        os.makedirs(zipped_csv, exist_ok=True)
        with gzip.open(os.path.join(zipped_csv, "0.csv.gz"), "wt", newline="") as f:
            f.write("pk,n\n" + "".join(f"z{i:03},{i}\n" for i in range(150)))
        tabbed = os.path.join(S3_DIR, "exports", "csv", "tabbed")
        os.makedirs(tabbed, exist_ok=True)
        for name, first in [("0.tsv", 0), ("1.tsv", 10)]:
            with open(os.path.join(tabbed, name), "w") as f:
                f.write("".join(f"t{i:02}\t{i}\tsome text\n" for i in range(first, first + 10)))

    def setUp(self):
        self.ddb = client()

    def test_a_plain_and_a_gzipped_export_are_imported_and_described(self):
        started = import_table("ImportedPlain", "exports", "AWSDynamoDB/plain/")
        self.assertEqual(started["ImportStatus"], "IN_PROGRESS")
        self.assertEqual(started["TableArn"], "arn:aws:dynamodb:us-east-1:000000000000:table/ImportedPlain")
        self.assertRegex(started["ImportArn"], r"^arn:aws:dynamodb:us-east-1:000000000000:table/ImportedPlain/import/\d{14}-[0-9a-f]{8}$")
        self.assertEqual(started["S3BucketSource"], {"S3Bucket": "exports", "S3KeyPrefix": "AWSDynamoDB/plain/"})
        # As DynamoDB's first answer: the counters at 0, and the table's id already.
        self.assertEqual((started["ProcessedItemCount"], started["ImportedItemCount"], started["ErrorCount"]), (0, 0, 0))
        self.assertRegex(started["TableId"], r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        done = wait_for_import(started["ImportArn"])
        self.assertEqual(done["ImportStatus"], "COMPLETED", done)
        self.assertEqual((done["ProcessedItemCount"], done["ImportedItemCount"], done["ErrorCount"]), (100, 100, 0))
        self.assertIn("EndTime", done)
        self.assertEqual(done["TableId"], started["TableId"])
        self.assertEqual(done["TableId"], cli("describe-table", "--table-name", "ImportedPlain")["Table"]["TableId"])
        item = self.ddb.get_item(TableName="ImportedPlain", Key={"pk": {"S": "k00049"}})["Item"]
        self.assertEqual(item["n"], {"N": "49"})
        self.assertEqual(self.ddb.scan(TableName="ImportedPlain", Select="COUNT")["Count"], 100)

        zipped = import_table("ImportedZipped", "exports", "AWSDynamoDB/zipped/data/", "GZIP")
        done = wait_for_import(zipped["ImportArn"])
        self.assertEqual(done["ImportStatus"], "COMPLETED", done)
        self.assertEqual(done["InputCompressionType"], "GZIP")
        self.assertEqual(done["ImportedItemCount"], 240)
        self.assertEqual(self.ddb.scan(TableName="ImportedZipped", Select="COUNT")["Count"], 240)
        # The name is now in use.
        with self.assertRaises(CliError) as e:
            import_table("ImportedZipped", "exports", "AWSDynamoDB/zipped/data/", "GZIP")
        self.assertIn("ResourceInUseException", e.exception.stderr)

    def test_items_of_one_key_each_count_as_processed_and_imported(self):
        # As DynamoDB counts (ScyllaDB's test_import, run against AWS): both counters count
        # the writes, 5 for 5 lines of 3 keys; the table holds the 3 keys, the last of each.
        started = import_table("ImportedDupes", "exports", "dupes/")
        done = wait_for_import(started["ImportArn"])
        self.assertEqual(done["ImportStatus"], "COMPLETED", done)
        self.assertEqual((done["ProcessedItemCount"], done["ImportedItemCount"], done["ErrorCount"]), (5, 5, 0))
        items = self.ddb.scan(TableName="ImportedDupes", ConsistentRead=True)["Items"]
        self.assertEqual(sorted((i["pk"]["S"], i["which"]["S"]) for i in items),
                         [("dup1", "second"), ("dup2", "second"), ("unique", "only")])

    def test_processed_size_bytes_counts_the_uncompressed_bytes(self):
        # As DynamoDB counts it (ScyllaDB's test_import, run against AWS): the objects'
        # bytes, uncompressed, a gzip'd copy the same; not the items' DynamoDB size.
        size = len(export_lines(300, 30).encode())
        plain = import_table("ImportedSizedPlain", "exports", "sized/plain/")
        zipped = import_table("ImportedSizedZipped", "exports", "sized/zipped/", "GZIP")
        for started in (plain, zipped):
            done = wait_for_import(started["ImportArn"])
            self.assertEqual((done["ImportStatus"], done["ImportedItemCount"]), ("COMPLETED", 30), done)
            self.assertEqual(done["ProcessedSizeBytes"], size, done)

    def test_a_prefix_matching_no_object_completes_with_an_empty_table(self):
        # As DynamoDB does (ScyllaDB's test_import, run against AWS): no failure, the empty
        # table made, with the TableId the first answer gave.
        started = import_table("ImportedNothing", "exports", "AWSDynamoDB/nothing-here/")
        self.assertEqual(started["ImportStatus"], "IN_PROGRESS")
        done = wait_for_import(started["ImportArn"])
        self.assertEqual(done["ImportStatus"], "COMPLETED", done)
        self.assertNotIn("FailureCode", done)
        self.assertEqual((done["ProcessedItemCount"], done["ImportedItemCount"], done["ErrorCount"]), (0, 0, 0))
        table = cli("describe-table", "--table-name", "ImportedNothing")["Table"]
        self.assertEqual((table["TableStatus"], table["TableId"]), ("ACTIVE", started["TableId"]))
        self.assertEqual(self.ddb.scan(TableName="ImportedNothing", Select="COUNT")["Count"], 0)

    def test_a_missing_bucket_fails_the_import_with_s3_no_such_bucket_and_leaves_no_table(self):
        # As DynamoDB does (ScyllaDB's test_import, run against AWS): the request is
        # accepted, the import then FAILED with S3's code, nothing counted, no table.
        started = import_table("ImportedNoBucket", "nobucket", "")
        self.assertEqual(started["ImportStatus"], "IN_PROGRESS")
        done = wait_for_import(started["ImportArn"])
        self.assertEqual(done["ImportStatus"], "FAILED", done)
        self.assertEqual(done["FailureCode"], "S3NoSuchBucket")
        self.assertEqual(done["FailureMessage"], "The specified bucket does not exist")
        self.assertEqual((done["ProcessedItemCount"], done["ImportedItemCount"], done["ErrorCount"]), (0, 0, 0))
        self.assertNotIn("ProcessedSizeBytes", done)
        with self.assertRaises(CliError) as e:
            cli("describe-table", "--table-name", "ImportedNoBucket")
        self.assertIn("ResourceNotFoundException", e.exception.stderr)

    def test_another_accounts_bucket_fails_the_import_with_s3_access_denied_and_leaves_no_table(self):
        # As DynamoDB does (ScyllaDB's test_import_with_wrong_s3_bucket_owner, run against
        # AWS): the request is accepted, the import then FAILED, S3's access denied, no
        # table. Naming the server's own account changes nothing.
        def started(table, owner):
            source = json.dumps({"S3Bucket": "exports", "S3KeyPrefix": "AWSDynamoDB/plain/", "S3BucketOwner": owner})
            return cli("import-table", "--s3-bucket-source", source, "--input-format", "DYNAMODB_JSON",
                       "--table-creation-parameters", IMPORT_TABLE.replace("PLACEHOLDER", table))["ImportTableDescription"]
        foreign = started("ImportedForeign", "111111111111")
        self.assertEqual(foreign["ImportStatus"], "IN_PROGRESS")
        self.assertEqual(foreign["S3BucketSource"]["S3BucketOwner"], "111111111111")
        done = wait_for_import(foreign["ImportArn"])
        self.assertEqual((done["ImportStatus"], done["FailureCode"]), ("FAILED", "S3AccessDenied"), done)
        self.assertIn("Access Denied", done["FailureMessage"])
        with self.assertRaises(CliError) as e:
            cli("describe-table", "--table-name", "ImportedForeign")
        self.assertIn("ResourceNotFoundException", e.exception.stderr)
        own = started("ImportedOwnAccount", "000000000000")
        self.assertEqual(wait_for_import(own["ImportArn"])["ImportStatus"], "COMPLETED")

    def test_paths_that_could_escape_the_directory_and_unsupported_inputs_are_refused(self):
        table = IMPORT_TABLE.replace("PLACEHOLDER", "Escaping")
        for source, word in [
            # (Outside the model's pattern: in the model's words, at the member's path.)
            ({"S3Bucket": "..", "S3KeyPrefix": ""}, "at 's3BucketSource.s3Bucket' failed to satisfy constraint"),
            ({"S3Bucket": "exports", "S3KeyPrefix": "../exports/"}, "S3KeyPrefix"),
            ({"S3Bucket": "exports", "S3KeyPrefix": "/etc/"}, "S3KeyPrefix"),
            ({"S3Bucket": "exports", "S3KeyPrefix": "a/../../b"}, "S3KeyPrefix"),
        ]:
            with self.assertRaises(CliError) as e:
                cli("import-table", "--s3-bucket-source", json.dumps(source), "--input-format", "DYNAMODB_JSON",
                    "--table-creation-parameters", table)
            self.assertIn("ValidationException", e.exception.stderr)
            self.assertIn(word, e.exception.stderr)
        for format_args, word in [
            (["--input-format", "DYNAMODB_JSON", "--input-format-options", '{"Csv": {"Delimiter": ";"}}'], "CSV"),
            (["--input-format", "CSV", "--input-format-options", '{"Csv": {"Delimiter": "x"}}'], "delimiter"),
            (["--input-format", "CSV", "--input-format-options", '{"Csv": {"HeaderList": ["a", "a"]}}'], "twice"),
            (["--input-format", "ION", "--input-format-options", '{"Csv": {"Delimiter": ";"}}'], "not ION"),
        ]:
            with self.assertRaises(CliError) as e:
                cli("import-table", "--s3-bucket-source", "S3Bucket=exports", *format_args,
                    "--table-creation-parameters", table)
            self.assertIn("ValidationException", e.exception.stderr)
            self.assertIn(word, e.exception.stderr)
        # A table definition CreateTable would refuse is refused at once.
        bad = json.loads(table)
        bad["KeySchema"][0]["AttributeName"] = "undefined"
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.import_table(S3BucketSource={"S3Bucket": "exports"}, InputFormat="DYNAMODB_JSON",
                                  TableCreationParameters=bad)
        self.assertEqual(error_code(e.exception), "ValidationException")
        self.assertEqual(self.ddb.list_tables()["TableNames"].count("Escaping"), 0)

    def test_csv_files_are_imported_with_their_headers_typed_keys_and_gzip(self):
        definition = {
            "TableName": "ImportedCsv",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "n", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [{"IndexName": "ByN", "KeySchema": [{"AttributeName": "n", "KeyType": "HASH"}],
                                        "Projection": {"ProjectionType": "ALL"}}],
            "BillingMode": "PAY_PER_REQUEST",
        }
        started = cli("import-table", "--s3-bucket-source", "S3Bucket=exports,S3KeyPrefix=csv/plain/",
                      "--input-format", "CSV", "--table-creation-parameters", json.dumps(definition))["ImportTableDescription"]
        self.assertEqual((started["ImportStatus"], started["InputFormat"]), ("IN_PROGRESS", "CSV"))
        done = wait_for_import(started["ImportArn"])
        # 5 lines (headers not counted): a number that is not one and a line short of a value
        # are errors, which skip their items and FAIL the import at its end, its table kept
        # (the developer guide's "Import format quotas and validation").
        self.assertEqual((done["ImportStatus"], done["FailureCode"]), ("FAILED", "ItemValidationError"), done)
        self.assertIn("Some of the items failed validation checks and were not imported", done["FailureMessage"])
        self.assertIn("item 3", done["FailureMessage"])
        self.assertEqual((done["ProcessedItemCount"], done["ImportedItemCount"], done["ErrorCount"]), (5, 3, 2))
        self.assertEqual(done["TableId"], cli("describe-table", "--table-name", "ImportedCsv")["Table"]["TableId"])
        item = self.ddb.get_item(TableName="ImportedCsv", Key={"pk": {"S": "k1"}})["Item"]
        # The index key is the number its definition says; the other column a string.
        self.assertEqual(item, {"pk": {"S": "k1"}, "n": {"N": "1"}, "note": {"S": 'a "quoted" note, with a comma'}})
        self.assertEqual(self.ddb.get_item(TableName="ImportedCsv", Key={"pk": {"S": "k2"}})["Item"]["note"], {"S": ""})
        by_n = self.ddb.query(TableName="ImportedCsv", IndexName="ByN", KeyConditionExpression="n = :n",
                              ExpressionAttributeValues={":n": {"N": "3"}})["Items"]
        self.assertEqual([i["pk"]["S"] for i in by_n], ["k3"])

        definition["TableName"] = "ImportedCsvZipped"
        del definition["GlobalSecondaryIndexes"]
        definition["AttributeDefinitions"] = definition["AttributeDefinitions"][:1]
        started = self.ddb.import_table(S3BucketSource={"S3Bucket": "exports", "S3KeyPrefix": "csv/zipped/"},
                                        InputFormat="CSV", InputCompressionType="GZIP",
                                        TableCreationParameters=definition)["ImportTableDescription"]
        done = wait_for_import(started["ImportArn"])
        self.assertEqual((done["ImportStatus"], done["ImportedItemCount"], done["ErrorCount"]), ("COMPLETED", 150, 0), done)
        # Not a key here: a string.
        item = self.ddb.get_item(TableName="ImportedCsvZipped", Key={"pk": {"S": "z007"}})["Item"]
        self.assertEqual(item["n"], {"S": "7"})

    def test_a_header_list_and_a_tab_delimiter_read_every_line_as_data(self):
        options = {"Csv": {"Delimiter": "\t", "HeaderList": ["pk", "n", "text"]}}
        started = self.ddb.import_table(
            S3BucketSource={"S3Bucket": "exports", "S3KeyPrefix": "csv/tabbed/"},
            InputFormat="CSV", InputFormatOptions=options,
            TableCreationParameters=json.loads(IMPORT_TABLE.replace("PLACEHOLDER", "ImportedTabbed")),
        )["ImportTableDescription"]
        self.assertEqual(started["InputFormatOptions"], options)
        done = wait_for_import(started["ImportArn"])
        self.assertEqual((done["ImportStatus"], done["ImportedItemCount"], done["ErrorCount"]), ("COMPLETED", 20, 0), done)
        self.assertEqual(done["InputFormatOptions"], options)
        item = self.ddb.get_item(TableName="ImportedTabbed", Key={"pk": {"S": "t00"}})["Item"]
        self.assertEqual(item, {"pk": {"S": "t00"}, "n": {"S": "0"}, "text": {"S": "some text"}})

    def test_a_client_token_makes_import_table_idempotent(self):
        first = import_table("ImportedOnce", "exports", "AWSDynamoDB/plain/", "NONE", "--client-token", "token-1")
        self.assertEqual(wait_for_import(first["ImportArn"])["ImportStatus"], "COMPLETED")
        # As DynamoDB's (ScyllaDB's test_import, run against AWS): once the table exists, a
        # replay is refused for it before the token is looked at ...
        with self.assertRaises(CliError) as e:
            import_table("ImportedOnce", "exports", "AWSDynamoDB/plain/", "NONE", "--client-token", "token-1")
        self.assertIn("ResourceInUseException", e.exception.stderr)
        self.assertIn("Table already exists", e.exception.stderr)
        # ... only another table conflicts ...
        with self.assertRaises(CliError) as e:
            import_table("ImportedTwice", "exports", "AWSDynamoDB/plain/", "NONE", "--client-token", "token-1")
        self.assertIn("ImportConflictException", e.exception.stderr)
        self.assertIn("Duplicate request detected with conflicting parameters", e.exception.stderr)
        # ... and the same request, or another source, compression or format, answers the
        # first import as it was (one that made no table, its bucket missing: the replays of
        # one that did are refused for the table, however soon, as it imports fast). After
        # a FAILED import this is inferred, not seen on AWS: ScyllaDB's test replays only a
        # running import; the model says a token holds for 8 hours after its request ends.
        failed = import_table("ImportedNoBucket2", "nobucket", "", "NONE", "--client-token", "token-2")
        self.assertEqual(wait_for_import(failed["ImportArn"])["ImportStatus"], "FAILED")
        again = import_table("ImportedNoBucket2", "nobucket", "", "NONE", "--client-token", "token-2")
        self.assertEqual((again["ImportArn"], again["TableId"]), (failed["ImportArn"], failed["TableId"]))
        replay = import_table("ImportedNoBucket2", "exports", "AWSDynamoDB/zipped/", "GZIP", "--client-token", "token-2")
        self.assertEqual(replay["ImportArn"], failed["ImportArn"])
        self.assertEqual((replay["S3BucketSource"]["S3Bucket"], replay["InputCompressionType"]), ("nobucket", "NONE"))

    def test_list_imports_pages_and_filters_and_describe_import_refuses_unknown_arns(self):
        arns = []
        for i in range(3):
            started = import_table(f"ImportedPaged{i}", "exports", "AWSDynamoDB/plain/")
            arns.append(started["ImportArn"])
        for arn in arns:
            self.assertEqual(wait_for_import(arn)["ImportStatus"], "COMPLETED")
        seen, token = [], None
        for _ in range(100):
            args = ["list-imports", "--page-size", "2"] + (["--next-token", token] if token else [])
            page = cli(*args)
            self.assertLessEqual(len(page["ImportSummaryList"]), 2)
            seen += [s["ImportArn"] for s in page["ImportSummaryList"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertIsNone(token, "the pages end")
        self.assertEqual(len(seen), len(set(seen)))
        # Newest first, as DynamoDB lists imports (ScyllaDB's test_list_imports_ordering).
        self.assertEqual([arn for arn in seen if arn in arns], arns[::-1])
        table_arn = "arn:aws:dynamodb:us-east-1:000000000000:table/ImportedPaged1"
        only = self.ddb.list_imports(TableArn=table_arn)["ImportSummaryList"]
        self.assertEqual([s["ImportArn"] for s in only], [arns[1]])
        self.assertEqual(only[0]["ImportStatus"], "COMPLETED")
        self.assertEqual(only[0]["InputFormat"], "DYNAMODB_JSON")
        # (A PageSize out of 1-25 is refused by the clients themselves; tests/wire.rs sends one.)
        with self.assertRaises(CliError) as e:
            cli("describe-import", "--import-arn", arns[0][:-8] + "00000000")
        self.assertIn("ImportNotFoundException", e.exception.stderr)


class ImportsAfterRestart(unittest.TestCase):
    """Run against a server restarted on the database the Imports class ran on."""

    def setUp(self):
        if not S3_DIR or not os.environ.get("TIDESTORE_RESTARTED"):
            self.skipTest("no restarted server")

    def test_import_records_and_imported_tables_survive_a_restart(self):
        summaries = cli("list-imports")["ImportSummaryList"]
        by_table = {s["TableArn"].rsplit("/", 1)[1]: s for s in summaries}
        self.assertEqual(by_table["ImportedPlain"]["ImportStatus"], "COMPLETED")
        self.assertEqual(by_table["ImportedNothing"]["ImportStatus"], "COMPLETED")
        self.assertEqual(by_table["ImportedNoBucket"]["ImportStatus"], "FAILED")
        done = cli("describe-import", "--import-arn", by_table["ImportedZipped"]["ImportArn"])["ImportTableDescription"]
        self.assertEqual((done["ImportStatus"], done["ImportedItemCount"]), ("COMPLETED", 240))
        count = client().scan(TableName="ImportedZipped", Select="COUNT")["Count"]
        self.assertEqual(count, 240)
        # Every import finished before the stop kept its final record, counts and all (one
        # settled on the restart would have only the first answer's zeros, and no
        # ProcessedSizeBytes).
        self.assertGreaterEqual(len(summaries), 8)
        for summary in summaries:
            done = cli("describe-import", "--import-arn", summary["ImportArn"])["ImportTableDescription"]
            self.assertIn(done["ImportStatus"], ("COMPLETED", "FAILED"))
            if done["ImportStatus"] == "COMPLETED":
                self.assertIn("ProcessedSizeBytes", done, done["ImportArn"])


def wait_export(ddb, arn):
    """DescribeExport polled until the export is no longer IN_PROGRESS."""
    for _ in range(600):
        done = ddb.describe_export(ExportArn=arn)["ExportDescription"]
        if done["ExportStatus"] != "IN_PROGRESS":
            return done
        time.sleep(0.05)
    raise AssertionError(f"export {arn} still IN_PROGRESS")


class Exports(unittest.TestCase):
    """ExportTableToPointInTime into the server's --s3-dir (TIDESTORE_S3_DIR), DescribeExport
    and ListExports through boto3; the export's data files imported again with ImportTable."""

    BUCKET = "exportbucket"

    def setUp(self):
        if not S3_DIR or os.environ.get("TIDESTORE_AUTH_KEY") or os.environ.get("TIDESTORE_RESTARTED"):
            self.skipTest("the server has no --s3-dir")
        self.ddb = client()
        os.makedirs(os.path.join(S3_DIR, self.BUCKET), exist_ok=True)

    def make_table(self, name):
        self.ddb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "N"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return self.ddb.describe_table(TableName=name)["Table"]["TableArn"]

    def test_an_export_at_a_moment_imports_again_as_the_table_was(self):
        ddb = self.ddb
        arn = self.make_table("ExportSrc")
        ddb.update_continuous_backups(
            TableName="ExportSrc",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        for i in range(0, 120, 25):
            ddb.batch_write_item(RequestItems={"ExportSrc": [
                {"PutRequest": {"Item": {"pk": {"S": f"p{j % 7}"}, "sk": {"N": str(j)},
                                         "b": {"B": bytes([j % 256, 0, 255])},
                                         "m": {"M": {"l": {"L": [{"N": "1.50"}, {"NULL": True}]}}},
                                         "ss": {"SS": ["a", f"s{j}"]}}}}
                for j in range(i, min(i + 25, 120))]})
        # boto3 sends ExportTime in whole seconds: the next whole second after the writes,
        # and the late write after it.
        moment = datetime.datetime.fromtimestamp(int(time.time()) + 1, datetime.timezone.utc)
        time.sleep(max(0.0, moment.timestamp() - time.time()) + 0.05)
        ddb.put_item(TableName="ExportSrc", Item={"pk": {"S": "late"}, "sk": {"N": "0"}})
        request = dict(TableArn=arn, S3Bucket=self.BUCKET, S3Prefix="snap/2026",
                       ExportTime=moment, ClientToken="export-token-1")
        started = ddb.export_table_to_point_in_time(**request)["ExportDescription"]
        self.assertEqual(started["ExportStatus"], "IN_PROGRESS")
        self.assertTrue(started["ExportArn"].startswith(arn + "/export/"))
        # The same token and request: the same export; another request: a conflict.
        again = ddb.export_table_to_point_in_time(**request)["ExportDescription"]
        self.assertEqual(again["ExportArn"], started["ExportArn"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            ddb.export_table_to_point_in_time(**dict(request, S3Prefix="other"))
        self.assertEqual(error_code(e.exception), "ExportConflictException")
        # DynamoDB's words (ScyllaDB's test_export_client_token_* tests, run against it).
        self.assertTrue(e.exception.response["Error"]["Message"].startswith("Duplicate request detected"))
        done = wait_export(ddb, started["ExportArn"])
        self.assertEqual(done["ExportStatus"], "COMPLETED", done)
        self.assertEqual(done["ItemCount"], 120)
        self.assertGreater(done["BilledSizeBytes"], 0)
        self.assertEqual(done["ExportFormat"], "DYNAMODB_JSON")
        self.assertNotIn("ExportType", done)
        self.assertEqual(done["ExportTime"], moment)
        summary_path = os.path.join(S3_DIR, self.BUCKET, done["ExportManifest"])
        with open(summary_path) as f:
            summary = json.load(f)
        self.assertEqual((summary["exportArn"], summary["itemCount"]), (done["ExportArn"], 120))
        export_id = done["ExportArn"].rsplit("/", 1)[1]
        self.assertTrue(os.path.exists(os.path.join(S3_DIR, self.BUCKET, "snap/2026/AWSDynamoDB", export_id, "_started")))
        # DynamoDB's ImportTable over the export's data files makes the table again.
        imported = ddb.import_table(
            S3BucketSource={"S3Bucket": self.BUCKET,
                            "S3KeyPrefix": f"snap/2026/AWSDynamoDB/{export_id}/data/"},
            InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
            TableCreationParameters={
                "TableName": "ExportImported",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": "N"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}],
                "BillingMode": "PAY_PER_REQUEST"})["ImportTableDescription"]
        for _ in range(600):
            status = ddb.describe_import(ImportArn=imported["ImportArn"])["ImportTableDescription"]
            if status["ImportStatus"] != "IN_PROGRESS":
                break
            time.sleep(0.05)
        self.assertEqual(status["ImportStatus"], "COMPLETED", status)

        def items(table):
            found = ddb.get_paginator("scan").paginate(TableName=table).build_full_result()["Items"]
            return sorted(found, key=lambda i: (i["pk"]["S"], int(i["sk"]["N"])))

        source = [i for i in items("ExportSrc") if i["pk"]["S"] != "late"]
        self.assertEqual(len(source), 120)
        self.assertEqual(items("ExportImported"), source)

    def test_an_empty_bucket_is_refused_in_the_models_words_and_reserves_no_token(self):
        # DynamoDB's words (ScyllaDB's test_export_failed_does_not_reserve_client_token, run
        # against AWS: "ValidationException.*s3Bucket.*failed"), the model's form; the
        # refused request reserves no ClientToken. ImportTable's bucket the same, at its path.
        ddb = self.ddb
        arn = self.make_table("ExportEmptyBucket")
        ddb.update_continuous_backups(
            TableName="ExportEmptyBucket",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        pattern = r"Member must satisfy regular expression pattern: ^[a-z0-9A-Z]+[\.\-\w]*[a-z0-9A-Z]+$"
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="", ClientToken="empty-bucket-token")
        self.assertEqual(error_code(e.exception), "ValidationException")
        self.assertEqual(e.exception.response["Error"]["Message"],
                         "1 validation error detected: Value '' at 's3Bucket' failed to satisfy constraint: " + pattern)
        started = ddb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket=self.BUCKET, ClientToken="empty-bucket-token")["ExportDescription"]
        self.assertEqual(wait_export(ddb, started["ExportArn"])["ExportStatus"], "COMPLETED")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            ddb.import_table(S3BucketSource={"S3Bucket": ""}, InputFormat="DYNAMODB_JSON",
                             TableCreationParameters=json.loads(IMPORT_TABLE.replace("PLACEHOLDER", "ImportedEmptyBucket")))
        self.assertEqual(error_code(e.exception), "ValidationException")
        self.assertEqual(e.exception.response["Error"]["Message"],
                         "1 validation error detected: Value '' at 's3BucketSource.s3Bucket' failed to satisfy constraint: " + pattern)

    def test_the_export_of_a_deleted_table_is_described_but_not_listed_by_its_table_arn(self):
        # As DynamoDB's (ScyllaDB's test_export_start_and_delete_table, run against AWS: "Amazon
        # doesn't list the export in ListExports"): the table deleted while its export runs,
        # ListExports by its TableArn no longer lists the export, and DescribeExport still
        # describes it, the table's ARN and the bucket in it. A new table of the same name
        # (so of the same ARN) lists its own exports, not the old table's.
        ddb = self.ddb
        arn = self.make_table("ExportDeletedSrc")
        ddb.update_continuous_backups(
            TableName="ExportDeletedSrc",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        ddb.put_item(TableName="ExportDeletedSrc", Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
        started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=self.BUCKET)["ExportDescription"]
        export_arn = started["ExportArn"]
        listed = [s["ExportArn"] for s in ddb.list_exports(TableArn=arn)["ExportSummaries"]]
        self.assertEqual(listed, [export_arn], "the export is listed while its table exists")
        ddb.delete_table(TableName="ExportDeletedSrc")

        def check(statuses):
            self.assertEqual(ddb.list_exports(TableArn=arn)["ExportSummaries"], [],
                             "the export of a deleted table is listed by its TableArn")
            described = ddb.describe_export(ExportArn=export_arn)["ExportDescription"]
            self.assertEqual((described["TableArn"], described["S3Bucket"]), (arn, self.BUCKET))
            self.assertIn(described["ExportStatus"], statuses)
            self.assertIn("StartTime", described)
            self.assertEqual(described["ExportFormat"], "DYNAMODB_JSON")

        check(("IN_PROGRESS", "COMPLETED", "FAILED"))
        done = wait_export(ddb, export_arn)
        self.assertIn(done["ExportStatus"], ("COMPLETED", "FAILED"), done)
        check(("COMPLETED", "FAILED"))
        self.assertEqual(self.make_table("ExportDeletedSrc"), arn)
        ddb.update_continuous_backups(
            TableName="ExportDeletedSrc",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        again = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=self.BUCKET)["ExportDescription"]
        wait_export(ddb, again["ExportArn"])
        listed = [s["ExportArn"] for s in ddb.list_exports(TableArn=arn)["ExportSummaries"]]
        self.assertEqual(listed, [again["ExportArn"]], "the new table lists the old table's export")
        ddb.delete_table(TableName="ExportDeletedSrc")

    def test_an_empty_kms_key_is_refused_by_the_models_bound_before_encryption_is(self):
        # The model's bounds of S3SseKmsKeyId (1 to 2,048 characters) are checked before the
        # refusal of encryption, as DynamoDB checks every member's (ScyllaDB's
        # test_export_setting_fields_to_weird_values_or_skipping_fail_for_S3SseKmsKeyId, run
        # against AWS, wants the empty key refused naming s3SseKmsKeyId).
        ddb = client(validate=False)
        arn = self.make_table("ExportKmsKey")
        for key, words in [("", "Value '' at 's3SseKmsKeyId' failed to satisfy constraint: "
                                 "Member must have length greater than or equal to 1"),
                           ("k" * 2049, "at 's3SseKmsKeyId' failed to satisfy constraint: "
                                        "Member must have length less than or equal to 2048"),
                           ("key", "does not support the parameter S3SseAlgorithm")]:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=self.BUCKET,
                                                  S3SseAlgorithm="KMS", S3SseKmsKeyId=key)
            self.assertEqual(error_code(e.exception), "ValidationException", key[:8])
            self.assertIn(words, e.exception.response["Error"]["Message"], key[:8])
        ddb.delete_table(TableName="ExportKmsKey")

    def test_an_ion_export_imports_again_as_ion(self):
        """ExportFormat ION writes data/*.ion.gz, each line `$ion_1_0 {Item:{...}}`; ImportTable
        with InputFormat ION over them makes the table again; an Ion file that is not Ion text
        fails its import, naming the line, and makes no table."""
        ddb = self.ddb
        arn = self.make_table("IonSrc")
        ddb.update_continuous_backups(
            TableName="IonSrc",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        for j in range(40):
            ddb.put_item(TableName="IonSrc", Item={
                "pk": {"S": f"p{j % 5} \"q\" \\ \n é"}, "sk": {"N": str(j * 100) + ".25"},
                "b": {"B": bytes([j, 0, 255])}, "bs": {"BS": [bytes([j + 1]), b"\x00"]},
                "n": {"N": "-1E-130"}, "ns": {"NS": ["600", "1.5", str(j + 2)]},
                "ss": {"SS": ["a", "'''"]}, "t": {"BOOL": j % 2 == 0}, "z": {"NULL": True},
                "m": {"M": {"with space": {"L": [{"N": "2000"}, {"M": {}}, {"L": []}]}}}})
        started = ddb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket=self.BUCKET, S3Prefix="ion", ExportFormat="ION")["ExportDescription"]
        self.assertEqual(started["ExportFormat"], "ION")
        done = wait_export(ddb, started["ExportArn"])
        self.assertEqual((done["ExportStatus"], done["ExportFormat"], done["ItemCount"]),
                         ("COMPLETED", "ION", 40), done)
        folder = os.path.dirname(os.path.join(S3_DIR, self.BUCKET, done["ExportManifest"]))
        with open(os.path.join(folder, "manifest-summary.json")) as f:
            self.assertEqual(json.load(f)["outputFormat"], "ION")
        names = os.listdir(os.path.join(folder, "data"))
        self.assertTrue(names and all(n.endswith(".ion.gz") for n in names), names)
        with gzip.open(os.path.join(folder, "data", names[0]), "rt") as f:
            first = f.readline()
        self.assertTrue(first.startswith("$ion_1_0 {Item:{"), first)
        export_id = done["ExportArn"].rsplit("/", 1)[1]
        definition = {
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST"}

        def import_ion(table, prefix, compression):
            started = ddb.import_table(
                S3BucketSource={"S3Bucket": self.BUCKET, "S3KeyPrefix": prefix},
                InputFormat="ION", InputCompressionType=compression,
                TableCreationParameters=dict(definition, TableName=table))["ImportTableDescription"]
            self.assertEqual(started["InputFormat"], "ION")
            for _ in range(600):
                status = ddb.describe_import(ImportArn=started["ImportArn"])["ImportTableDescription"]
                if status["ImportStatus"] != "IN_PROGRESS":
                    return status
                time.sleep(0.05)
            raise AssertionError("the import is still IN_PROGRESS")

        status = import_ion("IonImported", f"ion/AWSDynamoDB/{export_id}/data/", "GZIP")
        self.assertEqual((status["ImportStatus"], status["ImportedItemCount"]), ("COMPLETED", 40), status)

        def items(table):
            found = ddb.get_paginator("scan").paginate(TableName=table).build_full_result()["Items"]
            return sorted(found, key=lambda i: (i["pk"]["S"], float(i["sk"]["N"])))

        self.assertEqual(items("IonImported"), items("IonSrc"))
        os.makedirs(os.path.join(S3_DIR, self.BUCKET, "badion"), exist_ok=True)
        with open(os.path.join(S3_DIR, self.BUCKET, "badion", "0.ion"), "w") as f:
            f.write('$ion_1_0 {Item:{pk:"a",sk:1}}\n$ion_1_0 {Item:{pk:"b\\q",sk:2}}\n')
        status = import_ion("IonBad", "badion/", "NONE")
        self.assertEqual((status["ImportStatus"], status["FailureCode"]), ("FAILED", "ValidationException"), status)
        self.assertIn("malformed at line 2", status["FailureMessage"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            ddb.describe_table(TableName="IonBad")
        self.assertEqual(error_code(e.exception), "ResourceNotFoundException")

    def test_export_errors_are_dynamodbs_and_list_exports_pages(self):
        ddb = self.ddb
        arn = self.make_table("ExportErrs")

        def code(**request):
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                ddb.export_table_to_point_in_time(**request)
            return error_code(e.exception), e.exception.response["Error"]["Message"]

        self.assertEqual(code(TableArn=arn, S3Bucket=self.BUCKET),
                         ("PointInTimeRecoveryUnavailableException",
                          "Point in time recovery is not enabled for table 'ExportErrs'"))
        missing = arn + "Missing"
        self.assertEqual(code(TableArn=missing, S3Bucket=self.BUCKET),
                         ("TableNotFoundException", f"Table not found: {missing}"))
        ddb.update_continuous_backups(
            TableName="ExportErrs",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        self.assertEqual(code(TableArn=arn, S3Bucket=self.BUCKET, ExportTime=datetime.datetime(2001, 1, 1))[0],
                         "InvalidExportTimeException")
        for refused in [dict(ExportType="INCREMENTAL_EXPORT"),
                        dict(S3SseAlgorithm="AES256"), dict(S3Prefix="../out"),
                        dict(S3Bucket="../x")]:
            request = dict(dict(TableArn=arn, S3Bucket=self.BUCKET), **refused)
            self.assertEqual(code(**request)[0], "ValidationException", refused)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            ddb.describe_export(ExportArn=arn + "/export/01576616366715-b4e58d3a")
        self.assertEqual(error_code(e.exception), "ExportNotFoundException")
        # ARNs refused before any lookup, as DynamoDB refuses them: no ARN, or no export's
        # (ValidationException); another partition, service, region or account's
        # (AccessDeniedException, which the client does not retry).
        account = arn.split(":")[4]
        for bad, expected in [
                ("qwerty:aws:dynamodb:us-east-1:%s:table/t" % account, "ValidationException"),
                (arn, "ValidationException"),
                ("arn:qwerty:dynamodb:us-east-1:%s:table/t" % account, "AccessDeniedException"),
                ("arn:aws:qwerty:us-east-1:%s:table/t" % account, "AccessDeniedException"),
                ("arn:aws:dynamodb:qwerty:%s:table/t" % account, "AccessDeniedException"),
                ("arn:aws:dynamodb:us-east-1:qwerty:table/t", "AccessDeniedException")]:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                ddb.describe_export(ExportArn=bad)
            self.assertEqual(error_code(e.exception), expected, bad)
            if expected == "ValidationException":
                self.assertIn("Invalid Export ARN", str(e.exception), bad)
            self.assertEqual(e.exception.response["ResponseMetadata"].get("RetryAttempts", 0), 0, bad)
        # A bucket folder that does not exist: the export starts, then FAILED as DynamoDB says.
        started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="nosuchbucket")["ExportDescription"]
        failed = wait_export(ddb, started["ExportArn"])
        self.assertEqual(failed["ExportStatus"], "FAILED")
        self.assertEqual(failed["FailureCode"], "S3NoSuchBucket")
        self.assertIn("The specified bucket does not exist", failed["FailureMessage"])
        arns = {started["ExportArn"]}
        for _ in range(2):
            arns.add(ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=self.BUCKET)["ExportDescription"]["ExportArn"])
        for a in arns:
            wait_export(ddb, a)
        seen, token = [], None
        while True:
            page = ddb.list_exports(TableArn=arn, MaxResults=1, **({"NextToken": token} if token else {}))
            self.assertLessEqual(len(page["ExportSummaries"]), 1)
            seen += [s["ExportArn"] for s in page["ExportSummaries"]]
            token = page.get("NextToken")
            if not token:
                break
        # Newest first, as DynamoDB lists a table's exports (an export's ARN begins with its
        # start time in milliseconds).
        self.assertEqual(seen, sorted(arns, reverse=True))
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            ddb.list_exports(MaxResults=26)
        self.assertEqual(error_code(e.exception), "ValidationException")

    def test_an_export_names_its_type_only_when_asked_for_one_its_summary_always(self):
        """DynamoDB describes an export of the default type without ExportType (ScyllaDB's
        test_export_basic and test_export_basic_with_export_type, run against it); ListExports'
        summaries always carry it."""
        ddb = self.ddb
        arn = self.make_table("ExportTypeNamed")
        ddb.update_continuous_backups(
            TableName="ExportTypeNamed",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        plain = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=self.BUCKET)["ExportDescription"]
        named = ddb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket=self.BUCKET, ExportType="FULL_EXPORT")["ExportDescription"]
        self.assertNotIn("ExportType", plain)
        self.assertEqual(named["ExportType"], "FULL_EXPORT")
        self.assertNotIn("ExportType", wait_export(ddb, plain["ExportArn"]))
        self.assertEqual(wait_export(ddb, named["ExportArn"])["ExportType"], "FULL_EXPORT")
        summaries = ddb.list_exports(TableArn=arn)["ExportSummaries"]
        self.assertEqual(sorted((s["ExportArn"], s["ExportType"]) for s in summaries),
                         sorted((e["ExportArn"], "FULL_EXPORT") for e in (plain, named)))

    def test_export_refuses_a_table_arn_that_is_no_arn_an_empty_prefix_and_a_time_before_1970(self):
        """As DynamoDB answers them (ScyllaDB's
        test_export_setting_fields_to_weird_values_or_skipping_fail, run against it): a TableArn
        that is no ARN is a ValidationException naming TableArn, not a table not found; an
        empty S3Prefix a ValidationException naming it; a negative ExportTime an
        InvalidExportTimeException naming ExportTime. A table ARN of this account that names
        no table is still TableNotFoundException."""
        ddb = self.ddb
        arn = self.make_table("ExportWeird")
        ddb.update_continuous_backups(
            TableName="ExportWeird",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})

        def refusal(**changed):
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                ddb.export_table_to_point_in_time(**dict(dict(TableArn=arn, S3Bucket=self.BUCKET), **changed))
            return error_code(e.exception), e.exception.response["Error"]["Message"]

        for not_an_arn in ["QWERTY", "\t", "ExportWeird"]:
            code, message = refusal(TableArn=not_an_arn)
            self.assertEqual(code, "ValidationException", not_an_arn)
            self.assertIn("TableArn", message)
        code, message = refusal(S3Prefix="")
        self.assertEqual(code, "ValidationException")
        self.assertIn("s3Prefix", message)
        code, message = refusal(ExportTime=-1)
        self.assertEqual(code, "InvalidExportTimeException")
        self.assertIn("ExportTime", message)
        self.assertEqual(refusal(TableArn=arn + "Gone")[0], "TableNotFoundException")
        no_such_name = arn.rsplit("/", 1)[0] + "/alternator_keyspace@nonexistent_table_xyz"
        self.assertEqual(refusal(TableArn=no_such_name)[0], "TableNotFoundException")


class IncrementalExports(unittest.TestCase):
    """ExportType INCREMENTAL_EXPORT over a window of a history the Rust side wrote two hours
    ago (TIDESTORE_INCREMENTAL_FROM/TO, epoch seconds): a, b, c old before the window; a
    updated at its first moment; b deleted, d put, e put and deleted in it; c updated at its
    end (the next window's)."""

    BUCKET = "incbucket"

    def setUp(self):
        if not os.environ.get("TIDESTORE_INCREMENTAL_FROM"):
            self.skipTest("no incremental history")
        self.ddb = client()
        utc = datetime.timezone.utc
        self.start = datetime.datetime.fromtimestamp(int(os.environ["TIDESTORE_INCREMENTAL_FROM"]), utc)
        self.end = datetime.datetime.fromtimestamp(int(os.environ["TIDESTORE_INCREMENTAL_TO"]), utc)

    def export(self, view):
        arn = self.ddb.describe_table(TableName="Inc")["Table"]["TableArn"]
        spec = {"ExportFromTime": self.start, "ExportToTime": self.end, "ExportViewType": view}
        started = self.ddb.export_table_to_point_in_time(
            TableArn=arn, S3Bucket=self.BUCKET, S3Prefix="inc",
            ExportType="INCREMENTAL_EXPORT", IncrementalExportSpecification=spec)["ExportDescription"]
        self.assertEqual(started["ExportType"], "INCREMENTAL_EXPORT")
        self.assertEqual(started["IncrementalExportSpecification"], spec)
        self.assertNotIn("ExportTime", started)
        done = wait_export(self.ddb, started["ExportArn"])
        self.assertEqual(done["ExportStatus"], "COMPLETED", done)
        self.assertEqual(done["IncrementalExportSpecification"], spec)
        bucket = os.path.join(S3_DIR, self.BUCKET)
        with open(os.path.join(bucket, done["ExportManifest"])) as f:
            summary = json.load(f)
        self.assertEqual((summary["exportType"], summary["outputView"]), ("INCREMENTAL_EXPORT", view))
        files = os.path.join(os.path.dirname(os.path.join(bucket, done["ExportManifest"])), "manifest-files.json")
        lines = {}
        with open(files) as f:
            for entry in map(json.loads, f):
                self.assertTrue(entry["dataFileS3Key"].startswith("inc/AWSDynamoDB/data/"), entry)
                with gzip.open(os.path.join(bucket, entry["dataFileS3Key"]), "rt") as data:
                    for line in map(json.loads, data):
                        lines[line["Keys"]["pk"]["S"]] = line
        self.assertEqual(done["ItemCount"], len(lines))
        summaries = self.ddb.list_exports(TableArn=arn)["ExportSummaries"]
        self.assertIn({"ExportArn": done["ExportArn"], "ExportStatus": "COMPLETED",
                       "ExportType": "INCREMENTAL_EXPORT"}, summaries)
        return lines

    def test_an_incremental_export_holds_each_changed_item_once(self):
        both = self.export("NEW_AND_OLD_IMAGES")
        self.assertEqual(sorted(both), ["a", "b", "d"])
        self.assertEqual((both["a"]["OldImage"]["v"], both["a"]["NewImage"]["v"]), ({"S": "old"}, {"S": "new"}))
        micros = int(both["a"]["Metadata"]["WriteTimestampMicros"]["N"])
        self.assertEqual(micros, int(self.start.timestamp()) * 1_000_000)
        self.assertEqual(both["b"]["OldImage"]["v"], {"S": "old"})
        self.assertNotIn("NewImage", both["b"])
        self.assertNotIn("OldImage", both["d"])
        new = self.export("NEW_IMAGE")
        self.assertEqual(sorted(new), ["a", "b", "d"])
        self.assertEqual(set(new["b"]), {"Metadata", "Keys"})
        self.assertNotIn("OldImage", new["a"])
        # A window shorter than 15 minutes (InvalidExportTimeException, in DynamoDB's words),
        # or ExportTime beside one (ValidationException): refused.
        arn = self.ddb.describe_table(TableName="Inc")["Table"]["TableArn"]
        short = {"ExportFromTime": self.start, "ExportToTime": self.start + datetime.timedelta(minutes=14)}
        for extra, code in [
                (dict(IncrementalExportSpecification=short), "InvalidExportTimeException"),
                (dict(IncrementalExportSpecification={"ExportFromTime": self.start, "ExportToTime": self.end},
                      ExportTime=self.start), "ValidationException")]:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                self.ddb.export_table_to_point_in_time(
                    TableArn=arn, S3Bucket=self.BUCKET, ExportType="INCREMENTAL_EXPORT", **extra)
            self.assertEqual(error_code(e.exception), code, extra)
            if code == "InvalidExportTimeException":
                self.assertTrue(str(e.exception).split(": ", 1)[1].startswith("Difference between export period"),
                                str(e.exception))


class ExportsAfterRestart(unittest.TestCase):
    """Run against a server restarted on the database the Exports class ran on."""

    def setUp(self):
        if not S3_DIR or not os.environ.get("TIDESTORE_RESTARTED"):
            self.skipTest("no restarted server")

    def test_export_records_survive_a_restart(self):
        ddb = client()
        summaries = ddb.list_exports()["ExportSummaries"]
        self.assertGreaterEqual(len(summaries), 4)
        statuses = {ddb.describe_export(ExportArn=s["ExportArn"])["ExportDescription"]["ExportStatus"]
                    for s in summaries}
        self.assertEqual(statuses, {"COMPLETED", "FAILED"})
        done = [d for d in (ddb.describe_export(ExportArn=s["ExportArn"])["ExportDescription"] for s in summaries)
                if d.get("ItemCount") == 120]
        self.assertEqual(len(done), 1)
        # The exports of a table deleted since are not listed by the table's ARN, as
        # DynamoDB's (their records are kept: DescribeExport above describes each one listed).
        gone = "arn:aws:dynamodb:us-east-1:000000000000:table/ExportDeletedSrc"
        self.assertEqual(ddb.list_exports(TableArn=gone)["ExportSummaries"], [])


STREAM_ARN = re.compile(r"^arn:aws:dynamodb:us-east-1:000000000000:table/(?P<table>[A-Za-z0-9_.-]+)/stream/(?P<label>\S+)$")


class Streams(unittest.TestCase):
    """DynamoDB Streams through boto3's `dynamodbstreams` client and `aws dynamodbstreams`,
    on the DynamoDB endpoint."""

    def setUp(self):
        if os.environ.get("TIDESTORE_AUTH_KEY"):
            self.skipTest("the server checks signatures")
        self.ddb = client()
        self.streams = streams_client()

    def make_stream_table(self, name, view="NEW_AND_OLD_IMAGES"):
        """A table keyed pk (S) and sk (N) with a stream; its StreamArn."""
        created = self.ddb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )["TableDescription"]
        arn = created["LatestStreamArn"]
        self.assertRegex(arn, STREAM_ARN)
        self.assertEqual(STREAM_ARN.match(arn)["table"], name)
        self.assertEqual(STREAM_ARN.match(arn)["label"], created["LatestStreamLabel"])
        self.assertEqual(created["StreamSpecification"], {"StreamEnabled": True, "StreamViewType": view})
        return arn

    def shard_of(self, arn):
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.assertEqual(len(shards), 1)
        return shards[0]["ShardId"]

    def iterator(self, arn, kind, **extra):
        out = self.streams.get_shard_iterator(StreamArn=arn, ShardId=self.shard_of(arn), ShardIteratorType=kind, **extra)
        return out["ShardIterator"]

    def read(self, iterator, limit=None, most_calls=100):
        """GetRecords from `iterator` until a page comes back empty or the shard ends: the
        records, the number of calls, and the last NextShardIterator (None once ended)."""
        records, calls = [], 0
        while iterator is not None and calls < most_calls:
            out = self.streams.get_records(ShardIterator=iterator, **({"Limit": limit} if limit else {}))
            calls += 1
            if limit:
                self.assertLessEqual(len(out["Records"]), limit)
            records.extend(out["Records"])
            iterator = out.get("NextShardIterator")
            if not out["Records"]:
                break
        return records, calls, iterator

    def test_records_show_each_change_once_in_order_with_its_images(self):
        arn = self.make_stream_table("StreamOrders")
        started = datetime.datetime.now(datetime.timezone.utc)
        key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
        self.ddb.put_item(TableName="StreamOrders", Item={**key, "v": {"N": "1"}})
        self.ddb.update_item(TableName="StreamOrders", Key=key, UpdateExpression="SET v = :two", ExpressionAttributeValues={":two": {"N": "2"}})
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.ddb.put_item(TableName="StreamOrders", Item={**key, "v": {"N": "9"}}, ConditionExpression="attribute_not_exists(pk)")
        self.assertEqual(error_code(e.exception), "ConditionalCheckFailedException")
        # A put that leaves the item as it was changes nothing: no record.
        self.ddb.put_item(TableName="StreamOrders", Item={**key, "v": {"N": "2"}})
        self.ddb.delete_item(TableName="StreamOrders", Key=key)
        other = {"pk": {"S": "b"}, "sk": {"N": "2"}}
        self.ddb.put_item(TableName="StreamOrders", Item={**other, "s": {"S": "x" * 100}})

        records, calls, _ = self.read(self.iterator(arn, "TRIM_HORIZON"), limit=1)
        self.assertGreaterEqual(calls, 4, "one record a page")
        self.assertEqual([r["eventName"] for r in records], ["INSERT", "MODIFY", "REMOVE", "INSERT"])
        self.assertEqual([r["dynamodb"]["Keys"] for r in records], [key, key, key, other])
        images = [(r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage")) for r in records]
        self.assertEqual(images, [
            (None, {**key, "v": {"N": "1"}}),
            ({**key, "v": {"N": "1"}}, {**key, "v": {"N": "2"}}),
            ({**key, "v": {"N": "2"}}, None),
            (None, {**other, "s": {"S": "x" * 100}}),
        ])
        numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        for n in numbers:
            self.assertRegex(n, r"^[0-9]{21,40}$")
        self.assertEqual(numbers, sorted(numbers, key=int))
        self.assertEqual(len(set(numbers)), len(numbers))
        self.assertEqual(len({r["eventID"] for r in records}), len(records))
        for r in records:
            self.assertEqual((r["eventSource"], r["awsRegion"], r["eventVersion"]), ("aws:dynamodb", REGION, "1.1"))
            self.assertNotIn("userIdentity", r)
            change = r["dynamodb"]
            self.assertEqual(change["StreamViewType"], "NEW_AND_OLD_IMAGES")
            self.assertIsInstance(change["SizeBytes"], int)
            self.assertGreater(change["SizeBytes"], 0)
            when = change["ApproximateCreationDateTime"]
            self.assertIsInstance(when, datetime.datetime)
            self.assertLess(abs((when - started).total_seconds()), 300)
        self.assertGreater(records[3]["dynamodb"]["SizeBytes"], 100, "the images count")

        # A page of up to 1,000 reads them all at once, the same.
        everything, calls, _ = self.read(self.iterator(arn, "TRIM_HORIZON"))
        self.assertEqual(everything, records)
        self.assertLessEqual(calls, 2)
        at, _, _ = self.read(self.iterator(arn, "AT_SEQUENCE_NUMBER", SequenceNumber=numbers[1]))
        self.assertEqual(at, records[1:])
        after, _, _ = self.read(self.iterator(arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=numbers[1]))
        self.assertEqual(after, records[2:])
        after_last, _, _ = self.read(self.iterator(arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=numbers[-1]))
        self.assertEqual(after_last, [])

        # LATEST starts after the newest record: only what is written from now on.
        latest = self.iterator(arn, "LATEST")
        nothing = self.streams.get_records(ShardIterator=latest)
        self.assertEqual(nothing["Records"], [])
        third = {"pk": {"S": "c"}, "sk": {"N": "3"}}
        self.ddb.put_item(TableName="StreamOrders", Item=third)
        fresh, _, _ = self.read(nothing["NextShardIterator"])
        self.assertEqual([(r["eventName"], r["dynamodb"]["Keys"]) for r in fresh], [("INSERT", third)])
        fresh_from_latest, _, _ = self.read(latest)
        self.assertEqual(fresh_from_latest, fresh, "the first iterator reads the same")

    def test_streams_are_listed_and_described(self):
        arns = [self.make_stream_table(f"StreamList{i}", view) for i, view in enumerate(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE"])]
        self.ddb.create_table(
            TableName="StreamListNone",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        one = self.streams.list_streams(TableName="StreamList1")
        self.assertEqual(one["Streams"], [{"StreamArn": arns[1], "TableName": "StreamList1", "StreamLabel": STREAM_ARN.match(arns[1])["label"]}])
        self.assertNotIn("LastEvaluatedStreamArn", one)
        self.assertEqual(self.streams.list_streams(TableName="StreamListNone")["Streams"], [])
        # Every stream, one a page.
        listed, start, pages = [], {}, 0
        while pages < 100:
            page = self.streams.list_streams(Limit=1, **start)
            pages += 1
            self.assertLessEqual(len(page["Streams"]), 1)
            listed.extend(page["Streams"])
            if "LastEvaluatedStreamArn" not in page:
                break
            self.assertEqual(page["LastEvaluatedStreamArn"], page["Streams"][-1]["StreamArn"])
            start = {"ExclusiveStartStreamArn": page["LastEvaluatedStreamArn"]}
        listed_arns = [s["StreamArn"] for s in listed]
        self.assertEqual(len(listed_arns), len(set(listed_arns)), "no stream twice")
        self.assertEqual(listed_arns, [s["StreamArn"] for s in self.streams.list_streams()["Streams"]], "pages add up to the whole")
        for arn in arns:
            self.assertIn(arn, listed_arns)
        page = self.streams.list_streams(Limit=2)
        self.assertEqual(len(page["Streams"]), 2)

        for arn, view in zip(arns, ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE"]):
            described = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]
            table = STREAM_ARN.match(arn)["table"]
            self.assertEqual(described["StreamArn"], arn)
            self.assertEqual(described["StreamLabel"], STREAM_ARN.match(arn)["label"])
            self.assertEqual(described["StreamStatus"], "ENABLED")
            self.assertEqual(described["StreamViewType"], view)
            self.assertEqual(described["TableName"], table)
            self.assertEqual(described["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
            self.assertIsInstance(described["CreationRequestDateTime"], datetime.datetime)
            self.assertNotIn("LastEvaluatedShardId", described)
            [shard] = described["Shards"]
            self.assertTrue(28 <= len(shard["ShardId"]) <= 65, shard["ShardId"])
            self.assertTrue(shard["ShardId"].startswith("shardId-"))
            self.assertNotIn("ParentShardId", shard)
            self.assertRegex(shard["SequenceNumberRange"]["StartingSequenceNumber"], r"^[0-9]{21,40}$")
            self.assertNotIn("EndingSequenceNumber", shard["SequenceNumberRange"], "open while enabled")
            self.assertEqual(self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"], arn)
        # Paging shards: after the one shard there are none.
        shard = self.shard_of(arns[0])
        self.assertEqual(self.streams.describe_stream(StreamArn=arns[0], ExclusiveStartShardId=shard)["StreamDescription"]["Shards"], [])

        # The AWS CLI v1 reaches the same answers with `aws dynamodbstreams`.
        out = cli("list-streams", "--table-name", "StreamList2", service="dynamodbstreams")
        self.assertEqual([s["StreamArn"] for s in out["Streams"]], [arns[2]])
        out = cli("describe-stream", "--stream-arn", arns[2], service="dynamodbstreams")
        self.assertEqual(out["StreamDescription"]["StreamStatus"], "ENABLED")
        self.assertEqual(out["StreamDescription"]["Shards"][0]["ShardId"], self.shard_of(arns[2]))
        self.assertIsInstance(out["StreamDescription"]["CreationRequestDateTime"], (int, float))
        self.ddb.put_item(TableName="StreamList2", Item={"pk": {"S": "cli"}, "sk": {"N": "1"}})
        iterator = cli("get-shard-iterator", "--stream-arn", arns[2], "--shard-id", self.shard_of(arns[2]),
                       "--shard-iterator-type", "TRIM_HORIZON", service="dynamodbstreams")["ShardIterator"]
        out = cli("get-records", "--shard-iterator", iterator, service="dynamodbstreams")
        [record] = out["Records"]
        self.assertEqual(record["eventName"], "INSERT")
        self.assertNotIn("NewImage", record["dynamodb"], "OLD_IMAGE shows no new image")
        self.assertIsInstance(record["dynamodb"]["ApproximateCreationDateTime"], (int, float))
        with self.assertRaises(CliError) as e:
            cli("describe-stream", "--stream-arn", arns[2].replace("StreamList2", "StreamGone"), service="dynamodbstreams")
        self.assertIn("ResourceNotFoundException", e.exception.stderr)

    def test_a_disabled_stream_ends_and_enabling_again_makes_a_new_one(self):
        arn = self.make_stream_table("StreamToggle", view="KEYS_ONLY")
        for i in range(3):
            self.ddb.put_item(TableName="StreamToggle", Item={"pk": {"S": "k"}, "sk": {"N": str(i)}, "v": {"S": "x"}})
        self.ddb.update_table(TableName="StreamToggle", StreamSpecification={"StreamEnabled": False})
        self.ddb.put_item(TableName="StreamToggle", Item={"pk": {"S": "after"}, "sk": {"N": "0"}})
        table = self.ddb.describe_table(TableName="StreamToggle")["Table"]
        self.assertEqual(table["LatestStreamArn"], arn, "the table still names its last stream")
        described = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]
        self.assertEqual(described["StreamStatus"], "DISABLED")
        numbers = described["Shards"][0]["SequenceNumberRange"]
        self.assertRegex(numbers["EndingSequenceNumber"], r"^[0-9]{21,40}$")
        self.assertGreaterEqual(int(numbers["EndingSequenceNumber"]), int(numbers["StartingSequenceNumber"]))

        # Read to the end, two a page: the shard is closed, so the last answer has no iterator.
        iterator, records, calls = self.iterator(arn, "TRIM_HORIZON"), [], 0
        while iterator is not None:
            calls += 1
            self.assertLess(calls, 20, "a closed shard ends")
            out = self.streams.get_records(ShardIterator=iterator, Limit=2)
            records.extend(out["Records"])
            iterator = out.get("NextShardIterator")
        self.assertEqual([r["dynamodb"]["Keys"]["sk"] for r in records], [{"N": "0"}, {"N": "1"}, {"N": "2"}])
        for r in records:
            self.assertEqual(r["eventName"], "INSERT")
            self.assertNotIn("NewImage", r["dynamodb"], "KEYS_ONLY")
            self.assertNotIn("OldImage", r["dynamodb"])
            self.assertEqual(r["dynamodb"]["StreamViewType"], "KEYS_ONLY")
        self.assertLessEqual(int(records[-1]["dynamodb"]["SequenceNumber"]), int(numbers["EndingSequenceNumber"]))
        latest, _, left = self.read(self.iterator(arn, "LATEST"))
        self.assertEqual((latest, left), ([], None), "LATEST of a closed shard is its end")

        self.ddb.update_table(TableName="StreamToggle", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        again = self.ddb.describe_table(TableName="StreamToggle")["Table"]["LatestStreamArn"]
        self.assertNotEqual(again, arn)
        self.assertRegex(again, STREAM_ARN)
        listed = [s["StreamArn"] for s in self.streams.list_streams(TableName="StreamToggle")["Streams"]]
        self.assertEqual(sorted(listed), sorted([arn, again]))
        self.assertEqual(self.streams.describe_stream(StreamArn=again)["StreamDescription"]["StreamStatus"], "ENABLED")
        self.ddb.put_item(TableName="StreamToggle", Item={"pk": {"S": "new"}, "sk": {"N": "1"}})
        fresh, _, _ = self.read(self.iterator(again, "TRIM_HORIZON"))
        self.assertEqual([(r["eventName"], r["dynamodb"]["NewImage"]) for r in fresh], [("INSERT", {"pk": {"S": "new"}, "sk": {"N": "1"}})])
        self.assertNotIn("OldImage", fresh[0]["dynamodb"])
        self.assertEqual(self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["StreamStatus"], "DISABLED")

    def test_a_time_to_live_delete_is_the_services(self):
        arn = self.make_stream_table("StreamExpiring", view="OLD_IMAGE")
        self.ddb.update_time_to_live(TableName="StreamExpiring", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
        key = {"pk": {"S": "gone"}, "sk": {"N": "1"}}
        expired = {**key, "exp": {"N": str(int(time.time()) - 10)}}
        self.ddb.put_item(TableName="StreamExpiring", Item=expired)
        self.ddb.delete_item(TableName="StreamExpiring", Key={"pk": {"S": "never"}, "sk": {"N": "1"}})
        deadline = time.monotonic() + 60
        while "Item" in self.ddb.get_item(TableName="StreamExpiring", Key=key, ConsistentRead=True):
            self.assertLess(time.monotonic(), deadline, "the sweeper deletes an expired item")
            time.sleep(0.2)
        records, _, _ = self.read(self.iterator(arn, "TRIM_HORIZON"))
        self.assertEqual([r["eventName"] for r in records], ["INSERT", "REMOVE"], "deleting nothing is no record")
        self.assertNotIn("userIdentity", records[0], "a request's write")
        self.assertEqual(records[1]["userIdentity"], {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"})
        self.assertEqual(records[1]["dynamodb"]["OldImage"], expired)

    def test_bad_iterators_arns_and_shards_are_refused_with_dynamodbs_names(self):
        arn = self.make_stream_table("StreamErrors")
        shard = self.shard_of(arn)
        unchecked = streams_client(validate=False)
        unknown_arn = "arn:aws:dynamodb:us-east-1:000000000000:table/StreamNoSuchTable/stream/2026-12-05T00:00:00.000"
        cases = [
            (lambda: self.streams.get_records(ShardIterator="not-an-iterator"), "ValidationException"),
            (lambda: self.streams.get_records(ShardIterator=arn + "|1|99|0|0|0|x"), "ValidationException"),
            (lambda: unchecked.describe_stream(StreamArn="arn:aws:dynamodb:short"), "ValidationException"),
            (lambda: unchecked.list_streams(ExclusiveStartStreamArn="arn:aws:dynamodb:short"), "ValidationException"),
            (lambda: self.streams.describe_stream(StreamArn=unknown_arn), "ResourceNotFoundException"),
            # A label that is no time: not a stream ARN (DynamoDB: ValidationException).
            (lambda: self.streams.describe_stream(StreamArn=arn + "0"), "ValidationException"),
            (lambda: self.streams.describe_stream(StreamArn="sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf"), "ValidationException"),
            (lambda: self.streams.get_shard_iterator(StreamArn=unknown_arn, ShardId=shard, ShardIteratorType="LATEST"), "ResourceNotFoundException"),
            (lambda: self.streams.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000001-deadbeef", ShardIteratorType="LATEST"), "ResourceNotFoundException"),
            (lambda: self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER"), "ValidationException"),
            (lambda: self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber="x" * 21), "ValidationException"),
            (lambda: unchecked.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="OLDEST"), "ValidationException"),
            (lambda: self.streams.describe_stream(StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shard}), "ValidationException"),
            (lambda: self.streams.get_records(ShardIterator=self.iterator(arn, "LATEST"), Limit=1001), "ValidationException"),
            (lambda: self.streams.list_streams(TableName="StreamNoSuchTable!"), "ValidationException"),
        ]
        # An iterator lives 15 minutes; one issued 16 minutes ago (its last field, by the
        # layout in src/streams/position.rs) is ExpiredIteratorException.
        fresh = self.iterator(arn, "TRIM_HORIZON")
        place, issued = fresh.rsplit("|", 1)
        stale = f"{place}|{int(issued) - 16 * 60 * 1000}"
        cases.append((lambda: self.streams.get_records(ShardIterator=stale), "ExpiredIteratorException"))
        self.assertEqual(self.streams.get_records(ShardIterator=fresh)["Records"], [])
        started = time.monotonic()
        for i, (call, code) in enumerate(cases):
            with self.assertRaises(botocore.exceptions.ClientError, msg=f"case {i}") as e:
                call()
            self.assertEqual(error_code(e.exception), code, f"case {i}: {e.exception.response['Error']}")
            self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400, f"case {i}")
        self.assertLess(time.monotonic() - started, 20, "no client spun in retries")
        # botocore checks the SDK-side lengths itself, so a real client never sends a short one.
        with self.assertRaises(botocore.exceptions.ParamValidationError):
            self.streams.describe_stream(StreamArn="arn:aws:dynamodb:short")


def sign(body, target, key, secret, region, when):
    """A SigV4 signature written here from the published algorithm, to check the server's."""
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    host = ENDPOINT.split("://")[1]
    headers = {"content-type": "application/x-amz-json-1.0", "host": host, "x-amz-date": amz_date, "x-amz-target": target}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["POST", "/", "", *[f"{k}:{headers[k]}" for k in sorted(headers)], "", signed, hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/dynamodb/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = f"AWS4{secret}".encode()
    for part in (day, region, "dynamodb", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={signed}, Signature={signature}"
    return headers


class Signatures(unittest.TestCase):
    def setUp(self):
        self.key = os.environ.get("TIDESTORE_AUTH_KEY")
        self.secret = os.environ.get("TIDESTORE_AUTH_SECRET")
        if not self.key:
            self.skipTest("the server does not check signatures")

    def test_boto3_signed_with_the_right_secret_passes(self):
        self.assertIn("TableNames", client(self.key, self.secret).list_tables())

    def test_streams_sign_as_dynamodb_and_are_verified_alike(self):
        self.assertIn("Streams", streams_client(self.key, self.secret).list_streams())
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            streams_client(self.key, "wrong").list_streams()
        self.assertEqual(error_code(e.exception), "InvalidSignatureException")

    def test_a_wrong_secret_an_unknown_key_or_another_region_is_refused(self):
        cases = [
            (client(self.key, "wrong"), "InvalidSignatureException"),
            (client("AKIDUNKNOWN", self.secret), "UnrecognizedClientException"),
            (client(self.key, self.secret, region="eu-west-1"), "InvalidSignatureException"),
        ]
        for ddb, code in cases:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                ddb.list_tables()
            self.assertEqual(error_code(e.exception), code)

    def raw(self, body, headers):
        request = urllib.request.Request(ENDPOINT + "/", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_an_independent_signer_agrees_and_an_old_signature_expires(self):
        body = b"{}"
        now = datetime.datetime.now(datetime.timezone.utc)
        status, answer = self.raw(body, sign(body, "DynamoDB_20120810.ListTables", self.key, self.secret, REGION, now))
        self.assertEqual(status, 200, answer)
        old = now - datetime.timedelta(minutes=20)
        status, answer = self.raw(body, sign(body, "DynamoDB_20120810.ListTables", self.key, self.secret, REGION, old))
        self.assertEqual((status, answer["__type"]), (400, "com.amazon.coral.service#InvalidSignatureException"))
        self.assertIn("Signature expired", answer["message"])
        # A compressed body is signed as sent: its payload hash is of the gzip bytes.
        zipped = gzip.compress(body)
        headers = sign(zipped, "DynamoDB_20120810.ListTables", self.key, self.secret, REGION, now)
        headers["content-encoding"] = "gzip"
        status, answer = self.raw(zipped, headers)
        self.assertEqual(status, 200, answer)
        # A body changed after signing fails the payload hash.
        headers = sign(body, "DynamoDB_20120810.ListTables", self.key, self.secret, REGION, now)
        status, answer = self.raw(b'{"Limit": 1}', headers)
        self.assertEqual(answer["__type"], "com.amazon.coral.service#InvalidSignatureException")


if __name__ == "__main__":
    unittest.main()
