package import AWSCore
import Audit
package import Gateway
package import Storage

/// AWS CloudTrail (JSON 1.1): trails, their status and selectors, tags, and Event history.
package struct CloudTrailService: AWSService {
    package let model = ServiceModel.cloudTrail
    package let eventSource = "cloudtrail.amazonaws.com"
    package let operations: [String: Operation]

    /// Creates the service over the state and event stores.
    package init(state: any StateStore, events: any EventStore) async throws {
        operations = [:]
    }
}
