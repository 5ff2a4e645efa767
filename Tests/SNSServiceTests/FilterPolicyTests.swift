import Testing

@testable import SNSService

/// Subscription filter policies, with examples from AWS's "Amazon SNS message filtering" pages.
@Suite("SNS filter policies")
struct FilterPolicyTests {
    private func attrs(_ pairs: [String: (String, String)]) -> [String: HTTPMessages.Attribute] {
        pairs.mapValues { HTTPMessages.Attribute(type: $0.0, value: $0.1) }
    }

    @Test("no policy passes everything; keys are ANDed, a key's values ORed")
    func basics() {
        let a = attrs(["store": ("String", "example_corp"), "event": ("String", "order_placed")])
        #expect(FilterPolicy.matches(policy: nil, scope: nil, attributes: a, body: "x"))
        #expect(FilterPolicy.matches(policy: #"{"store":["example_corp"]}"#, scope: nil, attributes: a, body: "x"))
        #expect(FilterPolicy.matches(policy: #"{"store":["other","example_corp"],"event":["order_placed"]}"#, scope: nil, attributes: a, body: "x"))
        #expect(!FilterPolicy.matches(policy: #"{"store":["example_corp"],"event":["order_cancelled"]}"#, scope: nil, attributes: a, body: "x"))
        #expect(!FilterPolicy.matches(policy: #"{"missing":["x"]}"#, scope: nil, attributes: a, body: "x"))
        #expect(FilterPolicy.matches(policy: #"{"$or":[{"missing":["x"]},{"store":["example_corp"]}]}"#, scope: nil, attributes: a, body: "x"))
    }

    @Test("prefix, suffix, equals-ignore-case, anything-but and exists")
    func stringOperators() {
        let a = attrs(["customer_interests": ("String", "rugby"), "source": ("String", "Web")])
        #expect(FilterPolicy.matches(policy: #"{"customer_interests":[{"prefix":"rug"}]}"#, scope: nil, attributes: a, body: ""))
        #expect(FilterPolicy.matches(policy: #"{"customer_interests":[{"suffix":"by"}]}"#, scope: nil, attributes: a, body: ""))
        #expect(FilterPolicy.matches(policy: #"{"source":[{"equals-ignore-case":"WEB"}]}"#, scope: nil, attributes: a, body: ""))
        #expect(!FilterPolicy.matches(policy: #"{"customer_interests":[{"anything-but":["rugby","tennis"]}]}"#, scope: nil, attributes: a, body: ""))
        #expect(FilterPolicy.matches(policy: #"{"customer_interests":[{"anything-but":{"prefix":"bas"}}]}"#, scope: nil, attributes: a, body: ""))
        #expect(FilterPolicy.matches(policy: #"{"missing":[{"exists":false}]}"#, scope: nil, attributes: a, body: ""))
        #expect(!FilterPolicy.matches(policy: #"{"source":[{"exists":false}]}"#, scope: nil, attributes: a, body: ""))
    }

    @Test("numbers match numerically, and String.Array attributes match by any element")
    func numbersAndArrays() {
        let a = attrs(["price_usd": ("Number", "210.75"), "interests": ("String.Array", #"["soccer","rugby"]"#)])
        #expect(FilterPolicy.matches(policy: #"{"price_usd":[{"numeric":[">",0,"<=",300]}]}"#, scope: nil, attributes: a, body: ""))
        #expect(!FilterPolicy.matches(policy: #"{"price_usd":[{"numeric":["<",100]}]}"#, scope: nil, attributes: a, body: ""))
        #expect(FilterPolicy.matches(policy: #"{"price_usd":[210.75]}"#, scope: nil, attributes: a, body: ""))
        #expect(FilterPolicy.matches(policy: #"{"interests":["rugby"]}"#, scope: nil, attributes: a, body: ""))
        #expect(!FilterPolicy.matches(policy: #"{"interests":["tennis"]}"#, scope: nil, attributes: a, body: ""))
    }

    @Test("the MessageBody scope matches nested keys of a JSON body, and a body that is not JSON never matches")
    func bodyScope() {
        let body = #"{"order":{"status":"shipped","items":[{"sku":1}]},"total":42}"#
        #expect(FilterPolicy.matches(policy: #"{"order":{"status":["shipped"]}}"#, scope: "MessageBody", attributes: [:], body: body))
        #expect(FilterPolicy.matches(policy: #"{"total":[{"numeric":[">=",40]}]}"#, scope: "MessageBody", attributes: [:], body: body))
        #expect(!FilterPolicy.matches(policy: #"{"order":{"status":["pending"]}}"#, scope: "MessageBody", attributes: [:], body: body))
        #expect(!FilterPolicy.matches(policy: #"{"total":[42]}"#, scope: "MessageBody", attributes: [:], body: "plain text"))
    }
}
