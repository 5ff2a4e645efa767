import AWSCore
import Testing

@testable import CloudFormationService

@Suite struct OutputTests {
    let body = """
        Parameters:
          Env: {Type: String, Default: prod}
        Conditions:
          IsProd: !Equals [!Ref Env, prod]
        Resources:
          Topic: {Type: AWS::SNS::Topic}
          Queue:
            Type: AWS::SQS::Queue
            Properties:
              Tags: [{Key: vpc, Value: !ImportValue shared-vpc}, {Key: net, Value: !ImportValue {"Fn::Sub": "${Env}-net"}}]
        Outputs:
          TopicArn:
            Description: The topic
            Value: !Ref Topic
            Export: {Name: !Sub "${AWS::StackName}-TopicArn"}
          QueueUrl:
            Value: !GetAtt Queue.QueueUrl
            Condition: IsProd
          Zones:
            Value: !Join [",", !GetAZs ""]
        """

    @Test func resolvedOutputsAndExports() throws {
        let evaluation = try evaluate(body)
        #expect(
            try evaluation.resolveOutputs(lookup: madeResources) == [
                ResolvedOutput(key: "TopicArn", value: "Topic-physical", description: "The topic", exportName: "demo-TopicArn"),
                ResolvedOutput(key: "QueueUrl", value: "Queue.QueueUrl-value", description: nil, exportName: nil),
                ResolvedOutput(key: "Zones", value: "eu-west-1a,eu-west-1b,eu-west-1c", description: nil, exportName: nil),
            ])
        #expect(try evaluation.exportNames() == ["demo-TopicArn"])
        #expect(try evaluation.importedExportNames() == ["shared-vpc", "prod-net"])
        let dev = try evaluate(body, [ParameterInput(key: "Env", value: "dev")])
        #expect(try dev.resolveOutputs(lookup: madeResources).map(\.key) == ["TopicArn", "Zones"])
    }

    @Test func exportNameErrors() {
        let dependent = "Resources:\n  T: {Type: AWS::SNS::Topic}\nOutputs:\n  Out:\n    Value: x\n    Export: {Name: !Sub \"${T}-name\"}\n"
        #expect(
            failure { try Template.parse(dependent) }?.message
                == "Template format error: Output Out is malformed. The Name field of Export must not depend on any resources, imported values, or Fn::GetAZs."
        )
        let viaAZs = "Resources:\n  T: {Type: AWS::SNS::Topic}\nOutputs:\n  Out:\n    Value: x\n    Export: {Name: !Select [0, !GetAZs '']}\n"
        #expect(failure { try Template.parse(viaAZs) }?.message.hasPrefix("Template format error: Output Out is malformed. The Name field of Export must not depend") == true)
        let invalid = "Resources:\n  T: {Type: AWS::SNS::Topic}\nOutputs:\n  Out:\n    Value: x\n    Export: {Name: 'has space'}\n"
        #expect(
            failure { try Template.parse(invalid) }?.message
                == "Template format error: Output Out is malformed. The Name field of every Export member must be specified and consist only of alphanumeric characters, colons, or hyphens."
        )
        let computed = "Parameters:\n  P: {Type: String, Default: 'a b'}\nResources:\n  T: {Type: AWS::SNS::Topic}\nOutputs:\n  Out:\n    Value: x\n    Export: {Name: !Ref P}\n"
        #expect(failure { try evaluate(computed).exportNames() }?.message.hasSuffix("consist only of alphanumeric characters, colons, or hyphens.") == true)
    }
}

@Suite struct RuleTests {
    let body = """
        Parameters:
          Env: {Type: String, Default: test}
          Size: {Type: String, Default: t3.micro}
          Zones: {Type: CommaDelimitedList, Default: "a,b"}
        Rules:
          TestSizes:
            RuleCondition: !Equals [!Ref Env, test]
            Assertions:
              - Assert: {"Fn::Contains": [[t3.micro, t3.small], !Ref Size]}
                AssertDescription: For a test environment, the instance type must be t3.micro or t3.small
          ZonesKnown:
            Assertions:
              - Assert: {"Fn::EachMemberIn": [!Ref Zones, [a, b, c]]}
                AssertDescription: Zones must be a, b or c
              - Assert: !Not [{"Fn::EachMemberEquals": [!Ref Zones, z]}]
          RegionOnly:
            Assertions:
              - Assert: !Equals [!Ref AWS::Region, eu-west-1]
        Resources:
          T: {Type: AWS::SNS::Topic}
        """

    func check(_ inputs: [ParameterInput], region: String = "eu-west-1") throws {
        let template = try Template.parse(body)
        var context = testContext
        context.region = region
        try template.checkRules(parameters: try template.resolveParameters(inputs), context: context)
    }

    @Test func assertions() throws {
        try check([])
        try check([ParameterInput(key: "Env", value: "prod"), ParameterInput(key: "Size", value: "m5.large")])
        #expect(
            failure { try check([ParameterInput(key: "Size", value: "m5.large")]) }?.message
                == "For a test environment, the instance type must be t3.micro or t3.small")
        #expect(failure { try check([ParameterInput(key: "Zones", value: "a,d")]) }?.message == "Zones must be a, b or c")
        #expect(failure { try check([], region: "us-east-1") }?.message == "Template error: Assertion failed for rule RegionOnly")
    }

    @Test func ruleFunctionsOutsideRulesAreRejected() {
        #expect(
            failure {
                try Template.parse(#"{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Fn::Contains": [["a"], "a"]}}}}}"#)
            }?.message.hasPrefix("Template format error: Encountered unsupported function: Fn::Contains") == true)
    }
}

@Suite struct SummaryTests {
    @Test func validateTemplateFacts() throws {
        let template = try Template.parse(
            """
            AWSTemplateFormatVersion: "2010-09-09"
            Description: Roles
            Metadata:
              Owner: team-a
              Order: [2, 1]
            Parameters:
              Pass: {Type: String, NoEcho: true, Description: secret}
            Resources:
              Role: {Type: AWS::IAM::Role, Properties: {AssumeRolePolicyDocument: {}}}
              Profile: {Type: AWS::IAM::InstanceProfile, Properties: {Roles: [!Ref Role]}}
              Topic: {Type: AWS::SNS::Topic}
              Other: {Type: AWS::IAM::Role}
            """)
        let summary = template.summary
        #expect(summary.description == "Roles")
        #expect(summary.version == "2010-09-09")
        #expect(summary.metadata == #"{"Owner":"team-a","Order":[2,1]}"#)
        #expect(summary.parameters.map(\.name) == ["Pass"])
        #expect(summary.parameters.first?.noEcho == true)
        #expect(summary.resourceTypes == ["AWS::IAM::Role", "AWS::IAM::InstanceProfile", "AWS::SNS::Topic"])
        #expect(summary.capabilities == ["CAPABILITY_IAM"])
        #expect(summary.capabilitiesReason == "The following resource(s) require capabilities: [AWS::IAM::InstanceProfile, AWS::IAM::Role]")
        #expect(summary.declaredTransforms == [])
        #expect(failure { try template.checkCapabilities([]) } == TemplateError("Requires capabilities : [CAPABILITY_IAM]", code: "InsufficientCapabilitiesException"))
        try template.checkCapabilities(["CAPABILITY_NAMED_IAM"])
    }

    @Test func namedIAMAndTransforms() throws {
        let named = try Template.parse("Resources:\n  R: {Type: AWS::IAM::Role, Properties: {RoleName: fixed}}\n")
        #expect(named.requiredCapabilities.capabilities == ["CAPABILITY_NAMED_IAM"])
        #expect(failure { try named.checkCapabilities(["CAPABILITY_IAM"]) }?.message == "Requires capabilities : [CAPABILITY_NAMED_IAM]")
        let sam = try Template.parse("Transform: AWS::Serverless-2016-10-31\nResources:\n  F: {Type: AWS::Serverless::Function}\n")
        #expect(sam.summary.declaredTransforms == ["AWS::Serverless-2016-10-31"])
        #expect(sam.requiredCapabilities.capabilities == ["CAPABILITY_AUTO_EXPAND"])
        let none = try Template.parse("Resources:\n  T: {Type: AWS::SNS::Topic}\n")
        #expect(none.requiredCapabilities.capabilities == [])
        #expect(none.summary.capabilitiesReason == nil)
        #expect(TemplateError.noResources.awsError == AWSError("ValidationError", "Template format error: At least one Resources member must be defined."))
    }
}
