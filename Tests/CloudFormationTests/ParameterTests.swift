import AWSCore
import OrderedCollections
import Testing

@testable import CloudFormationService

@Suite struct ParameterTests {
    let template: Template

    init() throws {
        template = try Template.parse(
            """
            {
              "Parameters": {
                "Env": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"},
                "Name": {"Type": "String", "AllowedPattern": "[a-z]+", "MinLength": 2, "MaxLength": 5},
                "Label": {"Type": "String", "AllowedPattern": "[A-Z]+", "ConstraintDescription": "must only contain uppercase letters", "Default": "OK"},
                "Size": {"Type": "Number", "MinValue": 1, "MaxValue": 10, "Default": "5"},
                "Ports": {"Type": "List<Number>", "Default": "80, 443"},
                "Zones": {"Type": "CommaDelimitedList", "Default": "a,b"},
                "Vpc": {"Type": "AWS::EC2::VPC::Id", "Default": "vpc-123"},
                "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>", "Default": "subnet-1,subnet-2"},
                "Ami": {"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", "Default": "/aws/ami"},
                "Secret": {"Type": "String", "NoEcho": "true", "Default": "hunter2"}
              },
              "Resources": {"T": {"Type": "AWS::SNS::Topic"}}
            }
            """)
    }

    func message(_ inputs: [ParameterInput], previous: [String: String] = [:]) -> String? {
        failure { try template.resolveParameters(inputs, previous: previous) }?.message
    }

    @Test func resolvesSuppliedDefaultAndPreviousValues() throws {
        let resolved = try template.resolveParameters(
            [ParameterInput(key: "Name", value: "abc"), ParameterInput(key: "Env", usePreviousValue: true),
             ParameterInput(key: "Size", usePreviousValue: true)],
            previous: ["Env": "prod"])
        #expect(resolved["Env"]?.value == "prod")
        #expect(resolved["Size"]?.value == "5")  // no previous value: falls back to the Default
        #expect(resolved["Name"]?.value == "abc")
        #expect(resolved["Ports"]?.refValue == ["80", "443"])
        #expect(resolved["Zones"]?.refValue == ["a", "b"])
        #expect(resolved["Vpc"]?.refValue == "vpc-123")
        #expect(resolved["Subnets"]?.refValue == ["subnet-1", "subnet-2"])
        #expect(resolved["Ami"]?.refValue == "/aws/ami")
        #expect(resolved["Secret"]?.noEcho == true)
        #expect(resolved["Secret"]?.displayedValue == "****")
        #expect(resolved["Env"]?.displayedValue == "prod")
        #expect(Array(resolved.values.keys) == ["Env", "Name", "Label", "Size", "Ports", "Zones", "Vpc", "Subnets", "Ami", "Secret"])
    }

    @Test func omittedParametersDoNotInheritPreviousValues() throws {
        let resolved = try template.resolveParameters([ParameterInput(key: "Name", value: "abc")], previous: ["Env": "prod"])
        #expect(resolved["Env"]?.value == "dev")
    }

    @Test func errorMessages() throws {
        #expect(message([]) == "Parameters: [Name] must have values")
        #expect(
            message([ParameterInput(key: "Nope", value: "x"), ParameterInput(key: "Other", value: "y")])
                == "Parameters: [Nope, Other] do not exist in the template")
        #expect(
            message([ParameterInput(key: "Name", value: "abc", usePreviousValue: true)])
                == "Invalid input for parameter key Name. Cannot specify usePreviousValue as true and non empty value for a parameter")
        let name = ParameterInput(key: "Name", value: "abc")
        #expect(message([name, ParameterInput(key: "Env", value: "test")]) == "Parameter 'Env' must be one of AllowedValues")
        #expect(message([ParameterInput(key: "Name", value: "ab1")]) == "Parameter 'Name' must match pattern [a-z]+")
        #expect(message([ParameterInput(key: "Name", value: "a")]) == "Parameter 'Name' must contain at least 2 characters")
        #expect(message([ParameterInput(key: "Name", value: "abcdef")]) == "Parameter 'Name' must contain at most 5 characters")
        #expect(message([name, ParameterInput(key: "Label", value: "lower")]) == "Malformed input-Parameter Label must only contain uppercase letters")
        #expect(message([name, ParameterInput(key: "Size", value: "big")]) == "Parameter 'Size' must be a number")
        #expect(message([name, ParameterInput(key: "Size", value: "0")]) == "Parameter 'Size' must be a number not less than 1")
        #expect(message([name, ParameterInput(key: "Size", value: "11")]) == "Parameter 'Size' must be a number not greater than 10")
        #expect(message([name, ParameterInput(key: "Ports", value: "80,http")]) == "Parameter 'Ports' must be a number")
        let noParameters = try Template.parse("Resources:\n  T: {Type: AWS::SNS::Topic}\n")
        #expect(
            failure { try noParameters.resolveParameters([ParameterInput(key: "X", value: "1")]) }?.message
                == "Parameter values specified for a template which does not require them.")
        #expect(try noParameters.resolveParameters([]) == .none)
    }

    @Test func missingListsEveryName() throws {
        let t = try Template.parse("Parameters:\n  A: {Type: String}\n  B: {Type: Number}\n  C: {Type: String, Default: x}\nResources:\n  T: {Type: AWS::SNS::Topic}\n")
        #expect(failure { try t.resolveParameters([]) }?.message == "Parameters: [A, B] must have values")
    }
}
