import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The objects of the AWS-owned buckets `awscloudtrail-policy-<region>`, which `aws cloudtrail create-subscription`
/// reads its bucket and topic policy templates from.
///
/// The placeholders (`<BucketName>`, `<Prefix>`, `<CustomerAccountID>`, `<Region>`, `<SNSTopicOwnerAccountId>`,
/// `<SNSTopicName>`) are the ones the aws CLI replaces; the statements are the ones CloudTrail's documentation gives
/// for a trail's bucket and topic.
enum PolicyTemplates {
    static let bucketPrefix = "awscloudtrail-policy-"

    static let objects: [String: String] = [
        "policy/S3/AWSCloudTrail-S3BucketPolicy-2014-12-17.json": """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "AWSCloudTrailAclCheck20131101",
              "Effect": "Allow",
              "Principal": {"Service": "cloudtrail.amazonaws.com"},
              "Action": "s3:GetBucketAcl",
              "Resource": "arn:aws:s3:::<BucketName>"
            },
            {
              "Sid": "AWSCloudTrailWrite20131101",
              "Effect": "Allow",
              "Principal": {"Service": "cloudtrail.amazonaws.com"},
              "Action": "s3:PutObject",
              "Resource": "arn:aws:s3:::<BucketName>/<Prefix>/AWSLogs/<CustomerAccountID>/*",
              "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}
            }
          ]
        }

        """,
        "policy/SNS/AWSCloudTrail-SnsTopicPolicy-2014-12-17.json": """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "AWSCloudTrailSNSPolicy20131101",
              "Effect": "Allow",
              "Principal": {"Service": "cloudtrail.amazonaws.com"},
              "Action": "SNS:Publish",
              "Resource": "arn:aws:sns:<Region>:<SNSTopicOwnerAccountId>:<SNSTopicName>"
            }
          ]
        }

        """,
    ]

    /// The template object a GET names, when the bucket is one of the template buckets.
    static func object(bucket: String, key: String) -> String? {
        guard bucket.hasPrefix(bucketPrefix) else { return nil }
        return objects[key]
    }
}
