import Synchronization

/// Batches concurrent writes into shared transactions (group commit), with no background task.
///
/// The first caller to find no commit running becomes the leader: it commits its own items together with whatever
/// arrived meanwhile, resumes those callers, and repeats until nothing is pending. Others wait on a continuation.
/// Every caller returns only after the transaction holding its items is committed, or throws its error.
package final class GroupCommit<Item: Sendable>: Sendable {
    private struct Waiter {
        var items: [Item]
        var continuation: CheckedContinuation<Bool, any Error>
    }

    private struct State {
        var pending: [Waiter] = []
        var committing = false
    }

    private let state = Mutex(State())
    private let commit: @Sendable ([Item]) async throws -> Void
    private let maxBatch: Int

    /// Creates a committer around the function that writes one batch in one transaction.
    package init(maxBatch: Int = 1024, commit: @escaping @Sendable ([Item]) async throws -> Void) {
        self.commit = commit
        self.maxBatch = maxBatch
    }

    /// Submits items and returns once they are committed.
    package func submit(_ items: [Item]) async throws {
        let lead = state.withLock { s -> Bool in
            if s.committing { return false }
            s.committing = true
            return true
        }
        if !lead {
            let committed = try await withCheckedThrowingContinuation { (c: CheckedContinuation<Bool, any Error>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.committing {
                        s.pending.append(Waiter(items: items, continuation: c))
                        return false
                    }
                    s.committing = true
                    return true
                }
                // The leader finished between our two looks: lead ourselves.
                if resumeNow { c.resume(returning: false) }
            }
            if committed { return }
        }
        try await leadCommits(own: items)
    }

    private func leadCommits(own: [Item]) async throws {
        var ownResult: Result<Void, any Error>?
        var batchOwn: [Item]? = own
        while true {
            let waiters = state.withLock { s -> [Waiter] in
                var taken: [Waiter] = []
                var count = batchOwn?.count ?? 0
                while !s.pending.isEmpty, count < maxBatch {
                    let w = s.pending.removeFirst()
                    count += w.items.count
                    taken.append(w)
                }
                if taken.isEmpty, batchOwn == nil { s.committing = false }
                return taken
            }
            if waiters.isEmpty, batchOwn == nil { break }
            var batch = batchOwn ?? []
            for w in waiters { batch.append(contentsOf: w.items) }
            do {
                try await commit(batch)
                for w in waiters { w.continuation.resume(returning: true) }
                if batchOwn != nil { ownResult = .success(()) }
            } catch {
                for w in waiters { w.continuation.resume(throwing: error) }
                if batchOwn != nil { ownResult = .failure(error) }
            }
            batchOwn = nil
        }
        try ownResult?.get()
    }
}
