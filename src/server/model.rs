//! The request members of every operation in DynamoDB's API model
//! (`shared/reference/dynamodb-service-2.json`, botocore's `dynamodb/2012-08-10`): which
//! exist, so that one tidestore does not honour is refused rather than silently ignored, and
//! which are required, so that a missing one gets DynamoDB's `Member must not be null`.
//! Generated from the model; regenerate it when the model changes.

/// One operation's input members.
pub struct Operation {
    /// The operation's name, as in `X-Amz-Target`.
    pub name: &'static str,
    /// Every member of its input.
    pub members: &'static [&'static str],
    /// The members its input requires.
    pub required: &'static [&'static str],
}

/// Every operation of the model, sorted by name.
#[rustfmt::skip]
pub const OPERATIONS: [Operation; 62] = [
    Operation { name: "BatchExecuteStatement", members: &["ReturnConsumedCapacity", "Statements"], required: &["Statements"] },
    Operation { name: "BatchGetItem", members: &["RequestItems", "ReturnConsumedCapacity"], required: &["RequestItems"] },
    Operation { name: "BatchWriteItem", members: &["RequestItems", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics"], required: &["RequestItems"] },
    Operation { name: "CancelBulkOperation", members: &["BulkOperationArn"], required: &["BulkOperationArn"] },
    Operation { name: "CreateBackup", members: &["BackupName", "TableName"], required: &["BackupName", "TableName"] },
    Operation { name: "CreateGlobalTable", members: &["GlobalTableName", "ReplicationGroup"], required: &["GlobalTableName", "ReplicationGroup"] },
    Operation { name: "CreateTable", members: &["AttributeDefinitions", "BillingMode", "DeletionProtectionEnabled", "GlobalSecondaryIndexes", "GlobalTableSettingsReplicationMode", "GlobalTableSourceArn", "KeySchema", "LocalSecondaryIndexes", "OnDemandThroughput", "ProvisionedThroughput", "ResourcePolicy", "SSESpecification", "StreamSpecification", "TableClass", "TableName", "Tags", "VectorIndexes", "WarmThroughput"], required: &["TableName"] },
    Operation { name: "DeleteBackup", members: &["BackupArn"], required: &["BackupArn"] },
    Operation { name: "DeleteItem", members: &["ConditionExpression", "ConditionalOperator", "Expected", "ExpressionAttributeNames", "ExpressionAttributeValues", "Key", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValues", "ReturnValuesOnConditionCheckFailure", "TableName"], required: &["Key", "TableName"] },
    Operation { name: "DeleteResourcePolicy", members: &["ExpectedRevisionId", "ResourceArn"], required: &["ResourceArn"] },
    Operation { name: "DeleteTable", members: &["TableName"], required: &["TableName"] },
    Operation { name: "DescribeBackup", members: &["BackupArn"], required: &["BackupArn"] },
    Operation { name: "DescribeBulkOperation", members: &["BulkOperationArn"], required: &["BulkOperationArn"] },
    Operation { name: "DescribeContinuousBackups", members: &["TableName"], required: &["TableName"] },
    Operation { name: "DescribeContributorInsights", members: &["IndexName", "TableName"], required: &["TableName"] },
    Operation { name: "DescribeEndpoints", members: &[], required: &[] },
    Operation { name: "DescribeExport", members: &["ExportArn"], required: &["ExportArn"] },
    Operation { name: "DescribeGlobalTable", members: &["GlobalTableName"], required: &["GlobalTableName"] },
    Operation { name: "DescribeGlobalTableSettings", members: &["GlobalTableName"], required: &["GlobalTableName"] },
    Operation { name: "DescribeImport", members: &["ImportArn"], required: &["ImportArn"] },
    Operation { name: "DescribeKinesisStreamingDestination", members: &["TableName"], required: &["TableName"] },
    Operation { name: "DescribeLimits", members: &[], required: &[] },
    Operation { name: "DescribeTable", members: &["TableName"], required: &["TableName"] },
    Operation { name: "DescribeTableReplicaAutoScaling", members: &["TableName"], required: &["TableName"] },
    Operation { name: "DescribeTimeToLive", members: &["TableName"], required: &["TableName"] },
    Operation { name: "DisableKinesisStreamingDestination", members: &["EnableKinesisStreamingConfiguration", "StreamArn", "TableName"], required: &["StreamArn", "TableName"] },
    Operation { name: "EnableKinesisStreamingDestination", members: &["EnableKinesisStreamingConfiguration", "StreamArn", "TableName"], required: &["StreamArn", "TableName"] },
    Operation { name: "ExecuteStatement", members: &["ConsistentRead", "Limit", "NextToken", "Parameters", "ReturnConsumedCapacity", "ReturnValuesOnConditionCheckFailure", "Statement"], required: &["Statement"] },
    Operation { name: "ExecuteTransaction", members: &["ClientRequestToken", "ReturnConsumedCapacity", "TransactStatements"], required: &["TransactStatements"] },
    Operation { name: "ExportTableToPointInTime", members: &["ClientToken", "ExportFormat", "ExportTime", "ExportType", "FilterSpecification", "IncrementalExportSpecification", "S3Bucket", "S3BucketOwner", "S3Prefix", "S3SseAlgorithm", "S3SseKmsKeyId", "TableArn"], required: &["S3Bucket", "TableArn"] },
    Operation { name: "GetItem", members: &["AttributesToGet", "ConsistentRead", "ExpressionAttributeNames", "Key", "ProjectionExpression", "ReturnConsumedCapacity", "TableName"], required: &["Key", "TableName"] },
    Operation { name: "GetResourcePolicy", members: &["ResourceArn"], required: &["ResourceArn"] },
    Operation { name: "ImportTable", members: &["ClientToken", "InputCompressionType", "InputFormat", "InputFormatOptions", "S3BucketSource", "TableCreationParameters"], required: &["InputFormat", "S3BucketSource", "TableCreationParameters"] },
    Operation { name: "ListBackups", members: &["BackupType", "ExclusiveStartBackupArn", "Limit", "TableName", "TimeRangeLowerBound", "TimeRangeUpperBound"], required: &[] },
    Operation { name: "ListBulkOperations", members: &["MaxResults", "NextToken"], required: &[] },
    Operation { name: "ListContributorInsights", members: &["MaxResults", "NextToken", "TableName"], required: &[] },
    Operation { name: "ListExports", members: &["MaxResults", "NextToken", "TableArn"], required: &[] },
    Operation { name: "ListGlobalTables", members: &["ExclusiveStartGlobalTableName", "Limit", "RegionName"], required: &[] },
    Operation { name: "ListImports", members: &["NextToken", "PageSize", "TableArn"], required: &[] },
    Operation { name: "ListTables", members: &["ExclusiveStartTableName", "Limit"], required: &[] },
    Operation { name: "ListTagsOfResource", members: &["NextToken", "ResourceArn"], required: &["ResourceArn"] },
    Operation { name: "PutItem", members: &["ConditionExpression", "ConditionalOperator", "Expected", "ExpressionAttributeNames", "ExpressionAttributeValues", "Item", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValues", "ReturnValuesOnConditionCheckFailure", "TableName"], required: &["Item", "TableName"] },
    Operation { name: "PutResourcePolicy", members: &["ConfirmRemoveSelfResourceAccess", "ExpectedRevisionId", "Policy", "ResourceArn"], required: &["Policy", "ResourceArn"] },
    Operation { name: "Query", members: &["AttributesToGet", "ConditionalOperator", "ConsistentRead", "ExclusiveStartKey", "ExpressionAttributeNames", "ExpressionAttributeValues", "FilterExpression", "IndexName", "KeyConditionExpression", "KeyConditions", "Limit", "ProjectionExpression", "QueryFilter", "ReturnConsumedCapacity", "ScanIndexForward", "Select", "TableName"], required: &["TableName"] },
    Operation { name: "RestoreTableFromBackup", members: &["BackupArn", "BillingModeOverride", "GlobalSecondaryIndexOverride", "LocalSecondaryIndexOverride", "OnDemandThroughputOverride", "ProvisionedThroughputOverride", "SSESpecificationOverride", "TargetTableName", "VectorIndexOverride"], required: &["BackupArn", "TargetTableName"] },
    Operation { name: "RestoreTableToPointInTime", members: &["BillingModeOverride", "GlobalSecondaryIndexOverride", "LocalSecondaryIndexOverride", "OnDemandThroughputOverride", "ProvisionedThroughputOverride", "RestoreDateTime", "SSESpecificationOverride", "SourceTableArn", "SourceTableName", "TargetTableName", "UseLatestRestorableTime", "VectorIndexOverride"], required: &["TargetTableName"] },
    Operation { name: "Scan", members: &["AttributesToGet", "ConditionalOperator", "ConsistentRead", "ExclusiveStartKey", "ExpressionAttributeNames", "ExpressionAttributeValues", "FilterExpression", "IndexName", "Limit", "ProjectionExpression", "ReturnConsumedCapacity", "ScanFilter", "Segment", "Select", "TableName", "TotalSegments"], required: &["TableName"] },
    Operation { name: "SearchVectors", members: &["ExpressionAttributeNames", "ExpressionAttributeValues", "IndexName", "ProjectionExpression", "ReturnConsumedCapacity", "SearchConditionExpression", "SearchVector", "TableName", "TopK"], required: &["IndexName", "SearchVector", "TableName", "TopK"] },
    Operation { name: "StartBulkPutItems", members: &["ClientToken", "InputS3Configuration", "MaxWriteRequestUnits", "OutputS3Configuration", "PerformanceTier", "TableName"], required: &["InputS3Configuration", "OutputS3Configuration", "TableName"] },
    Operation { name: "TagResource", members: &["ResourceArn", "Tags"], required: &["ResourceArn", "Tags"] },
    Operation { name: "TransactGetItems", members: &["ReturnConsumedCapacity", "TransactItems"], required: &["TransactItems"] },
    Operation { name: "TransactWriteItems", members: &["ClientRequestToken", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "TransactItems"], required: &["TransactItems"] },
    Operation { name: "UntagResource", members: &["ResourceArn", "TagKeys"], required: &["ResourceArn", "TagKeys"] },
    Operation { name: "UpdateContinuousBackups", members: &["PointInTimeRecoverySpecification", "TableName"], required: &["PointInTimeRecoverySpecification", "TableName"] },
    Operation { name: "UpdateContributorInsights", members: &["ContributorInsightsAction", "ContributorInsightsMode", "IndexName", "TableName"], required: &["ContributorInsightsAction", "TableName"] },
    Operation { name: "UpdateGlobalTable", members: &["GlobalTableName", "ReplicaUpdates"], required: &["GlobalTableName", "ReplicaUpdates"] },
    Operation { name: "UpdateGlobalTableSettings", members: &["GlobalTableBillingMode", "GlobalTableGlobalSecondaryIndexSettingsUpdate", "GlobalTableName", "GlobalTableProvisionedWriteCapacityAutoScalingSettingsUpdate", "GlobalTableProvisionedWriteCapacityUnits", "ReplicaSettingsUpdate"], required: &["GlobalTableName"] },
    Operation { name: "UpdateItem", members: &["AttributeUpdates", "ConditionExpression", "ConditionalOperator", "Expected", "ExpressionAttributeNames", "ExpressionAttributeValues", "Key", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValues", "ReturnValuesOnConditionCheckFailure", "TableName", "UpdateExpression"], required: &["Key", "TableName"] },
    Operation { name: "UpdateKinesisStreamingDestination", members: &["StreamArn", "TableName", "UpdateKinesisStreamingConfiguration"], required: &["StreamArn", "TableName"] },
    Operation { name: "UpdateTable", members: &["AttributeDefinitions", "BillingMode", "DeletionProtectionEnabled", "DisassociationProtectionEnabled", "GlobalSecondaryIndexUpdates", "GlobalTableSettingsReplicationMode", "GlobalTableWitnessUpdates", "MultiRegionConsistency", "OnDemandThroughput", "ProvisionedThroughput", "ReplicaUpdates", "SSESpecification", "StreamSpecification", "TableClass", "TableName", "VectorIndexUpdates", "WarmThroughput"], required: &["TableName"] },
    Operation { name: "UpdateTableReplicaAutoScaling", members: &["GlobalSecondaryIndexUpdates", "ProvisionedWriteCapacityAutoScalingUpdate", "ReplicaUpdates", "TableName"], required: &["TableName"] },
    Operation { name: "UpdateTimeToLive", members: &["TableName", "TimeToLiveSpecification"], required: &["TableName", "TimeToLiveSpecification"] },
];

/// The model's entry for `name`, if DynamoDB has the operation.
pub fn operation(name: &str) -> Option<&'static Operation> {
    let i = OPERATIONS.binary_search_by(|op| op.name.cmp(name)).ok()?;
    Some(&OPERATIONS[i])
}
