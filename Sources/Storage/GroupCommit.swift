import Synchronization

/// Batches concurrent writes into shared transactions (group commit), with no background task.
///
/// The first caller to find no commit running becomes the leader: it commits its own items together with whatever
/// arrived meanwhile, hands the lead to the oldest caller still waiting, and resumes the callers it committed for.
/// Others wait on a continuation.
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

    /// Commits the leader's items together with the waiters queued so far, then hands the lead to the oldest waiter
    /// still pending (or ends the commit cycle when there is none).
    ///
    /// A leader commits exactly one batch. If it kept committing later arrivals' batches itself, a caller that
    /// became leader under steady load would not return until the load stopped, although its own items were
    /// committed long before.
    private func leadCommits(own: [Item]) async throws {
        let waiters = state.withLock { s -> [Waiter] in
            var taken: [Waiter] = []
            var count = own.count
            while !s.pending.isEmpty, count < maxBatch {
                let w = s.pending.removeFirst()
                count += w.items.count
                taken.append(w)
            }
            return taken
        }
        var batch = own
        for w in waiters { batch.append(contentsOf: w.items) }
        let result: Result<Void, any Error>
        do {
            try await commit(batch)
            result = .success(())
        } catch {
            result = .failure(error)
        }
        // Hand the lead over first, so that the next batch starts while this one's callers resume.
        let next = state.withLock { s -> Waiter? in
            if s.pending.isEmpty {
                s.committing = false
                return nil
            }
            return s.pending.removeFirst()
        }
        next?.continuation.resume(returning: false)
        for w in waiters {
            switch result {
            case .success: w.continuation.resume(returning: true)
            case .failure(let error): w.continuation.resume(throwing: error)
            }
        }
        try result.get()
    }
}
