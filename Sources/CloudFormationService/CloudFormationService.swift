import Synchronization
package import AWSCore
import Audit
package import Gateway
package import Logging
package import Storage

/// AWS CloudFormation (Query protocol, signing name `cloudformation`, API version 2010-05-15): stacks whose
/// resources are made through Cairn's own services, by in-process calls as the stack's caller marked
/// `invokedBy: cloudformation.amazonaws.com`, so their CloudTrail events are the ones AWS writes.
///
/// A stack operation stores its plan before it acts; the ``worker`` carries plans out after the answer and takes
/// unfinished ones up again after a restart. Templates are read by the template engine (`Template`,
/// `TemplateEvaluation`); resource types are declarations (``ResourceTypes``).
///
/// In CloudTrail every operation is a management event; parameter values are never written, only their keys
/// (B10.1).
package struct CloudFormationService: AWSService {
    package let model = ServiceModel.cloudFormation
    package let eventSource = "cloudformation.amazonaws.com"
    package let operations: [String: AWSOperation]
    /// The background service that carries out stack plans; the composition root adds it to the application.
    package let worker: StackWorker

    /// Loads the stacks; `client` is how resources are made (the composition root's in-process client).
    package init(state: any StateStore, client: ServiceClient, runtime: Runtime, logger: Logger) async throws {
        let store = try await StackStore(state: state)
        let worker = StackWorker()
        let core = CloudFormationCore(store: store, client: client, runtime: runtime, logger: logger, submit: { worker.submit($0) })
        worker.core.withLock { $0 = core }
        self.worker = worker
        self.operations = Self.declarations(core)
    }

    /// The stack a call is about, for Event history: `AWS::CloudFormation::Stack` named by its id when the
    /// answer gives it, else by the name the call gave.
    private static func stackResource(_ facts: AuditSpec.Facts) -> [LookupResource] {
        if let id = facts.output?["StackId"]?.string { return [LookupResource(type: "AWS::CloudFormation::Stack", name: id)] }
        if let name = facts.input["StackName"]?.string { return [LookupResource(type: "AWS::CloudFormation::Stack", name: name)] }
        return []
    }

    /// The operations Cairn hosts, with their audit declarations; the model's other operations answer
    /// `InvalidAction` and are still recorded.
    private static func declarations(_ core: CloudFormationCore) -> [String: AWSOperation] {
        // Only parameter keys are logged, never their values (B10.1).
        let hiddenParameters: Set<String> = ["Parameters.ParameterValue", "Parameters.UsePreviousValue"]
        func read(_ run: @escaping @Sendable (OperationCall) async throws -> JSONValue) -> AWSOperation {
            AWSOperation(audit: AuditSpec(readOnly: true, lookupResources: stackResource), run: run)
        }
        func write(_ run: @escaping @Sendable (OperationCall) async throws -> JSONValue) -> AWSOperation {
            AWSOperation(audit: AuditSpec(readOnly: false, omitRequest: hiddenParameters, lookupResources: stackResource), run: run)
        }
        var ops: [String: AWSOperation] = [
            "CreateStack": write(core.createStack),
            "UpdateStack": write(core.updateStack),
            "CreateChangeSet": write(core.createChangeSet),
            "ExecuteChangeSet": write(core.executeChangeSet),
            "DeleteChangeSet": write(core.deleteChangeSet),
            "DescribeChangeSet": read(core.describeChangeSet),
            "ListChangeSets": read(core.listChangeSets),
            "GetTemplateSummary": read(core.getTemplateSummary),
            "DeleteStack": write(core.deleteStack),
            "UpdateTerminationProtection": write(core.updateTerminationProtection),
            "DescribeStacks": read(core.describeStacks),
            "ListStacks": read(core.listStacks),
            "DescribeStackEvents": read(core.describeStackEvents),
            "DescribeStackResource": read(core.describeStackResource),
            "DescribeStackResources": read(core.describeStackResources),
            "ListStackResources": read(core.listStackResources),
            "GetTemplate": read(core.getTemplate),
            "ValidateTemplate": read(core.validateTemplate),
            "ListExports": read(core.listExports),
            "ListImports": read(core.listImports),
            "SetStackPolicy": write(core.setStackPolicy),
            "CancelUpdateStack": write(core.cancelUpdateStack),
            "GetStackPolicy": read(core.getStackPolicy),
        ]
        for name in ServiceModel.cloudFormation.operations.keys where ops[name] == nil {
            let readOnly = ["Describe", "List", "Get", "Validate", "Estimate", "Detect"].contains { name.hasPrefix($0) }
            ops[name] = AWSOperation(audit: AuditSpec(readOnly: readOnly)) { _ in
                throw AWSError("InvalidAction", "Cairn does not support the operation \(name).")
            }
        }
        return ops
    }
}
