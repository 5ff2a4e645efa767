import AWSCore
import Testing

@testable import CloudFormationService

@Suite struct DependencyTests {
    @Test func implicitAndExplicitDependencies() throws {
        let evaluation = try evaluate(
            """
            Resources:
              Subscription:
                Type: AWS::SNS::Subscription
                Properties:
                  TopicArn: !Ref Topic
                  Endpoint: !GetAtt Queue.Arn
                  Protocol: sqs
              Queue: {Type: AWS::SQS::Queue}
              Topic:
                Type: AWS::SNS::Topic
                Metadata:
                  Doc: !Sub "${Bucket.Arn}"
              Bucket: {Type: AWS::S3::Bucket}
              Policy:
                Type: AWS::SNS::TopicPolicy
                DependsOn: [Subscription]
                Properties:
                  Topics: [!Sub "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:x"]
            """)
        #expect(evaluation.dependencies(of: "Subscription") == ["Queue", "Topic"])
        #expect(evaluation.dependencies(of: "Topic") == ["Bucket"])
        #expect(evaluation.dependencies(of: "Policy") == ["Subscription"])
        #expect(evaluation.dependents(of: "Queue") == ["Subscription"])
        #expect(evaluation.creationOrder == ["Queue", "Bucket", "Topic", "Subscription", "Policy"])
        #expect(evaluation.creationWaves == [["Queue", "Bucket"], ["Topic"], ["Subscription"], ["Policy"]])
        #expect(evaluation.deletionOrder == ["Policy", "Subscription", "Topic", "Bucket", "Queue"])
    }

    @Test func configRecorderAndChannelHaveNoForcedOrder() throws {
        let evaluation = try evaluate(
            """
            Resources:
              Channel:
                Type: AWS::Config::DeliveryChannel
                Properties: {S3BucketName: !Ref Bucket}
              Recorder: {Type: AWS::Config::ConfigurationRecorder}
              Bucket: {Type: AWS::S3::Bucket}
            """)
        #expect(evaluation.creationOrder == ["Recorder", "Bucket", "Channel"])
    }

    @Test func cycleListsTheResourcesThatCannotBeOrdered() {
        let body = """
            Resources:
              A:
                Type: AWS::SNS::Topic
                Properties: {DisplayName: !GetAtt B.TopicName}
              B:
                Type: AWS::SNS::Topic
                DependsOn: C
              C:
                Type: AWS::SNS::Topic
                Properties: {DisplayName: !Sub "${A}"}
              D: {Type: AWS::SNS::Topic}
            """
        #expect(failure { try Template.parse(body) }?.message == "Template format error: Circular dependency between resources: [A, B, C]")
        #expect(
            failure { try Template.parse("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {X: !Ref A}\n") }?.message
                == "Template format error: Circular dependency between resources: [A]")
    }

    @Test func unresolvedDependencies() {
        #expect(
            failure { try Template.parse("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    DependsOn: [Ghost]\n    Properties: {X: !Ref Phantom}\n") }?
                .message == "Template format error: Unresolved resource dependencies [Ghost, Phantom] in the Resources block of the template")
        #expect(
            failure { try Template.parse("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties: {X: !Ref AWS::Nope}\n") }?.message
                == "Template format error: Unresolved resource dependencies [AWS::Nope] in the Resources block of the template")
        #expect(
            failure { try Template.parse("Resources:\n  A: {Type: AWS::SNS::Topic, Condition: Ghost}\n") }?.message
                == "Template format error: Unresolved condition dependencies [Ghost] in the Resources block of the template")
        #expect(
            failure { try Template.parse("Conditions:\n  C: !Equals [!Ref A, x]\nResources:\n  A: {Type: AWS::SNS::Topic}\n") }?.message
                == "Template format error: Unresolved dependencies [A]. Cannot reference resources in the Conditions block of the template")
        #expect(
            failure { try Template.parse("Resources:\n  A: {Type: AWS::SNS::Topic}\nOutputs:\n  O: {Value: !Ref Nope}\n") }?.message
                == "Template format error: Unresolved resource dependencies [Nope] in the Outputs block of the template")
    }

    @Test func dependsOnAConditionFalseResource() {
        let body = """
            Parameters:
              Env: {Type: String, Default: dev}
            Conditions:
              IsProd: !Equals [!Ref Env, prod]
            Resources:
              A: {Type: AWS::SNS::Topic, Condition: IsProd}
              B: {Type: AWS::SNS::Topic, DependsOn: A}
            """
        #expect(
            failure { try evaluate(body) }?.message
                == "Template format error: Unresolved resource dependencies [A] in the Resources block of the template")
    }

    @Test func conditionsReferringToConditions() throws {
        let evaluation = try evaluate(
            """
            Parameters:
              Env: {Type: String, Default: prod}
              Region: {Type: String, Default: eu-west-1}
            Mappings:
              Flags: {prod: {Audit: "true"}}
            Conditions:
              Audited: !And [!Condition IsProd, !Equals [!FindInMap [Flags, !Ref Env, Audit], "true"]]
              IsProd: !Equals [!Ref Env, prod]
              InEurope: !Or [!Equals [!Ref Region, eu-west-1], !Equals [!Ref Region, eu-central-1]]
              NotEurope: !Not [!Condition InEurope]
            Resources:
              A: {Type: AWS::SNS::Topic, Condition: NotEurope}
              B: {Type: AWS::SNS::Topic, Condition: Audited}
            """)
        #expect(evaluation.conditions == ["Audited": true, "IsProd": true, "InEurope": true, "NotEurope": false])
        #expect(evaluation.activeResources == ["B"])
        #expect(evaluation.isActive("A") == false)
        #expect(
            failure { try Template.parse("Conditions:\n  X: !Condition Y\n  Y: !Not [!Condition X]\nResources:\n  A: {Type: AWS::SNS::Topic}\n") }?
                .message == "Template format error: Circular dependency between conditions: [X, Y]")
    }
}
