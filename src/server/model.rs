//! The request members of every operation in DynamoDB's API model
//! (`shared/reference/dynamodb-service-2.json`, botocore's `dynamodb/2012-08-10`) and in
//! DynamoDB Streams' (botocore's `dynamodbstreams/2012-08-10`): which exist, so that one
//! tidestore does not honour is refused rather than silently ignored, and which are
//! required, so that a missing one gets DynamoDB's `Member must not be null`, and the values
//! of the enumerated ones, so that another value gets `Member must satisfy enum value set`.
//! Generated from the models; regenerate it when a model changes.

/// One operation's input members.
pub struct Operation {
    /// The operation's name, as in `X-Amz-Target`.
    pub name: &'static str,
    /// Every member of its input.
    pub members: &'static [&'static str],
    /// The members its input requires.
    pub required: &'static [&'static str],
    /// The members whose values are enumerated, with their values.
    pub enums: &'static [(&'static str, &'static [&'static str])],
}

/// Every operation of the model, sorted by name.
#[rustfmt::skip]
pub const OPERATIONS: [Operation; 62] = [
    Operation { name: "BatchExecuteStatement", members: &["ReturnConsumedCapacity", "Statements"], required: &["Statements"], enums: &[("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"])] },
    Operation { name: "BatchGetItem", members: &["RequestItems", "ReturnConsumedCapacity"], required: &["RequestItems"], enums: &[("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"])] },
    Operation { name: "BatchWriteItem", members: &["RequestItems", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics"], required: &["RequestItems"], enums: &[("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]), ("ReturnItemCollectionMetrics", &["SIZE", "NONE"])] },
    Operation { name: "CancelBulkOperation", members: &["BulkOperationArn"], required: &["BulkOperationArn"], enums: &[] },
    Operation { name: "CreateBackup", members: &["BackupName", "TableName"], required: &["BackupName", "TableName"], enums: &[] },
    Operation { name: "CreateGlobalTable", members: &["GlobalTableName", "ReplicationGroup"], required: &["GlobalTableName", "ReplicationGroup"], enums: &[] },
    Operation { name: "CreateTable", members: &["AttributeDefinitions", "BillingMode", "DeletionProtectionEnabled", "GlobalSecondaryIndexes", "GlobalTableSettingsReplicationMode", "GlobalTableSourceArn", "KeySchema", "LocalSecondaryIndexes", "OnDemandThroughput", "ProvisionedThroughput", "ResourcePolicy", "SSESpecification", "StreamSpecification", "TableClass", "TableName", "Tags", "VectorIndexes", "WarmThroughput"], required: &["TableName"], enums: &[("BillingMode", &["PROVISIONED", "PAY_PER_REQUEST"]), ("GlobalTableSettingsReplicationMode", &["ENABLED", "DISABLED", "ENABLED_WITH_OVERRIDES"]), ("TableClass", &["STANDARD", "STANDARD_INFREQUENT_ACCESS"])] },
    Operation { name: "DeleteBackup", members: &["BackupArn"], required: &["BackupArn"], enums: &[] },
    Operation { name: "DeleteItem", members: &["ConditionExpression", "ConditionalOperator", "Expected", "ExpressionAttributeNames", "ExpressionAttributeValues", "Key", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValues", "ReturnValuesOnConditionCheckFailure", "TableName"], required: &["Key", "TableName"], enums: &[("ConditionalOperator", &["AND", "OR"]), ("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]), ("ReturnItemCollectionMetrics", &["SIZE", "NONE"]), ("ReturnValues", &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]), ("ReturnValuesOnConditionCheckFailure", &["ALL_OLD", "NONE"])] },
    Operation { name: "DeleteResourcePolicy", members: &["ExpectedRevisionId", "ResourceArn"], required: &["ResourceArn"], enums: &[] },
    Operation { name: "DeleteTable", members: &["TableName"], required: &["TableName"], enums: &[] },
    Operation { name: "DescribeBackup", members: &["BackupArn"], required: &["BackupArn"], enums: &[] },
    Operation { name: "DescribeBulkOperation", members: &["BulkOperationArn"], required: &["BulkOperationArn"], enums: &[] },
    Operation { name: "DescribeContinuousBackups", members: &["TableName"], required: &["TableName"], enums: &[] },
    Operation { name: "DescribeContributorInsights", members: &["IndexName", "TableName"], required: &["TableName"], enums: &[] },
    Operation { name: "DescribeEndpoints", members: &[], required: &[], enums: &[] },
    Operation { name: "DescribeExport", members: &["ExportArn"], required: &["ExportArn"], enums: &[] },
    Operation { name: "DescribeGlobalTable", members: &["GlobalTableName"], required: &["GlobalTableName"], enums: &[] },
    Operation { name: "DescribeGlobalTableSettings", members: &["GlobalTableName"], required: &["GlobalTableName"], enums: &[] },
    Operation { name: "DescribeImport", members: &["ImportArn"], required: &["ImportArn"], enums: &[] },
    Operation { name: "DescribeKinesisStreamingDestination", members: &["TableName"], required: &["TableName"], enums: &[] },
    Operation { name: "DescribeLimits", members: &[], required: &[], enums: &[] },
    Operation { name: "DescribeTable", members: &["TableName"], required: &["TableName"], enums: &[] },
    Operation { name: "DescribeTableReplicaAutoScaling", members: &["TableName"], required: &["TableName"], enums: &[] },
    Operation { name: "DescribeTimeToLive", members: &["TableName"], required: &["TableName"], enums: &[] },
    Operation { name: "DisableKinesisStreamingDestination", members: &["EnableKinesisStreamingConfiguration", "StreamArn", "TableName"], required: &["StreamArn", "TableName"], enums: &[] },
    Operation { name: "EnableKinesisStreamingDestination", members: &["EnableKinesisStreamingConfiguration", "StreamArn", "TableName"], required: &["StreamArn", "TableName"], enums: &[] },
    Operation { name: "ExecuteStatement", members: &["ConsistentRead", "Limit", "NextToken", "Parameters", "ReturnConsumedCapacity", "ReturnValuesOnConditionCheckFailure", "Statement"], required: &["Statement"], enums: &[("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]), ("ReturnValuesOnConditionCheckFailure", &["ALL_OLD", "NONE"])] },
    Operation { name: "ExecuteTransaction", members: &["ClientRequestToken", "ReturnConsumedCapacity", "TransactStatements"], required: &["TransactStatements"], enums: &[("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"])] },
    Operation { name: "ExportTableToPointInTime", members: &["ClientToken", "ExportFormat", "ExportTime", "ExportType", "FilterSpecification", "IncrementalExportSpecification", "S3Bucket", "S3BucketOwner", "S3Prefix", "S3SseAlgorithm", "S3SseKmsKeyId", "TableArn"], required: &["S3Bucket", "TableArn"], enums: &[("ExportFormat", &["DYNAMODB_JSON", "ION"]), ("ExportType", &["FULL_EXPORT", "INCREMENTAL_EXPORT"]), ("S3SseAlgorithm", &["AES256", "KMS"])] },
    Operation { name: "GetItem", members: &["AttributesToGet", "ConsistentRead", "ExpressionAttributeNames", "Key", "ProjectionExpression", "ReturnConsumedCapacity", "TableName"], required: &["Key", "TableName"], enums: &[("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"])] },
    Operation { name: "GetResourcePolicy", members: &["ResourceArn"], required: &["ResourceArn"], enums: &[] },
    Operation { name: "ImportTable", members: &["ClientToken", "InputCompressionType", "InputFormat", "InputFormatOptions", "S3BucketSource", "TableCreationParameters"], required: &["InputFormat", "S3BucketSource", "TableCreationParameters"], enums: &[("InputCompressionType", &["GZIP", "ZSTD", "NONE"]), ("InputFormat", &["DYNAMODB_JSON", "ION", "CSV"])] },
    Operation { name: "ListBackups", members: &["BackupType", "ExclusiveStartBackupArn", "Limit", "TableName", "TimeRangeLowerBound", "TimeRangeUpperBound"], required: &[], enums: &[("BackupType", &["USER", "SYSTEM", "AWS_BACKUP", "ALL"])] },
    Operation { name: "ListBulkOperations", members: &["MaxResults", "NextToken"], required: &[], enums: &[] },
    Operation { name: "ListContributorInsights", members: &["MaxResults", "NextToken", "TableName"], required: &[], enums: &[] },
    Operation { name: "ListExports", members: &["MaxResults", "NextToken", "TableArn"], required: &[], enums: &[] },
    Operation { name: "ListGlobalTables", members: &["ExclusiveStartGlobalTableName", "Limit", "RegionName"], required: &[], enums: &[] },
    Operation { name: "ListImports", members: &["NextToken", "PageSize", "TableArn"], required: &[], enums: &[] },
    Operation { name: "ListTables", members: &["ExclusiveStartTableName", "Limit"], required: &[], enums: &[] },
    Operation { name: "ListTagsOfResource", members: &["NextToken", "ResourceArn"], required: &["ResourceArn"], enums: &[] },
    Operation { name: "PutItem", members: &["ConditionExpression", "ConditionalOperator", "Expected", "ExpressionAttributeNames", "ExpressionAttributeValues", "Item", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValues", "ReturnValuesOnConditionCheckFailure", "TableName"], required: &["Item", "TableName"], enums: &[("ConditionalOperator", &["AND", "OR"]), ("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]), ("ReturnItemCollectionMetrics", &["SIZE", "NONE"]), ("ReturnValues", &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]), ("ReturnValuesOnConditionCheckFailure", &["ALL_OLD", "NONE"])] },
    Operation { name: "PutResourcePolicy", members: &["ConfirmRemoveSelfResourceAccess", "ExpectedRevisionId", "Policy", "ResourceArn"], required: &["Policy", "ResourceArn"], enums: &[] },
    Operation { name: "Query", members: &["AttributesToGet", "ConditionalOperator", "ConsistentRead", "ExclusiveStartKey", "ExpressionAttributeNames", "ExpressionAttributeValues", "FilterExpression", "IndexName", "KeyConditionExpression", "KeyConditions", "Limit", "ProjectionExpression", "QueryFilter", "ReturnConsumedCapacity", "ScanIndexForward", "Select", "TableName"], required: &["TableName"], enums: &[("ConditionalOperator", &["AND", "OR"]), ("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]), ("Select", &["ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"])] },
    Operation { name: "RestoreTableFromBackup", members: &["BackupArn", "BillingModeOverride", "GlobalSecondaryIndexOverride", "LocalSecondaryIndexOverride", "OnDemandThroughputOverride", "ProvisionedThroughputOverride", "SSESpecificationOverride", "TargetTableName", "VectorIndexOverride"], required: &["BackupArn", "TargetTableName"], enums: &[("BillingModeOverride", &["PROVISIONED", "PAY_PER_REQUEST"])] },
    Operation { name: "RestoreTableToPointInTime", members: &["BillingModeOverride", "GlobalSecondaryIndexOverride", "LocalSecondaryIndexOverride", "OnDemandThroughputOverride", "ProvisionedThroughputOverride", "RestoreDateTime", "SSESpecificationOverride", "SourceTableArn", "SourceTableName", "TargetTableName", "UseLatestRestorableTime", "VectorIndexOverride"], required: &["TargetTableName"], enums: &[("BillingModeOverride", &["PROVISIONED", "PAY_PER_REQUEST"])] },
    Operation { name: "Scan", members: &["AttributesToGet", "ConditionalOperator", "ConsistentRead", "ExclusiveStartKey", "ExpressionAttributeNames", "ExpressionAttributeValues", "FilterExpression", "IndexName", "Limit", "ProjectionExpression", "ReturnConsumedCapacity", "ScanFilter", "Segment", "Select", "TableName", "TotalSegments"], required: &["TableName"], enums: &[("ConditionalOperator", &["AND", "OR"]), ("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]), ("Select", &["ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"])] },
    Operation { name: "SearchVectors", members: &["ExpressionAttributeNames", "ExpressionAttributeValues", "IndexName", "ProjectionExpression", "ReturnConsumedCapacity", "SearchConditionExpression", "SearchVector", "TableName", "TopK"], required: &["IndexName", "SearchVector", "TableName", "TopK"], enums: &[("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"])] },
    Operation { name: "StartBulkPutItems", members: &["ClientToken", "InputS3Configuration", "MaxWriteRequestUnits", "OutputS3Configuration", "PerformanceTier", "TableName"], required: &["InputS3Configuration", "OutputS3Configuration", "TableName"], enums: &[("PerformanceTier", &["STANDARD", "ACCELERATED"])] },
    Operation { name: "TagResource", members: &["ResourceArn", "Tags"], required: &["ResourceArn", "Tags"], enums: &[] },
    Operation { name: "TransactGetItems", members: &["ReturnConsumedCapacity", "TransactItems"], required: &["TransactItems"], enums: &[("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"])] },
    Operation { name: "TransactWriteItems", members: &["ClientRequestToken", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "TransactItems"], required: &["TransactItems"], enums: &[("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]), ("ReturnItemCollectionMetrics", &["SIZE", "NONE"])] },
    Operation { name: "UntagResource", members: &["ResourceArn", "TagKeys"], required: &["ResourceArn", "TagKeys"], enums: &[] },
    Operation { name: "UpdateContinuousBackups", members: &["PointInTimeRecoverySpecification", "TableName"], required: &["PointInTimeRecoverySpecification", "TableName"], enums: &[] },
    Operation { name: "UpdateContributorInsights", members: &["ContributorInsightsAction", "ContributorInsightsMode", "IndexName", "TableName"], required: &["ContributorInsightsAction", "TableName"], enums: &[("ContributorInsightsAction", &["ENABLE", "DISABLE"]), ("ContributorInsightsMode", &["ACCESSED_AND_THROTTLED_KEYS", "THROTTLED_KEYS"])] },
    Operation { name: "UpdateGlobalTable", members: &["GlobalTableName", "ReplicaUpdates"], required: &["GlobalTableName", "ReplicaUpdates"], enums: &[] },
    Operation { name: "UpdateGlobalTableSettings", members: &["GlobalTableBillingMode", "GlobalTableGlobalSecondaryIndexSettingsUpdate", "GlobalTableName", "GlobalTableProvisionedWriteCapacityAutoScalingSettingsUpdate", "GlobalTableProvisionedWriteCapacityUnits", "ReplicaSettingsUpdate"], required: &["GlobalTableName"], enums: &[("GlobalTableBillingMode", &["PROVISIONED", "PAY_PER_REQUEST"])] },
    Operation { name: "UpdateItem", members: &["AttributeUpdates", "ConditionExpression", "ConditionalOperator", "Expected", "ExpressionAttributeNames", "ExpressionAttributeValues", "Key", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValues", "ReturnValuesOnConditionCheckFailure", "TableName", "UpdateExpression"], required: &["Key", "TableName"], enums: &[("ConditionalOperator", &["AND", "OR"]), ("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]), ("ReturnItemCollectionMetrics", &["SIZE", "NONE"]), ("ReturnValues", &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]), ("ReturnValuesOnConditionCheckFailure", &["ALL_OLD", "NONE"])] },
    Operation { name: "UpdateKinesisStreamingDestination", members: &["StreamArn", "TableName", "UpdateKinesisStreamingConfiguration"], required: &["StreamArn", "TableName"], enums: &[] },
    Operation { name: "UpdateTable", members: &["AttributeDefinitions", "BillingMode", "DeletionProtectionEnabled", "DisassociationProtectionEnabled", "GlobalSecondaryIndexUpdates", "GlobalTableSettingsReplicationMode", "GlobalTableWitnessUpdates", "MultiRegionConsistency", "OnDemandThroughput", "ProvisionedThroughput", "ReplicaUpdates", "SSESpecification", "StreamSpecification", "TableClass", "TableName", "VectorIndexUpdates", "WarmThroughput"], required: &["TableName"], enums: &[("BillingMode", &["PROVISIONED", "PAY_PER_REQUEST"]), ("GlobalTableSettingsReplicationMode", &["ENABLED", "DISABLED", "ENABLED_WITH_OVERRIDES"]), ("MultiRegionConsistency", &["EVENTUAL", "STRONG"]), ("TableClass", &["STANDARD", "STANDARD_INFREQUENT_ACCESS"])] },
    Operation { name: "UpdateTableReplicaAutoScaling", members: &["GlobalSecondaryIndexUpdates", "ProvisionedWriteCapacityAutoScalingUpdate", "ReplicaUpdates", "TableName"], required: &["TableName"], enums: &[] },
    Operation { name: "UpdateTimeToLive", members: &["TableName", "TimeToLiveSpecification"], required: &["TableName", "TimeToLiveSpecification"], enums: &[] },
];

/// The model's entry for `name`, if DynamoDB has the operation.
pub fn operation(name: &str) -> Option<&'static Operation> {
    let i = OPERATIONS.binary_search_by(|op| op.name.cmp(name)).ok()?;
    Some(&OPERATIONS[i])
}

/// Every operation of the DynamoDB Streams model, sorted by name.
#[rustfmt::skip]
pub const STREAMS_OPERATIONS: [Operation; 4] = [
    Operation { name: "DescribeStream", members: &["ExclusiveStartShardId", "Limit", "ShardFilter", "StreamArn"], required: &["StreamArn"], enums: &[] },
    Operation { name: "GetRecords", members: &["Limit", "ShardIterator"], required: &["ShardIterator"], enums: &[] },
    Operation { name: "GetShardIterator", members: &["SequenceNumber", "ShardId", "ShardIteratorType", "StreamArn"], required: &["ShardId", "ShardIteratorType", "StreamArn"], enums: &[("ShardIteratorType", &["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"])] },
    Operation { name: "ListStreams", members: &["ExclusiveStartStreamArn", "Limit", "TableName"], required: &[], enums: &[] },
];

/// The Streams model's entry for `name`, if DynamoDB Streams has the operation.
pub fn streams_operation(name: &str) -> Option<&'static Operation> {
    let i = STREAMS_OPERATIONS
        .binary_search_by(|op| op.name.cmp(name))
        .ok()?;
    Some(&STREAMS_OPERATIONS[i])
}
