import AWSCore
import CloudFormationService

/// The stack facts the tests evaluate with.
let testContext = StackContext(
    accountId: "123456789012", region: "eu-west-1", stackName: "demo",
    stackId: "arn:aws:cloudformation:eu-west-1:123456789012:stack/demo/8c1c5e40-1f7b-11ef-9c3a-0a1b2c3d4e5f",
    notificationARNs: ["arn:aws:sns:eu-west-1:123456789012:ops"])

/// Parses, resolves parameters and evaluates in one step.
func evaluate(_ body: String, _ inputs: [ParameterInput] = []) throws -> TemplateEvaluation {
    let template = try Template.parse(body)
    let parameters = try template.resolveParameters(inputs)
    return try TemplateEvaluation(template: template, parameters: parameters, context: testContext)
}

/// A lookup where every resource's Ref is `<id>-physical` and attribute `A` of `R` is `R.A-value`.
var madeResources: ClosureResourceLookup {
    ClosureResourceLookup(
    ref: { .string("\($0)-physical") },
    attribute: { id, name in name == "Missing" ? nil : .string("\(id).\(name)-value") },
    importValue: { $0 == "shared-vpc" || $0 == "prod-net" ? "vpc-0abc" : nil })
}

/// The error a throwing call produced, for exact message checks.
func failure(_ body: () throws -> some Any) -> TemplateError? {
    do {
        _ = try body()
        return nil
    } catch let error as TemplateError {
        return error
    } catch {
        return TemplateError("unexpected \(error)")
    }
}
