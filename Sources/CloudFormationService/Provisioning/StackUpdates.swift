import OrderedCollections
import Storage
import AWSCore
import Foundation
import Gateway
import Logging

/// Carrying out updates (B3.2, B3.3): each resource of the new template in dependency order is made (new),
/// changed in place, replaced (a new one made now, the old one deleted in the cleanup phase) or left alone; then
/// the cleanup phase deletes what the update replaced or removed. A failure rolls the update back to the stack as
/// it was before (``StackOperation/previous``).
extension CloudFormationCore {
    /// The reason CloudFormation gives for a replacement (B3.3).
    static let replacementReason = "Requested update requires the creation of a new physical resource; hence creating one."

    /// The update plan: the resources of the new template, each once the ones it depends on are done.
    func runUpdate(_ stack: Stack) async throws {
        if stack.operation?.cleaningUp == true { return try await runCleanup(stack) }
        let evaluation = try evaluate(stack)
        while true {
            guard let current = store.stacks[stack.id], let operation = current.operation, operation.kind == .update,
                !operation.cleaningUp
            else { return }
            if operation.pending.isEmpty || !operation.failed.isEmpty || operation.failure != nil {
                return try await finishUpdate(current, evaluation: evaluation)
            }
            try await runReady(operation.pending, of: stack, evaluation) { id in
                await self.updateStep(id, of: stack.id, evaluation: evaluation)
            }
        }
    }

    /// One resource of an update: made when it is new, otherwise changed in place or replaced when its resolved
    /// properties (or the stack's tags) changed, and left alone when nothing did.
    func updateStep(_ logicalID: String, of stackID: String, evaluation: TemplateEvaluation) async {
        guard let stack = store.stacks[stackID], let operation = stack.operation,
            let declared = evaluation.template.resources[logicalID]
        else { return }
        guard let existing = stack.resource(logicalID), existing.status != StackStatus.createInProgress,
            existing.status != StackStatus.createFailed || operation.previous?.resources.contains(where: { $0.logicalID == logicalID }) == true
        else {
            return await create(logicalID, of: stackID, evaluation: evaluation)
        }
        let type = ResourceTypes.all[declared.type]
        let properties: JSONValue
        do {
            properties = try evaluation.resolveProperties(of: logicalID, lookup: lookup(stack))
        } catch {
            return await endUpdateStep(logicalID, of: stackID, failure: error.message)
        }
        let resumed = existing.status == StackStatus.updateInProgress
        let inCleanup = operation.cleanup.first { $0.logicalID == logicalID }
        let tagsChanged = operation.previous.map { $0.tags != stack.tags } ?? false
        if !resumed, existing.type == declared.type, existing.properties == properties, !tagsChanged {
            // Unchanged: no event, no call.
            _ = try? await change(stackID) { s in
                s.operation?.pending.removeAll { $0 == logicalID }
                return ([], ())
            }
            return
        }
        let replace =
            resumed ? inCleanup != nil : existing.type != declared.type || type?.replaces(from: existing.properties, to: properties) ?? true
        if !resumed, let text = operation.policy, let policy = try? StackPolicy(text),
            let refusal = policy.refusal(replace ? "Update:Replace" : "Update:Modify", logicalID: logicalID, type: declared.type)
        {
            return await endUpdateStep(logicalID, of: stackID, failure: refusal)
        }
        let name = replace ? (resumed ? existing.physicalID : physicalName(type, properties, stack: stack, logicalID: logicalID)) : nil
        let start = now
        if !resumed {
            do {
                try await change(stackID) { s in
                    guard let index = s.resources.firstIndex(where: { $0.logicalID == logicalID }) else { return ([], ()) }
                    let event = resourceEvent(
                        s, s.resources[index], status: StackStatus.updateInProgress, reason: replace ? Self.replacementReason : nil,
                        physicalID: existing.physicalID, at: start)
                    if replace {
                        // The old resource is deleted in the cleanup phase; the new one's name is stored first.
                        s.operation?.cleanup.append(existing)
                        s.resources[index].physicalID = name
                    }
                    s.resources[index].status = StackStatus.updateInProgress
                    s.resources[index].updated = start
                    return ([event], ())
                }
            } catch {
                logger.error("cannot store a resource step", metadata: ["stack": "\(stackID)", "resource": "\(logicalID)", "error": "\(error)"])
                return
            }
        }
        let result: Result<Provisioned, ResourceFailure>
        if replace {
            result = await perform(stack, logicalID, type: declared.type, resumed: resumed) { type, context in
                try await type.create(context, properties, name)
            }
        } else {
            result = await perform(stack, logicalID, type: declared.type) { type, context in
                guard let update = type.update else { throw ResourceFailure(reason: "Update of \(declared.type) is not supported by Cairn") }
                return try await update(context, existing, properties)
            }
        }
        switch result {
        case .success(let made):
            await endUpdateStep(logicalID, of: stackID, made: made, type: declared.type, properties: properties)
        case .failure(let error):
            await endUpdateStep(logicalID, of: stackID, failure: error.reason, replaced: replace ? existing : nil)
        }
    }

    /// Stores the end of an update step: the resource as it is now, or its failure (a failed replacement keeps the
    /// old resource, which is then not deleted).
    func endUpdateStep(
        _ logicalID: String, of stackID: String, made: Provisioned? = nil, type: String? = nil, properties: JSONValue? = nil,
        failure: String? = nil, replaced: StackResource? = nil
    ) async {
        let end = now
        _ = try? await change(stackID) { s in
            s.operation?.pending.removeAll { $0 == logicalID }
            guard let index = s.resources.firstIndex(where: { $0.logicalID == logicalID }) else { return ([], ()) }
            if let made {
                s.resources[index].physicalID = made.physicalID
                s.resources[index].ref = made.ref
                s.resources[index].attributes = made.attributes
                s.resources[index].properties = properties
                s.resources[index].type = type ?? s.resources[index].type
                s.resources[index].status = StackStatus.updateComplete
                s.resources[index].statusReason = nil
                s.resources[index].updated = end
                return ([resourceEvent(s, s.resources[index], status: StackStatus.updateComplete, reason: nil, physicalID: made.physicalID, at: end)], ())
            }
            if let replaced {
                s.operation?.cleanup.removeAll { $0.logicalID == logicalID && $0.physicalID == replaced.physicalID }
                s.resources[index].physicalID = replaced.physicalID
            }
            s.resources[index].status = StackStatus.updateFailed
            s.resources[index].statusReason = failure
            s.resources[index].updated = end
            s.operation?.failed.append(logicalID)
            return ([resourceEvent(s, s.resources[index], status: StackStatus.updateFailed, reason: failure, physicalID: s.resources[index].physicalID, at: end)], ())
        }
    }

    /// Ends the update's main phase: on success the outputs are resolved, removed resources join the cleanup
    /// list and the cleanup phase starts; after a failure the rollback starts.
    func finishUpdate(_ stack: Stack, evaluation: TemplateEvaluation) async throws {
        let time = now
        guard let operation = stack.operation else { return }
        if let cancelled = operation.failure {
            return try await startUpdateRollback(stack.id, reason: cancelled, at: time)
        }
        if operation.failed.isEmpty {
            do {
                let outputs = try evaluation.resolveOutputs(lookup: lookup(stack)).map {
                    Stack.Output(key: $0.key, value: $0.value, description: $0.description, exportName: $0.exportName)
                }
                let old = stack.operation?.previous?.outputs ?? []
                var unchanged = stack
                unchanged.outputs = old
                if let (export, importer) = exportInUse(unchanged, keeping: outputs) {
                    try await startUpdateRollback(
                        stack.id, reason: "Export \(export) cannot be updated as it is in use by \(importer)", at: time)
                    return
                }
                let active = Set(evaluation.activeResources)
                if let text = stack.operation?.policy, let policy = try? StackPolicy(text) {
                    let refused = stack.resources.filter { !active.contains($0.logicalID) }.compactMap { resource in
                        policy.refusal("Update:Delete", logicalID: resource.logicalID, type: resource.type).map { (resource, $0) }
                    }
                    if !refused.isEmpty {
                        try await change(stack.id) { s in
                            (refused.map { resourceEvent(s, $0.0, status: StackStatus.updateFailed, reason: $0.1, physicalID: $0.0.physicalID, at: time) }, ())
                        }
                        let names = refused.map(\.0.logicalID).joined(separator: ", ")
                        try await startUpdateRollback(stack.id, reason: "The following resource(s) failed to update: [\(names)]. ", at: time)
                        return
                    }
                }
                try await change(stack.id) { s in
                    let removed = s.resources.filter { !active.contains($0.logicalID) }
                    s.resources.removeAll { !active.contains($0.logicalID) }
                    s.operation?.cleanup += removed.reversed()
                    s.operation?.cleaningUp = true
                    s.outputs = outputs
                    s.status = StackStatus.updateCleanup
                    s.statusReason = nil
                    return ([stackEvent(s, status: StackStatus.updateCleanup, reason: nil, at: time)], ())
                }
                return
            } catch let error as TemplateError {
                try await startUpdateRollback(stack.id, reason: "\(error.message). ", at: time)
                return
            }
        }
        let failedCreations = operation.failed.filter { id in operation.previous?.resources.contains { $0.logicalID == id } == false }
        let failedUpdates = operation.failed.filter { !failedCreations.contains($0) }
        var reason = ""
        if !failedUpdates.isEmpty { reason += "The following resource(s) failed to update: [\(failedUpdates.joined(separator: ", "))]. " }
        if !failedCreations.isEmpty { reason += "The following resource(s) failed to create: [\(failedCreations.joined(separator: ", "))]. " }
        try await startUpdateRollback(stack.id, reason: reason, at: time)
    }

    /// Turns an update into its rollback: every resource the update touched goes back to what it was.
    func startUpdateRollback(_ stackID: String, reason: String, at time: Double) async throws {
        try await change(stackID) { s in
            guard var operation = s.operation else { return ([], ()) }
            operation.kind = .updateRollback
            operation.pending = s.resources.reversed().map(\.logicalID)
            operation.failed = []
            operation.cleanup = []
            operation.cleaningUp = false
            operation.failure = nil
            s.operation = operation
            s.status = StackStatus.updateRollbackInProgress
            s.statusReason = reason
            return ([stackEvent(s, status: StackStatus.updateRollbackInProgress, reason: reason, at: time)], ())
        }
    }

    /// The rollback of an update: resources made by the update are deleted in the cleanup phase, replaced ones
    /// get their old resource back (the new one is deleted), resources changed in place are changed back.
    func runUpdateRollback(_ stack: Stack) async throws {
        while let current = store.stacks[stack.id], let operation = current.operation, operation.kind == .updateRollback,
            !operation.cleaningUp, let logicalID = operation.pending.first
        {
            let previous = operation.previous?.resources.first { $0.logicalID == logicalID }
            guard let resource = current.resource(logicalID) else {
                try await change(stack.id) { s in
                    s.operation?.pending.removeFirst()
                    return ([], ())
                }
                continue
            }
            guard let previous else {
                // Made by the update: deleted in the cleanup phase (if it was made at all).
                try await change(stack.id) { s in
                    s.operation?.pending.removeFirst()
                    if resource.physicalID != nil, resource.status != StackStatus.createFailed { s.operation?.cleanup.append(resource) }
                    return ([], ())
                }
                continue
            }
            let replaced = resource.physicalID != previous.physicalID
            let changed = replaced || resource.properties != previous.properties || resource.status == StackStatus.updateFailed
                || resource.status == StackStatus.updateInProgress
            guard changed else {
                try await change(stack.id) { s in
                    s.operation?.pending.removeFirst()
                    return ([], ())
                }
                continue
            }
            let start = now
            try await change(stack.id) { s in
                guard let index = s.resources.firstIndex(where: { $0.logicalID == logicalID }) else { return ([], ()) }
                s.resources[index].status = StackStatus.updateInProgress
                return ([resourceEvent(s, s.resources[index], status: StackStatus.updateInProgress, reason: nil, physicalID: previous.physicalID, at: start)], ())
            }
            var failure: String?
            if !replaced, let properties = previous.properties {
                if case .failure(let error) = await perform(current, logicalID, type: previous.type, { type, context in
                    guard let update = type.update else { return }
                    _ = try await update(context, resource, properties)
                }) {
                    failure = error.reason
                }
            }
            let end = now
            try await change(stack.id) { s in
                s.operation?.pending.removeFirst()
                guard let index = s.resources.firstIndex(where: { $0.logicalID == logicalID }) else { return ([], ()) }
                if let failure {
                    s.resources[index].status = StackStatus.updateFailed
                    s.resources[index].statusReason = failure
                    s.operation?.failed.append(logicalID)
                    return ([resourceEvent(s, s.resources[index], status: StackStatus.updateFailed, reason: failure, physicalID: previous.physicalID, at: end)], ())
                }
                if replaced, resource.physicalID != nil { s.operation?.cleanup.append(resource) }
                s.resources[index] = previous
                s.resources[index].status = StackStatus.updateComplete
                s.resources[index].updated = end
                return ([resourceEvent(s, s.resources[index], status: StackStatus.updateComplete, reason: nil, physicalID: previous.physicalID, at: end)], ())
            }
        }
        guard let current = store.stacks[stack.id], let operation = current.operation, operation.kind == .updateRollback else { return }
        if operation.cleaningUp { return try await runCleanup(current) }
        let time = now
        try await change(stack.id) { s in
            if !operation.failed.isEmpty {
                s.status = StackStatus.updateRollbackFailed
                s.statusReason = "The following resource(s) failed to update: [\(operation.failed.joined(separator: ", "))]. "
                s.operation = nil
                return ([stackEvent(s, status: StackStatus.updateRollbackFailed, reason: s.statusReason, at: time)], ())
            }
            // The stack is what it was; what the update made is deleted now.
            if let previous = operation.previous {
                let current = s.resources
                s.restore(previous)
                for (index, resource) in s.resources.enumerated() {
                    if let now = current.first(where: { $0.logicalID == resource.logicalID }) { s.resources[index].status = now.status }
                }
            }
            s.operation?.cleaningUp = true
            s.status = StackStatus.updateRollbackCleanup
            s.statusReason = nil
            return ([stackEvent(s, status: StackStatus.updateRollbackCleanup, reason: nil, at: time)], ())
        }
    }

    /// The cleanup phase of an update or of its rollback: deletes the resources on the cleanup list (a failure is
    /// reported on the resource and does not fail the stack), then completes the stack.
    func runCleanup(_ stack: Stack) async throws {
        while let current = store.stacks[stack.id], let operation = current.operation, operation.cleaningUp,
            let resource = operation.cleanup.first
        {
            if resource.deletionPolicy == "Retain" || resource.physicalID == nil {
                let time = now
                try await change(stack.id) { s in
                    s.operation?.cleanup.removeFirst()
                    guard resource.physicalID != nil else { return ([], ()) }
                    return ([resourceEvent(s, resource, status: StackStatus.deleteSkipped, reason: nil, physicalID: resource.physicalID, at: time)], ())
                }
                continue
            }
            let start = now
            try await change(stack.id) { s in
                ([resourceEvent(s, resource, status: StackStatus.deleteInProgress, reason: nil, physicalID: resource.physicalID, at: start)], ())
            }
            let failure = await delete(resource, of: current)
            let end = now
            try await change(stack.id) { s in
                s.operation?.cleanup.removeFirst()
                let status = failure == nil ? StackStatus.deleteComplete : StackStatus.deleteFailed
                return ([resourceEvent(s, resource, status: status, reason: failure, physicalID: resource.physicalID, at: end)], ())
            }
        }
        guard let current = store.stacks[stack.id], let operation = current.operation, operation.cleaningUp else { return }
        let time = now
        try await change(stack.id) { s in
            s.operation = nil
            s.status = operation.kind == .update ? StackStatus.updateComplete : StackStatus.updateRollbackComplete
            s.statusReason = nil
            for index in s.resources.indices where s.resources[index].status == StackStatus.updateInProgress {
                s.resources[index].status = StackStatus.updateComplete
            }
            return ([stackEvent(s, status: s.status, reason: nil, at: time)], ())
        }
    }
}
