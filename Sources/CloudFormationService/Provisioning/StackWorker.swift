import OrderedCollections
import Storage
import Logging
import AWSCore
import Foundation
import Gateway
import ServiceLifecycle
import Synchronization

/// Carries out stack plans (a ServiceLifecycle service): stacks are handed to it when an operation starts, and
/// every stack with an unfinished plan is taken up again when it starts, so a plan interrupted by a crash goes on.
///
/// Each stack's plan runs in one task at a time; its independent resources are made concurrently, each as soon as
/// the resources it depends on are made. Every step is stored before and after it acts (``StackStore``), and no
/// lock is held across a call to another service.
package final class StackWorker: Service, Sendable {
    private let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let running = Mutex<[String: Bool]>([:])
    let core = Mutex<CloudFormationCore?>(nil)

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: String.self)
    }

    /// Hands a stack to the worker; a stack whose plan runs already is run again once that run ends.
    func submit(_ stackID: String) {
        continuation.yield(stackID)
    }

    package func run() async throws {
        guard let core = core.withLock({ $0 }) else { return }
        let unfinished = core.store.unfinished
        if !unfinished.isEmpty {
            core.logger.info("resuming unfinished stack operations", metadata: ["stacks": "\(unfinished.map(\.name))"])
        }
        for stack in unfinished { submit(stack.id) }
        await withDiscardingTaskGroup { group in
            for await id in stream.cancelOnGracefulShutdown() {
                // A stack already running is marked to run again when its run ends, not run twice at once.
                let start = running.withLock { r -> Bool in
                    if r[id] != nil {
                        r[id] = true
                        return false
                    }
                    r[id] = false
                    return true
                }
                guard start else { continue }
                group.addTask {
                    while true {
                        await core.advance(id)
                        let again = self.running.withLock { r -> Bool in
                            if r[id] == true {
                                r[id] = false
                                return true
                            }
                            r[id] = nil
                            return false
                        }
                        if !again { break }
                    }
                }
            }
        }
    }
}

extension CloudFormationCore {
    /// Carries a stack's plan on until the stack reaches a terminal state (or the plan cannot go on now).
    func advance(_ stackID: String) async {
        do {
            while let stack = store.stacks[stackID], let operation = stack.operation {
                switch operation.kind {
                case .create: try await runCreation(stack)
                case .delete, .rollback: try await runDeletion(stack)
                case .update: try await runUpdate(stack)
                case .updateRollback: try await runUpdateRollback(stack)
                }
            }
        } catch {
            logger.error("stack operation stopped", metadata: ["stack": "\(stackID)", "error": "\(error)"])
        }
        await noteExecution(stackID)
    }

    /// The lookup that resolution reads made resources and other stacks' exports from.
    func lookup(_ stack: Stack) -> ClosureResourceLookup {
        let exports = Dictionary(
            store.stacks(account: stack.account, region: stack.region).filter { !$0.isDeleted && $0.id != stack.id }
                .flatMap { s in s.outputs.compactMap { o in o.exportName.map { ($0, o.value) } } },
            uniquingKeysWith: { a, _ in a })
        let current = store.stacks[stack.id] ?? stack
        return ClosureResourceLookup(
            ref: { id in current.resource(id)?.ref.map(JSONValue.string) },
            attribute: { id, name in current.resource(id)?.attributes[name] },
            importValue: { exports[$0] })
    }

    /// The creation plan: makes the pending resources, each once its dependencies are made, concurrently; then
    /// completes the stack with its outputs, or starts the rollback when a resource failed.
    func runCreation(_ stack: Stack) async throws {
        let evaluation = try evaluate(stack)
        // Imports are resolved before anything is made: a missing export fails the stack (B6.5).
        let exported = Set(
            store.stacks(account: stack.account, region: stack.region).filter { !$0.isDeleted && $0.id != stack.id }
                .flatMap { $0.outputs.compactMap(\.exportName) })
        if stack.resources.isEmpty, let missing = stack.imports.first(where: { !exported.contains($0) }) {
            try await change(stack.id) { s in
                s.operation?.failure = "No export named \(missing) found. "
                s.operation?.pending = []
                return ([], ())
            }
        }
        while true {
            guard let current = store.stacks[stack.id], let operation = current.operation, operation.kind == .create else { return }
            if operation.pending.isEmpty || !operation.failed.isEmpty || operation.failure != nil {
                try await finishCreation(current, evaluation: evaluation)
                return
            }
            try await runReady(operation.pending, of: stack, evaluation) { id in
                await self.create(id, of: stack.id, evaluation: evaluation)
            }
        }
    }

    /// Runs `step` concurrently for every pending resource whose dependencies are no longer pending (the plan
    /// stops at the first failure, so a dependency that left the list was made).
    func runReady(
        _ pending: [String], of stack: Stack, _ evaluation: TemplateEvaluation, step: @escaping @Sendable (String) async -> Void
    ) async throws {
        let waiting = Set(pending)
        let ready = pending.filter { id in dependencies(of: id, evaluation).allSatisfy { !waiting.contains($0) } }
        guard !ready.isEmpty else {
            throw AWSError("InternalFailure", "no resource of \(stack.name) can be acted on: \(pending)")
        }
        await withTaskGroup(of: Void.self) { group in
            for id in ready { group.addTask { await step(id) } }
        }
    }

    /// Makes one resource: stores it as in progress (with its name, when the type is named), calls its handler,
    /// stores what it made, or its failure.
    func create(_ logicalID: String, of stackID: String, evaluation: TemplateEvaluation) async {
        guard let stack = store.stacks[stackID], let declared = evaluation.template.resources[logicalID] else { return }
        let type = ResourceTypes.all[declared.type]
        var properties: JSONValue = [:]
        var failure: String?
        do {
            properties = try evaluation.resolveProperties(of: logicalID, lookup: lookup(stack))
        } catch {
            failure = error.message
        }
        // The name is chosen once and stored before the handler acts, so that a creation resumed after a crash
        // makes the same resource rather than a second one.
        let resumed = stack.resource(logicalID) != nil
        let name = stack.resource(logicalID)?.physicalID ?? physicalName(type, properties, stack: stack, logicalID: logicalID)
        let metadata = try? evaluation.resolveMetadata(of: logicalID, lookup: lookup(stack))
        let time = now
        do {
            try await change(stackID) { s in
                var resource = StackResource(
                    logicalID: logicalID, type: declared.type, physicalID: name, status: StackStatus.createInProgress,
                    statusReason: nil, updated: time, properties: properties, ref: nil, attributes: [:], metadata: metadata ?? nil,
                    deletionPolicy: declared.deletionPolicy ?? "Delete", description: nil)
                var events: [StackEvent] = []
                if let index = s.resources.firstIndex(where: { $0.logicalID == logicalID }) {
                    resource = s.resources[index]  // resumed: already announced
                } else {
                    s.resources.append(resource)
                    resource.physicalID = nil
                    events.append(resourceEvent(s, resource, status: StackStatus.createInProgress, reason: nil, at: time))
                }
                return (events, ())
            }
        } catch {
            logger.error("cannot store a resource step", metadata: ["stack": "\(stackID)", "resource": "\(logicalID)", "error": "\(error)"])
            return
        }
        var provisioned: Provisioned?
        if failure == nil {
            let resolved = properties
            switch await perform(stack, logicalID, type: declared.type, resumed: resumed, { type, context in
                try await type.create(context, resolved, name)
            }) {
            case .success(let made): provisioned = made
            case .failure(let error): failure = error.reason
            }
        }
        let end = now
        try? await change(stackID) { s in
            guard let index = s.resources.firstIndex(where: { $0.logicalID == logicalID }) else { return ([], ()) }
            var events: [StackEvent] = []
            if let provisioned {
                s.resources[index].physicalID = provisioned.physicalID
                s.resources[index].ref = provisioned.ref
                s.resources[index].attributes = provisioned.attributes
                s.resources[index].status = StackStatus.createComplete
                s.resources[index].updated = end
                events.append(
                    resourceEvent(
                        s, s.resources[index], status: StackStatus.createInProgress, reason: "Resource creation Initiated",
                        physicalID: provisioned.physicalID, at: end))
                events.append(
                    resourceEvent(s, s.resources[index], status: StackStatus.createComplete, reason: nil, physicalID: provisioned.physicalID, at: end))
            } else {
                // A handler that fails removes what it made: nothing of the resource is left.
                s.resources[index].status = StackStatus.createFailed
                s.resources[index].statusReason = failure
                s.resources[index].updated = end
                s.resources[index].physicalID = nil
                s.operation?.failed.append(logicalID)
                events.append(resourceEvent(s, s.resources[index], status: StackStatus.createFailed, reason: failure, at: end))
            }
            s.operation?.pending.removeAll { $0 == logicalID }
            return (events, ())
        }
    }

    /// Ends a creation: CREATE_COMPLETE with the outputs; or, after a failure, CREATE_FAILED (no rollback) or the
    /// start of the rollback.
    func finishCreation(_ stack: Stack, evaluation: TemplateEvaluation) async throws {
        let time = now
        let failed = stack.operation?.failed ?? []
        var outputs: [Stack.Output] = []
        var failure = failed.isEmpty ? stack.operation?.failure : "The following resource(s) failed to create: [\(failed.joined(separator: ", "))]. "
        if failure == nil {
            do {
                outputs = try evaluation.resolveOutputs(lookup: lookup(stack)).map {
                    Stack.Output(key: $0.key, value: $0.value, description: $0.description, exportName: $0.exportName)
                }
                let taken = Set(
                    store.stacks(account: stack.account, region: stack.region).filter { !$0.isDeleted && $0.id != stack.id }
                        .flatMap { s in s.outputs.compactMap(\.exportName) })
                if let duplicate = outputs.compactMap(\.exportName).first(where: taken.contains) {
                    let owner = store.stacks(account: stack.account, region: stack.region).first {
                        !$0.isDeleted && $0.outputs.contains { $0.exportName == duplicate }
                    }
                    failure = "Export with name \(duplicate) is already exported by stack \(owner?.name ?? ""). "
                }
            } catch {
                failure = "\(error.message). "
            }
        }
        try await change(stack.id) { s in
            guard let failure else {
                s.status = StackStatus.createComplete
                s.statusReason = nil
                s.outputs = outputs
                s.operation = nil
                return ([stackEvent(s, status: StackStatus.createComplete, reason: nil, at: time)], ())
            }
            if s.onFailure == "DO_NOTHING" {
                s.status = StackStatus.createFailed
                s.statusReason = failure
                s.operation = nil
                return ([stackEvent(s, status: StackStatus.createFailed, reason: failure, at: time)], ())
            }
            let reason = failure + "Rollback requested by user."
            s.status = StackStatus.rollbackInProgress
            s.statusReason = reason
            s.operation = StackOperation(kind: .rollback, pending: s.resources.reversed().map(\.logicalID))
            return ([stackEvent(s, status: StackStatus.rollbackInProgress, reason: reason, at: time)], ())
        }
    }

    /// The deletion plan (DeleteStack, or a rollback): deletes the resources in the reverse order of their
    /// creation, keeping those with `DeletionPolicy: Retain` or named in `RetainResources`.
    func runDeletion(_ stack: Stack) async throws {
        while let current = store.stacks[stack.id], let operation = current.operation, operation.kind != .create,
            let logicalID = operation.pending.first
        {
            guard let resource = current.resource(logicalID) else {
                try await change(stack.id) { s in
                    s.operation?.pending.removeFirst()
                    return ([], ())
                }
                continue
            }
            let retained = resource.deletionPolicy == "Retain" || operation.retain.contains(logicalID)
            if retained || resource.physicalID == nil || resource.status == StackStatus.deleteComplete {
                let time = now
                try await change(stack.id) { s in
                    s.operation?.pending.removeFirst()
                    guard let index = s.resources.firstIndex(where: { $0.logicalID == logicalID }) else { return ([], ()) }
                    let status = retained ? StackStatus.deleteSkipped : StackStatus.deleteComplete
                    s.resources[index].status = status
                    s.resources[index].updated = time
                    return ([resourceEvent(s, s.resources[index], status: status, reason: nil, physicalID: resource.physicalID, at: time)], ())
                }
                continue
            }
            let start = now
            try await change(stack.id) { s in
                guard let index = s.resources.firstIndex(where: { $0.logicalID == logicalID }) else { return ([], ()) }
                s.resources[index].status = StackStatus.deleteInProgress
                s.resources[index].updated = start
                return ([resourceEvent(s, s.resources[index], status: StackStatus.deleteInProgress, reason: nil, physicalID: resource.physicalID, at: start)], ())
            }
            let failure = await delete(resource, of: current)
            let end = now
            try await change(stack.id) { s in
                s.operation?.pending.removeFirst()
                guard let index = s.resources.firstIndex(where: { $0.logicalID == logicalID }) else { return ([], ()) }
                s.resources[index].updated = end
                if let failure {
                    s.resources[index].status = StackStatus.deleteFailed
                    s.resources[index].statusReason = failure
                    s.operation?.failed.append(logicalID)
                    return ([resourceEvent(s, s.resources[index], status: StackStatus.deleteFailed, reason: failure, physicalID: resource.physicalID, at: end)], ())
                }
                s.resources[index].status = StackStatus.deleteComplete
                s.resources[index].statusReason = nil
                return ([resourceEvent(s, s.resources[index], status: StackStatus.deleteComplete, reason: nil, physicalID: resource.physicalID, at: end)], ())
            }
        }
        guard let current = store.stacks[stack.id], let operation = current.operation, operation.kind != .create else { return }
        let time = now
        try await change(stack.id) { s in
            s.operation = nil
            let failed = operation.failed
            if !failed.isEmpty {
                s.status = operation.kind == .rollback ? StackStatus.rollbackFailed : StackStatus.deleteFailed
                s.statusReason = "The following resource(s) failed to delete: [\(failed.joined(separator: ", "))]. "
                return ([stackEvent(s, status: s.status, reason: s.statusReason, at: time)], ())
            }
            if operation.kind == .rollback {
                s.status = StackStatus.rollbackComplete
                s.statusReason = nil
                s.deletionTime = time
                var events = [stackEvent(s, status: StackStatus.rollbackComplete, reason: nil, at: time)]
                if s.onFailure == "DELETE" {
                    events.append(stackEvent(s, status: StackStatus.deleteInProgress, reason: nil, at: time))
                    s.status = StackStatus.deleteComplete
                    events.append(stackEvent(s, status: StackStatus.deleteComplete, reason: nil, at: time))
                }
                return (events, ())
            }
            s.status = StackStatus.deleteComplete
            s.statusReason = nil
            s.deletionTime = time
            return ([stackEvent(s, status: StackStatus.deleteComplete, reason: nil, at: time)], ())
        }
    }

    /// What a resource waits for: the template's dependencies, and those AWS keeps that templates do not state
    /// (``ResourceTypes/implicitDependencies(of:among:)``).
    func dependencies(of logicalID: String, _ evaluation: TemplateEvaluation) -> [String] {
        let declared = evaluation.template.resources
        guard let type = declared[logicalID]?.type else { return evaluation.dependencies(of: logicalID) }
        let active = evaluation.activeResources.compactMap { id in declared[id].map { (id: id, type: $0.type) } }
        return evaluation.dependencies(of: logicalID) + ResourceTypes.implicitDependencies(of: type, among: active)
    }

    /// The name a named type's new resource gets: the template's, or a generated one (B2).
    func physicalName(_ type: ResourceType?, _ properties: JSONValue, stack: Stack, logicalID: String) -> String? {
        guard let naming = type?.naming else { return nil }
        return properties[naming.property]?.propertyText
            ?? ResourceContext.generatedName(
                stack: stack.name, logicalID: logicalID, maxLength: naming.maxLength, lowercase: naming.lowercase,
                random: Self.randomSuffix(runtime.uuid()))
    }

    /// Runs a resource handler for a stack, turning its failure into CloudFormation's status reason; a type Cairn
    /// does not host fails with a reason that says so.
    func perform<T: Sendable>(
        _ stack: Stack, _ logicalID: String, type typeName: String, resumed: Bool = false,
        _ body: @Sendable (ResourceType, ResourceContext) async throws -> T
    ) async -> Result<T, ResourceFailure> {
        guard let type = ResourceTypes.all[typeName] else {
            return .failure(ResourceFailure(reason: "Resource type \(typeName) is not supported by Cairn"))
        }
        let context = ResourceContext(
            client: client, origin: Self.origin(stack), stackName: stack.name, stackID: stack.id, account: stack.account,
            region: stack.region, logicalID: logicalID, stackTags: stack.tags, store: store, resumed: resumed)
        do {
            return .success(try await body(type, context))
        } catch let error as ResourceFailure {
            return .failure(error)
        } catch let error as AWSError {
            return .failure(
                ResourceFailure.handler(error, service: Self.serviceName(typeName), requestID: runtime.uuid(), token: runtime.uuid().lowercased()))
        } catch {
            logger.error("resource handler failed", metadata: ["resource": "\(logicalID)", "error": "\(error)"])
            return .failure(ResourceFailure(reason: "Internal Failure"))
        }
    }

    /// Deletes a resource through its handler; returns the failure reason, or `nil` once it is gone. A type Cairn
    /// does not host was never made, so there is nothing to delete.
    func delete(_ resource: StackResource, of stack: Stack) async -> String? {
        guard ResourceTypes.all[resource.type] != nil else { return nil }
        if case .failure(let error) = await perform(stack, resource.logicalID, type: resource.type, { type, context in
            try await type.delete(context, resource)
        }) {
            return error.reason
        }
        return nil
    }

    /// The service name CloudFormation's handler messages give (`Service: S3`).
    static func serviceName(_ type: String) -> String {
        let parts = type.split(separator: "::")
        return parts.count > 1 ? String(parts[1]) : type
    }

    /// 13 upper-case letters and digits drawn from a UUID's random bits, for generated names.
    static func randomSuffix(_ uuid: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let hex = uuid.filter(\.isHexDigit)
        var halves = [UInt64(hex.prefix(16), radix: 16) ?? 0, UInt64(hex.dropFirst(16).prefix(16), radix: 16) ?? 0]
        var out = ""
        for i in 0..<13 {
            out.append(alphabet[Int(halves[i % 2] % 36)])
            halves[i % 2] /= 36
        }
        return out
    }
}
