import AWSCore
import OrderedCollections
import Testing

@testable import CloudFormationService

@Suite struct ParsingTests {
    @Test func jsonTemplateKeepsOrderAndAttributes() throws {
        let template = try Template.parse(
            """
            {
              "AWSTemplateFormatVersion": "2010-09-09",
              "Description": "Queue and topic",
              "Parameters": {
                "Zeta": {"Type": "String", "Default": "z"},
                "Alpha": {"Type": "Number", "Default": 3, "NoEcho": true, "MinValue": 1}
              },
              "Resources": {
                "Topic": {"Type": "AWS::SNS::Topic", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Snapshot",
                          "Metadata": {"Note": {"Ref": "Zeta"}}, "CreationPolicy": {"ResourceSignal": {"Count": 1}}},
                "Bucket": {"Type": "AWS::S3::Bucket", "DependsOn": "Topic", "Condition": "Always",
                           "Properties": {"BucketName": "b", "Port": 80.50, "Enabled": true}}
              },
              "Conditions": {"Always": {"Fn::Equals": ["a", "a"]}},
              "Outputs": {
                "TopicArn": {"Value": {"Ref": "Topic"}, "Description": "arn", "Export": {"Name": "demo-topic"}, "Condition": "Always"}
              }
            }
            """)
        #expect(template.formatVersion == "2010-09-09")
        #expect(template.description == "Queue and topic")
        #expect(Array(template.parameters.keys) == ["Zeta", "Alpha"])
        #expect(template.parameters["Alpha"]?.defaultValue == "3")
        #expect(template.parameters["Alpha"]?.noEcho == true)
        #expect(template.parameters["Alpha"]?.minValue == "1")
        #expect(Array(template.resources.keys) == ["Topic", "Bucket"])
        let topic = try #require(template.resources["Topic"])
        #expect(topic.deletionPolicy == "Retain")
        #expect(topic.updateReplacePolicy == "Snapshot")
        #expect(topic.metadata == .object(["Note": .ref("Zeta")]))
        #expect(topic.creationPolicy == .object(["ResourceSignal": .object(["Count": .number("1")])]))
        let bucket = try #require(template.resources["Bucket"])
        #expect(bucket.dependsOn == ["Topic"])
        #expect(bucket.condition == "Always")
        #expect(bucket.properties == .object(["BucketName": .string("b"), "Port": .number("80.50"), "Enabled": .boolean(true, text: "true")]))
        let output = try #require(template.outputs["TopicArn"])
        #expect(output.value == .ref("Topic"))
        #expect(output.exportName == .string("demo-topic"))
        #expect(output.description == "arn")
        #expect(output.condition == "Always")
    }

    @Test func jsonSyntaxErrorsReportLineAndColumn() {
        #expect(failure { try Template.parse("{bad") }?.message == "Template format error: JSON not well-formed. (line 1, column 2)")
        #expect(
            failure { try Template.parse("{\n  \"Resources\": {\n    \"A\": {\"Type\": \"AWS::SNS::Topic\",}\n  }\n}") }?.message
                == "Template format error: JSON not well-formed. (line 3, column 37)")
        #expect(
            failure { try Template.parse("{\"Resources\": {}, \"Resources\": {}}") }?.message
                == "Template format error: JSON not well-formed. (line 1, column 19)")
    }

    @Test func yamlSyntaxErrorsReportLineAndColumn() {
        let message = failure { try Template.parse("Resources:\n  Topic:\n    Type: [unclosed\n") }?.message
        #expect(message?.hasPrefix("Template format error: YAML not well-formed. (line ") == true)
        #expect(failure { try Template.parse("Resources:\n  A: !Foo x\n") }?.message
            == "Template format error: YAML not well-formed. (line 2, column 6)")
    }

    @Test func yamlShortForms() throws {
        let template = try Template.parse(
            """
            Parameters:
              Env: {Type: String, Default: prod}
            Conditions:
              IsProd: !Equals [!Ref Env, prod]
              NotProd: !Not [!Condition IsProd]
              Both: !And [!Condition IsProd, !Or [!Condition NotProd, !Equals [a, a]]]
            Resources:
              Db:
                Type: AWS::RDS::DBInstance
              Topic:
                Type: AWS::SNS::Topic
                Properties:
                  A: !GetAtt Db.Endpoint.Address
                  B: !GetAtt [Db, Endpoint.Port]
                  C: !Sub "${AWS::Region}-x"
                  D: !Sub ["${X}", {X: !Ref Env}]
                  E: !Join [",", [a, b]]
                  F: !Select [0, !GetAZs ""]
                  G: !Split [",", "a,b"]
                  H: !FindInMap [M, !Ref Env, k]
                  I: !If [IsProd, !Base64 abc, !Ref AWS::NoValue]
                  J: !Cidr ["10.0.0.0/16", 2, 8]
                  K: !ImportValue shared-vpc
                  L: !GetAZs eu-west-1
            Mappings:
              M: {prod: {k: v}}
            """)
        #expect(template.conditions["IsProd"] == .equals(.ref("Env"), .string("prod")))
        #expect(template.conditions["NotProd"] == .not(.condition("IsProd")))
        #expect(template.conditions["Both"] == .and([.condition("IsProd"), .or([.condition("NotProd"), .equals(.string("a"), .string("a"))])]))
        guard case .object(let p) = template.resources["Topic"]?.properties else {
            Issue.record("properties not an object")
            return
        }
        #expect(p["A"] == .getAtt(resource: "Db", attribute: .string("Endpoint.Address")))
        #expect(p["B"] == .getAtt(resource: "Db", attribute: .string("Endpoint.Port")))
        #expect(p["C"] == .sub([.variable("AWS::Region"), .literal("-x")], variables: [:]))
        #expect(p["D"] == .sub([.variable("X")], variables: ["X": .ref("Env")]))
        #expect(p["E"] == .join(delimiter: ",", values: .list([.string("a"), .string("b")])))
        #expect(p["F"] == .select(index: .number("0"), list: .getAZs(.string(""))))
        #expect(p["G"] == .split(delimiter: ",", source: .string("a,b")))
        #expect(p["H"] == .findInMap(map: .string("M"), topKey: .ref("Env"), secondKey: .string("k"), defaultValue: nil))
        #expect(p["I"] == .if(condition: "IsProd", then: .base64(.string("abc")), else: .ref("AWS::NoValue")))
        #expect(p["J"] == .cidr(ipBlock: .string("10.0.0.0/16"), count: .number("2"), cidrBits: .number("8")))
        #expect(p["K"] == .importValue(.string("shared-vpc")))
        #expect(p["L"] == .getAZs(.string("eu-west-1")))
    }

    @Test func shortFormDirectlyInsideShortFormIsAnError() {
        let message = failure {
            try Template.parse("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: !Base64 !Sub abc\n")
        }?.message
        #expect(message?.hasPrefix("Template format error: YAML not well-formed.") == true)
    }

    @Test func yamlScalarsKeepTheirText() throws {
        let template = try Template.parse(
            """
            AWSTemplateFormatVersion: 2010-09-09
            Resources:
              Q:
                Type: AWS::SQS::Queue
                Properties:
                  Delay: 0010
                  Fifo: yes
                  Off: Off
                  Quoted: "yes"
                  Hex: 0x1F
                  Float: 1.50
                  Empty:
                  Script: |
                    line one
                    line two
                  Folded: >
                    a
                    b
            """)
        #expect(template.formatVersion == "2010-09-09")
        let evaluation = try TemplateEvaluation(template: template, parameters: .none, context: testContext)
        let properties = try evaluation.resolveProperties(of: "Q", lookup: NoResourceLookup())
        #expect(
            properties
                == [
                    "Delay": "0010", "Fifo": "yes", "Off": "Off", "Quoted": "yes", "Hex": "0x1F", "Float": "1.50",
                    "Empty": .null, "Script": "line one\nline two\n", "Folded": "a b",
                ])
        #expect(YAMLTemplateReader.plain("yes") == .boolean(true, text: "yes"))
        #expect(YAMLTemplateReader.plain("1_000") == .number("1_000"))
        #expect(YAMLTemplateReader.plain("2010-09-09") == .string("2010-09-09"))
        #expect(YAMLTemplateReader.plain("~") == .null)
    }

    @Test func anatomyErrors() {
        #expect(failure { try Template.parse("{}") }?.message == "Template format error: At least one Resources member must be defined.")
        #expect(failure { try Template.parse("Resources: {}\n") }?.message == "Template format error: At least one Resources member must be defined.")
        #expect(
            failure { try Template.parse("Resource:\n  A: {Type: AWS::SNS::Topic}\nResources:\n  B: {Type: AWS::SNS::Topic}\n") }?.message
                == "Template format error: Invalid template property or properties [Resource]")
        #expect(
            failure { try Template.parse("Resources:\n  my-topic: {Type: AWS::SNS::Topic}\n") }?.message
                == "Template format error: Resource name my-topic is non alphanumeric.")
        #expect(
            failure { try Template.parse("Resources:\n  A: {Properties: {}}\n") }?.message
                == "Template format error: Every Resources object must contain a Type member.")
        #expect(
            failure { try Template.parse("Parameters:\n  P: {Type: String, AllowedValues: a}\nResources:\n  A: {Type: AWS::SNS::Topic}\n") }?
                .message == "Template format error: Every AllowedValues member must be a list.")
        #expect(
            failure { try Template.parse("Parameters:\n  P: {Type: Strin}\nResources:\n  A: {Type: AWS::SNS::Topic}\n") }?.message
                == "Template format error: Unrecognized parameter type: Strin")
        #expect(
            failure { try Template.parse("Parameters:\n  P: {Default: x}\nResources:\n  A: {Type: AWS::SNS::Topic}\n") }?.message
                == "Template format error: Every Parameters object must contain a Type member.")
        #expect(failure { try Template.parse("just text") }?.message == "Template format error: unsupported structure.")
    }

    @Test func bodyLimit() throws {
        let padding = String(repeating: " ", count: 51_200)
        let body = "Resources:\n  A: {Type: AWS::SNS::Topic}\n" + padding
        #expect(
            failure { try Template.parse(body) }?.message
                == "1 validation error detected: Value '\(body)' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200"
        )
        let fits = "Resources:\n  A: {Type: AWS::SNS::Topic}\n"
        _ = try Template.parse(fits + String(repeating: " ", count: 51_200 - fits.utf8.count))
    }

    @Test func unknownIntrinsicFunction() {
        #expect(
            failure { try Template.parse(#"{"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Fn::Foo": 1}}}}}"#) }?
                .message.hasPrefix("Template format error: Encountered unsupported function: Fn::Foo Supported functions are: [Fn::Base64,") == true)
        #expect(
            failure { try Template.parse(#"{"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Fn::Length": [1]}}}}}"#) }?
                .message == "Template error: Fn::Length requires the AWS::LanguageExtensions transform")
    }

    @Test func resourceTypes() throws {
        #expect(
            failure {
                try Template.parse(
                    "Resources:\n  A: {Type: AWS::S3::Buckets}\n  B: {Type: AWS::SNS::Topic}\n  C: {Type: My::Own::Thing}\n  D: {Type: AWS::S3::Buckets}\n")
            }?.message == "Template format error: Unrecognized resource types: [AWS::S3::Buckets, My::Own::Thing]")
        // Real types Cairn does not host pass validation.
        _ = try Template.parse("Resources:\n  F: {Type: AWS::Lambda::Function}\n  T: {Type: AWS::DynamoDB::Table}\n  W: {Type: AWS::CloudFormation::WaitConditionHandle}\n")
        _ = try Template.parse("Resources:\n  C: {Type: Custom::MyThing}\n  S: {Type: AWS::CloudFormation::Stack}\n")
        #expect(
            failure { try Template.parse("Resources:\n  M: {Type: AWS::CloudFormation::Foo}\n") }?.message
                == "Template format error: Unrecognized resource types: [AWS::CloudFormation::Foo]")
        #expect(
            failure { try Template.parse("Resources:\n  F: {Type: AWS::Serverless::Function}\n") }?.message
                == "Template format error: Unrecognized resource types: [AWS::Serverless::Function]")
        _ = try Template.parse("Transform: AWS::Serverless-2016-10-31\nResources:\n  F: {Type: AWS::Serverless::Function}\n")
        #expect(ResourceTypeCatalog.all.count == 1_600)
        #expect(ResourceTypeCatalog.all.contains("AWS::Config::ConfigurationRecorder"))
    }
}
