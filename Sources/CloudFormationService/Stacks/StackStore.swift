import OrderedCollections
import Logging
import AWSCore
import Foundation
package import Storage

/// Every account's stacks and their events: two ``StateRegistry``s written by one ``StateWriter``, so that a step's
/// new resource state and the events it adds are one transaction.
///
/// Stacks are keyed by id (the stack ARN). Events are keyed by `<stack id>#<number>` with a zero-padded number, so
/// their keys sort in the order they happened.
package final class StackStore: Sendable {
    static let stacksNamespace = "cloudformation.stacks"
    static let eventsNamespace = "cloudformation.events"
    static let changeSetsNamespace = "cloudformation.changesets"

    let writer: StateWriter
    let stacks: StateRegistry<Stack>
    let events: StateRegistry<StackEvent>
    let changeSets: StateRegistry<ChangeSet>

    /// Loads the stacks and their events from the state store.
    package init(state: any StateStore) async throws {
        let writer = StateWriter(store: state)
        self.writer = writer
        stacks = try await StateRegistry(Self.stacksNamespace, writer: writer)
        events = try await StateRegistry(Self.eventsNamespace, writer: writer)
        changeSets = try await StateRegistry(Self.changeSetsNamespace, writer: writer)
    }

    /// The stack a `StackName` member names in an account and region: by id (deleted stacks too), or the live stack
    /// of that name.
    func stack(named nameOrID: String, account: String, region: String) -> Stack? {
        if nameOrID.hasPrefix("arn:") {
            guard let stack = stacks[nameOrID], stack.account == account, stack.region == region else { return nil }
            return stack
        }
        return stacks.snapshot.values.first {
            $0.name == nameOrID && $0.account == account && $0.region == region && !$0.isDeleted
        }
    }

    /// The stacks of an account and region, newest first.
    func stacks(account: String, region: String) -> [Stack] {
        stacks.snapshot.values.filter { $0.account == account && $0.region == region }.sorted {
            ($0.creationTime, $0.id) > ($1.creationTime, $1.id)
        }
    }

    /// The events of a stack, newest first.
    func events(of stackID: String) -> [StackEvent] {
        let prefix = stackID + "#"
        return events.snapshot.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key > $1.key }.map(\.value)
    }

    /// The stacks with an operation in progress (to resume after a restart).
    var unfinished: [Stack] {
        stacks.snapshot.values.filter { $0.operation != nil }.sorted { $0.creationTime < $1.creationTime }
    }

    /// Changes a stack and adds events in one transaction; `body` sees the stack as stored and returns it changed
    /// with the events to add (in the order they happened) and a result.
    @discardableResult
    func change<T: Sendable>(
        _ stackID: String, _ body: (inout Stack) throws -> (events: [StackEvent], result: T)
    ) async throws -> T {
        try await change(stackID, changeSets: [:], body)
    }

    /// The live stacks of an account and region that import an export, by name.
    func importers(of export: String, account: String, region: String) -> [String] {
        stacks(account: account, region: region).filter { !$0.isDeleted && $0.imports.contains(export) }.map(\.name).sorted()
    }

    /// The change sets of a stack, oldest first.
    func changeSets(of stackID: String) -> [ChangeSet] {
        changeSets.snapshot.values.filter { $0.stackID == stackID }.sorted { ($0.creationTime, $0.id) < ($1.creationTime, $1.id) }
    }

    /// Changes a stack, adds events and stores or removes change sets, in one transaction.
    func change<T: Sendable>(
        _ stackID: String, changeSets updates: [String: ChangeSet?],
        _ body: (inout Stack) throws -> (events: [StackEvent], result: T)
    ) async throws -> T {
        try await writer.transaction { tx in
            guard var stack = tx[stacks, stackID] else { throw AWSError("ValidationError", "Stack with id \(stackID) does not exist") }
            let (added, result) = try body(&stack)
            for event in added {
                tx[events, Self.eventKey(stackID, stack.eventCount)] = event
                stack.eventCount += 1
            }
            tx[stacks, stackID] = stack
            for (id, changeSet) in updates { tx[changeSets, id] = changeSet }
            return result
        }
    }

    /// Stores a new stack with its first events (and the change set that made it, if any).
    func insert(_ stack: Stack, events added: [StackEvent], changeSet: ChangeSet? = nil) async throws {
        var stack = stack
        try await writer.transaction { tx in
            if let changeSet { tx[changeSets, changeSet.id] = changeSet }
            for event in added {
                tx[events, Self.eventKey(stack.id, stack.eventCount)] = event
                stack.eventCount += 1
            }
            tx[stacks, stack.id] = stack
        }
    }

    /// `<stack id>#<number, 8 digits>`.
    static func eventKey(_ stackID: String, _ number: Int) -> String {
        let digits = String(number)
        return stackID + "#" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
