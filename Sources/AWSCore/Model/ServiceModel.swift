import Foundation

/// A service's API model: its operations and shapes, read from the compact copy of botocore's model that
/// `scripts/generate-models.py` writes into each service target.
///
/// The model is the single source of member names, member order, required members, value types and sensitivity.
/// The wire codecs decode requests and encode responses by walking it, and the audit step renders
/// `requestParameters` and `responseElements` from it, so a service never spells a member name twice.
package final class ServiceModel: Sendable {
    /// The signing name and endpoint prefix (`cloudtrail`, `sts`).
    package let service: String
    /// The API version (`2013-11-01`).
    package let apiVersion: String
    /// The wire protocol (`json`, `query`, `rest-xml`).
    package let wireProtocol: String
    /// The JSON 1.1 target prefix, for `X-Amz-Target`.
    package let targetPrefix: String?
    /// The XML namespace of Query responses.
    package let xmlNamespace: String?
    /// Operations by name.
    package let operations: [String: Operation]
    /// Shapes by name.
    package let shapes: [String: Shape]

    /// One operation of the model.
    package struct Operation: Sendable, Decodable {
        /// The input structure's shape name.
        package var input: String?
        /// The output structure's shape name.
        package var output: String?
        /// The Query protocol's result wrapper element (`AssumeRoleResult`).
        package var resultWrapper: String?
        /// The modeled error shapes.
        package var errors: [String]
    }

    /// One shape of the model.
    package struct Shape: Sendable, Decodable {
        /// `structure`, `list`, `map`, `string`, `integer`, `long`, `boolean`, `timestamp`, `blob`, `double`, `float`.
        package var type: String
        /// Structure members, in model order.
        package var members: [Member]?
        /// A list's element shape.
        package var member: String?
        /// A list's element name in Query/XML (`member` by default).
        package var memberName: String?
        /// A map's key shape.
        package var key: String?
        /// A map's value shape.
        package var value: String?
        /// A map key's element name in Query/XML (`key` by default; SNS's `MessageAttributeMap` uses `Name`).
        package var keyName: String?
        /// A map value's element name in Query/XML (`value` by default; SNS's `MessageAttributeMap` uses `Value`).
        package var valueName: String?
        /// Minimum length or value.
        package var min: Double?
        /// Maximum length or value.
        package var max: Double?
        /// Allowed values of a string enum.
        package var `enum`: [String]?
        /// Whether values of this shape are secrets.
        package var sensitive: Bool?
        /// Whether a list is flattened in Query/XML.
        package var flattened: Bool?
        /// Whether the shape is an exception.
        package var exception: Bool?
    }

    /// One member of a structure.
    package struct Member: Sendable, Decodable {
        /// The member name (`S3BucketName`).
        package var name: String
        /// The member's shape name.
        package var shape: String
        /// Whether the member is required.
        package var required: Bool?
        /// The wire name when it differs from `name`.
        package var locationName: String?
        /// Whether a list member is flattened.
        package var flattened: Bool?
    }

    private struct Document: Decodable {
        var service: String
        var apiVersion: String
        var `protocol`: String
        var targetPrefix: String?
        var xmlNamespace: String?
        var operations: [String: Operation]
        var shapes: [String: Shape]
    }

    private init(_ d: Document) {
        service = d.service
        apiVersion = d.apiVersion
        wireProtocol = d.protocol
        targetPrefix = d.targetPrefix
        xmlNamespace = d.xmlNamespace
        operations = d.operations
        shapes = d.shapes
    }

    /// Loads a generated model. The JSON is produced by Cairn's generator, so a failure is a build defect.
    package static func load(json: String) -> ServiceModel {
        do {
            return ServiceModel(try JSONDecoder().decode(Document.self, from: Data(json.utf8)))
        } catch {
            preconditionFailure("generated service model does not decode: \(error)")
        }
    }

    /// The shape with this name. Generated models are closed, so a missing name is a build defect.
    package func shape(_ name: String) -> Shape {
        guard let shape = shapes[name] else { preconditionFailure("shape \(name) missing from the \(service) model") }
        return shape
    }
}
