import OrderedCollections
import Storage
import Logging
package import AWSCore

/// One stack as CloudFormation keeps it: what it was made from, where its lifecycle is, the resources it made,
/// and the operation in progress (its durable plan).
///
/// A stack is stored under its id (the stack ARN) in the `cloudformation.stacks` namespace; its events are kept
/// apart (``StackEvent``), since they only grow.
package struct Stack: Codable, Sendable, Equatable {
    /// The stack ARN: `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`.
    package var id: String
    package var name: String
    package var account: String
    package var region: String
    /// The `StackStatus` (B3.1).
    package var status: String
    package var statusReason: String?
    /// The template as it was submitted (GetTemplate `Original`).
    package var templateBody: String
    /// The template's `Description`.
    package var description: String?
    /// Parameter values as resolved for the last operation, in template order.
    package var parameters: [ParameterValue]
    package var tags: [Tag]
    package var notificationARNs: [String]
    package var capabilities: [String]
    package var roleARN: String?
    package var disableRollback: Bool
    /// `OnFailure` of the creation (`ROLLBACK`, `DO_NOTHING` or `DELETE`).
    package var onFailure: String
    package var timeoutInMinutes: Int?
    package var terminationProtection: Bool
    package var creationTime: Double
    package var lastUpdatedTime: Double?
    package var deletionTime: Double?
    /// The outputs, once the stack reached a state that produced them.
    package var outputs: [Output]
    /// The resources by logical id, in template order.
    package var resources: [StackResource]
    /// The operation being carried out, `nil` once the stack is in a terminal state.
    package var operation: StackOperation?
    /// The identity the stack's operations act as (its creator's, or the last updater's), for resuming a plan after
    /// a restart.
    package var actor: Caller
    /// The `ClientRequestToken` of the operation that set the current status.
    package var clientRequestToken: String?
    /// How many events the stack has (the next one's number in the events namespace).
    package var eventCount: Int
    /// The change set whose execution set the current template (`ChangeSetId`).
    package var changeSetID: String? = nil
    /// The session CloudFormation got by assuming the stack's `RoleARN` for the current operation; its calls are
    /// made as that role rather than as `actor`.
    package var roleSession: Caller? = nil
    /// The stack policy (`StackPolicyBody`), once one is set.
    package var stackPolicy: String? = nil
    /// The exports its template imports (`Fn::ImportValue`), for the "export in use" rules.
    package var imports: [String] = []
    /// The stack this one is nested in (`ParentId`), and the top of its nesting (`RootId`).
    package var parentID: String? = nil
    package var rootID: String? = nil

    /// What an update may have to go back to: the stack as it was before the update started.
    package struct Snapshot: Codable, Sendable, Equatable {
        package var templateBody: String
        package var description: String?
        package var parameters: [ParameterValue]
        package var tags: [Tag]
        package var notificationARNs: [String]
        package var capabilities: [String]
        package var outputs: [Output]
        package var resources: [StackResource]
    }

    /// The parts of the stack an update changes, as they are now.
    package var snapshot: Snapshot {
        Snapshot(
            templateBody: templateBody, description: description, parameters: parameters, tags: tags,
            notificationARNs: notificationARNs, capabilities: capabilities, outputs: outputs, resources: resources)
    }

    /// Puts back what a snapshot holds.
    package mutating func restore(_ snapshot: Snapshot) {
        templateBody = snapshot.templateBody
        description = snapshot.description
        parameters = snapshot.parameters
        tags = snapshot.tags
        notificationARNs = snapshot.notificationARNs
        capabilities = snapshot.capabilities
        outputs = snapshot.outputs
        resources = snapshot.resources
    }

    /// One parameter's value: `noEcho` values are shown as `****`.
    package struct ParameterValue: Codable, Sendable, Equatable {
        package var key: String
        package var value: String
        package var noEcho: Bool
    }

    /// A stack tag.
    package struct Tag: Codable, Sendable, Equatable {
        package var key: String
        package var value: String
    }

    /// A resolved output.
    package struct Output: Codable, Sendable, Equatable {
        package var key: String
        package var value: String
        package var description: String?
        package var exportName: String?
    }

    /// The resource with this logical id, if the stack has it.
    package func resource(_ logicalID: String) -> StackResource? {
        resources.first { $0.logicalID == logicalID }
    }

    /// The values of its NoEcho parameters, which no event, record or answer shows.
    package var secrets: [String] { parameters.filter { $0.noEcho && !$0.value.isEmpty }.map(\.value) }

    /// Whether the stack is gone (it is still described by id for 90 days).
    package var isDeleted: Bool { status == StackStatus.deleteComplete }
}

/// One resource of a stack: its type, its physical id once made, its status, and what its Ref and attributes
/// return.
package struct StackResource: Codable, Sendable, Equatable {
    package var logicalID: String
    package var type: String
    /// The physical id, once the resource was made (or named before it is made, so that a resumed creation finds it).
    package var physicalID: String?
    package var status: String
    package var statusReason: String?
    package var updated: Double
    /// The properties the resource was made with (resolved), as JSON text, for ResourceProperties and updates.
    package var properties: JSONValue?
    /// What `Ref` returns.
    package var ref: String?
    /// What `Fn::GetAtt` returns, by attribute name.
    package var attributes: [String: JSONValue]
    /// The template's `Metadata` of the resource, if any.
    package var metadata: JSONValue?
    /// The `DeletionPolicy` (`Delete` when absent).
    package var deletionPolicy: String
    /// The `Description` CloudFormation keeps for a resource (always absent for template-made resources).
    package var description: String?
}

/// A step-by-step plan of a stack operation, stored before any step acts and advanced as each one ends, so that a
/// restart resumes it (design: "an engine of durable plans over resource handlers").
package struct StackOperation: Codable, Sendable, Equatable {
    /// What the operation does.
    package enum Kind: String, Codable, Sendable {
        case create, delete, rollback, update, updateRollback
    }

    package var kind: Kind
    /// The logical ids still to act on, in the order the operation acts on them (creation: dependency order;
    /// deletion and rollback: the reverse).
    package var pending: [String]
    /// The logical ids whose step failed, in the order they failed (for the stack's status reason).
    package var failed: [String]
    /// The resources a deletion keeps (`RetainResources`).
    package var retain: [String]
    /// The stack before an update (for its rollback).
    package var previous: Stack.Snapshot? = nil
    /// Resources no longer part of the stack, deleted in the update's cleanup phase (replaced and removed ones).
    package var cleanup: [StackResource] = []
    /// Whether an update (or its rollback) has reached its cleanup phase.
    package var cleaningUp = false
    /// The stack policy an update is checked against: `StackPolicyDuringUpdateBody`, or the stack's policy.
    package var policy: String? = nil
    /// Why the whole operation failed, when no resource did (an import of an export that does not exist).
    package var failure: String? = nil
    /// The parameters, pseudo parameters and conditions are evaluated again from the stored stack when a plan
    /// resumes; what stays fixed is this list of steps and the stack's resources.
    package init(kind: Kind, pending: [String], failed: [String] = [], retain: [String] = [], previous: Stack.Snapshot? = nil) {
        self.kind = kind
        self.pending = pending
        self.failed = failed
        self.retain = retain
        self.previous = previous
    }
}

/// One stack event (DescribeStackEvents), stored under the stack's id and its number.
package struct StackEvent: Codable, Sendable, Equatable {
    package var stackID: String
    package var stackName: String
    package var eventID: String
    package var logicalID: String
    package var physicalID: String
    package var resourceType: String
    package var timestamp: Double
    package var status: String
    package var reason: String?
    /// The resolved properties as JSON text (NoEcho values masked), for resource events.
    package var properties: String?
    package var clientRequestToken: String?
}

/// CloudFormation's stack statuses (B3.1), those Cairn reaches.
package enum StackStatus {
    static let createInProgress = "CREATE_IN_PROGRESS"
    static let createComplete = "CREATE_COMPLETE"
    static let createFailed = "CREATE_FAILED"
    static let rollbackInProgress = "ROLLBACK_IN_PROGRESS"
    static let rollbackComplete = "ROLLBACK_COMPLETE"
    static let rollbackFailed = "ROLLBACK_FAILED"
    static let deleteInProgress = "DELETE_IN_PROGRESS"
    static let deleteComplete = "DELETE_COMPLETE"
    static let deleteFailed = "DELETE_FAILED"
    static let deleteSkipped = "DELETE_SKIPPED"
    static let reviewInProgress = "REVIEW_IN_PROGRESS"
    static let updateInProgress = "UPDATE_IN_PROGRESS"
    static let updateComplete = "UPDATE_COMPLETE"
    static let updateFailed = "UPDATE_FAILED"
    static let updateCleanup = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    static let updateRollbackInProgress = "UPDATE_ROLLBACK_IN_PROGRESS"
    static let updateRollbackCleanup = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
    static let updateRollbackComplete = "UPDATE_ROLLBACK_COMPLETE"
    static let updateRollbackFailed = "UPDATE_ROLLBACK_FAILED"

    /// The states from which a stack can be updated (B3.2).
    static let updatable: Set<String> = [
        createComplete, updateComplete, updateRollbackComplete, "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE",
    ]
}

/// A change set: a proposed stack operation, with the changes it would make, kept until it is executed or deleted.
package struct ChangeSet: Codable, Sendable, Equatable {
    /// The change set ARN: `arn:aws:cloudformation:<region>:<account>:changeSet/<name>/<uuid>`.
    package var id: String
    package var name: String
    package var stackID: String
    package var stackName: String
    /// `CREATE` or `UPDATE`.
    package var type: String
    package var templateBody: String
    package var description: String?
    package var parameters: [Stack.ParameterValue]
    package var tags: [Stack.Tag]
    package var notificationARNs: [String]
    package var capabilities: [String]
    package var roleARN: String?
    package var onStackFailure: String?
    package var status: String
    package var executionStatus: String
    package var statusReason: String?
    package var creationTime: Double
    /// The changes, as DescribeChangeSet's `Changes` members.
    package var changes: [JSONValue]
}

