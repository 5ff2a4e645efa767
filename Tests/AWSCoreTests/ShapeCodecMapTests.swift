import AWSCore
import Testing

/// A small model with SNS's two kinds of Query map: plain string maps (`Attributes.entry.N.key`/`.value`) and a map
/// whose key and value carry location names and whose values are structures (`MessageAttributes.entry.N.Name`,
/// `.Value.DataType`, `.Value.StringValue`), as in botocore's SNS model (`MessageAttributeMap`).
private enum MapModel {
    static let json = #"""
        {"service":"maps","apiVersion":"2010-03-31","protocol":"query","targetPrefix":null,
         "xmlNamespace":"http://maps.example.com/doc/2010-03-31/",
         "operations":{"Send":{"input":"SendInput","output":"SendResponse","resultWrapper":"SendResult","errors":[]}},
         "shapes":{
           "SendInput":{"type":"structure","members":[
             {"name":"Name","shape":"String","required":true},
             {"name":"Attributes","shape":"AttributeMap"},
             {"name":"Message","shape":"String"},
             {"name":"MessageAttributes","shape":"MessageAttributeMap"},
             {"name":"Entries","shape":"EntryList"}
           ]},
           "Entry":{"type":"structure","members":[{"name":"Id","shape":"String"},{"name":"Message","shape":"String"}]},
           "EntryList":{"type":"list","member":"Entry"},
           "AttributeMap":{"type":"map","key":"String","value":"String"},
           "MessageAttributeMap":{"type":"map","key":"String","keyName":"Name","value":"MessageAttributeValue","valueName":"Value"},
           "MessageAttributeValue":{"type":"structure","members":[
             {"name":"DataType","shape":"String","required":true},
             {"name":"StringValue","shape":"String"},
             {"name":"BinaryValue","shape":"Blob"}
           ]},
           "SendResponse":{"type":"structure","members":[
             {"name":"Attributes","shape":"AttributeMap"},
             {"name":"MessageAttributes","shape":"MessageAttributeMap"},
             {"name":"Id","shape":"String"}
           ]},
           "String":{"type":"string"},
           "Blob":{"type":"blob"}
         }}
        """#
    static let model = ServiceModel.load(json: json)
    static let codec = ShapeCodec(model: model)
}

/// Query maps in, XML maps out, and CloudTrail's hidden members.
@Suite("ShapeCodec maps")
struct ShapeCodecMapTests {
    @Test("the generator's keyName and valueName are loaded")
    func modelNames() {
        #expect(MapModel.model.shape("MessageAttributeMap").keyName == "Name")
        #expect(MapModel.model.shape("MessageAttributeMap").valueName == "Value")
        #expect(MapModel.model.shape("AttributeMap").keyName == nil)
    }

    @Test("Attributes.entry.N.key / .value decode into a string map, until the first missing key")
    func stringMap() throws {
        let value = try MapModel.codec.decodeQuery(
            [
                "Name": "t", "Attributes.entry.1.key": "DisplayName", "Attributes.entry.1.value": "My topic",
                "Attributes.entry.2.key": "Policy", "Attributes.entry.2.value": "{}",
                "Attributes.entry.4.key": "Skipped", "Attributes.entry.4.value": "after a gap",
            ], shape: "SendInput")
        #expect(value == .object(["Name": "t", "Attributes": .object(["DisplayName": "My topic", "Policy": "{}"])]))
    }

    @Test("MessageAttributes.entry.N.Name / .Value.DataType / .Value.StringValue decode with the model's names")
    func structuredMap() throws {
        let value = try MapModel.codec.decodeQuery(
            [
                "Name": "t",
                "MessageAttributes.entry.1.Name": "color", "MessageAttributes.entry.1.Value.DataType": "String",
                "MessageAttributes.entry.1.Value.StringValue": "blue",
                "MessageAttributes.entry.2.Name": "blob", "MessageAttributes.entry.2.Value.DataType": "Binary",
                "MessageAttributes.entry.2.Value.BinaryValue": "aGk=",
                // The default names do not apply to this map.
                "MessageAttributes.entry.3.key": "ignored", "MessageAttributes.entry.3.value.DataType": "String",
            ], shape: "SendInput")
        #expect(
            value
                == .object([
                    "Name": "t",
                    "MessageAttributes": .object([
                        "color": .object(["DataType": "String", "StringValue": "blue"]),
                        "blob": .object(["DataType": "Binary", "BinaryValue": "aGk="]),
                    ]),
                ]))
        // A required member missing inside a map value is reported with the entry's key.
        let missing = try MapModel.codec.decodeQuery(
            ["Name": "t", "MessageAttributes.entry.1.Name": "x", "MessageAttributes.entry.1.Value.StringValue": "v"],
            shape: "SendInput")
        #expect(MapModel.codec.missingRequired(missing, shape: "SendInput") == "messageAttributes.x.member.dataType")
    }

    @Test("an entry without a value is skipped, and no entry means no member")
    func emptyEntries() throws {
        let value = try MapModel.codec.decodeQuery(["Name": "t", "Attributes.entry.1.key": "k"], shape: "SendInput")
        #expect(value == .object(["Name": "t"]))
    }

    @Test("maps are written as <entry><key/><value/></entry> in key order, with the model's names")
    func xmlMaps() {
        var x = XMLWriter()
        MapModel.codec.writeXML(
            .object([
                "Attributes": .object(["b": "2 < 3", "a": "1"]),
                "MessageAttributes": .object(["m": .object(["DataType": "String", "StringValue": "v"])]),
                "Id": "i",
            ]), shape: "SendResponse", to: &x)
        #expect(
            x.text
                == "<Attributes><entry><key>a</key><value>1</value></entry><entry><key>b</key><value>2 &lt; 3</value></entry></Attributes>"
                + "<MessageAttributes><entry><Name>m</Name><Value><DataType>String</DataType><StringValue>v</StringValue></Value></entry></MessageAttributes>"
                + "<Id>i</Id>")
    }

    @Test("an empty map is written as an empty element")
    func emptyXMLMap() {
        var x = XMLWriter()
        MapModel.codec.writeXML(.object(["Attributes": .object([:])]), shape: "SendResponse", to: &x)
        #expect(x.text == "<Attributes></Attributes>")
    }

    @Test("redacted members are written as HIDDEN_DUE_TO_SECURITY_REASONS, also inside list elements")
    func redaction() {
        var w = JSONWriter()
        MapModel.codec.writeCloudTrail(
            .object([
                "Name": "t", "Message": "secret", "MessageAttributes": .object(["k": .object(["DataType": "String", "StringValue": "v"])]),
                "Entries": .array([.object(["Id": "1", "Message": "m1"]), .object(["Id": "2", "Message": "m2"])]),
            ]), shape: "SendInput", redact: ["Message", "MessageAttributes", "Entries.Message"], to: &w)
        #expect(
            w.string
                == #"{"name":"t","message":"HIDDEN_DUE_TO_SECURITY_REASONS","messageAttributes":"HIDDEN_DUE_TO_SECURITY_REASONS","#
                + #""entries":[{"id":"1","message":"HIDDEN_DUE_TO_SECURITY_REASONS"},{"id":"2","message":"HIDDEN_DUE_TO_SECURITY_REASONS"}]}"#)
    }
}
