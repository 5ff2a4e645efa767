import AWSCore
import Foundation
import Gateway

/// The AWS Config resource types (B6.9, B6.9a): the recorder, the delivery channel and rules, made through Config's
/// own API.
///
/// AWS starts a template's recorder "as soon as the delivery channel is available", and its own samples do not make
/// the channel depend on the recorder: so the recorder is made first (``ResourceTypes/implicitDependencies``), and
/// whichever of the two comes second starts the recorder.
extension ResourceTypes {
    /// `AWS::Config::ConfigurationRecorder`: PutConfigurationRecorder (named `default` when the template names
    /// none), started at once when the region has a delivery channel. Ref is the name.
    static let configurationRecorder = ResourceType(
        name: "AWS::Config::ConfigurationRecorder",
        create: { context, properties, _ in
            let name = properties["Name"]?.string ?? "default"
            var recorder = lowerCamelKeys(properties).object ?? [:]
            recorder["name"] = .string(name)
            _ = try await context.call("config", "PutConfigurationRecorder", ["ConfigurationRecorder": .object(recorder)])
            try await context.completing {
                try await startRecordersIfDelivering(context)
            } undo: {
                _ = try await context.call("config", "DeleteConfigurationRecorder", ["ConfigurationRecorderName": .string(name)])
            }
            return Provisioned(physicalID: name, ref: name, attributes: [:])
        },
        delete: { context, resource in
            guard let name = resource.physicalID else { return }
            do {
                _ = try await context.call("config", "DeleteConfigurationRecorder", ["ConfigurationRecorderName": .string(name)])
            } catch let error as AWSError where error.code == "NoSuchConfigurationRecorderException" {
            }
        },
        naming: nil, replacing: ["Name"],
        update: { context, resource, properties in
            let name = resource.physicalID ?? "default"
            var recorder = lowerCamelKeys(properties).object ?? [:]
            recorder["name"] = .string(name)
            _ = try await context.call("config", "PutConfigurationRecorder", ["ConfigurationRecorder": .object(recorder)])
            return Provisioned(physicalID: name, ref: name, attributes: [:])
        })

    /// `AWS::Config::DeliveryChannel`: PutDeliveryChannel (a generated name when the template names none), then
    /// the region's recorder is started. Deleting it stops the recorder first, as Config refuses to delete the last
    /// channel of a running recorder.
    static let deliveryChannel = ResourceType(
        name: "AWS::Config::DeliveryChannel",
        create: { context, properties, name in
            var channel = lowerCamelKeys(properties).object ?? [:]
            channel["name"] = .string(name!)
            _ = try await context.call("config", "PutDeliveryChannel", ["DeliveryChannel": .object(channel)])
            try await context.completing {
                try await startRecordersIfDelivering(context)
            } undo: {
                _ = try await context.call("config", "DeleteDeliveryChannel", ["DeliveryChannelName": .string(name!)])
            }
            return Provisioned(physicalID: name!, ref: name!, attributes: [:])
        },
        delete: { context, resource in
            guard let name = resource.physicalID else { return }
            let recorders = try await context.call("config", "DescribeConfigurationRecorders", [:])
            for recorder in recorders["ConfigurationRecorders"]?.array ?? [] {
                if let recorderName = recorder["name"]?.string {
                    _ = try await context.call("config", "StopConfigurationRecorder", ["ConfigurationRecorderName": .string(recorderName)])
                }
            }
            do {
                _ = try await context.call("config", "DeleteDeliveryChannel", ["DeliveryChannelName": .string(name)])
            } catch let error as AWSError where error.code == "NoSuchDeliveryChannelException" {
            }
        },
        naming: ("Name", 256, false), replacing: ["Name"],
        update: { context, resource, properties in
            let name = resource.physicalID ?? ""
            var channel = lowerCamelKeys(properties).object ?? [:]
            channel["name"] = .string(name)
            _ = try await context.call("config", "PutDeliveryChannel", ["DeliveryChannel": .object(channel)])
            return Provisioned(physicalID: name, ref: name, attributes: [:])
        })

    /// `AWS::Config::ConfigRule`: PutConfigRule (`InputParameters` given as an object is sent as JSON text), then
    /// DescribeConfigRules for its ARN and id. Ref is the name; attributes `Arn`, `ConfigRuleId`, `Compliance.Type`.
    static let configRule = ResourceType(
        name: "AWS::Config::ConfigRule",
        create: { context, properties, name in try await putConfigRule(context, properties, name: name!) },
        delete: { context, resource in
            guard let name = resource.physicalID else { return }
            do {
                _ = try await context.call("config", "DeleteConfigRule", ["ConfigRuleName": .string(name)])
            } catch let error as AWSError where error.code == "NoSuchConfigRuleException" {
            }
        },
        naming: ("ConfigRuleName", 128, false), replacing: ["ConfigRuleName"],
        update: { context, resource, properties in try await putConfigRule(context, properties, name: resource.physicalID ?? "") })

    /// PutConfigRule of a rule's properties, and what DescribeConfigRules then says of it.
    static func putConfigRule(_ context: ResourceContext, _ properties: JSONValue, name: String) async throws -> Provisioned {
        var rule = properties.object ?? [:]
        rule["ConfigRuleName"] = .string(name)
        rule["Compliance"] = nil
        if let parameters = rule["InputParameters"], parameters.object != nil { rule["InputParameters"] = .string(parameters.jsonText) }
        _ = try await context.call("config", "PutConfigRule", ["ConfigRule": .object(rule)])
        let described = try await context.call("config", "DescribeConfigRules", ["ConfigRuleNames": [.string(name)]])
        let made = described["ConfigRules"]?.array?.first
        return Provisioned(
            physicalID: name, ref: name,
            attributes: [
                "Arn": made?["ConfigRuleArn"] ?? .null, "ConfigRuleId": made?["ConfigRuleId"] ?? .null,
                "Compliance.Type": "INSUFFICIENT_DATA",
            ])
    }

    /// Starts the region's recorders once it has both a recorder and a delivery channel.
    static func startRecordersIfDelivering(_ context: ResourceContext) async throws {
        let channels = try await context.call("config", "DescribeDeliveryChannels", [:])
        guard channels["DeliveryChannels"]?.array?.isEmpty == false else { return }
        let recorders = try await context.call("config", "DescribeConfigurationRecorders", [:])
        for recorder in recorders["ConfigurationRecorders"]?.array ?? [] {
            if let name = recorder["name"]?.string {
                _ = try await context.call("config", "StartConfigurationRecorder", ["ConfigurationRecorderName": .string(name)])
            }
        }
    }

    /// A template value with each object key's first letter lowered (`RoleARN` → `roleARN`, `S3BucketName` →
    /// `s3BucketName`): how Config's recorder and channel members are named after CloudFormation's properties.
    static func lowerCamelKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (key, member) in members { out[key.prefix(1).lowercased() + key.dropFirst()] = lowerCamelKeys(member) }
            return .object(out)
        case .array(let items): return .array(items.map(lowerCamelKeys))
        default: return value
        }
    }

    /// Dependencies AWS's engine keeps that templates do not state: a delivery channel waits for the template's
    /// recorders (Config refuses a channel before a recorder exists).
    static func implicitDependencies(of type: String, among resources: [(id: String, type: String)]) -> [String] {
        guard type == deliveryChannel.name else { return [] }
        return resources.filter { $0.type == configurationRecorder.name }.map(\.id)
    }
}
