import AWSCore
import Testing

@testable import CloudFormationService

@Suite struct IntrinsicTests {
    /// Resolves the single property `X` of resource `R` in a YAML template whose Resources section is `resources`.
    func resolveX(_ x: String, extra: String = "", parameters: [ParameterInput] = [], lookup: some ResourceLookup = madeResources)
        throws -> JSONValue?
    {
        let body = """
            Parameters:
              Env: {Type: String, Default: prod}
              Subnets: {Type: CommaDelimitedList, Default: "subnet-1, subnet-2 ,subnet-3"}
              Count: {Type: Number, Default: 2}
            Mappings:
              Regions:
                eu-west-1: {Ami: ami-123, Zones: [a, b]}
            Conditions:
              IsProd: !Equals [!Ref Env, prod]
            \(extra)
            Resources:
              Other: {Type: AWS::SNS::Topic}
              R:
                Type: AWS::SNS::Topic
                Properties:
                  X: \(x)
            """
        let evaluation = try evaluate(body, parameters)
        return try evaluation.resolveProperties(of: "R", lookup: lookup)["X"]
    }

    @Test func ref() throws {
        #expect(try resolveX("!Ref Env") == "prod")
        #expect(try resolveX("!Ref Count") == "2")
        #expect(try resolveX("!Ref Subnets") == ["subnet-1", "subnet-2", "subnet-3"])
        #expect(try resolveX("!Ref Other") == "Other-physical")
        #expect(try resolveX("!Ref AWS::AccountId") == "123456789012")
        #expect(try resolveX("!Ref AWS::Region") == "eu-west-1")
        #expect(try resolveX("!Ref AWS::StackName") == "demo")
        #expect(try resolveX("!Ref AWS::StackId") == .string(testContext.stackId))
        #expect(try resolveX("!Ref AWS::NotificationARNs") == ["arn:aws:sns:eu-west-1:123456789012:ops"])
        #expect(try resolveX("!Ref AWS::Partition") == "aws")
        #expect(try resolveX("!Ref AWS::URLSuffix") == "amazonaws.com")
        #expect(try resolveX("!Ref AWS::NoValue") == nil)
    }

    @Test func getAtt() throws {
        #expect(try resolveX("!GetAtt Other.TopicName") == "Other.TopicName-value")
        #expect(try resolveX("!GetAtt Other.Endpoint.Address") == "Other.Endpoint.Address-value")
        #expect(try resolveX("{\"Fn::GetAtt\": \"Other.Arn\"}") == "Other.Arn-value")
        #expect(try resolveX("{\"Fn::GetAtt\": [Other, !Ref Env]}") == "Other.prod-value")
        #expect(failure { try resolveX("!GetAtt Other.Missing") }?.message == "Template error: resource Other does not support attribute type Missing in Fn::GetAtt")
        #expect(failure { try resolveX("!GetAtt Nope.Arn") }?.message == "Template error: instance of Fn::GetAtt references undefined resource Nope")
        #expect(
            failure { try resolveX("!GetAtt Other") }?.message
                == "Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute")
        #expect(
            failure { try resolveX("{\"Fn::GetAtt\": [Other, Arn, Extra]}") }?.message
                == "Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute")
    }

    @Test func sub() throws {
        #expect(try resolveX("!Sub 'arn:${AWS::Partition}:s3:::${Env}-${Other}/${Other.Arn}'") == "arn:aws:s3:::prod-Other-physical/Other.Arn-value")
        #expect(try resolveX("!Sub ['${Name}-${AWS::Region}', {Name: !Ref Env}]") == "prod-eu-west-1")
        #expect(try resolveX("!Sub '${!Literal}-${ Env }'") == "${Literal}-prod")
        #expect(try resolveX("!Sub ['${Env}', {Env: override}]") == "override")
        #expect(try resolveX("!Sub 'no placeholders'") == "no placeholders")
        #expect(try resolveX("!Sub 'unterminated ${Env'") == "unterminated ${Env")
        #expect(
            failure { try resolveX("!Sub '${Nope}'") }?.message
                == "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template")
        #expect(
            failure { try resolveX("{\"Fn::Sub\": [a, b, c]}") }?.message
                == "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string"
        )
    }

    @Test func joinSplitSelect() throws {
        #expect(try resolveX("!Join ['-', [a, !Ref Env, 3, !Ref AWS::NoValue]]") == "a-prod-3")
        #expect(try resolveX("!Join [',', !Ref Subnets]") == "subnet-1,subnet-2,subnet-3")
        #expect(try resolveX("!Split ['|', 'a||b|']") == ["a", "", "b", ""])
        #expect(try resolveX("!Select [1, !Ref Subnets]") == "subnet-2")
        #expect(try resolveX("!Select ['2', !Split [',', 'x,y,z']]") == "z")
        #expect(failure { try resolveX("!Select [3, [a, b]]") }?.message == "Template error: Fn::Select cannot select nonexistent value at index 3")
        #expect(
            failure { try resolveX("!Join [',']") }?.message
                == "Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined."
        )
    }

    @Test func findInMap() throws {
        #expect(try resolveX("!FindInMap [Regions, !Ref AWS::Region, Ami]") == "ami-123")
        #expect(try resolveX("!FindInMap [Regions, eu-west-1, Zones]") == ["a", "b"])
        #expect(failure { try resolveX("!FindInMap [Regions, us-east-1, Ami]") }?.message == "Template error: Unable to get mapping for Regions::us-east-1::Ami")
        #expect(
            failure { try resolveX("!FindInMap [Regions, Ami]") }?.message
                == "Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value")
        #expect(
            failure { try resolveX("!FindInMap [Regions, us-east-1, Ami, {DefaultValue: x}]") }?.message
                == "Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value")
        #expect(try resolveX("!FindInMap [Regions, us-east-1, Ami, {DefaultValue: ami-default}]", extra: "Transform: AWS::LanguageExtensions") == "ami-default")
    }

    @Test func conditionsAndNoValue() throws {
        #expect(try resolveX("!If [IsProd, big, small]") == "big")
        #expect(try resolveX("!If [IsProd, big, small]", parameters: [ParameterInput(key: "Env", value: "dev")]) == "small")
        #expect(try resolveX("[a, !If [IsProd, !Ref AWS::NoValue, b], c]") == ["a", "c"])
        #expect(try resolveX("{Keep: 1, Drop: !If [IsProd, !Ref AWS::NoValue, x]}") == ["Keep": "1"])
        #expect(try resolveX("!Equals [!Ref Count, 2]") == "true")
        #expect(failure { try resolveX("!If [Nope, a, b]") }?.message == "Template error: unresolved condition dependency Nope in Fn::If")
    }

    @Test func base64GetAZsCidrImport() throws {
        #expect(try resolveX("!Base64 'hello world'") == "aGVsbG8gd29ybGQ=")
        #expect(try resolveX("!GetAZs ''") == ["eu-west-1a", "eu-west-1b", "eu-west-1c"])
        #expect(try resolveX("{\"Fn::GetAZs\": !Ref AWS::Region}") == ["eu-west-1a", "eu-west-1b", "eu-west-1c"])
        #expect(try resolveX("!GetAZs us-east-2") == ["us-east-2a", "us-east-2b", "us-east-2c"])
        #expect(try resolveX("!Cidr ['10.0.0.0/16', 3, 8]") == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"])
        #expect(try resolveX("!Cidr ['192.168.1.77/24', 2, 6]") == ["192.168.1.0/26", "192.168.1.64/26"])
        #expect(try resolveX("!Cidr ['2600:1f14:abc:de00::/56', 2, 64]") == ["2600:1f14:abc:de00::/64", "2600:1f14:abc:de01::/64"])
        #expect(try resolveX("!ImportValue shared-vpc") == "vpc-0abc")
        #expect(failure { try resolveX("!ImportValue missing-export") }?.message == "No export named missing-export found.")
        #expect(
            failure { try resolveX("{\"Fn::ImportValue\": !Sub '${Other}-x'}") }?.message
                == "Template error: the attribute in Fn::ImportValue must not depend on any resources, imported values, or Fn::GetAZs")
    }

    @Test func languageExtensions() throws {
        let extensions = "Transform: AWS::LanguageExtensions"
        #expect(try resolveX("{\"Fn::Length\": !Ref Subnets}", extra: extensions) == "3")
        #expect(try resolveX("{\"Fn::ToJsonString\": {b: [1, true], a: !Ref Env}}", extra: extensions) == #"{"a":"prod","b":["1","true"]}"#)
    }

    @Test func referenceToConditionFalseResource() throws {
        let safe = """
            Parameters:
              Env: {Type: String}
            Conditions:
              IsProd: !Equals [!Ref Env, prod]
            Resources:
              Alarm: {Type: AWS::SNS::Topic, Condition: IsProd}
              Safe:
                Type: AWS::SNS::Topic
                Properties:
                  X: !If [IsProd, !Ref Alarm, !Ref AWS::NoValue]

            """
        let body = safe + """
              Unsafe:
                Type: AWS::SNS::Topic
                Properties:
                  X: !Ref Alarm
            """
        #expect(
            failure { try evaluate(body, [ParameterInput(key: "Env", value: "dev")]) }?.message
                == "Template format error: Unresolved resource dependencies [Alarm] in the Resources block of the template")
        let prod = try evaluate(body, [ParameterInput(key: "Env", value: "prod")])
        #expect(prod.activeResources == ["Alarm", "Safe", "Unsafe"])
        #expect(prod.dependencies(of: "Safe") == ["Alarm"])
        let template = try Template.parse(safe)
        let dev = try TemplateEvaluation(
            template: template, parameters: try template.resolveParameters([ParameterInput(key: "Env", value: "dev")]), context: testContext)
        #expect(dev.conditions == ["IsProd": false])
        #expect(dev.activeResources == ["Safe"])
        #expect(dev.dependencies(of: "Safe") == [])
        #expect(try dev.resolveProperties(of: "Safe", lookup: madeResources) == [:])
    }
}
