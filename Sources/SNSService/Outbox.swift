import AWSCore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Storage
import Synchronization

/// One HTTP POST SNS owes an endpoint: a signed notification or confirmation, kept until it succeeds or its
/// retries run out.
struct Delivery: Codable, Sendable, Equatable {
    /// The outbox key: enqueue time in milliseconds (zero-padded) and a UUID, so keys sort in enqueue order.
    var id: String
    /// `Notification`, `SubscriptionConfirmation` or `UnsubscribeConfirmation` (`x-amz-sns-message-type`).
    var kind: String
    /// `x-amz-sns-message-id`; the same on every retry, as in AWS.
    var messageId: String
    /// `x-amz-sns-topic-arn`.
    var topicArn: String
    /// `x-amz-sns-subscription-arn`, sent with notifications and unsubscribe confirmations.
    var subscriptionArn: String?
    /// The URL POSTed to.
    var endpoint: String
    /// The body: the signed JSON document, or the bare message with raw message delivery.
    var body: String
    /// Whether the body is a raw message (`x-amz-sns-rawdelivery: true`).
    var raw: Bool
    /// How many attempts failed so far.
    var attempts: Int
    /// When the next attempt is due (epoch seconds).
    var nextAttempt: Double
    /// The retry schedule.
    var retry: RetryPolicy
    /// Whether the delivery is dropped when its subscription no longer exists (notifications; confirmations go
    /// out regardless).
    var needsSubscription: Bool
}

/// The retry schedule of HTTP/HTTPS deliveries, from the effective delivery policy's `healthyRetryPolicy`.
///
/// AWS's default (what `EffectiveDeliveryPolicy` shows for a new topic): 3 retries, 20 seconds apart, linear.
/// Cairn applies the retry count and the delays between `minDelayTarget` and `maxDelayTarget`, linearly or
/// exponentially; the no-delay and min/max-delay phases of the full policy are not modelled.
struct RetryPolicy: Codable, Sendable, Equatable {
    var numRetries = 3
    var minDelayTarget = 20
    var maxDelayTarget = 20
    var backoffFunction = "linear"

    /// Seconds before retry number `n` (1 for the first retry).
    func delay(beforeRetry n: Int) -> Double {
        let lo = Double(max(1, minDelayTarget))
        let hi = Double(max(minDelayTarget, maxDelayTarget))
        guard numRetries > 1 else { return lo }
        let fraction = Double(min(max(n - 1, 0), numRetries - 1)) / Double(numRetries - 1)
        switch backoffFunction {
        case "exponential", "geometric": return lo * pow(hi / lo, fraction)
        default: return lo + (hi - lo) * fraction
        }
    }

    /// Reads the `healthyRetryPolicy` of a topic or subscription `DeliveryPolicy` document (under `http` for a
    /// topic's), keeping the defaults for what it does not set.
    static func from(deliveryPolicy: String?) -> RetryPolicy {
        var policy = RetryPolicy()
        guard let text = deliveryPolicy,
            let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        else { return policy }
        let retry = value["http"]?["defaultHealthyRetryPolicy"] ?? value["healthyRetryPolicy"]
        if let n = retry?["numRetries"]?.int { policy.numRetries = max(0, n) }
        if let n = retry?["minDelayTarget"]?.int { policy.minDelayTarget = n }
        if let n = retry?["maxDelayTarget"]?.int { policy.maxDelayTarget = n }
        if let f = retry?["backoffFunction"]?.string { policy.backoffFunction = f }
        return policy
    }
}

/// The durable outbox of HTTP/HTTPS deliveries and the code that sends them.
///
/// `Publish` and `Subscribe` write their deliveries here (to the state store, in one transaction) before they
/// answer; ``SNSDeliveryService`` sends what is due, and `POST /_cairn/flush` sends everything pending at once.
/// A delivery leaves the outbox when an endpoint answers 2xx, or when its retries are used up; until then it
/// survives restarts. Logs name the message id, topic and subscription, never the message.
final class Outbox: Sendable {
    static let namespace = "sns.outbox"

    /// The pending deliveries by key, and the keys being sent right now.
    private struct State {
        var pending: [String: Delivery] = [:]
        var inFlight: Set<String> = []
    }

    private let state: Mutex<State>
    private let store: any StateStore
    private let clock: @Sendable () -> Double
    private let logger: Logger
    private let client: HTTPClient
    /// Whether a subscription still exists (notifications to removed subscriptions are dropped).
    private let subscriptionExists: @Sendable (String) -> Bool

    /// Loads the pending deliveries.
    init(
        store: any StateStore, clock: @escaping @Sendable () -> Double, logger: Logger,
        subscriptionExists: @escaping @Sendable (String) -> Bool
    ) async throws {
        var loaded: [String: Delivery] = [:]
        for (key, value) in try await store.all(Self.namespace) {
            guard let delivery = try? JSONDecoder().decode(Delivery.self, from: Data(value)) else {
                logger.warning("dropping an unreadable SNS outbox entry", metadata: ["sns.outbox.key": "\(key)"])
                try await store.delete(Self.namespace, key)
                continue
            }
            loaded[key] = delivery
        }
        state = Mutex(State(pending: loaded))
        self.store = store
        self.clock = clock
        self.logger = logger
        self.client = HTTPClient.shared
        self.subscriptionExists = subscriptionExists
    }

    /// A new outbox key: enqueue time in milliseconds, zero-padded, then a UUID.
    static func key(now: Double, uuid: String) -> String {
        let millis = String(Int64(now * 1000))
        return String(repeating: "0", count: max(0, 15 - millis.count)) + millis + "-" + uuid
    }

    /// Writes deliveries durably (one transaction), then makes them visible to the sender.
    func enqueue(_ deliveries: [Delivery]) async throws {
        guard !deliveries.isEmpty else { return }
        let encoder = JSONEncoder()
        var entries: [(key: String, value: [UInt8])] = []
        for delivery in deliveries { entries.append((delivery.id, Array(try encoder.encode(delivery)))) }
        try await store.put(Self.namespace, entries: entries)
        state.withLock { s in
            for delivery in deliveries { s.pending[delivery.id] = delivery }
        }
    }

    /// How many deliveries are waiting (in flight included).
    var count: Int { state.withLock { $0.pending.count } }

    /// Every pending delivery, in enqueue order (for tests and diagnostics).
    var pending: [Delivery] { state.withLock { $0.pending.values.sorted { $0.id < $1.id } } }

    /// Claims the deliveries due at `now` (all of them when `now` is nil) that no one is sending, in enqueue order.
    func claim(dueAt now: Double?) -> [Delivery] {
        state.withLock { s in
            let due = s.pending.values.filter { d in !s.inFlight.contains(d.id) && (now.map { d.nextAttempt <= $0 } ?? true) }
                .sorted { $0.id < $1.id }
            for d in due { s.inFlight.insert(d.id) }
            return due
        }
    }

    /// Sends every pending delivery now, whatever its schedule, and returns when each has had its attempt
    /// (deliveries already being sent are waited for, up to 30 seconds).
    func flush() async {
        let busy = state.withLock { $0.inFlight }
        let claimed = claim(dueAt: nil)
        await withDiscardingTaskGroup { group in
            for delivery in claimed {
                group.addTask { await self.attempt(delivery) }
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, !state.withLock({ $0.inFlight.isDisjoint(with: busy) }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Sends one claimed delivery and records the outcome: removed on a 2xx answer, rescheduled (or dropped when
    /// its retries are used up) otherwise. A cancelled attempt (shutdown) leaves the delivery as it was.
    func attempt(_ delivery: Delivery) async {
        if delivery.needsSubscription, let arn = delivery.subscriptionArn, !subscriptionExists(arn) {
            await finish(delivery, outcome: .drop("subscription no longer exists"))
            return
        }
        let failure: String
        do {
            let status = try await post(delivery)
            if (200..<300).contains(status) {
                await finish(delivery, outcome: .delivered)
                return
            }
            failure = "HTTP \(status)"
        } catch {
            if Task.isCancelled {
                state.withLock { _ = $0.inFlight.remove(delivery.id) }
                return
            }
            failure = "\(error)"
        }
        var next = delivery
        next.attempts += 1
        if next.attempts > delivery.retry.numRetries {
            await finish(delivery, outcome: .drop("retries exhausted after \(next.attempts) attempts, last: \(failure)"))
        } else {
            next.nextAttempt = clock() + delivery.retry.delay(beforeRetry: next.attempts)
            logger.info(
                "SNS delivery failed, will retry",
                metadata: metadata(delivery, ["sns.attempt": "\(next.attempts)", "error": "\(failure)"]))
            await finish(delivery, outcome: .retry(next))
        }
    }

    /// What an attempt ends with.
    private enum Outcome {
        case delivered
        case retry(Delivery)
        case drop(String)
    }

    /// Records an attempt's outcome in the store, then releases the delivery (removed, or rescheduled).
    private func finish(_ delivery: Delivery, outcome: Outcome) async {
        do {
            switch outcome {
            case .delivered:
                try await store.delete(Self.namespace, delivery.id)
                logger.debug("SNS delivery succeeded", metadata: metadata(delivery))
            case .retry(let next):
                try await store.put(Self.namespace, delivery.id, Array(try JSONEncoder().encode(next)))
            case .drop(let reason):
                try await store.delete(Self.namespace, delivery.id)
                logger.warning("SNS delivery dropped", metadata: metadata(delivery, ["reason": "\(reason)"]))
            }
        } catch {
            logger.error("SNS outbox update failed", metadata: metadata(delivery, ["error": "\(error)"]))
        }
        state.withLock { s in
            s.inFlight.remove(delivery.id)
            switch outcome {
            case .delivered, .drop: s.pending[delivery.id] = nil
            case .retry(let next): s.pending[delivery.id] = next
            }
        }
    }

    /// The log metadata of a delivery (never its body), plus `extra`.
    private func metadata(_ d: Delivery, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var m: Logger.Metadata = [
            "sns.message.type": "\(d.kind)", "sns.message.id": "\(d.messageId)", "sns.topic.arn": "\(d.topicArn)",
        ]
        if let arn = d.subscriptionArn { m["sns.subscription.arn"] = "\(arn)" }
        return m.merging(extra) { _, new in new }
    }

    /// POSTs the delivery with SNS's headers and returns the status (the body is read and discarded).
    private func post(_ d: Delivery) async throws -> Int {
        var request = HTTPClientRequest(url: d.endpoint)
        request.method = .POST
        request.headers.add(name: "x-amz-sns-message-type", value: d.kind)
        request.headers.add(name: "x-amz-sns-message-id", value: d.messageId)
        request.headers.add(name: "x-amz-sns-topic-arn", value: d.topicArn)
        if let arn = d.subscriptionArn { request.headers.add(name: "x-amz-sns-subscription-arn", value: arn) }
        if d.raw { request.headers.add(name: "x-amz-sns-rawdelivery", value: "true") }
        request.headers.add(name: "Content-Type", value: "text/plain; charset=UTF-8")
        request.headers.add(name: "User-Agent", value: "Amazon Simple Notification Service Agent")
        request.body = .bytes(ByteBuffer(string: d.body))
        // AWS gives an endpoint 15 seconds to answer.
        let response = try await client.execute(request, timeout: .seconds(15))
        _ = try? await response.body.collect(upTo: 1024 * 1024)
        return Int(response.status.code)
    }
}
