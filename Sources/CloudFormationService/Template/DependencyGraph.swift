import OrderedCollections

/// Resources and the resources each one waits for, ordered the way CloudFormation's deterministic emulation needs:
/// a resource starts after all its dependencies, ties are broken by template order (B6.7).
struct DependencyGraph: Sendable {
    /// The nodes in template order, each with its direct dependencies in template order.
    let dependencies: OrderedDictionary<String, [String]>

    /// Builds the graph; `edges` may name a node more than once or in any order.
    init(nodes: [String], edges: [String: Set<String>]) {
        let position = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1, $0) })
        var deps = OrderedDictionary<String, [String]>()
        for node in nodes {
            deps[node] = (edges[node] ?? []).filter { position[$0] != nil }.sorted { position[$0]! < position[$1]! }
        }
        dependencies = deps
    }

    /// The nodes that depend directly on `node`, in template order.
    func dependents(of node: String) -> [String] {
        dependencies.filter { $0.value.contains(node) }.map(\.key)
    }

    /// A topological order: at each step the first ready node in template order. Nodes left over form or
    /// follow a cycle; they are returned separately, in template order.
    func order() -> (order: [String], blocked: [String]) {
        var remaining = dependencies.mapValues { Set($0) }
        var done: [String] = []
        var emitted = Set<String>()
        while let next = remaining.first(where: { $0.value.isSubset(of: emitted) })?.key {
            done.append(next)
            emitted.insert(next)
            remaining.removeValue(forKey: next)
        }
        return (done, Array(remaining.keys))
    }

    /// Groups of nodes that can run together: each wave depends only on earlier waves; template order within.
    func waves() -> [[String]] {
        var remaining = dependencies.mapValues { Set($0) }
        var emitted = Set<String>()
        var waves: [[String]] = []
        while true {
            let ready = remaining.filter { $0.value.isSubset(of: emitted) }.map(\.key)
            if ready.isEmpty { break }
            waves.append(ready)
            for node in ready {
                emitted.insert(node)
                remaining.removeValue(forKey: node)
            }
        }
        return waves
    }
}
