import AWSCore
import Foundation
import TestSupport
import Testing

/// A small hand-written model in the generator's format, covering every shape kind the codec walks.
///
/// Expected values in these tests follow from this model and the AWS protocol rules (member order = model order,
/// Query lists as `Name.member.N`, CloudTrail lower-camel names), not from running the codec.
enum DemoModel {
    static let json = #"""
        {"service":"demo","apiVersion":"2020-01-01","protocol":"json","targetPrefix":"Demo_20200101",
         "xmlNamespace":"https://demo.example.com/doc/2020-01-01/",
         "operations":{
           "PutThing":{"input":"PutThingRequest","output":"PutThingResponse","resultWrapper":"PutThingResult","errors":["ThingFault"]},
           "Ping":{"errors":[]}
         },
         "shapes":{
           "PutThingRequest":{"type":"structure","members":[
             {"name":"Name","shape":"String","required":true},
             {"name":"Count","shape":"Integer"},
             {"name":"Size","shape":"Long"},
             {"name":"Enabled","shape":"Boolean"},
             {"name":"Ratio","shape":"Double"},
             {"name":"When","shape":"Timestamp"},
             {"name":"Data","shape":"Blob"},
             {"name":"Names","shape":"StringList"},
             {"name":"Tags","shape":"TagList"},
             {"name":"Flat","shape":"StringList","flattened":true},
             {"name":"Items","shape":"ItemList"},
             {"name":"Attributes","shape":"AttributeMap"},
             {"name":"Config","shape":"Config"},
             {"name":"Password","shape":"SecretString"},
             {"name":"S3BucketName","shape":"String","locationName":"Bucket"}
           ]},
           "Config":{"type":"structure","members":[
             {"name":"Mode","shape":"String","required":true},
             {"name":"Secret","shape":"SecretString"},
             {"name":"Inner","shape":"Inner"}
           ]},
           "Inner":{"type":"structure","members":[{"name":"Level","shape":"Integer","required":true}]},
           "Tag":{"type":"structure","members":[{"name":"Key","shape":"String","required":true},{"name":"Value","shape":"String"}]},
           "TagList":{"type":"list","member":"Tag"},
           "StringList":{"type":"list","member":"String"},
           "ItemList":{"type":"list","member":"String","memberName":"item"},
           "AttributeMap":{"type":"map","key":"String","value":"Integer"},
           "PutThingResponse":{"type":"structure","members":[
             {"name":"ThingArn","shape":"String"},
             {"name":"Created","shape":"Timestamp"},
             {"name":"Credentials","shape":"Creds"},
             {"name":"Names","shape":"StringList"},
             {"name":"Tags","shape":"TagList"},
             {"name":"Items","shape":"ItemList"},
             {"name":"Counts","shape":"AttributeMap"},
             {"name":"Enabled","shape":"Boolean"},
             {"name":"Ratio","shape":"Double"}
           ]},
           "Creds":{"type":"structure","members":[
             {"name":"AccessKeyId","shape":"String"},
             {"name":"SecretAccessKey","shape":"SecretString"},
             {"name":"SessionToken","shape":"String"},
             {"name":"Expiration","shape":"Timestamp"}
           ]},
           "String":{"type":"string"},
           "SecretString":{"type":"string","sensitive":true},
           "Integer":{"type":"integer"},
           "Long":{"type":"long"},
           "Boolean":{"type":"boolean"},
           "Double":{"type":"double"},
           "Timestamp":{"type":"timestamp"},
           "Blob":{"type":"blob"},
           "ThingFault":{"type":"structure","members":[{"name":"Message","shape":"String"}],"exception":true}
         }}
        """#

    static let model = ServiceModel.load(json: json)
    static let codec = ShapeCodec(model: model)
}

/// Decodes a JSON 1.1 body against the demo request shape.
private func decodeJSON(_ text: String) throws(AWSError) -> JSONValue {
    try DemoModel.codec.decodeJSON(Array(text.utf8), shape: "PutThingRequest")
}

/// Loading the generator's model format.
@Suite("ServiceModel")
struct ServiceModelTests {
    @Test("load reads service metadata, operations and shapes in member order")
    func load() {
        let model = DemoModel.model
        #expect(model.service == "demo")
        #expect(model.apiVersion == "2020-01-01")
        #expect(model.wireProtocol == "json")
        #expect(model.targetPrefix == "Demo_20200101")
        #expect(model.xmlNamespace == "https://demo.example.com/doc/2020-01-01/")
        #expect(model.operations["PutThing"]?.resultWrapper == "PutThingResult")
        #expect(model.operations["Ping"]?.input == nil)
        #expect(model.shape("Config").members?.map(\.name) == ["Mode", "Secret", "Inner"])
        #expect(model.shape("SecretString").sensitive == true)
        #expect(model.shape("ThingFault").exception == true)
        #expect(model.shape("ItemList").memberName == "item")
    }
}

/// Decoding and type-checking JSON 1.1 request bodies.
@Suite("ShapeCodec JSON input")
struct ShapeCodecJSONInputTests {
    @Test("valid input decodes with every kind of member")
    func valid() throws {
        let value = try decodeJSON(
            #"{"Name":"n","Count":3,"Size":5000000000,"Enabled":true,"Ratio":0.5,"When":1611276388,"Data":"aGk=","#
                + #""Names":["a","b"],"Tags":[{"Key":"k","Value":"v"}],"Attributes":{"x":1},"#
                + #""Config":{"Mode":"m","Inner":{"Level":2}},"Password":"p","S3BucketName":"b"}"#)
        let expected: JSONValue = .object([
            "Name": "n", "Count": 3, "Size": .number(5_000_000_000), "Enabled": true, "Ratio": .number(0.5),
            "When": .number(1_611_276_388), "Data": "aGk=", "Names": .array(["a", "b"]),
            "Tags": .array([.object(["Key": "k", "Value": "v"])]), "Attributes": .object(["x": 1]),
            "Config": .object(["Mode": "m", "Inner": .object(["Level": 2])]), "Password": "p", "S3BucketName": "b",
        ])
        #expect(value == expected)
    }

    @Test("an empty or blank body is {}")
    func empty() throws {
        #expect(try decodeJSON("") == .object([:]))
        #expect(try decodeJSON(" \n\t\r ") == .object([:]))
        #expect(try DemoModel.codec.decodeJSON(Array("{}".utf8), shape: nil) == .object([:]))
    }

    @Test("unknown members are dropped at every level, and null members are absent")
    func unknownMembers() throws {
        let value = try decodeJSON(#"{"Name":"n","Bogus":1,"name":"lower","Config":{"Mode":"m","Extra":[1,2]},"Count":null}"#)
        #expect(value == .object(["Name": "n", "Config": .object(["Mode": "m"])]))
    }

    @Test("numbers at the edges of their member's range are accepted")
    func rangeEdges() throws {
        #expect(try decodeJSON(#"{"When":9.0e15}"#)["When"] == .number(9.0e15))
        #expect(try decodeJSON(#"{"When":-9.0e15}"#)["When"] == .number(-9.0e15))
        #expect(try decodeJSON(#"{"Count":2147483647}"#)["Count"] == .number(2_147_483_647))
        #expect(try decodeJSON(#"{"Count":-2147483648}"#)["Count"] == .number(-2_147_483_648))
        #expect(try decodeJSON(#"{"Size":5000000000}"#)["Size"] == .number(5_000_000_000))
    }

    @Test("a document with more values than the bound is refused before it is decoded; strings do not count")
    func valueBound() throws {
        let many = "{\"Names\":[" + Array(repeating: "\"a\"", count: ShapeCodec.maxJSONValues).joined(separator: ",") + "]}"
        #expect {
            try decodeJSON(many)
        } throws: { error in
            (error as? AWSError)?.code == "SerializationException"
        }
        let punctuationInStrings = String(repeating: ",:[{", count: ShapeCodec.maxJSONValues)
        #expect(try decodeJSON("{\"Name\":\"\(punctuationInStrings)\"}")["Name"] == .string(punctuationInStrings))
        let escapedQuote = #"{"Name":"a\",[[[[","Names":["b"]}"#
        #expect(try decodeJSON(escapedQuote)["Names"] == .array(["b"]))
    }

    @Test("a document nested deeper than the bound is refused, even under an unknown member")
    func depthBound() throws {
        func nested(_ depth: Int) -> String {
            "{\"Bogus\":" + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}"
        }
        #expect(try decodeJSON(nested(ShapeCodec.maxJSONDepth)) == .object([:]))
        #expect {
            try decodeJSON(nested(ShapeCodec.maxJSONDepth + 1))
        } throws: { error in
            (error as? AWSError)?.code == "SerializationException"
        }
    }

    @Test("timestamps accept epoch seconds, numeric strings and ISO 8601")
    func timestamps() throws {
        #expect(try decodeJSON(#"{"When":1611276388.5}"#)["When"] == .number(1_611_276_388.5))
        #expect(try decodeJSON(#"{"When":"1611276388"}"#)["When"] == .number(1_611_276_388))
        #expect(try decodeJSON(#"{"When":"2021-01-22T00:46:28Z"}"#)["When"] == .number(1_611_276_388))
        #expect(try decodeJSON(#"{"When":"2021-01-22T01:46:28+01:00"}"#)["When"] == .number(1_611_276_388))
    }

    @Test(
        "malformed JSON and values of the wrong type are SerializationException",
        arguments: [
            #"{"Name":"#, #"{"Name":"n""#, "not json", "[]", #""string""#, "42", "null",
            #"{"Name":5}"#, #"{"Name":true}"#, #"{"Name":["a"]}"#, #"{"Name":{"a":"b"}}"#,
            #"{"Count":"5"}"#, #"{"Count":true}"#, #"{"Size":[1]}"#, #"{"Ratio":"0.5"}"#,
            #"{"Enabled":1}"#, #"{"Enabled":0}"#, #"{"Enabled":"true"}"#,
            #"{"When":"yesterday"}"#, #"{"When":true}"#, #"{"When":{}}"#,
            #"{"Data":5}"#,
            #"{"Names":"a"}"#, #"{"Names":{"0":"a"}}"#, #"{"Names":[1]}"#,
            #"{"Tags":{}}"#, #"{"Tags":[{"Key":1}]}"#, #"{"Tags":["k"]}"#,
            #"{"Attributes":[]}"#, #"{"Attributes":{"x":"1"}}"#,
            #"{"Config":[]}"#, #"{"Config":"m"}"#, #"{"Config":{"Inner":{"Level":"2"}}}"#,
            // Out of the range of the member's type: a Java `Date`, `int` or `long` cannot hold them.
            #"{"When":1e19}"#, #"{"When":-1e19}"#, #"{"When":1e400}"#, #"{"When":"1e19"}"#, #"{"When":9.1e15}"#,
            #"{"Count":2147483648}"#, #"{"Count":-2147483649}"#, #"{"Count":1e19}"#, #"{"Size":1e19}"#, #"{"Size":1e400}"#,
        ])
    func serializationErrors(body: String) {
        #expect {
            try decodeJSON(body)
        } throws: { error in
            (error as? AWSError)?.code == "SerializationException" && (error as? AWSError)?.status == 400
        }
    }

    @Test("missingRequired names the first missing member as a lower-camel path, depth first")
    func missingRequired() throws {
        let codec = DemoModel.codec
        #expect(codec.missingRequired(try decodeJSON("{}"), shape: "PutThingRequest") == "name")
        #expect(codec.missingRequired(try decodeJSON(#"{"Name":null}"#), shape: "PutThingRequest") == "name")
        #expect(codec.missingRequired(try decodeJSON(#"{"Name":"n","Config":{}}"#), shape: "PutThingRequest") == "config.mode")
        #expect(
            codec.missingRequired(try decodeJSON(#"{"Name":"n","Config":{"Mode":"m","Inner":{}}}"#), shape: "PutThingRequest")
                == "config.inner.level")
        #expect(codec.missingRequired(try decodeJSON(#"{"Name":"n","Config":{"Mode":"m","Inner":{"Level":1}}}"#), shape: "PutThingRequest") == nil)
        #expect(codec.missingRequired(.object([:]), shape: nil) == nil)
        // A required member missing inside a list element is named as AWS names it: `list.N.member.name`.
        #expect(
            codec.missingRequired(try decodeJSON(#"{"Name":"n","Tags":[{"Key":"a"},{"Value":"v"}]}"#), shape: "PutThingRequest")
                == "tags.2.member.key")
    }
}

/// Building inputs from Query form parameters.
@Suite("ShapeCodec Query input")
struct ShapeCodecQueryInputTests {
    /// Decodes form parameters against the demo request shape.
    private func decode(_ params: [String: String]) throws(AWSError) -> JSONValue {
        try DemoModel.codec.decodeQuery(params, shape: "PutThingRequest")
    }

    @Test("scalars, member lists, flattened lists, custom member names, maps and nested structures")
    func full() throws {
        let value = try decode([
            "Action": "PutThing", "Version": "2020-01-01",
            "Name": "n", "Count": "3", "Size": "5000000000", "Enabled": "TRUE", "Ratio": "0.25", "When": "2021-01-22T00:46:28Z",
            "Names.member.1": "a", "Names.member.2": "b",
            "Tags.member.1.Key": "k1", "Tags.member.1.Value": "v1", "Tags.member.2.Key": "k2",
            "Flat.1": "f1", "Flat.2": "f2",
            "Items.item.1": "i1",
            "Attributes.entry.1.key": "x", "Attributes.entry.1.value": "1", "Attributes.entry.2.key": "y", "Attributes.entry.2.value": "2",
            "Config.Mode": "m", "Config.Inner.Level": "7",
            "Bucket": "bucket-by-location-name",
        ])
        let expected: JSONValue = .object([
            "Name": "n", "Count": 3, "Size": .number(5_000_000_000), "Enabled": true, "Ratio": .number(0.25),
            "When": .number(1_611_276_388), "Names": .array(["a", "b"]),
            "Tags": .array([.object(["Key": "k1", "Value": "v1"]), .object(["Key": "k2"])]),
            "Flat": .array(["f1", "f2"]), "Items": .array(["i1"]), "Attributes": .object(["x": 1, "y": 2]),
            "Config": .object(["Mode": "m", "Inner": .object(["Level": 7])]), "S3BucketName": "bucket-by-location-name",
        ])
        #expect(value == expected)
    }

    @Test("lists stop at the first missing index; an empty list is written as the bare name")
    func listEdges() throws {
        #expect(try decode(["Names.member.1": "a", "Names.member.3": "c"])["Names"] == .array(["a"]))
        #expect(try decode(["Names": ""])["Names"] == .array([]))
        #expect(try decode(["Names.member.2": "b"])["Names"] == nil)
    }

    @Test("absent members stay absent; an empty form is {}")
    func absent() throws {
        #expect(try decode([:]) == .object([:]))
        #expect(try decode(["Config.Inner.Level": "1"]) == .object(["Config": .object(["Inner": .object(["Level": 1])])]))
        #expect(try DemoModel.codec.decodeQuery(["Name": "x"], shape: nil) == .object([:]))
    }

    @Test(
        "values that do not parse as their type are rejected",
        arguments: [
            ["Count": "three"], ["Count": "1.5"], ["Size": ""], ["Enabled": "yes"], ["Ratio": "half"], ["When": "yesterday"],
            ["Config.Inner.Level": "x"], ["Attributes.entry.1.key": "x", "Attributes.entry.1.value": "one"],
            ["When": "1e19"], ["When": "inf"], ["When": "nan"], ["Count": "2147483648"], ["Count": "99999999999999999999"],
        ])
    func badScalars(params: [String: String]) {
        #expect(throws: AWSError.self) { try decode(params) }
    }
}

/// Writing outputs as JSON 1.1, Query XML and CloudTrail parameters.
@Suite("ShapeCodec output")
struct ShapeCodecOutputTests {
    /// An output with every member set, including secrets.
    static let output: JSONValue = .object([
        "Ratio": .number(0.5),
        "Enabled": false,
        "Counts": .object(["b": 2, "a": 1]),
        "Items": .array(["i1", "i2"]),
        "Tags": .array([.object(["Value": "v", "Key": "k"])]),
        "Names": .array(["x & y"]),
        "Credentials": .object([
            "Expiration": .number(1_611_276_388), "SessionToken": "tok", "SecretAccessKey": "SECRET-KEY", "AccessKeyId": "ASIA1",
        ]),
        "Created": .number(1_611_320_400),
        "ThingArn": "arn:demo:<thing>",
        "NotInModel": "dropped",
    ])

    @Test("writeJSON writes members in model order, maps by sorted key, and leaves out unknown and null members")
    func json() throws {
        var w = JSONWriter()
        DemoModel.codec.writeJSON(Self.output, shape: "PutThingResponse", to: &w)
        #expect(JSONKeys.topLevel(w.bytes) == ["ThingArn", "Created", "Credentials", "Names", "Tags", "Items", "Counts", "Enabled", "Ratio"])
        #expect(JSONKeys.keys(w.bytes, path: ["Credentials"]) == ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"])
        #expect(JSONKeys.keys(w.bytes, path: ["Counts"]) == ["a", "b"])
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        #expect(decoded["Created"] as? Int == 1_611_320_400)
        #expect((decoded["Tags"] as? [[String: String]]) == [["Key": "k", "Value": "v"]])
        #expect(decoded["NotInModel"] == nil)
        // The API response does carry the secret: only CloudTrail leaves it out.
        #expect((decoded["Credentials"] as? [String: Any])?["SecretAccessKey"] as? String == "SECRET-KEY")
        var nulls = JSONWriter()
        DemoModel.codec.writeJSON(.object(["ThingArn": .null, "Enabled": true]), shape: "PutThingResponse", to: &nulls)
        #expect(nulls.string == #"{"Enabled":true}"#)
    }

    @Test("writeXML writes members in model order with list member names, escapes text and formats timestamps")
    func xml() {
        var x = XMLWriter()
        DemoModel.codec.writeXML(Self.output, shape: "PutThingResponse", to: &x)
        let expected =
            "<ThingArn>arn:demo:&lt;thing&gt;</ThingArn>"
            + "<Created>2021-01-22T13:00:00Z</Created>"
            + "<Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>SECRET-KEY</SecretAccessKey>"
            + "<SessionToken>tok</SessionToken><Expiration>2021-01-22T00:46:28Z</Expiration></Credentials>"
            + "<Names><member>x &amp; y</member></Names>"
            + "<Tags><member><Key>k</Key><Value>v</Value></member></Tags>"
            + "<Items><item>i1</item><item>i2</item></Items>"
        // Maps are not part of any Query output Cairn serves; check the members around them.
        #expect(x.text.hasPrefix(expected))
        #expect(x.text.hasSuffix("<Enabled>false</Enabled><Ratio>0.5</Ratio>"))
    }

    @Test("writeXML writes fractional timestamps with milliseconds")
    func xmlMillis() {
        var x = XMLWriter()
        DemoModel.codec.writeXML(.object(["Created": .number(1_611_276_388.25)]), shape: "PutThingResponse", to: &x)
        #expect(x.text == "<Created>2021-01-22T00:46:28.250Z</Created>")
    }

    @Test("writeCloudTrail: lower-camel names, no sensitive members, omitted paths, Java-style timestamps")
    func cloudTrail() throws {
        var w = JSONWriter()
        DemoModel.codec.writeCloudTrail(Self.output, shape: "PutThingResponse", omit: ["Credentials.SessionToken", "Tags.Value"], to: &w)
        #expect(JSONKeys.topLevel(w.bytes) == ["thingArn", "created", "credentials", "names", "tags", "items", "counts", "enabled", "ratio"])
        #expect(JSONKeys.keys(w.bytes, path: ["credentials"]) == ["accessKeyId", "expiration"])
        // Map keys are data, not member names: they keep their spelling.
        #expect(JSONKeys.keys(w.bytes, path: ["counts"]) == ["a", "b"])
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        #expect(decoded["created"] as? String == "Jan 22, 2021, 1:00:00 PM")
        #expect((decoded["credentials"] as? [String: Any])?["expiration"] as? String == "Jan 22, 2021, 12:46:28 AM")
        #expect((decoded["tags"] as? [[String: String]]) == [["key": "k"]])
        #expect(!w.string.contains("SECRET-KEY"))
        #expect(!w.string.contains("tok"))
    }

    @Test("writeCloudTrail drops sensitive request members and lower-cases S3BucketName as CloudTrail does")
    func cloudTrailRequest() throws {
        let input = try DemoModel.codec.decodeJSON(
            Array(#"{"Name":"n","Password":"hunter2","Config":{"Mode":"m","Secret":"s3cr3t"},"S3BucketName":"b"}"#.utf8),
            shape: "PutThingRequest")
        var w = JSONWriter()
        DemoModel.codec.writeCloudTrail(input, shape: "PutThingRequest", to: &w)
        #expect(w.string == #"{"name":"n","config":{"mode":"m"},"s3BucketName":"b"}"#)
        #expect(ShapeCodec.lowerCamel("DBInstanceIdentifier") == "dBInstanceIdentifier")
        #expect(ShapeCodec.lowerCamel("") == "")
    }
}
